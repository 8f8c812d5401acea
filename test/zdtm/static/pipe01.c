/* pipe01: a pipe of which the task kept only one end survives
 * checkpoint/restore with its data in flight. "ronly": the write end was
 * closed after a write and part of the data was read; after the restore the
 * read end reads exactly the rest and then EOF (read() returns 0, not EAGAIN:
 * no writer came back). "wonly": the read end was closed after a write; after
 * the restore a write fails with EPIPE (no reader came back), and the data in
 * flight is still there: a reopen of /proc/self/fd/N for reading gets it.
 * No other fd of the task is on either pipe. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define R_LEN	   30000
#define R_CONSUMED 7000
#define W_LEN	   5000
#define R_SEED	   0x91be3000u
#define W_SEED	   0x91be4000u

/* fds of the task on the pipe inode ino, other than fd. */
static int others_on(ino_t ino, int fd)
{
	int n = 0;

	for (int i = 0; i < 1024; i++) {
		struct stat st;

		if (i != fd && fstat(i, &st) == 0 && S_ISFIFO(st.st_mode) && st.st_ino == ino)
			n++;
	}
	return n;
}

/* Read the nonblocking fd to its end and compare: with eof, the end must be EOF (EAGAIN
 * would mean a writer exists); without, the end is EAGAIN (the task's own writer). */
static int read_all(const char *what, int fd, const unsigned char *want, size_t len, bool eof)
{
	unsigned char *got = malloc(len + 4096);
	size_t n = 0;
	int ret = -1;

	if (!got) {
		fail_errno("malloc");
		return -1;
	}
	for (;;) {
		ssize_t r = read(fd, got + n, len + 4096 - n);

		if (r < 0 && errno == EAGAIN && !eof)
			break;
		if (r < 0) {
			fail_errno("%s: read of fd %d after %zu of %zu bytes (EAGAIN: it has a "
				   "writer)",
				   what, fd, n, len);
			goto out;
		}
		if (r == 0 && !eof) {
			fail("%s: EOF on fd %d: the task's write end is gone", what, fd);
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > len)
			break;
	}
	if (n != len || memcmp(got, want, len)) {
		fail("%s: read %zu bytes, expected exactly the %zu in flight", what, n, len);
		goto out;
	}
	ret = 0;
out:
	free(got);
	return ret;
}

static int check_ronly(int fd, const unsigned char *all)
{
	struct stat st;
	int avail = -1, fl = fcntl(fd, F_GETFL);

	if (fstat(fd, &st) || ioctl(fd, FIONREAD, &avail) || fl < 0) {
		fail_errno("ronly: fstat/FIONREAD/F_GETFL of fd %d", fd);
		return -1;
	}
	if ((fl & (O_ACCMODE | O_NONBLOCK)) != (O_RDONLY | O_NONBLOCK) ||
	    avail != R_LEN - R_CONSUMED || others_on(st.st_ino, fd)) {
		fail("ronly: fd %d F_GETFL %#o, FIONREAD %d, %d other fd(s) on its pipe; expected "
		     "O_RDONLY|O_NONBLOCK, %d, none",
		     fd, fl, avail, others_on(st.st_ino, fd), R_LEN - R_CONSUMED);
		return -1;
	}
	return read_all("ronly", fd, all + R_CONSUMED, R_LEN - R_CONSUMED, true);
}

static int check_wonly(int fd, const unsigned char *all)
{
	int rfd, ret, fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);
	char proc[64];
	struct stat st;

	if (fstat(fd, &st) || fl < 0 || fdfl < 0) {
		fail_errno("wonly: fstat/F_GETFL/F_GETFD of fd %d", fd);
		return -1;
	}
	if ((fl & (O_ACCMODE | O_NONBLOCK)) != O_WRONLY || !(fdfl & FD_CLOEXEC) ||
	    others_on(st.st_ino, fd)) {
		fail("wonly: fd %d F_GETFL %#o F_GETFD %d, %d other fd(s) on its pipe; expected "
		     "O_WRONLY, FD_CLOEXEC, none",
		     fd, fl, fdfl, others_on(st.st_ino, fd));
		return -1;
	}
	if (write(fd, "x", 1) != -1 || errno != EPIPE) {
		fail_errno("wonly: a write to fd %d, whose read end is closed, did not fail with "
			   "EPIPE",
			   fd);
		return -1;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	rfd = open(proc, O_RDONLY | O_NONBLOCK);
	if (rfd < 0) {
		fail_errno("wonly: reopen %s for reading", proc);
		return -1;
	}
	/* the task's write end is still open: the data, then EAGAIN */
	ret = read_all("wonly (reopened)", rfd, all, W_LEN, false);
	close(rfd);
	return ret;
}

int main(int argc, char **argv)
{
	unsigned char rall[R_LEN], wall[W_LEN], tmp[R_CONSUMED];
	int r[2], w[2], bad = 0;

	if (test_init(argc, argv))
		return 1;
	test_fill_pattern(rall, R_LEN, R_SEED);
	test_fill_pattern(wall, W_LEN, W_SEED);
	signal(SIGPIPE, SIG_IGN);
	if (pipe2(r, O_NONBLOCK) || write(r[1], rall, R_LEN) != R_LEN || close(r[1]) ||
	    read(r[0], tmp, R_CONSUMED) != R_CONSUMED || pipe2(w, O_CLOEXEC) ||
	    write(w[1], wall, W_LEN) != W_LEN || close(w[0])) {
		fail_errno("setup: pipes");
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	bad |= check_wonly(w[1], wall);
	bad |= check_ronly(r[0], rall);
	if (bad)
		return 1;
	pass();
	return 0;
}
