/* thread_sigstate00: the per-thread signal and kernel state of three threads survives
 * checkpoint/restore, each thread's its own:
 *   - its blocked mask (rt_sigprocmask) and its private pending signals: queued to it alone with
 *     pthread_sigqueue() (SI_QUEUE, a value each; two instances of one real-time signal) while it
 *     blocks them; after the restore /proc/self/task/TID/status SigPnd shows exactly them, and
 *     sigwaitinfo() takes them in order with their signal, code, value and sender;
 *   - a process-wide pending signal (SIGUSR2, blocked everywhere) stays process-wide (ShdPnd) and
 *     is taken by the main thread with its value at the end;
 *   - its alternate signal stack (address and size of its own), its robust futex list and its
 *     rseq registration (glibc's, per thread: registering it again must fail with EBUSY), and its
 *     clear_child_tid (pthread_join() depends on it: a thread whose clear_child_tid is lost is
 *     never seen exiting, and the test times out).
 * Each thread waits in read() on a pipe of its own, which the main thread writes after SIGTERM.
 * The test is ready once every thread is in read() with its signals pending, however long that
 * takes on a loaded machine (a thread that never gets there is caught by the time limit). */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

#define NTHR	       3
#define MAXSIG	       2
#define SHARED_SIG     SIGUSR2
#define SHARED_VAL     400
#define ORIG_RSEQ_SIZE 32u
#define B(sig)	       (1ull << ((sig)-1))

struct qsig {
	int sig, val;
};

struct thr {
	const char *name;
	struct qsig q[MAXSIG]; /* queued to this thread, in this order */
	int nq;
	size_t ss_size;
	pthread_t th;
	volatile pid_t tid; /* set once set up; -1 on a setup failure */
	int pipe[2];
	uint64_t mask; /* its blocked mask */
	stack_t ss;
	void *robust;
	size_t robust_len;
	char why[512];
};

static struct thr thr[NTHR] = {
	{ .name = "sig-usr1", .q = { { SIGUSR1, 100 } }, .nq = 1, .ss_size = 16384 },
	{ .name = "sig-rt2", .q = { { 36, 200 }, { 36, 201 } }, .nq = 2, .ss_size = 20480 },
	{ .name = "sig-mix", .q = { { SIGWINCH, 300 }, { 39, 301 } }, .nq = 2, .ss_size = 24576 },
};

static uint64_t kernel_mask(void)
{
	uint64_t m = 0;

	syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &m, sizeof(m));
	return m;
}

/* A hex field ("SigPnd", "ShdPnd") of /proc/self/task/TID/status; ~0 if unreadable. */
static uint64_t status_hex(pid_t tid, const char *field)
{
	char path[64], key[16], *st, *p;
	uint64_t v = ~0ull;
	size_t len;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	snprintf(key, sizeof(key), "\n%s:", field);
	st = test_read_file(path, &len);
	if (st && (p = strstr(st, key)))
		v = strtoull(p + strlen(key), NULL, 16);
	free(st);
	return v;
}

static uint64_t private_bits(const struct thr *t)
{
	uint64_t m = 0;

	for (int i = 0; i < t->nq; i++)
		m |= B(t->q[i].sig);
	return m;
}

