/* restore-sched: the last step of a task's restore: every thread's CPU affinity, scheduling
 * policy and parameters, and I/O priority, set from the restorer on its host tid and read back
 * (thread_attrs_entry of core-PID.img).
 *
 * Last, because a real-time or deadline policy would rule the rest of the restore (and a deadline
 * task may not clone), and the threads are all held in ptrace stops by then. The affinity comes
 * first: a deadline policy wants the affinity it will run with. A fair task's time slice
 * (sched_runtime of SCHED_OTHER and SCHED_BATCH) is the kernel's default unless the task chose
 * one: the policy is set with the default first, and the dumped slice only if the default
 * differs. Utilization clamps are set only where they differ, since asking for them marks them as
 * the task's own. A value the kernel does not take back as it was (a CPU this machine lacks, a
 * clamp without CONFIG_UCLAMP_TASK) fails the restore naming the thread and the item.
 */
#define LOG_PREFIX "restore-sched: "

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "criu-lite/kinds/attrs.h"
#include "criu-lite/log.h"
#include "criu-lite/restore/restore-attrs.h"

static int set_affinity(const struct restore_task *t, pid_t tid, uint32_t vtid,
			const ThreadAttrsEntry *a)
{
	uint64_t now[ATTRS_AFFINITY_WORDS] = { 0 }, want[ATTRS_AFFINITY_WORDS] = { 0 };
	size_t n =
	    a->n_cpu_affinity < ATTRS_AFFINITY_WORDS ? a->n_cpu_affinity : ATTRS_AFFINITY_WORDS;

	if (!n)
		return 0;
	memcpy(want, a->cpu_affinity, n * sizeof(*want));
	if (syscall(SYS_sched_getaffinity, tid, sizeof(now), now) < 0) {
		pr_perror("pid %d: can't read the CPU affinity of thread %u", t->vpid, vtid);
		return -errno;
	}
	if (!memcmp(now, want, sizeof(now)))
		return 0;
	if (syscall(SYS_sched_setaffinity, tid, sizeof(want), want) ||
	    syscall(SYS_sched_getaffinity, tid, sizeof(now), now) < 0) {
		pr_perror("pid %d: can't set the CPU affinity of thread %u (first word %#" PRIx64
			  ")",
			  t->vpid, vtid, want[0]);
		return -errno;
	}
	if (memcmp(now, want, sizeof(now))) {
		pr_err("pid %d: thread %u: CPU affinity %#" PRIx64 "... after setting %#" PRIx64
		       "...: this machine lacks some of its CPUs, or its cpuset excludes them\n",
		       t->vpid, vtid, now[0], want[0]);
		return -ENOTSUP;
	}
	return 0;
}

static bool fair(uint32_t policy)
{
	return policy == ATTRS_SCHED_OTHER || policy == ATTRS_SCHED_BATCH ||
	       policy == ATTRS_SCHED_IDLE;
}

static int setattr(const struct restore_task *t, pid_t tid, uint32_t vtid,
		   struct attrs_sched_attr *sa, struct attrs_sched_attr *now)
{
	char pn[32];

	sa->size = sizeof(*sa);
	if (syscall(SYS_sched_setattr, tid, sa, 0)) {
		pr_perror("pid %d: can't set the scheduling of thread %u to %s (nice %d, priority "
			  "%u, flags %#" PRIx64 ")",
			  t->vpid, vtid, attrs_policy_name(sa->sched_policy, pn, sizeof(pn)),
			  sa->sched_nice, sa->sched_priority, sa->sched_flags);
		return -errno;
	}
	memset(now, 0, sizeof(*now));
	if (syscall(SYS_sched_getattr, tid, now, sizeof(*now), 0)) {
		pr_perror("pid %d: can't read back the scheduling of thread %u", t->vpid, vtid);
		return -errno;
	}
	return 0;
}

