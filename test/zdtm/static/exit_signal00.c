/* exit_signal00: the signal a child's death sends its parent (clone()'s exit_signal) survives
 * checkpoint/restore. The root clones three children: one whose death sends SIGUSR1 (alive),
 * one whose death sends nothing (alive), and one whose death sent SIGUSR2 and which is a zombie
 * at dump. The root blocks SIGUSR1, SIGUSR2 and SIGCHLD and drains them before the dump.
 * After the restore: /proc/PID/stat shows each child's exit signal; nothing is pending (the
 * zombie's second death during the restore must not show); waitpid() without __WCLONE does not
 * see these "clone" children, with __WCLONE it reaps the zombie with its status; killing the
 * SIGUSR1 child brings SIGUSR1, not SIGCHLD. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#define ZOMBIE_EXIT 9

/* fork() with another exit signal (raw clone: the child only pauses or exits) */
static pid_t clone_with(int exit_signal, bool die)
{
	pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)exit_signal, 0, 0, 0, 0);

	if (pid == 0) {
		if (die)
			syscall(SYS_exit_group, ZOMBIE_EXIT);
		for (;;)
			syscall(SYS_pause);
	}
	return pid;
}

/* Field 38 of /proc/PID/stat. */
static int exit_signal_of(pid_t pid)
{
	char path[64], *buf, *p;
	size_t len;
	int v = -1;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	buf = test_read_file(path, &len);
	if (!buf)
		return -1;
	p = strrchr(buf, ')');
	for (int field = 2; p && field < 38; field++)
		p = strchr(p + 1, ' ');
	if (p)
		v = atoi(p + 1);
	free(buf);
	return v;
}

static void drain(const sigset_t *set)
{
	const struct timespec zero = { 0, 0 };

	while (sigtimedwait(set, NULL, &zero) > 0)
		;
}

int main(int argc, char **argv)
{
	pid_t usr1, none, zombie;
	int want[3] = { SIGUSR1, 0, SIGUSR2 }, status, sig;
	sigset_t set, pend;
	siginfo_t si;

	if (test_init(argc, argv))
		return 1;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	usr1 = clone_with(SIGUSR1, false);
	none = clone_with(0, false);
	zombie = clone_with(SIGUSR2, true);
	if (usr1 < 0 || none < 0 || zombie < 0) {
		fail_errno("setup: clone");
		return 1;
	}
	while (waitid(P_PID, (id_t)zombie, &si, WEXITED | WNOWAIT | __WCLONE))
		if (errno != EINTR) {
			fail_errno("setup: the zombie");
			return 1;
		}
	drain(&set);
	if (test_daemon())
		return 1;
	test_waitsig();

	{
		pid_t kids[3] = { usr1, none, zombie };

		for (int i = 0; i < 3; i++)
			if (exit_signal_of(kids[i]) != want[i])
				fail("child %d: exit signal %d in /proc/%d/stat, expected %d", i,
				     exit_signal_of(kids[i]), kids[i], want[i]);
	}
	if (sigpending(&pend) == 0)
		for (int s = 1; s < 32; s++)
			if (sigismember(&set, s) && sigismember(&pend, s))
				fail("signal %d is pending; nothing was at dump", s);
	if (waitpid(zombie, &status, WNOHANG) != -1 || errno != ECHILD)
		fail("waitpid() without __WCLONE saw the zombie, whose exit signal is not SIGCHLD");
	if (waitpid(zombie, &status, WNOHANG | __WCLONE) != zombie || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != ZOMBIE_EXIT)
		fail("the zombie was not reaped with __WCLONE and exit %d (status %#x)",
		     ZOMBIE_EXIT, status);
	kill(usr1, SIGKILL);
	sig = sigwaitinfo(&set, &si);
	if (sig != SIGUSR1)
		fail("the death of the SIGUSR1 child sent signal %d", sig);
	waitpid(usr1, &status, __WCLONE);
	kill(none, SIGKILL);
	waitpid(none, &status, __WALL);
	pass();
	return 0;
}
