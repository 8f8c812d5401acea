/* test_ps_sandbox: the page server's seccomp sandbox (lazy-pages/ps-sandbox.h). Every case runs
 * in a child of its own that enters the sandbox (cmocka's process never does), and is judged by
 * how that child ends.
 * - allowed: what serving does works in the sandbox: reading a file opened before, opening one
 *   O_RDONLY (and mapping it read-only), fstat, the log (-o file) and a pipe written, big
 *   allocations, a thread, getrandom, time, poll, accept4 on the listening socket, abort()
 *   (SIGABRT, not SIGSYS: tgkill of itself); clone3 fails with ENOSYS (glibc falls back to
 *   clone).
 * - refused: each of open for writing (O_WRONLY|O_CREAT, O_RDWR, O_RDONLY|O_TRUNC), the old
 *   open(), execve, fork, a thread in a new namespace, socket, connect, bind, listen, accept4
 *   on another fd, another socket option, ptrace, process_vm_readv, kill and tgkill of another
 *   process, mount, unshare, rename, unlink, prctl, ioctl, fcntl F_DUPFD, executable memory
 *   (mmap, mprotect), madvise(MADV_MERGEABLE), in a child of its own: killed by SIGSYS.
 * - threads: 12 threads started in the sandbox, alive at once, each allocating (glibc's malloc
 *   makes arenas and counts the CPUs past 8), all work.
 * - tsync: a thread started before the sandbox is in it too (socket() there kills the process).
 * - status: ps_sandbox_status() of an exit 0, an exit 3, SIGKILL, and of a child the sandbox
 *   killed (-EPERM, saying so).
 * - serve_tls, serve_insecure (root: a network namespace of the test's own, lo up): an image
 *   directory of 40 pages (some zero) served by page_server_serve() in a sandboxed child to
 *   page_source_remote(): every page by fault and the whole file come back right; a client
 *   with another key is refused (TLS); the server SIGSTOPped and SIGCONTinued (its polls
 *   restart), 12 connections held open at once, a second session; SIGTERM stops it, exit 0,
 *   and its figures add up. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "criu-lite/log.h"
#include "images/pages.h"
#include "inventory.pb-c.h"
#include "lazy-pages/page-server.h"
#include "lazy-pages/page-source.h"
#include "lazy-pages/ps-sandbox.h"
#include "lazy-pages/xfer-conn.h"
#include "util_fs.h"
#include "util_log.h"

#define GOT_BACK 3 /* a child whose call returned (it should have been killed) */
#define SKIPPED	 77
#define NPAGES	 40
#define PG	 IMG_PAGE_SIZE
#define DUMP_ID	 0x5eedc0deu

static struct utest_logdir ld;
static int lsk = -1; /* a TCP socket of the test's, standing for the listening one */

static int setup(void **state)
{
	(void)state;
	if (utest_logdir_open(&ld, "ps-sandbox"))
		return -1;
	lsk = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	return lsk < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	close(lsk);
	utest_logdir_close(&ld);
	return 0;
}

/* fn(arg) in a child that enters the sandbox first (sandboxed: the exit status is fn's, 100 if
 * it could not enter): the child's wait status */
static int in_sandbox(int (*fn)(void *arg), void *arg)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (!pid) {
		struct img_err err = { 0 };

		if (ps_sandbox_enter(lsk, -1, &err)) {
			fprintf(stderr, "%s\n", err.msg);
			_exit(100);
		}
		_exit(fn(arg));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void expect_exit(int status, int code, const char *what)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == code)
		return;
	if (WIFSIGNALED(status))
		fail_msg("%s: killed by signal %d (%s), expected exit %d", what, WTERMSIG(status),
			 strsignal(WTERMSIG(status)), code);
	fail_msg("%s: exit %d, expected %d", what, WEXITSTATUS(status), code);
}

static void expect_signal(int status, int sig, const char *what)
{
	if (WIFSIGNALED(status) && WTERMSIG(status) == sig)
		return;
	if (WIFSIGNALED(status))
		fail_msg("%s: killed by signal %d (%s), expected %s", what, WTERMSIG(status),
			 strsignal(WTERMSIG(status)), strsignal(sig));
	fail_msg("%s: exit %d (%s), expected %s", what, WEXITSTATUS(status),
		 WEXITSTATUS(status) == GOT_BACK ? "the call returned" : "?", strsignal(sig));
}

