/* dump-core: the task-state part of a dump: core-PID.img, one core_entry.
 *
 * What the kernel shows from outside is read from outside (registers and xstate through ptrace
 * regsets, rseq through PTRACE_GET_RSEQ_CONFIGURATION, pending signals through
 * PTRACE_PEEKSIGINFO, the robust list through get_robust_list, credentials from
 * /proc/PID/status); what only the task itself can tell (signal actions, the alternate signal
 * stack, rlimits, dumpable, clear_child_tid, pdeathsig, securebits, the AMX permission)
 * through remote syscalls on the rsys session the orchestrator opened on the leader, with
 * results written to an rsys scratch page and read back.
 * The registers and signal mask are those saved by rsys_open() (rsys blocks every signal and
 * moves the instruction pointer while it works). Per-thread state is collected by dump_thread()
 * for every thread, each other than the orchestrator's through an rsys session of its own that
 * is closed again before the next (dump_thread_k()). Credentials are per thread in Linux: the
 * task's are the leader's (dump-creds.c), and a thread whose own differ carries its own. A leader
 * that has exited while its threads run is recorded by its exit status (leader_exit_code) and name.
 */
#define LOG_PREFIX "dump-core: "

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "criu-lite/kinds/core.h"
#include "criu-lite/dump/dump.h"
#include "criu-lite/kcompat.h"
#include "criu-lite/log.h"
#include "criu-lite/proc/proc-util.h"
#include "criu-lite/kinds/timers.h"

#ifndef PR_GET_TID_ADDRESS
#define PR_GET_TID_ADDRESS 40
#endif

/* PTRACE_GET_RSEQ_CONFIGURATION's answer (uapi struct ptrace_rseq_configuration). */
struct rseq_conf {
	uint64_t rseq_abi_pointer;
	uint32_t rseq_abi_size;
	uint32_t signature;
	uint32_t flags;
	uint32_t pad;
};

/* Where the remote calls of one thread run. */
struct thread_src {
	pid_t pid, tid;
	struct rsys *rs;
	uint64_t scratch;
	const struct user_regs_struct *regs; /* its real registers */
	uint64_t blocked;		     /* its real signal mask */
};

static void *zalloc(size_t size)
{
	void *p = calloc(1, size);

	if (!p)
		pr_err("out of memory (%zu bytes)\n", size);
	return p;
}

static char *sdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		pr_err("out of memory\n");
	return p;
}

/* A remote call that writes len bytes at the scratch page; they are copied to out. */
static int rcall_read(const struct thread_src *s, const char *what, long nr, long a1, long a2,
		      long a3, long a4, void *out, size_t len)
{
	long r = core_rcall(s->rs, what, nr, a1, a2, a3, a4);

	if (r < 0 && r >= -4095)
		return (int)r;
	/* rsys_read() logs its own failure */
	return rsys_read(s->rs, s->scratch, out, len);
}

/* ---- pending signals ------------------------------------------------------------------------ */

static int append_siginfo(SiginfoEntry ***v, size_t *n, const void *raw)
{
	SiginfoEntry **nv = realloc(*v, (*n + 1) * sizeof(**v));
	SiginfoEntry *e;

	if (!nv) {
		pr_err("out of memory for a pending signal\n");
		return -ENOMEM;
	}
	*v = nv;
	e = zalloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	siginfo_entry__init(e);
	e->raw.data = malloc(CORE_SIGINFO_SIZE);
	if (!e->raw.data) {
		free(e);
		pr_err("out of memory for a pending signal\n");
		return -ENOMEM;
	}
	memcpy(e->raw.data, raw, CORE_SIGINFO_SIZE);
	e->raw.len = CORE_SIGINFO_SIZE;
	(*v)[(*n)++] = e;
	return 0;
}

/* Every signal queued for tid (shared: for the whole process), oldest first; nothing is
 * dequeued. */
