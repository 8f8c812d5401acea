/* file00: open regular files survive checkpoint/restore with their fd
 * numbers, status flags (F_GETFL: access mode, O_APPEND, O_NONBLOCK,
 * O_NOATIME, O_SYNC, O_DIRECT), fd flags (FD_CLOEXEC), offsets (one beyond
 * EOF), identity (st_dev/st_ino, /proc/self/fd link) and contents; a dup()ed
 * fd still shares its offset, and O_APPEND still appends. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define SEED   0xf11e0000u
#define DUP_FD 100 /* a dup of fds[0], sharing its file description */

static const struct want {
	int fd;		  /* where the test puts it */
	const char *name; /* file in the temp dir */
	int flags;	  /* open() flags */
	size_t size;	  /* file size made at setup (0: leave as is) */
	off_t off;	  /* offset to seek to (-1: the end) */
} wants[] = {
	{ 40, "a", O_RDWR, 8192, 1234 },
	{ 41, "b", O_WRONLY | O_APPEND, 3000, -1 },
	{ 42, "a", O_RDONLY | O_NONBLOCK | O_NOATIME, 0, 4096 },
	{ 43, "d", O_RDWR | O_CLOEXEC | O_SYNC, 100, 10000 },
	{ 44, "e", O_RDONLY | O_DIRECT, 16384, 8192 },
};

#define NFDS ((int)(sizeof(wants) / sizeof(wants[0])))

struct seen {
	int fl, fd_flags;
	off_t off;
	dev_t dev;
	ino_t ino;
	char link[PATH_MAX];
	uint32_t crc; /* of the whole file */
};

static int observe(int fd, struct seen *s)
{
	char proc[64], *buf;
	struct stat st;
	ssize_t n;
	int rfd;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	s->fl = fcntl(fd, F_GETFL);
	s->fd_flags = fcntl(fd, F_GETFD);
	s->off = lseek(fd, 0, SEEK_CUR);
	n = readlink(proc, s->link, sizeof(s->link) - 1);
	if (s->fl < 0 || s->fd_flags < 0 || s->off < 0 || fstat(fd, &st) || n < 0)
		return -1;
	s->link[n] = '\0';
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	/* the contents through a description of its own: no offset moves */
	buf = malloc((size_t)st.st_size + 1);
	rfd = open(proc, O_RDONLY | O_CLOEXEC);
	n = buf && rfd >= 0 ? pread(rfd, buf, (size_t)st.st_size, 0) : -1;
	if (n == st.st_size)
		s->crc = test_crc32c(buf, (size_t)n);
	if (rfd >= 0)
		close(rfd);
	free(buf);
	return n == st.st_size ? 0 : -1;
}

static int compare(int fd, const struct seen *a, const struct seen *b)
{
	if (a->fl != b->fl || a->fd_flags != b->fd_flags || a->off != b->off) {
		fail("fd %d: F_GETFL %#o F_GETFD %d offset %jd, expected %#o %d %jd", fd, a->fl,
		     a->fd_flags, (intmax_t)a->off, b->fl, b->fd_flags, (intmax_t)b->off);
		return -1;
	}
	if (a->dev != b->dev || a->ino != b->ino || strcmp(a->link, b->link)) {
		fail("fd %d: %s (dev %#jx inode %ju), expected %s (dev %#jx inode %ju)", fd,
		     a->link, (uintmax_t)a->dev, (uintmax_t)a->ino, b->link, (uintmax_t)b->dev,
		     (uintmax_t)b->ino);
		return -1;
	}
	if (a->crc != b->crc) {
		fail("fd %d (%s): contents crc32c %#x, expected %#x", fd, a->link, a->crc, b->crc);
		return -1;
	}
	return 0;
}

static int open_one(const char *dir, const struct want *w, int *direct_ok)
{
	char path[PATH_MAX];
	int fd, flags = w->flags;

	snprintf(path, sizeof(path), "%s/%s", dir, w->name);
	if (w->size) { /* make the file with its contents */
		unsigned char *buf = aligned_alloc(4096, (w->size + 4095) & ~4095ul);
		int wfd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);

		if (!buf || wfd < 0)
			return -1;
		test_fill_pattern(buf, w->size, SEED + (uint64_t)w->fd);
		if (write(wfd, buf, w->size) != (ssize_t)w->size || close(wfd))
			return -1;
		free(buf);
	}
	fd = open(path, flags);
	if (fd < 0 && errno == EINVAL && (flags & O_DIRECT)) {
		test_msg("O_DIRECT refused on %s (EINVAL): fd %d opened without it", path, w->fd);
		*direct_ok = 0;
		fd = open(path, flags & ~O_DIRECT);
	}
	if (fd < 0 || dup3(fd, w->fd, flags & O_CLOEXEC) != w->fd || close(fd))
		return -1;
	return lseek(w->fd, w->off, w->off < 0 ? SEEK_END : SEEK_SET) < 0 ? -1 : 0;
}

