/* ptree: see ptree.h. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fs.h"
#include "ptree.h"

int ptree_threads(pid_t pid, pid_t *tids, int max)
{
	char *path = strf("/proc/%d/task", pid);
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	free(path);
	if (!d)
		return -errno;
	while (n < max && (e = readdir(d))) {
		int tid = atoi(e->d_name);

		if (tid > 0)
			tids[n++] = tid;
	}
	closedir(d);
	return n;
}

/* Append the children of every thread of pid to pids[*n..max). */
static void add_children(pid_t pid, pid_t *pids, int *n, int max)
{
	pid_t tids[PTREE_MAX];
	int nt = ptree_threads(pid, tids, PTREE_MAX);

	for (int i = 0; i < nt && *n < max; i++) {
		char *path = strf("/proc/%d/task/%d/children", pid, tids[i]);
		FILE *f = fopen(path, "re");
		int kid;

		free(path);
		if (!f)
			continue; /* the thread has just gone */
		while (*n < max && fscanf(f, "%d", &kid) == 1)
			pids[(*n)++] = kid;
		fclose(f);
	}
}

int ptree_procs(pid_t root, pid_t *pids, int max)
{
	char *path = strf("/proc/%d", root);
	int n = 0, ret = access(path, F_OK) ? -ESRCH : 0;

	free(path);
	if (ret || max < 1)
		return ret;
	pids[n++] = root;
	for (int i = 0; i < n && n < max; i++)
		add_children(pids[i], pids, &n, max);
	return n;
}
