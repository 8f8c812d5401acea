/* test_seize_thread: seize_add_thread() and tasks whose leader thread has exited, on real
 * children (util_tracee.h and one of our own).
 *
 * - A reader blocked in read() is seized; a trampoline like the restore skeleton's (`syscall`,
 *   then a pause() loop) is mapped in it, and a thread is created in it with a remote clone3
 *   from there, as restore does. seize_add_thread() must take it (stopped inside pause(), held
 *   by release and kill like the others), refuse it a second time and refuse a tid that is not
 *   a thread of the task, and an rsys session in it must work. After release both threads go
 *   on (the reader answers, the new thread sleeps in pause()); seize_task() then finds two
 *   threads, and RELEASE_KILL takes both.
 * - A child whose leader called SYS_exit while another thread runs: seize_task() skips the
 *   zombie leader (leader_exited, one thread held), rsys in the live thread reaches the memory
 *   and the fd table the leader's /proc entries no longer show, and the process goes on after
 *   release. A child that has fully exited is still refused as a zombie.
 * - A process that exited while we traced it (a zombie only its tracer sees) is refused and
 *   handed back to its parent, which reaps it with its exit status.
 * Needs root (it traces its children and writes to their memory); skips otherwise.
 */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <linux/sched.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "criu-lite/log.h"
#include "criu-lite/rsys.h"
#include "criu-lite/seize.h"
#include "util_tracee.h"

#define NEED_ROOT()                                                                           \
	do {                                                                                  \
		if (geteuid() != 0) {                                                         \
			print_message("skipped: needs root to trace children and read their " \
				      "memory\n");                                            \
			skip();                                                               \
		}                                                                             \
	} while (0)

/* the restore skeleton's trampoline: 0: syscall; 2: mov $__NR_pause, %eax; syscall; jmp 2 */
static const unsigned char tramp_code[] = { 0x0f, 0x05, 0xb8, 0x22, 0x00, 0x00,
					    0x00, 0x0f, 0x05, 0xeb, 0xf7 };

#define THREAD_FLAGS \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM)

struct fixture {
	struct tracee_shared *sh;
	struct tracee c;
	bool started; /* c was started: its pipes are open */
	pid_t own;    /* our own child, 0 if none */
};

static void get_regs(pid_t tid, struct user_regs_struct *regs)
{
	struct iovec iov = { .iov_base = regs, .iov_len = sizeof(*regs) };

	assert_int_equal(ptrace(PTRACE_GETREGSET, tid, NT_PRSTATUS, &iov), 0);
}

