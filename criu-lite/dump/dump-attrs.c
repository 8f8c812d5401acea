/* dump-attrs: the scheduling and prctl attributes of a task and of each of its threads
 * (core.proto task_attrs_entry, thread_attrs_entry), and the refusal of those it can't restore.
 *
 * Per thread: the scheduling policy and its parameters (sched_getattr), the CPU affinity and
 * the I/O priority are read from outside on the thread's tid; the timer slack (and the default
 * it falls back to), PR_GET_TSC, PR_MCE_KILL_GET, the speculation controls, CPUID faulting and
 * the NUMA policy only the thread itself can tell, through its rsys session. Per process:
 * oom_score_adj, loginuid, the autogroup's nice value and the LSM label from /proc; the
 * child-subreaper flag, membarrier registrations and the futex hash size through the leader's
 * rsys session (MDWE, KSM for every VMA and coredump_filter belong to the address space:
 * dump-mm.c). A kernel that lacks one of these leaves it out of
 * the image. Refused, naming the task, thread and attribute: syscall user dispatch (checked before
 * any remote call, which it could turn into SIGSYS), an I/O flusher (PR_SET_IO_FLUSHER, whose
 * setting needs CAP_SYS_RESOURCE), a core-scheduling cookie, LAM tagged addresses or a shadow
 * stack, and threads with different loginuids. Reading the default timer slack sets the slack to
 * it for a moment (PR_SET_TIMERSLACK 0) and back, the one write of the dump (a dumper killed in
 * between leaves the thread with its default as its slack); real-time threads have none to read.
 */
#define LOG_PREFIX "dump-attrs: "

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "criu-lite/dump/dump.h"
#include "criu-lite/fault.h"
#include "criu-lite/kinds/attrs.h"
#include "criu-lite/kinds/core.h"
#include "criu-lite/log.h"

#ifndef PR_GET_SPECULATION_CTRL
#define PR_GET_SPECULATION_CTRL 52
#endif

/* struct ptrace_sud_config */
struct sud_config {
	uint64_t mode, selector, offset, len;
};

static void *zalloc(size_t size)
{
	void *p = calloc(1, size);

	if (!p)
		pr_err("out of memory (%zu bytes)\n", size);
	return p;
}

/* ---- refusals before any remote call -------------------------------------------------------- */

int dump_attrs_check(const struct dump_ctx *c)
{
	for (size_t i = 0; i < c->st.nr; i++) {
		pid_t tid = c->st.thr[i].tid;
		struct sud_config sud = { 0 };

		if (ptrace(ATTRS_PTRACE_GET_SUD_CONFIG, tid, sizeof(sud), &sud)) {
			if (errno == EIO || errno == EINVAL)
				continue; /* a kernel without it (before 6.3) */
			pr_perror("pid %d: can't read the syscall user dispatch of thread %d",
				  c->st.pid, tid);
			return -errno;
		}
		if (sud.mode) {
			pr_err("pid %d: thread %d uses syscall user dispatch (PR_SET_SYSCALL_USER_"
			       "DISPATCH mode %" PRIu64 ", range %#" PRIx64 "+%" PRIu64 "): not "
			       "supported\n",
			       c->st.pid, tid, sud.mode, sud.offset, sud.len);
			return -ENOTSUP;
		}
	}
	return 0;
}

/* ---- one thread ----------------------------------------------------------------------------- */

