/* helper: a check run in a child process, for what a test can only see from outside (the
 * locks it holds are no obstacle to itself). The child reports through a pipe: nothing when
 * all is well, else one message. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define MSG_MAX 320

int test_in_helper(const char *when, void (*check)(void *arg, char *msg, size_t len), void *arg)
{
	char msg[MSG_MAX] = "";
	int pfd[2], status;
	ssize_t got;
	pid_t pid;

	if (pipe(pfd) || (pid = fork()) < 0) {
		fail_errno("%s: pipe/fork", when);
		return -1;
	}
	if (pid == 0) {
		close(pfd[0]);
		check(arg, msg, sizeof(msg));
		_exit(write(pfd[1], msg, strlen(msg)) < 0 ? 2 : 0);
	}
	close(pfd[1]);
	got = read(pfd[0], msg, sizeof(msg) - 1);
	close(pfd[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("%s: the helper process failed (status %#x)", when, status);
		return -1;
	}
	if (got > 0) {
		msg[got] = '\0';
		fail("%s: %s", when, msg);
		return -1;
	}
	return 0;
}