/* ---- allowed ------------------------------------------------------------------------------ */

struct allowed_arg {
	int before; /* a file opened before the sandbox */
	char path[4096];
	int pipe_w;
};

static void *thread_alloc(void *arg)
{
	size_t n = (size_t)(uintptr_t)arg;
	char *p = malloc(n);

	if (p) {
		memset(p, 1, n);
		free(p);
	}
	return p ? arg : NULL;
}

/* exit 10 + the step that failed */
static int allowed(void *arg)
{
	struct allowed_arg *a = arg;
	struct timespec ts = { 0, 1000000 };
	struct pollfd p = { .fd = a->pipe_w, .events = POLLOUT };
	char buf[64] = "", *big;
	struct stat st;
	pthread_t t;
	void *ret, *m;
	uint64_t rnd;
	int fd;

	if (pread(a->before, buf, 5, 0) != 5 || memcmp(buf, "hello", 5))
		return 10;
	fd = openat(AT_FDCWD, a->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, buf, 5) != 5 || memcmp(buf, "hello", 5) || fstat(fd, &st))
		return 11;
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED || memcmp(m, "hello", 5) || munmap(m, (size_t)st.st_size) || close(fd))
		return 12;
	pr_err("sandboxed and logging\n");
	if (write(a->pipe_w, "ok", 2) != 2 || poll(&p, 1, 100) != 1)
		return 13;
	big = malloc(64 << 20);
	if (!big)
		return 14;
	memset(big, 2, 64 << 20);
	big = realloc(big, 128 << 20);
	if (!big)
		return 14;
	free(big);
	if (pthread_create(&t, NULL, thread_alloc, (void *)(uintptr_t)(1 << 20)) ||
	    pthread_join(t, &ret) || !ret)
		return 15;
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd) ||
	    getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		return 16;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) || clock_gettime(CLOCK_REALTIME, &ts) ||
	    nanosleep(&(struct timespec){ 0, 1000000 }, NULL))
		return 17;
	/* allowed, and fails: the socket does not listen */
	if (accept4(lsk, NULL, NULL, SOCK_CLOEXEC) != -1 || errno != EINVAL)
		return 18;
	if (syscall(SYS_clone3, &(struct clone_args){ .exit_signal = SIGCHLD },
		    sizeof(struct clone_args)) != -1 ||
	    errno != ENOSYS)
		return 19;
	if (syscall(SYS_getpid) != getpid() || syscall(SYS_gettid) <= 0)
		return 20;
	return 0;
}

static int aborts(void *arg)
{
	(void)arg;
	abort();
}

static void test_allowed(void **state)
{
	struct allowed_arg a = { 0 };
	int fds[2];
	char buf[4];

	(void)state;
	assert_int_equal(utest_write_file(ld.dir, "hello.txt", "hello world", 11), 0);
	snprintf(a.path, sizeof(a.path), "%s/hello.txt", ld.dir);
	a.before = open(a.path, O_RDONLY | O_CLOEXEC);
	assert_true(a.before >= 0);
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	a.pipe_w = fds[1];
	expect_exit(in_sandbox(allowed, &a), 0, "serving's calls");
	assert_int_equal(read(fds[0], buf, sizeof(buf)), 2);
	assert_true(utest_log_has(ld.log, "sandboxed and logging"));
	expect_signal(in_sandbox(aborts, NULL), SIGABRT, "abort()");
	close(fds[0]);
	close(fds[1]);
	close(a.before);
}

/* ---- refused ------------------------------------------------------------------------------ */

static char refused_path[4096];
static pid_t test_pid; /* cmocka's process, the children's parent */
static int mark_fd = -1;

/* a byte on mark_fd: the child got as far as the call it is killed by (nothing before killed
 * it) */
static void mark(void)
{
	(void)!write(mark_fd, "m", 1);
}