static int dump_sched(const struct dump_ctx *c, pid_t tid, ThreadAttrsEntry *a)
{
	struct attrs_sched_attr sa = { 0 };
	uint64_t mask[ATTRS_AFFINITY_WORDS] = { 0 };
	long n;

	if (syscall(SYS_sched_getattr, tid, &sa, sizeof(sa), 0)) {
		pr_perror("pid %d: can't read the scheduling policy of thread %d (sched_getattr)",
			  c->st.pid, tid);
		return -errno;
	}
	a->sched_policy = sa.sched_policy;
	a->sched_flags = sa.sched_flags;
	a->sched_nice = sa.sched_nice;
	a->sched_priority = sa.sched_priority;
	a->sched_runtime = sa.sched_runtime;
	a->sched_deadline = sa.sched_deadline;
	a->sched_period = sa.sched_period;
	a->sched_util_min = sa.sched_util_min;
	a->sched_util_max = sa.sched_util_max;
	n = syscall(SYS_sched_getaffinity, tid, sizeof(mask), mask);
	if (n < 0) {
		pr_perror("pid %d: can't read the CPU affinity of thread %d", c->st.pid, tid);
		return -errno;
	}
	a->n_cpu_affinity = ((size_t)n + 7) / 8;
	a->cpu_affinity = malloc(sizeof(mask));
	if (!a->cpu_affinity) {
		pr_err("out of memory\n");
		return -ENOMEM;
	}
	memcpy(a->cpu_affinity, mask, sizeof(mask));
	n = syscall(SYS_ioprio_get, ATTRS_IOPRIO_WHO_PROCESS, tid);
	if (n < 0) {
		pr_perror("pid %d: can't read the I/O priority of thread %d", c->st.pid, tid);
		return -errno;
	}
	a->ioprio = (uint32_t)n;
	return 0;
}

static bool rt_or_dl(uint32_t policy)
{
	return policy == ATTRS_SCHED_FIFO || policy == ATTRS_SCHED_RR ||
	       policy == ATTRS_SCHED_DEADLINE;
}

/* The slack and the default PR_SET_TIMERSLACK(0) falls back to (set for a moment, then back). */
static int dump_slack(const struct dump_ctx *c, pid_t tid, struct rsys *rs, ThreadAttrsEntry *a)
{
	long now, dflt, r;

	now = core_rcall(rs, "read the timer slack", SYS_prctl, PR_GET_TIMERSLACK, 0, 0, 0);
	if (now < 0)
		return (int)now;
	a->timer_slack_ns = (uint64_t)now;
	if (rt_or_dl(a->sched_policy))
		return 0; /* PR_SET_TIMERSLACK does nothing in a real-time thread */
	/* the slack is put back even by a thread whose criu-lite died meanwhile (rsys undo) */
	const long reset[6] = { PR_SET_TIMERSLACK, 0 }, back[6] = { PR_SET_TIMERSLACK, now };

	r = rsys_call_undo(rs, SYS_prctl, reset, SYS_prctl, back);
	if (r < 0)
		return (int)r;
	r = fault_inject(c->sh->o, "slack");
	dflt = r ? r
		 : core_rcall(rs, "read the default timer slack", SYS_prctl, PR_GET_TIMERSLACK, 0,
			      0, 0);
	r = rsys_undo(rs);
	if (dflt < 0)
		return (int)dflt;
	if (r < 0)
		return (int)r;
	a->has_default_timer_slack_ns = true;
	a->default_timer_slack_ns = (uint64_t)dflt;
	pr_debug("pid %d: thread %d: timer slack %ld ns, default %ld ns\n", c->st.pid, tid, now,
		 dflt);
	return 0;
}

static int dump_thread_prctl(const struct dump_ctx *c, pid_t tid, struct rsys *rs, uint64_t scratch,
			     ThreadAttrsEntry *a)
{
	int32_t tsc = 0;
	long r;

	r = core_rcall(rs, "read PR_GET_TSC", SYS_prctl, PR_GET_TSC, (long)scratch, 0, 0);
	if (!r)
		r = rsys_read(rs, scratch, &tsc, sizeof(tsc));
	if (r)
		return (int)r;
	a->tsc = (uint32_t)tsc;
	r = core_rcall(rs, "read the machine-check kill policy", SYS_prctl, PR_MCE_KILL_GET, 0, 0,
		       0);
	if (r < 0)
		return (int)r;
	a->mce_kill = (uint32_t)r;
	a->spec_ctrl = calloc(ATTRS_NR_SPEC, sizeof(*a->spec_ctrl));
	if (!a->spec_ctrl) {
		pr_err("out of memory\n");
		return -ENOMEM;
	}
	a->n_spec_ctrl = ATTRS_NR_SPEC;
	for (int k = 0; k < ATTRS_NR_SPEC; k++) {
		r = rsys_call_quiet(rs, SYS_prctl, PR_GET_SPECULATION_CTRL, k, 0, 0, 0, 0);
		if (r == -EINVAL || r == -ENODEV)
			r = ATTRS_SPEC_UNKNOWN;
		else if (r < 0) {
			errno = (int)-r;
			pr_perror("pid %d: thread %d: can't read speculation control %d", c->st.pid,
				  tid, k);
			return (int)r;
		}
		a->spec_ctrl[k] = (uint32_t)r;
	}
	return 0;
}

