/* nanosleep00: a nanosleep() interrupted by the checkpoint completes
 * correctly after the restore: it sleeps its full time (CLOCK_MONOTONIC,
 * dump and restore included) and fails only with EINTR, with a remaining
 * time no larger than asked, which the loop sleeps again. From
 * test_daemon() on the test sleeps in rounds of SLEEP_S seconds, each
 * checked, until SIGTERM is pending (it stays blocked meanwhile and is
 * taken by test_waitsig() afterwards): whenever the runner gets to dump
 * it, however late on a loaded machine, the test is inside nanosleep()
 * (but for the few instructions between two rounds). A restored task has a
 * start time of its own (/proc/self/stat), read before and after each
 * round: the test says in which round the restore came, or that it came
 * between two rounds (then no sleep was interrupted, and it says so). A
 * sleep that never ends (a garbage restart) shows as the runner's
 * timeout. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zdtmtst.h"

#define SLEEP_S 2

static long long ns(const struct timespec *t)
{
	return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

/* Field 22 of /proc/self/stat, the start time: 0 if it can't be read. */
static unsigned long long start_time(void)
{
	size_t len;
	char *buf = test_read_file("/proc/self/stat", &len), *p;
	unsigned long long t = 0;

	p = buf ? strrchr(buf, ')') : NULL; /* comm may hold blanks */
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (p)
		t = strtoull(p + 1, NULL, 10);
	free(buf);
	return t;
}

/* Sleep SLEEP_S seconds in relative nanosleep()s; 0, or -1 after fail(). */
static int sleep_all(int *eintrs)
{
	struct timespec req = { SLEEP_S, 0 }, rem;

	for (;;) {
		rem.tv_sec = -1; /* nanosleep must fill it on EINTR */
		if (nanosleep(&req, &rem) == 0)
			return 0;
		if (errno != EINTR) {
			fail_errno("nanosleep(%lld ns)", ns(&req));
			return -1;
		}
		if (rem.tv_sec < 0 || rem.tv_nsec < 0 || rem.tv_nsec >= 1000000000L ||
		    ns(&rem) > ns(&req)) {
			fail("nanosleep(%lld ns) failed with EINTR and remaining %lld.%09ld s: "
			     "expected 0..%lld ns",
			     ns(&req), (long long)rem.tv_sec, rem.tv_nsec, ns(&req));
			return -1;
		}
		(*eintrs)++;
		req = rem;
	}
}

int main(int argc, char **argv)
{
	unsigned long long st0, pre, post;
	struct timespec t0, t1;
	int round, eintrs;
	long long slept;

	if (test_init(argc, argv))
		return 1;
	st0 = post = start_time();
	if (!st0) {
		fail_errno("setup: the start time in /proc/self/stat");
		return 1;
	}
	if (test_daemon())
		return 1;
	for (round = 0; test_go(); round++) {
		pre = start_time();
		eintrs = 0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (sleep_all(&eintrs))
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		slept = ns(&t1) - ns(&t0);
		if (pre != post)
			test_msg("restored before round %d began: no sleep was interrupted\n",
				 round);
		post = start_time();
		if (post != pre)
			test_msg("restored in round %d: slept %lld ns, %d EINTR(s) on the way\n",
				 round, slept, eintrs);
		if (slept < SLEEP_S * 1000000000LL) {
			fail("nanosleep loop of round %d returned after %lld ns, expected at least "
			     "%d s",
			     round, slept, SLEEP_S);
			return 1;
		}
	}
	test_waitsig();

	if (post == st0)
		test_msg("not restored (%d rounds): the start time is the one of setup\n", round);
	pass();
	return 0;
}
