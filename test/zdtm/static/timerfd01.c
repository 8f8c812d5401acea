/* timerfd01: absolute timerfds (TFD_TIMER_ABSTIME) survive checkpoint/restore with their
 * deadlines on their clocks, not with the time they had left: after the restore each one's
 * time left is its deadline minus the clock at the timerfd_gettime(): with the clock read just
 * before (t1) and just after (t2) the call, it lies in [deadline - t2, deadline - t1] (0 once
 * the deadline passed), in ns on the timer's own clock, whatever the scheduler does. The upper
 * end allows DUMP_NS more: the kernel shows a dump no deadline, only the time left, and
 * criu-lite places the deadline from the clock read around that, late by at most 100 us and
 * never early (docs/fds.md); a restored deadline a little early fails, as does one off by the
 * time the task was checkpointed (restored relative).
 * "wall": CLOCK_REALTIME, deadline 30 s after setup, one expiry.
 * "cancel": CLOCK_REALTIME with TFD_TIMER_CANCEL_ON_SET, deadline 40 s after setup, then
 * every 5 s; fdinfo keeps "settime flags: 03".
 * "late": CLOCK_REALTIME, every hour from a deadline 6.5 hours before setup: 7 expirations
 * are due and never read; after the restore a read returns exactly 7, and the next expiry
 * is still on the hourly grid of the deadline.
 * "soon": CLOCK_MONOTONIC, deadline 1.2 s after setup: its time left is checked as above, then
 * a blocking read returns 1 no earlier than the deadline (how late is the scheduler's business on
 * a loaded machine, so nothing is bounded above: a timer that never fires is caught by the
 * runner's time limit).
 * "past": CLOCK_BOOTTIME, a deadline already past at setup: fdinfo shows 1 tick, a read
 * returns 1. */
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
#define HOUR (3600 * NSEC)
/* how late criu-lite may place a restored deadline (TIMER_WINDOW_NS of dump-anonfd.c) */
#define DUMP_NS (100 * 1000)

struct ttimer {
	const char *name;
	clockid_t clk;
	int sflags;	/* TFD_TIMER_* */
	int64_t offset; /* deadline - clock at setup */
	int64_t interval;
	const char *shown; /* fdinfo "settime flags" */
	int fd;
	int64_t deadline; /* on clk */
};

static struct ttimer timers[] = {
	{ "wall", CLOCK_REALTIME, TFD_TIMER_ABSTIME, 30 * NSEC, 0, "01", -1, 0 },
	{ "cancel", CLOCK_REALTIME, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, 40 * NSEC,
	  5 * NSEC, "03", -1, 0 },
	{ "late", CLOCK_REALTIME, TFD_TIMER_ABSTIME, -(6 * HOUR + HOUR / 2), HOUR, "01", -1, 0 },
	{ "soon", CLOCK_MONOTONIC, TFD_TIMER_ABSTIME, 1200 * MS, 0, "01", -1, 0 },
	{ "past", CLOCK_BOOTTIME, TFD_TIMER_ABSTIME, -NSEC, 0, "01", -1, 0 },
};

#define NT ((int)(sizeof(timers) / sizeof(timers[0])))

static int setup(void)
{
	for (int i = 0; i < NT; i++) {
		struct ttimer *t = &timers[i];
		struct itimerspec its;

		t->deadline = test_now_ns(t->clk) + t->offset;
		its = (struct itimerspec){ test_ns_ts(t->interval), test_ns_ts(t->deadline) };
		t->fd = timerfd_create(t->clk, TFD_NONBLOCK);
		if (t->fd < 0 || timerfd_settime(t->fd, t->sflags, &its, NULL)) {
			fail_errno("setup: timer \"%s\"", t->name);
			return -1;
		}
	}
	return 0;
}

