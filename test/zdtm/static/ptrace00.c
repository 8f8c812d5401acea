/* ptrace00: a tree in which one task traces another is refused (expect=dumpfail): ptrace
 * relationships are not dumped. The child asks to be traced by the root (PTRACE_TRACEME); the
 * dump must fail saying that the child is traced and by whom, and leave both as they were: the
 * child is still traced by the root (TracerPid) and still runs. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

static pid_t tracer_of(pid_t pid)
{
	char path[64], *buf, *t;
	size_t len;
	pid_t tp = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	buf = test_read_file(path, &len);
	if (buf && (t = strstr(buf, "TracerPid:")))
		tp = (pid_t)atoi(t + 10);
	free(buf);
	return tp;
}

int main(int argc, char **argv)
{
	int p[2];
	pid_t pid;
	char c;

	if (test_init(argc, argv))
		return 1;
	if (pipe(p)) {
		fail_errno("setup: pipe");
		return 1;
	}
	pid = fork();
	if (pid == 0) {
		if (ptrace(PTRACE_TRACEME, 0, 0, 0) || write(p[1], "t", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	if (pid < 0 || read(p[0], &c, 1) != 1 || tracer_of(pid) != getpid()) {
		fail("setup: the child %d is not traced by us (TracerPid %d)", pid, tracer_of(pid));
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	if (tracer_of(pid) != getpid()) {
		fail("the child %d is traced by %d now, not by the root %d", pid, tracer_of(pid),
		     getpid());
		return 1;
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	pass();
	return 0;
}
