/* cwd00: the working directory survives checkpoint/restore: getcwd(),
 * /proc/self/cwd and stat(".") (same device and inode) are what they were,
 * and a relative path still reaches the file made there. The directory is
 * a fresh temporary one two levels below the test's start directory. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define MARK	  "marker"
#define MARK_TEXT "cwd00 was here\n"

static int check_file(void)
{
	char buf[64];
	int fd = open(MARK, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		fail_errno("open ./%s", MARK);
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n != (ssize_t)strlen(MARK_TEXT) || memcmp(buf, MARK_TEXT, (size_t)n)) {
		fail("./%s holds %zd bytes '%.*s', expected '%s'", MARK, n, n > 0 ? (int)n : 0, buf,
		     MARK_TEXT);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char top[] = "cwd00.XXXXXX", path[PATH_MAX], cwd[PATH_MAX], proc[PATH_MAX];
	struct stat was, now;
	ssize_t n;
	int fd;

	if (test_init(argc, argv))
		return 1;
	if (!mkdtemp(top)) {
		fail_errno("setup: mkdtemp %s", top);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/sub dir", top); /* a space, for path parsers */
	if (mkdir(path, 0755) || chdir(path)) {
		fail_errno("setup: mkdir/chdir %s", path);
		return 1;
	}
	fd = open(MARK, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, MARK_TEXT, strlen(MARK_TEXT)) != (ssize_t)strlen(MARK_TEXT) ||
	    close(fd)) {
		fail_errno("setup: create %s/%s", path, MARK);
		return 1;
	}
	if (!getcwd(path, sizeof(path)) || stat(".", &was)) {
		fail_errno("setup: getcwd/stat");
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	if (!getcwd(cwd, sizeof(cwd))) {
		fail_errno("getcwd");
		return 1;
	}
	if (strcmp(cwd, path)) {
		fail("getcwd() is '%s', expected '%s'", cwd, path);
		return 1;
	}
	n = readlink("/proc/self/cwd", proc, sizeof(proc) - 1);
	if (n < 0 || ((proc[n] = '\0'), strcmp(proc, path))) {
		fail("/proc/self/cwd is '%s' (errno %d), expected '%s'", n < 0 ? "" : proc,
		     n < 0 ? errno : 0, path);
		return 1;
	}
	if (stat(".", &now)) {
		fail_errno("stat(\".\")");
		return 1;
	}
	if (now.st_dev != was.st_dev || now.st_ino != was.st_ino) {
		fail("'.' is dev %#jx inode %ju, expected dev %#jx inode %ju",
		     (uintmax_t)now.st_dev, (uintmax_t)now.st_ino, (uintmax_t)was.st_dev,
		     (uintmax_t)was.st_ino);
		return 1;
	}
	if (check_file())
		return 1;
	unlink(MARK);
	if (chdir("../..") == 0) {
		snprintf(path, sizeof(path), "%s/sub dir", top);
		rmdir(path);
		rmdir(top);
	}
	pass();
	return 0;
}
