/* autogroup00: the nice value of a session's scheduling autogroup (/proc/PID/autogroup, one per
 * session, created by setsid()) survives checkpoint/restore. The root (a session leader) gives
 * its autogroup nice 7; a child starts a session of its own and gives it nice 3; a grandchild in
 * that session shares it. After the restore all three read their autogroup's nice back. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

static int nice_of(pid_t pid)
{
	char path[64];
	size_t len;
	char *buf, *n;
	int v = 100;

	snprintf(path, sizeof(path), "/proc/%d/autogroup", pid);
	buf = test_read_file(path, &len);
	if (!buf)
		return 100;
	n = strstr(buf, " nice ");
	if (n)
		v = atoi(n + 6);
	free(buf);
	return v;
}

static int set_nice(const char *v)
{
	FILE *f = fopen("/proc/self/autogroup", "w");
	int ret;

	if (!f)
		return -1;
	ret = fputs(v, f) < 0 ? -1 : 0;
	return fclose(f) ? -1 : ret;
}

int main(int argc, char **argv)
{
	int p[2], status;
	pid_t child, grand;

	if (test_init(argc, argv))
		return 1;
	if (access("/proc/self/autogroup", F_OK)) {
		skip("no /proc/self/autogroup (CONFIG_SCHED_AUTOGROUP)");
		return 0;
	}
	if (set_nice("7") || pipe(p)) {
		fail_errno("setup: autogroup nice 7");
		return 1;
	}
	child = fork();
	if (child == 0) {
		pid_t g;

		if (setsid() < 0 || set_nice("3"))
			_exit(1);
		g = fork();
		if (g == 0) {
			for (;;)
				pause();
		}
		if (g < 0 || write(p[1], &g, sizeof(g)) != sizeof(g))
			_exit(1);
		for (;;)
			pause();
	}
	if (child < 0 || read(p[0], &grand, sizeof(grand)) != sizeof(grand)) {
		fail("setup: child");
		return 1;
	}
	if (nice_of(getpid()) != 7 || nice_of(child) != 3 || nice_of(grand) != 3) {
		fail("setup: autogroup nice %d %d %d, expected 7 3 3", nice_of(getpid()),
		     nice_of(child), nice_of(grand));
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	if (nice_of(getpid()) != 7)
		fail("root: autogroup nice %d, expected 7", nice_of(getpid()));
	if (nice_of(child) != 3)
		fail("child (a session leader): autogroup nice %d, expected 3", nice_of(child));
	if (nice_of(grand) != 3)
		fail("grandchild (in the child's session): autogroup nice %d, expected 3",
		     nice_of(grand));
	/* the grandchild is not ours to reap: it must be dead before its parent is */
	int pfd = (int)syscall(SYS_pidfd_open, grand, 0);
	struct pollfd pl = { .fd = pfd, .events = POLLIN };

	kill(grand, SIGKILL);
	while (pfd >= 0 && poll(&pl, 1, -1) < 0 && errno == EINTR)
		;
	if (pfd >= 0)
		close(pfd);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	pass();
	return 0;
}
