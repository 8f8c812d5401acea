/* inotify_deleted00: an inotify watch on a file deleted while open (no path reaches it, the
 * test's fd does) survives checkpoint/restore on that file: after the restore the queue is empty
 * (the restore's own recreation of the file shows no event), and the same wd numbers report
 * what happens next, each exactly once and in order:
 *
 *   action after the restore          event
 *   write() to the deleted file       wd F: IN_MODIFY
 *   fchmod() of it                    wd F: IN_ATTRIB
 *   a new file made in the directory  wd D: IN_CREATE "new"
 *   the last fd on the file closed    wd F: IN_CLOSE_WRITE, IN_DELETE_SELF, IN_IGNORED
 *
 * wd D watches the directory the file was in, wd F the file itself (watched before its unlink;
 * the events of the unlink are read before the dump). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define FMASK (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_DELETE_SELF)

struct ev {
	int wd;
	uint32_t mask;
	char name[32];
};

/* Every event queued now (the fd is nonblocking): their number, or -1. */
static int events(int in, struct ev *v, int max)
{
	char buf[4096] __attribute__((aligned(8)));
	int n = 0;
	ssize_t r;

	while ((r = read(in, buf, sizeof(buf))) > 0)
		for (ssize_t off = 0; off < r;) {
			const struct inotify_event *e = (const void *)(buf + off);

			if (n < max) {
				v[n].wd = e->wd;
				v[n].mask = e->mask;
				snprintf(v[n].name, sizeof(v[n].name), "%s", e->len ? e->name : "");
			}
			n++;
			off += (ssize_t)sizeof(*e) + e->len;
		}
	return r < 0 && errno != EAGAIN ? -1 : n;
}

/* The events now must be exactly want[0..n) (wd, mask, name); 0 or -1 (failed). */
static int expect(const char *after, int in, const struct ev *want, int n)
{
	struct ev got[8];
	int k = events(in, got, 8);

	if (k != n) {
		fail("after %s: %d events, expected %d (first: wd %d mask %#x)", after, k, n,
		     k > 0 ? got[0].wd : 0, k > 0 ? got[0].mask : 0);
		return -1;
	}
	for (int i = 0; i < n; i++)
		if (got[i].wd != want[i].wd || got[i].mask != want[i].mask ||
		    strcmp(got[i].name, want[i].name)) {
			fail(
			    "after %s: event %d is wd %d mask %#x '%s', expected wd %d mask %#x '%s'",
			    after, i, got[i].wd, got[i].mask, got[i].name, want[i].wd, want[i].mask,
			    want[i].name);
			return -1;
		}
	return 0;
}

int main(int argc, char **argv)
{
	char dir[] = "inotify_deleted00.XXXXXX", path[64], link[PATH_MAX], was[PATH_MAX];
	struct ev none[1];
	int fd, in, wdd, wdf, nf;

	if (test_init(argc, argv))
		return 1;
	if (!mkdtemp(dir)) {
		fail_errno("setup: mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/victim", dir);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	in = inotify_init1(IN_NONBLOCK);
	if (fd < 0 || in < 0 || write(fd, "before", 6) != 6) {
		fail_errno("setup: %s", path);
		return 1;
	}
	wdd = inotify_add_watch(in, dir, IN_CREATE | IN_DELETE);
	wdf = inotify_add_watch(in, path, FMASK);
	if (wdd < 0 || wdf < 0 || unlink(path) || events(in, none, 1) < 0 ||
	    test_fd_link(fd, was, sizeof(was))) {
		fail_errno("setup: the watches, the unlink");
		return 1;
	}
	test_daemon();
	test_waitsig();

	if (test_fd_link(fd, link, sizeof(link)) || strcmp(link, was)) {
		fail("the fd is on '%s', was '%s'", link, was);
		return 1;
	}
	if (expect("the restore", in, NULL, 0))
		return 1;
	if (pwrite(fd, "after", 5, 6) != 5 ||
	    expect("a write", in, (struct ev[]){ { wdf, IN_MODIFY, "" } }, 1))
		return 1;
	if (fchmod(fd, 0640) || expect("fchmod", in, (struct ev[]){ { wdf, IN_ATTRIB, "" } }, 1))
		return 1;
	snprintf(path, sizeof(path), "%s/new", dir);
	nf = open(path, O_RDONLY | O_CREAT | O_EXCL, 0600);
	if (nf < 0 || close(nf) ||
	    expect("a new file", in, (struct ev[]){ { wdd, IN_CREATE, "new" } }, 1))
		return 1;
	if (close(fd) || expect("the last close", in,
				(struct ev[]){ { wdf, IN_CLOSE_WRITE, "" },
					       { wdf, IN_DELETE_SELF, "" },
					       { wdf, IN_IGNORED, "" } },
				3))
		return 1;
	unlink(path);
	rmdir(dir);
	pass();
	return 0;
}
