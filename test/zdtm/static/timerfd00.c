/* timerfd00: relative timerfds survive checkpoint/restore: time left, interval, unread
 * expirations, clock, flags. A relative timer does not count the time the task spent
 * checkpointed, so its time left after the restore lies between what it had at setup minus
 * the time since then, and what it had at setup.
 * "long": CLOCK_MONOTONIC, 60 s then every 7 s, nonblocking: its time left is within those
 * bounds, its interval exactly 7 s, nothing to read.
 * "soon": CLOCK_BOOTTIME, one expiry 1.5 s after setup: it still fires after the restore, not
 * before the time it had left says (a blocking read begun just before the gettime returns 1 no
 * sooner than that time left; how late is the scheduler's business, and a timer that never fires
 * is caught by the time limit).
 * Every bound is taken on the timer's own clock, each "now" read on the side that makes the
 * bound safe: the time of setting before timerfd_settime, the time of checking after
 * timerfd_gettime.
 * "fired": expired once 20 ms after setup, never read: reads 1, then EAGAIN.
 * "fast": every 1 ms, expirations never read: a read returns at least the count fdinfo showed
 * at setup, and no more than that plus one per ms since just before the gettime that counted
 * them (and one for rounding).
 * "idle": not armed, with an interval of 3 s kept: gettime shows 0 and 3 s, not readable. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#define MS   ((int64_t)1000000)
#define NSEC ((int64_t)1000000000)

struct ttimer {
	const char *name;
	clockid_t clk;
	int flags; /* TFD_NONBLOCK, TFD_CLOEXEC */
	int64_t value, interval;
	int fd;
	int64_t set_at; /* its clock, just before timerfd_settime */
};

static struct ttimer timers[] = {
	{ "long", CLOCK_MONOTONIC, TFD_NONBLOCK, 60 * NSEC, 7 * NSEC, -1, 0 },
	{ "soon", CLOCK_BOOTTIME, TFD_CLOEXEC, 1500 * MS, 0, -1, 0 },
	{ "fired", CLOCK_MONOTONIC, TFD_NONBLOCK, 1 * MS, 0, -1, 0 },
	{ "fast", CLOCK_MONOTONIC, TFD_NONBLOCK, 1 * MS, 1 * MS, -1, 0 },
	{ "idle", CLOCK_REALTIME, 0, 0, 3 * NSEC, -1, 0 },
};

#define NT ((int)(sizeof(timers) / sizeof(timers[0])))

static uint64_t fast_ticks; /* "fast": the ticks fdinfo showed at setup */
static int64_t fast_at;	    /* the clock just before the gettime that brought them up to date */

static int setup(void)
{
	struct timespec w = test_ns_ts(20 * MS);
	struct itimerspec g;
	char buf[64];

	for (int i = 0; i < NT; i++) {
		struct ttimer *t = &timers[i];
		struct itimerspec its = { test_ns_ts(t->interval), test_ns_ts(t->value) };

		t->fd = timerfd_create(t->clk, t->flags);
		t->set_at = test_now_ns(t->clk);
		if (t->fd < 0 || timerfd_settime(t->fd, 0, &its, NULL)) {
			fail_errno("setup: timer \"%s\"", t->name);
			return -1;
		}
	}
	nanosleep(&w, NULL);
	/* before the gettime: the bound on expirations since then is safe */
	fast_at = test_now_ns(CLOCK_MONOTONIC);
	/* gettime brings "fast" up to date the way a read would, without reading */
	if (timerfd_gettime(timers[3].fd, &g) ||
	    test_fdinfo_get(timers[3].fd, "ticks", buf, sizeof(buf))) {
		fail_errno("setup: ticks of \"fast\"");
		return -1;
	}
	fast_ticks = strtoull(buf, NULL, 10);
	if (fast_ticks < 10) {
		fail("setup: \"fast\" shows %" PRIu64 " ticks after 20 ms at 1 ms", fast_ticks);
		return -1;
	}
	return 0;
}

static int check_flags(const struct ttimer *t)
{
	int fl = fcntl(t->fd, F_GETFL), fdfl = fcntl(t->fd, F_GETFD);
	bool nb = t->flags & TFD_NONBLOCK, cx = t->flags & TFD_CLOEXEC;
	char buf[32];

	if (fl < 0 || fdfl < 0 || !(fl & O_NONBLOCK) != !nb || !(fdfl & FD_CLOEXEC) != !cx) {
		fail("\"%s\" fd %d: F_GETFL %#o F_GETFD %d, expected %s and %s", t->name, t->fd, fl,
		     fdfl, nb ? "O_NONBLOCK" : "no O_NONBLOCK",
		     cx ? "FD_CLOEXEC" : "no FD_CLOEXEC");
		return -1;
	}
	if (test_fdinfo_get(t->fd, "clockid", buf, sizeof(buf)) || atoi(buf) != (int)t->clk ||
	    test_fdinfo_get(t->fd, "settime flags", buf, sizeof(buf)) || strcmp(buf, "00")) {
		fail(
		    "\"%s\" fd %d: fdinfo clockid/settime flags differ (expected clock %d, flags 00)",
		    t->name, t->fd, (int)t->clk);
		return -1;
	}
	return 0;
}

