/* sud00: a thread with syscall user dispatch on (PR_SET_SYSCALL_USER_DISPATCH) is refused by the
 * dump, naming it, and left running as it was: the restore could not set it again and the dump's
 * own remote calls would be dispatched to the task's SIGSYS handler. The selector byte allows
 * every syscall, so the test runs normally; after SIGTERM it checks that a blocked selector still
 * makes a syscall raise SIGSYS (dispatch is still on). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#define PR_SYS_DISPATCH_ON	     1
#endif
#define SELECTOR_ALLOW 0
#define SELECTOR_BLOCK 1

static volatile char selector = SELECTOR_ALLOW;
static volatile sig_atomic_t got_sigsys;

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	selector = SELECTOR_ALLOW; /* before anything else makes a syscall */
	got_sigsys = 1;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };

	if (test_init(argc, argv))
		return 1;
	if (sigaction(SIGSYS, &sa, NULL)) {
		fail_errno("setup: sigaction");
		return 1;
	}
	if (prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, 0, 0, &selector)) {
		skip("PR_SET_SYSCALL_USER_DISPATCH: %s", strerror(errno));
		return 0;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	selector = SELECTOR_BLOCK;
	syscall(SYS_getppid);
	selector = SELECTOR_ALLOW;
	if (!got_sigsys)
		fail("syscall user dispatch is off: a blocked syscall raised no SIGSYS");
	pass();
	return 0;
}
