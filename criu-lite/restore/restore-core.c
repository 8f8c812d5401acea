/* restore-core: signals, limits and task attributes of core-PID.img, set inside the seized
 * skeleton through rsys (t->rs, scratch page t->sk.scratch), plus the image checks that run
 * before anything is created.
 *
 * The skeleton is a fork of the restorer: it inherited the restorer's signal actions, alternate
 * signal stack, rlimits, personality, name, rseq registration and parent-death signal, so each
 * of these is set explicitly, not only where the image differs from the defaults.
 * Order: signal actions and personality (new threads share the first and inherit the second),
 * the seccomp filters every thread shares (inherited too: restore-seccomp.c), the other threads
 * (restore-threads.c: each created with its tid and given its own state, its own seccomp
 * filters and credentials, through its own session), the leader's own state (rseq, private
 * pending signals, alternate stack, name, futex addresses), process-wide pending signals (after
 * the actions: setting SIG_IGN would discard them; before rlimits: a lower RLIMIT_SIGPENDING
 * could refuse them), rlimits, AMX permission, the leader's own seccomp filters and its
 * credentials, then what a credential change
 * resets in the kernel (parent-death signal; dumpable, after every thread's) and no_new_privs.
 * Every thread is created before any credential changes: clone3 with set_tid needs
 * CAP_SYS_ADMIN. A leader that had exited at dump exits again last (restore-threads.c).
 * Registers, xstate and the signal mask of every thread come last, in restore-regs.c, after
 * rsys_close().
 */
#define LOG_PREFIX "restore-core: "

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "criu-lite/kinds/core.h"
#include "criu-lite/kcompat.h"
#include "criu-lite/log.h"
#include "criu-lite/restore/restore-attrs.h"
#include "criu-lite/restore/restore-core.h"
#include "criu-lite/restore/restore-stop.h"

#define RSEQ_FLAG_UNREGISTER 1
#define USER_CS		     0x33 /* __USER_CS: 64-bit user code */
#define USER_DS		     0x2b /* __USER_DS */

struct rseq_conf {
	uint64_t rseq_abi_pointer;
	uint32_t rseq_abi_size;
	uint32_t signature;
	uint32_t flags;
	uint32_t pad;
};

/* ---- checks, before anything is created ----------------------------------------------------- */

static int check_siginfo(const char *img, const SiginfoEntry *e)
{
	int signo;

	if (e->raw.len != CORE_SIGINFO_SIZE) {
		pr_err("%s: a pending signal's siginfo is %zu bytes, not %d\n", img, e->raw.len,
		       CORE_SIGINFO_SIZE);
		return -EINVAL;
	}
	memcpy(&signo, e->raw.data, sizeof(signo));
	if (signo < 1 || signo > CORE_NSIG) {
		pr_err("%s: pending signal number %d is out of range\n", img, signo);
		return -EINVAL;
	}
	return 0;
}

static int check_xstate(const struct restore_ctx *c, const char *img, const ThreadCoreEntry *te)
{
	uint64_t xcr0, bv, xcomp_bv;
	char names[160];

	if (!c->kd.xstate_size) {
		pr_err("%s: the xstate size of this kernel is unknown (kerndat: %s)\n", img,
		       c->kd.item[KD_XSTATE].detail);
		return -ENOTSUP;
	}
	if (te->xstate.len != c->kd.xstate_size) {
		pr_err("%s: thread %u: the xstate is %zu bytes, this machine's is %u: the image "
		       "was made on a CPU with other XSAVE features and cannot be restored here\n",
		       img, te->tid, te->xstate.len, c->kd.xstate_size);
		return -ENOTSUP;
	}
	if (!core_xstate_masks(te->xstate.data, te->xstate.len, &xcr0, &bv)) {
		pr_err("%s: thread %u: the xstate is too short (%zu bytes)\n", img, te->tid,
		       te->xstate.len);
		return -EINVAL;
	}
	memcpy(&xcomp_bv, te->xstate.data + CORE_XSAVE_HDR_OFFSET + 8, sizeof(xcomp_bv));
	if (xcomp_bv || (bv & ~xcr0)) {
		pr_err("%s: thread %u: the xstate header is not a standard-format XSAVE header "
		       "(xstate_bv %#" PRIx64 ", xcomp_bv %#" PRIx64 ", xcr0 %#" PRIx64 ")\n",
		       img, te->tid, bv, xcomp_bv, xcr0);
		return -EINVAL;
	}
	/* A program that saw a feature in CPUID may use it at any time. */
	if (xcr0 & ~c->kd.xcr0) {
		pr_err("%s: thread %u: the task ran with XSAVE features this CPU does not offer "
		       "(%s; XCR0 %#" PRIx64 " at dump, %#" PRIx64 " here)\n",
		       img, te->tid, core_xfeature_names(xcr0 & ~c->kd.xcr0, names, sizeof(names)),
		       xcr0, c->kd.xcr0);
		return -ENOTSUP;
	}
	if (xcr0 != c->kd.xcr0)
		pr_info("%s: thread %u: XCR0 %#" PRIx64 " at dump, %#" PRIx64 " here (a superset, "
			"same layout size)\n",
			img, te->tid, xcr0, c->kd.xcr0);
	return 0;
}

