/* nanosleep00: a nanosleep() interrupted by the checkpoint completes
 * correctly after the restore: it sleeps its full time (CLOCK_MONOTONIC,
 * dump and restore included) and fails only with EINTR, with a remaining
 * time no larger than asked, which the loop sleeps again. The test sleeps
 * right after test_daemon(), so it is inside nanosleep() when the runner
 * checkpoints it (the runner dumps as soon as the pidfile appears: the
 * assumption is that dumping starts within SLEEP_S seconds). SIGTERM stays
 * blocked meanwhile and is taken by test_waitsig() afterwards. A sleep that
 * never ends (a garbage restart) shows as the runner's timeout. */
#include <errno.h>
#include <time.h>

#include "zdtmtst.h"

#define SLEEP_S 3

static long long ns(const struct timespec *t)
{
	return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
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
	struct timespec t0, t1;
	long long slept;
	int eintrs = 0;

	if (test_init(argc, argv))
		return 1;
	if (test_daemon())
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (sleep_all(&eintrs))
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	test_waitsig();

	slept = ns(&t1) - ns(&t0);
	test_msg("slept %lld ns in all, %d EINTR(s) on the way", slept, eintrs);
	if (slept < SLEEP_S * 1000000000LL) {
		fail("nanosleep loop returned after %lld ns, expected at least %d s", slept,
		     SLEEP_S);
		return 1;
	}
	pass();
	return 0;
}
