/* dump-stop: which tasks of the tree are in a group stop, by which signal, and whether their
 * parent has collected the stop report yet (pstree.img: TASK_STOPPED, stop_signo,
 * stop_reported).
 *
 * seize.c sees a group stop as the trap a stopped thread reports when seized (its signal is the
 * stop signal), and a task that was stopped stays stopped when it is released. One exception: a
 * SIGCONT that arrived while we held the task ended the stop (the kernel clears it when the
 * signal is sent, and the signal stays queued because the task is traced); such a task resumes
 * when released, so it is recorded as running.
 * Whether the parent could still collect the report (waitid WSTOPPED) is asked inside the parent,
 * through its rsys session, with WNOWAIT|WNOHANG, which neither consumes the report nor blocks.
 * A stopped task whose leader thread has exited is refused: its restore makes that leader exit
 * again, which a group stop would hold back.
 */
#define LOG_PREFIX "dump-stop: "

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "criu-lite/dump/dump-tree.h"
#include "criu-lite/dump/dump.h"
#include "criu-lite/kinds/core.h"
#include "criu-lite/log.h"

#define SIGCONT_BIT (1ULL << (SIGCONT - 1))

/* The stop signal of the group stop seize found, 0 if none. */
static int seized_stop_sig(const struct seized_task *st)
{
	for (size_t i = 0; i < st->nr; i++)
		if (st->thr[i].group_stop)
			return WSTOPSIG(st->thr[i].stop_status);
	return 0;
}

/* A SIGCONT queued for the process or any of its threads. */
static int sigcont_pending(const struct dump_ctx *c, bool *pending)
{
	*pending = false;
	for (size_t i = 0; i < c->st.nr && !*pending; i++) {
		struct proc_status ts = { 0 };
		int ret = proc_parse_task_status(c->st.pid, c->st.thr[i].tid, &ts);

		if (ret)
			return ret;
		*pending = (ts.sig_pnd | ts.shd_pnd) & SIGCONT_BIT;
		proc_status_free(&ts);
	}
	return 0;
}

static struct dump_ctx *parent_of(struct dump_tree_list *tl, const struct dump_ctx *c)
{
	if (!c->vppid)
		return NULL;
	for (size_t i = 0; i < tl->n; i++)
		if (tl->t[i].vpid == c->vppid && !tl->t[i].zombie)
			return &tl->t[i];
	return NULL;
}

/* Asked in the parent: can it still collect c's stop report? The child's pid as the parent sees
 * it is the innermost of NStgid (no nested PID namespaces in a tree). */
static int probe_report(struct dump_ctx *p, struct dump_ctx *c)
{
	pid_t child = c->status.ns_tgid[c->status.ns_levels - 1];
	struct core_child_report rep;
	uint64_t at;
	int ret;

	if (!p->rs_open) {
		pr_err("pid %d: no remote-syscall session in its parent %d (internal error)\n",
		       c->vpid, p->vpid);
		return -EINVAL;
	}
	ret = rsys_scratch(&p->rs, CORE_SIGINFO_SIZE, &at);
	if (!ret)
		ret = core_remote_waitid(&p->rs, at, child, WSTOPPED | WNOHANG | WNOWAIT,
					 "peek at a child's stop report", &rep);
	if (ret)
		return ret;
	if (rep.pid != child) {
		c->stop_reported = 1;
	} else if (rep.code != CLD_STOPPED || rep.status != c->stop_sig) {
		pr_err("pid %d: its parent %d sees a report of code %d, status %d for it, not the "
		       "stop by signal %d it is in\n",
		       c->vpid, p->vpid, rep.code, rep.status, c->stop_sig);
		return -EIO;
	} else {
		c->stop_reported = 0;
	}
	return 0;
}

static int dump_stop(struct dump_tree_list *tl, struct dump_ctx *c)
{
	char sn[16];
	bool cont;
	int ret, sig = seized_stop_sig(&c->st);

	c->stop_reported = -1;
	if (!sig)
		return 0;
	ret = sigcont_pending(c, &cont);
	if (ret)
		return ret;
	if (cont) {
		pr_info("pid %d: was stopped by %s, but a SIGCONT is queued: it resumes\n", c->vpid,
			core_signame(sig, sn, sizeof(sn)));
		return 0;
	}
	if (sig != SIGSTOP && sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU) {
		pr_err("pid %d: stopped by signal %d, which is not a stop signal\n", c->vpid, sig);
		return -EINVAL;
	}
	if (c->st.leader_exited) {
		pr_err("pid %d: stopped by %s while its leader thread has exited: not supported\n",
		       c->vpid, core_signame(sig, sn, sizeof(sn)));
		return -ENOTSUP;
	}
	c->stop_sig = sig;
	struct dump_ctx *p = parent_of(tl, c);

	if (p && (ret = probe_report(p, c)))
		return ret;
	pr_info("pid %d: stopped by %s%s\n", c->vpid, core_signame(sig, sn, sizeof(sn)),
		c->stop_reported < 0   ? ""
		: c->stop_reported > 0 ? ", its parent has collected the report"
				       : ", its report is still there for its parent");
	return 0;
}

int dump_stops(struct dump_tree_list *tl)
{
	for (size_t i = 0; i < tl->n; i++) {
		int ret;

		if (tl->t[i].zombie)
			continue;
		ret = dump_stop(tl, &tl->t[i]);
		if (ret)
			return ret;
	}
	return 0;
}