static int check_thread(const struct restore_ctx *c, const char *img, const ThreadCoreEntry *te)
{
	int ret;

	if (!te->regs) {
		pr_err("%s: thread %u has no registers\n", img, te->tid);
		return -EINVAL;
	}
	if (te->creds && te->creds->n_groups > CORE_SCRATCH_BYTES / sizeof(uint32_t)) {
		pr_err("%s: thread %u: %zu supplementary groups: more than %zu are not supported\n",
		       img, te->tid, te->creds->n_groups, CORE_SCRATCH_BYTES / sizeof(uint32_t));
		return -ENOTSUP;
	}
	if (te->regs->cs != USER_CS || te->regs->ss != USER_DS) {
		pr_err("%s: thread %u is not a 64-bit task (cs %#" PRIx64 ", ss %#" PRIx64
		       "): not supported\n",
		       img, te->tid, te->regs->cs, te->regs->ss);
		return -ENOTSUP;
	}
	ret = check_xstate(c, img, te);
	for (size_t i = 0; !ret && i < te->n_pending; i++)
		ret = check_siginfo(img, te->pending[i]);
	return ret;
}

static int check_task_wide(const struct restore_ctx *c, const char *img, const CoreEntry *ce)
{
	bool seen[CORE_NSIG + 1] = { false };
	char names[160];
	int ret = 0;

	for (size_t i = 0; i < ce->n_sigactions; i++) {
		uint32_t s = ce->sigactions[i]->signo;

		if (s < 1 || s > CORE_NSIG || s == SIGKILL || s == SIGSTOP || seen[s]) {
			pr_err("%s: bad or repeated signal action for signal %u\n", img, s);
			return -EINVAL;
		}
		seen[s] = true;
	}
	for (size_t i = 0; i < ce->n_rlimits; i++) {
		const RlimitEntry *r = ce->rlimits[i];

		if (r->resource >= RLIM_NLIMITS || r->cur > r->max) {
			pr_err("%s: bad rlimit %u (cur %" PRIu64 ", max %" PRIu64 ")\n", img,
			       r->resource, r->cur, r->max);
			return -EINVAL;
		}
	}
	for (size_t i = 0; !ret && i < ce->n_shared_pending; i++)
		ret = check_siginfo(img, ce->shared_pending[i]);
	if (!ret && ce->has_xcomp_perm && (ce->xcomp_perm & ~c->kd.xcr0)) {
		pr_err("%s: the task may use XSAVE features this CPU does not offer (%s)\n", img,
		       core_xfeature_names(ce->xcomp_perm & ~c->kd.xcr0, names, sizeof(names)));
		return -ENOTSUP;
	}
	if (!ret && ce->n_groups > CORE_SCRATCH_BYTES / sizeof(uint32_t)) {
		pr_err("%s: %zu supplementary groups: more than %zu are not supported\n", img,
		       ce->n_groups, CORE_SCRATCH_BYTES / sizeof(uint32_t));
		return -ENOTSUP;
	}
	return ret;
}

