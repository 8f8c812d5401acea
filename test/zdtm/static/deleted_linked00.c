/* deleted_linked00: a file unlinked while open but still linked by another name survives
 * checkpoint/restore as the same inode, not a copy: the fd still reads "PATH (deleted)" at its
 * offset, is the inode the other name reaches (same inode number, nlink 1), and a write through
 * it shows through the other name; a shared mapping of it too (a write to the mapping shows
 * through the other name). A new file made at the old path after the unlink stays a file of
 * its own. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define SIZE   8192
#define OFFSET 1234
#define SEED   0x11e4ed00u
#define NEWTXT "a new file at the old path\n"

int main(int argc, char **argv)
{
	char dir[] = "deleted_linked00.XXXXXX", path[64], other[64], lnk[PATH_MAX], was[PATH_MAX];
	unsigned char *buf = malloc(SIZE), *map, c;
	struct stat a, b;
	int fd, nfd, ofd;

	if (test_init(argc, argv))
		return 1;
	if (!buf || !mkdtemp(dir)) {
		fail_errno("setup: mkdtemp");
		return 1;
	}
	{ /* the file system must give file handles (the dump keeps the file by one) */
		struct {
			struct file_handle fh;
			unsigned char b[128];
		} h = { .fh.handle_bytes = 128 };
		int mnt;

		if (name_to_handle_at(AT_FDCWD, dir, &h.fh, &mnt, 0) && errno == EOPNOTSUPP) {
			skip("the file system of %s gives no file handles", dir);
			return 0;
		}
	}
	snprintf(path, sizeof(path), "%s/victim", dir);
	snprintf(other, sizeof(other), "%s/other-name", dir);
	test_fill_pattern(buf, SIZE, SEED);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0640);
	if (fd < 0 || write(fd, buf, SIZE) != SIZE || link(path, other) || unlink(path) ||
	    lseek(fd, OFFSET, SEEK_SET) != OFFSET) {
		fail_errno("setup: %s", path);
		return 1;
	}
	map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	nfd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (map == MAP_FAILED || nfd < 0 || write(nfd, NEWTXT, strlen(NEWTXT)) < 0 || close(nfd) ||
	    test_fd_link(fd, was, sizeof(was))) {
		fail_errno("setup: the mapping, or a new file at %s", path);
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	if (fstat(fd, &a) || stat(other, &b) || test_fd_link(fd, lnk, sizeof(lnk))) {
		fail_errno("fstat/stat/readlink");
		return 1;
	}
	if (a.st_ino != b.st_ino || a.st_dev != b.st_dev || a.st_nlink != 1 || strcmp(lnk, was) ||
	    lseek(fd, 0, SEEK_CUR) != OFFSET) {
		fail(
		    "the fd: inode %ju (the other name's %ju), nlink %ju, link '%s' (was '%s'), "
		    "offset %jd: expected the other name's inode, nlink 1, the same link, offset %d",
		    (uintmax_t)a.st_ino, (uintmax_t)b.st_ino, (uintmax_t)a.st_nlink, lnk, was,
		    (intmax_t)lseek(fd, 0, SEEK_CUR), OFFSET);
		return 1;
	}
	if (test_check_pattern(map, SIZE, SEED) >= 0) {
		fail("the shared mapping does not hold the file's contents");
		return 1;
	}
	/* the same inode: writes through the fd and the mapping show through the other name */
	ofd = open(other, O_RDONLY);
	map[10] = 0xa5;
	if (ofd < 0 || pwrite(fd, "Z", 1, 20) != 1 || pread(ofd, &c, 1, 10) != 1 || c != 0xa5 ||
	    pread(ofd, &c, 1, 20) != 1 || c != 'Z') {
		fail("a write through the restored fd or mapping does not show through %s", other);
		return 1;
	}
	nfd = open(path, O_RDONLY);
	if (nfd < 0 || fstat(nfd, &b) || b.st_ino == a.st_ino || b.st_size != strlen(NEWTXT)) {
		fail("the new file at %s is not a file of its own any more", path);
		return 1;
	}
	pass();
	return 0;
}
