/* restore-attrs: the scheduling and prctl attributes of core-PID.img's task_attrs_entry and
 * thread_attrs_entry, put back and read back (see restore-attrs.h for where each step runs).
 *
 * What the task must do itself goes through rsys in the thread concerned: loginuid (written by
 * the task to its own /proc/self/loginuid, which is the kernel's rule, before anything changes its
 * root and before its threads are born, so they inherit it), the timer slack, TSC, machine-check
 * and speculation controls, CPUID faulting and the NUMA policy (per thread), the child-subreaper
 * flag, membarrier registrations and the futex hash size (per process; MDWE, KSM for every VMA
 * and coredump_filter belong to the address space: restore-mmattr.c).
 * What the restorer may do from outside it does on the host pid or tid: oom_score_adj and
 * the autogroup's nice through /proc, and, as the very last step,
 * CPU affinity, scheduling policy and parameters, and I/O priority of every thread (a real-time
 * or deadline policy would otherwise rule the restore itself).
 * The default timer slack of a thread is what its creator's slack was when it was cloned: the
 * creator's slack is set to it right before each clone (restore_attrs_creator_slack()).
 * Everything set is read back; a value the kernel refuses (a lower oom_score_adj without
 * CAP_SYS_RESOURCE, a CPU this machine lacks, an autogroup outside the tree that differs, a
 * registration the skeleton has and the task had not) fails the restore naming task and item.
 * Images without these entries (older dumps) restore as before.
 */
#define LOG_PREFIX "restore-attrs: "

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "criu-lite/kinds/attrs.h"
#include "criu-lite/kinds/core.h"
#include "criu-lite/log.h"
#include "criu-lite/proc/proc.h"
#include "criu-lite/restore/restore-attrs.h"
#include "criu-lite/restore/restore-core.h"
#include "criu-lite/restore/restore-tree.h"

#ifndef PR_GET_SPECULATION_CTRL
#define PR_GET_SPECULATION_CTRL 52
#define PR_SET_SPECULATION_CTRL 53
#endif

/* ---- creation: the default timer slack ------------------------------------------------------ */

int restore_attrs_creator_slack(struct rsys *creator, const ThreadCoreEntry *child)
{
	const ThreadAttrsEntry *a = child ? child->attrs : NULL;
	char what[64];

	if (!a || !a->has_default_timer_slack_ns || !a->default_timer_slack_ns)
		return 0;
	snprintf(what, sizeof(what), "set the timer slack its child %u inherits", child->tid);
	return restore_rcall(creator, what, SYS_prctl, PR_SET_TIMERSLACK,
			     (long)a->default_timer_slack_ns, 0, 0);
}

const ThreadCoreEntry *restore_leader_entry(const struct restore_task *t)
{
	const CoreEntry *ce = t->core;

	return ce && !ce->has_leader_exit_code && ce->n_threads ? ce->threads[0] : NULL;
}

int restore_attrs_own_slack(const ThreadCoreEntry *root, long *saved)
{
	const ThreadAttrsEntry *a = root ? root->attrs : NULL;

	*saved = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	if (!a || !a->has_default_timer_slack_ns || !a->default_timer_slack_ns)
		return 0;
	if (prctl(PR_SET_TIMERSLACK, (unsigned long)a->default_timer_slack_ns, 0, 0, 0)) {
		pr_perror("can't set the restorer's timer slack to %" PRIu64
			  " ns, the root's default",
			  a->default_timer_slack_ns);
		return -errno;
	}
	return 0;
}

/* ---- before mm and files: loginuid, LSM label ----------------------------------------------- */

static int check_lsm(struct restore_task *t, const TaskAttrsEntry *a)
{
	char path[64], now[256] = "";

	if (!a->lsm_label)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/attr/current", t->pid);
	proc_read_value(path, now, sizeof(now));
	if (strcmp(now, a->lsm_label)) {
		pr_err("pid %d: its security label was \"%s\", the restored task has \"%s\": "
		       "changing it is not supported\n",
		       t->vpid, a->lsm_label, now[0] ? now : "(none)");
		return -ENOTSUP;
	}
	return 0;
}

