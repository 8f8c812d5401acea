/* itimer02: a periodic ITIMER_REAL whose SIGALRM is pending (blocked) at the checkpoint keeps
 * running after the restore.
 *
 * While its SIGALRM is pending the kernel keeps such a timer off its queue and re-arms it only
 * when the signal is dequeued; getitimer() then shows {0, interval}, which setitimer() would take
 * as "off". The test blocks SIGALRM, arms the timer every INTERVAL_MS and waits until SIGALRM is
 * pending before test_daemon(). After SIGTERM: SIGALRM must still be pending and the interval the
 * same; once SIGALRM is unblocked the handler must run again and again, MIN_TICKS times (how
 * soon is the scheduler's business on a loaded machine; a timer that stopped is caught by the
 * test's time limit). */
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#define INTERVAL_MS 50
#define MIN_TICKS   8

static volatile sig_atomic_t nticks;

static void on_alarm(int sig)
{
	(void)sig;
	nticks++;
}

int main(int argc, char **argv)
{
	const struct timespec step = { 0, 5 * 1000 * 1000 };
	struct itimerval set = { { 0, INTERVAL_MS * 1000 }, { 0, INTERVAL_MS * 1000 } }, now;
	struct sigaction sa;
	sigset_t alrm, pend;

	if (test_init(argc, argv))
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	if (sigaction(SIGALRM, &sa, NULL) || sigprocmask(SIG_BLOCK, &alrm, NULL) ||
	    setitimer(ITIMER_REAL, &set, NULL)) {
		fail_errno("setup: sigaction, sigprocmask, setitimer");
		return 1;
	}
	do
		nanosleep(&step, NULL);
	while (!sigpending(&pend) && !sigismember(&pend, SIGALRM));
	if (test_daemon())
		return 1;
	test_waitsig();

	if (sigpending(&pend) || !sigismember(&pend, SIGALRM)) {
		fail("SIGALRM is no longer pending");
		return 1;
	}
	if (getitimer(ITIMER_REAL, &now) || now.it_interval.tv_sec ||
	    now.it_interval.tv_usec != INTERVAL_MS * 1000) {
		fail("ITIMER_REAL interval is %ld.%06ld s, expected %d ms",
		     (long)now.it_interval.tv_sec, (long)now.it_interval.tv_usec, INTERVAL_MS);
		return 1;
	}
	if (sigprocmask(SIG_UNBLOCK, &alrm, NULL)) {
		fail_errno("unblock SIGALRM");
		return 1;
	}
	while (nticks < MIN_TICKS)
		pause(); /* each SIGALRM ends it */
	test_msg("%d SIGALRM after unblocking it\n", (int)nticks);
	pass();
	return 0;
}