/* The leader first, unless it had exited (then it is not there); every tid once. */
static int check_thread_ids(const char *img, const CoreEntry *ce)
{
	bool exited = ce->has_leader_exit_code;

	if (!ce->n_threads) {
		pr_err("%s: no threads\n", img);
		return -EINVAL;
	}
	if (!exited && ce->threads[0]->tid != ce->pid) {
		pr_err("%s: the first thread %u is not the leader %u\n", img, ce->threads[0]->tid,
		       ce->pid);
		return -EINVAL;
	}
	for (size_t i = 0; i < ce->n_threads; i++) {
		uint32_t tid = ce->threads[i]->tid;

		if (!tid || tid > INT32_MAX || (i && tid == ce->pid) ||
		    (exited && tid == ce->pid)) {
			pr_err("%s: thread %zu has a bad tid %u (pid %u)\n", img, i, tid, ce->pid);
			return -EINVAL;
		}
		for (size_t k = 0; k < i; k++)
			if (ce->threads[k]->tid == tid) {
				pr_err("%s: tid %u appears twice\n", img, tid);
				return -EINVAL;
			}
	}
	return 0;
}

int restore_core_check(struct restore_ctx *c, struct restore_task *t)
{
	const CoreEntry *ce = t->core;
	char img[48];
	int ret;

	snprintf(img, sizeof(img), "core-%d.img", t->vpid);
	if (!ce) {
		pr_err("%s: missing\n", img);
		return -EINVAL;
	}
	if (ce->pid != (uint32_t)t->vpid) {
		pr_err("%s: holds pid %u\n", img, ce->pid);
		return -EINVAL;
	}
	ret = check_thread_ids(img, ce);
	if (!ret)
		ret = restore_seccomp_check(c, img, ce);
	if (!ret)
		ret = check_task_wide(c, img, ce);
	for (size_t i = 0; !ret && i < ce->n_threads; i++)
		ret = check_thread(c, img, ce->threads[i]);
	return ret;
}

/* ---- in the skeleton ------------------------------------------------------------------------ */

static int put_scratch(const struct restore_thread *th, const void *buf, size_t len)
{
	struct restore_task *t = th->t;

	if (len > t->sk.scratch_len) {
		pr_err("pid %d: %zu bytes do not fit the %zu-byte scratch page\n", t->pid, len,
		       t->sk.scratch_len);
		return -E2BIG;
	}
	return rsys_write(th->rs, t->sk.scratch, buf, len);
}

int restore_rcall(struct rsys *rs, const char *what, long nr, long a1, long a2, long a3, long a4)
{
	long r = core_rcall(rs, what, nr, a1, a2, a3, a4);

	return r < 0 && r >= -4095 ? (int)r : 0;
}

static int read_rseq(const struct restore_thread *th, struct rseq_conf *now)
{
	memset(now, 0, sizeof(*now));
	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, th->tid, sizeof(*now), now) < 0) {
		pr_perror("pid %d: can't read the rseq registration of thread %d", th->t->pid,
			  th->tid);
		return -errno;
	}
	return 0;
}

static int drop_rseq(const struct restore_thread *th, const struct rseq_conf *now)
{
	int ret = restore_rcall(th->rs, "drop the skeleton's rseq registration", SYS_rseq,
				(long)now->rseq_abi_pointer, now->rseq_abi_size,
				RSEQ_FLAG_UNREGISTER, (long)now->signature);

	if (!ret)
		pr_debug("pid %d: thread %d: dropped the inherited rseq registration at %#" PRIx64
			 "\n",
			 th->t->pid, th->tid, now->rseq_abi_pointer);
	return ret;
}

/* The leader, as the per-thread steps see it: its own thread entry, NULL when it had exited. */
static struct restore_thread leader_of(struct restore_task *t)
{
	const CoreEntry *ce = t->core;
	struct restore_thread th = { .t = t, .rs = &t->rs, .tid = t->sk.pid, .vtid = t->vpid };

	if (ce && !ce->has_leader_exit_code && ce->n_threads)
		th.te = ce->threads[0];
	return th;
}

