/* dump-tree: see dump-tree.h. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <linux/kcmp.h>

#define LOG_PREFIX "tree: "
#include "criu-lite/dump/dump-tree.h"
#include "criu-lite/log.h"
#include "pstree.pb-c.h"

static struct dump_ctx *add_task(struct dump_shared *sh, struct dump_tree_list *tl, pid_t pid,
				 pid_t parent_pid)
{
	if (tl->n == tl->cap) {
		size_t cap = tl->cap ? tl->cap * 2 : 16;
		struct dump_ctx *nt = realloc(tl->t, cap * sizeof(*nt));

		if (!nt)
			return NULL;
		tl->t = nt;
		tl->cap = cap;
	}
	memset(&tl->t[tl->n], 0, sizeof(tl->t[0]));
	tl->t[tl->n].sh = sh;
	tl->t[tl->n].pid = pid;
	tl->t[tl->n].vppid = parent_pid; /* a host pid until dump_tree_ids() */
	return &tl->t[tl->n++];
}

/* State letter and wchan of a task that is not ours yet; 0 if it is gone. */
static char task_state(pid_t pid, char *wchan, size_t len)
{
	char path[64], state;
	ssize_t n;
	int fd;

	wchan[0] = 0;
	if (proc_task_state(pid, 0, &state))
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/wchan", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, wchan, len - 1);
		wchan[n > 0 ? n : 0] = 0;
		close(fd);
	}
	return state;
}

/* A child that shares its parent's address space without being its thread
 * (vfork, CLONE_VM): both would need one mm restored twice. */
static int check_shared_vm(pid_t parent, pid_t child)
{
	long r = syscall(SYS_kcmp, parent, child, KCMP_VM, 0, 0);

	if (r == 0) {
		pr_err("pid %d shares its address space with its parent %d (vfork() or "
		       "CLONE_VM without CLONE_THREAD): can't dump it\n",
		       child, parent);
		return -ENOTSUP;
	}
	return 0;
}

/* Tasks that share one fd table (CLONE_FILES without CLONE_THREAD): a child with its
 * parent's is created with CLONE_FILES at restore; a table shared otherwise can't be. */
static int check_shared_files(struct dump_tree_list *tl)
{
	for (size_t i = 1; i < tl->n; i++) {
		struct dump_ctx *c = &tl->t[i];

		if (c->zombie)
			continue;
		for (size_t j = 0; j < i; j++) {
			struct dump_ctx *o = &tl->t[j];

			if (o->zombie || syscall(SYS_kcmp, o->pid, c->pid, KCMP_FILES, 0, 0) != 0)
				continue;
			if (o != c->parent) {
				pr_err(
				    "pid %d shares its file descriptor table with pid %d, which is "
				    "not its parent (CLONE_FILES): can't dump it\n",
				    c->st.pid ? c->st.pid : c->pid, o->st.pid ? o->st.pid : o->pid);
				return -ENOTSUP;
			}
			c->files_shared = true;
		}
	}
	return 0;
}

/* A zombie leader whose other threads still run: a live task. */
static bool threads_live(pid_t pid)
{
	struct proc_status s = { 0 };
	bool live = proc_parse_status(pid, &s) == 0 && s.threads > 1;

	proc_status_free(&s);
	return live;
}

