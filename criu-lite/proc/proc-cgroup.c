/* proc-cgroup: /proc/PID/cgroup and the cgroup mounts of /proc/self/mountinfo. See proc.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_PREFIX "proc: "
#include "criu-lite/log.h"
#include "criu-lite/proc/proc-util.h"
#include "criu-lite/proc/proc.h"

static char *dup_span(const char *s, const char *e)
{
	char *d = malloc((size_t)(e - s) + 1);

	if (!d)
		return NULL;
	memcpy(d, s, (size_t)(e - s));
	d[e - s] = 0;
	return d;
}

void proc_cgroup_list_free(struct proc_cgroup_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].controllers);
		free(l->v[i].path);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int proc_parse_cgroup_buf(const char *name, const char *buf, size_t len,
			  struct proc_cgroup_list *out)
{
	struct ptext t;
	int r;

	memset(out, 0, sizeof(*out));
	pt_init(&t, name, buf, len);
	while ((r = pt_next_line(&t)) > 0) {
		const char *p = t.line, *c1, *c2;
		struct proc_cgroup *cg;
		uint64_t id;

		if (!sp_u64(&p, t.eol, 10, &id) || p == t.eol || *p != ':') {
			r = pt_fail(&t, "expected HIERARCHY-ID:CONTROLLERS:PATH");
			break;
		}
		c1 = p + 1;
		c2 = memchr(c1, ':', (size_t)(t.eol - c1));
		if (!c2 || c2 + 1 >= t.eol || c2[1] != '/') {
			r = pt_fail(&t, "expected CONTROLLERS:/PATH after the hierarchy id");
			break;
		}
		if ((r = proc_grow(&out->v, &out->cap, out->n + 1, sizeof(*out->v))))
			break;
		cg = &out->v[out->n];
		cg->id = (unsigned int)id;
		cg->controllers = dup_span(c1, c2);
		cg->path = dup_span(c2 + 1, t.eol);
		if (!cg->controllers || !cg->path) {
			free(cg->controllers);
			free(cg->path);
			pr_err("out of memory\n");
			r = -ENOMEM;
			break;
		}
		out->n++;
	}
	if (r < 0)
		proc_cgroup_list_free(out);
	return r < 0 ? r : 0;
}

static int parse_cgroup_cb(const char *name, const char *buf, size_t len, void *out)
{
	return proc_parse_cgroup_buf(name, buf, len, out);
}

int proc_parse_cgroup(pid_t pid, pid_t tid, struct proc_cgroup_list *out)
{
	char path[64];

	if (tid)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/cgroup", pid, tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	memset(out, 0, sizeof(*out));
	return proc_read_parse(path, parse_cgroup_cb, out);
}

const struct proc_cgroup *proc_cgroup_find(const struct proc_cgroup_list *l,
					   const char *controllers)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].controllers, controllers))
			return &l->v[i];
	return NULL;
}

/* ---- mounts ---------------------------------------------------------------------------------- */

void cgroup_mount_list_free(struct cgroup_mount_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].root);
		free(l->v[i].mountpoint);
		free(l->v[i].options);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* The n-th (from 0) blank-separated field of [s, e), as [*fs, *fe); false if there is none. */
static bool field(const char *s, const char *e, int n, const char **fs, const char **fe)
{
	const char *p = s;

	for (int i = 0;; i++) {
		const char *q;

		while (p < e && *p == ' ')
			p++;
		if (p >= e)
			return false;
		q = p;
		while (q < e && *q != ' ')
			q++;
		if (i == n) {
			*fs = p;
			*fe = q;
			return true;
		}
		p = q;
	}
}

int proc_parse_cgroup_mounts_buf(const char *name, const char *buf, size_t len,
				 struct cgroup_mount_list *out)
{
	struct ptext t;
	int r;

	memset(out, 0, sizeof(*out));
	pt_init(&t, name, buf, len);
	while ((r = pt_next_line(&t)) > 0) {
		const char *sep = NULL, *rs, *re, *ms, *me, *ts, *te, *os, *oe;
		struct cgroup_mount *m;

		for (const char *p = t.line; p + 2 < t.eol; p++)
			if (p[0] == ' ' && p[1] == '-' && p[2] == ' ') {
				sep = p + 2;
				break;
			}
		if (!sep || !field(t.line, sep, 3, &rs, &re) || !field(t.line, sep, 4, &ms, &me) ||
		    !field(sep, t.eol, 0, &ts, &te) || !field(sep, t.eol, 2, &os, &oe)) {
			r = pt_fail(&t, "not a mountinfo line");
			break;
		}
		if (!(te - ts == 6 && !memcmp(ts, "cgroup", 6)) &&
		    !(te - ts == 7 && !memcmp(ts, "cgroup2", 7)))
			continue;
		if ((r = proc_grow(&out->v, &out->cap, out->n + 1, sizeof(*out->v))))
			break;
		m = &out->v[out->n];
		m->v2 = te - ts == 7;
		m->root = dup_span(rs, re);
		m->mountpoint = dup_span(ms, me);
		m->options = dup_span(os, oe);
		if (!m->root || !m->mountpoint || !m->options) {
			free(m->root);
			free(m->mountpoint);
			free(m->options);
			pr_err("out of memory\n");
			r = -ENOMEM;
			break;
		}
		proc_unescape(m->root);
		proc_unescape(m->mountpoint);
		out->n++;
	}
	if (r < 0)
		cgroup_mount_list_free(out);
	return r < 0 ? r : 0;
}

static int parse_mounts_cb(const char *name, const char *buf, size_t len, void *out)
{
	return proc_parse_cgroup_mounts_buf(name, buf, len, out);
}

int proc_cgroup_mounts(struct cgroup_mount_list *out)
{
	memset(out, 0, sizeof(*out));
	return proc_read_parse("/proc/self/mountinfo", parse_mounts_cb, out);
}