/* CPUID faulting (ARCH_GET_CPUID) and the NUMA policy: each absent where the kernel lacks it. */
static int dump_thread_cpu_mem(const struct dump_ctx *c, pid_t tid, struct rsys *rs,
			       uint64_t scratch, ThreadAttrsEntry *a)
{
	uint64_t nodes[ATTRS_NODE_WORDS] = { 0 };
	int32_t mode = 0;
	long r;

	r = rsys_call_quiet(rs, SYS_arch_prctl, ATTRS_ARCH_GET_CPUID, 0, 0, 0, 0, 0);
	if (r >= 0) {
		a->has_cpuid = true;
		a->cpuid = (uint32_t)r;
	}
	r = rsys_write(rs, scratch, nodes, sizeof(nodes));
	if (r)
		return (int)r;
	r = rsys_call_quiet(rs, SYS_get_mempolicy, (long)(scratch + sizeof(nodes)), (long)scratch,
			    ATTRS_NODE_WORDS * 64, 0, 0, 0);
	if (r == -ENOSYS)
		return 0;
	if (!r)
		r = rsys_read(rs, scratch, nodes, sizeof(nodes));
	if (!r)
		r = rsys_read(rs, scratch + sizeof(nodes), &mode, sizeof(mode));
	if (r) {
		errno = (int)-r;
		pr_perror("pid %d: can't read the NUMA policy of thread %d", c->st.pid, tid);
		return (int)r;
	}
	a->has_mempolicy_mode = true;
	a->mempolicy_mode = mode;
	a->mempolicy_nodes = malloc(sizeof(nodes));
	if (!a->mempolicy_nodes) {
		pr_err("out of memory\n");
		return -ENOMEM;
	}
	memcpy(a->mempolicy_nodes, nodes, sizeof(nodes));
	a->n_mempolicy_nodes = ATTRS_NODE_WORDS;
	return 0;
}

/* What restore could not set again. */
static int refuse_thread(const struct dump_ctx *c, pid_t tid, struct rsys *rs, uint64_t scratch)
{
	struct proc_stat st;
	uint64_t cookie = 0, v = 0;
	long r;
	int ret = proc_parse_task_stat(c->st.pid, tid, &st);

	if (ret)
		return ret;
	if ((st.flags & ATTRS_PF_MEMALLOC_NOIO) && (st.flags & ATTRS_PF_LOCAL_THROTTLE)) {
		pr_err("pid %d: thread %d is an I/O flusher (PR_SET_IO_FLUSHER): not supported\n",
		       c->st.pid, tid);
		return -ENOTSUP;
	}
	if (!prctl(ATTRS_PR_SCHED_CORE, ATTRS_PR_SCHED_CORE_GET, tid, 0, &cookie) && cookie) {
		pr_err("pid %d: thread %d has a core-scheduling cookie (PR_SCHED_CORE): not "
		       "supported\n",
		       c->st.pid, tid);
		return -ENOTSUP;
	}
	/* LAM (x86 tagged addresses) and user shadow stacks: EINVAL where the kernel has none */
	r = rsys_call_quiet(rs, SYS_arch_prctl, ATTRS_ARCH_GET_UNTAG_MASK, (long)scratch, 0, 0, 0,
			    0);
	if (!r && !rsys_read(rs, scratch, &v, sizeof(v)) && v != ~0ULL) {
		pr_err("pid %d: thread %d uses tagged addresses (LAM, untag mask %#" PRIx64
		       "): not "
		       "supported\n",
		       c->st.pid, tid, v);
		return -ENOTSUP;
	}
	v = 0;
	r = rsys_call_quiet(rs, SYS_arch_prctl, ATTRS_ARCH_SHSTK_STATUS, (long)scratch, 0, 0, 0, 0);
	if (!r && !rsys_read(rs, scratch, &v, sizeof(v)) && v) {
		pr_err("pid %d: thread %d has a user shadow stack (ARCH_SHSTK_STATUS %#" PRIx64
		       "): "
		       "not supported\n",
		       c->st.pid, tid, v);
		return -ENOTSUP;
	}
	return 0;
}