static int dump_pending(pid_t pid, pid_t tid, bool shared, SiginfoEntry ***v, size_t *n)
{
	uint8_t buf[16][CORE_SIGINFO_SIZE];
	struct __ptrace_peeksiginfo_args a = {
		.off = 0,
		.flags = shared ? PTRACE_PEEKSIGINFO_SHARED : 0,
		.nr = 16,
	};

	for (;;) {
		long got = ptrace(PTRACE_PEEKSIGINFO, tid, &a, buf);

		if (got < 0) {
			pr_perror("pid %d: can't read the %s pending signals of thread %d", pid,
				  shared ? "process-wide" : "private", tid);
			return -errno;
		}
		if (got == 0)
			return 0;
		for (long i = 0; i < got; i++) {
			int ret, signo, code;

			memcpy(&signo, buf[i], sizeof(signo));
			memcpy(&code, buf[i] + 2 * sizeof(int), sizeof(code)); /* si_code */
			if (signo == SIGTRAP && code > 0 && code < SI_KERNEL) {
				pr_err(
				    "pid %d: thread %d has a SIGTRAP pending from a trap (si_code %d: "
				    "a breakpoint, single step or branch trace): the debug state "
				    "behind it is not dumped\n",
				    pid, tid, code);
				return -ENOTSUP;
			}
			ret = append_siginfo(v, n, buf[i]);
			if (ret)
				return ret;
			pr_debug("pid %d: thread %d: %s pending signal %d\n", pid, tid,
				 shared ? "shared" : "private", signo);
		}
		a.off += (uint64_t)got;
	}
}

/* ---- one thread ----------------------------------------------------------------------------- */

static int dump_xstate(const struct dump_ctx *c, pid_t tid, ThreadCoreEntry *te)
{
	struct iovec iov;
	uint8_t *buf;

	buf = malloc(c->sh->kd.xstate_size);
	if (!buf) {
		pr_err("out of memory for the %u-byte xstate of thread %d\n", c->sh->kd.xstate_size,
		       tid);
		return -ENOMEM;
	}
	iov.iov_base = buf;
	iov.iov_len = c->sh->kd.xstate_size;
	if (ptrace(PTRACE_GETREGSET, tid, NT_X86_XSTATE, &iov)) {
		pr_perror("pid %d: can't read the xstate of thread %d (NT_X86_XSTATE)", c->pid,
			  tid);
		free(buf);
		return -errno;
	}
	if (iov.iov_len != c->sh->kd.xstate_size) {
		pr_err("pid %d: thread %d: NT_X86_XSTATE is %zu bytes, kerndat said %u\n", c->pid,
		       tid, iov.iov_len, c->sh->kd.xstate_size);
		free(buf);
		return -EIO;
	}
	te->xstate.data = buf;
	te->xstate.len = iov.iov_len;
	return 0;
}

static bool read_ts_cb(void *arg, uint64_t addr, struct timespec *ts)
{
	return core_peek(*(pid_t *)arg, addr, ts, sizeof(*ts)) == 0;
}

/* syscall_nr (and restart_nr): the syscall the thread will re-enter when it resumes. */
static void dump_syscall(const struct thread_src *s, ThreadCoreEntry *te)
{
	const struct user_regs_struct *r = s->regs;
	long nr = (long)r->orig_rax, rax = (long)r->rax;
	char name[32];
	pid_t tid = s->tid;

	te->has_syscall_nr = true;
	te->syscall_nr = rsys_restarts(nr, rax) ? (int32_t)nr : -1;
	if (te->syscall_nr < 0)
		return;
	pr_info("pid %d: thread %d is inside %s (returns %ld to restart)\n", s->pid, tid,
		core_syscall_name(nr, name, sizeof(name)), rax);
	if (nr != CORE_NR_RESTART_SYSCALL || rax != -RSYS_ERESTART_RESTARTBLOCK)
		return;
	long orig = core_infer_sleep(r, read_ts_cb, &tid);

	if (orig) {
		te->has_restart_nr = true;
		te->restart_nr = (int32_t)orig;
		pr_info("pid %d: thread %d: restart_syscall continues %s (judged by its "
			"arguments)\n",
			s->pid, s->tid, core_syscall_name(orig, name, sizeof(name)));
	}
}