int restore_core_prepare(struct restore_ctx *c, struct restore_task *t)
{
	struct restore_thread th = leader_of(t);
	struct rseq_conf now;
	int ret;

	(void)c;
	ret = read_rseq(&th, &now);
	if (!ret && now.rseq_abi_pointer)
		ret = drop_rseq(&th, &now);
	if (!ret)
		ret = restore_attrs_prepare(t); /* before restore-files moves its root */
	return ret;
}

static int restore_rseq(const struct restore_thread *th)
{
	const RseqEntry *want = th->te->rseq;
	struct rseq_conf now;
	int ret;

	ret = read_rseq(th, &now);
	if (ret)
		return ret;
	if (want && now.rseq_abi_pointer == want->ptr && now.rseq_abi_size == want->len &&
	    now.signature == want->sig)
		return 0;
	if (now.rseq_abi_pointer) {
		ret = drop_rseq(th, &now);
		if (ret)
			return ret;
	}
	if (!want)
		return 0;
	ret = restore_rcall(th->rs, "register rseq", SYS_rseq, (long)want->ptr, want->len, 0,
			    (long)want->sig);
	if (!ret)
		pr_info("pid %d: thread %d: rseq at %#" PRIx64 " (%u bytes, signature %#x)\n",
			th->t->pid, th->tid, want->ptr, want->len, want->sig);
	return ret;
}

/* Each action that differs from the one the skeleton has is set: the restorer's at the time the
 * skeletons were made (restore_sigactions_inherited()), but the stop signal of a task restored
 * stopped, which restore-stop.c set to the default (about 60 remote calls fewer per task). */
static int restore_sigactions(const struct restore_ctx *c, const struct restore_thread *th,
			      const CoreEntry *ce)
{
	const SigactionEntry *by_sig[CORE_NSIG + 1] = { NULL };
	int stop =
	    th->t->pstree && restore_task_stopped(th->t) ? (int)th->t->pstree->stop_signo : 0;
	char what[64], sn[16];
	size_t set = 0;

	for (size_t i = 0; i < ce->n_sigactions; i++)
		by_sig[ce->sigactions[i]->signo] = ce->sigactions[i];
	for (int sig = 1; sig <= CORE_NSIG; sig++) {
		const SigactionEntry *e = by_sig[sig];
		struct core_ksigaction ka = { 0 }; /* SIG_DFL */
		int ret;

		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (e) {
			ka.handler = e->handler;
			ka.flags = e->flags;
			ka.restorer = e->restorer;
			ka.mask = e->mask;
		}
		if (c->sa_known && sig != stop && !memcmp(&ka, &c->sa_inherited[sig], sizeof(ka)))
			continue; /* the skeleton has it already */
		set++;
		ret = put_scratch(th, &ka, sizeof(ka));
		if (ret)
			return ret;
		snprintf(what, sizeof(what), "set the action of %s",
			 core_signame(sig, sn, sizeof(sn)));
		ret = restore_rcall(th->rs, what, SYS_rt_sigaction, sig, (long)th->t->sk.scratch, 0,
				    8);
		if (ret)
			return ret;
	}
	pr_info("pid %d: %zu signal action(s) restored, the rest default (%zu set, the others "
		"the skeleton had)\n",
		th->t->pid, ce->n_sigactions, set);
	return 0;
}

void restore_sigactions_inherited(struct restore_ctx *c)
{
	c->sa_known = true;
	for (int sig = 1; sig <= CORE_NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP &&
		    syscall(SYS_rt_sigaction, sig, NULL, &c->sa_inherited[sig], 8))
			c->sa_known = false; /* then every action is set */
}

/* Sent by the thread to itself, the kernel keeps every siginfo field as given (it refuses a
 * kill()- or tgkill()-like siginfo sent to another thread); the ids are the task's own, as seen
 * in its PID namespace. Process-wide ones are sent to the process by its leader. */
