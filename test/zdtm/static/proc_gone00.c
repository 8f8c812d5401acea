/* proc_gone00: fds on /proc/PID of a process that is gone survive checkpoint/restore as fds of
 * a process that is gone, with the same pid in their paths:
 *
 *   fd    opened before child A was killed and reaped     checked after the restore
 *   d     /proc/A (O_DIRECTORY)                           link "/proc/A (deleted)", lists no
 *                                                         entry (getdents gives what it gave)
 *   s     /proc/A/status                                  link "/proc/A/status", read: ESRCH
 *   s2    dup(s)                                          one description with s (kcmp)
 *   m     /proc/A/comm, 3 bytes read while A lived        its offset, 3
 *   b     /proc/B/status of child B, which lives          reads B's status ("Pid:\tB")
 *
 * Each result is compared with what the same call gave before the dump. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kcmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

struct seen {
	char dlink[PATH_MAX], slink[PATH_MAX];
	long dents;    /* getdents64 of d: bytes, or -errno */
	int read_err;  /* errno of a read of s */
	off_t mpos;    /* lseek(m, 0, SEEK_CUR), or -errno */
	char bpid[32]; /* the Pid: line of b */
};

static long dents(int fd)
{
	char buf[4096];
	long n = syscall(SYS_getdents64, fd, buf, sizeof(buf));

	return n < 0 ? -errno : n;
}

static int look(int d, int s, int m, int b, struct seen *v)
{
	char buf[256], *p;
	ssize_t n;

	if (test_fd_link(d, v->dlink, sizeof(v->dlink)) ||
	    test_fd_link(s, v->slink, sizeof(v->slink)))
		return -1;
	lseek(d, 0, SEEK_SET);
	v->dents = dents(d);
	errno = 0;
	v->read_err = pread(s, buf, sizeof(buf), 0) < 0 ? errno : 0;
	v->mpos = lseek(m, 0, SEEK_CUR);
	if (v->mpos < 0)
		v->mpos = -errno;
	n = pread(b, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	p = strstr(buf, "\nPid:");
	snprintf(v->bpid, sizeof(v->bpid), "%.*s", p ? (int)strcspn(p + 1, "\n") : 0,
		 p ? p + 1 : "");
	return 0;
}

static pid_t child(void)
{
	pid_t c = fork();

	if (c == 0)
		for (;;)
			pause();
	return c;
}

int main(int argc, char **argv)
{
	int d, s, s2, m, b, st;
	struct seen x, y;
	pid_t a, bp;
	char path[64], want[32], buf[3];

	if (test_init(argc, argv))
		return 1;
	a = child();
	bp = child();
	if (a < 0 || bp < 0) {
		fail_errno("fork");
		return 1;
	}
	snprintf(path, sizeof(path), "/proc/%d", a);
	d = open(path, O_RDONLY | O_DIRECTORY);
	snprintf(path, sizeof(path), "/proc/%d/status", a);
	s = open(path, O_RDONLY);
	s2 = dup(s);
	snprintf(path, sizeof(path), "/proc/%d/comm", a);
	m = open(path, O_RDONLY);
	snprintf(path, sizeof(path), "/proc/%d/status", bp);
	b = open(path, O_RDONLY);
	if (d < 0 || s < 0 || s2 < 0 || m < 0 || b < 0 || read(m, buf, 3) != 3) {
		fail_errno("setup: opening /proc files of the children");
		return 1;
	}
	if (kill(a, SIGKILL) || waitpid(a, &st, 0) != a) {
		fail_errno("setup: ending child A");
		return 1;
	}
	if (look(d, s, m, b, &x)) {
		fail_errno("setup: looking at the fds");
		return 1;
	}
	snprintf(want, sizeof(want), "Pid:\t%d", bp);
	if (x.read_err != ESRCH || strcmp(x.bpid, want)) {
		fail("setup: a read of A's status gave errno %d, B's status '%s'", x.read_err,
		     x.bpid);
		return 1;
	}
	test_msg("d %s (%ld), s %s (errno %d), m at %lld\n", x.dlink, x.dents, x.slink, x.read_err,
		 (long long)x.mpos);

	test_daemon();
	test_waitsig();

	if (look(d, s, m, b, &y)) {
		fail_errno("looking at the fds after restore");
		return 1;
	}
	if (strcmp(x.dlink, y.dlink) || strcmp(x.slink, y.slink) || x.dents != y.dents ||
	    x.read_err != y.read_err || x.mpos != y.mpos || strcmp(x.bpid, y.bpid)) {
		fail("d '%s' (was '%s') lists %ld (%ld), s '%s' ('%s') reads errno %d (%d), m at "
		     "%lld (%lld), b '%s' ('%s')",
		     y.dlink, x.dlink, y.dents, x.dents, y.slink, x.slink, y.read_err, x.read_err,
		     (long long)y.mpos, (long long)x.mpos, y.bpid, x.bpid);
		return 1;
	}
	if (syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, s, s2)) {
		fail("s and its dup are no longer one open file description");
		return 1;
	}
	kill(bp, SIGKILL);
	waitpid(bp, NULL, 0);
	pass();
	return 0;
}