static int read_comm(pid_t pid, pid_t tid, char **out)
{
	struct proc_buf b = { 0 };
	char path[64];
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, tid);
	ret = proc_read_file(path, &b); /* logs the path and errno */
	if (ret)
		return ret;
	if (b.len > 0 && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	*out = sdup(b.data);
	proc_buf_free(&b);
	return *out ? 0 : -ENOMEM;
}

static int dump_thread_remote(const struct thread_src *s, ThreadCoreEntry *te)
{
	struct core_kstack ss;
	uint64_t tid_addr;
	int32_t pdeath;
	int ret;

	ret = rcall_read(s, "read the alternate signal stack", SYS_sigaltstack, 0, (long)s->scratch,
			 0, 0, &ss, sizeof(ss));
	if (ret)
		return ret;
	te->sas = zalloc(sizeof(*te->sas));
	if (!te->sas)
		return -ENOMEM;
	sigaltstack_entry__init(te->sas);
	te->sas->sp = ss.sp;
	te->sas->size = ss.size;
	te->sas->flags = (uint32_t)ss.flags;

	ret = rcall_read(s, "read clear_child_tid", SYS_prctl, PR_GET_TID_ADDRESS, (long)s->scratch,
			 0, 0, &tid_addr, sizeof(tid_addr));
	if (ret)
		return ret;
	te->has_clear_child_tid = true;
	te->clear_child_tid = tid_addr;

	ret = rcall_read(s, "read the parent-death signal", SYS_prctl, PR_GET_PDEATHSIG,
			 (long)s->scratch, 0, 0, &pdeath, sizeof(pdeath));
	if (ret)
		return ret;
	te->has_pdeathsig = true;
	te->pdeathsig = (uint32_t)pdeath;
	return 0;
}

static int dump_thread_outside(const struct thread_src *s, ThreadCoreEntry *te)
{
	struct rseq_conf rc = { 0 };
	uint64_t head = 0;
	size_t len = 0;
	long n;

	n = ptrace(PTRACE_GET_RSEQ_CONFIGURATION, s->tid, sizeof(rc), &rc);
	if (n < 0) {
		pr_perror("pid %d: can't read the rseq registration of thread %d", s->pid, s->tid);
		return -errno;
	}
	if (rc.rseq_abi_pointer) {
		te->rseq = zalloc(sizeof(*te->rseq));
		if (!te->rseq)
			return -ENOMEM;
		rseq_entry__init(te->rseq);
		te->rseq->ptr = rc.rseq_abi_pointer;
		te->rseq->len = rc.rseq_abi_size;
		te->rseq->sig = rc.signature;
		te->rseq->flags = rc.flags;
	}
	if (syscall(SYS_get_robust_list, s->tid, &head, &len)) {
		pr_perror("pid %d: can't read the robust futex list of thread %d", s->pid, s->tid);
		return -errno;
	}
	te->has_robust_list = te->has_robust_list_len = true;
	te->robust_list = head;
	te->robust_list_len = len;
	return 0;
}

static int dump_thread(const struct dump_ctx *c, const CoreEntry *ce, const struct thread_src *s,
		       pid_t vtid, ThreadCoreEntry **out)
{
	ThreadCoreEntry *te = zalloc(sizeof(*te));
	int ret;

	if (!te)
		return -ENOMEM;
	thread_core_entry__init(te);
	*out = te;
	te->tid = (uint32_t)vtid;
	te->regs = zalloc(sizeof(*te->regs));
	if (!te->regs)
		return -ENOMEM;
	user_regs_entry__init(te->regs);
	core_regs_to_entry(s->regs, te->regs);
	te->blocked = s->blocked;
	dump_syscall(s, te);
	ret = dump_xstate(c, s->tid, te);
	if (!ret)
		ret = dump_thread_remote(s, te);
	if (!ret)
		ret = dump_thread_outside(s, te);
	if (!ret)
		ret = read_comm(s->pid, s->tid, &te->comm);
	if (!ret)
		ret = dump_pending(s->pid, s->tid, false, &te->pending, &te->n_pending);
	if (!ret)
		ret = dump_thread_attrs(c, ce, s->tid, s->rs, s->scratch, te); /* dump-attrs.c */
	return ret;
}

/* ---- every thread --------------------------------------------------------------------------- */

