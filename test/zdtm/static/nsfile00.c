/* nsfile00: fds on a task's own namespaces of every kind but net (net: sock_netns00) survive
 * checkpoint/restore as fds on the restored task's own namespaces of those kinds: mnt, uts, ipc,
 * pid, pid_for_children, user, cgroup (and time, time_for_children where the kernel has time
 * namespaces), opened from /proc/self/ns, one of them dup()ed. After the restore each fd is on
 * the namespace /proc/self/ns/KIND names (same device and inode; under pidns that is the
 * restored tree's PID namespace, not the one of the dump), the dup shares its description
 * (kcmp), and setns() into the UTS one works. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <sched.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

static const char *const kinds[] = { "mnt",
				     "uts",
				     "ipc",
				     "pid",
				     "pid_for_children",
				     "cgroup",
				     "user",
				     "time",
				     "time_for_children" };
#define N (sizeof(kinds) / sizeof(kinds[0]))

int main(int argc, char **argv)
{
	int fd[N], dup_uts;
	char p[64];

	if (test_init(argc, argv))
		return 1;
	for (size_t i = 0; i < N; i++) {
		snprintf(p, sizeof(p), "/proc/self/ns/%s", kinds[i]);
		fd[i] = open(p, O_RDONLY);
		if (fd[i] < 0 && errno == ENOENT && i >= 7)
			test_msg("no %s namespaces here: left out\n", kinds[i]);
		else if (fd[i] < 0)
			fail_errno("setup: %s", p);
	}
	dup_uts = dup(fd[1]);

	if (test_daemon())
		return 1;
	test_waitsig();

	for (size_t i = 0; i < N; i++) {
		struct stat a, b;

		if (fd[i] < 0)
			continue;
		snprintf(p, sizeof(p), "/proc/self/ns/%s", kinds[i]);
		if (fstat(fd[i], &a) || stat(p, &b) || a.st_ino != b.st_ino || a.st_dev != b.st_dev)
			fail("the fd on its %s namespace is on ino %lu, %s is %lu", kinds[i],
			     (unsigned long)a.st_ino, p, (unsigned long)b.st_ino);
	}
	if (syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, fd[1], dup_uts))
		fail("the dup of the UTS fd is no longer the same description");
	if (setns(fd[1], CLONE_NEWUTS))
		fail_errno("setns into its own UTS namespace through the restored fd");
	pass();
	return 0;
}
