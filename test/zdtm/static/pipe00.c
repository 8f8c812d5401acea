/* pipe00: pipes with data in flight survive checkpoint/restore. Three pipes:
 * "full" is resized to 256 KiB and filled until a nonblocking write would
 * block, in writes of mixed sizes (at least 200 KiB go in); "part" (128 KiB) got three writes and
 * then a read that stopped in the middle of the second one; "empty" is one page large and holds
 * nothing. Each end has its own O_NONBLOCK and FD_CLOEXEC settings, and a dup
 * of full's read end shares its file description. After the restore, for each
 * pipe: both ends are on one pipe inode, F_GETPIPE_SZ, F_GETFL (access mode,
 * O_NONBLOCK), F_GETFD and FIONREAD are as set up, and after the write end is
 * closed, reading to EOF gives exactly the bytes in flight. The runner first
 * makes dumps fail (tests.desc faults=): the data must still be all there. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define DUP_FD 70 /* a dup of full's read end */

struct tpipe {
	const char *name;
	int size;	 /* F_SETPIPE_SZ */
	size_t want;	 /* bytes to write; a write that would block ends it early */
	size_t written;	 /* bytes written in total, a pattern stream of seed */
	size_t consumed; /* bytes read back before the dump */
	size_t chunk;	 /* size of each write; 0: mixed sizes */
	int rfl, wfl;	 /* O_NONBLOCK of each end */
	bool rcloexec, wcloexec;
	uint32_t seed;
	int fd[2];
};

static struct tpipe pipes[] = {
	{ .name = "full",
	  .size = 256 << 10,
	  .want = 256 << 10,
	  .wfl = O_NONBLOCK,
	  .rcloexec = true,
	  .seed = 0x91be0000u },
	{ .name = "part",
	  .size = 128 << 10,
	  .want = 3 * 20000,
	  .consumed = 25000,
	  .chunk = 20000,
	  .rfl = O_NONBLOCK,
	  .wcloexec = true,
	  .seed = 0x91be1000u },
	{ .name = "empty", .size = 4096, .rcloexec = true, .wcloexec = true, .seed = 0x91be2000u },
};

#define NPIPES ((int)(sizeof(pipes) / sizeof(pipes[0])))

/* Write up to p->want bytes (the write end is nonblocking now); sets p->written. */
static int write_stream(struct tpipe *p, const unsigned char *buf)
{
	/* mixed sizes, so the pipe holds buffers of several fills */
	static const size_t mixed[] = { 1, 4095, 4097, 20000, 333, 65536 };
	size_t done = 0;

	for (int i = 0; done < p->want; i++) {
		size_t n = p->chunk ? p->chunk : mixed[i % 6];
		ssize_t w;

		if (n > p->want - done)
			n = p->want - done;
		w = write(p->fd[1], buf + done, n);
		if (w < 0 && errno == EAGAIN)
			break;
		if (w < 0)
			return -1;
		done += (size_t)w;
	}
	p->written = done;
	return 0;
}

static int setup(struct tpipe *p)
{
	unsigned char *buf = malloc(p->want + 1), *rd = malloc(p->consumed + 1);
	int ret = -1;

	if (!buf || !rd || pipe2(p->fd, O_NONBLOCK))
		goto out;
	if (fcntl(p->fd[0], F_SETPIPE_SZ, p->size) != p->size)
		goto out;
	test_fill_pattern(buf, p->want, p->seed);
	if (write_stream(p, buf))
		goto out;
	if (p->written < p->want && p->written < (size_t)p->size * 3 / 4) {
		errno = 0;
		test_msg("%s pipe: only %zu of %zu bytes went in", p->name, p->written, p->want);
		goto out;
	}
	if (p->consumed && read(p->fd[0], rd, p->consumed) != (ssize_t)p->consumed)
		goto out;
	if (fcntl(p->fd[0], F_SETFL, p->rfl) || fcntl(p->fd[1], F_SETFL, p->wfl) ||
	    fcntl(p->fd[0], F_SETFD, p->rcloexec ? FD_CLOEXEC : 0) ||
	    fcntl(p->fd[1], F_SETFD, p->wcloexec ? FD_CLOEXEC : 0))
		goto out;
	ret = 0;
out:
	free(buf);
	free(rd);
	return ret;
}

