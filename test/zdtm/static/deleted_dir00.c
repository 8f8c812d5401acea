/* deleted_dir00: directories deleted while in use survive checkpoint/restore:
 *
 *   child C   its cwd is a directory that was removed (rmdir) after it entered it
 *   main      an fd (O_RDONLY|O_DIRECTORY) on another removed directory, mode 0751, and a
 *             second fd that dup()s it (one open file description)
 *
 * After the restore: /proc/PID/cwd of C and /proc/self/fd/N read "PATH (deleted)" with the
 * dumped paths; they are directories with no links whose mode and owner are as set; creating
 * a file in them fails with ENOENT (a removed directory takes no new names), as before; the
 * two fds are one description (kcmp); C's getcwd() fails with ENOENT, as before the dump.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

/* "PATH (deleted)", a directory with no links, mode m, and no new names in it. */
static int check_dir(const char *what, const char *link_of, int dfd, const char *want, mode_t m)
{
	char link[PATH_MAX + 16], exp[PATH_MAX + 16];
	struct stat st;
	ssize_t n = readlink(link_of, link, sizeof(link) - 1);

	snprintf(exp, sizeof(exp), "%s (deleted)", want);
	if (n < 0 || fstat(dfd, &st)) {
		fail_errno("%s: can't read %s", what, link_of);
		return -1;
	}
	link[n] = 0;
	if (strcmp(link, exp) || !S_ISDIR(st.st_mode) || st.st_nlink || (st.st_mode & 07777) != m) {
		fail("%s: %s reads \"%s\" (want \"%s\"), mode %o, %lu links", what, link_of, link,
		     exp, st.st_mode, (unsigned long)st.st_nlink);
		return -1;
	}
	if (openat(dfd, "new", O_CREAT | O_WRONLY, 0600) >= 0 || errno != ENOENT) {
		fail("%s: a file could be made in the removed directory (errno %d)", what, errno);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char base[PATH_MAX], dc[PATH_MAX + 16], dm[PATH_MAX + 16], buf[PATH_MAX], c;
	int go[2], res[2], fd, fd2, st;
	pid_t cp;

	if (test_init(argc, argv))
		return 1;
	if (!getcwd(base, sizeof(base)) || pipe(go) || pipe(res))
		fail_errno("setup");
	snprintf(dc, sizeof(dc), "%s/gone-cwd", base);
	snprintf(dm, sizeof(dm), "%s/gone-dir", base);
	if (mkdir(dc, 0700) || mkdir(dm, 0751) || chmod(dm, 0751))
		fail_errno("setup: mkdir");
	cp = fork();
	if (cp == 0) {
		int ok;

		if (chdir(dc) || write(res[1], "r", 1) != 1)
			_exit(2);
		while (read(go[0], &c, 1) < 0 && errno == EINTR)
			;
		ok = !check_dir("C's cwd", "/proc/self/cwd", open(".", O_RDONLY), dc, 0700) &&
		     !getcwd(buf, sizeof(buf)) && errno == ENOENT;
		_exit(ok ? 0 : 1);
	}
	fd = open(dm, O_RDONLY | O_DIRECTORY);
	fd2 = dup(fd);
	if (cp < 0 || read(res[0], &c, 1) != 1 || fd < 0 || fd2 < 0 || rmdir(dc) || rmdir(dm))
		fail_errno("setup: child or rmdir");

	if (test_daemon())
		return 1;
	test_waitsig();

	snprintf(buf, sizeof(buf), "/proc/self/fd/%d", fd);
	check_dir("main's fd", buf, fd, dm, 0751);
	if (syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, fd, fd2))
		fail("the two fds on the removed directory are no longer one description");
	if (write(go[1], "g", 1) != 1 || waitpid(cp, &st, 0) != cp || !WIFEXITED(st) ||
	    WEXITSTATUS(st))
		fail("child C's check failed (status %#x; its FAIL line says why)", st);
	pass();
	return 0;
}
