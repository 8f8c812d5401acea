/* inotify_refuse00: an inotify instance with events queued can't be checkpointed (nothing puts
 * them back, and no read takes them without consuming them): the dump must be refused, naming
 * it (tests.desc expect=dumpfail dumpmsg=queued), and leave the queue as it was. A watch on a
 * directory gets an IN_CREATE for "made" before the dump; after SIGTERM that event is still
 * the one queued, whole, and nothing else. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	char dir[] = "inotify_refuse00.XXXXXX", path[64];
	union {
		struct inotify_event e;
		char b[sizeof(struct inotify_event) + 64];
	} u;
	int in, wd, fd, n = -1;
	ssize_t len;

	if (test_init(argc, argv))
		return 1;
	in = inotify_init1(IN_NONBLOCK);
	if (in < 0 || !mkdtemp(dir) || (wd = inotify_add_watch(in, dir, IN_CREATE)) < 0) {
		fail_errno("setup");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/made", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	if (fd < 0 || close(fd) || ioctl(in, FIONREAD, &n) || n <= 0) {
		fail_errno("setup: no event queued (%d bytes)", n);
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	len = read(in, &u, sizeof(u));
	if (len != (ssize_t)(sizeof(u.e) + u.e.len) || len != n || u.e.wd != wd ||
	    !(u.e.mask & IN_CREATE) || strcmp(u.e.name, "made")) {
		fail("after the refused dump: read %zd bytes (%d were queued), wd %d mask %#x name "
		     "'%s': expected the IN_CREATE of \"made\"",
		     len, n, len > 0 ? u.e.wd : -1, len > 0 ? u.e.mask : 0,
		     len > 0 ? u.e.name : "");
		return 1;
	}
	if (read(in, &u, sizeof(u)) != -1 || errno != EAGAIN) {
		fail("more events queued than the one made before the dump");
		return 1;
	}
	pass();
	return 0;
}
