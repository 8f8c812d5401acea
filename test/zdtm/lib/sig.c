/* sig: SIGTERM, the runner's "checkpoint/restore done, check now" signal.
 * SIGTERM is blocked from test_init() on and let in only inside sigsuspend(),
 * so it is always taken by the thread in test_waitsig(); a sigsuspend()
 * interrupted by a checkpoint is restarted or returns EINTR, and the loop
 * simply waits again. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>

#include "zdtmtst.h"
#include "lib.h"

/* Set by the handler: only static storage is reachable from there. */
static volatile sig_atomic_t got_sigterm;

static void on_sigterm(int sig)
{
	(void)sig;
	got_sigterm = 1;
}

static void sigterm_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
}

int zdtm_sig_setup(void)
{
	struct sigaction sa = { .sa_handler = on_sigterm, .sa_flags = SA_RESTART };
	sigset_t term;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL)) {
		int e = errno;

		fail_errno("test_init: sigaction(SIGTERM)");
		return -e;
	}
	sigterm_set(&term);
	if (sigprocmask(SIG_BLOCK, &term, NULL)) {
		int e = errno;

		fail_errno("test_init: sigprocmask(SIG_BLOCK, SIGTERM)");
		return -e;
	}
	return 0;
}

void test_waitsig(void)
{
	sigset_t term, cur, wait;

	sigterm_set(&term);
	sigprocmask(SIG_BLOCK, &term, &cur);
	wait = cur;
	sigdelset(&wait, SIGTERM);
	while (!got_sigterm)
		sigsuspend(&wait); /* always -1/EINTR; the flag says why */
	sigprocmask(SIG_SETMASK, &cur, NULL);
}

bool test_go(void)
{
	sigset_t pending;

	if (got_sigterm)
		return false;
	if (sigpending(&pending))
		return true;
	return !sigismember(&pending, SIGTERM);
}
