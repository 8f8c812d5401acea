/* vdso00: the vDSO survives checkpoint/restore and still tells the time: it
 * is at the same address (AT_SYSINFO_EHDR and the [vdso] line of
 * /proc/self/maps, unchanged), and for each clock the vDSO's
 * clock_gettime() (and gettimeofday()) brackets the real system call's
 * answer (vdso <= syscall <= vdso): a stale or misplaced vvar page gives
 * old or frozen times. Monotonic clocks have not gone back since before the
 * checkpoint, the vDSO time advances across a 20 ms sleep, and time(2)
 * lies between the vDSO's CLOCK_REALTIME read just before it, less a second
 * (time(2) reads the coarse clock of the last tick), and the one read just
 * after it: no bound depends on how soon the test runs again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

static const struct clk {
	clockid_t id;
	const char *name;
	int monotonic;
} clocks[] = {
	{ CLOCK_REALTIME, "REALTIME", 0 },
	{ CLOCK_MONOTONIC, "MONOTONIC", 1 },
	{ CLOCK_MONOTONIC_RAW, "MONOTONIC_RAW", 1 },
	{ CLOCK_BOOTTIME, "BOOTTIME", 1 },
	{ CLOCK_TAI, "TAI", 0 },
	{ CLOCK_REALTIME_COARSE, "REALTIME_COARSE", 0 },
	{ CLOCK_MONOTONIC_COARSE, "MONOTONIC_COARSE", 1 },
};

#define NCLOCKS ((int)(sizeof(clocks) / sizeof(clocks[0])))

static long long ns(const struct timespec *t)
{
	return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

/* vDSO, syscall, vDSO: the syscall's time must lie between the two. */
static int bracket(const struct clk *c, long long *now)
{
	struct timespec a, s, b;

	if (clock_gettime(c->id, &a) || syscall(SYS_clock_gettime, c->id, &s) ||
	    clock_gettime(c->id, &b)) {
		fail_errno("clock_gettime(%s)", c->name);
		return -1;
	}
	if (ns(&a) > ns(&s) || ns(&s) > ns(&b)) {
		fail("CLOCK_%s: vDSO %lld, syscall %lld, vDSO %lld: the vDSO's time is off by "
		     "%+lld ns",
		     c->name, ns(&a), ns(&s), ns(&b), ns(&a) - ns(&s));
		return -1;
	}
	*now = ns(&s);
	return 0;
}

static int check_gettimeofday(void)
{
	struct timeval a, s, b;

	if (gettimeofday(&a, NULL) || syscall(SYS_gettimeofday, &s, NULL) ||
	    gettimeofday(&b, NULL)) {
		fail_errno("gettimeofday");
		return -1;
	}
	if (timercmp(&a, &s, >) || timercmp(&s, &b, >)) {
		fail("gettimeofday: vDSO %ld.%06ld, syscall %ld.%06ld, vDSO %ld.%06ld", a.tv_sec,
		     a.tv_usec, s.tv_sec, s.tv_usec, b.tv_sec, b.tv_usec);
		return -1;
	}
	return 0;
}

/* Every clock against the syscall; now[] gets the times. */
static int check_clocks(long long *now)
{
	struct timespec rt0, rt, t0, t1, nap = { 0, 20 * 1000 * 1000 };
	long secs;

	for (int i = 0; i < NCLOCKS; i++) {
		if (bracket(&clocks[i], &now[i]))
			return -1;
	}
	if (check_gettimeofday())
		return -1;
	clock_gettime(CLOCK_REALTIME, &rt0);
	secs = (long)syscall(SYS_time, NULL);
	clock_gettime(CLOCK_REALTIME, &rt);
	if (secs < (long)rt0.tv_sec - 1 || secs > (long)rt.tv_sec) {
		fail(
		    "time(2) says %ld s; CLOCK_REALTIME was %ld s just before and %ld s just after",
		    secs, (long)rt0.tv_sec, (long)rt.tv_sec);
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	nanosleep(&nap, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (ns(&t1) - ns(&t0) < ns(&nap)) {
		fail("the vDSO's CLOCK_MONOTONIC advanced %lld ns across a %lld ns sleep",
		     ns(&t1) - ns(&t0), ns(&nap));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long ehdr = getauxval(AT_SYSINFO_EHDR), start = 0;
	long long was[NCLOCKS], now[NCLOCKS];
	char before[256], after[256];

	if (test_init(argc, argv))
		return 1;
	if (!ehdr) {
		skip("no vDSO (AT_SYSINFO_EHDR is 0)");
		return 0;
	}
	if (test_maps_line(" [vdso]", before, sizeof(before))) {
		fail_errno("setup: no [vdso] line in /proc/self/maps");
		return 1;
	}
	if (check_clocks(was))
		return 1;
	if (test_daemon())
		return 1;
	test_waitsig();

	if (getauxval(AT_SYSINFO_EHDR) != ehdr) {
		fail("AT_SYSINFO_EHDR is %#lx, was %#lx", getauxval(AT_SYSINFO_EHDR), ehdr);
		return 1;
	}
	if (test_maps_line(" [vdso]", after, sizeof(after))) {
		fail_errno("no [vdso] line in /proc/self/maps");
		return 1;
	}
	if (strcmp(before, after) || sscanf(after, "%lx-", &start) != 1 || start != ehdr) {
		fail("[vdso] is '%s', expected '%s' at AT_SYSINFO_EHDR %#lx", after, before, ehdr);
		return 1;
	}
	if (check_clocks(now))
		return 1;
	for (int i = 0; i < NCLOCKS; i++) {
		if (clocks[i].monotonic && now[i] < was[i]) {
			fail("CLOCK_%s went back: %lld ns, before the checkpoint %lld ns",
			     clocks[i].name, now[i], was[i]);
			return 1;
		}
	}
	pass();
	return 0;
}