/* Only the task itself may write its loginuid (through /proc/self/loginuid). */
static int restore_loginuid(struct restore_task *t, const TaskAttrsEntry *a)
{
	char path[64], buf[32];
	uint64_t at = t->sk.scratch;
	int64_t now;
	long fd, r;
	int ret, len;

	if (!a->has_loginuid)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/loginuid", t->pid);
	ret = proc_read_int(path, 10, 0, UINT32_MAX, &now);
	if (ret)
		return ret;
	if ((uint32_t)now == a->loginuid)
		return 0;
	len = snprintf(buf, sizeof(buf), "%u", a->loginuid);
	if ((ret = rsys_write(&t->rs, at, "/proc/self/loginuid", 20)) ||
	    (ret = rsys_write(&t->rs, at + 64, buf, (size_t)len)))
		return ret;
	fd = core_rcall(&t->rs, "open /proc/self/loginuid", SYS_openat, AT_FDCWD, (long)at,
			O_WRONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return (int)fd;
	r = rsys_call_quiet(&t->rs, SYS_write, fd, (long)(at + 64), len, 0, 0, 0);
	rsys_call_quiet(&t->rs, SYS_close, fd, 0, 0, 0, 0, 0);
	if (r != len) {
		errno = r < 0 ? (int)-r : EIO;
		pr_perror("pid %d: can't set its loginuid to %u (it is %u; changing a set loginuid "
			  "needs CAP_AUDIT_CONTROL, and the kernel may make it immutable)",
			  t->vpid, a->loginuid, (uint32_t)now);
		return -errno;
	}
	ret = proc_read_int(path, 10, 0, UINT32_MAX, &now);
	if (!ret && (uint32_t)now != a->loginuid) {
		pr_err("pid %d: loginuid is %u after setting %u\n", t->vpid, (uint32_t)now,
		       a->loginuid);
		return -EIO;
	}
	if (!ret)
		pr_info("pid %d: loginuid %u\n", t->vpid, a->loginuid);
	return ret;
}

int restore_attrs_prepare(struct restore_task *t)
{
	const TaskAttrsEntry *a = t->core ? t->core->attrs : NULL;
	int ret;

	if (!a)
		return 0;
	ret = check_lsm(t, a);
	return ret ? ret : restore_loginuid(t, a);
}

/* ---- per thread, inside it ------------------------------------------------------------------ */

static int restore_slack(const struct restore_thread *th, const ThreadAttrsEntry *a)
{
	long now, dflt;
	int ret;

	if (!a->timer_slack_ns)
		return 0; /* a real-time thread: its policy, set last, forces 0 */
	if (a->has_default_timer_slack_ns) {
		ret = restore_rcall(th->rs, "reset the timer slack to its default", SYS_prctl,
				    PR_SET_TIMERSLACK, 0, 0, 0);
		if (ret)
			return ret;
		dflt = core_rcall(th->rs, "read the default timer slack", SYS_prctl,
				  PR_GET_TIMERSLACK, 0, 0, 0);
		if (dflt < 0)
			return (int)dflt;
		if ((uint64_t)dflt != a->default_timer_slack_ns) {
			pr_err("pid %d: thread %d: default timer slack %ld ns, %" PRIu64
			       " at dump\n",
			       th->t->vpid, th->vtid, dflt, a->default_timer_slack_ns);
			return -EIO;
		}
	}
	ret = restore_rcall(th->rs, "set the timer slack", SYS_prctl, PR_SET_TIMERSLACK,
			    (long)a->timer_slack_ns, 0, 0);
	if (ret)
		return ret;
	now = core_rcall(th->rs, "read the timer slack", SYS_prctl, PR_GET_TIMERSLACK, 0, 0, 0);
	if (now < 0)
		return (int)now;
	if ((uint64_t)now != a->timer_slack_ns) {
		pr_err("pid %d: thread %d: timer slack %ld ns after setting %" PRIu64 "\n",
		       th->t->vpid, th->vtid, now, a->timer_slack_ns);
		return -EIO;
	}
	return 0;
}

static int restore_tsc_mce(const struct restore_thread *th, const ThreadAttrsEntry *a)
{
	uint64_t at = th->t->sk.scratch;
	int32_t tsc = 0;
	long r;
	int ret;

	ret = restore_rcall(th->rs, "read PR_GET_TSC", SYS_prctl, PR_GET_TSC, (long)at, 0, 0);
	if (!ret)
		ret = rsys_read(th->rs, at, &tsc, sizeof(tsc));
	if (!ret && (uint32_t)tsc != a->tsc)
		ret = restore_rcall(th->rs, "set PR_SET_TSC", SYS_prctl, PR_SET_TSC, a->tsc, 0, 0);
	if (ret)
		return ret;
	r = core_rcall(th->rs, "read the machine-check kill policy", SYS_prctl, PR_MCE_KILL_GET, 0,
		       0, 0);
	if (r < 0 || (uint32_t)r == a->mce_kill)
		return r < 0 ? (int)r : 0;
	if (a->mce_kill == ATTRS_PR_MCE_KILL_DEFAULT)
		return restore_rcall(th->rs, "clear the machine-check kill policy", SYS_prctl,
				     PR_MCE_KILL, PR_MCE_KILL_CLEAR, 0, 0);
	return restore_rcall(th->rs, "set the machine-check kill policy", SYS_prctl, PR_MCE_KILL,
			     PR_MCE_KILL_SET, a->mce_kill, 0);
}

/* Only what the task chose through prctl is its own; the rest is the host's mitigation mode. */
static int restore_spec(const struct restore_thread *th, const ThreadAttrsEntry *a)
{
	for (size_t k = 0; k < a->n_spec_ctrl && k < ATTRS_NR_SPEC; k++) {
		uint32_t want = a->spec_ctrl[k];
		char what[64];
		long now;

		if (want == ATTRS_SPEC_UNKNOWN || !(want & ATTRS_PR_SPEC_PRCTL))
			continue;
		now = rsys_call_quiet(th->rs, SYS_prctl, PR_GET_SPECULATION_CTRL, (long)k, 0, 0, 0,
				      0);
		if (now == (long)want)
			continue;
		if (now < 0 || !(now & ATTRS_PR_SPEC_PRCTL)) {
			pr_err("pid %d: thread %d: speculation control %zu was set by the task "
			       "(%#x), which this kernel does not let it set (%#lx)\n",
			       th->t->vpid, th->vtid, k, want, now);
			return -ENOTSUP;
		}
		snprintf(what, sizeof(what), "set speculation control %zu to %#x", k,
			 want & ATTRS_PR_SPEC_STATE);
		if (restore_rcall(th->rs, what, SYS_prctl, PR_SET_SPECULATION_CTRL, (long)k,
				  want & ATTRS_PR_SPEC_STATE, 0))
			return -EPERM;
	}
	return 0;
}

/* CPUID faulting, and the NUMA policy (set where it differs from the inherited one). */
static int restore_cpu_mem(const struct restore_thread *th, const ThreadAttrsEntry *a)
{
	uint64_t nodes[ATTRS_NODE_WORDS] = { 0 }, want[ATTRS_NODE_WORDS] = { 0 };
	uint64_t at = th->t->sk.scratch;
	int32_t mode = 0;
	long r;
	int ret;

	if (a->has_cpuid && !a->cpuid) {
		r = rsys_call_quiet(th->rs, SYS_arch_prctl, ATTRS_ARCH_SET_CPUID, 0, 0, 0, 0, 0);
		if (r) {
			errno = (int)-r;
			pr_perror(
			    "pid %d: thread %d made CPUID fault (ARCH_SET_CPUID 0), which this "
			    "machine can't do",
			    th->t->vpid, th->vtid);
			return (int)r;
		}
	}
	if (!a->has_mempolicy_mode)
		return 0;
	memcpy(want, a->mempolicy_nodes,
	       (a->n_mempolicy_nodes < ATTRS_NODE_WORDS ? a->n_mempolicy_nodes : ATTRS_NODE_WORDS) *
		   sizeof(*want));
	ret = restore_rcall(th->rs, "read the NUMA policy", SYS_get_mempolicy,
			    (long)(at + sizeof(nodes)), (long)at, ATTRS_NODE_WORDS * 64, 0);
	if (!ret)
		ret = rsys_read(th->rs, at, nodes, sizeof(nodes));
	if (!ret)
		ret = rsys_read(th->rs, at + sizeof(nodes), &mode, sizeof(mode));
	if (ret || (mode == a->mempolicy_mode && !memcmp(nodes, want, sizeof(want))))
		return ret;
	ret = rsys_write(th->rs, at, want, sizeof(want));
	if (!ret)
		ret = restore_rcall(th->rs, "set the NUMA policy", SYS_set_mempolicy,
				    a->mempolicy_mode, (long)at, ATTRS_NODE_WORDS * 64, 0);
	if (!ret)
		pr_info("pid %d: thread %d: NUMA policy %#x, nodes %#" PRIx64 "...\n", th->t->vpid,
			th->vtid, a->mempolicy_mode, want[0]);
	return ret;
}

int restore_thread_attrs(const struct restore_thread *th)
{
	const ThreadAttrsEntry *a = th->te ? th->te->attrs : NULL;
	int ret;

	if (!a)
		return 0;
	ret = restore_slack(th, a);
	if (!ret)
		ret = restore_tsc_mce(th, a);
	if (!ret)
		ret = restore_spec(th, a);
	if (!ret)
		ret = restore_cpu_mem(th, a);
	return ret;
}

/* ---- per process ---------------------------------------------------------------------------- */

static int restore_membarrier(struct restore_task *t, const TaskAttrsEntry *a)
{
	static const int regs[] = { ATTRS_MB_REGISTER_GLOBAL_EXPEDITED,
				    ATTRS_MB_REGISTER_PRIVATE_EXPEDITED,
				    ATTRS_MB_REGISTER_SYNC_CORE, ATTRS_MB_REGISTER_RSEQ };
	char names[128], what[96];
	long now;

	if (!a->has_membarrier)
		return 0;
	now = rsys_call_quiet(&t->rs, SYS_membarrier, ATTRS_MB_GET_REGISTRATIONS, 0, 0, 0, 0, 0);
	if (now < 0)
		now = 0; /* a kernel without the query: its skeleton registered nothing */
	if ((uint32_t)now & ~a->membarrier) {
		pr_err(
		    "pid %d: the skeleton has membarrier registrations (%s) the task had not: "
		    "they can't be undone\n",
		    t->vpid,
		    attrs_membarrier_names((uint32_t)now & ~a->membarrier, names, sizeof(names)));
		return -EEXIST;
	}
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		if (!(a->membarrier & (uint32_t)regs[i]) || ((uint32_t)now & (uint32_t)regs[i]))
			continue;
		snprintf(what, sizeof(what), "register for membarrier %s",
			 attrs_membarrier_names((uint32_t)regs[i], names, sizeof(names)));
		if (restore_rcall(&t->rs, what, SYS_membarrier, regs[i], 0, 0, 0))
			return -EIO;
	}
	if (a->membarrier)
		pr_info("pid %d: membarrier registrations: %s\n", t->vpid,
			attrs_membarrier_names(a->membarrier, names, sizeof(names)));
	return 0;
}