static int r_open_wronly(void *a)
{
	(void)a;
	mark(); /* the next call is the one that must kill */
	openat(AT_FDCWD, refused_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	return GOT_BACK;
}

static int r_open_rdwr(void *a)
{
	(void)a;
	mark(); /* the next call is the one that must kill */
	openat(AT_FDCWD, refused_path, O_RDWR | O_CLOEXEC);
	return GOT_BACK;
}

static int r_open_trunc(void *a)
{
	(void)a;
	mark(); /* the next call is the one that must kill */
	openat(AT_FDCWD, refused_path, O_RDONLY | O_TRUNC | O_CLOEXEC);
	return GOT_BACK;
}

static int r_open_old(void *a)
{
	(void)a;
	mark(); /* the next call is the one that must kill */
	syscall(SYS_open, refused_path, O_RDONLY);
	return GOT_BACK;
}

static int r_execve(void *a)
{
	char *argv[] = { "true", NULL }, *envp[] = { NULL };

	(void)a;
	mark(); /* the next call is the one that must kill */
	execve("/bin/true", argv, envp);
	return GOT_BACK;
}

static int r_fork(void *a)
{
	(void)a;
	mark(); /* the next call is the one that must kill */
	if (!fork())
		_exit(0);
	return GOT_BACK;
}

static int r_thread_newpid(void *a)
{
	/* the kernel refuses a thread in a new pid namespace (EINVAL): only the filter may kill */
	(void)a;
	mark(); /* the next call is the one that must kill */
	syscall(SYS_clone, CLONE_VM | CLONE_SIGHAND | CLONE_THREAD | CLONE_NEWPID, NULL, NULL, NULL,
		NULL);
	return GOT_BACK;
}

static int r_socket(void *a)
{
	(void)a;
	mark(); /* the next call is the one that must kill */
	socket(AF_INET, SOCK_STREAM, 0);
	return GOT_BACK;
}

static int r_connect(void *a)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(9) };

	(void)a;
	mark(); /* the next call is the one that must kill */
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	connect(lsk, (struct sockaddr *)&sin, sizeof(sin));
	return GOT_BACK;
}

static int r_bind(void *a)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };

	(void)a;
	mark(); /* the next call is the one that must kill */
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(lsk, (struct sockaddr *)&sin, sizeof(sin));
	return GOT_BACK;
}

static int r_listen(void *a)
{
	(void)a;
	mark(); /* the next call is the one that must kill */
	listen(lsk, 1);
	return GOT_BACK;
}

static int r_accept_other(void *a)
{
	(void)a;
	mark(); /* the next call is the one that must kill */
	accept4(0, NULL, NULL, 0);
	return GOT_BACK;
}

