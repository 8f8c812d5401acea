/* umask00: the file mode creation mask survives checkpoint/restore: umask()
 * and the Umask line of /proc/self/status give the value set before, and a
 * file and a directory created afterwards get their modes cut by it. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define MASK 0037 /* unusual on purpose: neither 022 nor 002 nor 0 */

static int status_umask(unsigned *m)
{
	size_t len;
	char *st = test_read_file("/proc/self/status", &len), *p;
	int ret = -1;

	if (!st)
		return -1;
	p = strstr(st, "\nUmask:");
	if (p && sscanf(p + 7, "%o", m) == 1)
		ret = 0;
	free(st);
	return ret;
}

/* Create path as a file (or a directory) with mode 0777 and check the mode. */
static int check_create(const char *path, int dir)
{
	struct stat st;
	int fd = -1;

	if (dir ? mkdir(path, 0777) : (fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0777)) < 0) {
		fail_errno("create %s", path);
		return -1;
	}
	if (fd >= 0)
		close(fd);
	if (stat(path, &st)) {
		fail_errno("stat %s", path);
		return -1;
	}
	if ((st.st_mode & 07777) != (0777 & ~MASK)) {
		fail("%s %s created with 0777 has mode %04o, expected %04o under umask %04o",
		     dir ? "directory" : "file", path, (unsigned)(st.st_mode & 07777),
		     (unsigned)(0777 & ~MASK), (unsigned)MASK);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char dir[] = "umask00.XXXXXX", file[64], sub[64];
	unsigned proc;
	mode_t now;

	if (test_init(argc, argv))
		return 1;
	if (!mkdtemp(dir)) {
		fail_errno("setup: mkdtemp %s", dir);
		return 1;
	}
	umask(MASK);
	if (test_daemon())
		return 1;
	test_waitsig();

	now = umask(MASK); /* the only way to read it: sets it back at once */
	if (now != MASK) {
		fail("umask() is %04o, expected %04o", (unsigned)now, (unsigned)MASK);
		return 1;
	}
	if (status_umask(&proc)) {
		fail_errno("Umask from /proc/self/status");
		return 1;
	}
	if (proc != MASK) {
		fail("Umask in /proc/self/status is %04o, expected %04o", proc, (unsigned)MASK);
		return 1;
	}
	snprintf(file, sizeof(file), "%s/file", dir);
	snprintf(sub, sizeof(sub), "%s/dir", dir);
	if (check_create(file, 0) || check_create(sub, 1))
		return 1;
	unlink(file);
	rmdir(sub);
	rmdir(dir);
	pass();
	return 0;
}