static int seize_one(struct dump_shared *sh, struct dump_tree_list *tl, pid_t pid, pid_t parent)
{
	char wchan[64];
	char st = task_state(pid, wchan, sizeof(wchan));
	struct dump_ctx *c;
	int ret;

	if (!st) {
		pr_err("pid %d vanished while the tree was being frozen\n", pid);
		return -ESRCH;
	}
	if (st == 'D' && strstr(wchan, "clone")) {
		pr_err("pid %d is waiting in vfork() for its child to exec or exit: dump it "
		       "once the child has done so\n",
		       pid);
		return -EBUSY;
	}
	if (parent && (ret = check_shared_vm(parent, pid)))
		return ret;
	c = add_task(sh, tl, pid, parent);
	if (!c)
		return -ENOMEM;
	if ((st == 'Z' || st == 'X') && !threads_live(pid)) {
		if (!parent) {
			pr_err("pid %d is a zombie: nothing to dump\n", pid);
			return -ESRCH;
		}
		c->zombie = true;
		return 0;
	}
	/* remote calls into a task under seccomp must not be filtered (dump-seccomp.c) */
	ret = seize_task(pid,
			 (parent ? SEIZE_MAY_EXIT : 0) |
			     (kd_has(&sh->kd, KD_SUSPEND_SECCOMP) ? SEIZE_SUSPEND_SECCOMP : 0),
			 &c->st);
	if (ret == -ESRCH && parent) {
		/* it exited after its parent was frozen: a zombie now (the parent can't reap
		 * it), or gone (reaped by the kernel: SIGCHLD ignored) */
		st = task_state(pid, wchan, sizeof(wchan));
		if ((st == 'Z' || st == 'X') && !threads_live(pid)) {
			pr_info("pid %d exited while the tree was being frozen: dumped as a "
				"zombie\n",
				pid);
			memset(&c->st, 0, sizeof(c->st));
			c->zombie = true;
			return 0;
		}
		if (!st) {
			pr_info("pid %d exited while the tree was being frozen, and is gone\n",
				pid);
			tl->n--;
			return 0;
		}
		pr_err("pid %d (state %c) could not be seized\n", pid, st);
	}
	if (!ret && c->st.leader_exited) {
		c->pid = c->st.thr[0].tid;
		pr_info("pid %d: its leader thread has exited: reaching it through thread %d\n",
			pid, c->pid);
	}
	return ret;
}

int dump_tree_seize(struct dump_shared *sh, struct dump_tree_list *tl)
{
	int ret = seize_one(sh, tl, sh->o->tree, 0);

	for (size_t i = 0; !ret && i < tl->n; i++) {
		if (tl->t[i].zombie)
			continue;
		for (size_t k = 0; !ret && k < tl->t[i].st.nr; k++) {
			struct pid_list kids = { 0 };
			pid_t pid = tl->t[i].pid;

			ret = proc_list_children(pid, tl->t[i].st.thr[k].tid, &kids);
			for (size_t j = 0; !ret && j < kids.n; j++)
				ret = seize_one(sh, tl, kids.v[j], pid);
			pid_list_free(&kids);
		}
	}
	if (!ret)
		pr_info("froze %zu task(s) below pid %d\n", tl->n, sh->o->tree);
	return ret;
}

static struct dump_ctx *find_host(struct dump_tree_list *tl, pid_t pid)
{
	for (size_t i = 0; i < tl->n; i++)
		if (tl->t[i].pid == pid)
			return &tl->t[i];
	return NULL;
}

static struct dump_ctx *find_v(struct dump_tree_list *tl, pid_t vpid)
{
	for (size_t i = 0; i < tl->n; i++)
		if (tl->t[i].vpid == vpid)
			return &tl->t[i];
	return NULL;
}

/* Each thread's tid at the level the images keep, from /proc/PID/task/TID/status. */
static int thread_ids(struct dump_shared *sh, struct dump_ctx *c)
{
	if (c->zombie || !c->st.nr)
		return 0;
	c->vtid = calloc(c->st.nr, sizeof(*c->vtid));
	if (!c->vtid) {
		pr_err("out of memory\n");
		return -ENOMEM;
	}
	for (size_t k = 0; k < c->st.nr; k++) {
		struct proc_status ts = { 0 };
		pid_t tid = c->st.thr[k].tid;
		int ret = proc_parse_task_status(c->pid, tid, &ts);

		if (ret)
			return ret;
		if (ts.ns_levels != c->status.ns_levels) {
			pr_err("pid %d: thread %d shows %u PID namespace levels, the process %u\n",
			       c->st.pid, tid, ts.ns_levels, c->status.ns_levels);
			ret = -EINVAL;
		}
		c->vtid[k] = ts.ns_pid[sh->ns_level];
		proc_status_free(&ts);
		if (ret)
			return ret;
	}
	return 0;
}

static bool in_tree(const struct dump_tree_list *tl, pid_t host)
{
	for (size_t i = 0; i < tl->n; i++)
		if (tl->t[i].pid == host || (tl->t[i].st.pid && tl->t[i].st.pid == host))
			return true;
	return false;
}

/* The host pid of a process outside the tree in host process group g, 0 if none. */
static pid_t outside_member(const struct dump_tree_list *tl, pid_t g)
{
	char path[300], buf[1024];
	struct dirent *de;
	pid_t found = 0;
	DIR *d = opendir("/proc");

	if (!d)
		return 0;
	while (!found && (de = readdir(d))) {
		struct proc_stat st;
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0 || in_tree(tl, (pid_t)pid))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if (proc_read_value(path, buf, sizeof(buf)) == 0 &&
		    proc_parse_stat_buf(path, buf, strlen(buf), &st) == 0 && st.pgrp == g)
			found = (pid_t)pid;
	}
	closedir(d);
	return found;
}

