/* proc_live: test_proc's live half. A child sets up one mapping of each kind (private anon,
 * shared anon, memfd, private file at an offset, a live file named "x (deleted)", a deleted file,
 * an mprotect'ed hole, MAP_GROWSDOWN, DONTFORK+DONTDUMP), fds of several kinds, two threads and a
 * child of its own, then blocks; the parent reads it back through criu-lite/proc.h and compares
 * with what the child made. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/auxv.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "criu-lite/proc/proc.h"
#include "proc_live.h"

#define PG	 4096UL
#define COMM	 "proc test)x"
#define EFD_INIT 0x1a
#define EP_DATA	 0xabcULL

/* What the child made, sent to the parent over a pipe. */
struct live_info {
	uintptr_t priv, shanon, memfd, file, xdel, gone, prot3, dontfork, growsdown, code, brk;
	uint64_t memfd_ino;
	int fd_file, fd_pipe_r, fd_pipe_w, fd_event, fd_epoll, fd_sock, fd_memfd;
	pid_t tids[2], grandchild;
};

struct live {
	char dir[64];
	pid_t pid;
	int info_rd, release_wr;
	struct live_info in;
};

struct thr {
	pthread_barrier_t *bar;
	int release;
	pid_t tid;
};

static void *thread_fn(void *arg)
{
	struct thr *t = arg;
	char c;

	t->tid = gettid();
	pthread_barrier_wait(t->bar);
	(void)!read(t->release, &c, 1);
	return NULL;
}

static void on_hup(int sig)
{
	(void)sig;
}

#define CHECK(x)                                                                 \
	do {                                                                     \
		if (!(x)) {                                                      \
			fprintf(stderr, "proc_live child: %s failed: %m\n", #x); \
			_exit(1);                                                \
		}                                                                \
	} while (0)

static char *map_at(char *at, size_t len, int prot, int flags, int fd, off_t off)
{
	char *p = mmap(at, len, prot, flags | MAP_FIXED, fd, off);

	CHECK(p == at);
	return p;
}

static int open_in(const char *dir, const char *name, int flags)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return open(path, flags);
}

/* Mappings replace slots of a PROT_NONE reservation; the PROT_NONE gaps left between them (and at
 * both ends) keep them from merging with a neighbour or anything mapped meanwhile. */
