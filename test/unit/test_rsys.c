/* test_rsys: seize (seize.h) and remote syscalls (rsys.h) on real children
 * (util_tracee.h): a reader blocked in read(), a sleeper in clock_nanosleep
 * (restart block), a spinner in user space (vDSO syscall instruction), a
 * group-stopped task, a threaded task, a self-signalling task, a zombie. A
 * session checks remote call results, memory and fd transfer, that registers
 * and signal mask come back bit for bit, and that the child then goes on
 * exactly where it was, signals included. Needs root (it traces its children
 * and writes to their memory); skips otherwise.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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
#include "util_fs.h"
#include "util_tracee.h"

#define PATTERN_LEN  8192
#define MAX_CHILDREN 4
/* every blockable signal: what the tracee's mask must be during a session */
#define ALL_BLOCKABLE (~((1ULL << (SIGKILL - 1)) | (1ULL << (SIGSTOP - 1))))

struct fixture {
	struct tracee_shared *sh;
	struct tracee c[MAX_CHILDREN];
	int nr;
	char log[64];
};

static struct tracee *start(struct fixture *f, enum tracee_kind kind)
{
	struct tracee *c = &f->c[f->nr];

	assert_true(f->nr < MAX_CHILDREN);
	assert_int_equal(tracee_start(c, f->sh, kind), 0);
	f->nr++;
	return c;
}

/* The next answer of the child within timeout_ms, -1 if none. */
static int reply(struct tracee *c, int timeout_ms)
{
	struct pollfd p = { .fd = c->resp[0], .events = POLLIN };
	int v = -1;

	if (poll(&p, 1, timeout_ms) != 1 || read(c->resp[0], &v, sizeof(v)) != sizeof(v))
		return -1;
	return v;
}

static void get_regs(pid_t tid, struct user_regs_struct *regs)
{
	struct iovec iov = { .iov_base = regs, .iov_len = sizeof(*regs) };

	assert_int_equal(ptrace(PTRACE_GETREGSET, tid, NT_PRSTATUS, &iov), 0);
}

static uint64_t get_sigmask(pid_t tid)
{
	uint64_t m = 0;

	assert_int_equal(ptrace(PTRACE_GETSIGMASK, tid, sizeof(m), &m), 0);
	return m;
}

static int reap(pid_t pid)
{
	int status = -1;

	assert_int_equal(waitpid(pid, &status, __WALL), pid);
	return status;
}

/* ---- one full rsys session on a seized thread ---------------------------- */

static void session(struct tracee *c, pid_t tid, enum rsys_insn_src want_src)
{
	struct user_regs_struct before, after;
	uint8_t pat[PATTERN_LEN], back[PATTERN_LEN], got[PATTERN_LEN];
	uint64_t mask_before, scratch, ro;
	struct stat st_local, st_stolen;
	struct rsys r;
	int fd;

	get_regs(tid, &before);
	mask_before = get_sigmask(tid);
	assert_int_equal(rsys_open(tid, &r), 0);
	assert_int_equal(r.insn_src, want_src);
	assert_int_equal(get_sigmask(tid), ALL_BLOCKABLE);

	assert_int_equal(rsys0(&r, SYS_getpid), c->pid);
	assert_int_equal(rsys0(&r, SYS_gettid), tid);

	/* scratch memory: write a pattern, read it back, let the tracee write() it to us */
	for (size_t i = 0; i < sizeof(pat); i++)
		pat[i] = (uint8_t)(i * 7 + tid);
	assert_int_equal(rsys_scratch(&r, sizeof(pat), &scratch), 0);
	assert_true(tracee_find_map(c->pid, scratch, NULL, NULL, NULL));
	assert_int_equal(rsys_write(&r, scratch, pat, sizeof(pat)), 0);
	assert_int_equal(rsys_read(&r, scratch, back, sizeof(back)), 0);
	assert_memory_equal(pat, back, sizeof(pat));
	assert_int_equal(rsys3(&r, SYS_write, TRACEE_SIDE_FD, scratch, 4096), 4096);
	assert_int_equal(read(c->side[0], got, 4096), 4096);
	assert_memory_equal(got, pat, 4096);

	/* a read-only page: process_vm_writev gives EFAULT, /proc/PID/mem gets through */
	ro = (uint64_t)rsys6(&r, SYS_mmap, 0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true((long)ro > 0);
	assert_int_equal(rsys_write(&r, ro, "read-only", 9), 0);
	assert_int_equal(rsys3(&r, SYS_write, TRACEE_SIDE_FD, ro, 9), 9);
	assert_int_equal(read(c->side[0], got, 9), 9);
	assert_memory_equal(got, "read-only", 9);
	assert_int_equal(rsys2(&r, SYS_munmap, ro, 4096), 0);

	/* steal the child's end of the side pipe: same inode as ours */
	fd = rsys_getfd(&r, TRACEE_SIDE_FD);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st_stolen), 0);
	assert_int_equal(fstat(c->side[0], &st_local), 0);
	assert_int_equal(st_stolen.st_ino, st_local.st_ino);
	assert_int_equal(st_stolen.st_dev, st_local.st_dev);
	close(fd);

	/* an expected failure, quietly */
	assert_int_equal(rsys_call_quiet(&r, SYS_close, 4000, 0, 0, 0, 0, 0), -EBADF);

	assert_int_equal(rsys_close(&r), 0);
	if (want_src == RSYS_INSN_FRAME) /* under the stack pointer, on the thread's stack */
		assert_true(scratch < before.rsp && scratch > before.rsp - (64 << 10));
	else /* a mapping of its own, gone again */
		assert_false(tracee_find_map(c->pid, scratch, NULL, NULL, NULL));
	get_regs(tid, &after);
	assert_memory_equal(&before, &after, sizeof(before));
	assert_memory_equal(rsys_regs(&r), &after, sizeof(after));
	assert_int_equal(get_sigmask(tid), mask_before);
}

