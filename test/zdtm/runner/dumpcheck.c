/* dumpcheck: see dumpcheck.h. */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dumpcheck.h"
#include "fs.h"
#include "proc.h"
#include "ptree.h"

#define POLL_NS (20 * 1000 * 1000)

/* State letter and TracerPid from a /proc status file: 0, or -errno. */
static int task_status(const char *path, char *state, long *tracer)
{
	FILE *f = fopen(path, "re");
	char line[256];
	int found = 0;

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

static bool in_tree(long pid, const pid_t *tree, int n)
{
	for (int i = 0; i < n; i++)
		if (tree[i] == pid)
			return true;
	return false;
}

/* The first task of one process that is not free: 1 with why filled, 0 if
 * all are (zombies count as free: they can be neither stopped nor traced).
 * A tracer that is a process of the tree itself (tree[0..n)) is the test's own.
 * *alive: some thread of it is not a zombie. */
static int proc_not_free(pid_t pid, const pid_t *tree, int n_tree, bool *alive, char *why,
			 size_t len)
{
	pid_t tids[PTREE_MAX];
	int n = ptree_threads(pid, tids, PTREE_MAX);

	*alive = false;
	for (int i = 0; i < n; i++) {
		char *path = strf("/proc/%d/task/%d/status", pid, tids[i]);
		char state = '?';
		long tracer = -1;
		int ret = task_status(path, &state, &tracer);

		free(path);
		if (ret)
			continue; /* gone meanwhile: the process check below tells */
		if (state == 'Z' || state == 'X')
			continue;
		*alive = true;
		if (tracer != 0 && !in_tree(tracer, tree, n_tree)) {
			snprintf(why, len,
				 "thread %d of pid %d is still traced by pid %ld (State %c)",
				 tids[i], pid, tracer, state);
			return 1;
		}
		if (state == 't' || state == 'T') {
			snprintf(why, len, "thread %d of pid %d is left stopped (State %c)",
				 tids[i], pid, state);
			return 1;
		}
	}
	return 0;
}

/* One look at the whole tree: 0 if it runs free, else -1 with why. */
static int tree_free_now(pid_t root, char *why, size_t len)
{
	pid_t pids[PTREE_MAX];
	int n = ptree_procs(root, pids, PTREE_MAX);
	bool alive;

	if (n < 0) {
		snprintf(why, len, "pid %d is gone (/proc/%d: %s)", root, root, strerror(-n));
		return -1;
	}
	if (n == PTREE_MAX) {
		snprintf(why, len, "the tree of pid %d has %d or more processes: too many to check",
			 root, PTREE_MAX);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (proc_not_free(pids[i], pids, n, &alive, why, len))
			return -1;
		if (!i && !alive) {
			snprintf(why, len, "pid %d is dead (no thread left but zombies)", root);
			return -1;
		}
	}
	return 0;
}

int tree_runs_free(pid_t root, double grace, char *why, size_t len)
{
	const struct timespec nap = { 0, POLL_NS };
	double deadline = now_s() + grace;

	while (tree_free_now(root, why, len)) {
		if (now_s() >= deadline)
			return -1;
		nanosleep(&nap, NULL);
	}
	return 0;
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
