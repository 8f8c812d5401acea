/* oom_score_adj00: /proc/PID/oom_score_adj (per process) survives checkpoint/restore. The root
 * sets 300, then forks two children: one keeps the 300 it inherited, the other sets 700. After the
 * restore the root reads all three from /proc (and oom_adj, the old scale derived from it, must
 * agree as before the dump). Only raising is possible without CAP_SYS_RESOURCE, so the values
 * are above the runner's. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define NTASKS 3

static int read_int(pid_t pid, const char *name, long *v)
{
	char path[64];
	size_t len;
	char *buf;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	buf = test_read_file(path, &len);
	if (!buf)
		return -1;
	*v = strtol(buf, NULL, 10);
	free(buf);
	return 0;
}

static int write_adj(const char *v)
{
	FILE *f = fopen("/proc/self/oom_score_adj", "w");
	int ret;

	if (!f)
		return -1;
	ret = fputs(v, f) < 0 ? -1 : 0;
	if (fclose(f))
		ret = -1;
	return ret;
}

int main(int argc, char **argv)
{
	pid_t pid[NTASKS];
	long adj[NTASKS], old[NTASKS], v;
	int p[2], status;
	char c;

	if (test_init(argc, argv))
		return 1;
	if (write_adj("300") || pipe(p)) {
		fail_errno("setup: oom_score_adj 300");
		return 1;
	}
	pid[0] = getpid();
	for (int i = 1; i < NTASKS; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			if (i == 2 && write_adj("700"))
				_exit(1);
			if (write(p[1], "r", 1) != 1)
				_exit(1);
			for (;;)
				pause();
		}
		if (pid[i] < 0 || read(p[0], &c, 1) != 1) {
			fail_errno("setup: child %d", i);
			return 1;
		}
	}
	for (int i = 0; i < NTASKS; i++)
		if (read_int(pid[i], "oom_score_adj", &adj[i]) ||
		    read_int(pid[i], "oom_adj", &old[i])) {
			fail_errno("setup: read pid %d", pid[i]);
			return 1;
		}
	if (test_daemon())
		return 1;
	test_waitsig();

	for (int i = 0; i < NTASKS; i++) {
		if (read_int(pid[i], "oom_score_adj", &v))
			fail_errno("pid %d: oom_score_adj", pid[i]);
		else if (v != adj[i])
			fail("task %d (pid %d): oom_score_adj %ld, expected %ld", i, pid[i], v,
			     adj[i]);
		if (read_int(pid[i], "oom_adj", &v))
			fail_errno("pid %d: oom_adj", pid[i]);
		else if (v != old[i])
			fail("task %d (pid %d): oom_adj %ld, expected %ld", i, pid[i], v, old[i]);
		if (i)
			kill(pid[i], SIGKILL);
	}
	for (int i = 1; i < NTASKS; i++)
		waitpid(pid[i], &status, 0);
	pass();
	return 0;
}
