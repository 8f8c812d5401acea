/* flock_outside00: a flock held through an open file description that a process outside the
 * tree also has is refused (expect=dumpfail): restore would take the lock again on a new
 * description while the outsider keeps the old one, and the write lock could not be taken.
 * The root opens a file and takes LOCK_EX; a grandchild, orphaned so that it lives outside the
 * tree (reparented to the runner, a subreaper), keeps the same description until the root
 * exits. The dump must fail naming the lock's fd and the outsider, and leave the lock as it
 * was: another description of the file still can't take it. At the end the root ends the
 * outsider itself (its pid in a file), so nothing of the test outlives it. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PATH "flock_outside00.file"
#define PIDF "flock_outside00.pid"

/* The grandchild: say who it is, then hold fd (inherited) until the root, pid root, is gone. */
static void outsider(pid_t root)
{
	int pfd = (int)syscall(SYS_pidfd_open, root, 0);
	struct pollfd p = { .fd = pfd, .events = POLLIN };
	FILE *f = fopen(PIDF ".tmp", "w");

	if (pfd < 0 || !f || fprintf(f, "%d\n", getpid()) < 0 || fclose(f) ||
	    rename(PIDF ".tmp", PIDF))
		_exit(1);
	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
	_exit(0);
}

/* End the outsider and wait until it is gone. */
static void end_outsider(void)
{
	FILE *f = fopen(PIDF, "r");
	int pid = 0, pfd;
	struct pollfd p;

	if (!f || fscanf(f, "%d", &pid) != 1 || pid <= 0) {
		if (f)
			fclose(f);
		return;
	}
	fclose(f);
	pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	kill(pid, SIGKILL);
	p = (struct pollfd){ .fd = pfd, .events = POLLIN };
	while (pfd >= 0 && poll(&p, 1, -1) < 0 && errno == EINTR)
		;
	unlink(PIDF);
}

int main(int argc, char **argv)
{
	int fd, other, st;
	pid_t root, mid;

	if (test_init(argc, argv))
		return 1;
	fd = open(PATH, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB)) {
		fail_errno("setup: open and flock %s", PATH);
		return 1;
	}
	root = getpid();
	mid = fork();
	if (mid == 0) {
		if (fork() == 0)
			outsider(root);
		_exit(0);
	}
	if (mid < 0 || waitpid(mid, &st, 0) != mid || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fail_errno("setup: fork the outsider");
		return 1;
	}
	while (access(PIDF, F_OK)) /* the outsider runs: its pid is there */
		usleep(1000);
	if (test_daemon())
		return 1;
	test_waitsig();

	other = open(PATH, O_RDWR);
	end_outsider();
	if (other < 0) {
		fail_errno("open %s again", PATH);
		return 1;
	}
	if (!flock(other, LOCK_EX | LOCK_NB) || errno != EWOULDBLOCK) {
		fail("another description took the write lock: the root's flock is gone (errno %d)",
		     errno);
		return 1;
	}
	unlink(PATH);
	pass();
	return 0;
}
