/* deleted_node00: a FIFO and a character device node deleted while open survive
 * checkpoint/restore: the FIFO (mode 0640) with 11 bytes in it, opened read-write; a node of
 * /dev/null's device (1:3, mode 0604) opened read-write. After the restore /proc/self/fd reads
 * "PATH (deleted)" for both, fstat() shows the kind, mode, device and no links, the FIFO gives
 * back its bytes, and the node writes like /dev/null. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "zdtmtst.h"

static int check(int fd, const char *what, const char *path, mode_t mode, dev_t rdev)
{
	char link[PATH_MAX + 16], exp[PATH_MAX + 16], cwd[PATH_MAX];
	struct stat st;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if (!getcwd(cwd, sizeof(cwd)) || test_fd_link(fd, link, sizeof(link)) || fstat(fd, &st)) {
		fail_errno("%s: can't read it", what);
		return -1;
	}
	snprintf(exp, sizeof(exp), "%s/%s (deleted)", cwd, path);
	if (strcmp(link, exp) || st.st_mode != mode || st.st_nlink || st.st_rdev != rdev) {
		fail("%s: \"%s\" mode %o rdev %#lx links %lu; want \"%s\" %o %#lx 0", what, link,
		     st.st_mode, (unsigned long)st.st_rdev, (unsigned long)st.st_nlink, exp, mode,
		     (unsigned long)rdev);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char buf[32];
	int f, n;

	if (test_init(argc, argv))
		return 1;
	if (mkfifo("gone-fifo", 0640) || chmod("gone-fifo", 0640) ||
	    mknod("gone-null", S_IFCHR | 0604, makedev(1, 3)) || chmod("gone-null", 0604))
		fail_errno("setup: nodes");
	f = open("gone-fifo", O_RDWR | O_NONBLOCK);
	n = open("gone-null", O_RDWR);
	if (f < 0 || n < 0 || write(f, "hello fifo!", 11) != 11 || unlink("gone-fifo") ||
	    unlink("gone-null"))
		fail_errno("setup: open, fill, unlink");

	if (test_daemon())
		return 1;
	test_waitsig();

	if (check(f, "the FIFO", "gone-fifo", S_IFIFO | 0640, 0) ||
	    check(n, "the device node", "gone-null", S_IFCHR | 0604, makedev(1, 3)))
		return 0;
	memset(buf, 0, sizeof(buf));
	if (read(f, buf, sizeof(buf)) != 11 || strcmp(buf, "hello fifo!"))
		fail("the FIFO gives back \"%s\"", buf);
	else if (write(n, "x", 1) != 1)
		fail_errno("writing into the device node");
	else
		pass();
	return 0;
}
