/* dump-timers: interval timers and POSIX timers of a task into its core_entry (see timers.h).
 *
 * The interval timers and the times of the POSIX timers are only known to the task itself:
 * remote getitimer, timer_gettime and timer_getoverrun on the rsys session of the leader, the
 * results landing on the rsys scratch page. What a timer was created with (clock, notification,
 * signal, sigev_value) comes from /proc/PID/timers. Everything is read, nothing is changed.
 */
#define LOG_PREFIX "timers: "

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>

#include "criu-lite/kinds/core.h"
#include "criu-lite/dump/dump.h"
#include "criu-lite/log.h"
#include "criu-lite/proc/proc-timers.h"
#include "criu-lite/kinds/timers.h"

#define NSEC_PER_SEC	1000000000ULL
#define USEC_PER_SEC	1000000ULL
#define CPUCLOCK_MASK	7 /* low bits of a CPU clock id: 0-2 which clock, 4 per thread */
#define CPUCLOCK_FD	3 /* a dynamic clock reached through an fd (PTP and the like) */
#define CPUCLOCK_THREAD 4 /* a thread's CPU clock, not the process's */

/* struct itimerval and struct itimerspec as the syscalls read and write them. */
struct kitimerval {
	int64_t interval_sec, interval_usec, value_sec, value_usec;
};

struct kitimerspec {
	int64_t interval_sec, interval_nsec, value_sec, value_nsec;
};

static const char *const itimer_names[] = { "ITIMER_REAL", "ITIMER_VIRTUAL", "ITIMER_PROF" };

static uint64_t tv_us(int64_t sec, int64_t usec)
{
	return (uint64_t)sec * USEC_PER_SEC + (uint64_t)usec;
}

static uint64_t ts_ns(int64_t sec, int64_t nsec)
{
	return (uint64_t)sec * NSEC_PER_SEC + (uint64_t)nsec;
}

static int dump_itimers(struct dump_ctx *c, uint64_t scratch, CoreEntry *ce)
{
	char what[48];

	ce->itimers = calloc(3, sizeof(*ce->itimers));
	if (!ce->itimers) {
		pr_err("out of memory\n");
		return -ENOMEM;
	}
	for (int which = ITIMER_REAL; which <= ITIMER_PROF; which++) {
		struct kitimerval v;
		ItimerEntry *e;
		long r;
		int ret;

		snprintf(what, sizeof(what), "read %s", itimer_names[which]);
		r = core_rcall(&c->rs, what, SYS_getitimer, which, (long)scratch, 0, 0);
		if (r < 0)
			return (int)r;
		ret = rsys_read(&c->rs, scratch, &v, sizeof(v));
		if (ret)
			return ret;
		if (!v.value_sec && !v.value_usec && !v.interval_sec && !v.interval_usec)
			continue;
		e = calloc(1, sizeof(*e));
		if (!e) {
			pr_err("out of memory\n");
			return -ENOMEM;
		}
		itimer_entry__init(e);
		e->which = (uint32_t)which;
		e->value_us = tv_us(v.value_sec, v.value_usec);
		e->interval_us = tv_us(v.interval_sec, v.interval_usec);
		ce->itimers[ce->n_itimers++] = e;
		pr_info("pid %d: %s: %" PRIu64 " us left, interval %" PRIu64 " us\n", c->pid,
			itimer_names[which], e->value_us, e->interval_us);
	}
	return 0;
}

/* The task's own number (its PID namespace) for thread tid of it, as /proc showed it. */
static int vtid_of(const struct dump_ctx *c, pid_t tid, pid_t *vtid)
{
	/* the thread group's id: c->pid is a live thread's when the leader exited */
	pid_t tgid = c->st.pid ? c->st.pid : c->pid;
	struct proc_status st = { 0 };
	int ret;

	if (tid == tgid) {
		*vtid = c->vpid;
		return 0;
	}
	ret = proc_parse_task_status(c->pid, tid, &st);
	if (ret)
		return ret;
	if (st.tgid != tgid || st.ns_levels <= c->sh->ns_level) {
		pr_err("pid %d: a timer targets thread %d, which is not one of its threads\n",
		       c->vpid, tid);
		ret = -ENOTSUP;
	} else {
		*vtid = st.ns_pid[c->sh->ns_level];
	}
	proc_status_free(&st);
	return ret;
}