static bool rseq_registered(void)
{
	struct rseq *rs = (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
	unsigned len = __rseq_size < ORIG_RSEQ_SIZE ? ORIG_RSEQ_SIZE : __rseq_size;

	return syscall(SYS_rseq, rs, len, 0, RSEQ_SIG) == -1 && errno == EBUSY;
}

/* After the wait, in the thread: 0, or -1 with why. */
static int check_thread(struct thr *t)
{
	uint64_t m = kernel_mask(), pnd = status_hex(t->tid, "SigPnd");
	void *robust = NULL;
	size_t robust_len = 0;
	stack_t ss;

	if (gettid() != t->tid) {
		snprintf(t->why, sizeof(t->why), "gettid() is %d, was %d", gettid(), t->tid);
		return -1;
	}
	if (m != t->mask) {
		snprintf(t->why, sizeof(t->why), "signal mask %#llx, expected %#llx",
			 (unsigned long long)m, (unsigned long long)t->mask);
		return -1;
	}
	if (pnd != private_bits(t)) {
		snprintf(t->why, sizeof(t->why), "SigPnd %#llx, expected %#llx (its own signals)",
			 (unsigned long long)pnd, (unsigned long long)private_bits(t));
		return -1;
	}
	if (sigaltstack(NULL, &ss) || ss.ss_sp != t->ss.ss_sp || ss.ss_size != t->ss.ss_size ||
	    ss.ss_flags != t->ss.ss_flags) {
		snprintf(t->why, sizeof(t->why),
			 "alternate stack %p, %zu bytes, flags %#x; expected %p, %zu bytes, %#x",
			 ss.ss_sp, ss.ss_size, ss.ss_flags, t->ss.ss_sp, t->ss.ss_size,
			 t->ss.ss_flags);
		return -1;
	}
	if (syscall(SYS_get_robust_list, 0, &robust, &robust_len) || robust != t->robust ||
	    robust_len != t->robust_len) {
		snprintf(t->why, sizeof(t->why), "robust list %p (%zu), expected %p (%zu)", robust,
			 robust_len, t->robust, t->robust_len);
		return -1;
	}
	if (!rseq_registered()) {
		snprintf(t->why, sizeof(t->why),
			 "its rseq area is not registered as glibc registered it");
		return -1;
	}
	for (int i = 0; i < t->nq; i++) {
		sigset_t one;
		siginfo_t si;

		sigemptyset(&one);
		sigaddset(&one, t->q[i].sig);
		if (sigwaitinfo(&one, &si) != t->q[i].sig || si.si_code != SI_QUEUE ||
		    si.si_value.sival_int != t->q[i].val || si.si_pid != getpid()) {
			snprintf(
			    t->why, sizeof(t->why),
			    "pending signal %d #%d: signo %d code %d value %d pid %d; expected "
			    "%d, SI_QUEUE, %d, %d",
			    t->q[i].sig, i, si.si_signo, si.si_code, si.si_value.sival_int,
			    si.si_pid, t->q[i].sig, t->q[i].val, getpid());
			return -1;
		}
	}
	pnd = status_hex(t->tid, "SigPnd");
	if (pnd) {
		snprintf(t->why, sizeof(t->why), "SigPnd %#llx left after taking its signals",
			 (unsigned long long)pnd);
		return -1;
	}
	return 0;
}

static void *thread_main(void *arg)
{
	struct thr *t = arg;
	sigset_t set;
	char c;

	sigemptyset(&set);
	for (int i = 0; i < t->nq; i++)
		sigaddset(&set, t->q[i].sig);
	t->ss.ss_sp = malloc(t->ss_size);
	t->ss.ss_size = t->ss_size;
	t->ss.ss_flags = 0;
	if (!t->ss.ss_sp || pthread_sigmask(SIG_BLOCK, &set, NULL) || prctl(PR_SET_NAME, t->name) ||
	    sigaltstack(&t->ss, NULL) ||
	    syscall(SYS_get_robust_list, 0, &t->robust, &t->robust_len) || !rseq_registered()) {
		snprintf(t->why, sizeof(t->why), "setup: %s", strerror(errno));
		t->tid = -1;
		return NULL;
	}
	t->mask = kernel_mask();
	t->tid = gettid();
	while (read(t->pipe[0], &c, 1) < 0 && errno == EINTR)
		;
	check_thread(t);
	return NULL;
}

/* Setup: thread t is in read() and its signals are pending. 0, or -1 after fail(). */
static int wait_ready(struct thr *t)
{
	char dir[64];

	while (!t->tid)
		usleep(1000);
	if (t->tid < 0) {
		fail("thread '%s': %s", t->name, t->why);
		return -1;
	}
	for (int i = 0; i < t->nq; i++) {
		union sigval v = { .sival_int = t->q[i].val };

		errno = pthread_sigqueue(t->th, t->q[i].sig, v);
		if (errno) {
			fail_errno("setup: pthread_sigqueue(%s, %d)", t->name, t->q[i].sig);
			return -1;
		}
	}
	snprintf(dir, sizeof(dir), "/proc/self/task/%d", t->tid);
	if (test_wait_syscall(dir, SYS_read, -1)) {
		fail_errno("setup: thread '%s' (tid %d) is not in read()", t->name, t->tid);
		return -1;
	}
	if (status_hex(t->tid, "SigPnd") != private_bits(t)) {
		fail("setup: thread '%s' has SigPnd %#llx, expected %#llx", t->name,
		     (unsigned long long)status_hex(t->tid, "SigPnd"),
		     (unsigned long long)private_bits(t));
		return -1;
	}
	return 0;
}

/* The process-wide signal, still pending and still process-wide, taken with its value. */
static int check_shared(void)
{
	uint64_t shd = status_hex(getpid(), "ShdPnd");
	sigset_t one;
	siginfo_t si;

	if (shd != B(SHARED_SIG)) {
		fail("ShdPnd is %#llx, expected %#llx (SIGUSR2 only)", (unsigned long long)shd,
		     (unsigned long long)B(SHARED_SIG));
		return -1;
	}
	sigemptyset(&one);
	sigaddset(&one, SHARED_SIG);
	if (sigwaitinfo(&one, &si) != SHARED_SIG || si.si_code != SI_QUEUE ||
	    si.si_value.sival_int != SHARED_VAL || si.si_pid != getpid()) {
		fail("process-wide SIGUSR2: signo %d code %d value %d pid %d; expected %d, "
		     "SI_QUEUE, %d, %d",
		     si.si_signo, si.si_code, si.si_value.sival_int, si.si_pid, SHARED_SIG,
		     SHARED_VAL, getpid());
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	union sigval v = { .sival_int = SHARED_VAL };
	sigset_t shared;
	int bad = 0;

	if (test_init(argc, argv))
		return 1;
	sigemptyset(&shared);
	sigaddset(&shared, SHARED_SIG);
	if (sigprocmask(SIG_BLOCK, &shared, NULL)) {
		fail_errno("setup: sigprocmask");
		return 1;
	}
	for (int i = 0; i < NTHR; i++) {
		if (pipe(thr[i].pipe)) {
			fail_errno("setup: pipe");
			return 1;
		}
		errno = pthread_create(&thr[i].th, NULL, thread_main, &thr[i]);
		if (errno) {
			fail_errno("setup: pthread_create of '%s'", thr[i].name);
			return 1;
		}
	}
	for (int i = 0; i < NTHR; i++)
		if (wait_ready(&thr[i]))
			return 1;
	if (sigqueue(getpid(), SHARED_SIG, v)) {
		fail_errno("setup: sigqueue(SIGUSR2)");
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	for (int i = 0; i < NTHR; i++)
		if (write(thr[i].pipe[1], "g", 1) != 1) {
			fail_errno("write to thread '%s'", thr[i].name);
			return 1;
		}
	for (int i = 0; i < NTHR; i++) {
		pthread_join(thr[i].th, NULL);
		if (thr[i].why[0]) {
			fail("thread '%s': %s", thr[i].name, thr[i].why);
			bad++;
		}
	}
	if (bad || check_shared())
		return 1;
	pass();
	return 0;
}
