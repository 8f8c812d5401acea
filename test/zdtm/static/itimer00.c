/* itimer00: a periodic ITIMER_REAL survives checkpoint/restore with its remaining time and its
 * interval, and still fires with that interval.
 *
 * The timer is armed for VALUE_MS with a period of INTERVAL_MS; a SIGALRM handler stamps each
 * expiry (CLOCK_MONOTONIC). After SIGTERM: getitimer() must show the same interval, and a
 * remaining time no larger than what was armed and no smaller than armed minus the time that
 * passed (a restore stops the clock of the timer while the task does not exist, never speeds it
 * up). Then the test waits for TICKS expiries, each stamped no earlier than the expiry it
 * reports could have happened: the k-th after the check not before getitimer's time left plus k - 1
 * intervals (a signal can be delivered late, or two expiries merge into one signal, never
 * early). How late is the scheduler's business on a loaded machine, so nothing is bounded
 * above: a timer that stopped is caught by the test's time limit. Each "now" is read on the side
 * of the syscall that makes its bound safe. The runner checkpoints right after test_daemon(); if
 * the first expiry happened before SIGTERM anyway (a very slow run), only the interval and the
 * spacing are checked. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "zdtmtst.h"

#define VALUE_MS    4000
#define INTERVAL_MS 250
#define ROUND_MS    2 /* stamps and getitimer are in whole ms: a bound may be off by this */
#define TICKS	    4
#define MAX_TICKS   64

static volatile sig_atomic_t nticks;
static volatile long long tick_ms[MAX_TICKS];

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_alarm(int sig)
{
	(void)sig;
	if (nticks < MAX_TICKS)
		tick_ms[nticks] = now_ms();
	nticks++;
}

static long long tv_ms(const struct timeval *tv)
{
	return (long long)tv->tv_sec * 1000 + tv->tv_usec / 1000;
}

/* Wait until n expiries were stamped. */
static void wait_ticks(int n)
{
	const struct timespec step = { 0, 5 * 1000 * 1000 };

	while (nticks < n)
		nanosleep(&step, NULL);
}

/* The TICKS expiries stamped from index from on, the first due at next (ms): the k-th (from 0)
 * can't be stamped before next + k intervals. */
static int check_spacing(int from, long long next)
{
	for (int k = 0; k < TICKS && from + k < MAX_TICKS; k++)
		if (tick_ms[from + k] < next + (long long)k * INTERVAL_MS - ROUND_MS) {
			fail(
			    "expiry %d after the check was stamped %lld ms after it, at least %lld "
			    "expected (%lld ms left, every %d ms)",
			    k, tick_ms[from + k] - next, (long long)k * INTERVAL_MS, next,
			    INTERVAL_MS);
			return -1;
		}
	return 0;
}

int main(int argc, char **argv)
{
	struct itimerval set = { { 0, INTERVAL_MS * 1000 }, { VALUE_MS / 1000, 0 } }, now;
	struct sigaction sa;
	long long armed_at, before, checked_at, left;
	int first;

	if (test_init(argc, argv))
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGALRM, &sa, NULL)) {
		fail_errno("sigaction(SIGALRM)");
		return 1;
	}
	armed_at = now_ms();
	if (setitimer(ITIMER_REAL, &set, NULL)) {
		fail_errno("setitimer(ITIMER_REAL)");
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	before = now_ms();
	if (getitimer(ITIMER_REAL, &now)) {
		fail_errno("getitimer(ITIMER_REAL)");
		return 1;
	}
	/* after getitimer(): an expiry before it was delivered on its return */
	first = nticks;
	if (tv_ms(&now.it_interval) != INTERVAL_MS || now.it_interval.tv_usec % 1000) {
		fail("interval is %ld.%06ld s, expected %d ms", (long)now.it_interval.tv_sec,
		     (long)now.it_interval.tv_usec, INTERVAL_MS);
		return 1;
	}
	checked_at = now_ms();
	left = tv_ms(&now.it_value);
	if (!first) {
		long long lo = VALUE_MS - (checked_at - armed_at) - ROUND_MS;

		if (left > VALUE_MS || left < lo ||
		    (!now.it_value.tv_sec && !now.it_value.tv_usec)) {
			fail("%lld ms left of %d ms armed %lld ms ago: expected %lld..%d ms", left,
			     VALUE_MS, checked_at - armed_at, lo < 0 ? 0 : lo, VALUE_MS);
			return 1;
		}
		test_msg("%lld ms left of %d ms armed %lld ms ago\n", left, VALUE_MS,
			 checked_at - armed_at);
	} else {
		test_msg(
		    "%d expiries before SIGTERM: the time left at the check is not compared with the armed value\n",
		    first);
	}
	wait_ticks(first + TICKS);
	if (check_spacing(first, before + left))
		return 1;
	pass();
	return 0;
}
