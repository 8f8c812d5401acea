/* epoll00: an epoll instance survives checkpoint/restore with every watch: its fd number,
 * events and data, and the file it watches. Targets: "p1" (a pipe's read end holding data,
 * EPOLLIN), "p2" (an empty pipe's read end, EPOLLIN|EPOLLET), "p2w" (that pipe's write end,
 * EPOLLOUT), "e1" (an eventfd holding 3, EPOLLIN), "e2" (an empty eventfd, EPOLLIN|
 * EPOLLONESHOT), "e3" (an eventfd holding 1, EPOLLIN|EPOLLONESHOT, reported once before the
 * dump and so disabled), "moved" (an eventfd holding 2, watched through fd MOVED_FD, which
 * was closed afterwards: the watch stays, keyed by that number) and "reused" (a pipe with
 * data, watched through fd REUSED_FD, which now holds /dev/null). A second epoll, "outer"
 * (nonblocking), watches the first one.
 * After the restore: the epoll's fdinfo lists the same (fd, events, data) watches;
 * epoll_wait returns exactly the data of p1, p2w, e1, moved and reused with their events;
 * MOVED_FD is closed and REUSED_FD is still /dev/null; the key of "moved" is MOVED_FD
 * (EPOLL_CTL_DEL through the eventfd's own fd fails with ENOENT); a write into p2 is reported
 * through the edge-triggered watch; "outer" reports the first epoll as readable. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "zdtmtst.h"

#define MOVED_FD  70
#define REUSED_FD 71
#define MAXW	  16

enum { P1, P2, P2W, E1, E2, E3, MOVED, REUSED, NW };

struct watch {
	const char *name;
	uint32_t events;
	uint64_t data;
	int fd;	    /* the fd the watch was added with */
	int keep;   /* the fd that keeps its file open after the setup */
	bool ready; /* epoll_wait must report it after the restore */
	uint32_t revents;
};

static struct watch w[NW] = {
	[P1] = { "p1", EPOLLIN, 0x1111000000000001ULL, -1, -1, true, EPOLLIN },
	[P2] = { "p2", EPOLLIN | EPOLLET, 0x2222, -1, -1, false, 0 },
	[P2W] = { "p2w", EPOLLOUT, 0x3333, -1, -1, true, EPOLLOUT },
	[E1] = { "e1", EPOLLIN, 0x4444, -1, -1, true, EPOLLIN },
	[E2] = { "e2", EPOLLIN | EPOLLONESHOT, 0x5555, -1, -1, false, 0 },
	[E3] = { "e3", EPOLLIN | EPOLLONESHOT, 0x6666, -1, -1, false, 0 },
	[MOVED] = { "moved", EPOLLIN, 0x7777, -1, -1, true, EPOLLIN },
	[REUSED] = { "reused", EPOLLIN, 0x8888, -1, -1, true, EPOLLIN },
};

static int ep = -1, outer = -1;
static char before[4096]; /* the watches as fdinfo lists them, sorted */

/* "tfd events data" of every watch in ep's fdinfo, one a line, sorted. */
static int watches_of(int fd, char *out, size_t len)
{
	char path[64], *text, *p, *lines[MAXW];
	size_t n, nl = 0, off = 0;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	text = test_read_file(path, &n);
	if (!text)
		return -1;
	for (p = strstr(text, "tfd:"); p && nl < MAXW; p = strstr(p + 1, "\ntfd:")) {
		int tfd;
		unsigned int ev;
		unsigned long long data;

		if (*p == '\n')
			p++;
		if (sscanf(p, "tfd: %d events: %x data: %llx", &tfd, &ev, &data) != 3)
			break;
		if (asprintf(&lines[nl], "%d %x %llx\n", tfd, ev, data) < 0)
			break;
		nl++;
	}
	free(text);
	for (size_t i = 0; i < nl; i++)
		for (size_t k = i + 1; k < nl; k++)
			if (strcmp(lines[k], lines[i]) < 0) {
				char *t = lines[i];

				lines[i] = lines[k];
				lines[k] = t;
			}
	out[0] = '\0';
	for (size_t i = 0; i < nl; i++) {
		off += (size_t)snprintf(out + off, off < len ? len - off : 0, "%s", lines[i]);
		free(lines[i]);
	}
	return 0;
}

