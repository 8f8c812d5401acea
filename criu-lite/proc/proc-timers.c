/* proc-timers: /proc/PID/timers -> struct proc_timer_list (see proc-timers.h). */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_PREFIX "proc: "
#include "criu-lite/log.h"
#include "criu-lite/proc/proc-timers.h"
#include "criu-lite/proc/proc-util.h"

void proc_timer_list_free(struct proc_timer_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

/* The next line, which must start with key; *p, *e: the rest of it. */
static int expect_line(struct ptext *t, const char *key, const char **p, const char **e)
{
	int ret = pt_next_line(t);

	if (ret <= 0)
		return ret ? ret : pt_fail(t, "the timer ends before its %s line", key);
	*p = t->line;
	*e = t->eol;
	if (!sp_lit(p, *e, key))
		return pt_fail(t, "expected a %s line", key);
	return 0;
}

static int parse_notify(struct ptext *t, const char *p, const char *e, struct proc_timer *tm)
{
	int64_t who;

	if (sp_lit(&p, e, "signal/"))
		tm->notify = SIGEV_SIGNAL;
	else if (sp_lit(&p, e, "none/"))
		tm->notify = SIGEV_NONE;
	else
		return pt_fail(t, "unknown notification kind");
	if (sp_lit(&p, e, "tid.")) {
		if (tm->notify != SIGEV_SIGNAL)
			return pt_fail(t, "a thread target without a signal");
		tm->notify |= SIGEV_THREAD_ID;
	} else if (!sp_lit(&p, e, "pid.")) {
		return pt_fail(t, "expected pid.N or tid.N");
	}
	/* 0: the target is not visible in this PID namespace */
	if (!sp_s64_range(&p, e, 0, INT_MAX, &who) || p != e)
		return pt_fail(t, "bad notification target");
	tm->target = (pid_t)who;
	return 0;
}

/* One timer: four lines, the first already read. */
static int parse_timer(struct ptext *t, struct proc_timer *tm)
{
	const char *p = t->line, *e = t->eol;
	int64_t v;
	uint64_t u;
	int ret;

	if (!sp_lit(&p, e, "ID: ") || !sp_s64_range(&p, e, 0, INT_MAX, &v) || p != e)
		return pt_fail(t, "expected \"ID: N\"");
	tm->id = (int)v;
	ret = expect_line(t, "signal: ", &p, &e);
	if (ret)
		return ret;
	if (!sp_s64_range(&p, e, 0, 64, &v) || !sp_lit(&p, e, "/") || !sp_u64(&p, e, 16, &u) ||
	    p != e)
		return pt_fail(t, "expected \"signal: SIGNO/SIVAL\"");
	tm->signo = (int)v;
	tm->sival = u;
	ret = expect_line(t, "notify: ", &p, &e);
	if (!ret)
		ret = parse_notify(t, p, e, tm);
	if (!ret)
		ret = expect_line(t, "ClockID: ", &p, &e);
	if (ret)
		return ret;
	if (!sp_s64_range(&p, e, INT_MIN, INT_MAX, &v) || p != e)
		return pt_fail(t, "bad ClockID");
	tm->clock = (int)v;
	return 0;
}

static int cmp_id(const void *a, const void *b)
{
	int x = ((const struct proc_timer *)a)->id, y = ((const struct proc_timer *)b)->id;

	return (x > y) - (x < y);
}

int proc_parse_timers_buf(const char *name, const char *buf, size_t len,
			  struct proc_timer_list *out)
{
	struct ptext t;
	int ret;

	memset(out, 0, sizeof(*out));
	pt_init(&t, name, buf, len);
	while ((ret = pt_next_line(&t)) > 0) {
		struct proc_timer tm = { 0 };

		ret = parse_timer(&t, &tm);
		if (!ret)
			ret = proc_grow(&out->v, &out->cap, out->n + 1, sizeof(*out->v));
		if (ret)
			break;
		out->v[out->n++] = tm;
	}
	if (!ret && out->n)
		qsort(out->v, out->n, sizeof(*out->v), cmp_id);
	for (size_t i = 1; !ret && i < out->n; i++)
		if (out->v[i].id == out->v[i - 1].id) {
			pr_err("%s: timer id %d appears twice\n", name, out->v[i].id);
			ret = -EINVAL;
		}
	if (ret)
		proc_timer_list_free(out);
	return ret;
}

static int parse_timers(const char *name, const char *buf, size_t len, void *out)
{
	return proc_parse_timers_buf(name, buf, len, out);
}

int proc_parse_timers(pid_t pid, struct proc_timer_list *out)
{
	char path[64];

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/proc/%d/timers", pid);
	return proc_read_parse(path, parse_timers, out);
}
