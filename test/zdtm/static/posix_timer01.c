/* posix_timer01: POSIX timers with SIGEV_THREAD_ID and SIGEV_NONE notification, and a one-shot
 * timer whose signal is still pending, survive checkpoint/restore.
 *   THREAD   SIGEV_THREAD_ID to the test's thread, SIGRTMIN+4, every PERIOD_MS: timer_gettime()
 *            must show that interval exactly and a time left of more than 0 and no more than
 *            it; its signals must keep coming to that thread with si_code SI_TIMER, its id and
 *            its si_value, TICKS of them after the check, each stamped no earlier than the
 *            expiry it can report (the k-th not before the time left the check read plus k
 *            intervals, counted from just before that read)
 *   NONE     SIGEV_NONE, CLOCK_MONOTONIC, NONE_MS then every NONE_IVAL_MS: timer_gettime()
 *            must show the interval exactly and a time left no larger than armed and no smaller
 *            than armed minus the time from just before arming to just after the read (ns)
 *   SPENT    SIGEV_NONE, one shot of 1 ms, expired before the checkpoint: stays disarmed
 *   PENDING  SIGEV_SIGNAL, SIGUSR2 (blocked), one shot of 1 ms, expired before the checkpoint:
 *            its signal is pending; after the restore exactly one SIGUSR2 is there, with
 *            si_code SI_TIMER, its id and si_value; then timer_gettime() must read the timer
 *            disarmed (so it can never fire again: a restore that re-armed it would have it
 *            fire twice), and after that read no second SIGUSR2 may be pending (had it fired
 *            again, its signal would be there by then). No sleep decides anything.
 * How late a signal comes is the scheduler's business on a loaded machine, so nothing is
 * bounded above: a timer that stopped is caught by the runner's time limit. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PERIOD_MS    100
#define NONE_MS	     30000
#define NONE_IVAL_MS 5000
#define TICKS	     4
#define THREAD_VAL   0x4444
#define PENDING_VAL  0x5555
#define MS	     ((int64_t)1000000)

static timer_t t_thread, t_none, t_spent, t_pending;
static pid_t tid;
static volatile sig_atomic_t nticks, bad_info;
/* the handler stamps the signals numbered rec_from.. rec_from + TICKS - 1 (CLOCK_MONOTONIC) */
static volatile sig_atomic_t rec_from = -1;
static volatile int64_t tick_ns[TICKS];

static void on_tick(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si->si_code != SI_TIMER || si->si_timerid != (int)(intptr_t)t_thread ||
	    si->si_value.sival_int != THREAD_VAL || syscall(SYS_gettid) != tid)
		bad_info = 1;
	if (rec_from >= 0 && nticks >= rec_from && nticks - rec_from < TICKS)
		tick_ns[nticks - rec_from] = test_now_ns(CLOCK_MONOTONIC);
	nticks++;
}

static int make(timer_t *t, clockid_t clock, int notify, int signo, int val, long long value_ms,
		long long ival_ms)
{
	struct itimerspec its = { { ival_ms / 1000, (ival_ms % 1000) * 1000000 },
				  { value_ms / 1000, (value_ms % 1000) * 1000000 } };
	struct sigevent sev;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = notify;
	sev.sigev_signo = signo;
	sev.sigev_value.sival_int = val;
	if (notify == SIGEV_THREAD_ID)
		sev._sigev_un._tid = tid;
	if (timer_create(clock, &sev, t) || timer_settime(*t, 0, &its, NULL)) {
		fail_errno("timer_create/settime (notify %d, signal %d)", notify, signo);
		return -1;
	}
	return 0;
}

/* timer_gettime() in ns: the time left, and the interval into *ival; -1 if it fails. */
static int64_t gettime_ns(timer_t t, int64_t *ival)
{
	struct itimerspec its;

	if (timer_gettime(t, &its))
		return -1;
	*ival = test_ts_ns(&its.it_interval);
	return test_ts_ns(&its.it_value);
}

static int check_pending(void)
{
	const struct timespec none = { 0, 0 };
	sigset_t set, pend;
	int64_t v, ival;
	siginfo_t si;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	if (sigpending(&pend) || !sigismember(&pend, SIGUSR2)) {
		fail("the expired one-shot timer's SIGUSR2 is no longer pending");
		return -1;
	}
	if (sigtimedwait(&set, &si, &none) != SIGUSR2) {
		fail_errno("sigtimedwait(SIGUSR2)");
		return -1;
	}
	if (si.si_code != SI_TIMER || si.si_timerid != (int)(intptr_t)t_pending ||
	    si.si_value.sival_int != PENDING_VAL) {
		fail("pending SIGUSR2: si_code %d si_timerid %d si_value %#x, expected %d %d %#x",
		     si.si_code, si.si_timerid, si.si_value.sival_int, SI_TIMER,
		     (int)(intptr_t)t_pending, PENDING_VAL);
		return -1;
	}
	/* disarmed now means it will never fire again; fired again before, its signal is
	 * pending by the time of the sigpending() below */
	v = gettime_ns(t_pending, &ival);
	if (v != 0 || ival != 0) {
		fail("the expired one-shot timer shows %" PRId64 " ns left, interval %" PRId64
		     " ns: it is armed again",
		     v, ival);
		return -1;
	}
	if (sigpending(&pend) || sigismember(&pend, SIGUSR2)) {
		fail("a second SIGUSR2 came from the one-shot timer after its pending one");
		return -1;
	}
	return 0;
}

