/* restore-threads: the threads of a task other than its leader, and a leader that had exited
 * while its threads ran (contract in restore-core.h).
 *
 * A thread is born in the leader, through the leader's rsys session at the trampoline: clone3
 * with CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM and
 * set_tid = { vtid } (struct clone_args and the tid in the scratch page). No stack is given: the
 * new thread starts right after the trampoline's `syscall`, in its pause() loop, with the
 * leader's registers and signal mask (rsys blocks every signal while it works), so it runs no
 * code of the task and touches no memory of it. The kernel gives a CLONE_VM thread no rseq,
 * alternate stack, robust list or clear_child_tid; it inherits the leader's name, credentials
 * and personality. It is then seized (seize_add_thread()) and given its own state through an rsys
 * session of its own, closed again before the next thread is made.
 *
 * Host tids: without a PID namespace of its own the tree keeps host ids, so the host tid is the
 * vtid; in one, it is the thread of /proc/<host pid>/task whose last NSpid is the vtid.
 *
 * An exited leader: once every thread exists and has its state, and the leader has done the
 * process-wide work, its session is closed and it is let go from the trampoline with
 * rax = SYS_exit (not exit_group) and every signal blocked: it turns into a zombie thread while
 * the process lives on, as at dump. Only then is the trampoline unmapped (by restore.c, through
 * t->rs, now a session in the first other thread): the leader has left it for good.
 */
#define LOG_PREFIX "restore-core: "

#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <unistd.h>

#include "criu-lite/log.h"
#include "criu-lite/proc/proc.h"
#include "criu-lite/restore/restore-attrs.h"
#include "criu-lite/restore/restore-core.h"

#define THREAD_CLONE_FLAGS \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM)
#define LEADER_EXIT_WAIT_MS 5000

static bool own_pidns(const struct restore_ctx *c)
{
	return c->inv && c->inv->has_root_pidns && c->inv->root_pidns;
}

/* The host tid of the thread t's leader just made with tid vtid in its namespace; 0 if none. */
static pid_t host_tid_of(const struct restore_ctx *c, const struct restore_task *t, pid_t vtid)
{
	struct pid_list thr = { 0 };
	pid_t found = 0;

	if (!own_pidns(c))
		return vtid;
	if (proc_list_threads(t->pid, &thr))
		return 0;
	for (size_t i = 0; i < thr.n && !found; i++) {
		struct proc_status st = { 0 };

		if (proc_parse_task_status(t->pid, thr.v[i], &st) == 0 && st.ns_levels &&
		    st.ns_pid[st.ns_levels - 1] == vtid)
			found = thr.v[i];
		proc_status_free(&st);
	}
	pid_list_free(&thr);
	return found;
}

/* What getppid() gives a thread of t: its process's parent, in t's namespace (the restorer, for
 * the root: outside a new PID namespace, where getppid() gives 0). */
static pid_t thread_ppid(const struct restore_ctx *c, const struct restore_task *t)
{
	if (t->parent)
		return t->parent->vpid;
	return c->inv->has_root_pidns && c->inv->root_pidns ? 0 : getpid();
}

/* clone3() in the leader; the new thread's host tid in *host. */
static int clone_thread(const struct restore_ctx *c, struct restore_task *t, pid_t vtid,
			pid_t *host)
{
	struct clone_args args;
	uint64_t at = t->sk.scratch, tid_at = at + sizeof(args);
	long r;
	int ret;

	memset(&args, 0, sizeof(args));
	args.flags = THREAD_CLONE_FLAGS; /* exit_signal 0: a thread signals nobody */
	args.set_tid = tid_at;
	args.set_tid_size = 1;
	if ((ret = rsys_write(&t->rs, at, &args, sizeof(args))) ||
	    (ret = rsys_write(&t->rs, tid_at, &vtid, sizeof(vtid))) ||
	    (ret = skel_expect_parent(&t->rs, &t->sk, thread_ppid(c, t))))
		return ret;
	r = rsys_call_quiet(&t->rs, SYS_clone3, (long)at, sizeof(args), 0, 0, 0, 0);
	if (r < 0) {
		errno = (int)-r;
		pr_perror("pid %d: can't create thread %d: remote clone3 failed%s", t->pid, vtid,
			  r == -EEXIST ? " (that tid is in use)" : "");
		return (int)r;
	}
	if (r != vtid) {
		pr_err("pid %d: clone3 gave thread %ld instead of %d\n", t->pid, r, vtid);
		return -EEXIST;
	}
	*host = host_tid_of(c, t, vtid);
	if (!*host) {
		pr_err("pid %d: can't find its new thread %d in /proc/%d/task\n", t->pid, vtid,
		       t->pid);
		return -ESRCH;
	}
	return 0;
}

