/* itimer01: ITIMER_VIRTUAL and ITIMER_PROF (timers of the process's CPU time) survive
 * checkpoint/restore armed, with their intervals and plausible remaining times, and ITIMER_PROF
 * still fires.
 *
 * The test sleeps between arming and SIGTERM, so it uses almost no CPU time: the remaining times
 * must be at most what getitimer() showed right after arming (the kernel adds a scheduler tick to
 * a CPU timer when it is armed: a restore must not add another) and at least that minus
 * CPU_SLACK_MS (the CPU time a restore spends inside the new task after arming the timers is
 * small). ITIMER_VIRTUAL is long and only
 * checked; ITIMER_PROF is short: after the checks the test burns CPU until it has seen PROF_TICKS
 * SIGPROFs.
 *
 * Every bound is on CPU time, which a task only gets while it runs: a loaded machine delays the
 * test but does not use up its timers, so no bound depends on how the scheduler treats it. The
 * burn has no limit of its own all the same: the kernel charges CPU timers by whole scheduler
 * ticks, to whatever runs when a tick comes, so how much CPU time (as CLOCK_PROCESS_CPUTIME_ID
 * counts it) passes before PROF_TICKS SIGPROFs is a matter of sampling, not a bound; a timer that
 * never fires is caught by the runner's time limit. */
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "zdtmtst.h"

#define VIRT_VALUE_MS	 90000
#define VIRT_INTERVAL_MS 7000
#define PROF_VALUE_MS	 300
#define PROF_INTERVAL_MS 200
#define CPU_SLACK_MS	 200
#define TICK_SLACK_US	 500 /* the restore measures the tick it compensates for */
#define PROF_TICKS	 3

static volatile sig_atomic_t nprof;

static void on_prof(int sig)
{
	(void)sig;
	nprof++;
}

static long long tv_us(const struct timeval *tv)
{
	return (long long)tv->tv_sec * 1000000 + tv->tv_usec;
}

static long long cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What getitimer() showed right after arming: the armed value plus one tick. */
static long long armed_us[3];

static int check(int which, const char *name, long long value_ms, long long interval_ms)
{
	struct itimerval now;
	long long v, lo, hi = armed_us[which] + TICK_SLACK_US;

	if (getitimer(which, &now)) {
		fail_errno("getitimer(%s)", name);
		return -1;
	}
	if (tv_us(&now.it_interval) != interval_ms * 1000) {
		fail("%s: interval is %lld us, expected %lld us", name, tv_us(&now.it_interval),
		     interval_ms * 1000);
		return -1;
	}
	v = tv_us(&now.it_value);
	lo = armed_us[which] - CPU_SLACK_MS * 1000;
	if (v <= 0 || v > hi || v < lo) {
		fail(
		    "%s: %lld us left, expected %lld..%lld us (armed %lld ms, read back as %lld us; "
		    "the test sleeps)",
		    name, v, lo < 1 ? 1 : lo, hi, value_ms, armed_us[which]);
		return -1;
	}
	test_msg("%s: %lld us left of %lld ms, interval %lld ms\n", name, v, value_ms, interval_ms);
	return 0;
}

int main(int argc, char **argv)
{
	struct itimerval virt = { { VIRT_INTERVAL_MS / 1000, 0 }, { VIRT_VALUE_MS / 1000, 0 } };
	struct itimerval prof = { { 0, PROF_INTERVAL_MS * 1000 }, { 0, PROF_VALUE_MS * 1000 } };
	struct sigaction sa;
	long long start;
	volatile unsigned long spin = 0;

	if (test_init(argc, argv))
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_prof;
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGPROF, &sa, NULL)) {
		fail_errno("sigaction(SIGPROF)");
		return 1;
	}
	if (setitimer(ITIMER_VIRTUAL, &virt, NULL) || setitimer(ITIMER_PROF, &prof, NULL)) {
		fail_errno("setitimer");
		return 1;
	}
	for (int which = ITIMER_VIRTUAL; which <= ITIMER_PROF; which++) {
		struct itimerval now;

		if (getitimer(which, &now)) {
			fail_errno("getitimer(%d)", which);
			return 1;
		}
		armed_us[which] = tv_us(&now.it_value);
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	if (nprof) {
		fail("%d SIGPROF before the check: the test did not use %d ms of CPU time",
		     (int)nprof, PROF_VALUE_MS);
		return 1;
	}
	if (check(ITIMER_VIRTUAL, "ITIMER_VIRTUAL", VIRT_VALUE_MS, VIRT_INTERVAL_MS) ||
	    check(ITIMER_PROF, "ITIMER_PROF", PROF_VALUE_MS, PROF_INTERVAL_MS))
		return 1;
	start = cpu_ms();
	while (nprof < PROF_TICKS)
		spin++;
	test_msg("%d SIGPROF in %lld ms of CPU time\n", (int)nprof, cpu_ms() - start);
	pass();
	return 0;
}
