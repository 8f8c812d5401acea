/* zdtm_self_pass: the plain lifecycle. Sets up state (heap data, a pipe with
 * unread bytes, the pid), waits for SIGTERM and checks all of it, and that
 * the lib kept SIGTERM blocked outside test_waitsig(). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"

#define MSG "zdtm_self_pass: bytes left in a pipe"

static int check(pid_t pid, const char *heap, int rfd)
{
	char buf[sizeof(MSG) + 8];
	sigset_t mask;
	ssize_t n;

	if (getpid() != pid) {
		fail("getpid() is %d, was %d", getpid(), pid);
		return -1;
	}
	if (strcmp(heap, MSG)) {
		fail("heap string is '%.40s', expected '%s'", heap, MSG);
		return -1;
	}
	n = read(rfd, buf, sizeof(buf));
	if (n != (ssize_t)sizeof(MSG) || memcmp(buf, MSG, sizeof(MSG))) {
		fail_errno("pipe gave %zd bytes, expected the %zu written", n, sizeof(MSG));
		return -1;
	}
	n = read(rfd, buf, sizeof(buf));
	if (n != -1 || errno != EAGAIN) {
		fail("pipe should be empty now: read gave %zd (errno %d)", n, errno);
		return -1;
	}
	if (sigprocmask(SIG_BLOCK, NULL, &mask) || !sigismember(&mask, SIGTERM)) {
		fail("SIGTERM is not blocked after test_waitsig()");
		return -1;
	}
	if (test_go()) {
		fail("test_go() still true after SIGTERM arrived");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char *heap;
	int p[2];

	if (test_init(argc, argv))
		return 1;
	heap = strdup(MSG);
	if (!heap || pipe2(p, O_NONBLOCK)) {
		fail_errno("setup: strdup/pipe2");
		return 1;
	}
	if (write(p[1], MSG, sizeof(MSG)) != (ssize_t)sizeof(MSG)) {
		fail_errno("setup: write to pipe");
		return 1;
	}
	if (!test_go()) {
		fail("test_go() false before any SIGTERM");
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();
	if (check(getpid(), heap, p[0]))
		return 1;
	free(heap);
	pass();
	return 0;
}