/* The fds are what the test claims to set up. */
static int check_premise(const struct seen *was, int direct_ok)
{
	for (int i = 0; i < NFDS; i++) {
		const struct want *w = &wants[i];
		int status = w->flags & ~(O_CLOEXEC | O_ACCMODE | (direct_ok ? 0 : O_DIRECT));

		if ((was[i].fl & O_ACCMODE) != (w->flags & O_ACCMODE) ||
		    (was[i].fl & status) != status ||
		    !(was[i].fd_flags & FD_CLOEXEC) != !(w->flags & O_CLOEXEC) ||
		    (w->off >= 0 && was[i].off != w->off)) {
			fail("setup: fd %d has F_GETFL %#o F_GETFD %d offset %jd, set %#o at %jd",
			     w->fd, was[i].fl, was[i].fd_flags, (intmax_t)was[i].off, w->flags,
			     (intmax_t)w->off);
			return -1;
		}
	}
	return 0;
}

/* After the checks: the dup shares the offset, O_APPEND appends. */
static int check_behaviour(void)
{
	struct stat st;
	off_t off;

	if (lseek(wants[0].fd, 777, SEEK_SET) != 777 || (off = lseek(DUP_FD, 0, SEEK_CUR)) != 777) {
		fail("fd %d moved to 777, its dup fd %d is at %jd: the description is not shared",
		     wants[0].fd, DUP_FD, (intmax_t)lseek(DUP_FD, 0, SEEK_CUR));
		return -1;
	}
	lseek(wants[1].fd, 0, SEEK_SET);
	if (write(wants[1].fd, "+", 1) != 1 || fstat(wants[1].fd, &st)) {
		fail_errno("append to fd %d", wants[1].fd);
		return -1;
	}
	off = lseek(wants[1].fd, 0, SEEK_CUR);
	if (st.st_size != (off_t)wants[1].size + 1 || off != st.st_size) {
		fail("fd %d (O_APPEND) wrote at offset %jd, file size %jd, expected %zu and %zu",
		     wants[1].fd, (intmax_t)off - 1, (intmax_t)st.st_size, wants[1].size,
		     wants[1].size + 1);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char dir[] = "file00.XXXXXX", path[PATH_MAX];
	struct seen was[NFDS + 1], now;
	int direct_ok = 1, bad = 0;

	if (test_init(argc, argv))
		return 1;
	if (!mkdtemp(dir)) {
		fail_errno("setup: mkdtemp %s", dir);
		return 1;
	}
	for (int i = 0; i < NFDS; i++) {
		if (open_one(dir, &wants[i], &direct_ok)) {
			fail_errno("setup: fd %d on %s/%s", wants[i].fd, dir, wants[i].name);
			return 1;
		}
	}
	if (dup2(wants[0].fd, DUP_FD) != DUP_FD) {
		fail_errno("setup: dup2(%d, %d)", wants[0].fd, DUP_FD);
		return 1;
	}
	for (int i = 0; i <= NFDS; i++) {
		if (observe(i < NFDS ? wants[i].fd : DUP_FD, &was[i])) {
			fail_errno("setup: observe fd %d", i < NFDS ? wants[i].fd : DUP_FD);
			return 1;
		}
	}
	if (check_premise(was, direct_ok))
		return 1;
	if (test_daemon())
		return 1;
	test_waitsig();

	for (int i = 0; i <= NFDS; i++) {
		int fd = i < NFDS ? wants[i].fd : DUP_FD;

		if (observe(fd, &now)) {
			fail_errno("fd %d: fcntl/lseek/fstat/readlink/read", fd);
			bad++;
		} else if (compare(fd, &now, &was[i])) {
			bad++;
		}
	}
	if (bad || check_behaviour())
		return 1;
	for (int i = 0; i < NFDS; i++) {
		close(wants[i].fd);
		snprintf(path, sizeof(path), "%s/%s", dir, wants[i].name);
		unlink(path);
	}
	rmdir(dir);
	pass();
	return 0;
}