static int queue_one(const struct restore_thread *th, const SiginfoEntry *e, bool shared)
{
	struct restore_task *t = th->t;
	char what[80], sn[16];
	int signo, ret;

	memcpy(&signo, e->raw.data, sizeof(signo));
	ret = put_scratch(th, e->raw.data, e->raw.len);
	if (ret)
		return ret;
	snprintf(what, sizeof(what), "queue pending %s%s", core_signame(signo, sn, sizeof(sn)),
		 shared ? " (process-wide)" : "");
	if (shared)
		return restore_rcall(th->rs, what, SYS_rt_sigqueueinfo, t->vpid, signo,
				     (long)t->sk.scratch, 0);
	return restore_rcall(th->rs, what, SYS_rt_tgsigqueueinfo, t->vpid, th->vtid, signo,
			     (long)t->sk.scratch);
}

static int restore_private_pending(const struct restore_thread *th)
{
	const ThreadCoreEntry *te = th->te;
	int ret = 0;

	for (size_t i = 0; !ret && i < te->n_pending; i++)
		ret = queue_one(th, te->pending[i], false);
	if (!ret && te->n_pending)
		pr_info("pid %d: thread %d: %zu pending signal(s) queued\n", th->t->pid, th->tid,
			te->n_pending);
	return ret;
}

static int restore_shared_pending(const struct restore_thread *leader, const CoreEntry *ce)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < ce->n_shared_pending; i++)
		ret = queue_one(leader, ce->shared_pending[i], true);
	if (!ret && ce->n_shared_pending)
		pr_info("pid %d: %zu process-wide pending signal(s) queued\n", leader->t->pid,
			ce->n_shared_pending);
	return ret;
}

static int restore_sigaltstack(const struct restore_thread *th)
{
	const ThreadCoreEntry *te = th->te;
	struct core_kstack ss = { .flags = SS_DISABLE };
	int ret;

	/* SS_ONSTACK is a state (running on it), not something to ask for. */
	if (te->sas && !(te->sas->flags & SS_DISABLE)) {
		ss.sp = te->sas->sp;
		ss.size = te->sas->size;
		ss.flags = (int32_t)(te->sas->flags & ~(uint32_t)SS_ONSTACK);
	}
	ret = put_scratch(th, &ss, sizeof(ss));
	if (!ret)
		ret = restore_rcall(th->rs, "set the alternate signal stack", SYS_sigaltstack,
				    (long)th->t->sk.scratch, 0, 0, 0);
	if (!ret && !(ss.flags & SS_DISABLE))
		pr_info("pid %d: thread %d: alternate signal stack %#" PRIx64 " (%" PRIu64
			" bytes)\n",
			th->t->pid, th->tid, ss.sp, ss.size);
	return ret;
}

/* From outside: prlimit() on the skeleton, which still has the restorer's credentials. */
static int restore_rlimits(struct restore_task *t, const CoreEntry *ce)
{
	unsigned int changed = 0;
	char rn[32];

	for (size_t i = 0; i < ce->n_rlimits; i++) {
		const RlimitEntry *e = ce->rlimits[i];
		__rlimit_resource_t res = (__rlimit_resource_t)e->resource;
		struct rlimit now, want = { .rlim_cur = e->cur, .rlim_max = e->max };

		core_rlimit_name((int)e->resource, rn, sizeof(rn));
		if (prlimit(t->sk.pid, res, NULL, &now)) {
			pr_perror("pid %d: can't read %s", t->pid, rn);
			return -errno;
		}
		if (now.rlim_cur == want.rlim_cur && now.rlim_max == want.rlim_max)
			continue;
		if (!prlimit(t->sk.pid, res, &want, NULL)) {
			changed++;
			continue;
		}
		if (errno == EPERM && want.rlim_max > now.rlim_max)
			pr_perror("pid %d: can't raise the hard limit of %s from %llu to %llu: "
				  "that needs CAP_SYS_RESOURCE, which this restorer lacks",
				  t->pid, rn, (unsigned long long)now.rlim_max,
				  (unsigned long long)want.rlim_max);
		else
			pr_perror("pid %d: can't set %s to %llu/%llu", t->pid, rn,
				  (unsigned long long)want.rlim_cur,
				  (unsigned long long)want.rlim_max);
		return -errno;
	}
	pr_info("pid %d: %zu rlimits restored (%u differed from the restorer's)\n", t->pid,
		ce->n_rlimits, changed);
	return 0;
}

