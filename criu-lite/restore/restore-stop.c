/* restore-stop: tasks that were in a group stop at dump (pstree.img TASK_STOPPED) are stopped
 * again, by the same signal, before any task of the tree runs, and their parents' view of the stop
 * (the wait report, the SIGCHLD) is made what it was.
 *
 * The stop is made while the skeleton is fresh (restore-tree.c, once every task exists and sits
 * in its group): no signal of the image is queued yet and its only thread is held by us. A stop
 * can only be made by delivering a stop signal with its default action, so the signal is
 * delivered through ptrace: a SIGSTOP sent to the thread shows up as a signal-delivery stop, and
 * is replaced there by the dumped stop signal (PTRACE_CONT with that signal). The kernel then
 * starts a group stop with that signal, which a traced thread reports as a PTRACE_EVENT_STOP
 * trap carrying it; the real parent is told (CLD_STOPPED, SIGCHLD) as for any stop. The task
 * stays stopped when it is released (seize.c), and every thread created later joins the stop.
 * While it is stopped rsys still runs calls in it (a traced thread runs when resumed), so the rest
 * of the restore is unchanged.
 * SIGTSTP, SIGTTIN and SIGTTOU are discarded by the kernel in an orphaned process group; such a
 * discard is detected (a second signal queued behind the stop signal is delivered instead of the
 * stop trap) and the restore fails naming the task, rather than leaving it running.
 * The parent: restore_stop_report() collects the report in the parent (waitid WSTOPPED through
 * its rsys session) when the dumped parent had collected it, and checks it is there otherwise;
 * the SIGCHLD the stop sent is taken out by restore-tree.c with those of the zombies.
 */
#define LOG_PREFIX "restore-stop: "

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "criu-lite/kinds/core.h"
#include "criu-lite/log.h"
#include "criu-lite/restore/restore-stop.h"
#include "criu-lite/restore/restore-tree.h"

/* Queued behind a discardable stop signal: delivered only if the kernel discarded that one. */
#define SENTINEL SIGUSR2

static uint64_t sigbit(int sig)
{
	return 1ULL << (sig - 1);
}

bool restore_task_stopped(const struct restore_task *t)
{
	return t->pstree->state == TASK_STATE__TASK_STOPPED;
}

int restore_stop_check(const struct restore_task *t)
{
	const PstreeEntry *pe = t->pstree;
	int sig = pe->has_stop_signo ? (int)pe->stop_signo : 0;
	char sn[16];

	if (!restore_task_stopped(t))
		return 0;
	if (sig != SIGSTOP && sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU) {
		pr_err("pstree.img: pid %u is stopped by signal %d, not by a stop signal\n",
		       pe->pid, sig);
		return -EINVAL;
	}
	if (t->core && t->core->has_leader_exit_code) {
		pr_err("pstree.img: pid %u is stopped and its leader thread had exited: not "
		       "supported\n",
		       pe->pid);
		return -ENOTSUP;
	}
	if (pe->has_stop_reported && !t->parent) {
		pr_err("pstree.img: pid %u is the root but has a parent's stop report\n", pe->pid);
		return -EINVAL;
	}
	/* only a default action stops; the task could not have changed it while stopped */
	for (size_t i = 0; sig != SIGSTOP && t->core && i < t->core->n_sigactions; i++) {
		const SigactionEntry *e = t->core->sigactions[i];

		if (e->signo == (uint32_t)sig && e->handler != (uint64_t)(uintptr_t)SIG_DFL) {
			pr_err("core-%u.img: pid %u is stopped by %s but does not take its default "
			       "action (handler %#lx)\n",
			       pe->pid, pe->pid, core_signame(sig, sn, sizeof(sn)),
			       (unsigned long)e->handler);
			return -EINVAL;
		}
	}
	return 0;
}

static pid_t wait_thread(pid_t tid, int *status)
{
	pid_t r;

	do {
		r = waitpid(tid, status, __WALL);
	} while (r < 0 && errno == EINTR);
	return r;
}

/* Resume with signal sig until the next stop other than a plain INTERRUPT trap; its status. */
static int cont_to_stop(const struct restore_task *t, int sig, int *status, const char *what)
{
	for (;;) {
		if (ptrace(PTRACE_CONT, t->pid, 0, sig)) {
			pr_perror("pid %d: can't resume it for %s", t->vpid, what);
			return -errno;
		}
		if (wait_thread(t->pid, status) < 0) {
			pr_perror("pid %d: waitpid during %s", t->vpid, what);
			return -errno;
		}
		if (!WIFSTOPPED(*status)) {
			pr_err("pid %d died during %s (status %#x)\n", t->vpid, what, *status);
			return -ESRCH;
		}
		if (*status >> 16 != PTRACE_EVENT_STOP || WSTOPSIG(*status) != SIGTRAP)
			return 0;
		sig = 0; /* a trap left over from an interrupt: on */
	}
}

static bool is_signal_stop(int status, int sig)
{
	return WIFSTOPPED(status) && WSTOPSIG(status) == sig && !(status >> 16);
}

/* The kernel discarded sig (an orphaned process group): the sentinel came instead. Drop it and
 * bring the thread back to a trap. */
static int discarded(const struct restore_task *t, int sig)
{
	char sn[16];
	int status, ret;

	if (ptrace(PTRACE_INTERRUPT, t->pid, 0, 0)) {
		pr_perror("pid %d: PTRACE_INTERRUPT", t->vpid);
		return -errno;
	}
	ret = cont_to_stop(t, 0, &status, "the return from a discarded stop");
	if (!ret && !(status >> 16 == PTRACE_EVENT_STOP))
		pr_err("pid %d: unexpected stop %#x after a discarded stop\n", t->vpid, status);
	pr_err("pid %d was stopped by %s at dump, which the kernel now discards: its process "
	       "group %u is orphaned here (no member has a parent in another group of the same "
	       "session)\n",
	       t->vpid, core_signame(sig, sn, sizeof(sn)), t->pstree->pgid);
	return -ENOTSUP;
}

