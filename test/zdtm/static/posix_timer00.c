/* posix_timer00: POSIX timers survive checkpoint/restore with their ids, clocks, signals,
 * sigev_values, intervals and remaining times, and a periodic one keeps firing.
 *
 * NTIMERS timers are created and then two of them deleted, so the ids have holes (a restore that
 * hands out ids in sequence without care gets them wrong):
 *   PERIODIC  CLOCK_MONOTONIC, SIGRTMIN+1, every PERIOD_MS; a SA_SIGINFO handler checks each
 *             signal's si_code, si_timerid and si_value and stamps it
 *   LONG      CLOCK_REALTIME, SIGUSR1, one shot in LONG_MS
 *   IDLE      CLOCK_BOOTTIME, SIGUSR2, created but never armed
 *   CPU       CLOCK_PROCESS_CPUTIME_ID, SIGRTMIN+3, one shot in CPU_MS of CPU time (the test
 *             sleeps)
 * After SIGTERM: /proc/self/timers must list exactly the same timers (id, signal, sigev_value,
 * notification, clock) as before the checkpoint, and timer_gettime() the same intervals,
 * exactly, and times left that a restore can give: no larger than armed (a restore stops a
 * timer while the task does not exist, never speeds it up; PERIODIC: more than 0, no more than
 * its interval), and no smaller than armed minus the time from just before arming to just after
 * the timer_gettime() (in ns on CLOCK_MONOTONIC, which a relative CLOCK_REALTIME timer runs on
 * too), or for CPU minus CPU_SLACK_MS of CPU time (CPU time is what the task ran, so a loaded
 * machine does not use it up). Then the periodic timer must deliver TICKS more signals, all
 * with the right siginfo, each stamped no earlier than the expiry it can report: the k-th after
 * the check not before the time left timer_gettime() showed plus k intervals, counted from just
 * before that call (a signal may come late, or expiries merge into one, never early). How late
 * is the scheduler's business on a loaded machine, so nothing is bounded above: a timer that
 * stopped is caught by the runner's time limit. */
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zdtmtst.h"

#define NTIMERS	     6
#define PERIOD_MS    150
#define LONG_MS	     3600000 /* not reached within the time limit: its SIGUSR1 would end the test */
#define CPU_MS	     50000
#define CPU_SLACK_MS 1000 /* CPU time the test, its dump and its restore may use after arming */
#define TICKS	     4
#define MS	     ((int64_t)1000000)

enum { PERIODIC, LONG, IDLE, CPU, NKEPT };

struct spec {
	const char *name;
	clockid_t clock;
	int signo; /* 0: SIGRTMIN + rt */
	int rt;
	uint64_t sival;
	long long value_ms, interval_ms;
};

static const struct spec specs[NKEPT] = {
	[PERIODIC] = { "PERIODIC", CLOCK_MONOTONIC, 0, 1, 0x1111, PERIOD_MS, PERIOD_MS },
	[LONG] = { "LONG", CLOCK_REALTIME, SIGUSR1, 0, 0xdeadbeef12345678ull, LONG_MS, 0 },
	[IDLE] = { "IDLE", CLOCK_BOOTTIME, SIGUSR2, 0, 0x7fffffff, 0, 0 },
	[CPU] = { "CPU", CLOCK_PROCESS_CPUTIME_ID, 0, 3, 42, CPU_MS, 0 },
};

static timer_t ids[NKEPT];
static volatile sig_atomic_t nticks, bad_info;
/* the handler stamps the signals numbered rec_from.. rec_from + TICKS - 1 (CLOCK_MONOTONIC) */
static volatile sig_atomic_t rec_from = -1;
static volatile int64_t tick_ns[TICKS];

static int signo_of(const struct spec *s)
{
	return s->signo ? s->signo : SIGRTMIN + s->rt;
}

static void on_tick(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si->si_code != SI_TIMER || si->si_timerid != (int)(intptr_t)ids[PERIODIC] ||
	    (uint64_t)(uintptr_t)si->si_value.sival_ptr != specs[PERIODIC].sival)
		bad_info = 1;
	if (rec_from >= 0 && nticks >= rec_from && nticks - rec_from < TICKS)
		tick_ns[nticks - rec_from] = test_now_ns(CLOCK_MONOTONIC);
	nticks++;
}

static int make_timers(void)
{
	timer_t all[NTIMERS];
	int keep[NTIMERS] = { PERIODIC, -1, LONG, IDLE, -1, CPU }; /* slot -> kept timer */

	for (int i = 0; i < NTIMERS; i++) {
		const struct spec *s = keep[i] >= 0 ? &specs[keep[i]] : &specs[IDLE];
		struct sigevent sev;

		memset(&sev, 0, sizeof(sev));
		sev.sigev_notify = SIGEV_SIGNAL;
		sev.sigev_signo = signo_of(s);
		sev.sigev_value.sival_ptr = (void *)(uintptr_t)s->sival;
		if (timer_create(s->clock, &sev, &all[i])) {
			fail_errno("timer_create(%s)", s->name);
			return -1;
		}
		if (keep[i] < 0) {
			if (timer_delete(all[i])) {
				fail_errno("timer_delete");
				return -1;
			}
			continue;
		}
		ids[keep[i]] = all[i];
	}
	for (int k = 0; k < NKEPT; k++) {
		const struct spec *s = &specs[k];
		struct itimerspec its = {
			{ s->interval_ms / 1000, (s->interval_ms % 1000) * 1000000 },
			{ s->value_ms / 1000, (s->value_ms % 1000) * 1000000 },
		};

		if (s->value_ms && timer_settime(ids[k], 0, &its, NULL)) {
			fail_errno("timer_settime(%s)", s->name);
			return -1;
		}
	}
	return 0;
}