static int r_sockopt(void *a)
{
	int one = 1;

	(void)a;
	mark(); /* the next call is the one that must kill */
	setsockopt(lsk, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	return GOT_BACK;
}

static int r_ptrace(void *a)
{
	(void)a;
	mark(); /* the next call is the one that must kill */
	ptrace(PTRACE_PEEKDATA, 1, NULL, NULL);
	return GOT_BACK;
}

static int r_vm_readv(void *a)
{
	char x, y = 0;
	struct iovec l = { &x, 1 }, r = { &y, 1 };

	(void)a;
	mark(); /* the next call is the one that must kill */
	process_vm_readv(test_pid, &l, 1, &r, 1, 0);
	return GOT_BACK;
}

static int r_kill(void *a)
{
	(void)a;
	mark(); /* the next call is the one that must kill */
	kill(test_pid, 0);
	return GOT_BACK;
}

static int r_tgkill(void *a)
{
	(void)a;
	mark(); /* the next call is the one that must kill */
	syscall(SYS_tgkill, test_pid, test_pid, 0);
	return GOT_BACK;
}

static int r_mount(void *a)
{
	(void)a;
	mark(); /* the next call is the one that must kill */
	mount(NULL, "/nonexistent-ps-sandbox", NULL, MS_BIND, NULL);
	return GOT_BACK;
}

static int r_unshare(void *a)
{
	(void)a;
	mark(); /* the next call is the one that must kill */
	unshare(CLONE_NEWNET);
	return GOT_BACK;
}

static int r_rename(void *a)
{
	(void)a;
	mark(); /* the next call is the one that must kill */
	rename("/nonexistent-ps-sandbox-a", "/nonexistent-ps-sandbox-b");
	return GOT_BACK;
}

static int r_unlink(void *a)
{
	(void)a;
	mark(); /* the next call is the one that must kill */
	unlink("/nonexistent-ps-sandbox");
	return GOT_BACK;
}

static int r_prctl(void *a)
{
	(void)a;
	mark(); /* the next call is the one that must kill */
	prctl(PR_GET_DUMPABLE);
	return GOT_BACK;
}

static int r_ioctl(void *a)
{
	int n;

	(void)a;
	mark(); /* the next call is the one that must kill */
	ioctl(lsk, FIONREAD, &n);
	return GOT_BACK;
}

static int r_dupfd(void *a)
{
	(void)a;
	mark(); /* the next call is the one that must kill */
	fcntl(lsk, F_DUPFD_CLOEXEC, 0);
	return GOT_BACK;
}

static int r_mmap_exec(void *a)
{
	(void)a;
	mark(); /* the next call is the one that must kill */
	mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return GOT_BACK;
}

static int r_mprotect_exec(void *a)
{
	static char page[4096] __attribute__((aligned(4096)));

	(void)a;
	mark(); /* the next call is the one that must kill */
	mprotect(page, sizeof(page), PROT_READ | PROT_WRITE | PROT_EXEC);
	return GOT_BACK;
}

static int r_madvise(void *a)
{
	static char page[4096] __attribute__((aligned(4096)));

	(void)a;
	mark(); /* the next call is the one that must kill */
	madvise(page, sizeof(page), MADV_MERGEABLE);
	return GOT_BACK;
}

static const struct {
	const char *what;
	int (*fn)(void *);
} refused[] = {
	{ "open O_WRONLY|O_CREAT", r_open_wronly },
	{ "open O_RDWR", r_open_rdwr },
	{ "open O_RDONLY|O_TRUNC", r_open_trunc },
	{ "the old open()", r_open_old },
	{ "execve", r_execve },
	{ "fork", r_fork },
	{ "a thread in a new pid namespace", r_thread_newpid },
	{ "socket", r_socket },
	{ "connect", r_connect },
	{ "bind", r_bind },
	{ "listen", r_listen },
	{ "accept4 on another fd", r_accept_other },
	{ "setsockopt SO_REUSEADDR", r_sockopt },
	{ "ptrace", r_ptrace },
	{ "process_vm_readv", r_vm_readv },
	{ "kill of the parent", r_kill },
	{ "tgkill of the parent", r_tgkill },
	{ "mount", r_mount },
	{ "unshare", r_unshare },
	{ "rename", r_rename },
	{ "unlink", r_unlink },
	{ "prctl", r_prctl },
	{ "ioctl", r_ioctl },
	{ "fcntl F_DUPFD", r_dupfd },
	{ "mmap PROT_EXEC", r_mmap_exec },
	{ "mprotect PROT_EXEC", r_mprotect_exec },
	{ "madvise MADV_MERGEABLE", r_madvise },
};

static void test_refused(void **state)
{
	int marks[2];
	char c;

	(void)state;
	snprintf(refused_path, sizeof(refused_path), "%s/refused.txt", ld.dir);
	assert_int_equal(utest_write_file(ld.dir, "refused.txt", "keep", 4), 0);
	test_pid = getpid();
	assert_int_equal(pipe2(marks, O_CLOEXEC | O_NONBLOCK), 0);
	mark_fd = marks[1];
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		expect_signal(in_sandbox(refused[i].fn, NULL), SIGSYS, refused[i].what);
		if (read(marks[0], &c, 1) != 1)
			fail_msg("%s: killed before it got to the call", refused[i].what);
	}
	close(marks[0]);
	close(marks[1]);
	assert_true(utest_file_exists(ld.dir, "refused.txt"));
	assert_int_equal(utest_dir_entries(ld.dir), 2); /* the log, refused.txt: nothing made */
}

/* ---- threads ------------------------------------------------------------------------------ */

#define NTHREADS 12

