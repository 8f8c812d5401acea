/* itimer00: a periodic ITIMER_REAL survives checkpoint/restore with its remaining time and its
 * interval, and still fires with that interval.
 *
 * The timer is armed for VALUE_MS with a period of INTERVAL_MS; a SIGALRM handler stamps each
 * expiry (CLOCK_MONOTONIC). After SIGTERM: getitimer() must show the same interval, and a
 * remaining time no larger than what was armed and no smaller than armed minus the time that
 * passed (a restore stops the clock of the timer while the task does not exist, never speeds it
 * up). Then the test waits for TICKS expiries: the first must come when getitimer said, the
 * following INTERVAL_MS apart on average (within SLACK_MS / 2). The runner checkpoints right after
 * test_daemon(); if the first expiry happened before SIGTERM anyway (a very slow run), only the
 * interval and the spacing are checked. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "zdtmtst.h"

#define VALUE_MS    4000
#define INTERVAL_MS 250
#define SLACK_MS    200
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

/* Wait until n expiries were stamped or deadline (ms); 0 when they were. */
static int wait_ticks(int n, long long deadline)
{
	const struct timespec step = { 0, 5 * 1000 * 1000 };

	while (nticks < n && now_ms() < deadline)
		nanosleep(&step, NULL);
	return nticks >= n ? 0 : -1;
}

/* The mean spacing of the TICKS expiries from index from: one late delivery moves a single
 * expiry, not the period. */
static int check_spacing(int from)
{
	int last = from + TICKS - 1 < MAX_TICKS ? from + TICKS - 1 : MAX_TICKS - 1;
	long long mean = (tick_ms[last] - tick_ms[from]) / (last - from);

	if (mean < INTERVAL_MS - SLACK_MS / 2 || mean > INTERVAL_MS + SLACK_MS / 2) {
		fail("expiries %d..%d came %lld ms apart on average, expected %d +- %d ms", from,
		     last, mean, INTERVAL_MS, SLACK_MS / 2);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct itimerval set = { { 0, INTERVAL_MS * 1000 }, { VALUE_MS / 1000, 0 } }, now;
	struct sigaction sa;
	long long armed_at, checked_at, left;
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

	first = nticks;
	checked_at = now_ms();
	if (getitimer(ITIMER_REAL, &now)) {
		fail_errno("getitimer(ITIMER_REAL)");
		return 1;
	}
	if (tv_ms(&now.it_interval) != INTERVAL_MS || now.it_interval.tv_usec % 1000) {
		fail("interval is %ld.%06ld s, expected %d ms", (long)now.it_interval.tv_sec,
		     (long)now.it_interval.tv_usec, INTERVAL_MS);
		return 1;
	}
	left = tv_ms(&now.it_value);
	if (!first) {
		long long lo = VALUE_MS - (checked_at - armed_at) - 10;

		if (left > VALUE_MS || left < lo ||
		    (!now.it_value.tv_sec && !now.it_value.tv_usec)) {
			fail("%lld ms left of %d ms armed %lld ms ago: expected %lld..%d ms", left,
			     VALUE_MS, checked_at - armed_at, lo < 0 ? 0 : lo, VALUE_MS);
			return 1;
		}
		test_msg("%lld ms left of %d ms armed %lld ms ago\n", left, VALUE_MS,
			 checked_at - armed_at);
	} else {
		test_msg("%d expiries before SIGTERM: only the interval is checked\n", first);
	}
	if (wait_ticks(first + TICKS, checked_at + left + TICKS * (INTERVAL_MS + SLACK_MS))) {
		fail("%d expiries in %lld ms after the check, expected %d (%lld ms left, period %d "
		     "ms)",
		     nticks - first, now_ms() - checked_at, TICKS, left, INTERVAL_MS);
		return 1;
	}
	if (!first && (tick_ms[0] < checked_at + left - SLACK_MS ||
		       tick_ms[0] > checked_at + left + SLACK_MS)) {
		fail("the first expiry came %lld ms after the check, getitimer said %lld ms",
		     tick_ms[0] - checked_at, left);
		return 1;
	}
	if (check_spacing(first))
		return 1;
	pass();
	return 0;
}
