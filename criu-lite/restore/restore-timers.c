/* restore-timers: interval timers and POSIX timers back into the skeleton (see timers.h).
 *
 * Runs through rsys in the seized skeleton (t->rs, scratch page t->sk.scratch) after restore_core
 * queued the pending signals. The skeleton is a fresh clone: it has no timers, and its next POSIX
 * timer id is 0. Two kernel facts shape the arming:
 * - a periodic ITIMER_REAL whose SIGALRM is still pending is not queued in the kernel (it is
 *   re-armed when the signal is dequeued), so getitimer showed it as {0, interval}; it is armed
 *   for one interval, since the restored SIGALRM is pending again;
 * - a one-shot POSIX timer whose signal is pending may read as 1 ns left (6.18 shows 0, older
 *   kernels 1 ns: "not delivered yet"); it is left disarmed, since the restored signal is its
 *   expiry.
 */
#define LOG_PREFIX "timers: "

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>

#include "criu-lite/kinds/core.h"
#include "criu-lite/log.h"
#include "criu-lite/restore/restore.h"
#include "criu-lite/kinds/timers.h"

#define NSEC_PER_SEC	1000000000ULL
#define USEC_PER_SEC	1000000ULL
#define MAX_CLOCKS	16 /* clock ids 0..15 name the kernel's clocks */
#define CPUCLOCK_MASK	7
#define CPUCLOCK_FD	3
#define CPUCLOCK_THREAD 4
#define SI_TIMER_CODE	(-2) /* si_code of a POSIX timer's signal */

/* Where things go on the scratch page. */
#define OFF_SEV	 0
#define OFF_ID	 64
#define OFF_SPEC 128
#define OFF_ITV	 192
#define OFF_END	 256

/* struct sigevent as timer_create reads it (64 bytes). */
struct ksigevent {
	uint64_t value;
	int32_t signo;
	int32_t notify;
	int32_t tid;
	int32_t pad[11];
};

struct kitimerval {
	int64_t interval_sec, interval_usec, value_sec, value_usec;
};

struct kitimerspec {
	int64_t interval_sec, interval_nsec, value_sec, value_nsec;
};

static const char *const itimer_names[] = { "ITIMER_REAL", "ITIMER_VIRTUAL", "ITIMER_PROF" };

/* ---- checks, before anything is created ----------------------------------------------------- */

static bool is_thread(const CoreEntry *ce, uint32_t tid)
{
	for (size_t i = 0; i < ce->n_threads; i++)
		if (ce->threads[i]->tid == tid)
			return true;
	return false;
}

static int check_clock(const char *img, const CoreEntry *ce, const PosixTimerEntry *e)
{
	int32_t who;

	if (e->clock >= 0 && e->clock < MAX_CLOCKS)
		return 0;
	if (e->clock >= 0 || (e->clock & CPUCLOCK_MASK) == CPUCLOCK_FD ||
	    (e->clock & CPUCLOCK_MASK) > (CPUCLOCK_THREAD | 2)) {
		pr_err("%s: POSIX timer %d: clock id %d is not supported\n", img, e->id, e->clock);
		return -ENOTSUP;
	}
	who = ~(e->clock >> 3);
	if (who == 0 || (uint32_t)who == ce->pid ||
	    ((e->clock & CPUCLOCK_THREAD) && is_thread(ce, (uint32_t)who)))
		return 0;
	pr_err("%s: POSIX timer %d runs on the CPU clock of %d, which is not this task\n", img,
	       e->id, who);
	return -ENOTSUP;
}

static int check_posix(const char *img, const CoreEntry *ce, const PosixTimerEntry *e)
{
	bool sig = e->notify == SIGEV_SIGNAL || e->notify == (SIGEV_SIGNAL | SIGEV_THREAD_ID);

	if (e->id < 0) {
		pr_err("%s: POSIX timer id %d is negative\n", img, e->id);
		return -EINVAL;
	}
	if (!sig && e->notify != SIGEV_NONE) {
		pr_err("%s: POSIX timer %d: notification %u is not supported\n", img, e->id,
		       e->notify);
		return -ENOTSUP;
	}
	if (e->signo > CORE_NSIG || (sig && !e->signo)) {
		pr_err("%s: POSIX timer %d: bad signal %u\n", img, e->id, e->signo);
		return -EINVAL;
	}
	if ((e->notify & SIGEV_THREAD_ID) && (!e->has_tid || !is_thread(ce, e->tid))) {
		pr_err("%s: POSIX timer %d signals thread %u, which the task does not have\n", img,
		       e->id, e->has_tid ? e->tid : 0);
		return -EINVAL;
	}
	if (e->value_ns / NSEC_PER_SEC > INT64_MAX / 2 ||
	    e->interval_ns / NSEC_PER_SEC > INT64_MAX / 2) {
		pr_err("%s: POSIX timer %d: time out of range\n", img, e->id);
		return -EINVAL;
	}
	return check_clock(img, ce, e);
}

