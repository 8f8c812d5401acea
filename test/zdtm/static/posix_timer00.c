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
 * sleeps) After SIGTERM: /proc/self/timers must list exactly the same timers (id, signal,
 * sigev_value, notification, clock) as before the checkpoint; timer_gettime() the same intervals,
 * remaining times no larger than armed and no smaller than armed minus the time passed; the
 * periodic timer must deliver TICKS more signals PERIOD_MS apart on average, all with the
 * right siginfo. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zdtmtst.h"

#define NTIMERS	  6
#define PERIOD_MS 150
#define LONG_MS	  40000
#define CPU_MS	  50000
#define SLACK_MS  100
#define TICKS	  4
#define MAX_TICKS 256

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
static volatile long long tick_ms[MAX_TICKS];

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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
	if (nticks < MAX_TICKS)
		tick_ms[nticks] = now_ms();
	nticks++;
}

static long long ts_ms(const struct timespec *ts)
{
	return (long long)ts->tv_sec * 1000 + ts->tv_nsec / 1000000;
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

static int check_times(long long elapsed)
{
	for (int k = 0; k < NKEPT; k++) {
		const struct spec *s = &specs[k];
		struct itimerspec its;
		long long v, lo;

		if (timer_gettime(ids[k], &its)) {
			fail_errno("timer_gettime(%s, id %d)", s->name, (int)(intptr_t)ids[k]);
			return -1;
		}
		v = ts_ms(&its.it_value);
		if (ts_ms(&its.it_interval) != s->interval_ms ||
		    its.it_interval.tv_nsec % 1000000) {
			fail("%s: interval %lld.%09ld s, expected %lld ms", s->name,
			     (long long)its.it_interval.tv_sec, its.it_interval.tv_nsec,
			     s->interval_ms);
			return -1;
		}
		if (k == PERIODIC)
			lo = 0;
		else if (k == CPU)
			lo = s->value_ms - 1000; /* the test sleeps: little CPU time */
		else
			lo = s->value_ms - elapsed - 10;
		if (!s->value_ms ? (its.it_value.tv_sec || its.it_value.tv_nsec)
				 : (v > s->value_ms || v < lo ||
				    (!its.it_value.tv_sec && !its.it_value.tv_nsec))) {
			fail("%s: %lld ms left, expected %lld..%lld ms", s->name, v,
			     s->value_ms ? (lo < 0 ? 0 : lo) : 0, s->value_ms);
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct timespec step = { 0, 5 * 1000 * 1000 };
	struct sigaction sa;
	char *before, *after;
	size_t len;
	long long armed_at, checked_at;
	int first;

	if (test_init(argc, argv))
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_tick;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	if (sigaction(signo_of(&specs[PERIODIC]), &sa, NULL)) {
		fail_errno("sigaction");
		return 1;
	}
	armed_at = now_ms();
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

	checked_at = now_ms();
	first = nticks;
	after = test_read_file("/proc/self/timers", &len);
	if (!after) {
		fail_errno("read /proc/self/timers");
		return 1;
	}
	if (strcmp(before, after)) {
		fail("/proc/self/timers differs: before \"%s\" after \"%s\"", before, after);
		return 1;
	}
	if (check_times(checked_at - armed_at))
		return 1;
	while (nticks < first + TICKS &&
	       now_ms() < checked_at + (TICKS + 1) * (PERIOD_MS + SLACK_MS))
		nanosleep(&step, NULL);
	if (nticks < first + TICKS) {
		fail("%d expiries of the periodic timer in %lld ms, expected %d", nticks - first,
		     now_ms() - checked_at, TICKS);
		return 1;
	}
	if (first + TICKS <= MAX_TICKS) {
		/* the mean: one late delivery moves one expiry, not the period */
		long long mean = (tick_ms[first + TICKS - 1] - tick_ms[first]) / (TICKS - 1);

		if (mean < PERIOD_MS - SLACK_MS / 2 || mean > PERIOD_MS + SLACK_MS / 2) {
			fail("expiries %d..%d came %lld ms apart on average, expected %d +- %d ms",
			     first, first + TICKS - 1, mean, PERIOD_MS, SLACK_MS / 2);
			return 1;
		}
	}
	if (bad_info) {
		fail(
		    "a signal of the periodic timer had the wrong si_code, si_timerid or si_value");
		return 1;
	}
	test_msg("%d expiries before the check, ids kept: %s\n", first, after);
	free(before);
	free(after);
	pass();
	return 0;
}
