/* inotify00: inotify instances survive checkpoint/restore with every watch: its wd number,
 * its mask and the inode it is on. "main" (nonblocking) watches the directory DIR (IN_CREATE
 * | IN_DELETE), DIR/a (IN_MODIFY | IN_CLOSE_WRITE) and DIR/b (IN_ATTRIB | IN_ONESHOT); two
 * more watches were added and removed in between, so the wds are 1, 3 and 5. "other"
 * (blocking, close-on-exec) watches DIR/a for IN_OPEN. Nothing is queued at the dump.
 * After the restore: fdinfo lists the same (wd, mask) pairs, F_GETFL / F_GETFD are as set
 * up, nothing is queued (no trace of how the restore made the wds); then creating DIR/new,
 * writing and closing DIR/a, chmod'ing DIR/b and removing DIR/new give exactly the events
 * expected, each with the right wd, mask and name, and "other" reports the open of DIR/a. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define DIR_NAME "inotify00.dir"
#define MAXW	 8

static char dir[PATH_MAX];
static int mainfd = -1, other = -1;
static int wd_dir, wd_a, wd_b, wd_other;
static char before[1024], before_other[1024];

static int path(char *buf, size_t len, const char *name)
{
	return snprintf(buf, len, "%s/%s", dir, name) >= (int)len ? -1 : 0;
}

/* "wd mask" of every watch in fd's fdinfo, one a line, sorted by wd (wds are hex there). */
static int watches_of(int fd, char *out, size_t len)
{
	char p[64], *text, *s;
	unsigned int wds[MAXW], masks[MAXW];
	size_t n, nw = 0, off = 0;

	snprintf(p, sizeof(p), "/proc/self/fdinfo/%d", fd);
	text = test_read_file(p, &n);
	if (!text)
		return -1;
	for (s = strstr(text, "inotify wd:"); s && nw < MAXW; s = strstr(s + 1, "inotify wd:"))
		if (sscanf(s, "inotify wd:%x ino:%*x sdev:%*x mask:%x", &wds[nw], &masks[nw]) == 2)
			nw++;
	free(text);
	out[0] = '\0';
	for (unsigned int wd = 1; wd < 64; wd++)
		for (size_t i = 0; i < nw; i++)
			if (wds[i] == wd)
				off += (size_t)snprintf(out + off, off < len ? len - off : 0,
							"%u %x\n", wd, masks[i]);
	return 0;
}

static int setup(void)
{
	char a[PATH_MAX], b[PATH_MAX], c[PATH_MAX], buf[256];
	int fd, w;

	if (!getcwd(dir, sizeof(dir) - sizeof(DIR_NAME) - 16))
		return -1;
	strcat(dir, "/" DIR_NAME);
	if (mkdir(dir, 0755) || path(a, sizeof(a), "a") || path(b, sizeof(b), "b") ||
	    path(c, sizeof(c), "c"))
		return -1;
	for (const char *f[] = { a, b, c }, **p = f; p < f + 3; p++) {
		fd = open(*p, O_CREAT | O_WRONLY, 0644);
		if (fd < 0 || close(fd))
			return -1;
	}
	mainfd = inotify_init1(IN_NONBLOCK);
	other = inotify_init1(IN_CLOEXEC);
	if (mainfd < 0 || other < 0)
		return -1;
	wd_dir = inotify_add_watch(mainfd, dir, IN_CREATE | IN_DELETE);
	w = inotify_add_watch(mainfd, c, IN_MODIFY);
	if (w < 0 || inotify_rm_watch(mainfd, w))
		return -1;
	wd_a = inotify_add_watch(mainfd, a, IN_MODIFY | IN_CLOSE_WRITE);
	w = inotify_add_watch(mainfd, c, IN_MODIFY);
	if (w < 0 || inotify_rm_watch(mainfd, w))
		return -1;
	wd_b = inotify_add_watch(mainfd, b, IN_ATTRIB | IN_ONESHOT);
	wd_other = inotify_add_watch(other, a, IN_OPEN);
	if (wd_dir != 1 || wd_a != 3 || wd_b != 5 || wd_other != 1) {
		errno = 0;
		test_msg("wds %d %d %d %d, expected 1 3 5 and 1", wd_dir, wd_a, wd_b, wd_other);
		return -1;
	}
	/* the IN_IGNORED of the two removed watches */
	while (read(mainfd, buf, sizeof(buf)) > 0)
		;
	if (watches_of(mainfd, before, sizeof(before)) ||
	    watches_of(other, before_other, sizeof(before_other)))
		return -1;
	return 0;
}