static int restore_personality(struct restore_task *t, const CoreEntry *ce)
{
	char what[48];
	long r;

	snprintf(what, sizeof(what), "set personality %#x", ce->personality);
	r = core_rcall(&t->rs, what, SYS_personality, ce->personality, 0, 0, 0);
	if (r < 0 && r >= -4095)
		return (int)r;
	/* personality() returns the previous value; ask again to see ours took */
	r = core_rcall(&t->rs, "read the personality", SYS_personality, 0xffffffffL, 0, 0, 0);
	if (r < 0 && r >= -4095)
		return (int)r;
	if ((uint32_t)r != ce->personality) {
		pr_err("pid %d: personality is %#lx after setting %#x\n", t->pid, r,
		       ce->personality);
		return -EIO;
	}
	pr_info("pid %d: personality %#x\n", t->pid, ce->personality);
	return 0;
}

/* The thread's name; an exited leader's is the process name of the image. */
static int restore_comm(const struct restore_thread *th, const CoreEntry *ce)
{
	const char *name = th->te && th->te->comm ? th->te->comm : ce->comm;
	char buf[16] = { 0 }; /* TASK_COMM_LEN */
	int ret;

	strncpy(buf, name, sizeof(buf) - 1);
	ret = put_scratch(th, buf, sizeof(buf));
	if (!ret)
		ret = restore_rcall(th->rs, "set the thread name", SYS_prctl, PR_SET_NAME,
				    (long)th->t->sk.scratch, 0, 0);
	if (!ret)
		pr_info("pid %d: thread %d: name \"%s\"\n", th->t->pid, th->tid, buf);
	return ret;
}

static int restore_futex_addrs(const struct restore_thread *th)
{
	const ThreadCoreEntry *te = th->te;
	int ret = 0;

	if (te->has_robust_list && te->has_robust_list_len) {
		ret = restore_rcall(th->rs, "set the robust futex list", SYS_set_robust_list,
				    (long)te->robust_list, (long)te->robust_list_len, 0, 0);
		if (ret)
			return ret;
	}
	if (te->has_clear_child_tid) {
		/* set_tid_address() returns the caller's tid: nothing to check */
		long r = core_rcall(th->rs, "set clear_child_tid", SYS_set_tid_address,
				    (long)te->clear_child_tid, 0, 0, 0);

		if (r < 0)
			return (int)r;
	}
	pr_info("pid %d: thread %d: robust list %#" PRIx64 ", clear_child_tid %#" PRIx64 "\n",
		th->t->pid, th->tid, te->robust_list, te->clear_child_tid);
	return 0;
}

int restore_thread_state(const struct restore_thread *th, const CoreEntry *ce)
{
	int ret;

	if (!th->te)
		return restore_comm(th, ce); /* an exited leader: only what its zombie shows */
	ret = restore_rseq(th);
	if (!ret)
		ret = restore_private_pending(th);
	if (!ret)
		ret = restore_sigaltstack(th);
	if (!ret)
		ret = restore_comm(th, ce);
	if (!ret)
		ret = restore_futex_addrs(th);
	if (!ret)
		ret = restore_thread_attrs(th); /* restore-attrs.c */
	return ret;
}

/* AMX tile data needs a per-process permission before its xstate can be written. */
static int restore_xcomp_perm(struct restore_task *t, const CoreEntry *ce)
{
	int ret;

	if (!ce->has_xcomp_perm || !(ce->xcomp_perm & (1ULL << CORE_XFEATURE_XTILEDATA)))
		return 0;
	ret = restore_rcall(&t->rs, "request the AMX tile data permission", SYS_arch_prctl,
			    CORE_ARCH_REQ_XCOMP_PERM, CORE_XFEATURE_XTILEDATA, 0, 0);
	if (!ret)
		pr_info("pid %d: AMX tile data permitted\n", t->pid);
	return ret;
}

/* A credential change resets the parent-death signal of the thread that made it: this comes
 * after it. no_new_privs is per thread too. */