/* Entries of /proc/PID/task (a zombie leader included), -1 if unreadable. */
static int count_threads(pid_t pid)
{
	char path[64];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* The trampoline, mapped r-x in the seized task through a session on its leader. */
static uint64_t map_tramp(pid_t pid)
{
	struct rsys r;
	long at;

	assert_int_equal(rsys_open(pid, &r), 0);
	at = rsys6(&r, SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		   0);
	assert_true(at > 0);
	assert_int_equal(rsys_write(&r, (uint64_t)at, tramp_code, sizeof(tramp_code)), 0);
	assert_int_equal(rsys3(&r, SYS_mprotect, at, 4096, PROT_READ | PROT_EXEC), 0);
	assert_int_equal(rsys_close(&r), 0);
	return (uint64_t)at;
}

/* A thread made by a remote clone3 at the trampoline; its tid. */
static pid_t clone_thread(pid_t pid, uint64_t tramp)
{
	struct clone_args args = { .flags = THREAD_FLAGS };
	struct rsys r;
	uint64_t scratch;
	long tid;

	assert_int_equal(rsys_open_at(pid, tramp, &r), 0);
	assert_int_equal(rsys_scratch(&r, 4096, &scratch), 0);
	assert_int_equal(rsys_write(&r, scratch, &args, sizeof(args)), 0);
	tid = rsys_call(&r, SYS_clone3, (long)scratch, sizeof(args), 0, 0, 0, 0);
	assert_int_equal(rsys_close(&r), 0);
	assert_true(tid > 0 && tid != pid);
	return (pid_t)tid;
}

static void test_add_thread(void **state)
{
	struct fixture *f = *state;
	struct user_regs_struct before, after;
	struct seized_thread *t;
	struct seized_task st;
	uint64_t tramp;
	struct rsys r;
	pid_t tid;

	NEED_ROOT();
	assert_int_equal(tracee_start(&f->c, f->sh, TRACEE_READER), 0);
	f->started = true;
	assert_true(tracee_wait_syscall(f->c.pid, SYS_read, 5000));
	assert_int_equal(seize_task(f->c.pid, SEIZE_EXITKILL, &st), 0);
	assert_int_equal(st.nr, 1);
	tramp = map_tramp(f->c.pid);
	tid = clone_thread(f->c.pid, tramp);
	/* not traced, it runs on into its pause() loop while the leader is held */
	assert_true(tracee_wait_syscall(tid, SYS_pause, 2000));

	assert_int_equal(seize_add_thread(&st, tid), 0);
	assert_int_equal(st.nr, 2);
	t = seize_find(&st, tid);
	assert_non_null(t);
	assert_true(t->seized && t->stopped && !t->group_stop);
	assert_true(t->in_syscall);
	assert_int_equal(t->syscall_nr, SYS_pause);
	assert_int_equal(seize_add_thread(&st, tid), -EEXIST);
	assert_int_equal(seize_add_thread(&st, getpid()), -ESRCH);
	assert_int_equal(st.nr, 2);

	/* a session in the new thread, like restore's per-thread one */
	get_regs(tid, &before);
	assert_int_equal(rsys_open_at(tid, tramp, &r), 0);
	assert_int_equal(rsys0(&r, SYS_gettid), tid);
	assert_int_equal(rsys0(&r, SYS_getpid), f->c.pid);
	assert_int_equal(rsys_close(&r), 0);
	get_regs(tid, &after);
	assert_memory_equal(&before, &after, sizeof(before));

	/* released, both go on: the reader answers, the thread pauses with every signal blocked */
	assert_int_equal(seize_release(&st, RELEASE_RESUME), 0);
	assert_int_equal(tracee_ask(&f->c, 41, 2000), 1);
	assert_int_equal(count_threads(f->c.pid), 2);
	assert_true(tracee_wait_syscall(tid, SYS_pause, 2000));

	assert_int_equal(seize_task(f->c.pid, 0, &st), 0);
	assert_int_equal(st.nr, 2);
	assert_non_null(seize_find(&st, tid));
	assert_int_equal(seize_release(&st, RELEASE_KILL), 0);
	assert_int_equal(kill(f->c.pid, 0), -1);
	assert_int_equal(errno, ESRCH);
}

/* ---- a child whose leader thread has exited ------------------------------------------ */

static void *pauser(void *arg)
{
	int wfd = *(int *)arg;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	(void)!write(wfd, "T", 1); /* ready: the leader is gone or going */
	for (;;)
		pause();
	return NULL;
}

/* A child whose leader exits at once, leaving a thread in pause() that holds the write end
 * of a pipe (its fd number in *child_wfd; our read end in *rfd) and 0x5eed in *marker (the
 * same address holds 0 here). */
static pid_t start_leaderless(int *rfd, int *child_wfd, int *marker)
{
	static int fds[2];
	pid_t pid;
	char c;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pthread_t th;

		close(fds[0]);
		*marker = 0x5eed;
		if (pthread_create(&th, NULL, pauser, &fds[1]))
			_exit(1);
		syscall(SYS_exit, 0); /* the leader only */
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &c, 1), 1);
	*rfd = fds[0];
	*child_wfd = fds[1];
	return pid;
}

