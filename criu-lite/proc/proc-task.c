/* proc-task: /proc/PID/task and /proc/PID/task/TID/children -> struct pid_list. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_PREFIX "proc: "
#include "criu-lite/log.h"
#include "criu-lite/proc/proc-util.h"
#include "criu-lite/proc/proc.h"

void pid_list_free(struct pid_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

static int pid_list_add(struct pid_list *l, pid_t pid)
{
	int ret = proc_grow(&l->v, &l->cap, l->n + 1, sizeof(*l->v));

	if (!ret)
		l->v[l->n++] = pid;
	return ret;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

static int add_thread(void *arg, const struct proc_dirent *e)
{
	return pid_list_add(arg, (pid_t)e->num);
}

int proc_list_threads(pid_t pid, struct pid_list *out)
{
	char path[64];
	int ret;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	ret = proc_walk_dir(path, 1, add_thread, out);
	if (ret) {
		pid_list_free(out);
		return ret;
	}
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), cmp_pid);
	return 0;
}

int proc_parse_children_buf(const char *name, const char *buf, size_t len, struct pid_list *out)
{
	const char *p = buf, *e = buf + len;
	struct ptext t;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	pt_init(&t, name, buf, len);
	t.lineno = 1;
	while (p < e) {
		int64_t pid;

		if (!sp_s64_range(&p, e, 1, INT_MAX, &pid) || !sp_lit(&p, e, " ")) {
			ret = pt_fail(&t, "bad pid at offset %zu", (size_t)(p - buf));
			break;
		}
		ret = pid_list_add(out, (pid_t)pid);
		if (ret)
			break;
	}
	if (ret)
		pid_list_free(out);
	return ret;
}

static int parse_children(const char *name, const char *buf, size_t len, void *out)
{
	return proc_parse_children_buf(name, buf, len, out);
}

int proc_list_children(pid_t pid, pid_t tid, struct pid_list *out)
{
	char path[80];

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, tid);
	return proc_read_parse(path, parse_children, out);
}