/* The SIGEV_THREAD_ID timer: its interval and time left, then TICKS signals after the check,
 * each stamped no earlier than the expiry it can report. 0, or -1 after fail(). */
static int check_thread(void)
{
	const struct timespec step = { 0, 2 * 1000 * 1000 };
	int64_t before, left, ival;
	sigset_t set, old;
	int first;

	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 4);
	before = test_now_ns(CLOCK_MONOTONIC);
	left = gettime_ns(t_thread, &ival);
	if (left < 0) {
		fail_errno("timer_gettime of the SIGEV_THREAD_ID timer");
		return -1;
	}
	if (ival != PERIOD_MS * MS || left <= 0 || left > ival) {
		fail("SIGEV_THREAD_ID timer: %" PRId64 " ns left, interval %" PRId64
		     " ns; expected 1..%" PRId64 " ns left, interval %" PRId64 " ns",
		     left, ival, PERIOD_MS * MS, PERIOD_MS * MS);
		return -1;
	}
	/* after timer_gettime(): an expiry before it was delivered to this thread on its
	 * return. Blocked while the handler is told where to start, so that no signal falls in
	 * between. */
	sigprocmask(SIG_BLOCK, &set, &old);
	first = nticks;
	rec_from = first;
	sigprocmask(SIG_SETMASK, &old, NULL);
	while (nticks < first + TICKS)
		nanosleep(&step, NULL);
	for (int k = 0; k < TICKS; k++) {
		int64_t due = before + left + k * ival;

		if (tick_ns[k] < due) {
			fail("SIGEV_THREAD_ID timer: signal %d after the check came %" PRId64
			     " ns before the expiry it can report at the earliest (%" PRId64
			     " ns left at the check, every %" PRId64 " ns)",
			     k, due - tick_ns[k], left, ival);
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct timespec step = { 0, 2 * 1000 * 1000 };
	int64_t armed_at, checked_at, v, ival;
	struct sigaction sa;
	sigset_t usr2, pend;

	if (test_init(argc, argv))
		return 1;
	tid = (pid_t)syscall(SYS_gettid);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_tick;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	if (sigaction(SIGRTMIN + 4, &sa, NULL) || sigprocmask(SIG_BLOCK, &usr2, NULL)) {
		fail_errno("sigaction/sigprocmask");
		return 1;
	}
	armed_at = test_now_ns(CLOCK_MONOTONIC);
	if (make(&t_thread, CLOCK_MONOTONIC, SIGEV_THREAD_ID, SIGRTMIN + 4, THREAD_VAL, PERIOD_MS,
		 PERIOD_MS) ||
	    make(&t_none, CLOCK_MONOTONIC, SIGEV_NONE, 0, 0, NONE_MS, NONE_IVAL_MS) ||
	    make(&t_spent, CLOCK_MONOTONIC, SIGEV_NONE, 0, 0, 1, 0) ||
	    make(&t_pending, CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGUSR2, PENDING_VAL, 1, 0))
		return 1;
	/* SPENT was armed before PENDING, for as long: it has expired too once this ends */
	do
		nanosleep(&step, NULL);
	while (!sigpending(&pend) && !sigismember(&pend, SIGUSR2));
	if (test_daemon())
		return 1;
	test_waitsig();

	v = gettime_ns(t_none, &ival);
	checked_at = test_now_ns(CLOCK_MONOTONIC); /* after: the bound below is safe */
	if (v <= 0 || ival != NONE_IVAL_MS * MS || v > NONE_MS * MS ||
	    v < NONE_MS * MS - (checked_at - armed_at)) {
		fail("SIGEV_NONE timer: %" PRId64 " ns left (interval %" PRId64
		     " ns), expected %" PRId64 "..%" PRId64 " ns (interval %" PRId64 " ns)",
		     v, ival, NONE_MS * MS - (checked_at - armed_at), NONE_MS * MS,
		     NONE_IVAL_MS * MS);
		return 1;
	}
	v = gettime_ns(t_spent, &ival);
	if (v != 0 || ival != 0) {
		fail("the expired SIGEV_NONE one-shot timer shows %" PRId64
		     " ns left, interval %" PRId64 " ns",
		     v, ival);
		return 1;
	}
	if (check_pending() || check_thread())
		return 1;
	if (bad_info) {
		fail("a SIGEV_THREAD_ID timer signal had the wrong si_code, si_timerid, si_value "
		     "or thread");
		return 1;
	}
	pass();
	return 0;
}