static int restore_proc_prctl(struct restore_task *t, const TaskAttrsEntry *a)
{
	uint64_t at = t->sk.scratch;
	int32_t sub = 0;
	int ret;

	ret = restore_rcall(&t->rs, "read the child-subreaper flag", SYS_prctl,
			    PR_GET_CHILD_SUBREAPER, (long)at, 0, 0);
	if (!ret)
		ret = rsys_read(&t->rs, at, &sub, sizeof(sub));
	if (!ret && (sub != 0) != a->child_subreaper)
		ret = restore_rcall(&t->rs, "set the child-subreaper flag", SYS_prctl,
				    PR_SET_CHILD_SUBREAPER, a->child_subreaper, 0, 0);
	if (!ret && a->child_subreaper)
		pr_info("pid %d: child subreaper\n", t->vpid);
	if (!ret)
		ret = restore_membarrier(t, a);
	if (!ret && a->has_futex_hash_slots) {
		long now = core_rcall(&t->rs, "read the futex hash size", SYS_prctl,
				      ATTRS_PR_FUTEX_HASH, ATTRS_PR_FUTEX_HASH_GET, 0, 0);

		if (now < 0)
			return (int)now;
		if (now != a->futex_hash_slots)
			ret = restore_rcall(&t->rs, "set the futex hash size", SYS_prctl,
					    ATTRS_PR_FUTEX_HASH, ATTRS_PR_FUTEX_HASH_SET,
					    a->futex_hash_slots, 0);
	}
	return ret;
}