int restore_thread_after_creds(const struct restore_thread *th, const CoreEntry *ce)
{
	uint32_t pdeath = th->te && th->te->has_pdeathsig ? th->te->pdeathsig : 0;
	uint32_t nnp = th->te && th->te->creds ? th->te->creds->no_new_privs
		       : ce->has_no_new_privs  ? ce->no_new_privs
					       : 0;
	char what[48];
	int ret;

	/* The root's parent was outside the tree; its parent now is the restorer, which
	 * goes away (at once with -d): a death signal for that parent would kill the root. */
	if (pdeath && !th->t->parent) {
		pr_warn(
		    "pid %d: thread %d: its parent-death signal %u belonged to a parent outside "
		    "the tree and is not re-armed\n",
		    th->t->vpid, th->vtid, pdeath);
		pdeath = 0;
	}

	/* always: the skeleton asked for SIGKILL when the restorer dies */
	snprintf(what, sizeof(what), "set the parent-death signal to %u", pdeath);
	ret = restore_rcall(th->rs, what, SYS_prctl, PR_SET_PDEATHSIG, pdeath, 0, 0);
	if (!ret && nnp)
		ret = restore_rcall(th->rs, "set no_new_privs", SYS_prctl, PR_SET_NO_NEW_PRIVS, 1,
				    0, 0);
	if (!ret)
		pr_info("pid %d: thread %d: parent-death signal %u, no_new_privs %u\n", th->t->pid,
			th->tid, pdeath, nnp);
	return ret;
}

/* Dumpable belongs to the address space, and any thread's credential change resets it: it
 * comes after every thread's. */
static int restore_dumpable(struct restore_task *t, const CoreEntry *ce)
{
	char what[48];
	long r;

	if (ce->dumpable <= 1) {
		snprintf(what, sizeof(what), "set dumpable to %u", ce->dumpable);
		return restore_rcall(&t->rs, what, SYS_prctl, PR_SET_DUMPABLE, ce->dumpable, 0, 0);
	}
	/* 2 (suid_dumpable) cannot be asked for; a credential change may have set it */
	r = core_rcall(&t->rs, "read the dumpable flag", SYS_prctl, PR_GET_DUMPABLE, 0, 0, 0);
	if (r < 0)
		return (int)r;
	if ((uint32_t)r != ce->dumpable)
		pr_warn("pid %d: dumpable was %u at dump and is %ld now: prctl cannot set %u\n",
			t->pid, ce->dumpable, r, ce->dumpable);
	return 0;
}

int restore_core(struct restore_ctx *c, struct restore_task *t)
{
	const CoreEntry *ce = t->core;
	struct restore_thread leader = leader_of(t);
	int ret;

	if (!t->rs_open || t->sk.scratch_len < CORE_SCRATCH_BYTES) {
		pr_err("pid %d: no remote-syscall session or scratch page (internal error)\n",
		       t->pid);
		return -EINVAL;
	}
	/* what new threads inherit from the leader first, then the threads, all of them
	 * before any credential change (clone3 with set_tid needs CAP_SYS_ADMIN) */
	ret = restore_sigactions(c, &leader, ce);
	if (!ret)
		ret = restore_personality(t, ce);
	if (!ret)
		ret = restore_seccomp_common(&leader, ce); /* the threads inherit these */
	if (!ret)
		ret = restore_threads_create(c, t);
	if (!ret) /* pidfds of those threads */
		ret = restore_late_threads(c, t);
	if (!ret)
		ret = restore_thread_state(&leader, ce);
	if (!ret)
		ret = restore_shared_pending(&leader, ce);
	if (!ret)
		ret = restore_rlimits(t, ce);
	if (!ret)
		ret = restore_xcomp_perm(t, ce);
	if (!ret)
		ret = restore_task_attrs(c, t); /* restore-attrs.c */
	if (!ret)
		ret = restore_seccomp_thread(&leader, ce);
	if (!ret)
		ret = restore_creds(&leader);
	if (!ret)
		ret = restore_thread_after_creds(&leader, ce);
	if (!ret)
		ret = restore_dumpable(t, ce);
	if (!ret && ce->has_leader_exit_code)
		ret = restore_leader_exit(t);
	return ret;
}