static pthread_barrier_t all_up;

static void *thread_hold(void *arg)
{
	void *p = malloc(100000); /* a thread's first malloc: an arena */

	pthread_barrier_wait(&all_up); /* all alive at once */
	if (p)
		memset(p, 3, 100000);
	free(p);
	return p ? arg : NULL;
}

static int threads(void *arg)
{
	pthread_t t[NTHREADS];
	void *ret;

	(void)arg;
	if (pthread_barrier_init(&all_up, NULL, NTHREADS + 1))
		return 10;
	for (int i = 0; i < NTHREADS; i++)
		if (pthread_create(&t[i], NULL, thread_hold, (void *)(intptr_t)(i + 1)))
			return 11;
	pthread_barrier_wait(&all_up);
	for (int i = 0; i < NTHREADS; i++)
		if (pthread_join(t[i], &ret) || ret != (void *)(intptr_t)(i + 1))
			return 12;
	return 0;
}

static void test_threads(void **state)
{
	(void)state;
	expect_exit(in_sandbox(threads, NULL), 0, "12 threads");
}

/* ---- tsync -------------------------------------------------------------------------------- */

static int go[2], back[2];

static void *before_thread(void *arg)
{
	char c;

	(void)arg;
	if (read(go[0], &c, 1) == 1 && socket(AF_INET, SOCK_STREAM, 0) >= 0)
		(void)!write(back[1], "y", 1); /* it got a socket: not sandboxed */
	return NULL;
}