/* A group whose leader is not in the tree (nor the root's group): restore can make it again
 * with a helper that takes its id for a moment, if its leader is gone and no process outside
 * the tree is in it (its pid would be taken, and it would be left out). */
static int check_leaderless(const struct dump_tree_list *tl, const struct dump_ctx *c)
{
	pid_t g = c->status.ns_pgid[0], other; /* as criu-lite's /proc numbers it */
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d", g);
	if (!access(path, F_OK)) {
		pr_err("pid %d%s is in process group %d, whose leader is alive outside the tree: "
		       "can't rebuild it\n",
		       c->vpid, c->zombie ? " (a zombie)" : "", c->vpgid);
		return -ENOTSUP;
	}
	other = outside_member(tl, g);
	if (other) {
		pr_err("pid %d%s is in process group %d, whose leader is gone and which also holds "
		       "pid %d outside the tree: can't rebuild it\n",
		       c->vpid, c->zombie ? " (a zombie)" : "", c->vpgid, other);
		return -ENOTSUP;
	}
	pr_info("pid %d%s is in process group %d, whose leader is gone: restore makes it again\n",
		c->vpid, c->zombie ? " (a zombie)" : "", c->vpgid);
	return 0;
}

/* NSpid & co. at the root's namespace level: the pids the restored tree keeps. The pid
 * is NStgid's: the status read may be a thread's (struct dump_ctx, pid). */
int dump_tree_ids(struct dump_shared *sh, struct dump_tree_list *tl)
{
	const struct proc_status *rs = &tl->t[0].status;
	struct proc_status self = { 0 };
	unsigned lvl;
	int ret = proc_parse_status(getpid(), &self);

	if (ret)
		return ret;
	sh->root_pidns = rs->ns_levels > self.ns_levels && rs->ns_tgid[rs->ns_levels - 1] == 1;
	lvl = sh->root_pidns ? rs->ns_levels - 1 : self.ns_levels - 1;
	sh->ns_level = lvl;
	proc_status_free(&self);
	for (size_t i = 0; i < tl->n; i++) {
		struct dump_ctx *c = &tl->t[i];

		if (c->status.ns_levels != rs->ns_levels) {
			pr_err("pid %d is in a nested PID namespace (%u levels, the root has %u): "
			       "not supported\n",
			       c->pid, c->status.ns_levels, rs->ns_levels);
			return -ENOTSUP;
		}
		c->vpid = c->status.ns_tgid[lvl];
		c->vpgid = c->status.ns_pgid[lvl];
		c->vsid = c->status.ns_sid[lvl];
		if (i == 0) {
			c->vppid = 0;
		} else {
			struct dump_ctx *p = find_host(tl, c->vppid);

			c->vppid = p ? p->vpid : 0;
			c->parent = p;
		}
		if (c->zombie)
			c->exit_code = c->stat.exit_code;
		if ((ret = thread_ids(sh, c)))
			return ret;
	}
	if ((ret = check_shared_files(tl)))
		return ret;
	/* every group and session must be one the restore can build, a zombie's too */
	for (size_t i = 0; i < tl->n; i++) {
		struct dump_ctx *c = &tl->t[i];
		bool outside_sid = !find_v(tl, c->vsid), outside_pgid = !find_v(tl, c->vpgid);

		if (outside_sid && c->vsid != tl->t[0].vsid) {
			pr_err("pid %d%s is in session %d, whose leader is not in the tree and not "
			       "the root's: can't rebuild it\n",
			       c->vpid, c->zombie ? " (a zombie)" : "", c->vsid);
			return -ENOTSUP;
		}
		if (outside_pgid && c->vpgid != tl->t[0].vpgid && (ret = check_leaderless(tl, c)))
			return ret;
	}
	if (!find_v(tl, tl->t[0].vsid) && !sh->o->shell_job && !sh->root_pidns)
		pr_warn("the root's session %d is outside the tree: the restored tree joins the "
			"restorer's session (use --shell-job to say this is intended)\n",
			tl->t[0].vsid);
	return 0;
}

