/* zombie_sess00: a zombie in a session whose leader is gone makes the dump fail, naming it (a
 * session can only be made by its leader, and restore can't stand in for one), and the tree
 * goes on as it was. The root is a child subreaper; its child X starts a session, forks Y and
 * exits (the root reaps it); Y, reparented to the root, exits too: a zombie of the root in X's
 * session. After SIGTERM the root reaps Y with the status it exited with. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define Y_EXIT 17

int main(int argc, char **argv)
{
	int p[2], status;
	siginfo_t si;
	pid_t x, y;

	if (test_init(argc, argv))
		return 1;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) || pipe(p)) {
		fail_errno("setup: subreaper");
		return 1;
	}
	x = fork();
	if (x == 0) {
		int gone[2];

		close(p[0]);
		if (setsid() < 0 || pipe(gone))
			_exit(1);
		y = fork();
		if (y == 0) {
			char c;

			close(p[1]);
			close(gone[1]);
			while (read(gone[0], &c, 1) > 0) /* EOF once X has gone */
				;
			_exit(Y_EXIT);
		}
		if (y < 0 || write(p[1], &y, sizeof(y)) != sizeof(y))
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	if (x < 0 || read(p[0], &y, sizeof(y)) != sizeof(y) || waitpid(x, &status, 0) != x) {
		fail("setup: X");
		return 1;
	}
	close(p[0]);
	/* Y is the root's now; wait until it is a zombie */
	while (waitid(P_PID, (id_t)y, &si, WEXITED | WNOWAIT))
		if (errno != EINTR) {
			fail_errno("setup: Y (pid %d) is not the root's child", y);
			return 1;
		}
	if (test_daemon())
		return 1;
	test_waitsig();

	if (waitpid(y, &status, WNOHANG) != y || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != Y_EXIT)
		fail("Y (pid %d): status %#x, expected a zombie that exited with %d", y, status,
		     Y_EXIT);
	pass();
	return 0;
}