/* Thread i of the image: created, seized, given its state and credentials. */
static int create_thread(struct restore_ctx *c, struct restore_task *t, size_t i)
{
	const CoreEntry *ce = t->core;
	const ThreadCoreEntry *te = ce->threads[i];
	struct rsys trs;
	struct restore_thread th = { .t = t, .rs = &trs, .vtid = (pid_t)te->tid, .te = te };
	int ret, rc;

	/* its default timer slack is the leader's slack at the clone */
	ret = restore_attrs_creator_slack(&t->rs, te);
	if (!ret)
		ret = clone_thread(c, t, th.vtid, &th.tid);
	if (ret)
		return ret;
	/* once seized, release and the kill of a failed restore cover it */
	ret = seize_add_thread(&t->st, th.tid);
	if (ret)
		return ret;
	t->tids[i] = th.tid;
	ret = rsys_open_at(th.tid, t->sk.tramp, &trs);
	if (ret)
		return ret;
	ret = restore_thread_state(&th, ce);
	if (!ret)
		ret = restore_seccomp_thread(&th, ce);
	if (!ret)
		ret = restore_creds(&th);
	if (!ret)
		ret = restore_thread_after_creds(&th, ce);
	/* rsys_close() logs its own failure */
	rc = rsys_close(&trs);
	if (!ret && !rc)
		pr_info("pid %d: thread %d (host tid %d) created\n", t->pid, th.vtid, th.tid);
	return ret ? ret : rc;
}

int restore_threads_create(struct restore_ctx *c, struct restore_task *t)
{
	const CoreEntry *ce = t->core;
	bool exited = ce->has_leader_exit_code;

	t->tids = calloc(ce->n_threads, sizeof(*t->tids));
	if (!t->tids) {
		pr_err("out of memory\n");
		return -ENOMEM;
	}
	for (size_t i = 0; i < ce->n_threads; i++) {
		int ret;

		if (i == 0 && !exited) {
			t->tids[0] = t->sk.pid; /* the leader: the skeleton itself */
			continue;
		}
		ret = create_thread(c, t, i);
		if (ret)
			return ret;
	}
	return 0;
}

/* Until the leader shows as a zombie thread in /proc/PID/stat. */
static int wait_zombie_leader(struct restore_task *t)
{
	for (int ms = 0; ms < LEADER_EXIT_WAIT_MS; ms++) {
		struct proc_stat st;
		int ret = proc_parse_stat(t->sk.pid, &st);

		if (ret)
			return ret;
		if (st.state == 'Z')
			return 0;
		usleep(1000);
	}
	pr_err("pid %d: its leader thread did not exit within %d ms\n", t->pid,
	       LEADER_EXIT_WAIT_MS);
	return -ETIMEDOUT;
}

int restore_leader_exit(struct restore_task *t)
{
	const CoreEntry *ce = t->core;
	struct seized_thread *lt = seize_find(&t->st, t->sk.pid);
	struct user_regs_struct regs = *rsys_regs(&t->rs);
	pid_t next = ce->n_threads ? t->tids[0] : 0;
	uint64_t all = ~0ULL;
	int ret;

	if (!lt || !next || !t->rs_open) {
		pr_err(
		    "pid %d: no leader session or no other thread to go on in (internal error)\n",
		    t->pid);
		return -EINVAL;
	}
	t->rs_open = false;
	ret = rsys_close(&t->rs);
	if (ret)
		return ret;
	regs.rip = t->sk.tramp;
	regs.rax = SYS_exit;
	regs.rdi = (unsigned long long)((ce->leader_exit_code >> 8) & 0xff);
	regs.orig_rax = (unsigned long long)-1LL;
	if (ptrace(PTRACE_SETREGS, t->sk.pid, 0, &regs) ||
	    ptrace(PTRACE_SETSIGMASK, t->sk.pid, sizeof(all), &all) ||
	    ptrace(PTRACE_DETACH, t->sk.pid, 0, 0)) {
		pr_perror("pid %d: can't let its leader thread exit", t->pid);
		return -errno;
	}
	lt->seized = lt->stopped = false;
	ret = wait_zombie_leader(t);
	if (!ret)
		ret = rsys_open_at(next, t->sk.tramp, &t->rs);
	if (ret)
		return ret;
	t->rs_open = true;
	pr_info(
	    "pid %d: its leader thread exited again (status %#x); the restore goes on in thread "
	    "%d\n",
	    t->pid, ce->leader_exit_code, next);
	return 0;
}