static int check_end(const struct tpipe *p, int end, ino_t ino)
{
	int fd = p->fd[end], fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);
	int want_fl = (end ? O_WRONLY : O_RDONLY) | (end ? p->wfl : p->rfl);
	bool want_cloexec = end ? p->wcloexec : p->rcloexec;
	struct stat st;

	if (fl < 0 || fdfl < 0 || fstat(fd, &st)) {
		fail_errno("%s pipe: fcntl/fstat of fd %d", p->name, fd);
		return -1;
	}
	if ((fl & (O_ACCMODE | O_NONBLOCK)) != want_fl || !(fdfl & FD_CLOEXEC) != !want_cloexec) {
		fail("%s pipe fd %d: F_GETFL %#o F_GETFD %d, expected %#o (access mode, "
		     "O_NONBLOCK) and %s",
		     p->name, fd, fl, fdfl, want_fl, want_cloexec ? "FD_CLOEXEC" : "no FD_CLOEXEC");
		return -1;
	}
	if (!S_ISFIFO(st.st_mode) || st.st_ino != ino) {
		fail("%s pipe fd %d: mode %#o inode %ju, expected a pipe with inode %ju", p->name,
		     fd, st.st_mode, (uintmax_t)st.st_ino, (uintmax_t)ino);
		return -1;
	}
	return 0;
}

/* Everything but the data: sizes, flags, fill. */
static int check_state(const struct tpipe *p)
{
	size_t left = p->written - p->consumed;
	struct stat st;
	int sz, avail = -1;

	if (fstat(p->fd[0], &st) || check_end(p, 0, st.st_ino) || check_end(p, 1, st.st_ino))
		return -1;
	sz = fcntl(p->fd[1], F_GETPIPE_SZ);
	if (sz != p->size || ioctl(p->fd[0], FIONREAD, &avail) || avail != (int)left) {
		fail("%s pipe: F_GETPIPE_SZ %d FIONREAD %d, expected %d and %zu", p->name, sz,
		     avail, p->size, left);
		return -1;
	}
	return 0;
}

/* Close the write end and read to EOF: exactly the bytes in flight. */
static int check_data(struct tpipe *p)
{
	unsigned char *all = malloc(p->written + 1), *got = malloc(p->written + 4096);
	size_t left = p->written - p->consumed, n = 0;
	int ret = -1;

	if (!all || !got || close(p->fd[1])) {
		fail_errno("%s pipe: malloc/close of the write end", p->name);
		goto out;
	}
	test_fill_pattern(all, p->written, p->seed);
	for (;;) {
		ssize_t r = read(p->fd[0], got + n, left + 4096 - n);

		if (r < 0) {
			fail_errno("%s pipe: read after %zu bytes (the write end is closed: a "
				   "writer is left somewhere?)",
				   p->name, n);
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > left)
			break;
	}
	if (n != left || memcmp(got, all + p->consumed, left)) {
		size_t bad = 0;

		while (bad < n && bad < left && got[bad] == all[p->consumed + bad])
			bad++;
		fail("%s pipe: read %zu bytes to EOF, expected %zu; first difference at byte %zu",
		     p->name, n, left, bad);
		goto out;
	}
	ret = 0;
out:
	free(all);
	free(got);
	return ret;
}

/* The dup shares full's read end: a flag set through one shows on the other. */
static int check_dup(void)
{
	int fd = pipes[0].fd[0];

	if (fcntl(DUP_FD, F_SETFL, O_NONBLOCK) || !(fcntl(fd, F_GETFL) & O_NONBLOCK) ||
	    fcntl(DUP_FD, F_SETFL, 0) || (fcntl(fd, F_GETFL) & O_NONBLOCK)) {
		fail("fd %d is not on the same file description as its dup fd %d any more", fd,
		     DUP_FD);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int bad = 0;

	if (test_init(argc, argv))
		return 1;
	for (int i = 0; i < NPIPES; i++) {
		if (setup(&pipes[i])) {
			fail_errno("setup: %s pipe (size %d, %zu bytes written, %zu read)",
				   pipes[i].name, pipes[i].size, pipes[i].written,
				   pipes[i].consumed);
			return 1;
		}
		if (check_state(&pipes[i]))
			return 1;
	}
	if (dup2(pipes[0].fd[0], DUP_FD) != DUP_FD) {
		fail_errno("setup: dup2(%d, %d)", pipes[0].fd[0], DUP_FD);
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	for (int i = 0; i < NPIPES; i++)
		bad |= check_state(&pipes[i]);
	if (bad || check_dup())
		return 1;
	if (close(DUP_FD)) {
		fail_errno("close(%d)", DUP_FD);
		return 1;
	}
	for (int i = 0; i < NPIPES; i++)
		bad |= check_data(&pipes[i]);
	if (bad)
		return 1;
	pass();
	return 0;
}
