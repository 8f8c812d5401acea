/* root00: the root directory survives checkpoint/restore: after chroot()
 * into the test's start directory (its work dir), stat("/") is still that
 * directory (device and inode), "/.." is "/" again, the marker file made
 * there is at "/NAME", and the real root's /proc is out of reach.
 * The runner's --pidfile is an absolute path into the start directory,
 * unreachable after the chroot; the test rewrites it relative to the cwd
 * before test_init(), so test_daemon() writes it in place. Needs root. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define MARK_TEXT "root00 marker\n"

/* --pidfile=CWD/NAME -> --pidfile=NAME; 0, or -1 when it is elsewhere. */
static int relative_pidfile(int argc, char **argv, char *buf, size_t len)
{
	char cwd[PATH_MAX];
	size_t n;

	if (!getcwd(cwd, sizeof(cwd)))
		return -1;
	n = strlen(cwd);
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		const char *path = argv[i] + 10;

		if (strncmp(argv[i], "--pidfile=", 10) || path[0] != '/')
			continue;
		if (strncmp(path, cwd, n) || path[n] != '/' || strchr(path + n + 1, '/'))
			return -1;
		snprintf(buf, len, "--pidfile=%s", path + n + 1);
		argv[i] = buf;
	}
	return 0;
}

static int same_dir(const char *path, const struct stat *want)
{
	struct stat st;

	if (stat(path, &st)) {
		fail_errno("stat(%s)", path);
		return -1;
	}
	if (st.st_dev != want->st_dev || st.st_ino != want->st_ino) {
		fail("'%s' is dev %#jx inode %ju, expected the chroot dir: dev %#jx inode %ju",
		     path, (uintmax_t)st.st_dev, (uintmax_t)st.st_ino, (uintmax_t)want->st_dev,
		     (uintmax_t)want->st_ino);
		return -1;
	}
	return 0;
}

static int check(const struct stat *root, const char *mark)
{
	char buf[64], cwd[PATH_MAX];
	ssize_t n;
	int fd;

	if (same_dir("/", root) || same_dir("/..", root))
		return -1;
	if (!getcwd(cwd, sizeof(cwd))) {
		fail_errno("getcwd");
		return -1;
	}
	if (strcmp(cwd, "/")) {
		fail("getcwd() is '%s', expected '/'", cwd);
		return -1;
	}
	fd = open(mark, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fail_errno("open %s (made in the new root)", mark);
		return -1;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n != (ssize_t)strlen(MARK_TEXT) || memcmp(buf, MARK_TEXT, (size_t)n)) {
		fail("%s holds %zd bytes, expected '%s'", mark, n, MARK_TEXT);
		return -1;
	}
	if (access("/proc/self", F_OK) == 0) {
		fail("/proc/self is reachable: the root is not the chroot dir");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char pidarg[PATH_MAX + 16], mark[] = "root00.mark.XXXXXX", abs_mark[sizeof(mark) + 1];
	struct stat root;
	int fd;

	if (relative_pidfile(argc, argv, pidarg, sizeof(pidarg))) {
		fprintf(stderr, "root00: --pidfile must name a file in the cwd\n");
		return 1;
	}
	if (test_init(argc, argv))
		return 1;
	fd = mkstemp(mark);
	if (fd < 0 || write(fd, MARK_TEXT, strlen(MARK_TEXT)) != (ssize_t)strlen(MARK_TEXT) ||
	    close(fd) || stat(".", &root)) {
		fail_errno("setup: marker file %s", mark);
		return 1;
	}
	if (chroot(".")) {
		if (errno == EPERM) {
			unlink(mark);
			skip("chroot needs CAP_SYS_CHROOT");
			return 0;
		}
		fail_errno("setup: chroot(\".\")");
		return 1;
	}
	snprintf(abs_mark, sizeof(abs_mark), "/%s", mark);
	if (chdir("/") || check(&root, abs_mark))
		return 1; /* the test's own premise */
	if (test_daemon())
		return 1;
	test_waitsig();

	if (check(&root, abs_mark))
		return 1;
	unlink(abs_mark);
	pass();
	return 0;
}