/* ---- tests --------------------------------------------------------------- */

#define NEED_ROOT()                                                                           \
	do {                                                                                  \
		if (geteuid() != 0) {                                                         \
			print_message("skipped: needs root to trace children and read their " \
				      "memory\n");                                            \
			skip();                                                               \
		}                                                                             \
	} while (0)

static void test_reader(void **state)
{
	struct fixture *f = *state;
	struct seized_task st;
	struct tracee *c;
	uint64_t blk;

	NEED_ROOT();
	c = start(f, TRACEE_READER);
	assert_true(tracee_wait_syscall(c->pid, SYS_read, 5000));
	blk = tracee_status_hex(c->pid, "SigBlk");
	assert_int_equal(blk, 1ULL << (SIGUSR2 - 1));

	assert_int_equal(seize_task(c->pid, 0, &st), 0);
	assert_int_equal(st.nr, 1);
	assert_int_equal(st.state, 'S');
	assert_false(st.group_stopped);
	assert_true(st.thr[0].stopped);
	assert_int_equal(st.thr[0].stop_status >> 8, SIGTRAP | (PTRACE_EVENT_STOP << 8));
	assert_true(st.thr[0].in_syscall);
	assert_int_equal(st.thr[0].syscall_nr, SYS_read);
	assert_int_equal(st.thr[0].syscall_ret, -RSYS_ERESTARTSYS);

	/* a signal sent now must wait for the release, and then arrive */
	assert_int_equal(kill(c->pid, SIGUSR1), 0);
	session(c, c->pid, RSYS_INSN_FRAME);
	assert_int_equal(tracee_usr1_count(c, 1, 20), 0);

	assert_int_equal(seize_release(&st, RELEASE_RESUME), 0);
	assert_int_equal(seize_release(&st, RELEASE_RESUME), 0); /* twice is harmless */
	assert_int_equal(tracee_usr1_count(c, 1, 2000), 1);
	assert_int_equal(tracee_ask(c, 41, 2000), 1); /* read() restarted and still serves */
	assert_int_equal(tracee_status_hex(c->pid, "SigBlk"), blk);
	assert_true(tracee_status_hex(c->pid, "SigCgt") & (1ULL << (SIGTRAP - 1)));
	close(c->req[1]);
	assert_int_equal(reap(c->pid), 0);
}