static int check_fdinfo(const struct ttimer *t)
{
	char clk[16], fl[16];

	if (test_fdinfo_get(t->fd, "clockid", clk, sizeof(clk)) ||
	    test_fdinfo_get(t->fd, "settime flags", fl, sizeof(fl)) || atoi(clk) != (int)t->clk ||
	    strcmp(fl, t->shown)) {
		fail("\"%s\" fd %d: fdinfo clockid %s, settime flags %s; expected %d and %s",
		     t->name, t->fd, clk, fl, (int)t->clk, t->shown);
		return -1;
	}
	return 0;
}

static int64_t max0(int64_t v)
{
	return v > 0 ? v : 0;
}

/* Time left == deadline (the next one on its grid) - the clock at timerfd_gettime(): between
 * next - t2 and next - t1 + DUMP_NS, the clock read on either side of the call (0 when past). */
static int check_left(const struct ttimer *t, int64_t next)
{
	struct itimerspec g;
	int64_t left, t1, t2, lo, hi;

	t1 = test_now_ns(t->clk);
	if (timerfd_gettime(t->fd, &g)) {
		fail_errno("\"%s\": timerfd_gettime", t->name);
		return -1;
	}
	t2 = test_now_ns(t->clk);
	left = test_ts_ns(&g.it_value);
	lo = max0(next - t2);
	hi = max0(next + DUMP_NS - t1);
	if (left < lo || left > hi || test_ts_ns(&g.it_interval) != t->interval) {
		fail("\"%s\": %" PRId64 " ns left, interval %" PRId64 " ns; expected %" PRId64
		     "..%" PRId64 " ns (its absolute deadline minus the clock after the call, and "
		     "before it plus %d ns) and %" PRId64 " ns",
		     t->name, left, test_ts_ns(&g.it_interval), lo, hi, DUMP_NS, t->interval);
		return -1;
	}
	return 0;
}

static int check_late(const struct ttimer *t)
{
	uint64_t v = 0;

	if (read(t->fd, &v, 8) != 8 || v != 7) {
		fail_errno("\"late\": read %" PRIu64 " expirations, expected 7", v);
		return -1;
	}
	return check_left(t, t->deadline + 7 * HOUR);
}

static int check_soon(const struct ttimer *t)
{
	int64_t start, fired;
	uint64_t v = 0;
	int fl = fcntl(t->fd, F_GETFL);

	if (check_left(t, t->deadline))
		return -1;
	start = test_now_ns(t->clk);
	if (fl < 0 || fcntl(t->fd, F_SETFL, fl & ~O_NONBLOCK) || read(t->fd, &v, 8) != 8 ||
	    v != 1) {
		fail_errno("\"soon\": a blocking read gave %" PRIu64 ", expected 1", v);
		return -1;
	}
	fired = test_now_ns(t->clk); /* after the read: the bound below is safe */
	if (fired < t->deadline) {
		fail("\"soon\": a blocking read begun %" PRId64 " ns after its deadline returned "
		     "%" PRId64 " ns before it",
		     start - t->deadline, t->deadline - fired);
		return -1;
	}
	test_msg("\"soon\": the read began %" PRId64 " ns and ended %" PRId64
		 " ns after its deadline\n",
		 start - t->deadline, fired - t->deadline);
	return 0;
}

int main(int argc, char **argv)
{
	char buf[32];
	uint64_t v = 0;

	if (test_init(argc, argv))
		return 1;
	if (setup())
		return 1;
	if (test_daemon())
		return 1;
	test_waitsig();

	for (int i = 0; i < NT; i++)
		if (check_fdinfo(&timers[i]))
			return 1;
	if (test_fdinfo_get(timers[4].fd, "ticks", buf, sizeof(buf)) || strcmp(buf, "1") ||
	    read(timers[4].fd, &v, 8) != 8 || v != 1) {
		fail("\"past\": fdinfo ticks %s, read %" PRIu64 "; expected 1 and 1", buf, v);
		return 1;
	}
	if (check_left(&timers[0], timers[0].deadline) ||
	    check_left(&timers[1], timers[1].deadline) || check_late(&timers[2]))
		return 1;
	if (check_soon(&timers[3]))
		return 1;
	pass();
	return 0;
}