static int add(struct watch *x, int fd)
{
	struct epoll_event ev = { .events = x->events, .data.u64 = x->data };

	x->fd = fd;
	if (x->keep < 0)
		x->keep = fd;
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int setup(void)
{
	struct epoll_event evs[MAXW], oev = { .events = EPOLLIN, .data.u64 = 0x9999 };
	int p1[2], p2[2], p3[2], e1, e2, e3, e4, null;

	ep = epoll_create1(0);
	outer = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || outer < 0 || pipe(p1) || pipe(p2) || pipe(p3) || write(p1[1], "x", 1) != 1 ||
	    write(p3[1], "yy", 2) != 2)
		return -1;
	e1 = eventfd(3, 0);
	e2 = eventfd(0, EFD_NONBLOCK);
	e3 = eventfd(1, 0);
	e4 = eventfd(2, 0);
	if (e1 < 0 || e2 < 0 || e3 < 0 || e4 < 0)
		return -1;
	if (add(&w[P1], p1[0]) || add(&w[P2], p2[0]) || add(&w[P2W], p2[1]) || add(&w[E1], e1) ||
	    add(&w[E2], e2) || add(&w[E3], e3))
		return -1;
	/* "moved": added through MOVED_FD, which is closed then; e4 keeps the file */
	w[MOVED].keep = e4;
	if (dup2(e4, MOVED_FD) != MOVED_FD || add(&w[MOVED], MOVED_FD) || close(MOVED_FD))
		return -1;
	/* "reused": added through REUSED_FD, which then becomes /dev/null; p3[0] keeps it */
	w[REUSED].keep = p3[0];
	null = open("/dev/null", O_RDONLY);
	if (null < 0 || dup2(p3[0], REUSED_FD) != REUSED_FD || add(&w[REUSED], REUSED_FD) ||
	    dup2(null, REUSED_FD) != REUSED_FD || close(null))
		return -1;
	if (epoll_ctl(outer, EPOLL_CTL_ADD, ep, &oev) || fcntl(outer, F_SETFL, O_NONBLOCK))
		return -1;
	/* report everything once: e3's one-shot watch is disabled from now on */
	if (epoll_wait(ep, evs, MAXW, 0) < 5)
		return -1;
	return watches_of(ep, before, sizeof(before));
}

static int check_wait(void)
{
	struct epoll_event evs[MAXW];
	bool seen[NW] = { false };
	int n = epoll_wait(ep, evs, MAXW, 0);

	if (n < 0) {
		fail_errno("epoll_wait");
		return -1;
	}
	for (int i = 0; i < n; i++) {
		int k;

		for (k = 0; k < NW && w[k].data != evs[i].data.u64; k++)
			;
		if (k == NW || !w[k].ready || seen[k] || evs[i].events != w[k].revents) {
			fail("epoll_wait: event %#x with data %#" PRIx64 " (%s): not expected, or "
			     "twice, or with other events (expected %#x)",
			     evs[i].events, (uint64_t)evs[i].data.u64, k < NW ? w[k].name : "?",
			     k < NW ? w[k].revents : 0);
			return -1;
		}
		seen[k] = true;
	}
	for (int k = 0; k < NW; k++)
		if (w[k].ready && !seen[k]) {
			fail("epoll_wait: %s (data %#" PRIx64 ") is ready but was not reported",
			     w[k].name, w[k].data);
			return -1;
		}
	return 0;
}

static int check_fds(void)
{
	struct stat st;
	int fl = fcntl(outer, F_GETFL);

	errno = 0;
	if (fcntl(MOVED_FD, F_GETFD) != -1 || errno != EBADF) {
		fail("fd %d is open again after the restore (errno %d)", MOVED_FD, errno);
		return -1;
	}
	if (fstat(REUSED_FD, &st) || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
		fail("fd %d is not /dev/null any more", REUSED_FD);
		return -1;
	}
	if (fl < 0 || !(fl & O_NONBLOCK) || !(fcntl(outer, F_GETFD) & FD_CLOEXEC) ||
	    (fcntl(ep, F_GETFL) & O_NONBLOCK) || (fcntl(ep, F_GETFD) & FD_CLOEXEC)) {
		fail("epoll flags: outer F_GETFL %#o F_GETFD %d, inner F_GETFL %#o F_GETFD %d; "
		     "expected O_NONBLOCK and FD_CLOEXEC on outer only",
		     fl, fcntl(outer, F_GETFD), fcntl(ep, F_GETFL), fcntl(ep, F_GETFD));
		return -1;
	}
	/* the key of "moved" is (its file, MOVED_FD), not (its file, the fd that keeps it) */
	errno = 0;
	if (epoll_ctl(ep, EPOLL_CTL_DEL, w[MOVED].keep, NULL) != -1 || errno != ENOENT) {
		fail("EPOLL_CTL_DEL of fd %d (the file \"moved\" watches through fd %d): errno %d, "
		     "expected ENOENT",
		     w[MOVED].keep, MOVED_FD, errno);
		return -1;
	}
	return 0;
}

static int check_after(void)
{
	struct epoll_event ev;
	int n;

	/* edge-triggered p2 reports new data */
	if (write(w[P2W].fd, "z", 1) != 1) {
		fail_errno("write into p2");
		return -1;
	}
	w[P2].ready = true;
	w[P2].revents = EPOLLIN;
	if (check_wait())
		return -1;
	n = epoll_wait(outer, &ev, 1, 0);
	if (n != 1 || ev.data.u64 != 0x9999 || ev.events != EPOLLIN) {
		fail("outer epoll: %d events (data %#" PRIx64 " events %#x), expected the inner "
		     "one's 0x9999 with EPOLLIN",
		     n, n == 1 ? (uint64_t)ev.data.u64 : 0, n == 1 ? ev.events : 0);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char after[4096];

	if (test_init(argc, argv))
		return 1;
	if (setup()) {
		fail_errno("setup");
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	if (watches_of(ep, after, sizeof(after)) || strcmp(before, after)) {
		fail("the epoll's watches (fd events data) were:\n%sand are:\n%s", before, after);
		return 1;
	}
	if (check_wait() || check_fds() || check_after())
		return 1;
	pass();
	return 0;
}