static void child_maps(const char *dir, struct live_info *in)
{
	char *base = mmap(NULL, 72 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	const int anon = MAP_PRIVATE | MAP_ANONYMOUS, rw = PROT_READ | PROT_WRITE;
	char path[128];
	struct stat st;
	char *p;
	int fd;

	CHECK(base != MAP_FAILED);
	p = map_at(base + 8 * PG, 4 * PG, rw, anon, -1, 0);
	p[0] = p[2 * PG] = 1;
	in->priv = (uintptr_t)p;
	p = map_at(base + 16 * PG, 2 * PG, rw, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	p[0] = 1;
	in->shanon = (uintptr_t)p;
	in->fd_memfd = memfd_create("tmfd", 0);
	CHECK(in->fd_memfd >= 0 && ftruncate(in->fd_memfd, 2 * PG) == 0);
	CHECK(fstat(in->fd_memfd, &st) == 0);
	in->memfd_ino = st.st_ino;
	in->memfd = (uintptr_t)map_at(base + 24 * PG, 2 * PG, rw, MAP_SHARED, in->fd_memfd, 0);
	in->fd_file = open_in(dir, "data", O_RDWR | O_APPEND);
	CHECK(in->fd_file >= 0 && lseek(in->fd_file, 1234, SEEK_SET) == 1234);
	in->file = (uintptr_t)map_at(base + 32 * PG, PG, PROT_READ, MAP_PRIVATE, in->fd_file, PG);
	fd = open_in(dir, "x (deleted)", O_RDONLY);
	CHECK(fd >= 0);
	in->xdel = (uintptr_t)map_at(base + 40 * PG, PG, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	fd = open_in(dir, "gone", O_RDONLY);
	CHECK(fd >= 0);
	in->gone = (uintptr_t)map_at(base + 48 * PG, PG, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/gone", dir);
	CHECK(unlink(path) == 0);
	p = map_at(base + 56 * PG, 3 * PG, rw, anon, -1, 0);
	CHECK(mprotect(p + PG, PG, PROT_NONE) == 0);
	in->prot3 = (uintptr_t)p;
	p = map_at(base + 64 * PG, PG, rw, anon, -1, 0);
	CHECK(madvise(p, PG, MADV_DONTFORK) == 0 && madvise(p, PG, MADV_DONTDUMP) == 0);
	in->dontfork = (uintptr_t)p;
	p = mmap(NULL, 2 * PG, rw, anon | MAP_GROWSDOWN, -1, 0);
	CHECK(p != MAP_FAILED);
	in->growsdown = (uintptr_t)p;
	p = sbrk(PG); /* moves brk even where malloc does not (ASan) */
	CHECK(p != (void *)-1);
	p[0] = 1;
	in->brk = (uintptr_t)sbrk(0);
}

static void child_fds(struct live_info *in)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EP_DATA };
	int p[2], sv[2];

	CHECK(pipe(p) == 0 && fcntl(p[1], F_SETFL, O_NONBLOCK) == 0);
	in->fd_pipe_r = p[0];
	in->fd_pipe_w = p[1];
	in->fd_event = eventfd(EFD_INIT, EFD_CLOEXEC);
	in->fd_epoll = epoll_create1(0);
	CHECK(in->fd_event >= 0 && in->fd_epoll >= 0);
	CHECK(epoll_ctl(in->fd_epoll, EPOLL_CTL_ADD, in->fd_event, &ev) == 0);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	in->fd_sock = sv[0];
}

static __attribute__((noreturn)) void child_main(const char *dir, int info_wr, int release)
{
	static const gid_t groups[] = { 5, 100 };
	struct sigaction sa = { .sa_handler = on_hup };
	struct live_info in = { 0 };
	pthread_barrier_t bar;
	pthread_t th[2];
	struct thr t[2];
	sigset_t set;
	char c;

	umask(027);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	CHECK(sigprocmask(SIG_BLOCK, &set, NULL) == 0);
	CHECK(signal(SIGUSR2, SIG_IGN) != SIG_ERR && sigaction(SIGHUP, &sa, NULL) == 0);
	CHECK(setgroups(2, groups) == 0 && setpriority(PRIO_PROCESS, 0, 5) == 0);
	CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && prctl(PR_SET_NAME, COMM) == 0);
	child_maps(dir, &in);
	child_fds(&in);
	in.code = (uintptr_t)child_main;
	pthread_barrier_init(&bar, NULL, 3);
	for (int i = 0; i < 2; i++) {
		t[i] = (struct thr){ .bar = &bar, .release = release };
		CHECK(pthread_create(&th[i], NULL, thread_fn, &t[i]) == 0);
	}
	pthread_barrier_wait(&bar);
	in.tids[0] = t[0].tid;
	in.tids[1] = t[1].tid;
	in.grandchild = fork();
	CHECK(in.grandchild >= 0);
	if (in.grandchild == 0) {
		(void)!read(release, &c, 1);
		_exit(0);
	}
	CHECK(write(info_wr, &in, sizeof(in)) == sizeof(in));
	(void)!read(release, &c, 1); /* EOF: the parent is done */
	waitpid(in.grandchild, NULL, 0);
	_exit(0);
}

static void make_file(const char *dir, const char *name, size_t size)
{
	int fd = open_in(dir, name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, size), 0);
	close(fd);
}

/* Wait until the task blocks (in read): its state letter, read without the parser under test. */
static void wait_sleeping(pid_t pid, pid_t tid)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	for (int i = 0; i < 5000; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

		if (fd >= 0)
			close(fd);
		assert_true(n > 0);
		buf[n] = '\0';
		p = strrchr(buf, ')');
		if (p && p[1] == ' ' && p[2] == 'S')
			return;
		usleep(1000);
	}
	fail_msg("task %d of %d never went to sleep", tid, pid);
}