static short revents(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 ? p.revents : 0;
}

static int check_long(const struct ttimer *t)
{
	int64_t since, left;
	struct itimerspec g;

	if (timerfd_gettime(t->fd, &g)) {
		fail_errno("\"long\": timerfd_gettime");
		return -1;
	}
	since = test_now_ns(t->clk) - t->set_at;
	left = test_ts_ns(&g.it_value);
	if (left > t->value || left < t->value - since ||
	    test_ts_ns(&g.it_interval) != t->interval) {
		fail("\"long\": %" PRId64 " ns left, interval %" PRId64
		     " ns; expected between %" PRId64 " and %" PRId64 " ns left, interval %" PRId64,
		     left, test_ts_ns(&g.it_interval), t->value - since, t->value, t->interval);
		return -1;
	}
	if (revents(t->fd)) {
		fail("\"long\": readable before its first expiry");
		return -1;
	}
	return 0;
}

static int check_soon(const struct ttimer *t)
{
	int64_t since, left, start, took;
	struct itimerspec g;
	uint64_t v = 0;

	start = test_now_ns(t->clk);
	if (timerfd_gettime(t->fd, &g)) {
		fail_errno("\"soon\": timerfd_gettime");
		return -1;
	}
	since = test_now_ns(t->clk) - t->set_at;
	left = test_ts_ns(&g.it_value);
	if (left > t->value || (left && left < t->value - since)) {
		fail("\"soon\": %" PRId64 " ns left, expected at most %" PRId64
		     " and at least %" PRId64,
		     left, t->value, t->value - since);
		return -1;
	}
	if (read(t->fd, &v, 8) != 8 || v != 1) {
		fail_errno("\"soon\": a blocking read gave %" PRIu64 ", expected 1", v);
		return -1;
	}
	took = test_now_ns(t->clk) - start;
	if (took < left) {
		fail("\"soon\": fired %" PRId64 " ns after it showed %" PRId64 " ns left", took,
		     left);
		return -1;
	}
	return 0;
}

static int check_fired(const struct ttimer *t)
{
	uint64_t v = 0;

	if (read(t->fd, &v, 8) != 8 || v != 1) {
		fail_errno("\"fired\": read gave %" PRIu64 ", expected 1 expiry", v);
		return -1;
	}
	errno = 0;
	if (read(t->fd, &v, 8) != -1 || errno != EAGAIN) {
		fail("\"fired\": a second read did not fail with EAGAIN (errno %d)", errno);
		return -1;
	}
	return 0;
}

static int check_fast(const struct ttimer *t)
{
	int64_t since;
	uint64_t v = 0;

	if (read(t->fd, &v, 8) != 8) {
		fail_errno("\"fast\": read");
		return -1;
	}
	since = test_now_ns(CLOCK_MONOTONIC) - fast_at;
	if (v < fast_ticks || v > fast_ticks + (uint64_t)(since / MS) + 2) {
		fail("\"fast\": read %" PRIu64 " expirations, expected from %" PRIu64 " (unread at "
		     "setup) to %" PRIu64 " (one per ms since)",
		     v, fast_ticks, fast_ticks + (uint64_t)(since / MS) + 2);
		return -1;
	}
	return 0;
}

static int check_idle(const struct ttimer *t)
{
	struct itimerspec g;

	if (timerfd_gettime(t->fd, &g) || test_ts_ns(&g.it_value) ||
	    test_ts_ns(&g.it_interval) != t->interval || revents(t->fd)) {
		fail("\"idle\": %" PRId64 " ns left, interval %" PRId64
		     ", readable %d; expected 0, %" PRId64 ", not readable",
		     test_ts_ns(&g.it_value), test_ts_ns(&g.it_interval), !!revents(t->fd),
		     t->interval);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char buf[32];

	if (test_init(argc, argv))
		return 1;
	if (setup())
		return 1;
	if (test_daemon())
		return 1;
	test_waitsig();

	for (int i = 0; i < NT; i++)
		if (check_flags(&timers[i]))
			return 1;
	if (test_fdinfo_get(timers[2].fd, "ticks", buf, sizeof(buf)) || strcmp(buf, "1")) {
		fail("\"fired\": fdinfo shows ticks %s, expected 1", buf);
		return 1;
	}
	if (check_long(&timers[0]) || check_idle(&timers[4]) || check_fired(&timers[2]) ||
	    check_fast(&timers[3]) || check_soon(&timers[1]))
		return 1;
	pass();
	return 0;
}
