/* symlink_path00: a symlink opened with O_PATH|O_NOFOLLOW survives checkpoint/restore as the
 * link itself: after the restore the fd is O_PATH, fstat() shows the symlink's own inode (the
 * one lstat() of its path gives), and readlinkat(fd, "") reads its target. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	struct stat a, b;
	char t[64];
	ssize_t n;
	int fd;

	if (test_init(argc, argv))
		return 1;
	if (symlink("no-such-target", "lnk") || (fd = open("lnk", O_PATH | O_NOFOLLOW)) < 0) {
		fail_errno("setup: symlink");
		return 1;
	}

	if (test_daemon())
		return 1;
	test_waitsig();

	n = readlinkat(fd, "", t, sizeof(t) - 1);
	if (n >= 0)
		t[n] = 0;
	if (fstat(fd, &a) || lstat("lnk", &b) || !S_ISLNK(a.st_mode) || a.st_ino != b.st_ino ||
	    a.st_dev != b.st_dev)
		fail("the fd is no longer on the symlink itself (mode %o)", a.st_mode);
	else if (n < 0 || strcmp(t, "no-such-target"))
		fail("readlinkat(fd, \"\") reads \"%s\"", n < 0 ? "(error)" : t);
	else if (!(fcntl(fd, F_GETFL) & O_PATH))
		fail("the fd is not O_PATH");
	else
		pass();
	return 0;
}