/* A CPU clock id names the process or thread it measures (0: the caller): only the task's own. */
static int check_clock(const struct dump_ctx *c, const struct proc_timer *pt)
{
	pid_t who;

	if (pt->clock >= 0)
		return 0;
	if ((pt->clock & CPUCLOCK_MASK) == CPUCLOCK_FD) {
		pr_err("pid %d: POSIX timer %d runs on a dynamic (fd) clock %d: not supported\n",
		       c->pid, pt->id, pt->clock);
		return -ENOTSUP;
	}
	who = ~(pt->clock >> 3);
	if (who == 0 || who == c->vpid)
		return 0;
	for (size_t k = 0; (pt->clock & CPUCLOCK_THREAD) && c->vtid && k < c->st.nr; k++)
		if (c->vtid[k] == who)
			return 0; /* a thread of the task: it has that tid again after restore */
	pr_err("pid %d: POSIX timer %d runs on the CPU clock of %s %d (clock id %d), not on the "
	       "task's own: not supported\n",
	       c->pid, pt->id, (pt->clock & CPUCLOCK_THREAD) ? "thread" : "process", who,
	       pt->clock);
	return -ENOTSUP;
}

static int dump_one_posix(struct dump_ctx *c, uint64_t scratch, const struct proc_timer *pt,
			  PosixTimerEntry *e)
{
	struct kitimerspec ts;
	char what[64];
	pid_t vtid;
	long r;
	int ret = check_clock(c, pt);

	if (ret)
		return ret;
	e->id = pt->id;
	e->clock = pt->clock;
	e->notify = (uint32_t)pt->notify;
	e->signo = (uint32_t)pt->signo;
	e->sival = pt->sival;
	if (pt->notify & SIGEV_THREAD_ID) {
		if (!pt->target) {
			pr_err("pid %d: POSIX timer %d signals a thread /proc does not show\n",
			       c->pid, pt->id);
			return -ENOTSUP;
		}
		ret = vtid_of(c, pt->target, &vtid);
		if (ret)
			return ret;
		e->has_tid = true;
		e->tid = (uint32_t)vtid;
	}
	snprintf(what, sizeof(what), "read POSIX timer %d", pt->id);
	r = core_rcall(&c->rs, what, SYS_timer_gettime, pt->id, (long)scratch, 0, 0);
	if (r < 0)
		return (int)r;
	ret = rsys_read(&c->rs, scratch, &ts, sizeof(ts));
	if (ret)
		return ret;
	e->value_ns = ts_ns(ts.value_sec, ts.value_nsec);
	e->interval_ns = ts_ns(ts.interval_sec, ts.interval_nsec);
	snprintf(what, sizeof(what), "read the overrun of POSIX timer %d", pt->id);
	r = core_rcall(&c->rs, what, SYS_timer_getoverrun, pt->id, 0, 0, 0);
	if (r < 0)
		return (int)r;
	e->has_overrun = true;
	e->overrun = (int32_t)r;
	pr_info("pid %d: POSIX timer %d: clock %d, notify %u signal %u value %#" PRIx64
		"%s%.0d, %" PRIu64 " ns left, interval %" PRIu64 " ns, overrun %d\n",
		c->pid, e->id, e->clock, e->notify, e->signo, e->sival, e->has_tid ? " tid " : "",
		e->has_tid ? (int)e->tid : 0, e->value_ns, e->interval_ns, e->overrun);
	return 0;
}

static int dump_posix_timers(struct dump_ctx *c, uint64_t scratch, CoreEntry *ce)
{
	struct proc_timer_list l;
	int ret = proc_parse_timers(c->pid, &l);

	if (ret)
		return ret;
	if (l.n) {
		ce->posix_timers = calloc(l.n, sizeof(*ce->posix_timers));
		if (!ce->posix_timers) {
			pr_err("out of memory for %zu POSIX timers\n", l.n);
			ret = -ENOMEM;
		}
	}
	for (size_t i = 0; !ret && i < l.n; i++) {
		PosixTimerEntry *e = calloc(1, sizeof(*e));

		if (!e) {
			pr_err("out of memory\n");
			ret = -ENOMEM;
			break;
		}
		posix_timer_entry__init(e);
		ce->posix_timers[ce->n_posix_timers++] = e;
		ret = dump_one_posix(c, scratch, &l.v[i], e);
	}
	proc_timer_list_free(&l);
	return ret;
}

int dump_timers(struct dump_ctx *c, CoreEntry *ce)
{
	uint64_t scratch;
	int ret = rsys_scratch(&c->rs, sizeof(struct kitimerspec), &scratch);

	if (!ret)
		ret = dump_itimers(c, scratch, ce);
	if (!ret)
		ret = dump_posix_timers(c, scratch, ce);
	return ret;
}