/* The next event of fd (which must be ready within 1 s) is wd/mask/name. The test makes every
 * event itself, by a file operation that queues it before the call returns, so it is ready at
 * once: the 1 s of poll() never decides anything on a loaded machine. */
static int expect(const char *what, int fd, int wd, uint32_t mask, const char *name)
{
	static char buf[4096] __attribute__((aligned(8)));
	static size_t have, off;
	static int from = -1;
	const struct inotify_event *ev;

	if (from != fd || off >= have) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 1000) != 1 || (n = read(fd, buf, sizeof(buf))) <= 0) {
			fail("%s: no event (expected wd %d mask %#x name \"%s\")", what, wd, mask,
			     name);
			return -1;
		}
		from = fd;
		have = (size_t)n;
		off = 0;
	}
	ev = (const void *)(buf + off);
	off += sizeof(*ev) + ev->len;
	if (ev->wd != wd || ev->mask != mask || strcmp(ev->len ? ev->name : "", name)) {
		fail("%s: event wd %d mask %#x name \"%s\", expected wd %d mask %#x name \"%s\"",
		     what, ev->wd, ev->mask, ev->len ? ev->name : "", wd, mask, name);
		return -1;
	}
	return 0;
}

static int check_events(void)
{
	char a[PATH_MAX], b[PATH_MAX], nw[PATH_MAX];
	int fd;

	if (path(a, sizeof(a), "a") || path(b, sizeof(b), "b") || path(nw, sizeof(nw), "new"))
		return -1;
	fd = open(nw, O_CREAT | O_RDONLY, 0644);
	if (fd < 0 || close(fd) || expect("create DIR/new", mainfd, wd_dir, IN_CREATE, "new"))
		return -1;
	fd = open(a, O_WRONLY);
	if (fd < 0 || write(fd, "x", 1) != 1 || close(fd) ||
	    expect("write DIR/a", mainfd, wd_a, IN_MODIFY, "") ||
	    expect("close DIR/a", mainfd, wd_a, IN_CLOSE_WRITE, "") ||
	    expect("open DIR/a (other)", other, wd_other, IN_OPEN, ""))
		return -1;
	if (chmod(b, 0600) || expect("chmod DIR/b", mainfd, wd_b, IN_ATTRIB, "") ||
	    expect("one-shot DIR/b", mainfd, wd_b, IN_IGNORED, ""))
		return -1;
	if (unlink(nw) || expect("unlink DIR/new", mainfd, wd_dir, IN_DELETE, "new"))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	char after[1024], buf[256];
	ssize_t n;

	if (test_init(argc, argv))
		return 1;
	if (setup()) {
		fail_errno("setup");
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	if (watches_of(mainfd, after, sizeof(after)) || strcmp(before, after)) {
		fail("\"main\": watches (wd mask) were:\n%sand are:\n%s", before, after);
		return 1;
	}
	if (watches_of(other, after, sizeof(after)) || strcmp(before_other, after)) {
		fail("\"other\": watches (wd mask) were:\n%sand are:\n%s", before_other, after);
		return 1;
	}
	if (!(fcntl(mainfd, F_GETFL) & O_NONBLOCK) || (fcntl(mainfd, F_GETFD) & FD_CLOEXEC) ||
	    (fcntl(other, F_GETFL) & O_NONBLOCK) || !(fcntl(other, F_GETFD) & FD_CLOEXEC)) {
		fail("flags: main F_GETFL %#o F_GETFD %d, other %#o %d; expected O_NONBLOCK on "
		     "main, FD_CLOEXEC on other",
		     fcntl(mainfd, F_GETFL), fcntl(mainfd, F_GETFD), fcntl(other, F_GETFL),
		     fcntl(other, F_GETFD));
		return 1;
	}
	n = read(mainfd, buf, sizeof(buf));
	if (n >= 0) {
		fail("\"main\": %zd bytes of events queued right after the restore (first: wd %d "
		     "mask %#x)",
		     n, ((struct inotify_event *)buf)->wd, ((struct inotify_event *)buf)->mask);
		return 1;
	}
	if (check_events())
		return 1;
	pass();
	return 0;
}