static int check_task(const struct restore_task *t)
{
	const CoreEntry *ce = t->core;
	bool seen[3] = { false };
	char img[48];
	int ret = 0;

	snprintf(img, sizeof(img), "core-%d.img", t->vpid);
	for (size_t i = 0; i < ce->n_itimers; i++) {
		const ItimerEntry *e = ce->itimers[i];

		if (e->which > ITIMER_PROF || seen[e->which]) {
			pr_err("%s: bad or repeated interval timer %u\n", img, e->which);
			return -EINVAL;
		}
		seen[e->which] = true;
	}
	for (size_t i = 0; !ret && i < ce->n_posix_timers; i++) {
		ret = check_posix(img, ce, ce->posix_timers[i]);
		if (!ret && i && ce->posix_timers[i]->id <= ce->posix_timers[i - 1]->id) {
			pr_err("%s: POSIX timer ids are not strictly ascending (%d after %d)\n",
			       img, ce->posix_timers[i]->id, ce->posix_timers[i - 1]->id);
			ret = -EINVAL;
		}
	}
	return ret;
}

int restore_timers_check(struct restore_ctx *c)
{
	for (size_t i = 0; i < c->nr_tasks; i++) {
		int ret;

		if (c->tasks[i].zombie || !c->tasks[i].core)
			continue;
		ret = check_task(&c->tasks[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- creating timers with given ids --------------------------------------------------------- */

int timers_create_ids(const struct timer_ops *ops, PosixTimerEntry *const *v, size_t n, bool by_id)
{
	size_t fillers = 0;

	for (size_t i = 0; i < n; i++) {
		int want = v[i]->id, id, ret;

		for (;;) {
			id = want;
			ret = ops->create(ops->arg, v[i], &id);
			if (ret)
				return ret;
			if (id == want)
				break;
			if (by_id || id > want) {
				pr_err("%s: POSIX timer %d can't get its id back: the kernel gave "
				       "id %d%s\n",
				       ops->who, want, id,
				       by_id ? " although asked for the id"
					     : " (ids below it were taken already)");
				ops->remove(ops->arg, id);
				return -EEXIST;
			}
			ret = ops->remove(ops->arg, id);
			if (ret)
				return ret;
			if (++fillers > TIMERS_MAX_FILLERS) {
				pr_err("%s: POSIX timer %d: more than %d timers would have to be "
				       "created and deleted to reach that id without "
				       "PR_TIMER_CREATE_RESTORE_IDS (Linux 6.15)\n",
				       ops->who, want, TIMERS_MAX_FILLERS);
				return -E2BIG;
			}
		}
	}
	if (fillers)
		pr_info("%s: %zu filler timer(s) created and deleted to reach the ids\n", ops->who,
			fillers);
	return 0;
}

/* ---- in the skeleton ------------------------------------------------------------------------ */

static int rsys_create(void *arg, const PosixTimerEntry *e, int *id)
{
	struct restore_task *t = arg;
	struct ksigevent sev = {
		.value = e->sival,
		.signo = (int32_t)e->signo,
		.notify = (int32_t)e->notify,
		.tid = e->has_tid ? (int32_t)e->tid : 0,
	};
	char what[48];
	long r;
	int ret = rsys_write(&t->rs, t->sk.scratch + OFF_SEV, &sev, sizeof(sev));

	if (!ret)
		ret = rsys_write(&t->rs, t->sk.scratch + OFF_ID, id, sizeof(*id));
	if (ret)
		return ret;
	snprintf(what, sizeof(what), "create POSIX timer %d", e->id);
	r = core_rcall(&t->rs, what, SYS_timer_create, e->clock, (long)(t->sk.scratch + OFF_SEV),
		       (long)(t->sk.scratch + OFF_ID), 0);
	if (r < 0)
		return (int)r;
	return rsys_read(&t->rs, t->sk.scratch + OFF_ID, id, sizeof(*id));
}

static int rsys_remove(void *arg, int id)
{
	struct restore_task *t = arg;
	long r = core_rcall(&t->rs, "delete a filler POSIX timer", SYS_timer_delete, id, 0, 0, 0);

	return r < 0 ? (int)r : 0;
}

static bool queue_has_timer(SiginfoEntry *const *q, size_t n, int id)
{
	for (size_t i = 0; i < n; i++) {
		int32_t code, timerid;

		if (q[i]->raw.len < 20)
			continue;
		memcpy(&code, q[i]->raw.data + 8, sizeof(code));
		memcpy(&timerid, q[i]->raw.data + 16, sizeof(timerid)); /* si_timerid */
		if (code == SI_TIMER_CODE && timerid == id)
			return true;
	}
	return false;
}

/* Is the expiry of timer id already among the pending signals? */
static bool timer_signal_pending(const CoreEntry *ce, int id)
{
	if (queue_has_timer(ce->shared_pending, ce->n_shared_pending, id))
		return true;
	for (size_t i = 0; i < ce->n_threads; i++)
		if (queue_has_timer(ce->threads[i]->pending, ce->threads[i]->n_pending, id))
			return true;
	return false;
}

static bool signal_pending(const CoreEntry *ce, int signo)
{
	for (size_t i = 0; i < ce->n_shared_pending; i++) {
		int32_t s;

		memcpy(&s, ce->shared_pending[i]->raw.data, sizeof(s));
		if (s == signo)
			return true;
	}
	return false;
}

static int arm_posix(struct restore_task *t, const PosixTimerEntry *e)
{
	struct kitimerspec ts = {
		.interval_sec = (int64_t)(e->interval_ns / NSEC_PER_SEC),
		.interval_nsec = (int64_t)(e->interval_ns % NSEC_PER_SEC),
		.value_sec = (int64_t)(e->value_ns / NSEC_PER_SEC),
		.value_nsec = (int64_t)(e->value_ns % NSEC_PER_SEC),
	};
	char what[48];
	long r;
	int ret;

	if (!e->value_ns)
		return 0;
	if (!e->interval_ns && timer_signal_pending(t->core, e->id)) {
		pr_info("pid %d: POSIX timer %d expired and its signal is pending: left "
			"disarmed\n",
			t->pid, e->id);
		return 0;
	}
	ret = rsys_write(&t->rs, t->sk.scratch + OFF_SPEC, &ts, sizeof(ts));
	if (ret)
		return ret;
	snprintf(what, sizeof(what), "arm POSIX timer %d", e->id);
	r = core_rcall(&t->rs, what, SYS_timer_settime, e->id, 0, (long)(t->sk.scratch + OFF_SPEC),
		       0);
	return r < 0 ? (int)r : 0;
}

static int restore_posix_timers(struct restore_task *t)
{
	const CoreEntry *ce = t->core;
	char who[32];
	struct timer_ops ops = { rsys_create, rsys_remove, t, who };
	bool by_id;
	long r;
	int ret;

	snprintf(who, sizeof(who), "pid %d", t->pid);
	r = rsys_call_quiet(&t->rs, SYS_prctl, TIMERS_PR_RESTORE_IDS, TIMERS_PR_RESTORE_IDS_ON, 0,
			    0, 0, 0);
	by_id = r == 0;
	if (r == -EINVAL) {
		pr_info("pid %d: no PR_TIMER_CREATE_RESTORE_IDS in this kernel: POSIX timer ids "
			"are reached in sequence\n",
			t->pid);
	} else if (r < 0) {
		errno = (int)-r;
		pr_perror("pid %d: can't turn on PR_TIMER_CREATE_RESTORE_IDS: remote prctl failed",
			  t->pid);
		return (int)r;
	}
	ret = timers_create_ids(&ops, ce->posix_timers, ce->n_posix_timers, by_id);
	if (!ret && by_id) {
		r = core_rcall(&t->rs, "turn off PR_TIMER_CREATE_RESTORE_IDS", SYS_prctl,
			       TIMERS_PR_RESTORE_IDS, TIMERS_PR_RESTORE_IDS_OFF, 0, 0);
		ret = r < 0 ? (int)r : 0;
	}
	for (size_t i = 0; !ret && i < ce->n_posix_timers; i++)
		ret = arm_posix(t, ce->posix_timers[i]);
	if (!ret)
		pr_info("pid %d: %zu POSIX timer(s) restored with their ids%s\n", t->pid,
			ce->n_posix_timers, by_id ? "" : " (in sequence)");
	return ret;
}

static uint64_t tv_us(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * USEC_PER_SEC + (uint64_t)tv->tv_usec;
}

/* setitimer() adds one scheduler tick to the value of a CPU-time interval timer (so it never
 * fires early), and getitimer() shows it: restoring the dumped value as is would add a tick per
 * checkpoint. Measured on the restorer's own ITIMER_VIRTUAL, which is put back. A tick that
 * lands in user mode between the two calls charges the timer a whole tick and hides the one
 * added (seen under load: lazy itimer01): the largest of three measures is the tick. */
static int cpu_itimer_bonus_once(uint64_t *bonus_us)
{
	struct itimerval probe = { { 0, 0 }, { 1000, 0 } }, old, got;
	int ret = 0;

	if (setitimer(ITIMER_VIRTUAL, &probe, &old)) {
		pr_perror("can't arm the restorer's ITIMER_VIRTUAL to measure the tick it adds");
		return -errno;
	}
	if (getitimer(ITIMER_VIRTUAL, &got)) {
		pr_perror("can't read the restorer's ITIMER_VIRTUAL");
		ret = -errno;
	}
	if (setitimer(ITIMER_VIRTUAL, &old, NULL) && !ret) {
		pr_perror("can't put back the restorer's ITIMER_VIRTUAL");
		ret = -errno;
	}
	*bonus_us = 0;
	if (!ret && tv_us(&got.it_value) > tv_us(&probe.it_value))
		*bonus_us = tv_us(&got.it_value) - tv_us(&probe.it_value);
	return ret;
}

static int cpu_itimer_bonus(uint64_t *bonus_us)
{
	*bonus_us = 0;
	for (int i = 0; i < 3; i++) {
		uint64_t b = 0;
		int ret = cpu_itimer_bonus_once(&b);

		if (ret)
			return ret;
		*bonus_us = b > *bonus_us ? b : *bonus_us;
	}
	return 0;
}

static int restore_itimer(struct restore_task *t, const ItimerEntry *e, uint64_t bonus_us)
{
	uint64_t value = e->value_us;
	struct kitimerval v;
	char what[48];
	long r;
	int ret;

	if (e->which == ITIMER_REAL && !value && e->interval_us) {
		if (!signal_pending(t->core, SIGALRM)) {
			pr_info("pid %d: ITIMER_REAL had stopped (interval %" PRIu64 " us, no "
				"SIGALRM pending): left off\n",
				t->pid, e->interval_us);
			return 0;
		}
		value = e->interval_us; /* re-armed at the delivery of the pending SIGALRM */
	}
	if (e->which != ITIMER_REAL && value)
		value = value > bonus_us ? value - bonus_us : 1;
	v.interval_sec = (int64_t)(e->interval_us / USEC_PER_SEC);
	v.interval_usec = (int64_t)(e->interval_us % USEC_PER_SEC);
	v.value_sec = (int64_t)(value / USEC_PER_SEC);
	v.value_usec = (int64_t)(value % USEC_PER_SEC);
	ret = rsys_write(&t->rs, t->sk.scratch + OFF_ITV, &v, sizeof(v));
	if (ret)
		return ret;
	snprintf(what, sizeof(what), "set %s", itimer_names[e->which]);
	r = core_rcall(&t->rs, what, SYS_setitimer, e->which, (long)(t->sk.scratch + OFF_ITV), 0,
		       0);
	if (r < 0)
		return (int)r;
	pr_info("pid %d: %s: %" PRIu64 " us (dumped %" PRIu64 " us), interval %" PRIu64 " us\n",
		t->pid, itimer_names[e->which], value, e->value_us, e->interval_us);
	return 0;
}

int restore_timers(struct restore_ctx *c, struct restore_task *t)
{
	const CoreEntry *ce = t->core;
	uint64_t bonus_us = 0;
	int ret = 0;

	(void)c;
	if (!ce->n_posix_timers && !ce->n_itimers)
		return 0;
	if (!t->rs_open || t->sk.scratch_len < OFF_END) {
		pr_err("pid %d: no remote-syscall session or scratch page (internal error)\n",
		       t->pid);
		return -EINVAL;
	}
	if (ce->n_posix_timers)
		ret = restore_posix_timers(t);
	if (!ret && ce->n_itimers)
		ret = cpu_itimer_bonus(&bonus_us);
	for (size_t i = 0; !ret && i < ce->n_itimers; i++)
		ret = restore_itimer(t, ce->itimers[i], bonus_us);
	return ret;
}