int live_setup(void **state)
{
	struct live *lv = calloc(1, sizeof(*lv));
	int info[2], release[2];

	assert_non_null(lv);
	strcpy(lv->dir, "/tmp/test_proc.XXXXXX");
	assert_non_null(mkdtemp(lv->dir));
	make_file(lv->dir, "data", 2 * PG);
	make_file(lv->dir, "x (deleted)", PG);
	make_file(lv->dir, "gone", PG);
	assert_int_equal(pipe2(info, O_CLOEXEC), 0);
	assert_int_equal(pipe(release), 0);
	lv->pid = fork();
	assert_true(lv->pid >= 0);
	if (lv->pid == 0) {
		close(info[0]);
		close(release[1]);
		child_main(lv->dir, info[1], release[0]);
	}
	close(info[1]);
	close(release[0]);
	lv->info_rd = info[0];
	lv->release_wr = release[1];
	*state = lv;
	assert_int_equal(read(lv->info_rd, &lv->in, sizeof(lv->in)), sizeof(lv->in));
	wait_sleeping(lv->pid, lv->pid);
	wait_sleeping(lv->pid, lv->in.tids[0]);
	wait_sleeping(lv->pid, lv->in.tids[1]);
	return 0;
}

int live_teardown(void **state)
{
	struct live *lv = *state;
	char path[128];
	int status;

	close(lv->release_wr);
	close(lv->info_rd);
	assert_int_equal(waitpid(lv->pid, &status, 0), lv->pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	snprintf(path, sizeof(path), "%s/data", lv->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/x (deleted)", lv->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/gone", lv->dir); /* when the child did not get that far */
	unlink(path);
	rmdir(lv->dir);
	free(lv);
	return 0;
}

static const struct vma *find_vma(const struct vma_list *l, uintptr_t addr)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].start <= addr && addr < l->v[i].end)
			return &l->v[i];
	fail_msg("no VMA holds %#lx", (unsigned long)addr);
	return NULL;
}

static void check_file_vma(const struct live *lv, const struct vma *v, const char *name,
			   bool deleted)
{
	char path[128], shown[160];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", lv->dir, name);
	snprintf(shown, sizeof(shown), "%s%s", path, deleted ? " (deleted)" : "");
	assert_int_equal(v->kind, VMA_FILE);
	assert_string_equal(v->name, shown);
	assert_int_equal(v->deleted, deleted);
	assert_int_equal(vma_name_len(v), strlen(path));
	if (!deleted) {
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(v->inode, st.st_ino);
		assert_int_equal(v->dev, st.st_dev);
	}
}

#define ANON_RW (VMF_RD | VMF_WR | VMF_MR | VMF_MW | VMF_ME | VMF_AC)

static void check_vmas(const struct live *lv)
{
	const struct live_info *in = &lv->in;
	int n_heap = 0, n_stack = 0, n_vdso = 0, n_vvar = 0, n_vclock = 0, n_vsys = 0;
	struct vma_list l;
	const struct vma *v;

	assert_int_equal(proc_parse_vmas(lv->pid, &l), 0);
	v = find_vma(&l, in->priv);
	assert_int_equal(v->start, in->priv);
	assert_int_equal(v->end, in->priv + 4 * PG);
	assert_int_equal(v->prot, PROT_READ | PROT_WRITE);
	assert_false(v->shared);
	assert_int_equal(v->kind, VMA_ANON);
	assert_int_equal(v->flags, ANON_RW);
	assert_int_equal(v->rss, 2 * PG);
	assert_int_equal(v->anonymous, 2 * PG);
	/* the grandchild, forked afterwards, shares both pages */
	assert_int_equal(v->shared_dirty, 2 * PG);
	assert_int_equal(v->private_dirty, 0);
	assert_true(vma_is_anon_private(v));

	v = find_vma(&l, in->shanon);
	assert_int_equal(v->start, in->shanon);
	assert_int_equal(v->end, in->shanon + 2 * PG);
	assert_true(v->shared);
	assert_string_equal(v->name, "/dev/zero (deleted)");
	assert_true(v->deleted);
	assert_true(vma_is_anon_shared(v));
	assert_int_equal(v->flags, VMF_RD | VMF_WR | VMF_SH | VMF_MR | VMF_MW | VMF_ME | VMF_MS);
	assert_int_equal(v->rss, PG);
	assert_int_equal(v->anonymous, 0);

	v = find_vma(&l, in->memfd);
	assert_string_equal(v->name, "/memfd:tmfd (deleted)");
	assert_true(vma_is_memfd(v));
	assert_false(vma_is_anon_shared(v));
	assert_int_equal(v->inode, in->memfd_ino);
	assert_true(v->shared);

	v = find_vma(&l, in->file);
	check_file_vma(lv, v, "data", false);
	assert_int_equal(v->pgoff, PG);
	assert_int_equal(v->prot, PROT_READ);
	assert_false(v->shared);
	/* the name says "(deleted)", the file is alive: the flag is cleared */
	check_file_vma(lv, find_vma(&l, in->xdel), "x (deleted)", false);
	check_file_vma(lv, find_vma(&l, in->gone), "gone", true);

	v = find_vma(&l, in->prot3);
	assert_int_equal(v->end, in->prot3 + PG);
	assert_int_equal(v->prot, PROT_READ | PROT_WRITE);
	assert_int_equal(v[1].start, in->prot3 + PG);
	assert_int_equal(v[1].end, in->prot3 + 2 * PG);
	assert_int_equal(v[1].prot, 0);
	assert_int_equal(v[2].start, in->prot3 + 2 * PG);
	assert_int_equal(v[2].prot, PROT_READ | PROT_WRITE);

	v = find_vma(&l, in->dontfork);
	assert_int_equal(v->flags, ANON_RW | VMF_DC | VMF_DD);
	v = find_vma(&l, in->growsdown);
	assert_int_equal(v->flags, ANON_RW | VMF_GD);

	for (size_t i = 0; i < l.n; i++) {
		n_heap += l.v[i].kind == VMA_HEAP;
		n_stack += l.v[i].kind == VMA_STACK;
		n_vdso += l.v[i].kind == VMA_VDSO;
		n_vvar += l.v[i].kind == VMA_VVAR;
		n_vclock += l.v[i].kind == VMA_VVAR_VCLOCK;
		n_vsys += l.v[i].kind == VMA_VSYSCALL;
	}
	assert_true(n_heap >= 1 && n_stack == 1 && n_vdso == 1);
	assert_true(n_vvar == 1 && n_vclock == 1 && n_vsys == 1);
	vma_list_free(&l);
}

