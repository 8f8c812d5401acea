/* posix_timer02: a POSIX timer aimed at another thread (SIGEV_THREAD_ID to a thread that is not
 * the leader) keeps signalling that thread after checkpoint/restore, and a timer on that thread's
 * CPU clock keeps its clock.
 *
 * A second thread unblocks SIGRTMIN+7 (every other thread blocks it) and sleeps in pause(); its
 * SA_SIGINFO handler checks si_code, si_timerid, si_value and that it runs in that thread. The
 * leader makes TIMER, periodic every PERIOD_MS, aimed at that thread, and CPUT, one shot on the
 * thread's CPU clock (pthread_getcpuclockid), never reached since the thread sleeps. After SIGTERM:
 * /proc/self/timers must be as before (ids, targets, clocks). Then the leader asks the thread
 * (a flag it sees when the next signal ends its pause()) to check TIMER itself: timer_gettime(),
 * in the leader first and then in the thread, must show PERIOD_MS exactly as its interval and a
 * time left of more than 0 and no more than that; the TICKS signals that reach the thread after
 * its read must have the right siginfo and each be stamped no earlier than the expiry it can
 * report (the k-th not before the time left plus k intervals, counted from just before the read).
 * The thread reads the timer itself so that an expiry before the read has been delivered to it when
 * the read returns. How late a signal comes is the scheduler's business on a loaded machine, so
 * nothing is bounded above: a timer that stopped is caught by the runner's time limit. CPUT must
 * show no more than it was armed with, and no less than that minus a second of the thread's CPU
 * time. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PERIOD_MS 100
#define TICKS	  4
#define VALUE	  0x7777
#define CPU_S	  1000
#define MS	  ((int64_t)1000000)
#define NSEC	  ((int64_t)1000000000)

static timer_t timer;
static volatile pid_t worker_tid;
static volatile sig_atomic_t nticks, bad_info;
/* the handler stamps the signals numbered rec_from.. rec_from + TICKS - 1 (CLOCK_MONOTONIC) */
static volatile sig_atomic_t rec_from = -1;
static volatile int64_t tick_ns[TICKS];

/* The leader asks (check_req), the worker answers (check_done, after the fields). */
static volatile int check_req, check_done;
static struct {
	int err;		    /* errno of timer_gettime, 0 if it worked */
	int64_t before, left, ival; /* the read, and the clock just before it */
	int first;		    /* signals before the read */
} seen;

static void on_tick(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si->si_code != SI_TIMER || si->si_timerid != (int)(intptr_t)timer ||
	    si->si_value.sival_int != VALUE || syscall(SYS_gettid) != worker_tid)
		bad_info = 1;
	if (rec_from >= 0 && nticks >= rec_from && nticks - rec_from < TICKS)
		tick_ns[nticks - rec_from] = test_now_ns(CLOCK_MONOTONIC);
	nticks++;
}

/* In the worker: read the timer, then wait for TICKS more signals. */
static void worker_check(const sigset_t *set)
{
	struct itimerspec its;

	seen.before = test_now_ns(CLOCK_MONOTONIC);
	if (timer_gettime(timer, &its)) {
		seen.err = errno;
		return;
	}
	seen.left = test_ts_ns(&its.it_value);
	seen.ival = test_ts_ns(&its.it_interval);
	/* after timer_gettime(): an expiry before it was delivered to this thread on its
	 * return. Blocked while the handler is told where to start, so that no signal falls in
	 * between. */
	pthread_sigmask(SIG_BLOCK, set, NULL);
	seen.first = nticks;
	rec_from = seen.first;
	pthread_sigmask(SIG_UNBLOCK, set, NULL);
	while (nticks < seen.first + TICKS)
		pause(); /* each signal ends it */
}

static void *worker(void *arg)
{
	sigset_t set;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 7);
	worker_tid = (pid_t)syscall(SYS_gettid);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	while (!check_req)
		pause(); /* each signal ends it */
	worker_check(&set);
	__atomic_store_n(&check_done, 1, __ATOMIC_RELEASE);
	for (;;)
		pause();
	return NULL;
}

/* Interval PERIOD_MS exactly, more than 0 and no more than that left. */
static int check_read(const char *who, int64_t left, int64_t ival)
{
	if (ival != PERIOD_MS * MS || left <= 0 || left > ival) {
		fail("the thread's timer, read by %s: %" PRId64 " ns left, interval %" PRId64
		     " ns; expected 1..%" PRId64 " ns left, interval %" PRId64 " ns",
		     who, left, ival, PERIOD_MS * MS, PERIOD_MS * MS);
		return -1;
	}
	return 0;
}

