/* console00: fds on the host's own terminals, the console (/dev/console, 5:1) and a virtual
 * terminal (/dev/tty1, 4:1), dumped as external objects (tests.desc external=tty[5:1],tty[4:1])
 * survive checkpoint/restore: each fd is again on the same device, by the same path, with its
 * status flags (O_WRONLY | O_APPEND on the console, O_RDONLY | O_NONBLOCK on the VT) and still
 * not our controlling terminal (opened O_NOCTTY: the test has none, and gets none). Nothing is
 * written to either. Skipped where the machine has no such device or won't open it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

struct term {
	const char *path;
	int flags, fd;
	struct stat st;
	char link[PATH_MAX];
	long fl; /* fdinfo flags */
};

static int look(struct term *t, struct stat *st, char *link, size_t len, long *fl)
{
	if (fstat(t->fd, st) || test_fd_link(t->fd, link, len))
		return -1;
	*fl = test_fdinfo_num(0, t->fd, "flags", 8);
	return 0;
}

int main(int argc, char **argv)
{
	struct term t[] = { { "/dev/console", O_WRONLY | O_APPEND, -1, { 0 }, "", 0 },
			    { "/dev/tty1", O_RDONLY | O_NONBLOCK, -1, { 0 }, "", 0 } };
	int n = sizeof(t) / sizeof(t[0]);

	if (test_init(argc, argv))
		return 1;
	for (int i = 0; i < n; i++) {
		t[i].fd = open(t[i].path, t[i].flags | O_NOCTTY);
		if (t[i].fd < 0) {
			skip("%s can't be opened here: %s", t[i].path, strerror(errno));
			return 0;
		}
		if (look(&t[i], &t[i].st, t[i].link, sizeof(t[i].link), &t[i].fl)) {
			fail_errno("setup: %s", t[i].path);
			return 1;
		}
	}
	test_daemon();
	test_waitsig();

	for (int i = 0; i < n; i++) {
		struct stat st;
		char link[PATH_MAX];
		long fl;

		if (look(&t[i], &st, link, sizeof(link), &fl)) {
			fail_errno("%s after restore", t[i].path);
			return 1;
		}
		if (!S_ISCHR(st.st_mode) || st.st_rdev != t[i].st.st_rdev ||
		    strcmp(link, t[i].link) || (fl & ~O_LARGEFILE) != (t[i].fl & ~O_LARGEFILE)) {
			fail("fd %d: %s, device %#jx, flags 0%lo: was %s, %#jx, 0%lo", t[i].fd,
			     link, (uintmax_t)st.st_rdev, fl, t[i].link, (uintmax_t)t[i].st.st_rdev,
			     t[i].fl);
			return 1;
		}
	}
	if (!access("/dev/tty", F_OK) && open("/dev/tty", O_RDONLY) >= 0) {
		fail("the test has a controlling terminal after restore");
		return 1;
	}
	pass();
	return 0;
}
