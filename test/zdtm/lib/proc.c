/* proc: what tests read from /proc about tasks: the fields of a stat file,
 * the system call a task sits in (to know it is really blocked before the
 * test says it is ready), and the threads of the test. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zdtmtst.h"

#define POLL_MS 2

int test_read_stat(const char *path, struct test_stat *st)
{
	size_t len;
	char *buf = test_read_file(path, &len), *p;
	int pid_ppid_pgrp_sid[3], n;

	if (!buf)
		return -1;
	/* "pid (comm) S ppid pgrp session ...": comm may hold ')' and blanks */
	p = strrchr(buf, ')');
	n = p ? sscanf(p + 1, " %c %d %d %d", &st->state, &pid_ppid_pgrp_sid[0],
		       &pid_ppid_pgrp_sid[1], &pid_ppid_pgrp_sid[2])
	      : 0;
	free(buf);
	if (n != 4) {
		errno = EPROTO;
		return -1;
	}
	st->ppid = pid_ppid_pgrp_sid[0];
	st->pgrp = pid_ppid_pgrp_sid[1];
	st->sid = pid_ppid_pgrp_sid[2];
	return 0;
}

int test_wait_syscall(const char *dir, long nr, int timeout_ms)
{
	const struct timespec nap = { 0, POLL_MS * 1000000L };
	char path[256];

	snprintf(path, sizeof(path), "%s/syscall", dir);
	/* waited counts only with a limit: without one it would overflow one day */
	for (int waited = 0;; waited += timeout_ms < 0 ? 0 : POLL_MS) {
		size_t len;
		char *buf = test_read_file(path, &len), *end;
		long seen;

		if (!buf)
			return -1;
		/* "running" while on a CPU, else "NR args..." */
		seen = strtol(buf, &end, 10);
		if (end != buf && seen == nr) {
			free(buf);
			return 0;
		}
		free(buf);
		if (timeout_ms >= 0 && waited >= timeout_ms) {
			errno = ETIMEDOUT;
			return -1;
		}
		nanosleep(&nap, NULL);
	}
}

int test_threads_are(const pid_t *tids, int n)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int seen = 0;

	if (!d) {
		fail_errno("can't open /proc/self/task");
		return -1;
	}
	while ((e = readdir(d))) {
		pid_t tid = atoi(e->d_name);
		bool known = false;

		if (tid <= 0)
			continue;
		seen++;
		for (int i = 0; i < n; i++)
			known |= tid == tids[i];
		if (!known) {
			fail("/proc/self/task has tid %d, which is none of the test's %d threads",
			     tid, n);
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	if (seen != n) {
		fail("/proc/self/task has %d threads, expected %d", seen, n);
		return -1;
	}
	return 0;
}