static int check_loginuid(const struct dump_ctx *c, const CoreEntry *ce, pid_t tid)
{
	char path[96], buf[32];
	int64_t v;
	int ret;

	if (!ce->attrs || !ce->attrs->has_loginuid)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/loginuid", c->st.pid, tid);
	ret = proc_read_value(path, buf, sizeof(buf));
	if (!ret)
		ret = proc_parse_int_buf(path, buf, strlen(buf), 10, 0, UINT32_MAX, &v);
	if (ret) {
		if (ret != -EINVAL) {
			errno = -ret;
			pr_perror("can't read %s", path);
		}
		return ret;
	}
	if ((uint32_t)v != ce->attrs->loginuid) {
		pr_err("pid %d: thread %d has loginuid %u, the process %u: threads with different "
		       "loginuids are not supported\n",
		       c->st.pid, tid, (uint32_t)v, ce->attrs->loginuid);
		return -ENOTSUP;
	}
	return 0;
}

int dump_thread_attrs(const struct dump_ctx *c, const CoreEntry *ce, pid_t tid, struct rsys *rs,
		      uint64_t scratch, ThreadCoreEntry *te)
{
	ThreadAttrsEntry *a = zalloc(sizeof(*a));
	int ret;

	if (!a)
		return -ENOMEM;
	thread_attrs_entry__init(a);
	te->attrs = a;
	ret = refuse_thread(c, tid, rs, scratch);
	if (!ret)
		ret = check_loginuid(c, ce, tid);
	if (!ret)
		ret = dump_sched(c, tid, a);
	if (!ret)
		ret = dump_slack(c, tid, rs, a);
	if (!ret)
		ret = dump_thread_prctl(c, tid, rs, scratch, a);
	if (!ret)
		ret = dump_thread_cpu_mem(c, tid, rs, scratch, a);
	return ret;
}

/* ---- the process ---------------------------------------------------------------------------- */

/* Registrations (MEMBARRIER_CMD_GET_REGISTRATIONS, 6.3+), else probed with the commands that
 * need one: they fail with EPERM when it was not made. A global registration can't be probed. */
static int dump_membarrier(const struct dump_ctx *c, struct rsys *rs, TaskAttrsEntry *a)
{
	static const struct {
		int cmd, reg;
	} probe[] = {
		{ ATTRS_MB_PRIVATE_EXPEDITED, ATTRS_MB_REGISTER_PRIVATE_EXPEDITED },
		{ ATTRS_MB_PRIVATE_EXPEDITED_SYNC_CORE, ATTRS_MB_REGISTER_SYNC_CORE },
		{ ATTRS_MB_PRIVATE_EXPEDITED_RSEQ, ATTRS_MB_REGISTER_RSEQ },
	};
	long r = rsys_call_quiet(rs, SYS_membarrier, ATTRS_MB_GET_REGISTRATIONS, 0, 0, 0, 0, 0);
	char names[128];
	uint32_t mask = 0;

	if (r == -ENOSYS)
		return 0;
	if (r >= 0) {
		mask = (uint32_t)r;
	} else if (r == -EINVAL) {
		for (size_t i = 0; i < sizeof(probe) / sizeof(probe[0]); i++) {
			r = rsys_call_quiet(rs, SYS_membarrier, probe[i].cmd, 0, 0, 0, 0, 0);
			if (!r)
				mask |= (uint32_t)probe[i].reg;
			else if (r != -EPERM && r != -EINVAL)
				break;
			r = 0;
		}
	}
	if (r < 0) {
		errno = (int)-r;
		pr_perror("pid %d: can't read its membarrier registrations", c->st.pid);
		return (int)r;
	}
	a->has_membarrier = true;
	a->membarrier = mask;
	if (mask)
		pr_info("pid %d: membarrier registrations: %s\n", c->st.pid,
			attrs_membarrier_names(mask, names, sizeof(names)));
	return 0;
}

