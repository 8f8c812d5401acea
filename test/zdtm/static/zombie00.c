/* zombie00: zombies survive checkpoint/restore with their exit status.
 * The root has five children that ended before the dump and were not
 * reaped (exit 3, exit 0, exit 255, killed by SIGUSR1, killed by SIGKILL),
 * and one live child that has a zombie child of its own (exit 7). After the
 * restore each zombie must still be one (State Z in /proc, the same parent)
 * and waitpid(WNOHANG) must reap it at once with its status; the live child
 * checks its zombie the same way and exits 0 if all is well (else it says
 * why with FAIL: lines of its own). Then no child is left to wait for. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define NZOMBIES   5
#define GRAND_EXIT 7

struct zombie {
	int code; /* exit code, or -1 */
	int sig;  /* killing signal, or 0 */
	pid_t pid;
};

/* Child: end as z says (never returns). */
static void die_as(const struct zombie *z)
{
	if (z->sig) {
		signal(z->sig, SIG_DFL);
		kill(getpid(), z->sig);
		_exit(100); /* not reached: the signal kills */
	}
	_exit(z->code);
}

static void describe(const struct zombie *z, char *buf, size_t len)
{
	if (z->sig)
		snprintf(buf, len, "killed by signal %d (%s)", z->sig, strsignal(z->sig));
	else
		snprintf(buf, len, "exit %d", z->code);
}

/* Wait until pid has ended, without reaping it; 0, or -1 after fail(). */
static int wait_zombie(pid_t pid)
{
	siginfo_t si;

	while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT)) {
		if (errno != EINTR) {
			fail_errno("setup: waitid(%d, WNOWAIT)", pid);
			return -1;
		}
	}
	return 0;
}

/* pid is a zombie child of ours that waitpid() reaps at once with z's status. */
static int reap_check(const struct zombie *z)
{
	struct test_stat st;
	char path[64], want[64];
	int status;
	pid_t r;

	describe(z, want, sizeof(want));
	snprintf(path, sizeof(path), "/proc/%d/stat", z->pid);
	if (test_read_stat(path, &st)) {
		fail_errno("zombie %d (%s): can't read %s", z->pid, want, path);
		return -1;
	}
	if (st.state != 'Z' || st.ppid != getpid()) {
		fail("zombie %d (%s): State %c, parent %d; expected Z, %d", z->pid, want, st.state,
		     st.ppid, getpid());
		return -1;
	}
	r = waitpid(z->pid, &status, WNOHANG);
	if (r != z->pid) {
		fail_errno("zombie %d (%s): waitpid(WNOHANG) gave %d, expected to reap it at once",
			   z->pid, want, r);
		return -1;
	}
	if (z->sig ? !WIFSIGNALED(status) || WTERMSIG(status) != z->sig || WCOREDUMP(status)
		   : !WIFEXITED(status) || WEXITSTATUS(status) != z->code) {
		fail("zombie %d: wait status %#x, expected %s", z->pid, status, want);
		return -1;
	}
	return 0;
}

/* The live child: one zombie child of its own, then wait, check, exit. */
static void middle(int ready_fd)
{
	struct zombie z = { .code = GRAND_EXIT };

	z.pid = fork();
	if (z.pid < 0) {
		fail_errno("setup: middle task: fork");
		_exit(1);
	}
	if (z.pid == 0)
		die_as(&z);
	if (wait_zombie(z.pid) || write(ready_fd, "R", 1) != 1)
		_exit(1);
	close(ready_fd);
	test_waitsig();
	_exit(reap_check(&z) ? 1 : 0);
}

int main(int argc, char **argv)
{
	struct zombie zs[NZOMBIES] = {
		{ .code = 3 },	    { .code = 0 },	{ .code = 255 },
		{ .sig = SIGUSR1 }, { .sig = SIGKILL },
	};
	int p[2], bad = 0, status;
	pid_t mid;
	char c;

	if (test_init(argc, argv))
		return 1;
	for (int i = 0; i < NZOMBIES; i++) {
		zs[i].pid = fork();
		if (zs[i].pid < 0) {
			fail_errno("setup: fork of zombie %d", i);
			return 1;
		}
		if (zs[i].pid == 0)
			die_as(&zs[i]);
		if (wait_zombie(zs[i].pid))
			return 1;
	}
	if (pipe(p)) {
		fail_errno("setup: pipe");
		return 1;
	}
	mid = fork();
	if (mid < 0) {
		fail_errno("setup: fork of the middle task");
		return 1;
	}
	if (mid == 0) {
		close(p[0]);
		middle(p[1]);
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1) {
		fail("setup: the middle task %d failed before it had its zombie", mid);
		return 1;
	}
	close(p[0]);
	if (test_daemon())
		return 1;
	test_waitsig();

	for (int i = 0; i < NZOMBIES; i++)
		bad += reap_check(&zs[i]) ? 1 : 0;
	kill(mid, SIGTERM);
	if (waitpid(mid, &status, 0) != mid) {
		fail_errno("waitpid of the middle task %d", mid);
		return 1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the middle task %d (with a zombie child) ended with wait status %#x, "
		     "expected exit 0",
		     mid, status);
		return 1;
	}
	if (waitpid(-1, &status, WNOHANG) != -1 || errno != ECHILD) {
		fail("a child is left after all were reaped (waitpid(-1) did not give ECHILD)");
		return 1;
	}
	if (bad)
		return 1;
	pass();
	return 0;
}
