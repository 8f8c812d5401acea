/* posix_timer01: POSIX timers with SIGEV_THREAD_ID and SIGEV_NONE notification, and a one-shot
 * timer whose signal is still pending, survive checkpoint/restore.
 *   THREAD   SIGEV_THREAD_ID to the test's thread, SIGRTMIN+4, every PERIOD_MS; its signals
 *            must keep coming to that thread with si_code SI_TIMER, its id and its si_value
 *   NONE     SIGEV_NONE, CLOCK_MONOTONIC, NONE_MS then every NONE_IVAL_MS: timer_gettime()
 *            must show the interval and a remaining time within bounds
 *   SPENT    SIGEV_NONE, one shot of 1 ms, expired before the checkpoint: stays disarmed
 *   PENDING  SIGEV_SIGNAL, SIGUSR2 (blocked), one shot of 1 ms, expired before the checkpoint:
 *            its signal is pending; after the restore exactly one SIGUSR2 is there, with
 *            si_code SI_TIMER, its id and si_value, and no second one follows (a restore that
 *            re-armed the timer would fire it again). */
#include <errno.h>
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
#define SLACK_MS     100
#define TICKS	     4
#define THREAD_VAL   0x4444
#define PENDING_VAL  0x5555

static timer_t t_thread, t_none, t_spent, t_pending;
static pid_t tid;
static volatile sig_atomic_t nticks, bad_info;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_tick(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si->si_code != SI_TIMER || si->si_timerid != (int)(intptr_t)t_thread ||
	    si->si_value.sival_int != THREAD_VAL || syscall(SYS_gettid) != tid)
		bad_info = 1;
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

static long long gettime_ms(timer_t t, long long *ival)
{
	struct itimerspec its;

	if (timer_gettime(t, &its))
		return -1;
	*ival = (long long)its.it_interval.tv_sec * 1000 + its.it_interval.tv_nsec / 1000000;
	return (long long)its.it_value.tv_sec * 1000 + (its.it_value.tv_nsec + 999999) / 1000000;
}

static int check_pending(void)
{
	const struct timespec none = { 0, 0 }, later = { 0, 300 * 1000 * 1000 };
	sigset_t set, pend;
	long long v, ival;
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
	nanosleep(&later, NULL);
	if (sigpending(&pend) || sigismember(&pend, SIGUSR2)) {
		fail("a second SIGUSR2 came from the one-shot timer after its pending one");
		return -1;
	}
	v = gettime_ms(t_pending, &ival);
	if (v != 0 || ival != 0) {
		fail("the expired one-shot timer shows %lld ms left, interval %lld ms", v, ival);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct timespec step = { 0, 2 * 1000 * 1000 };
	long long armed_at, checked_at, v, ival;
	struct sigaction sa;
	sigset_t usr2, pend;
	int first;

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
	armed_at = now_ms();
	if (make(&t_thread, CLOCK_MONOTONIC, SIGEV_THREAD_ID, SIGRTMIN + 4, THREAD_VAL, PERIOD_MS,
		 PERIOD_MS) ||
	    make(&t_none, CLOCK_MONOTONIC, SIGEV_NONE, 0, 0, NONE_MS, NONE_IVAL_MS) ||
	    make(&t_spent, CLOCK_MONOTONIC, SIGEV_NONE, 0, 0, 1, 0) ||
	    make(&t_pending, CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGUSR2, PENDING_VAL, 1, 0))
		return 1;
	do
		nanosleep(&step, NULL);
	while (!sigpending(&pend) && !sigismember(&pend, SIGUSR2));
	if (test_daemon())
		return 1;
	test_waitsig();

	checked_at = now_ms();
	first = nticks;
	v = gettime_ms(t_none, &ival);
	if (v < 0 || ival != NONE_IVAL_MS || v > NONE_MS ||
	    v < NONE_MS - (checked_at - armed_at) - 10) {
		fail("SIGEV_NONE timer: %lld ms left (interval %lld ms), expected %lld..%d ms "
		     "(interval %d ms)",
		     v, ival, NONE_MS - (checked_at - armed_at), NONE_MS, NONE_IVAL_MS);
		return 1;
	}
	v = gettime_ms(t_spent, &ival);
	if (v != 0 || ival != 0) {
		fail("the expired SIGEV_NONE one-shot timer shows %lld ms left, interval %lld ms",
		     v, ival);
		return 1;
	}
	if (check_pending())
		return 1;
	while (nticks < first + TICKS && now_ms() < checked_at + 1000 + TICKS * PERIOD_MS)
		nanosleep(&step, NULL);
	if (nticks < first + TICKS) {
		fail("%d signals of the SIGEV_THREAD_ID timer in %lld ms, expected %d",
		     nticks - first, now_ms() - checked_at, TICKS);
		return 1;
	}
	if (bad_info) {
		fail("a SIGEV_THREAD_ID timer signal had the wrong si_code, si_timerid, si_value "
		     "or thread");
		return 1;
	}
	pass();
	return 0;
}
