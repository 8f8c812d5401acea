/* deleted00: an open file that was unlinked survives checkpoint/restore: the
 * fd still reaches a deleted file (st_nlink 0) on the same filesystem with
 * the same size, contents and offset, and /proc/self/fd/N still reads
 * "PATH (deleted)". A new file was created at the same path after the
 * unlink: it must stay a different file, with its own contents. (The inode
 * number may change: once the dumped task is gone, so is the deleted inode,
 * and a restore can only make a new one with the same contents.) */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define SIZE	 (3 * 4096 + 500)
#define OFFSET	 5000
#define SEED	 0xde1e7e00u
#define NEW_TEXT "a new file at the old path\n"

static int check_deleted(int fd, const struct stat *was, const char *was_link)
{
	unsigned char buf[SIZE];
	char link[PATH_MAX];
	struct stat st;
	ssize_t bad, n;
	off_t off = lseek(fd, 0, SEEK_CUR);

	if (fstat(fd, &st) || test_fd_link(fd, link, sizeof(link))) {
		fail_errno("fstat/readlink of fd %d", fd);
		return -1;
	}
	if (st.st_dev != was->st_dev || st.st_nlink != 0 || st.st_size != SIZE) {
		fail("fd %d: dev %#jx nlink %ju size %jd, expected dev %#jx nlink 0 size %d", fd,
		     (uintmax_t)st.st_dev, (uintmax_t)st.st_nlink, (intmax_t)st.st_size,
		     (uintmax_t)was->st_dev, SIZE);
		return -1;
	}
	if (strcmp(link, was_link) || strlen(link) < 10 ||
	    strcmp(link + strlen(link) - 10, " (deleted)")) {
		fail("/proc/self/fd/%d is '%s', expected '%s'", fd, link, was_link);
		return -1;
	}
	if (off != OFFSET) {
		fail("fd %d offset is %jd, expected %d", fd, (intmax_t)off, OFFSET);
		return -1;
	}
	n = pread(fd, buf, SIZE, 0);
	bad = n == SIZE ? test_check_pattern(buf, SIZE, SEED) : 0;
	if (bad >= 0) {
		fail("deleted file contents: read %zd of %d bytes, first bad byte at %zd", n, SIZE,
		     bad);
		return -1;
	}
	return 0;
}

/* The new file at path is not the one deleted_fd reaches. */
static int check_new(const char *path, int deleted_fd)
{
	char buf[64];
	struct stat st, old;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) || fstat(deleted_fd, &old)) {
		fail_errno("open/fstat the new %s", path);
		return -1;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (st.st_ino == old.st_ino || n != (ssize_t)strlen(NEW_TEXT) ||
	    memcmp(buf, NEW_TEXT, (size_t)n)) {
		fail("the new %s: inode %ju (deleted one: %ju), %zd bytes, expected %zu bytes "
		     "'%s'",
		     path, (uintmax_t)st.st_ino, (uintmax_t)old.st_ino, n, strlen(NEW_TEXT),
		     NEW_TEXT);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char dir[] = "deleted00.XXXXXX", path[64], link[PATH_MAX];
	unsigned char *buf = malloc(SIZE);
	struct stat was;
	int fd, nfd;

	if (test_init(argc, argv))
		return 1;
	if (!buf || !mkdtemp(dir)) {
		fail_errno("setup: mkdtemp %s", dir);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/victim", dir);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	test_fill_pattern(buf, SIZE, SEED);
	if (fd < 0 || write(fd, buf, SIZE) != SIZE || lseek(fd, OFFSET, SEEK_SET) != OFFSET ||
	    fstat(fd, &was) || unlink(path)) {
		fail_errno("setup: %s", path);
		return 1;
	}
	nfd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (nfd < 0 || write(nfd, NEW_TEXT, strlen(NEW_TEXT)) != (ssize_t)strlen(NEW_TEXT) ||
	    close(nfd) || test_fd_link(fd, link, sizeof(link))) {
		fail_errno("setup: the new %s", path);
		return 1;
	}
	if (check_deleted(fd, &was, link))
		return 1; /* the test's own premise */
	if (test_daemon())
		return 1;
	test_waitsig();

	if (check_deleted(fd, &was, link) || check_new(path, fd))
		return 1;
	close(fd);
	unlink(path);
	rmdir(dir);
	free(buf);
	pass();
	return 0;
}