/* armed_at: CLOCK_MONOTONIC just before the first timer_settime(). */
static int check_times(int64_t armed_at)
{
	for (int k = 0; k < NKEPT; k++) {
		const struct spec *s = &specs[k];
		int64_t v, lo, hi, checked_at;
		struct itimerspec its;

		if (timer_gettime(ids[k], &its)) {
			fail_errno("timer_gettime(%s, id %d)", s->name, (int)(intptr_t)ids[k]);
			return -1;
		}
		checked_at = test_now_ns(CLOCK_MONOTONIC); /* after: the bound below is safe */
		v = test_ts_ns(&its.it_value);
		if (test_ts_ns(&its.it_interval) != s->interval_ms * MS) {
			fail("%s: interval %lld.%09ld s, expected %lld ms", s->name,
			     (long long)its.it_interval.tv_sec, its.it_interval.tv_nsec,
			     s->interval_ms);
			return -1;
		}
		hi = s->value_ms * MS;
		if (!s->value_ms)
			lo = 0; /* never armed: exactly 0 */
		else if (k == PERIODIC)
			lo = 1; /* armed, and its interval is its value */
		else if (k == CPU)
			lo = hi - CPU_SLACK_MS * MS;
		else
			lo = hi - (checked_at - armed_at);
		if (lo < 1 && s->value_ms)
			lo = 1; /* an armed timer shows more than 0 */
		if (v < lo || v > hi) {
			fail("%s: %" PRId64 " ns left, expected %" PRId64 "..%" PRId64 " ns",
			     s->name, v, lo, hi);
			return -1;
		}
	}
	return 0;
}

/* TICKS signals of the periodic timer after the check, each stamped no earlier than the
 * expiry it can report. 0, or -1 after fail(). */
static int check_ticks(void)
{
	const struct timespec step = { 0, 5 * 1000 * 1000 };
	int64_t before, left, ival;
	struct itimerspec its;
	sigset_t set, old;
	int first;

	sigemptyset(&set);
	sigaddset(&set, signo_of(&specs[PERIODIC]));
	before = test_now_ns(CLOCK_MONOTONIC);
	if (timer_gettime(ids[PERIODIC], &its)) {
		fail_errno("timer_gettime(PERIODIC)");
		return -1;
	}
	left = test_ts_ns(&its.it_value);
	ival = test_ts_ns(&its.it_interval);
	/* after timer_gettime(): an expiry before it was delivered on its return. Blocked while
	 * the handler is told where to start, so that no signal falls in between. */
	sigprocmask(SIG_BLOCK, &set, &old);
	first = nticks;
	rec_from = first;
	sigprocmask(SIG_SETMASK, &old, NULL);
	while (nticks < first + TICKS)
		nanosleep(&step, NULL);
	for (int k = 0; k < TICKS; k++) {
		int64_t due = before + left + k * ival;

		if (tick_ns[k] < due) {
			fail("periodic timer: signal %d after the check came %" PRId64
			     " ns before the expiry it can report at the earliest (%" PRId64
			     " ns left at the check, every %" PRId64 " ns)",
			     k, due - tick_ns[k], left, ival);
			return -1;
		}
	}
	test_msg("%d expiries before the check; the next %d came %" PRId64 "..%" PRId64
		 " ns after their earliest\n",
		 first, TICKS, tick_ns[0] - before - left,
		 tick_ns[TICKS - 1] - before - left - (TICKS - 1) * ival);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	char *before, *after;
	size_t len;
	int64_t armed_at;

	if (test_init(argc, argv))
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_tick;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	if (sigaction(signo_of(&specs[PERIODIC]), &sa, NULL)) {
		fail_errno("sigaction");
		return 1;
	}
	armed_at = test_now_ns(CLOCK_MONOTONIC);
	if (make_timers())
		return 1;
	before = test_read_file("/proc/self/timers", &len);
	if (!before) {
		fail_errno("read /proc/self/timers");
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	after = test_read_file("/proc/self/timers", &len);
	if (!after) {
		fail_errno("read /proc/self/timers");
		return 1;
	}
	if (strcmp(before, after)) {
		fail("/proc/self/timers differs: before \"%s\" after \"%s\"", before, after);
		return 1;
	}
	if (check_times(armed_at) || check_ticks())
		return 1;
	if (bad_info) {
		fail(
		    "a signal of the periodic timer had the wrong si_code, si_timerid or si_value");
		return 1;
	}
	test_msg("ids kept: %s\n", after);
	free(before);
	free(after);
	pass();
	return 0;
}