static void check_stat(const struct live *lv)
{
	const struct vma *heap = NULL, *last_heap = NULL, *stack = NULL;
	int n_heap = 0, n_overlap = 0;
	struct proc_stat s;
	struct vma_list l;

	assert_int_equal(proc_parse_stat(lv->pid, &s), 0);
	assert_int_equal(s.pid, lv->pid);
	assert_string_equal(s.comm, COMM);
	assert_int_equal(s.state, 'S');
	assert_int_equal(s.ppid, getpid());
	assert_int_equal(s.pgrp, getpgrp());
	assert_int_equal(s.session, getsid(0));
	assert_int_equal(s.num_threads, 3);
	assert_int_equal(s.nice, 5);
	assert_int_equal(s.priority, 25);
	assert_true(s.start_code <= lv->in.code && lv->in.code < s.end_code);

	assert_int_equal(proc_parse_vmas(lv->pid, &l), 0);
	/* 6.18 names [heap] every VMA that overlaps start_brk..brk. The child grew brk after fork:
	 * without ASan that makes a second VMA, which does not merge with the inherited one. */
	for (size_t i = 0; i < l.n; i++) {
		const struct vma *v = &l.v[i];

		n_overlap += v->start < lv->in.brk && v->end > s.start_brk;
		if (v->kind == VMA_HEAP) {
			heap = heap ? heap : v;
			last_heap = v;
			n_heap++;
		}
		if (v->kind == VMA_STACK)
			stack = v;
	}
	assert_true(n_heap >= 1);
	assert_int_equal(n_heap, n_overlap);
	assert_int_equal(heap->start, s.start_brk);
	assert_int_equal(last_heap->end, (lv->in.brk + PG - 1) & ~(PG - 1));
	assert_non_null(stack);
	assert_true(stack->start <= s.start_stack && s.start_stack < stack->end);
	assert_true(stack->start <= s.arg_start && s.arg_start < s.arg_end);
	assert_true(s.arg_end <= s.env_start && s.env_start < s.env_end && s.env_end <= stack->end);
	vma_list_free(&l);

	for (int i = 0; i < 2; i++) {
		assert_int_equal(proc_parse_task_stat(lv->pid, lv->in.tids[i], &s), 0);
		assert_int_equal(s.pid, lv->in.tids[i]);
		assert_int_equal(s.state, 'S');
	}
}

