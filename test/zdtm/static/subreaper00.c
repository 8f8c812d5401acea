/* subreaper00: the child-subreaper flag (PR_SET_CHILD_SUBREAPER, per process) survives
 * checkpoint/restore, and orphans go to the right task afterwards. The tree is
 * root -> S -> C -> G, and S is a child subreaper. After the restore S's flag is set and the
 * root's is not; then C exits, and G, orphaned, must be reparented to S (not to the root, the
 * init of a PID namespace, nor the runner, a subreaper too): S waits until G's parent is no
 * longer C, checks that it is S, and reaps G. S reports by its exit status (and FAIL lines). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

static int is_subreaper(void)
{
	int v = -1;

	prctl(PR_GET_CHILD_SUBREAPER, &v, 0, 0, 0);
	return v;
}

/* C: starts G, says so, exits when told. */
static void c_main(int ready, int go)
{
	pid_t g = fork();
	char c;

	if (g == 0) {
		for (;;)
			pause();
	}
	if (g < 0 || write(ready, &g, sizeof(g)) != sizeof(g))
		_exit(1);
	while (read(go, &c, 1) != 1)
		;
	_exit(0);
}

/* S: the subreaper. */
static void s_main(int ready, int check)
{
	int cg[2], go[2], status;
	struct test_stat st;
	char path[64], c;
	pid_t cpid, g;

	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) || pipe(cg) || pipe(go))
		_exit(2);
	cpid = fork();
	if (cpid == 0)
		c_main(cg[1], go[0]);
	if (cpid < 0 || read(cg[0], &g, sizeof(g)) != sizeof(g))
		_exit(2);
	if (write(ready, "r", 1) != 1)
		_exit(2);
	while (read(check, &c, 1) != 1)
		;
	/* after the restore */
	if (is_subreaper() != 1) {
		fail("S (pid %d): PR_GET_CHILD_SUBREAPER %d, expected 1", getpid(), is_subreaper());
		kill(g, SIGKILL);
		_exit(1);
	}
	if (write(go[1], "x", 1) != 1 || waitpid(cpid, &status, 0) != cpid)
		_exit(3);
	snprintf(path, sizeof(path), "/proc/%d/stat", g);
	for (;;) {
		const struct timespec nap = { 0, 1000000 };

		if (test_read_stat(path, &st)) {
			fail_errno("S: G (pid %d) is gone", g);
			_exit(1);
		}
		if (st.ppid != cpid)
			break;
		nanosleep(&nap, NULL);
	}
	if (st.ppid != getpid()) {
		fail("G (pid %d), orphaned, went to pid %d, not to its subreaper S (pid %d)", g,
		     st.ppid, getpid());
		kill(g, SIGKILL);
		_exit(1);
	}
	kill(g, SIGKILL);
	if (waitpid(g, &status, 0) != g) {
		fail_errno("S: waitpid(G %d)", g);
		_exit(1);
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	int ready[2], check[2], status;
	pid_t s;
	char c;

	if (test_init(argc, argv))
		return 1;
	if (pipe(ready) || pipe(check)) {
		fail_errno("setup: pipe");
		return 1;
	}
	s = fork();
	if (s == 0)
		s_main(ready[1], check[0]);
	if (s < 0 || read(ready[0], &c, 1) != 1) {
		fail("setup: S did not start");
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	if (is_subreaper() != 0)
		fail("root: PR_GET_CHILD_SUBREAPER %d, expected 0", is_subreaper());
	if (write(check[1], "c", 1) != 1 || waitpid(s, &status, 0) != s) {
		fail_errno("S");
		return 1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail("S ended with status %#x", status);
	pass();
	return 0;
}