static int check_ticks(void)
{
	const struct timespec step = { 0, 5 * 1000 * 1000 };
	struct itimerspec its;

	/* first here: a timer restored disarmed would never wake the thread to do it */
	if (timer_gettime(timer, &its)) {
		fail_errno("timer_gettime of the thread's timer");
		return -1;
	}
	if (check_read("the leader", test_ts_ns(&its.it_value), test_ts_ns(&its.it_interval)))
		return -1;
	__atomic_store_n(&check_req, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&check_done, __ATOMIC_ACQUIRE))
		nanosleep(&step, NULL);
	if (seen.err) {
		errno = seen.err;
		fail_errno("timer_gettime of the thread's timer, in the thread");
		return -1;
	}
	if (check_read("its thread", seen.left, seen.ival))
		return -1;
	for (int k = 0; k < TICKS; k++) {
		int64_t due = seen.before + seen.left + k * seen.ival;

		if (tick_ns[k] < due) {
			fail("the thread's timer: signal %d after the check came %" PRId64
			     " ns before the expiry it can report at the earliest (%" PRId64
			     " ns left at the check, every %" PRId64 " ns)",
			     k, due - tick_ns[k], seen.left, seen.ival);
			return -1;
		}
	}
	if (bad_info) {
		fail("a timer signal had the wrong si_code, si_timerid or si_value, or reached "
		     "another thread");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct timespec step = { 0, 5 * 1000 * 1000 };
	struct itimerspec its = { { 0, PERIOD_MS * 1000000 }, { 0, PERIOD_MS * 1000000 } };
	struct itimerspec cpu = { { 0, 0 }, { CPU_S, 0 } };
	struct sigevent sev;
	struct sigaction sa;
	char *before, *after;
	clockid_t cpuclock;
	timer_t cput;
	sigset_t set;
	pthread_t th;
	int64_t left;
	size_t len;

	if (test_init(argc, argv))
		return 1;
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 7);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_tick;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	if (sigprocmask(SIG_BLOCK, &set, NULL) || sigaction(SIGRTMIN + 7, &sa, NULL) ||
	    pthread_create(&th, NULL, worker, NULL)) {
		fail_errno("setup: mask, action, thread");
		return 1;
	}
	while (!worker_tid)
		nanosleep(&step, NULL);
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev._sigev_un._tid = worker_tid;
	sev.sigev_signo = SIGRTMIN + 7;
	sev.sigev_value.sival_int = VALUE;
	if (timer_create(CLOCK_MONOTONIC, &sev, &timer) || timer_settime(timer, 0, &its, NULL)) {
		fail_errno("setup: the thread's timer");
		return 1;
	}
	sev.sigev_notify = SIGEV_NONE;
	if (pthread_getcpuclockid(th, &cpuclock) || timer_create(cpuclock, &sev, &cput) ||
	    timer_settime(cput, 0, &cpu, NULL)) {
		fail_errno("setup: the timer on the thread's CPU clock");
		return 1;
	}
	before = test_read_file("/proc/self/timers", &len);
	if (!before) {
		fail_errno("read /proc/self/timers");
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	after = test_read_file("/proc/self/timers", &len);
	if (!after || strcmp(before, after)) {
		fail("/proc/self/timers differs: before \"%s\" after \"%s\"", before,
		     after ? after : "(unreadable)");
		return 1;
	}
	if (check_ticks())
		return 1;
	/* the thread sleeps: it can't have used a second of CPU time */
	if (timer_gettime(cput, &cpu) || (left = test_ts_ns(&cpu.it_value)) > CPU_S * NSEC ||
	    left < (CPU_S - 1) * NSEC || test_ts_ns(&cpu.it_interval)) {
		fail("the timer on the thread's CPU clock shows %lld.%09ld s left, interval "
		     "%lld.%09ld s; expected %d..%d s, none",
		     (long long)cpu.it_value.tv_sec, cpu.it_value.tv_nsec,
		     (long long)cpu.it_interval.tv_sec, cpu.it_interval.tv_nsec, CPU_S - 1, CPU_S);
		return 1;
	}
	free(before);
	free(after);
	pass();
	return 0;
}