static void check_status(const struct live *lv)
{
	struct proc_status s, self;

	assert_int_equal(proc_parse_status(getpid(), &self), 0);
	assert_int_equal(proc_parse_status(lv->pid, &s), 0);
	assert_string_equal(s.name, COMM);
	assert_int_equal(s.state, 'S');
	assert_int_equal(s.tgid, lv->pid);
	assert_int_equal(s.pid, lv->pid);
	assert_int_equal(s.ppid, getpid());
	assert_int_equal(s.tracer_pid, 0);
	assert_int_equal(s.uid[0], getuid());
	assert_int_equal(s.gid[1], getegid());
	assert_int_equal(s.n_groups, 2);
	assert_int_equal(s.groups[0], 5);
	assert_int_equal(s.groups[1], 100);
	assert_int_equal(s.ns_levels, self.ns_levels);
	assert_int_equal(s.ns_pid[0], lv->pid);
	assert_int_equal(s.ns_tgid[0], lv->pid);
	assert_int_equal(s.threads, 3);
	assert_int_equal(s.sig_blk, 1ULL << (SIGUSR1 - 1));
	assert_true(s.sig_ign & (1ULL << (SIGUSR2 - 1)));
	assert_true(s.sig_cgt & (1ULL << (SIGHUP - 1)));
	assert_int_equal(s.no_new_privs, 1);
	assert_int_equal(s.umask, 027);
	assert_int_equal(s.cap_eff, self.cap_eff);
	assert_int_equal(s.cap_bnd, self.cap_bnd);
	proc_status_free(&s);
	proc_status_free(&self);

	assert_int_equal(proc_parse_task_status(lv->pid, lv->in.tids[1], &s), 0);
	assert_int_equal(s.pid, lv->in.tids[1]);
	assert_int_equal(s.tgid, lv->pid);
	assert_int_equal(s.sig_blk, 1ULL << (SIGUSR1 - 1));
	proc_status_free(&s);
}

static uint64_t auxv_get(const uint64_t *w, size_t n, uint64_t type)
{
	for (size_t i = 0; i < n; i += 2)
		if (w[i] == type)
			return w[i + 1];
	return 0;
}

static void check_auxv(const struct live *lv)
{
	uint64_t w[128], mine[128];
	size_t n, nm;

	/* a forked child keeps the saved auxv of its parent */
	assert_int_equal(proc_read_auxv(lv->pid, w, 128, &n), 0);
	assert_int_equal(proc_read_auxv(getpid(), mine, 128, &nm), 0);
	assert_int_equal(n, nm);
	assert_memory_equal(w, mine, n * sizeof(w[0]));
	assert_true(n >= 4 && n % 2 == 0 && w[n - 2] == 0);
	assert_int_equal(auxv_get(w, n, AT_PAGESZ), getauxval(AT_PAGESZ));
	assert_int_equal(auxv_get(w, n, AT_ENTRY), getauxval(AT_ENTRY));
	assert_int_equal(auxv_get(w, n, AT_PHDR), getauxval(AT_PHDR));
}

static const char *fd_target(const struct proc_fd_list *l, int fd)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].fd == fd)
			return l->v[i].target;
	fail_msg("fd %d is not listed", fd);
	return NULL;
}