static int write_pstree(struct dump_shared *sh, struct dump_ctx *tasks, size_t nr)
{
	struct img_writer *w;
	struct img_err err = { 0 };
	int ret = img_writer_open(sh->dir, IMG_PSTREE, 0, &w, &err);

	for (size_t i = 0; !ret && i < nr; i++) {
		const struct dump_ctx *c = &tasks[i];
		PstreeEntry pe = PSTREE_ENTRY__INIT;
		TimensEntry tns, tns_kids;
		uint32_t *tids = calloc(c->st.nr + 1, sizeof(*tids));
		CgroupEntry *cge = calloc(c->cgroups.n + 1, sizeof(*cge));
		CgroupEntry **cgp = calloc(c->cgroups.n + 1, sizeof(*cgp));

		if (!tids || !cge || !cgp) {
			free(tids);
			free(cge);
			free(cgp);
			ret = -ENOMEM;
			break;
		}
		for (size_t k = 0; k < c->cgroups.n; k++) {
			cgroup_entry__init(&cge[k]);
			cge[k].controllers = c->cgroups.v[k].controllers;
			cge[k].path = c->cgroups.v[k].path;
			cgp[k] = &cge[k];
		}
		pe.n_cgroups = c->cgroups.n;
		pe.cgroups = cgp;
		/* the leader's tid is the vpid (an exited leader too), then the other threads' */
		tids[pe.n_threads++] = c->vpid;
		for (size_t k = 0; !c->zombie && k < c->st.nr; k++)
			if (c->st.thr[k].tid != c->st.pid)
				tids[pe.n_threads++] = c->vtid[k];
		pe.pid = c->vpid;
		pe.ppid = c->vppid;
		pe.pgid = c->vpgid;
		pe.sid = c->vsid;
		pe.threads = tids;
		pe.has_exit_signal = i > 0; /* the root's parent was not ours */
		pe.exit_signal = c->exit_signal;
		pe.state = c->zombie	 ? TASK_STATE__TASK_ZOMBIE
			   : c->stop_sig ? TASK_STATE__TASK_STOPPED
					 : TASK_STATE__TASK_ALIVE;
		if (c->stop_sig) {
			pe.has_stop_signo = true;
			pe.stop_signo = (uint32_t)c->stop_sig;
			pe.has_stop_reported = c->stop_reported >= 0;
			pe.stop_reported = c->stop_reported > 0;
		}
		pe.has_files_shared = pe.files_shared = c->files_shared;
		pe.has_ctty = c->ctty != 0;
		pe.ctty = c->ctty;
		pe.has_fg_pgrp = c->ctty && c->vsid == c->vpid;
		pe.fg_pgrp = c->fg_pgrp;
		dump_timens_fill(sh, c, &tns, &tns_kids, &pe);
		if (c->zombie) {
			pe.has_exit_code = true;
			pe.exit_code = c->exit_code;
			pe.comm = (char *)c->stat.comm;
		}
		ret = img_write(w, &pe.base, &err);
		free(tids);
		free(cge);
		free(cgp);
	}
	if (!ret)
		ret = img_writer_commit(w, &err);
	else if (w && ret != -ENOMEM)
		img_writer_abort(w);
	if (ret)
		pr_err("%s\n", err.msg);
	return ret;
}

pid_t dump_tree_vid(const struct dump_shared *sh, int kind, pid_t host,
		    const struct dump_ctx **task)
{
	for (size_t i = 0; host > 0 && i < sh->nr_tasks; i++) {
		const struct dump_ctx *t = &sh->tasks[i];
		pid_t v = 0;

		if (kind == F_OWNER_PGRP && !t->zombie && t->stat.pgrp == host)
			v = t->vpgid;
		else if (kind == F_OWNER_PID && (t->zombie ? t->pid : t->st.pid) == host)
			v = t->vpid;
		for (size_t k = 0; kind == F_OWNER_TID && !t->zombie && k < t->st.nr && !v; k++)
			if (t->st.thr[k].tid == host)
				v = t->vtid[k];
		if (v) {
			if (task)
				*task = t;
			return v;
		}
	}
	return 0;
}

int dump_tree(struct dump_shared *sh, struct dump_ctx *tasks, size_t nr)
{
	int ret = dump_tty_ctty(sh, tasks, nr); /* dump-tty.c */

	if (!ret)
		ret = dump_timens_check(sh, tasks, nr); /* dump-timens.c */
	return ret ? ret : write_pstree(sh, tasks, nr);
}