/* Write value to /proc/PID/name from the restorer, unless it is there already. */
static int write_proc(struct restore_task *t, const char *name, const char *value,
		      const char *why_eacces)
{
	char path[64], now[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", t->pid, name);
	if (!proc_read_value(path, now, sizeof(now)) && !strcmp(now, value))
		return 0;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("pid %d: can't open %s", t->vpid, path);
		return -errno;
	}
	n = write(fd, value, strlen(value));
	if (n != (ssize_t)strlen(value)) {
		if (n >= 0)
			errno = EIO;
		pr_perror("pid %d: can't set %s to %s%s", t->vpid, name, value,
			  errno == EACCES || errno == EPERM ? why_eacces : "");
		close(fd);
		return -errno;
	}
	close(fd);
	pr_info("pid %d: %s %s\n", t->vpid, name, value);
	return 0;
}

/* An autogroup is the session's: set where the session is the tree's, else it must match. The
 * root autogroup (no setsid() since boot) has no nice of its own; it weighs what nice 0 does, and
 * outside the tree it matches any autogroup of that weight (the session is the restorer's). */
static int restore_autogroup(struct restore_ctx *c, struct restore_task *t, const TaskAttrsEntry *a)
{
	char path[64], buf[64], val[16];
	bool root;
	int nice, ret;

	if (!a->has_autogroup_nice)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/autogroup", t->pid);
	ret = proc_read_value(path, buf, sizeof(buf));
	if (ret) {
		errno = -ret;
		pr_perror("pid %d: its autogroup had nice %d, and %s can't be read here", t->vpid,
			  a->autogroup_nice, path);
		return ret;
	}
	ret = proc_parse_autogroup_buf(path, buf, strlen(buf), &nice, &root);
	if (ret || (nice == a->autogroup_nice && root == a->autogroup_root))
		return ret;
	if (!restore_task_by_vpid(c, (pid_t)t->pstree->sid)) {
		if (nice == a->autogroup_nice) {
			pr_info(
			    "pid %d: was in %s autogroup, is in %s here (the restorer's session's), "
			    "both of weight nice %d\n",
			    t->vpid, a->autogroup_root ? "the root" : "an",
			    root ? "the root" : "one", nice);
			return 0;
		}
		pr_err("pid %d: its session's autogroup had nice %d%s; the session it joins here "
		       "(outside the tree) has %d%s, which is not the tree's to change\n",
		       t->vpid, a->autogroup_nice, a->autogroup_root ? " (the root autogroup)" : "",
		       nice, root ? " (the root autogroup)" : "");
		return -ENOTSUP;
	}
	snprintf(val, sizeof(val), "%d", a->autogroup_nice);
	return write_proc(t, "autogroup", val, " (a lower nice needs CAP_SYS_NICE)");
}

static int restore_proc_files(struct restore_ctx *c, struct restore_task *t,
			      const TaskAttrsEntry *a)
{
	char val[32];
	int ret;

	snprintf(val, sizeof(val), "%d", a->oom_score_adj);
	ret = write_proc(t, "oom_score_adj", val,
			 " (lower than the restorer's lowest allowed value: that needs "
			 "CAP_SYS_RESOURCE)");
	if (!ret)
		ret = restore_autogroup(c, t, a);
	return ret;
}

int restore_task_attrs(struct restore_ctx *c, struct restore_task *t)
{
	const TaskAttrsEntry *a = t->core->attrs;
	int ret;

	if (!a)
		return 0;
	ret = restore_proc_prctl(t, a);
	if (!ret)
		ret = restore_proc_files(c, t, a);
	return ret;
}
