/* deleted02: a file deleted while open stays one file across checkpoint/restore, however the
 * tree reaches it, and comes back when its directory was deleted too. After the restore:
 * - a deleted file held through an fd and a MAP_SHARED mapping of the same task: a write
 *   through the fd shows in the mapping and a store into the mapping is read through the fd
 *   (restore used to make a second copy of the file for the mapping);
 * - the same deleted file opened on its own (another open file description, by way of
 *   /proc/self/fd) by a child: the child's fd and the parent's are one inode (fstat), a write
 *   by either is read by the other;
 * - a deleted file whose directory was removed after it: the restore succeeds (it used to fail),
 *   /proc/self/fd/N reads "DIR/NAME (deleted)" as before and the data are there;
 * - files opened O_WRONLY and O_APPEND keep their mode: a write through the O_APPEND fd lands
 *   at the end, a read of the O_WRONLY fd fails with EBADF. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PG  4096
#define DIR "deleted02.dir"

struct ans {
	dev_t dev;
	ino_t ino;
	char seen[16]; /* what the child read at offset 100 */
};

/* The child: its own description of the shared file; on each command byte from the parent it
 * answers with its fstat and what it reads at 100, then writes "from child" at 200. */
static void child(int fd, int cmd, int ans)
{
	char proc[64], c;
	struct ans a;
	int own;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	own = open(proc, O_RDWR);
	if (own < 0)
		_exit(2);
	close(fd);
	while (read(cmd, &c, 1) == 1) {
		struct stat st;

		memset(&a, 0, sizeof(a));
		if (fstat(own, &st) || pread(own, a.seen, sizeof(a.seen) - 1, 100) < 0 ||
		    pwrite(own, "from child", 10, 200) != 10)
			_exit(3);
		a.dev = st.st_dev;
		a.ino = st.st_ino;
		if (write(ans, &a, sizeof(a)) != sizeof(a))
			_exit(4);
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	char dlink[PATH_MAX], dlink_after[PATH_MAX], buf[32];
	int mfd, sfd, dfd, wfd, afd, cmd[2], ans[2], status, ret = 0;
	struct stat st;
	struct ans a;
	char *map;
	pid_t kid;

	if (test_init(argc, argv))
		return 1;
	/* fd + mapping */
	mfd = open("deleted02.mapped", O_RDWR | O_CREAT | O_EXCL, 0600);
	if (mfd < 0 || ftruncate(mfd, 2 * PG) ||
	    (map = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0)) == MAP_FAILED ||
	    unlink("deleted02.mapped")) {
		fail_errno("setup: the mapped file");
		return 1;
	}
	memcpy(map, "through the map", 15);
	/* shared with a child that opens it on its own */
	sfd = open("deleted02.shared", O_RDWR | O_CREAT | O_EXCL, 0600);
	if (sfd < 0 || pwrite(sfd, "before", 6, 0) != 6 || pipe(cmd) || pipe(ans)) {
		fail_errno("setup: the shared file");
		return 1;
	}
	kid = fork();
	if (kid < 0) {
		fail_errno("fork");
		return 1;
	}
	if (!kid) {
		close(cmd[1]);
		close(ans[0]);
		child(sfd, cmd[0], ans[1]);
	}
	close(cmd[0]);
	close(ans[1]);
	/* the child's own description is made once it answers */
	if (write(cmd[1], "x", 1) != 1 || read(ans[0], &a, sizeof(a)) != sizeof(a) ||
	    unlink("deleted02.shared")) {
		fail_errno("setup: the child's first answer");
		return 1;
	}
	/* in a directory deleted after it */
	if (mkdir(DIR, 0700) || (dfd = open(DIR "/inner", O_RDWR | O_CREAT, 0600)) < 0 ||
	    write(dfd, "in a deleted dir", 16) != 16 || unlink(DIR "/inner") || rmdir(DIR) ||
	    test_fd_link(dfd, dlink, sizeof(dlink))) {
		fail_errno("setup: the file in a deleted directory");
		return 1;
	}
	/* O_WRONLY, O_APPEND */
	wfd = open("deleted02.wronly", O_WRONLY | O_CREAT | O_EXCL, 0200);
	afd = open("deleted02.append", O_WRONLY | O_APPEND | O_CREAT | O_EXCL, 0600);
	if (wfd < 0 || afd < 0 || write(wfd, "write only", 10) != 10 ||
	    write(afd, "append", 6) != 6 || lseek(afd, 0, SEEK_SET) || unlink("deleted02.wronly") ||
	    unlink("deleted02.append")) {
		fail_errno("setup: O_WRONLY / O_APPEND files");
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	/* fd and mapping are one file */
	if (pwrite(mfd, "FD", 2, 0) != 2 || memcmp(map, "FDrough the map", 15)) {
		fail("mapped file: after a write of \"FD\" at 0 through fd %d the mapping reads "
		     "'%.15s', expected 'FDrough the map': not the same file",
		     mfd, map);
		ret = -1;
	}
	memcpy(map + PG, "MAP", 3);
	if (pread(mfd, buf, 3, PG) != 3 || memcmp(buf, "MAP", 3)) {
		fail("mapped file: a store into the mapping is not read through fd %d", mfd);
		ret = -1;
	}
	/* parent and child share one inode */
	if (fstat(sfd, &st) || pwrite(sfd, "from parent", 11, 100) != 11 ||
	    write(cmd[1], "x", 1) != 1 || read(ans[0], &a, sizeof(a)) != sizeof(a)) {
		fail_errno("shared file: asking the child");
		ret = -1;
	} else if (a.dev != st.st_dev || a.ino != st.st_ino || strcmp(a.seen, "from parent") ||
		   pread(sfd, buf, 10, 200) != 10 || memcmp(buf, "from child", 10)) {
		fail("shared file: the child's fd is %#jx:%ju and reads '%s', the parent's is "
		     "%#jx:%ju: not one file",
		     (uintmax_t)a.dev, (uintmax_t)a.ino, a.seen, (uintmax_t)st.st_dev,
		     (uintmax_t)st.st_ino);
		ret = -1;
	}
	close(cmd[1]);
	if (waitpid(kid, &status, 0) != kid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the child ended with status %#x", status);
		ret = -1;
	}
	/* the file of the deleted directory */
	memset(buf, 0, sizeof(buf));
	if (test_fd_link(dfd, dlink_after, sizeof(dlink_after)) || strcmp(dlink, dlink_after) ||
	    pread(dfd, buf, 16, 0) != 16 || strcmp(buf, "in a deleted dir")) {
		fail("deleted directory: fd %d reads '%s' and links to '%s'; before '%s'", dfd, buf,
		     dlink_after, dlink);
		ret = -1;
	}
	if (access(DIR, F_OK) == 0 || errno != ENOENT) {
		fail("deleted directory: %s exists after the restore", DIR);
		ret = -1;
	}
	/* the modes */
	if (read(wfd, buf, 1) != -1 || errno != EBADF) {
		fail("O_WRONLY: a read of fd %d did not fail with EBADF", wfd);
		ret = -1;
	}
	if (write(afd, "!", 1) != 1 || fstat(afd, &st) || st.st_size != 7 ||
	    lseek(afd, 0, SEEK_CUR) != 7) {
		fail("O_APPEND: a write did not go to the end (size %jd)", (intmax_t)st.st_size);
		ret = -1;
	}
	if (!ret)
		pass();
	return 0;
}
