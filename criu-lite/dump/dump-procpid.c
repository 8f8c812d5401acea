/* dump-procpid: an fd on /proc/PID or a file under it (as the task sees it: "/proc/42/status",
 * "/proc/42 (deleted)"), where PID is a process of the dumped tree or one that is gone. Neither
 * can be reopened by its path before the restored tree exists: the first is opened from inside
 * the task once every task exists again with its pid (through the task's own /proc, so in its
 * PID namespace); for the second, a process with that pid is made in the tree's PID namespace
 * for a moment, the file opened in the task, and the process ended and reaped again, which
 * leaves an fd on the files of a process that is gone, as at dump (reads give ESRCH, the
 * directory lists nothing). restore-procpid.c does both.
 *
 * Contract: dump_proc_pid() says what the fd of task c that via reaches, whose link is link, is:
 * 1 with *pid and *gone when it is one of those, 0 when it is not on procfs, not under /proc/PID,
 * or of a live process outside the tree (reopened by its path as any file), or -errno (logged,
 * naming what): a file under /proc/PID/task/TID (threads are made after the fds, and a thread
 * that is gone can't be made again alone), of a zombie of the tree, or a live process of the tree
 * whose pid in that /proc is not its pid in the tree's namespace (a /proc of another PID
 * namespace). A process is the one the fd was opened for when the path reaches the same inode now;
 * it is a task of the tree when that pid and its start time are a task's. Nothing is changed in the
 * task. */
#define LOG_PREFIX "files: "

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "criu-lite/dump/dump.h"
#include "criu-lite/log.h"
#include "criu-lite/proc/proc.h"

#define PROC_MAGIC 0x9fa0 /* PROC_SUPER_MAGIC */

/* The pid of "/proc/PID", "/proc/PID/..." or "/proc/PID (deleted)"; 0 if link is none of
 * those; *rest the part after the pid (up to " (deleted)") */
static pid_t path_pid(const char *link, const char **rest)
{
	const char *p = link + 6;
	char *end;
	long v;

	if (strncmp(link, "/proc/", 6) || *p < '1' || *p > '9')
		return 0;
	v = strtol(p, &end, 10);
	if (v <= 0 || v > INT_MAX || (*end && *end != '/' && strcmp(end, " (deleted)")))
		return 0;
	*rest = end;
	return (pid_t)v;
}

/* The task of the tree that /proc/N, in the /proc c sees, is; NULL if none. */
static const struct dump_ctx *tree_task(const struct dump_ctx *c, pid_t n)
{
	char path[64];
	struct proc_stat st;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/root/proc/%d/stat", c->pid, n);
	ret = proc_parse_stat_at(path, &st);
	for (size_t i = 0; !ret && i < c->sh->nr_tasks; i++) {
		const struct dump_ctx *t = &c->sh->tasks[i];

		if (t->zombie && (t->vpid == n || t->pid == n))
			return t; /* the path reaches it still: that pid is this zombie */
		if (!t->zombie && t->stat.starttime == st.starttime &&
		    (t->vpid == n || t->st.pid == n))
			return t;
	}
	return NULL;
}

int dump_proc_pid(struct dump_ctx *c, const char *what, const char *via, const char *link,
		  pid_t *pid, bool *gone)
{
	const char *rest = NULL;
	pid_t n_pid = path_pid(link, &rest);
	const struct dump_ctx *t;
	char now[PATH_MAX];
	struct stat a, b;
	struct statfs sfs;
	size_t n;

	*pid = 0;
	if (!n_pid)
		return 0;
	if (statfs(via, &sfs) || stat(via, &a)) {
		int ret = -errno;

		pr_perror("%s: statfs/stat of %s", what, via);
		return ret;
	}
	if (sfs.f_type != PROC_MAGIC)
		return 0;
	/* what the same path reaches now, in the task's file system view */
	n = strcspn(rest, " ");
	if (snprintf(now, sizeof(now), "/proc/%d/root/proc/%d%.*s", c->pid, n_pid, (int)n, rest) >=
	    (int)sizeof(now))
		return 0;
	*gone = stat(now, &b) || b.st_dev != a.st_dev || b.st_ino != a.st_ino;
	t = *gone ? NULL : tree_task(c, n_pid);
	if (!*gone && !t)
		return 0; /* a process outside the tree: its path */
	if (t && t->zombie) {
		pr_err("%s: %s belongs to pid %d, a zombie of the tree: not supported\n", what,
		       link, n_pid);
		return -ENOTSUP;
	}
	if (!strncmp(rest, "/task/", 6)) {
		pr_err("%s: %s belongs to a thread %s: not supported\n", what, link,
		       *gone ? "that is gone" : "of the tree");
		return -ENOTSUP;
	}
	if (t && t->vpid != n_pid) {
		pr_err(
		    "%s: %s is pid %d of the tree (%d in its PID namespace), seen through a /proc "
		    "of another PID namespace: not supported\n",
		    what, link, t->st.pid, t->vpid);
		return -ENOTSUP;
	}
	if (*gone)
		pr_info("%s: %s belongs to pid %d, which is gone\n", what, link, n_pid);
	*pid = n_pid;
	return 1;
}
