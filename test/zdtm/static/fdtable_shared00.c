/* fdtable_shared00: a child that shares its parent's file descriptor table (clone with
 * CLONE_FILES, not a thread) shares it again after checkpoint/restore.
 *
 * The root opens fds 77 (a file) and 128 (a pipe's read end, its write end at 129) and clones
 * a child with CLONE_FILES; after the restore the child must see fds 77, 128 and 129 as the
 * root's (kcmp KCMP_FILES says one table, and kcmp KCMP_FILE the same open files), the data
 * the root wrote into the pipe before the dump must be readable by the child at fd 128, and an
 * fd the child opens after the restore must appear in the root's table. The child reports
 * through its exit status, which the root reads with waitpid. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define MSG "through the shared table"

static int kcmp(pid_t a, pid_t b, int type, long i1, long i2)
{
	return (int)syscall(SYS_kcmp, a, b, type, i1, i2);
}

static char stack[64 * 1024] __attribute__((aligned(16)));
static int ready[2];

/* The child: says it runs, waits for the root's SIGUSR1 (sent after the restore), then checks;
 * exit 0 when all is well, else a code naming the check. */
static int child(void *arg)
{
	char buf[64] = "";
	struct stat st;
	int fd;

	(void)arg;
	if (write(ready[1], "r", 1) != 1)
		return 10;
	for (;;) {
		sigset_t s;
		int sig;

		sigemptyset(&s);
		sigaddset(&s, SIGUSR1);
		if (sigwait(&s, &sig) == 0 && sig == SIGUSR1)
			break;
	}
	if (kcmp(getpid(), getppid(), KCMP_FILES, 0, 0) != 0)
		return 11;
	if (fstat(77, &st) || !S_ISREG(st.st_mode))
		return 12;
	if (read(128, buf, sizeof(buf)) != (ssize_t)strlen(MSG) + 1 || strcmp(buf, MSG))
		return 13;
	fd = open("/dev/null", O_RDONLY);
	if (fd < 0)
		return 14;
	if (write(129, &fd, sizeof(fd)) != sizeof(fd))
		return 15;
	return 0;
}

int main(int argc, char **argv)
{
	int p[2], fd, st, got = -1;
	sigset_t s;
	char c;
	pid_t pid;

	if (test_init(argc, argv))
		return 1;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigprocmask(SIG_BLOCK, &s, NULL);
	fd = open("fdtable.file", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || dup2(fd, 77) != 77 || close(fd) || pipe(p) || dup2(p[0], 128) != 128 ||
	    dup2(p[1], 129) != 129 || close(p[0]) || close(p[1]) || pipe(ready)) {
		fail_errno("setup: fds");
		return 1;
	}
	pid = clone(child, stack + sizeof(stack), CLONE_FILES | SIGCHLD, NULL);
	if (pid < 0 || read(ready[0], &c, 1) != 1 || close(ready[0]) || close(ready[1])) {
		fail_errno("setup: clone with CLONE_FILES");
		return 1;
	}
	if (write(129, MSG, strlen(MSG) + 1) != (ssize_t)strlen(MSG) + 1) {
		fail_errno("setup: write into the pipe");
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	if (kcmp(getpid(), pid, KCMP_FILES, 0, 0) != 0) {
		fail("the child %d does not share the root's fd table (kcmp KCMP_FILES)", pid);
		kill(pid, SIGKILL);
		return 1;
	}
	if (kill(pid, SIGUSR1) || waitpid(pid, &st, 0) != pid) {
		fail_errno("signal or wait for the child %d", pid);
		return 1;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		fail(
		    "the child's checks failed: status %#x (exit 11 table, 12 fd 77, 13 pipe data, "
		    "14/15 open/write)",
		    st);
		return 1;
	}
	if (read(128, &got, sizeof(got)) != sizeof(got) || fcntl(got, F_GETFD) < 0) {
		fail_errno(
		    "the fd %d the child opened after the restore is not in the root's table", got);
		return 1;
	}
	unlink("fdtable.file");
	pass();
	return 0;
}
