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
 * The calls of a server that may receive a dump: test_ps_sandbox_push.
 * A page server serving and receiving in the sandbox: test_ps_serve. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
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
#include "lazy-pages/ps-sandbox.h"
#include "sandbox_fixture.h"
#include "util_fs.h"
#include "util_log.h"

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

static pid_t test_pid; /* cmocka's process, the children's parent */

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_allowed, sbx_setup, sbx_teardown),
		cmocka_unit_test_setup_teardown(test_refused, sbx_setup, sbx_teardown),
		cmocka_unit_test_setup_teardown(test_threads, sbx_setup, sbx_teardown),
		cmocka_unit_test_setup_teardown(test_tsync, sbx_setup, sbx_teardown),
		cmocka_unit_test_setup_teardown(test_status, sbx_setup, sbx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