/* Thread k of c->st.thr. The thread c->pid names runs on the orchestrator's session; any other
 * gets its own for the time of the call (on the task's scratch page: threads share memory). */
static int dump_thread_k(struct dump_ctx *c, const CoreEntry *ce, size_t k, uint64_t scratch,
			 ThreadCoreEntry **out)
{
	struct thread_src s = { .pid = c->pid, .tid = c->st.thr[k].tid, .scratch = scratch };
	struct rsys trs;
	int ret, rc;

	if (s.tid == c->rs.tid) {
		s.rs = &c->rs;
		s.regs = rsys_regs(&c->rs);
		s.blocked = c->rs.sigmask;
		return dump_thread(c, ce, &s, c->vtid[k], out);
	}
	ret = rsys_open(s.tid, &trs);
	if (ret)
		return ret;
	s.rs = &trs;
	s.regs = rsys_regs(&trs);
	s.blocked = trs.sigmask;
	ret = dump_thread(c, ce, &s, c->vtid[k], out);
	if (!ret)
		ret = dump_thread_creds(c, ce, s.tid, s.rs, *out); /* dump-creds.c */
	/* rsys_close() logs its own failure */
	rc = rsys_close(&trs);
	return ret ? ret : rc;
}

/* The leader first (when it runs), then the others as seized. */
static int dump_threads(struct dump_ctx *c, CoreEntry *ce, uint64_t scratch)
{
	for (int leader = 1; leader >= 0; leader--) {
		for (size_t k = 0; k < c->st.nr; k++) {
			ThreadCoreEntry **te = &ce->threads[ce->n_threads];
			int ret;

			if ((c->st.thr[k].tid == c->st.pid) != leader)
				continue;
			ret = dump_thread_k(c, ce, k, scratch, te);
			if (*te)
				ce->n_threads++;
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* A leader that has exited while the threads run: its exit status and name. */
static int dump_exited_leader(const struct dump_ctx *c, CoreEntry *ce)
{
	struct proc_stat ls;
	char *comm = NULL;
	int ret = proc_parse_stat(c->st.pid, &ls);

	if (!ret)
		ret = read_comm(c->st.pid, c->st.pid, &comm);
	if (ret)
		return ret;
	free(ce->comm);
	ce->comm = comm;
	ce->has_leader_exit_code = true;
	ce->leader_exit_code = ls.exit_code;
	pr_info("pid %d: its leader thread exited with status %#x; %zu thread(s) run\n", c->st.pid,
		ls.exit_code, c->st.nr);
	return 0;
}

/* ---- task-wide state ------------------------------------------------------------------------ */

static int dump_sigactions(struct dump_ctx *c, const struct thread_src *s, CoreEntry *ce)
{
	char what[64], sn[16];

	ce->sigactions = calloc(CORE_NSIG, sizeof(*ce->sigactions));
	if (!ce->sigactions) {
		pr_err("out of memory\n");
		return -ENOMEM;
	}
	for (int sig = 1; sig <= CORE_NSIG; sig++) {
		struct core_ksigaction ka;
		SigactionEntry *e;
		int ret;

		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		snprintf(what, sizeof(what), "read the action of %s",
			 core_signame(sig, sn, sizeof(sn)));
		ret = rcall_read(s, what, SYS_rt_sigaction, sig, 0, (long)s->scratch, 8, &ka,
				 sizeof(ka));
		if (ret)
			return ret;
		if (ka.handler == (uint64_t)(uintptr_t)SIG_DFL && !ka.flags && !ka.mask)
			continue;
		e = zalloc(sizeof(*e));
		if (!e)
			return -ENOMEM;
		sigaction_entry__init(e);
		e->signo = (uint32_t)sig;
		e->handler = ka.handler;
		e->flags = ka.flags;
		e->restorer = ka.restorer;
		e->mask = ka.mask;
		ce->sigactions[ce->n_sigactions++] = e;
		pr_debug("pid %d: %s: handler %#" PRIx64 " flags %#" PRIx64 " mask %#" PRIx64 "\n",
			 c->pid, sn, ka.handler, ka.flags, ka.mask);
	}
	return 0;
}

/* From /proc/PID/limits (one line per resource, in resource order: name, soft, hard, units;
 * "unlimited" is RLIM_INFINITY): prlimit() on another task needs the same uids or
 * CAP_SYS_RESOURCE, which root lacks on some hosts, and asking the task itself costs a remote
 * call per resource. */
static int dump_rlimits(pid_t pid, CoreEntry *ce)
{
	struct proc_buf b = { 0 };
	char path[64], *line, *save = NULL;
	int ret, res = -1;

	snprintf(path, sizeof(path), "/proc/%d/limits", pid);
	ce->rlimits = calloc(RLIM_NLIMITS, sizeof(*ce->rlimits));
	if (!ce->rlimits) {
		pr_err("out of memory\n");
		return -ENOMEM;
	}
	ret = proc_read_file(path, &b); /* logs the path and errno */
	for (line = ret ? NULL : strtok_r(b.data, "\n", &save); line && !ret;
	     line = strtok_r(NULL, "\n", &save), res++) {
		char soft[32], hard[32], *end;
		uint64_t v[2];
		RlimitEntry *e;

		if (res < 0)
			continue; /* the header */
		if (res >= RLIM_NLIMITS)
			break;
		if (strlen(line) < 26 || sscanf(line + 26, "%31s %31s", soft, hard) != 2) {
			ret = -EINVAL;
			break;
		}
		for (int k = 0; k < 2 && !ret; k++) {
			const char *t = k ? hard : soft;

			errno = 0;
			v[k] = strcmp(t, "unlimited") ? strtoull(t, &end, 10) : RLIM_INFINITY;
			if (strcmp(t, "unlimited") && (errno || *end || end == t))
				ret = -EINVAL;
		}
		e = ret ? NULL : zalloc(sizeof(*e));
		if (!ret && !e)
			ret = -ENOMEM;
		if (ret)
			break;
		rlimit_entry__init(e);
		e->resource = (uint32_t)res;
		e->cur = v[0];
		e->max = v[1];
		ce->rlimits[ce->n_rlimits++] = e;
	}
	if (!ret && ce->n_rlimits != RLIM_NLIMITS)
		ret = -EINVAL;
	if (ret == -EINVAL)
		pr_err("pid %d: %s does not read as %d limits, soft and hard\n", pid, path,
		       RLIM_NLIMITS);
	proc_buf_free(&b);
	return ret;
}

static int read_personality(pid_t pid, uint32_t *pers)
{
	struct proc_buf b = { 0 };
	char path[64];
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/personality", pid);
	ret = proc_read_file(path, &b); /* logs the path and errno */
	if (ret)
		return ret;
	if (sscanf(b.data, "%x", pers) != 1) {
		pr_err("pid %d: %s: unexpected content \"%.32s\"\n", pid, path, b.data);
		ret = -EINVAL;
	}
	proc_buf_free(&b);
	return ret;
}

static int dump_task_attrs(struct dump_ctx *c, const struct thread_src *s, CoreEntry *ce)
{
	uint64_t perm;
	long r;
	int ret;

	ce->pid = (uint32_t)c->vpid;
	ce->comm = sdup(c->status.name);
	if (!ce->comm)
		return -ENOMEM;
	ret = read_personality(c->pid, &ce->personality);
	if (ret)
		return ret;
	if (c->status.umask < 0) {
		pr_err("pid %d: /proc/%d/status shows no umask\n", c->pid, c->pid);
		return -EINVAL;
	}
	ce->umask = (uint32_t)c->status.umask;
	r = core_rcall(s->rs, "read the dumpable flag", SYS_prctl, PR_GET_DUMPABLE, 0, 0, 0);
	if (r < 0)
		return (int)r;
	ce->dumpable = (uint32_t)r;
	r = core_rcall(s->rs, "read the securebits", SYS_prctl, PR_GET_SECUREBITS, 0, 0, 0);
	if (r < 0)
		return (int)r;
	ce->has_securebits = true;
	ce->securebits = (uint32_t)r;
	/* the xfeatures this process may use: AMX tile data only after ARCH_REQ_XCOMP_PERM */
	r = rsys_call_quiet(s->rs, SYS_arch_prctl, CORE_ARCH_GET_XCOMP_PERM, (long)s->scratch, 0, 0,
			    0, 0);
	if (r == -EINVAL) {
		pr_info("pid %d: the kernel has no ARCH_GET_XCOMP_PERM: no AMX permission to "
			"save\n",
			c->pid);
	} else if (r < 0) {
		errno = (int)-r;
		pr_perror("pid %d: can't read the xfeature permissions: remote arch_prctl("
			  "ARCH_GET_XCOMP_PERM) failed",
			  c->pid);
		return (int)r;
	} else {
		ret = rsys_read(s->rs, s->scratch, &perm, sizeof(perm));
		if (ret)
			return ret;
		ce->has_xcomp_perm = true;
		ce->xcomp_perm = perm;
	}
	ret = dump_task_creds(&c->status, ce);				   /* dump-creds.c */
	return ret ? ret : dump_task_attrs_proc(c, s->rs, s->scratch, ce); /* dump-attrs.c */
}

static int write_core(struct dump_ctx *c, CoreEntry *ce)
{
	const ProtobufCMessage *m = &ce->base;
	struct img_err err = { 0 };
	int ret = img_write_file(c->sh->dir, IMG_CORE, c->vpid, &m, 1, &err);

	if (ret)
		pr_err("pid %d: can't write the core image: %s\n", c->pid, err.msg);
	return ret;
}

/* Refusals before anything is collected. */
static int dump_core_supported(const struct dump_ctx *c)
{
	if (!c->rs_open || c->rs.tid != c->pid || !c->st.nr || !c->vtid) {
		pr_err("pid %d: no remote-syscall session or no thread ids (internal error)\n",
		       c->pid);
		return -EINVAL;
	}
	if (!c->sh->kd.xstate_size) {
		pr_err("pid %d: the xstate size of this kernel is unknown (kerndat: %s)\n", c->pid,
		       c->sh->kd.item[KD_XSTATE].detail);
		return -ENOTSUP;
	}
	return 0;
}

int dump_core(struct dump_ctx *c)
{
	struct thread_src s = { 0 };
	CoreEntry *ce;
	int ret;

	ret = dump_core_supported(c);
	if (!ret)
		ret = dump_attrs_check(c); /* before the first remote call */
	if (ret)
		return ret;
	s.pid = s.tid = c->pid;
	s.rs = &c->rs;
	s.regs = rsys_regs(&c->rs);
	s.blocked = c->rs.sigmask;
	ret = rsys_scratch(&c->rs, CORE_SCRATCH_BYTES, &s.scratch);
	if (ret)
		return ret;

	ce = zalloc(sizeof(*ce));
	if (!ce)
		return -ENOMEM;
	core_entry__init(ce);
	ce->threads = calloc(c->st.nr, sizeof(*ce->threads));
	if (!ce->threads) {
		pr_err("out of memory\n");
		ret = -ENOMEM;
		goto out;
	}
	ret = dump_task_attrs(c, &s, ce);
	if (!ret && c->st.leader_exited)
		ret = dump_exited_leader(c, ce);
	if (!ret)
		ret = dump_sigactions(c, &s, ce);
	if (!ret)
		ret = dump_rlimits(c->pid, ce);
	if (!ret)
		ret = dump_threads(c, ce, s.scratch);
	if (!ret)
		ret = dump_seccomp(c, ce); /* dump-seccomp.c */
	if (!ret)
		ret =
		    dump_pending(c->pid, c->pid, true, &ce->shared_pending, &ce->n_shared_pending);
	if (!ret)
		ret = dump_timers(c, ce); /* dump-timers.c */
	if (!ret)
		ret = write_core(c, ce);
	if (!ret)
		pr_info("pid %d: core: %zu thread(s), %zu signal action(s), %zu rlimits, %zu+%zu "
			"pending signal(s), %zu-byte xstate\n",
			c->st.pid, ce->n_threads, ce->n_sigactions, ce->n_rlimits,
			ce->threads[0]->n_pending, ce->n_shared_pending,
			ce->threads[0]->xstate.len);
out:
	protobuf_c_message_free_unpacked(&ce->base, NULL);
	return ret;
}
