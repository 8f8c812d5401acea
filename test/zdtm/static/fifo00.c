/* fifo00: a FIFO (named pipe) in the test's temp dir, open three times
 * (O_RDONLY|O_NONBLOCK with FD_CLOEXEC, O_WRONLY, O_RDWR), resized to 32 KiB,
 * with data in flight of which a part was read, survives checkpoint/restore:
 * every fd still reaches the FIFO at its path (link, inode), with its access
 * mode, O_NONBLOCK and FD_CLOEXEC; F_GETPIPE_SZ and FIONREAD are as before;
 * once the two writers are closed, the reader reads exactly the rest of the
 * data and then EOF (no other writer, such as the restorer's, was left). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define SIZE	 (32 << 10)
#define LEN	 20000
#define CONSUMED 3000
#define SEED	 0xf1f00000u

static const struct want {
	const char *name;
	int flags; /* open() flags */
} wants[] = {
	{ "reader", O_RDONLY | O_NONBLOCK | O_CLOEXEC },
	{ "writer", O_WRONLY },
	{ "both", O_RDWR },
};

#define NFDS 3

static int check_fd(int fd, const struct want *w, const char *path, const struct stat *fifo)
{
	int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);
	int want_fl = w->flags & (O_ACCMODE | O_NONBLOCK);
	char proc[64], link[PATH_MAX];
	struct stat st;
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, link, sizeof(link) - 1);
	if (fl < 0 || fdfl < 0 || n < 0 || fstat(fd, &st)) {
		fail_errno("%s fd %d: fcntl/readlink/fstat", w->name, fd);
		return -1;
	}
	link[n] = '\0';
	if (strcmp(link, path) || !S_ISFIFO(st.st_mode) || st.st_dev != fifo->st_dev ||
	    st.st_ino != fifo->st_ino) {
		fail("%s fd %d: %s (mode %#o inode %ju), expected the FIFO %s (inode %ju)", w->name,
		     fd, link, st.st_mode, (uintmax_t)st.st_ino, path, (uintmax_t)fifo->st_ino);
		return -1;
	}
	if ((fl & (O_ACCMODE | O_NONBLOCK)) != want_fl ||
	    !(fdfl & FD_CLOEXEC) != !(w->flags & O_CLOEXEC)) {
		fail("%s fd %d: F_GETFL %#o F_GETFD %d, expected %#o and %s", w->name, fd, fl, fdfl,
		     want_fl, (w->flags & O_CLOEXEC) ? "FD_CLOEXEC" : "no FD_CLOEXEC");
		return -1;
	}
	return 0;
}

static int check(const int *fds, const char *path, const unsigned char *all)
{
	unsigned char got[LEN + 4096];
	int sz, avail = -1;
	struct stat fifo;
	size_t n = 0;

	if (stat(path, &fifo)) {
		fail_errno("stat %s", path);
		return -1;
	}
	for (int i = 0; i < NFDS; i++)
		if (check_fd(fds[i], &wants[i], path, &fifo))
			return -1;
	sz = fcntl(fds[0], F_GETPIPE_SZ);
	if (sz != SIZE || ioctl(fds[0], FIONREAD, &avail) || avail != LEN - CONSUMED) {
		fail("F_GETPIPE_SZ %d FIONREAD %d, expected %d and %d", sz, avail, SIZE,
		     LEN - CONSUMED);
		return -1;
	}
	if (close(fds[1]) || close(fds[2])) {
		fail_errno("close the writers");
		return -1;
	}
	for (;;) {
		ssize_t r = read(fds[0], got + n, sizeof(got) - n);

		if (r < 0) {
			fail_errno("read after %zu of %d bytes (EAGAIN: a writer is left)", n,
				   LEN - CONSUMED);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n != LEN - CONSUMED || memcmp(got, all + CONSUMED, n)) {
		fail("read %zu bytes to EOF, expected exactly the %d in flight", n, LEN - CONSUMED);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char tmpl[] = "fifo00.XXXXXX", cwd[PATH_MAX], path[PATH_MAX + 32];
	unsigned char all[LEN], tmp[CONSUMED];
	int fds[NFDS];

	if (test_init(argc, argv))
		return 1;
	test_fill_pattern(all, LEN, SEED);
	if (!getcwd(cwd, sizeof(cwd)) || !mkdtemp(tmpl)) {
		fail_errno("setup: getcwd/mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/%s/fifo", cwd, tmpl);
	if (mkfifo(path, 0600)) {
		fail_errno("setup: mkfifo %s", path);
		return 1;
	}
	for (int i = 0; i < NFDS; i++) {
		fds[i] = open(path, wants[i].flags);
		if (fds[i] < 0) {
			fail_errno("setup: open %s as the %s", path, wants[i].name);
			return 1;
		}
	}
	if (fcntl(fds[1], F_SETPIPE_SZ, SIZE) != SIZE || write(fds[1], all, LEN) != LEN ||
	    read(fds[0], tmp, CONSUMED) != CONSUMED) {
		fail_errno("setup: resize, fill and read the FIFO");
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	if (check(fds, path, all))
		return 1;
	close(fds[0]);
	unlink(path);
	rmdir(tmpl);
	pass();
	return 0;
}
