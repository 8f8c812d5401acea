/* pidfd_refuse01: a PIDFD_THREAD pidfd the test holds of a thread (not the leader) of its child
 * is refused at dump, naming the fd (tests.desc expect=dumpfail dumpmsg=later): restore makes a
 * task's fds before its children exist, and the thread would not exist yet. The tree runs on as
 * it was: the pidfd still refers to that thread, and a signal sent through it still reaches the
 * child. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

static void *idle(void *arg)
{
	int w = *(int *)arg;
	pid_t tid = (pid_t)syscall(SYS_gettid);

	if (write(w, &tid, sizeof(tid)) != sizeof(tid))
		_exit(2);
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	int p[2], fd, st;
	pid_t c, tid = 0;
	char v[32];

	if (test_init(argc, argv))
		return 1;
	if (pipe(p)) {
		fail_errno("pipe");
		return 1;
	}
	c = fork();
	if (c == 0) {
		pthread_t t;

		if (pthread_create(&t, NULL, idle, &p[1]))
			_exit(1);
		for (;;)
			pause();
	}
	if (c < 0 || read(p[0], &tid, sizeof(tid)) != sizeof(tid)) {
		fail_errno("setup: the child's thread");
		return 1;
	}
	fd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
	if (fd < 0) {
		if (errno == EINVAL)
			skip("the kernel has no PIDFD_THREAD (6.9+)");
		else
			fail_errno("pidfd_open of the child's thread");
		kill(c, SIGKILL);
		return errno == EINVAL ? 0 : 1;
	}

	test_daemon();
	test_waitsig();

	if (test_fdinfo_get(fd, "Pid", v, sizeof(v)) || strtol(v, NULL, 10) != tid) {
		fail("the pidfd no longer refers to the child's thread %d", tid);
		return 1;
	}
	if (syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0) || waitpid(c, &st, 0) != c ||
	    !WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL) {
		fail_errno("SIGKILL through the pidfd of the child's thread");
		return 1;
	}
	pass();
	return 0;
}