/* The leader, held in a trap with no rsys session, enters a group stop with sig. */
static int stop_thread(const struct restore_task *t, int sig)
{
	uint64_t saved, mask = ~(sigbit(sig) | sigbit(SENTINEL));
	char sn[16], what[64];
	int status, ret;

	snprintf(what, sizeof(what), "a stop by %s", core_signame(sig, sn, sizeof(sn)));
	if (ptrace(PTRACE_GETSIGMASK, t->pid, sizeof(saved), &saved) ||
	    ptrace(PTRACE_SETSIGMASK, t->pid, sizeof(mask), &mask)) {
		pr_perror("pid %d: can't open its signal mask to %s", t->vpid, sn);
		return -errno;
	}
	if (syscall(SYS_tgkill, t->pid, t->pid, SIGSTOP)) {
		pr_perror("pid %d: can't send it SIGSTOP", t->vpid);
		return -errno;
	}
	ret = cont_to_stop(t, 0, &status, what);
	if (!ret && !is_signal_stop(status, SIGSTOP)) {
		pr_err("pid %d: stop %#x instead of the delivery of SIGSTOP\n", t->vpid, status);
		ret = -EIO;
	}
	if (!ret && sig != SIGSTOP && syscall(SYS_tgkill, t->pid, t->pid, SENTINEL)) {
		pr_perror("pid %d: can't queue signal %d", t->vpid, SENTINEL);
		ret = -errno;
	}
	/* deliver sig in place of the SIGSTOP */
	if (!ret)
		ret = cont_to_stop(t, sig, &status, what);
	if (!ret && is_signal_stop(status, SENTINEL))
		ret = discarded(t, sig);
	else if (!ret && (status >> 16 != PTRACE_EVENT_STOP || WSTOPSIG(status) != sig)) {
		pr_err("pid %d: stop %#x instead of the group stop by %s\n", t->vpid, status, sn);
		ret = -EIO;
	}
	if (ptrace(PTRACE_SETSIGMASK, t->pid, sizeof(saved), &saved) && !ret) {
		pr_perror("pid %d: can't put its signal mask back", t->vpid);
		ret = -errno;
	}
	return ret;
}

/* Take the sentinel out of the queue again. */
static int drop_sentinel(struct restore_task *t)
{
	uint64_t taken = 0;
	int ret = restore_take_signals(t, sigbit(SENTINEL), &taken);

	if (!ret && taken != sigbit(SENTINEL)) {
		pr_err("pid %d: signal %d was not queued any more\n", t->vpid, SENTINEL);
		return -EIO;
	}
	return ret;
}

int restore_stop_task(struct restore_task *t)
{
	int sig = (int)t->pstree->stop_signo, ret;
	struct core_ksigaction dfl = { 0 };
	char sn[16];

	if (!restore_task_stopped(t))
		return 0;
	/* the skeleton has the restorer's actions until restore-core sets the dumped ones */
	if (sig != SIGSTOP) {
		ret = rsys_write(&t->rs, t->sk.scratch, &dfl, sizeof(dfl));
		if (!ret)
			ret = (int)core_rcall(&t->rs, "set the default action of its stop signal",
					      SYS_rt_sigaction, sig, (long)t->sk.scratch, 0, 8);
		if (ret)
			return ret;
	}
	t->rs_open = false;
	ret = rsys_close(&t->rs);
	if (!ret)
		ret = stop_thread(t, sig);
	if (ret)
		return ret;
	ret = rsys_open_at(t->pid, t->sk.tramp, &t->rs);
	if (ret)
		return ret;
	t->rs_open = true;
	if (sig != SIGSTOP && (ret = drop_sentinel(t)))
		return ret;
	pr_info("pid %d: stopped by %s\n", t->vpid, core_signame(sig, sn, sizeof(sn)));
	return 0;
}

/* In the parent: collect the report (consume) or only look at it (WNOWAIT). */
static int parent_report(struct restore_task *t, bool consume)
{
	struct restore_task *p = t->parent;
	struct core_child_report rep;
	char sn[16];
	int ret = core_remote_waitid(&p->rs, p->sk.scratch, t->vpid,
				     WSTOPPED | WNOHANG | (consume ? 0 : WNOWAIT),
				     "collect a child's stop report", &rep);

	if (ret)
		return ret;
	if (rep.pid != t->vpid || rep.code != CLD_STOPPED ||
	    rep.status != (int)t->pstree->stop_signo) {
		pr_err("pid %d: its parent %d finds no report of its stop by %s (pid %d, code %d, "
		       "status %d)\n",
		       t->vpid, p->vpid, core_signame((int)t->pstree->stop_signo, sn, sizeof(sn)),
		       rep.pid, rep.code, rep.status);
		return -EIO;
	}
	pr_info("pid %d: its parent %d %s the report of its stop\n", t->vpid, p->vpid,
		consume ? "has collected" : "can still collect");
	return 0;
}

int restore_stop_report(struct restore_task *t)
{
	if (!restore_task_stopped(t) || !t->pstree->has_stop_reported)
		return 0;
	if (!t->parent || !t->parent->rs_open) {
		pr_err("pid %d: no remote-syscall session in its parent (internal error)\n",
		       t->vpid);
		return -EINVAL;
	}
	return parent_report(t, t->pstree->stop_reported);
}