static int set_sched(const struct restore_task *t, pid_t tid, uint32_t vtid,
		     const ThreadAttrsEntry *a)
{
	struct attrs_sched_attr sa = {
		.sched_policy = a->sched_policy,
		.sched_flags = a->sched_flags & ATTRS_SCHED_FLAGS_KEPT,
		.sched_nice = a->sched_nice,
		.sched_priority = a->sched_priority,
		.sched_runtime = fair(a->sched_policy) ? 0 : a->sched_runtime,
		.sched_deadline = a->sched_deadline,
		.sched_period = a->sched_period,
	};
	struct attrs_sched_attr now;
	char pn[32];
	int ret = setattr(t, tid, vtid, &sa, &now);

	if (!ret && now.sched_runtime != a->sched_runtime && fair(a->sched_policy)) {
		sa.sched_runtime = a->sched_runtime; /* a slice of its own */
		ret = setattr(t, tid, vtid, &sa, &now);
	}
	if (!ret &&
	    (now.sched_util_min != a->sched_util_min || now.sched_util_max != a->sched_util_max)) {
		sa.sched_flags |= ATTRS_SCHED_FLAG_KEEP_POLICY | ATTRS_SCHED_FLAG_KEEP_PARAMS |
				  ATTRS_SCHED_FLAG_UTIL_MIN | ATTRS_SCHED_FLAG_UTIL_MAX;
		sa.sched_util_min = a->sched_util_min;
		sa.sched_util_max = a->sched_util_max;
		ret = setattr(t, tid, vtid, &sa, &now);
	}
	if (ret)
		return ret;
	if (now.sched_policy != a->sched_policy || now.sched_flags != a->sched_flags ||
	    now.sched_nice != a->sched_nice || now.sched_priority != a->sched_priority ||
	    now.sched_runtime != a->sched_runtime || now.sched_deadline != a->sched_deadline ||
	    now.sched_period != a->sched_period || now.sched_util_min != a->sched_util_min ||
	    now.sched_util_max != a->sched_util_max) {
		pr_err("pid %d: thread %u: scheduling read back as %s flags %#" PRIx64
		       " nice %d priority %u runtime %" PRIu64
		       " util %u-%u, dumped %s flags %#" PRIx64
		       " nice %d priority %u runtime %" PRIu64 " util %u-%u\n",
		       t->vpid, vtid, attrs_policy_name(now.sched_policy, pn, sizeof(pn)),
		       now.sched_flags, now.sched_nice, now.sched_priority, now.sched_runtime,
		       now.sched_util_min, now.sched_util_max,
		       attrs_policy_name(a->sched_policy, pn, sizeof(pn)), a->sched_flags,
		       a->sched_nice, a->sched_priority, a->sched_runtime, a->sched_util_min,
		       a->sched_util_max);
		return -EIO;
	}
	return 0;
}

static int set_ioprio(const struct restore_task *t, pid_t tid, uint32_t vtid,
		      const ThreadAttrsEntry *a)
{
	long now = syscall(SYS_ioprio_get, ATTRS_IOPRIO_WHO_PROCESS, tid);

	if (now == (long)a->ioprio)
		return 0;
	if (syscall(SYS_ioprio_set, ATTRS_IOPRIO_WHO_PROCESS, tid, a->ioprio) ||
	    (now = syscall(SYS_ioprio_get, ATTRS_IOPRIO_WHO_PROCESS, tid)) < 0) {
		pr_perror("pid %d: can't set the I/O priority of thread %u to class %u level %u",
			  t->vpid, vtid, a->ioprio >> 13, a->ioprio & 0x1fff);
		return -errno;
	}
	if (now != (long)a->ioprio) {
		pr_err("pid %d: thread %u: I/O priority %#lx after setting %#x\n", t->vpid, vtid,
		       now, a->ioprio);
		return -EIO;
	}
	return 0;
}

int restore_sched(struct restore_task *t)
{
	const CoreEntry *ce = t->core;
	char pn[32];

	for (size_t i = 0; i < ce->n_threads; i++) {
		const ThreadAttrsEntry *a = ce->threads[i]->attrs;
		uint32_t vtid = ce->threads[i]->tid;
		pid_t tid = t->tids[i];
		int ret;

		if (!a)
			continue;
		ret = set_affinity(t, tid, vtid, a);
		if (!ret)
			ret = set_sched(t, tid, vtid, a);
		if (!ret)
			ret = set_ioprio(t, tid, vtid, a);
		if (ret)
			return ret;
		pr_info("pid %d: thread %u: %s nice %d priority %u, I/O priority %#x\n", t->vpid,
			vtid, attrs_policy_name(a->sched_policy, pn, sizeof(pn)), a->sched_nice,
			a->sched_priority, a->ioprio);
	}
	return 0;
}