static void check_fds(const struct live *lv)
{
	const struct live_info *in = &lv->in;
	char path[128], want[160];
	struct proc_fd_list l;
	struct proc_fdinfo fi;
	unsigned int events;
	uint64_t data;
	struct stat st;
	int tfd;

	assert_int_equal(proc_list_fds(lv->pid, &l), 0);
	snprintf(want, sizeof(want), "%s/data", lv->dir);
	assert_string_equal(fd_target(&l, in->fd_file), want);
	assert_string_equal(fd_target(&l, in->fd_memfd), "/memfd:tmfd (deleted)");
	assert_string_equal(fd_target(&l, in->fd_event), "anon_inode:[eventfd]");
	assert_string_equal(fd_target(&l, in->fd_epoll), "anon_inode:[eventpoll]");
	assert_int_equal(strncmp(fd_target(&l, in->fd_pipe_w), "pipe:[", 6), 0);
	assert_int_equal(strncmp(fd_target(&l, in->fd_sock), "socket:[", 8), 0);
	for (size_t i = 0; i < l.n; i++) {
		if (i)
			assert_true(l.v[i - 1].fd < l.v[i].fd);
		/* every fd: fdinfo's ino is the inode the fd link leads to */
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", lv->pid, l.v[i].fd);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(proc_parse_fdinfo(lv->pid, l.v[i].fd, &fi), 0);
		assert_int_equal(fi.ino, st.st_ino);
		proc_fdinfo_free(&fi);
	}
	proc_fd_list_free(&l);

	assert_int_equal(proc_parse_fdinfo(lv->pid, in->fd_file, &fi), 0);
	assert_int_equal(fi.pos, 1234);
	assert_int_equal(fi.flags & (O_ACCMODE | O_APPEND), O_RDWR | O_APPEND);
	assert_true(fi.mnt_id > 0);
	proc_fdinfo_free(&fi);

	assert_int_equal(proc_parse_fdinfo(lv->pid, in->fd_pipe_w, &fi), 0);
	assert_int_equal(fi.flags & (O_ACCMODE | O_NONBLOCK), O_WRONLY | O_NONBLOCK);
	proc_fdinfo_free(&fi);

	assert_int_equal(proc_parse_fdinfo(lv->pid, in->fd_event, &fi), 0);
	assert_true(fi.flags & O_CLOEXEC);
	assert_non_null(proc_fdinfo_value(&fi, "eventfd-count", 0));
	assert_int_equal(strtoull(proc_fdinfo_value(&fi, "eventfd-count", 0), NULL, 16), EFD_INIT);
	proc_fdinfo_free(&fi);

	assert_int_equal(proc_parse_fdinfo(lv->pid, in->fd_epoll, &fi), 0);
	assert_int_equal(proc_fdinfo_count(&fi, "tfd"), 1);
	assert_int_equal(sscanf(proc_fdinfo_value(&fi, "tfd", 0), "%d events: %x data: %" SCNx64,
				&tfd, &events, &data),
			 3);
	assert_int_equal(tfd, in->fd_event);
	assert_true(events & EPOLLIN);
	assert_int_equal(data, EP_DATA);
	proc_fdinfo_free(&fi);
}

static void check_tasks(const struct live *lv)
{
	struct pid_list l;
	int found = 0;

	assert_int_equal(proc_list_threads(lv->pid, &l), 0);
	assert_int_equal(l.n, 3);
	for (size_t i = 0; i < l.n; i++)
		found += l.v[i] == lv->pid || l.v[i] == lv->in.tids[0] || l.v[i] == lv->in.tids[1];
	assert_int_equal(found, 3);
	assert_true(l.v[0] < l.v[1] && l.v[1] < l.v[2]);
	pid_list_free(&l);

	assert_int_equal(proc_list_children(lv->pid, lv->pid, &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0], lv->in.grandchild);
	pid_list_free(&l);
	assert_int_equal(proc_list_children(lv->pid, lv->in.tids[0], &l), 0);
	assert_int_equal(l.n, 0);
	pid_list_free(&l);
}

void test_proc_live(void **state)
{
	const struct live *lv = *state;

	check_vmas(lv);
	check_stat(lv);
	check_status(lv);
	check_auxv(lv);
	check_fds(lv);
	check_tasks(lv);
}

void test_proc_gone(void **state)
{
	struct proc_stat st;
	struct vma_list vl;
	struct proc_fd_list fl;
	struct pid_list pl;
	struct proc_fdinfo fi;
	uint64_t w[64];
	char want[64];
	size_t n;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_int_equal(proc_parse_stat(pid, &st), -ENOENT);
	snprintf(want, sizeof(want), "can't open /proc/%d/stat: No such file", pid);
	assert_true(log_has(want));
	assert_int_equal(proc_parse_vmas(pid, &vl), -ENOENT);
	assert_null(vl.v);
	assert_int_equal(proc_list_fds(pid, &fl), -ENOENT);
	assert_int_equal(proc_list_threads(pid, &pl), -ENOENT);
	assert_int_equal(proc_read_auxv(pid, w, 64, &n), -ENOENT);
	assert_int_equal(proc_parse_fdinfo(getpid(), 99999, &fi), -ENOENT);
	snprintf(want, sizeof(want), "/proc/%d/fdinfo/99999", getpid());
	assert_true(log_has(want));
}
