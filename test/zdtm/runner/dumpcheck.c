/* dumpcheck: see dumpcheck.h. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dumpcheck.h"
#include "fs.h"
#include "proc.h"

#define POLL_NS (20 * 1000 * 1000)

/* State letter and TracerPid from /proc/PID/status: 0, or -errno. */
static int task_status(pid_t pid, char *state, long *tracer)
{
	char *path = strf("/proc/%d/status", pid), line[256];
	FILE *f = fopen(path, "re");
	int found = 0;

	free(path);
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "State: %c", state) == 1)
			found |= 1;
		else if (sscanf(line, "TracerPid: %ld", tracer) == 1)
			found |= 2;
	}
	fclose(f);
	return found == 3 ? 0 : -EPROTO;
}

int task_runs_free(pid_t pid, double grace, char *why, size_t len)
{
	const struct timespec nap = { 0, POLL_NS };
	double deadline = now_s() + grace;
	char state = '?';
	long tracer = -1;
	int ret;

	for (;;) {
		ret = task_status(pid, &state, &tracer);
		if (ret) {
			snprintf(why, len, "pid %d is gone (/proc/%d/status: %s)", pid, pid,
				 strerror(-ret));
			return -1;
		}
		if (state == 'Z' || state == 'X') {
			snprintf(why, len, "pid %d is dead (State %c)", pid, state);
			return -1;
		}
		if (state != 't' && state != 'T' && tracer == 0)
			return 0;
		if (now_s() >= deadline)
			break;
		nanosleep(&nap, NULL);
	}
	if (tracer != 0)
		snprintf(why, len, "pid %d is still traced by pid %ld (State %c)", pid, tracer,
			 state);
	else
		snprintf(why, len, "pid %d is left stopped (State %c)", pid, state);
	return -1;
}

int dir_empty(const char *dir, char *why, size_t len)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;
	int count = 0;

	if (!d) {
		snprintf(why, len, "can't open %s: %s (errno %d)", dir, strerror(errno), errno);
		return -1;
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (!count++)
			n = (size_t)snprintf(why, len, "%s is not empty:", dir);
		if (n < len)
			n += (size_t)snprintf(why + n, len - n, " %s", e->d_name);
	}
	closedir(d);
	return count ? -1 : 0;
}