/* A prctl getter that returns its value; absent (has = false) where the kernel lacks it. */
static int get_optional(const struct dump_ctx *c, struct rsys *rs, const char *what, long op,
			long arg, protobuf_c_boolean *has, int64_t *v)
{
	long r = rsys_call_quiet(rs, SYS_prctl, op, arg, 0, 0, 0, 0);

	if (r == -EINVAL)
		return 0;
	if (r < 0) {
		errno = (int)-r;
		pr_perror("pid %d: can't read %s", c->st.pid, what);
		return (int)r;
	}
	*has = true;
	*v = r;
	return 0;
}

static int dump_proc_prctl(const struct dump_ctx *c, struct rsys *rs, uint64_t scratch,
			   TaskAttrsEntry *a)
{
	int32_t sub = 0;
	int64_t v = 0;
	long r;
	int ret;

	r = core_rcall(rs, "read the child-subreaper flag", SYS_prctl, PR_GET_CHILD_SUBREAPER,
		       (long)scratch, 0, 0);
	if (!r)
		r = rsys_read(rs, scratch, &sub, sizeof(sub));
	if (r)
		return (int)r;
	a->child_subreaper = sub != 0;
	ret = dump_membarrier(c, rs, a);
	/* MDWE and KSM-for-every-VMA belong to the address space: mm-PID.img (dump-mm.c) */
	if (!ret)
		ret = get_optional(c, rs, "the futex hash size", ATTRS_PR_FUTEX_HASH,
				   ATTRS_PR_FUTEX_HASH_GET, &a->has_futex_hash_slots, &v);
	a->futex_hash_slots = (int32_t)v;
	return ret;
}

static int dump_proc_files(const struct dump_ctx *c, TaskAttrsEntry *a)
{
	char path[64], buf[256];
	int64_t v;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", c->pid);
	ret = proc_read_int(path, 10, -1000, 1000, &v);
	if (ret)
		return ret;
	a->oom_score_adj = (int32_t)v;
	/* the ones a kernel may lack: no audit, no autogroups, no LSM */
	snprintf(path, sizeof(path), "/proc/%d/loginuid", c->pid);
	if (!proc_read_value(path, buf, sizeof(buf))) {
		ret = proc_parse_int_buf(path, buf, strlen(buf), 10, 0, UINT32_MAX, &v);
		if (ret)
			return ret;
		a->has_loginuid = true;
		a->loginuid = (uint32_t)v;
	}
	snprintf(path, sizeof(path), "/proc/%d/autogroup", c->pid);
	if (!proc_read_value(path, buf, sizeof(buf))) {
		bool root;
		int nice;

		ret = proc_parse_autogroup_buf(path, buf, strlen(buf), &nice, &root);
		if (ret)
			return ret;
		a->has_autogroup_nice = true;
		a->autogroup_nice = nice;
		a->has_autogroup_root = root;
		a->autogroup_root = root;
	}
	snprintf(path, sizeof(path), "/proc/%d/attr/current", c->pid);
	if (!proc_read_value(path, buf, sizeof(buf)) && buf[0]) {
		a->lsm_label = strdup(buf);
		if (!a->lsm_label) {
			pr_err("out of memory\n");
			return -ENOMEM;
		}
	}
	return 0;
}

int dump_task_attrs_proc(const struct dump_ctx *c, struct rsys *rs, uint64_t scratch, CoreEntry *ce)
{
	TaskAttrsEntry *a = zalloc(sizeof(*a));
	int ret;

	if (!a)
		return -ENOMEM;
	task_attrs_entry__init(a);
	ce->attrs = a;
	ret = dump_proc_files(c, a);
	if (!ret)
		ret = dump_proc_prctl(c, rs, scratch, a);
	if (!ret)
		pr_info("pid %d: oom_score_adj %d, subreaper %d, autogroup nice %d\n", c->st.pid,
			a->oom_score_adj, a->child_subreaper, a->autogroup_nice);
	return ret;
}
