/* timens00: time namespaces survive checkpoint/restore with their offsets. The root unshares
 * CLONE_NEWTIME (its children's namespace), sets offsets of 1000 s (CLOCK_MONOTONIC) and
 * 2000 s (CLOCK_BOOTTIME) and forks a child, which lives in it. After restore: the root's
 * children's namespace still shows those offsets (/proc/self/timens_offsets); the root lives
 * in another namespace than its children's; the child is in that one; the child's clocks
 * read the root's plus the offsets (bounded by the root's readings before and after the
 * child's: no scheduling slack assumed); a child forked after restore lands in it too. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#define MONO_S 1000
#define BOOT_S 2000
#define NS     1000000000LL

/* ns/time or ns/time_for_children of pid (0: ours) */
static ino_t ns_ino(pid_t pid, const char *ns)
{
	char path[64];
	struct stat st;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, ns);
	else
		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns);
	return stat(path, &st) ? 0 : st.st_ino;
}

static int ask[2], ans[2], ask2[2], ans2[2];

/* The child: on each byte asked, its two clocks, until the root closes its asking end. */
static void child_loop(int in, int out)
{
	char c;

	close(ask[1]);
	close(ask2[1]);
	while (read(in, &c, 1) == 1) {
		int64_t now[2] = { test_now_ns(CLOCK_MONOTONIC), test_now_ns(CLOCK_BOOTTIME) };

		if (write(out, now, sizeof(now)) != sizeof(now))
			_exit(1);
	}
	_exit(0);
}

/* The child's clocks, checked against ours taken before and after. */
static int check_clocks(int ask, int ans, const char *who)
{
	int64_t m0 = test_now_ns(CLOCK_MONOTONIC), b0 = test_now_ns(CLOCK_BOOTTIME), m1, b1;
	int64_t now[2];

	if (write(ask, "?", 1) != 1 || read(ans, now, sizeof(now)) != sizeof(now)) {
		fail_errno("%s did not answer", who);
		return -1;
	}
	m1 = test_now_ns(CLOCK_MONOTONIC);
	b1 = test_now_ns(CLOCK_BOOTTIME);
	if (now[0] < m0 + MONO_S * NS || now[0] > m1 + MONO_S * NS || now[1] < b0 + BOOT_S * NS ||
	    now[1] > b1 + BOOT_S * NS) {
		fail(
		    "%s: CLOCK_MONOTONIC %lld ns ahead of ours, CLOCK_BOOTTIME %lld: expected %d s "
		    "and %d s",
		    who, (long long)(now[0] - m0), (long long)(now[1] - b0), MONO_S, BOOT_S);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int fd, st;
	char offs[128], name[2][16];
	long long sec[2];
	long nsec[2];
	ino_t kids;
	pid_t pid, late;
	ssize_t n;

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
	if (fd < 0 || dprintf(fd, "monotonic %d 0\nboottime %d 0\n", MONO_S, BOOT_S) < 0 ||
	    close(fd) || pipe(ask) || pipe(ans) || pipe(ask2) || pipe(ans2)) {
		fail_errno("setup: timens_offsets");
		return 1;
	}
	pid = fork();
	if (pid == 0)
		child_loop(ask[0], ans[1]);
	if (pid < 0 || test_daemon())
		return 1;
	test_waitsig();

	fd = open("/proc/self/timens_offsets", O_RDONLY);
	n = fd < 0 ? -1 : read(fd, offs, sizeof(offs) - 1);
	offs[n > 0 ? n : 0] = '\0';
	if (sscanf(offs, "%15s %lld %ld %15s %lld %ld", name[0], &sec[0], &nsec[0], name[1],
		   &sec[1], &nsec[1]) != 6 ||
	    strcmp(name[0], "monotonic") || sec[0] != MONO_S || nsec[0] ||
	    strcmp(name[1], "boottime") || sec[1] != BOOT_S || nsec[1]) {
		fail(
		    "our children's time namespace shows offsets '%s', expected monotonic %d 0 and "
		    "boottime %d 0",
		    offs, MONO_S, BOOT_S);
		return 1;
	}
	kids = ns_ino(0, "time_for_children");
	if (!kids || kids == ns_ino(0, "time") || ns_ino(pid, "time") != kids) {
		fail("namespaces: ours %ju, our children's %ju, the child's %ju: expected the "
		     "child in our children's, which is not ours",
		     (uintmax_t)ns_ino(0, "time"), (uintmax_t)kids, (uintmax_t)ns_ino(pid, "time"));
		return 1;
	}
	if (check_clocks(ask[1], ans[0], "the child"))
		return 1;
	late = fork(); /* one forked after restore: in our children's namespace too */
	if (late == 0)
		child_loop(ask2[0], ans2[1]);
	if (late < 0 || ns_ino(late, "time") != kids ||
	    check_clocks(ask2[1], ans2[0], "a new child"))
		return 1;
	close(ask[1]);
	close(ask2[1]);
	if (waitpid(pid, &st, 0) != pid || st || waitpid(late, &st, 0) != late || st) {
		fail("a child ended with status %#x", st);
		return 1;
	}
	pass();
	return 0;
}
