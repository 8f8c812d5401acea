/* pdeathsig00: the root's parent-death signal is not re-armed at restore.
 * The root's parent is outside the dumped tree; after `restore -d` its parent
 * is the restorer, which exits at once: a re-armed death signal would hit the
 * root then (a SIGKILL one would kill it). The root counts SIGUSR2, its death
 * signal: exactly one arrives, when the test's starter exits after setup (none
 * for the init of a PID namespace, which has no starter), and no other one
 * after restore. A child in the tree keeps its own death signal
 * (SIGUSR1) across checkpoint/restore.
 *
 * No sleep decides the count: every parent of the root that exits (the
 * starter; after `restore -d` the restore command, which is the root's
 * parent) has exited before the runner sends SIGTERM, since the runner waits
 * for it first. The kernel sends a parent-death signal from inside the
 * parent's exit, before the exit is reported to whoever waits for it, so a
 * SIGUSR2 of the root is pending by the time SIGTERM is sent. SIGTERM can
 * only be taken inside the sigsuspend() of test_waitsig(), and SIGUSR2, never
 * blocked, is handled by then or pending with it: the kernel runs both
 * handlers before that sigsuspend() returns. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

static volatile sig_atomic_t usr2;

static void on_usr2(int sig)
{
	(void)sig;
	usr2++;
}

static int get_pdeathsig(void)
{
	int sig = -1;

	if (prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0))
		return -1;
	return sig;
}

static void child(int out)
{
	sigset_t set;
	int s;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	prctl(PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0);
	sigwait(&set, &s); /* the root's go */
	s = get_pdeathsig();
	_exit(write(out, &s, sizeof(s)) == sizeof(s) ? 0 : 2);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_usr2 };
	int p[2], child_sig = -1;
	pid_t kid;

	if (test_init(argc, argv))
		return 1;
	if (pipe(p) || sigaction(SIGUSR2, &sa, NULL) || prctl(PR_SET_PDEATHSIG, SIGUSR2, 0, 0, 0)) {
		fail_errno("setup");
		return 1;
	}
	kid = fork();
	if (kid == 0)
		child(p[1]);
	close(p[1]);
	test_daemon();
	test_waitsig();
	/* usr2 is final here: see the top of the file */
	kill(kid, SIGTERM);
	if (read(p[0], &child_sig, sizeof(child_sig)) != sizeof(child_sig)) {
		fail("no answer from the child");
		return 1;
	}
	waitpid(kid, NULL, 0);
	/* the init of a PID namespace (pidns flavor) has no starter that exits */
	if (usr2 != (getpid() == 1 ? 0 : 1)) {
		fail("the root got its parent-death signal %d times, expected %d (when the "
		     "starter exited): a restore must not re-arm it",
		     (int)usr2, getpid() == 1 ? 0 : 1);
		return 1;
	}
	if (child_sig != SIGUSR1) {
		fail("the child's parent-death signal is %d, expected %d", child_sig, SIGUSR1);
		return 1;
	}
	pass();
	return 0;
}