static void test_tsync(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe2(go, O_CLOEXEC), 0);
	assert_int_equal(pipe2(back, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		struct img_err err = { 0 };
		pthread_t t;
		char c;

		if (pthread_create(&t, NULL, before_thread, NULL))
			_exit(10);
		if (ps_sandbox_enter(lsk, -1, &err)) {
			fprintf(stderr, "%s\n", err.msg);
			_exit(100);
		}
		(void)!write(go[1], "g", 1);
		(void)!read(back[0], &c, 1);
		_exit(GOT_BACK);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	expect_signal(status, SIGSYS, "socket() in a thread started before the sandbox");
	close(go[0]);
	close(go[1]);
	close(back[0]);
	close(back[1]);
}

/* ---- status ------------------------------------------------------------------------------- */

static int exits(void *arg)
{
	return (int)(intptr_t)arg;
}

static int makes_socket(void *arg)
{
	(void)arg;
	socket(AF_UNIX, SOCK_STREAM, 0);
	return GOT_BACK;
}

static void test_status(void **state)
{
	struct img_err err = { 0 };
	int status;
	pid_t pid;

	(void)state;
	assert_int_equal(ps_sandbox_status(1, in_sandbox(exits, (void *)0), &err), 0);
	assert_int_equal(ps_sandbox_status(1, in_sandbox(exits, (void *)3), &err), 3);
	status = in_sandbox(makes_socket, NULL);
	assert_int_equal(ps_sandbox_status(42, status, &err), -EPERM);
	assert_int_equal(err.code, EPERM);
	assert_non_null(strstr(err.msg, "the page server (pid 42) was killed by its sandbox: it "
					"made a system call off its allow-list"));
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		raise(SIGKILL);
		_exit(1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	memset(&err, 0, sizeof(err));
	assert_int_equal(ps_sandbox_status(pid, status, &err), -EINTR);
	assert_non_null(strstr(err.msg, "killed by signal 9"));
}

/* ---- serve -------------------------------------------------------------------------------- */

/* in the network child: a failed check ends it with exit 1 after saying what and the log */
#define CHECK(c)                                                                        \
	do {                                                                            \
		if (!(c)) {                                                             \
			fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #c); \
			dump_log();                                                     \
			_exit(1);                                                       \
		}                                                                       \
	} while (0)

static pid_t srv_pid; /* the network child's server */

/* what the log says, and how the server ended if it did (a SIGSYS: the sandbox killed it) */
static void dump_log(void)
{
	struct img_err err = { 0 };
	int status;
	void *b;
	size_t n;

	if (!utest_read_file(ld.dir, "test.log", &b, &n)) {
		fprintf(stderr, "---- test.log ----\n%.*s---- end ----\n", (int)n, (char *)b);
		free(b);
	}
	if (srv_pid > 0 && waitpid(srv_pid, &status, WNOHANG) == srv_pid)
		fprintf(stderr, "the server ended: %s (status 0x%x)\n",
			ps_sandbox_status(srv_pid, status, &err) < 0 ? err.msg : "exit", status);
}

static volatile sig_atomic_t stop;
static const struct page_server_opts srv_opts = { .stop = &stop };

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static uint8_t *pages_data(void)
{
	uint8_t *data = malloc(NPAGES * PG);

	CHECK(data);
	for (size_t i = 0; i < NPAGES * PG; i++)
		data[i] = (uint8_t)(i * 13 + i / PG + 1);
	memset(data + 5 * PG, 0, 3 * PG); /* zero pages: sent as a zero_map */
	return data;
}

/* inventory.img with DUMP_ID, and pagemap-3.img + pages-3.img: NPAGES pages in two runs */
static void write_images(struct img_dir *d, const uint8_t *data)
{
	InventoryEntry inv = INVENTORY_ENTRY__INIT;
	const ProtobufCMessage *msgs[] = { &inv.base };
	struct img_err err = { 0 };
	struct page_writer *w;

	img_dir_set_dump_id(d, DUMP_ID);
	CHECK(!page_writer_open(d, 3, &w, &err));
	CHECK(page_writer_add(w, 0x100000, 10, PAGEMAP_FLAGS__PE_PRESENT, data, &err) >= 0);
	CHECK(page_writer_add(w, 0x400000, NPAGES - 10, PAGEMAP_FLAGS__PE_PRESENT, data + 10 * PG,
			      &err) >= 0);
	CHECK(!page_writer_commit(w, &err));
	inv.img_version = IMG_VERSION;
	inv.root_pid = 3;
	inv.page_size = PG;
	inv.kernel_release = "test";
	inv.dump_time_ns = 1;
	inv.has_dump_id = true;
	inv.dump_id = DUMP_ID;
	CHECK(!img_write_file(d, IMG_INVENTORY, 0, msgs, 1, &err));
}

/* the sandboxed server: serves until SIGTERM */
static _Noreturn void server(const struct page_server_dir *pd, int l, const struct xfer_auth *a,
			     struct ps_stats *st)
{
	struct sigaction sa = { .sa_handler = on_term };
	struct img_err err = { 0 };

	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (ps_sandbox_enter(l, -1, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		_exit(100);
	}
	_exit(page_server_serve(pd, l, a, &srv_opts, st) ? 1 : 0);
}

/* one restore's session: every page by fault, then the whole pages file */
static void session(uint16_t port, const struct xfer_auth *a, const uint8_t *data)
{
	struct remote_opts ro = { .address = "127.0.0.1", .port = port, .auth = a };
	const struct page_run *runs;
	struct page_source *src;
	const void *p;
	size_t n;

	CHECK(!page_source_remote(ld.img, &ro, &src));
	CHECK(!src->ops->runs(src, IMG_PAGEMAP, 3, &runs, &n) && n == 2);
	for (size_t i = 0; i < n; i++)
		for (uint64_t k = 0; k < runs[i].nr_pages; k++) {
			uint64_t off = runs[i].offset + k * PG;

			CHECK(!src->ops->get(src, IMG_PAGEMAP, 3, runs[i].vaddr + k * PG, 1, NULL,
					     &p));
			CHECK(!memcmp(p, data + off, PG));
		}
	CHECK(!src->ops->fetch(src, IMG_PAGEMAP, 3, 0, NPAGES * PG, &p));
	CHECK(!memcmp(p, data, NPAGES * PG));
	CHECK(!page_source_remote_done(src));
	page_source_close(src);
}

static void lo_up(void)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	CHECK(s >= 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	CHECK(!ioctl(s, SIOCGIFFLAGS, &ifr));
	ifr.ifr_flags |= IFF_UP;
	CHECK(!ioctl(s, SIOCSIFFLAGS, &ifr));
	close(s);
}

static struct xfer_auth *key(const char *name, uint8_t fill)
{
	struct xfer_auth *a;
	struct img_err err = { 0 };
	uint8_t b[64];
	char path[4096];

	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(fill + i * 7);
	CHECK(!utest_write_file(ld.dir, name, b, sizeof(b)));
	snprintf(path, sizeof(path), "%s/%s", ld.dir, name);
	CHECK(!chmod(path, 0600));
	CHECK(!xfer_auth_load(path, &a, &err));
	return a;
}

/* the network child: in a namespace of its own, the server in a sandboxed child of its own */
static _Noreturn void serve_main(bool tls)
{
	struct xfer_auth *a, *other = NULL;
	struct xfer_conn *held[NTHREADS];
	struct page_server_dir *pd;
	struct img_err err = { 0 };
	struct ps_stats *st;
	uint8_t *data;
	uint16_t port;
	int l, status;
	pid_t srv;

	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "unshare(CLONE_NEWNET): %s\n", strerror(errno));
		_exit(SKIPPED);
	}
	lo_up();
	data = pages_data();
	write_images(ld.img, data);
	if (tls) {
		a = key("key-a", 1);
		other = key("key-b", 2);
	} else {
		CHECK(!xfer_auth_insecure(&a));
	}
	CHECK(!page_server_load(ld.img, &srv_opts, &pd));
	st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(st != MAP_FAILED);
	l = xfer_listen("127.0.0.1", 0, &err);
	CHECK(l >= 0);
	port = (uint16_t)xfer_listen_port(l);
	srv = fork();
	CHECK(srv >= 0);
	if (!srv)
		server(pd, l, a, st);
	srv_pid = srv;
	close(l);

	session(port, a, data);
	if (tls) { /* another key: refused by the handshake */
		struct xfer_conn *c;

		memset(&err, 0, sizeof(err));
		CHECK(xfer_connect("127.0.0.1", port, other, 5000, &c, &err) == -EACCES);
	}
	/* stopped and continued, its waits restart (restart_syscall) */
	CHECK(!kill(srv, SIGSTOP));
	usleep(300000);
	CHECK(!kill(srv, SIGCONT));
	usleep(100000);
	/* NTHREADS connection threads at once, each with its allocations */
	for (int i = 0; i < NTHREADS; i++)
		CHECK(!xfer_connect("127.0.0.1", port, a, 5000, &held[i], &err));
	usleep(300000);
	for (int i = 0; i < NTHREADS; i++)
		xfer_conn_close(held[i]);
	session(port, a, data);

	CHECK(!kill(srv, SIGTERM));
	CHECK(waitpid(srv, &status, 0) == srv);
	srv_pid = 0;
	memset(&err, 0, sizeof(err));
	if (ps_sandbox_status(srv, status, &err)) {
		fprintf(stderr, "the server: %s (status 0x%x)\n", err.msg, status);
		dump_log();
		_exit(1);
	}
	CHECK(st->sessions == 2);
	CHECK(st->connections == 4 + NTHREADS + (tls ? 1 : 0));
	CHECK(st->refused == (tls ? 1u : 0u));
	CHECK(st->pages_fault + st->pages_stream >= 2 * NPAGES);
	CHECK(st->zero_pages >= 2 * 3);
	CHECK(utest_log_has(ld.log, "session"));
	page_server_dir_free(pd);
	xfer_auth_free(a);
	xfer_auth_free(other);
	free(data);
	_exit(0);
}

static void serve_test(bool tls)
{
	int status;
	pid_t pid;

	if (geteuid() != 0) {
		print_message("skipped: a network namespace of its own needs root\n");
		skip();
	}
	pid = fork();
	assert_true(pid >= 0);
	if (!pid)
		serve_main(tls);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == SKIPPED) {
		print_message("skipped: no network namespace of its own (see above)\n");
		skip();
	}
	expect_exit(status, 0, tls ? "serving with TLS" : "serving with --insecure");
}

static void test_serve_tls(void **state)
{
	(void)state;
	serve_test(true);
}

static void test_serve_insecure(void **state)
{
	(void)state;
	serve_test(false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_allowed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tsync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serve_tls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serve_insecure, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
