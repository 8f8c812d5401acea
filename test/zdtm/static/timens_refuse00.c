/* timens_refuse00: a task that joined a time namespace with setns() (so it is not in the one
 * its parent creates children in) can't be restored as it was: the dump must be refused,
 * naming it (tests.desc expect=dumpfail dumpmsg=setns), and leave the tree running as it was.
 * The root unshares CLONE_NEWTIME with a CLOCK_MONOTONIC offset of 1000 s and forks a child,
 * which goes back to the root's own namespace with setns(). After SIGTERM the child is still
 * in the root's namespace (same inode, same clock), and the root still creates its children
 * in the other one. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static ino_t ns_ino(pid_t pid, const char *ns)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, ns);
	return stat(path, &st) ? 0 : st.st_ino;
}

int main(int argc, char **argv)
{
	int own, fd, p[2], st;
	pid_t pid;
	char c;

	if (test_init(argc, argv))
		return 1;
	own = open("/proc/self/ns/time", O_RDONLY);
	if (own < 0 || unshare(CLONE_NEWTIME)) {
		if (errno == EINVAL || errno == EPERM || errno == ENOENT)
			skip("no time namespaces for us: %s", strerror(errno));
		else
			fail_errno("unshare(CLONE_NEWTIME)");
		return errno == EINVAL || errno == EPERM || errno == ENOENT ? 0 : 1;
	}
	fd = open("/proc/self/timens_offsets", O_WRONLY);
	if (fd < 0 || dprintf(fd, "monotonic 1000 0\n") < 0 || close(fd) || pipe(p)) {
		fail_errno("setup: timens_offsets");
		return 1;
	}
	pid = fork();
	if (pid == 0) {
		close(p[1]);
		if (setns(own, CLONE_NEWTIME))
			_exit(2);
		_exit(read(p[0], &c, 1) == 0 ? 0 : 1); /* until the root closes its end */
	}
	close(p[0]);
	/* the child has left the namespace it was born in */
	while (ns_ino(pid, "time") != ns_ino(getpid(), "time")) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			fail("the child could not setns() back (status %#x)", st);
			return 1;
		}
		usleep(1000);
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	if (ns_ino(pid, "time") != ns_ino(getpid(), "time") ||
	    ns_ino(getpid(), "time_for_children") == ns_ino(getpid(), "time")) {
		fail("after the refused dump: the child's time namespace %ju, ours %ju, our "
		     "children's %ju",
		     (uintmax_t)ns_ino(pid, "time"), (uintmax_t)ns_ino(getpid(), "time"),
		     (uintmax_t)ns_ino(getpid(), "time_for_children"));
		return 1;
	}
	close(p[1]);
	if (waitpid(pid, &st, 0) != pid || st) {
		fail("the child ended with status %#x", st);
		return 1;
	}
	pass();
	return 0;
}
