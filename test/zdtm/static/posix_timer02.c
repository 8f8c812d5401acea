/* posix_timer02: a POSIX timer aimed at another thread (SIGEV_THREAD_ID to a thread that is not
 * the leader) keeps signalling that thread after checkpoint/restore, and a timer on that thread's
 * CPU clock keeps its clock.
 *
 * A second thread unblocks SIGRTMIN+7 (every other thread blocks it) and sleeps in pause(); its
 * SA_SIGINFO handler checks si_code, si_timerid, si_value and that it runs in that thread. The
 * leader makes TIMER, periodic every PERIOD_MS, aimed at that thread, and CPUT, one shot on the
 * thread's CPU clock (pthread_getcpuclockid), never reached since the thread sleeps. After SIGTERM:
 * /proc/self/timers must be as before (ids, targets, clocks), and TICKS more signals must reach
 * the thread within a second, none with wrong siginfo. */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PERIOD_MS 100
#define TICKS	  4
#define VALUE	  0x7777
#define CPU_S	  1000

static timer_t timer;
static volatile pid_t worker_tid;
static volatile sig_atomic_t nticks, bad_info;

static void on_tick(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si->si_code != SI_TIMER || si->si_timerid != (int)(intptr_t)timer ||
	    si->si_value.sival_int != VALUE || syscall(SYS_gettid) != worker_tid)
		bad_info = 1;
	nticks++;
}

static void *worker(void *arg)
{
	sigset_t set;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 7);
	worker_tid = (pid_t)syscall(SYS_gettid);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	const struct timespec step = { 0, 5 * 1000 * 1000 };
	struct itimerspec its = { { 0, PERIOD_MS * 1000000 }, { 0, PERIOD_MS * 1000000 } };
	struct itimerspec cpu = { { 0, 0 }, { CPU_S, 0 } };
	struct sigevent sev;
	struct sigaction sa;
	char *before, *after;
	clockid_t cpuclock;
	timer_t cput;
	sigset_t set;
	pthread_t th;
	size_t len;
	int first;

	if (test_init(argc, argv))
		return 1;
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 7);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_tick;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	if (sigprocmask(SIG_BLOCK, &set, NULL) || sigaction(SIGRTMIN + 7, &sa, NULL) ||
	    pthread_create(&th, NULL, worker, NULL)) {
		fail_errno("setup: mask, action, thread");
		return 1;
	}
	while (!worker_tid)
		nanosleep(&step, NULL);
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev._sigev_un._tid = worker_tid;
	sev.sigev_signo = SIGRTMIN + 7;
	sev.sigev_value.sival_int = VALUE;
	if (timer_create(CLOCK_MONOTONIC, &sev, &timer) || timer_settime(timer, 0, &its, NULL)) {
		fail_errno("setup: the thread's timer");
		return 1;
	}
	sev.sigev_notify = SIGEV_NONE;
	if (pthread_getcpuclockid(th, &cpuclock) || timer_create(cpuclock, &sev, &cput) ||
	    timer_settime(cput, 0, &cpu, NULL)) {
		fail_errno("setup: the timer on the thread's CPU clock");
		return 1;
	}
	before = test_read_file("/proc/self/timers", &len);
	if (!before) {
		fail_errno("read /proc/self/timers");
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	first = nticks;
	after = test_read_file("/proc/self/timers", &len);
	if (!after || strcmp(before, after)) {
		fail("/proc/self/timers differs: before \"%s\" after \"%s\"", before,
		     after ? after : "(unreadable)");
		return 1;
	}
	for (int i = 0; i < 200 && nticks < first + TICKS; i++)
		nanosleep(&step, NULL);
	if (nticks < first + TICKS) {
		fail("%d signals reached the thread in 1 s after the check, expected %d",
		     nticks - first, TICKS);
		return 1;
	}
	if (bad_info) {
		fail("a timer signal had the wrong si_code, si_timerid or si_value, or reached "
		     "another thread");
		return 1;
	}
	if (timer_gettime(cput, &cpu) || cpu.it_value.tv_sec < CPU_S - 1) {
		fail("the timer on the thread's CPU clock shows %lld s left, expected about %d s",
		     (long long)cpu.it_value.tv_sec, CPU_S);
		return 1;
	}
	free(before);
	free(after);
	pass();
	return 0;
}
