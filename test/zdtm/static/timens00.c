/* timens00: a tree with a time namespace is refused (expect=dumpfail): the dump does not record
 * a time namespace's clock offsets, so a restore would hand the tasks other clocks. The root
 * unshares CLONE_NEWTIME (its children's namespace), sets a CLOCK_MONOTONIC offset of 1000 s
 * and forks a child, which lives in it. The dump must fail naming the root, and leave both
 * running as they were: the child's CLOCK_MONOTONIC still runs 1000 s ahead of the root's. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#define OFFSET_S 1000

int main(int argc, char **argv)
{
	int p[2], fd, st;
	int64_t child_now, root_now;
	pid_t pid;

	if (test_init(argc, argv))
		return 1;
	if (unshare(CLONE_NEWTIME)) {
		if (errno == EINVAL || errno == EPERM)
			skip("unshare(CLONE_NEWTIME): %s: no time namespaces for us",
			     strerror(errno));
		else
			fail_errno("unshare(CLONE_NEWTIME)");
		return errno == EINVAL || errno == EPERM ? 0 : 1;
	}
	fd = open("/proc/self/timens_offsets", O_WRONLY);
	if (fd < 0 || dprintf(fd, "monotonic %d 0\n", OFFSET_S) < 0 || close(fd) || pipe(p)) {
		fail_errno("setup: timens_offsets");
		return 1;
	}
	pid = fork();
	if (pid == 0) {
		char c;

		/* tell the root our clock once asked (after the checks), then go */
		if (read(p[0], &c, 1) != 1)
			_exit(1);
		child_now = test_now_ns(CLOCK_MONOTONIC);
		_exit(write(p[1], &child_now, sizeof(child_now)) == sizeof(child_now) ? 0 : 1);
	}
	if (pid < 0) {
		fail_errno("setup: fork");
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	root_now = test_now_ns(CLOCK_MONOTONIC);
	if (write(p[1], "?", 1) != 1 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) || read(p[0], &child_now, sizeof(child_now)) != sizeof(child_now)) {
		fail_errno("the child in the time namespace did not answer (status %#x)", st);
		return 1;
	}
	/* the child read its clock after ours: at least the offset ahead, never less */
	if (child_now - root_now < (int64_t)OFFSET_S * 1000000000) {
		fail(
		    "the child's CLOCK_MONOTONIC is %lld ns ahead of the root's, expected at least "
		    "%d s",
		    (long long)(child_now - root_now), OFFSET_S);
		return 1;
	}
	pass();
	return 0;
}
