/* loginuid00: the audit login uid (/proc/PID/loginuid, per task, inherited at clone) survives
 * checkpoint/restore. The root sets 1234 and then creates a thread (which inherits it); a child
 * forked before that sets its own, 5678. After the restore the root's process and thread and the
 * child must show them. (The audit session id is not checked: the kernel hands out a new one
 * whenever a loginuid is set, docs/core.md.) Skipped where the kernel has no audit or refuses
 * the test its own loginuid. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

static int set_loginuid(const char *v)
{
	int fd = open("/proc/self/loginuid", O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, v, strlen(v));
	close(fd);
	return n == (ssize_t)strlen(v) ? 0 : -1;
}

static long get_loginuid(const char *path)
{
	size_t len;
	char *buf = test_read_file(path, &len);
	long v;

	if (!buf)
		return -1;
	v = strtol(buf, NULL, 10);
	free(buf);
	return v;
}

static pid_t tid;

static void *thread_main(void *arg)
{
	int *ready = arg;

	tid = (pid_t)syscall(SYS_gettid);
	if (write(*ready, "r", 1) != 1)
		return NULL;
	for (;;)
		pause();
	return NULL;
}

static void check(const char *path, long want)
{
	long v = get_loginuid(path);

	if (v != want)
		fail("%s: %ld, expected %ld", path, v, want);
}

int main(int argc, char **argv)
{
	char path[96];
	pthread_t th;
	int p[2], status;
	pid_t child;
	char c;

	if (test_init(argc, argv))
		return 1;
	if (access("/proc/self/loginuid", F_OK)) {
		skip("no /proc/self/loginuid: the kernel has no audit");
		return 0;
	}
	if (pipe(p)) {
		fail_errno("setup: pipe");
		return 1;
	}
	child = fork();
	if (child == 0) {
		if (set_loginuid("5678") || write(p[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	if (child < 0 || read(p[0], &c, 1) != 1) {
		fail("setup: the child could not set its loginuid");
		return 1;
	}
	if (set_loginuid("1234")) {
		kill(child, SIGKILL);
		skip("the kernel refuses this test its own loginuid: %s", strerror(errno));
		return 0;
	}
	if (pthread_create(&th, NULL, thread_main, &p[1]) || read(p[0], &c, 1) != 1) {
		fail("setup: thread");
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	check("/proc/self/loginuid", 1234);
	snprintf(path, sizeof(path), "/proc/self/task/%d/loginuid", tid);
	check(path, 1234);
	snprintf(path, sizeof(path), "/proc/%d/loginuid", child);
	check(path, 5678);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	pass();
	return 0;
}