static void test_leader_exited(void **state)
{
	struct fixture *f = *state;
	static int marker; /* same address in the child */
	struct seized_task st;
	struct stat a, b;
	struct rsys r;
	int side, child_wfd, got = 0, fd;
	pid_t tid;

	NEED_ROOT();
	marker = 0;
	f->own = start_leaderless(&side, &child_wfd, &marker);
	assert_true(tracee_wait_state(f->own, 'Z', 5000));
	assert_int_equal(count_threads(f->own), 2);

	assert_int_equal(seize_task(f->own, 0, &st), 0);
	assert_true(st.leader_exited);
	assert_int_equal(st.nr, 1);
	tid = st.thr[0].tid;
	assert_true(tid != f->own);
	assert_null(seize_find(&st, f->own));

	assert_int_equal(rsys_open(tid, &r), 0);
	assert_int_equal(r.pid, f->own);
	assert_int_equal(rsys0(&r, SYS_getpid), f->own);
	assert_int_equal(rsys0(&r, SYS_gettid), tid);
	assert_int_equal(rsys_read(&r, (uint64_t)(uintptr_t)&marker, &got, sizeof(got)), 0);
	assert_int_equal(got, 0x5eed);
	fd = rsys_getfd(&r, child_wfd);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &a), 0);
	assert_int_equal(fstat(side, &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	close(fd);
	assert_int_equal(rsys_close(&r), 0);
	assert_int_equal(seize_release(&st, RELEASE_RESUME), 0);
	assert_true(tracee_wait_syscall(tid, SYS_pause, 2000));
	assert_int_equal(tracee_state(f->own), 'Z');
	close(side);
}

static void test_zombie_refused(void **state)
{
	struct fixture *f = *state;
	struct seized_task st;

	NEED_ROOT();
	assert_int_equal(tracee_start(&f->c, f->sh, TRACEE_ZOMBIE), 0);
	f->started = true;
	assert_true(tracee_wait_state(f->c.pid, 'Z', 5000));
	assert_int_equal(seize_task(f->c.pid, 0, &st), -ESRCH);
	assert_int_equal(st.nr, 0);
	assert_int_equal(seize_release(&st, RELEASE_RESUME), 0);
}

/* A process that exited while we traced it (caught in its exit while being seized) is a zombie
 * only we can see: its parent's wait finds nothing until its tracer waits or exits. seize_task()
 * on it must fail (-ESRCH, it exited) and hand it back: the parent then reaps it with its exit
 * status. Our child P forks G, which exits when told; we trace G (PTRACE_SEIZE, as seize_task()
 * would have before G's exit) and tell it to exit. */
static void test_traced_zombie_handed_back(void **state)
{
	struct fixture *f = *state;
	int go[2], rep[2], ask[2], status = -1;
	struct seized_task st;
	pid_t g = 0;
	char c = 'x';

	NEED_ROOT();
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(rep), 0);
	assert_int_equal(pipe(ask), 0);
	f->own = fork();
	assert_true(f->own >= 0);
	if (f->own == 0) { /* P */
		pid_t gp = fork();
		int r = -1;

		if (gp == 0) { /* G: exit 7 once told */
			if (read(go[0], &c, 1) != 1)
				_exit(1);
			_exit(7);
		}
		if (write(rep[1], &gp, sizeof(gp)) != sizeof(gp) || read(ask[0], &c, 1) != 1)
			_exit(1);
		if (waitpid(gp, &r, WNOHANG) != gp) /* handed back: reaped at once */
			r = -1;
		_exit(write(rep[1], &r, sizeof(r)) == sizeof(r) ? 0 : 1);
	}
	assert_int_equal(read(rep[0], &g, sizeof(g)), sizeof(g));
	assert_int_equal(ptrace(PTRACE_SEIZE, g, 0, 0), 0);
	assert_int_equal(write(go[1], &c, 1), 1);
	assert_true(tracee_wait_state(g, 'Z', 5000));

	assert_int_equal(seize_task(g, SEIZE_MAY_EXIT, &st), -ESRCH);
	assert_int_equal(write(ask[1], &c, 1), 1);
	assert_int_equal(read(rep[0], &status, sizeof(status)), sizeof(status));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 7);
	for (int i = 0; i < 2; i++) {
		close(go[i]);
		close(rep[i]);
		close(ask[i]);
	}
}

/* ---- fixture ------------------------------------------------------------------------- */

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->sh =
	    mmap(NULL, sizeof(*f->sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (f->sh == MAP_FAILED) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

/* Whatever a failed assertion left behind: kill it, reap it, close it. */
static int teardown(void **state)
{
	struct fixture *f = *state;
	int status;

	if (f->started) {
		kill(f->c.pid, SIGCONT);
		kill(f->c.pid, SIGKILL);
	}
	if (f->own > 0)
		kill(f->own, SIGKILL);
	while (waitpid(-1, &status, __WALL) > 0)
		;
	if (f->started)
		tracee_close(&f->c);
	munmap(f->sh, sizeof(*f->sh));
	free(f);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leader_exited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zombie_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_traced_zombie_handed_back, setup, teardown),
	};

	/* TEST_RSYS_DEBUG=1 shows what seize and rsys do */
	log_init(NULL, getenv("TEST_RSYS_DEBUG") ? LOG_DEBUG : LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