static void test_sleeper(void **state)
{
	struct fixture *f = *state;
	struct seized_task st;
	struct tracee *c;
	int status;

	NEED_ROOT();
	c = start(f, TRACEE_SLEEPER);
	assert_true(tracee_wait_syscall(c->pid, SYS_clock_nanosleep, 5000));
	assert_int_equal(seize_task(c->pid, 0, &st), 0);
	assert_true(st.thr[0].in_syscall);
	assert_int_equal(st.thr[0].syscall_nr, SYS_clock_nanosleep);
	assert_int_equal(st.thr[0].syscall_ret, -RSYS_ERESTART_RESTARTBLOCK);
	session(c, c->pid, RSYS_INSN_FRAME);
	assert_int_equal(seize_release(&st, RELEASE_RESUME), 0);
	status = reap(c->pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(f->sh->sleep_ret, 0);
	assert_true(f->sh->slept_ns >= TRACEE_SLEEP_NS);
	print_message("sleeper: asked %ld ms, slept %ld ms\n", TRACEE_SLEEP_NS / 1000000,
		      f->sh->slept_ns / 1000000);
}

static void test_spinner(void **state)
{
	struct fixture *f = *state;
	struct seized_task st;
	uint64_t vs, ve;
	struct tracee *c;
	struct rsys r;
	long n;

	NEED_ROOT();
	c = start(f, TRACEE_SPINNER);
	for (long end = tracee_now_ms() + 5000; tracee_now_ms() < end && !f->sh->counter;)
		usleep(1000);
	assert_true(f->sh->counter > 0);
	assert_int_equal(seize_task(c->pid, 0, &st), 0);
	assert_false(st.thr[0].in_syscall);
	n = f->sh->counter;
	usleep(30000);
	assert_int_equal(f->sh->counter, n); /* frozen */

	assert_int_equal(kill(c->pid, SIGUSR1), 0);
	session(c, c->pid, RSYS_INSN_FRAME);
	assert_int_equal(rsys_open(c->pid, &r), 0);
	assert_true(tracee_find_map(c->pid, 0, "[vdso]", &vs, &ve));
	assert_true(r.insn >= vs && r.insn + 2 <= ve);
	assert_int_equal(rsys_close(&r), 0);
	assert_int_equal(seize_release(&st, RELEASE_RESUME), 0);

	n = f->sh->counter;
	usleep(30000);
	assert_true(f->sh->counter > n); /* counting again */
	assert_int_equal(tracee_usr1_count(c, 1, 2000), 1);

	/* RELEASE_KILL: gone, and reaped by us (its tracer and parent) */
	assert_int_equal(seize_task(c->pid, 0, &st), 0);
	assert_int_equal(seize_release(&st, RELEASE_KILL), 0);
	assert_int_equal(kill(c->pid, 0), -1);
	assert_int_equal(errno, ESRCH);
}

static void test_group_stopped(void **state)
{
	struct fixture *f = *state;
	struct seized_task st;
	struct tracee *c;
	int status;

	NEED_ROOT();
	c = start(f, TRACEE_READER);
	assert_true(tracee_wait_syscall(c->pid, SYS_read, 5000));
	assert_int_equal(kill(c->pid, SIGSTOP), 0);
	assert_int_equal(waitpid(c->pid, &status, WUNTRACED), c->pid);
	assert_true(WIFSTOPPED(status));
	assert_int_equal(tracee_state(c->pid), 'T');

	assert_int_equal(seize_task(c->pid, 0, &st), 0);
	assert_int_equal(st.state, 'T');
	assert_true(st.group_stopped);
	assert_true(st.thr[0].group_stop);
	assert_int_equal(WSTOPSIG(st.thr[0].stop_status), SIGSTOP);
	session(c, c->pid, RSYS_INSN_FRAME);
	assert_int_equal(seize_release(&st, RELEASE_RESUME), 0);

	/* stopped again, and it stays so until SIGCONT */
	assert_true(tracee_wait_state(c->pid, 'T', 2000));
	assert_int_equal(tracee_ask(c, 7, 200), 0);
	assert_int_equal(tracee_state(c->pid), 'T');
	assert_int_equal(kill(c->pid, SIGCONT), 0);
	assert_int_equal(reply(c, 2000), 8); /* the request sent while it was stopped */
	assert_int_equal(tracee_ask(c, 100, 2000), 1);
}

/* SIGSTOP cannot be blocked: it arrives in the middle of a session. */
static void test_stop_during_session(void **state)
{
	struct fixture *f = *state;
	struct seized_task st;
	struct tracee *c;
	struct rsys r;

	NEED_ROOT();
	c = start(f, TRACEE_READER);
	assert_true(tracee_wait_syscall(c->pid, SYS_read, 5000));
	assert_int_equal(seize_task(c->pid, 0, &st), 0);
	assert_int_equal(rsys_open(c->pid, &r), 0);
	assert_int_equal(kill(c->pid, SIGSTOP), 0);
	assert_int_equal(rsys0(&r, SYS_getpid), c->pid);
	assert_int_equal(rsys0(&r, SYS_getppid), getpid());
	assert_int_equal(rsys_close(&r), 0);
	assert_int_equal(seize_release(&st, RELEASE_RESUME), 0);
	assert_true(tracee_wait_state(c->pid, 'T', 2000));
	assert_int_equal(tracee_ask(c, 1, 200), 0);
	assert_int_equal(kill(c->pid, SIGCONT), 0);
	assert_int_equal(reply(c, 2000), 2);
}

/* Signals racing with seize_task() and sessions: a child that signals itself
 * all the time must see every signal handled at once, whether it came while
 * we were seizing (a signal-delivery-stop), while held, or during a session. */
static void test_signal_while_seizing(void **state)
{
	struct fixture *f = *state;
	struct seized_task st;
	int passed = 0, rounds = 1000;
	cpu_set_t saved, one;
	struct tracee *c;
	struct rsys r;
	long sent;

	NEED_ROOT();
	c = start(f, TRACEE_SIGNALLER);
	/* The race is won only while the child runs on another CPU: keep them apart. */
	assert_int_equal(sched_getaffinity(0, sizeof(saved), &saved), 0);
	if (CPU_COUNT(&saved) >= 2) {
		int cpu[2], n = 0;

		for (int i = 0; i < CPU_SETSIZE && n < 2; i++)
			if (CPU_ISSET(i, &saved))
				cpu[n++] = i;
		CPU_ZERO(&one);
		CPU_SET(cpu[0], &one);
		assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
		CPU_ZERO(&one);
		CPU_SET(cpu[1], &one);
		assert_int_equal(sched_setaffinity(c->pid, sizeof(one), &one), 0);
	}
	for (long end = tracee_now_ms() + 5000; tracee_now_ms() < end && f->sh->sent < 1000;)
		usleep(1000);
	assert_true(f->sh->sent >= 1000);
	for (int i = 0; i < rounds; i++) {
		assert_int_equal(seize_task(c->pid, 0, &st), 0);
		passed += st.thr[0].sigs_passed;
		if (i % 10 == 0) {
			assert_int_equal(rsys_open(c->pid, &r), 0);
			assert_int_equal(rsys0(&r, SYS_getpid), c->pid);
			assert_int_equal(rsys_close(&r), 0);
		}
		assert_int_equal(seize_release(&st, RELEASE_RESUME), 0);
		usleep(100); /* let it run on the other CPU */
	}
	sent = f->sh->sent;
	usleep(20000);
	assert_true(f->sh->sent > sent); /* still running */
	assert_int_equal(kill(c->pid, SIGSTOP), 0);
	assert_true(tracee_wait_state(c->pid, 'T', 2000));
	assert_int_equal(f->sh->lost, 0);
	/* stopped between the handler and sent++ at most */
	assert_in_range(f->sh->handled - f->sh->sent, 0, 1);
	print_message("signals: %ld sent and handled, none lost; %d of %d seizes met a "
		      "signal-delivery-stop\n",
		      (long)f->sh->sent, passed, rounds);
	assert_int_equal(sched_setaffinity(0, sizeof(saved), &saved), 0);
}

/* After rsys_close() the thread may be resumed by any request, not only
 * PTRACE_DETACH: its interrupted read() must restart, not return -ERESTARTSYS. */
static void test_cont_after_session(void **state)
{
	struct fixture *f = *state;
	struct seized_task st;
	struct tracee *c;
	struct rsys r;
	int status;

	NEED_ROOT();
	c = start(f, TRACEE_READER);
	assert_true(tracee_wait_syscall(c->pid, SYS_read, 5000));
	assert_int_equal(seize_task(c->pid, 0, &st), 0);
	assert_int_equal(rsys_open(c->pid, &r), 0);
	assert_int_equal(rsys0(&r, SYS_getpid), c->pid);
	assert_int_equal(rsys_close(&r), 0);
	assert_int_equal(ptrace(PTRACE_CONT, c->pid, 0, 0), 0);
	assert_int_equal(tracee_ask(c, 20, 2000), 1);
	assert_int_equal(ptrace(PTRACE_INTERRUPT, c->pid, 0, 0), 0);
	assert_int_equal(waitpid(c->pid, &status, __WALL), c->pid);
	assert_int_equal(status >> 16, PTRACE_EVENT_STOP);
	assert_int_equal(seize_release(&st, RELEASE_RESUME), 0);
	assert_int_equal(tracee_ask(c, 30, 2000), 1);
}

static void test_threads(void **state)
{
	struct fixture *f = *state;
	struct user_regs_struct before, after;
	struct seized_task st;
	struct tracee *c;
	struct rsys r;

	NEED_ROOT();
	c = start(f, TRACEE_THREADS);
	for (long end = tracee_now_ms() + 5000; tracee_now_ms() < end && !f->sh->worker_tid[1];)
		usleep(1000);
	assert_true(f->sh->worker_tid[1] > 0);
	assert_true(tracee_wait_syscall(f->sh->worker_tid[0], SYS_read, 5000));
	assert_true(tracee_wait_syscall(f->sh->worker_tid[1], SYS_read, 5000));

	assert_int_equal(seize_task(c->pid, 0, &st), 0);
	assert_int_equal(st.nr, 1 + TRACEE_NR_WORKERS);
	for (int i = 0; i < TRACEE_NR_WORKERS; i++) {
		struct seized_thread *t = seize_find(&st, f->sh->worker_tid[i]);

		assert_non_null(t);
		assert_true(t->stopped && t->in_syscall);
		assert_int_equal(t->syscall_nr, SYS_read);
	}
	assert_non_null(seize_find(&st, c->pid));

	pid_t tid = f->sh->worker_tid[1];

	get_regs(tid, &before);
	assert_int_equal(rsys_open(tid, &r), 0);
	assert_int_equal(r.pid, c->pid);
	assert_int_equal(rsys0(&r, SYS_gettid), tid);
	assert_int_equal(rsys0(&r, SYS_getpid), c->pid);
	assert_int_equal(rsys_close(&r), 0);
	get_regs(tid, &after);
	assert_memory_equal(&before, &after, sizeof(before));
	assert_int_equal(seize_release(&st, RELEASE_RESUME), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(tracee_ask(c, 10 * i, 2000), 1);

	assert_int_equal(seize_task(c->pid, 0, &st), 0);
	assert_int_equal(seize_release(&st, RELEASE_KILL), 0);
	assert_int_equal(kill(c->pid, 0), -1);
	assert_int_equal(errno, ESRCH);
}

/* A tracer that exits: without EXITKILL the child goes on, with it the child dies. */
static void test_exitkill(void **state)
{
	struct fixture *f = *state;
	struct tracee *c;
	int status;

	NEED_ROOT();
	c = start(f, TRACEE_READER);
	assert_true(tracee_wait_syscall(c->pid, SYS_read, 5000));
	for (int exitkill = 0; exitkill < 2; exitkill++) {
		pid_t tracer = fork();

		assert_true(tracer >= 0);
		if (tracer == 0) {
			struct seized_task st;

			_exit(seize_task(c->pid, exitkill ? SEIZE_EXITKILL : 0, &st) ? 1 : 0);
		}
		status = reap(tracer);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		if (!exitkill)
			assert_int_equal(tracee_ask(c, 3, 2000), 1);
	}
	status = reap(c->pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
}

static void test_refusals_and_log(void **state)
{
	struct fixture *f = *state;
	struct seized_task st;
	char want[128];
	struct user_regs_struct before, after;
	struct tracee *c, *z;
	uint64_t insn, nx;
	struct rsys r, r2;

	NEED_ROOT();
	assert_int_equal(log_init(f->log, LOG_ERROR), 0);
	z = start(f, TRACEE_ZOMBIE);
	assert_true(tracee_wait_state(z->pid, 'Z', 5000));
	assert_int_equal(seize_task(z->pid, 0, &st), -ESRCH);
	assert_int_equal(st.nr, 0);
	assert_true(utest_log_has(f->log, "is a zombie"));
	assert_int_equal(seize_release(&st, RELEASE_RESUME), 0);
	reap(z->pid);

	c = start(f, TRACEE_READER);
	assert_true(tracee_wait_syscall(c->pid, SYS_read, 5000));
	assert_int_equal(seize_task(c->pid, 0x100, &st), -EINVAL);
	assert_int_equal(seize_task(c->pid, 0, &st), 0);
	/* a second tracer is refused, and its failure path leaves the first one's hold alone */
	struct seized_task st2;

	assert_int_equal(seize_task(c->pid, 0, &st2), -EPERM);
	assert_int_equal(st2.nr, 0);
	assert_true(utest_log_has(f->log, "is traced by pid"));
	assert_int_equal(tracee_state(c->pid), 't');
	assert_int_equal(rsys_open(c->pid, &r), 0);
	insn = r.insn;
	/* a failing call names the syscall, its arguments and the errno */
	assert_int_equal(rsys2(&r, SYS_munmap, 1, 4096), -EINVAL);
	snprintf(want, sizeof(want), "pid %d: remote munmap(1, 4096) failed: %s (errno %d)", c->pid,
		 strerror(EINVAL), EINVAL);
	assert_true(utest_log_has(f->log, want));
	assert_int_equal(rsys_call_quiet(&r, SYS_dup2, 4000, 4001, 0, 0, 0, 0), -EBADF);
	assert_false(utest_log_has(f->log, "dup2("));
	assert_string_equal(rsys_name(SYS_userfaultfd), "userfaultfd");
	assert_int_equal(rsys_close(&r), 0);

	/* the caller's own instruction, and a wrong one */
	assert_int_equal(rsys_open_at(c->pid, insn + 1, &r), -EINVAL);
	assert_int_equal(rsys_open_at(c->pid, insn, &r), 0);
	assert_int_equal(r.insn_src, RSYS_INSN_GIVEN);
	assert_int_equal(rsys0(&r, SYS_getpid), c->pid);
	/* an instruction that cannot run (0f 05 on a non-executable page): the call
	 * fails, the fault is not delivered, and the session still closes cleanly */
	assert_int_equal(rsys_scratch(&r, 4096, &nx), 0);
	assert_int_equal(rsys_write(&r, nx, "\x0f\x05", 2), 0);
	get_regs(c->pid, &before);
	assert_int_equal(rsys_open_at(c->pid, nx, &r2), 0);
	assert_int_equal(rsys0(&r2, SYS_getpid), -EFAULT);
	assert_true(utest_log_has(f->log, "signal 11"));
	assert_int_equal(rsys_close(&r2), 0);
	get_regs(c->pid, &after);
	assert_memory_equal(&before, &after, sizeof(before));
	assert_int_equal(rsys_close(&r), 0);
	assert_int_equal(seize_release(&st, RELEASE_RESUME), 0);
	assert_int_equal(tracee_ask(c, 9, 2000), 1);
	log_fini();
}

/* ---- fixture ------------------------------------------------------------- */

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
	snprintf(f->log, sizeof(f->log), "/tmp/test_rsys.%d.log", getpid());
	*state = f;
	return 0;
}

/* Whatever a failed assertion left behind: kill it, reap it, close it. */
static int teardown(void **state)
{
	struct fixture *f = *state;
	int status;

	for (int i = 0; i < f->nr; i++) {
		kill(f->c[i].pid, SIGCONT);
		kill(f->c[i].pid, SIGKILL);
	}
	while (waitpid(-1, &status, __WALL) > 0)
		;
	for (int i = 0; i < f->nr; i++)
		tracee_close(&f->c[i]);
	log_fini();
	unlink(f->log);
	munmap(f->sh, sizeof(*f->sh));
	free(f);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reader, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sleeper, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spinner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_stopped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_during_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signal_while_seizing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cont_after_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exitkill, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals_and_log, setup, teardown),
	};

	/* TEST_RSYS_DEBUG=1 shows what seize and rsys do */
	log_init(NULL, getenv("TEST_RSYS_DEBUG") ? LOG_DEBUG : LOG_WARN);
	alarm(120); /* a hung ptrace wait must not hang the suite */
	return cmocka_run_group_tests_name("rsys", tests, NULL, NULL);
}
