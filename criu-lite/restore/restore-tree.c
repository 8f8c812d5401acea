/* restore-tree: create the tasks of the tree, with their pids, parents,
 * sessions and process groups, as seized skeletons (see restore-tree.h). */
#include <fcntl.h>
#include <inttypes.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOG_PREFIX "tree: "
#include "criu-lite/log.h"
#include "criu-lite/proc/proc.h"
#include "criu-lite/restore/restore-attrs.h"
#include "criu-lite/restore/restore-cgroup.h"
#include "criu-lite/restore/restore-stop.h"
#include "criu-lite/restore/restore-tree.h"

/* The skeletons start as copies of the restorer (the root) or of their
 * parent: the one trampoline address must miss every task's VMAs and the
 * restorer's own mappings (ASan's shadow, say). */
static int add_range(uint64_t **r, size_t *n, size_t *cap, uint64_t s, uint64_t e)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 256;
		uint64_t *nr = realloc(*r, nc * 2 * sizeof(**r));

		if (!nr)
			return -ENOMEM;
		*r = nr;
		*cap = nc;
	}
	(*r)[2 * *n] = s;
	(*r)[2 * *n + 1] = e;
	(*n)++;
	return 0;
}

static int find_hole(struct restore_ctx *c, uint64_t *hole)
{
	uint64_t *r = NULL;
	size_t n = 0, cap = 0;
	unsigned long s, e;
	char line[512];
	int ret = 0;
	FILE *f;

	for (size_t i = 0; !ret && i < c->nr_tasks; i++) {
		const MmEntry *mm = c->tasks[i].mm;

		for (size_t k = 0; !ret && mm && k < mm->n_vmas; k++)
			if (mm->vmas[k]->kind != VMA_KIND__VMA_VSYSCALL)
				ret = add_range(&r, &n, &cap, mm->vmas[k]->start, mm->vmas[k]->end);
	}
	f = fopen("/proc/self/maps", "r");
	if (!f) {
		pr_perror("can't open /proc/self/maps");
		free(r);
		return -errno;
	}
	while (!ret && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &s, &e) == 2)
			ret = add_range(&r, &n, &cap, s, e);
	fclose(f);
	if (!ret)
		ret = skel_find_hole(r, n, SKEL_TRAMP_SIZE, hole);
	free(r);
	return ret;
}

/* A dumped task that was just killed may still be a zombie waiting for its
 * parent to reap it (PID 1 does so about a second late): wait for that, but
 * refuse at once when a live task holds the pid. */
static int wait_pid_free(pid_t pid)
{
	char who[200];

	for (int i = 0; i < 300; i++) {
		char state;

		if (proc_task_state(pid, 0, &state))
			return 0; /* gone (or no longer a task we can read: clone3 will tell) */
		if (state != 'Z' && state != 'X')
			break;
		usleep(10000);
	}
	proc_pid_holder(pid, who, sizeof(who));
	pr_err("can't restore pid %d: %s%s\n", pid, who,
	       strstr(who, "zombie") ? " after waiting 3 s" : "");
	return -EEXIST;
}

/* Seize a fresh skeleton and open rsys on it at the trampoline. A task under seccomp gets its
 * filters once everything else is in place (restore-seccomp.c): remote calls stay unfiltered
 * until it is released, where the kernel lets them. */
static int take(const struct restore_ctx *c, struct restore_task *t)
{
	unsigned int flags = SEIZE_EXITKILL;
	int ret;

	if (kd_has(&c->kd, KD_SUSPEND_SECCOMP))
		flags |= SEIZE_SUSPEND_SECCOMP;
	ret = seize_task(t->pid, flags, &t->st);

	if (ret) {
		kill(t->pid, SIGKILL);
		return ret;
	}
	ret = rsys_open_at(t->pid, t->sk.tramp, &t->rs);
	if (!ret)
		t->rs_open = true;
	return ret;
}

static int remote_str(struct restore_task *t, uint64_t at, const char *s)
{
	return rsys_write(&t->rs, at, s, strlen(s) + 1);
}

/* The root of a tree that had its own PID namespace is its init: a new PID
 * and mount namespace, with /proc mounted for that PID namespace. */
static int setup_pidns_root(struct restore_task *t)
{
	uint64_t proc = t->sk.scratch, root = proc + 64, mnt = proc + 128;
	long r;

	if ((r = remote_str(t, proc, "proc")) || (r = remote_str(t, root, "/")) ||
	    (r = remote_str(t, mnt, "/proc")))
		return (int)r;
	/* nothing we mount may propagate back to the host */
	r = rsys_call(&t->rs, SYS_mount, 0, root, 0, MS_REC | MS_PRIVATE, 0, 0);
	if (!r)
		r = rsys_call(&t->rs, SYS_mount, proc, mnt, proc, MS_NOSUID | MS_NODEV | MS_NOEXEC,
			      0, 0);
	return (int)r;
}

static int create_root(struct restore_ctx *c, struct restore_task *t, uint64_t hole)
{
	bool pidns = c->inv->has_root_pidns && c->inv->root_pidns;
	pid_t set_tid = pidns ? 1 : t->vpid;
	int ret;

	long slack;

	if (!pidns && (ret = wait_pid_free(t->vpid)))
		return ret;
	/* the root's default timer slack is the restorer's slack when it clones it */
	int saved_timens = -1, back;

	ret = restore_attrs_own_slack(restore_leader_entry(t), &slack);
	if (!ret) /* cloned into its time namespace (restore-timens.c) */
		ret = restore_timens_root(c, &saved_timens);
	if (!ret)
		ret =
		    skel_create(&set_tid, 1, pidns ? CLONE_NEWPID | CLONE_NEWNS : 0, hole, &t->sk);
	prctl(PR_SET_TIMERSLACK, slack, 0, 0, 0);
	back = restore_timens_back(saved_timens);
	if (!ret && back && t->sk.pid > 0) {
		kill(t->sk.pid, SIGKILL);
		waitpid(t->sk.pid, NULL, 0);
	}
	ret = ret ?: back;
	if (ret)
		return ret;
	t->pid = t->sk.pid;
	if (!pidns && t->pid != t->vpid) {
		pr_err("clone3 gave pid %d instead of %d\n", t->pid, t->vpid);
		kill(t->pid, SIGKILL);
		waitpid(t->pid, NULL, 0);
		return -EEXIST;
	}
	if ((ret = take(c, t)))
		return ret;
	return pidns ? setup_pidns_root(t) : 0;
}

/* The host pid of the child that parent just made with pid vpid in its namespace. */
static pid_t host_pid_of(const struct restore_task *parent, pid_t vpid, bool pidns)
{
	struct pid_list kids = { 0 };
	pid_t found = 0;

	if (!pidns)
		return vpid;
	if (proc_list_children(parent->pid, parent->pid, &kids))
		return 0;
	for (size_t i = 0; i < kids.n && !found; i++) {
		struct proc_status st = { 0 };

		if (proc_parse_status(kids.v[i], &st) == 0 && st.ns_levels &&
		    st.ns_pid[st.ns_levels - 1] == vpid)
			found = kids.v[i];
		proc_status_free(&st);
	}
	pid_list_free(&kids);
	return found;
}

/* fork() inside the parent skeleton p, with pid vpid in its namespace (clone3 set_tid), clone
 * flags and the signal its death will send p; child: the thread entry of the task it becomes,
 * whose default timer slack it inherits (or NULL). */
static int clone_in(struct restore_ctx *c, struct restore_task *p, pid_t vpid, uint64_t flags,
		    int exit_signal, const ThreadCoreEntry *child)
{
	bool pidns = c->inv->has_root_pidns && c->inv->root_pidns;
	struct clone_args args;
	uint64_t at = p->sk.scratch, tid_at = at + sizeof(args);
	uint64_t set_tid = (uint64_t)vpid;
	long r;
	int ret;

	if (!pidns && (ret = wait_pid_free(vpid)))
		return ret;
	memset(&args, 0, sizeof(args));
	args.flags = flags;
	args.exit_signal = (uint64_t)exit_signal;
	args.set_tid = tid_at;
	args.set_tid_size = 1;
	if ((ret = rsys_write(&p->rs, at, &args, sizeof(args))) ||
	    (ret = rsys_write(&p->rs, tid_at, &set_tid, sizeof(pid_t))) ||
	    (ret = skel_expect_parent(&p->rs, &p->sk, p->vpid)) ||
	    (ret = restore_attrs_creator_slack(&p->rs, child)))
		return ret;
	r = rsys_call(&p->rs, SYS_clone3, at, sizeof(args), 0, 0, 0, 0);
	if (r < 0)
		return (int)r;
	if (r != vpid) {
		pr_err("pid %d: clone3 gave pid %ld instead of %d\n", p->vpid, r, vpid);
		return -EEXIST;
	}
	return 0;
}

/* fork() inside the parent skeleton, with the dumped pid (clone3 set_tid). */
static int create_child(struct restore_ctx *c, struct restore_task *p, struct restore_task *t)
{
	bool pidns = c->inv->has_root_pidns && c->inv->root_pidns;
	int sig = t->pstree->has_exit_signal ? t->pstree->exit_signal : SIGCHLD;
	/* CLONE_FILES: its fd table is its parent's (dump-tree.c) */
	int ret = clone_in(c, p, t->vpid, t->pstree->files_shared ? CLONE_FILES : 0, sig,
			   restore_leader_entry(t));

	if (ret)
		return ret;
	t->sk = p->sk; /* same trampoline and scratch: the child is a copy */
	t->pid = t->sk.pid = host_pid_of(p, t->vpid, pidns);
	if (!t->pid) {
		pr_err("pid %d: can't find its new child %d\n", p->vpid, t->vpid);
		return -ESRCH;
	}
	return take(c, t);
}

int restore_take_signals(struct restore_task *t, uint64_t set, uint64_t *taken)
{
	uint64_t ts[2] = { 0, 0 }, at = t->sk.scratch;
	long r;

	*taken = 0;
	if ((r = rsys_write(&t->rs, at, &set, sizeof(set))) ||
	    (r = rsys_write(&t->rs, at + 16, ts, sizeof(ts))))
		return (int)r;
	for (int i = 0; i < 64; i++) {
		r = rsys_call_quiet(&t->rs, SYS_rt_sigtimedwait, at, 0, at + 16, 8, 0, 0);
		if (r == -EAGAIN)
			return 0;
		if (r < 0) {
			errno = (int)-r;
			pr_perror("pid %d: can't take signals %#" PRIx64 " out of its queue",
				  t->vpid, set);
			return (int)r;
		}
		*taken |= 1ULL << (r - 1);
	}
	return 0;
}

/* The zombies' deaths (each its exit signal), the stops and the group helpers (SIGCHLD) signalled
 * their parents, which the dumped parents had handled already: take those back out. One that was
 * pending at dump is queued again, with its siginfo, by restore-core. */
static int drop_child_signals(struct restore_task *p, uint64_t set)
{
	uint64_t taken;

	return restore_take_signals(p, set, &taken);
}

static int drop_sigchld(struct restore_task *p)
{
	return drop_child_signals(p, 1ULL << (SIGCHLD - 1));
}

/* A group none of whose tasks has its id: its leader is gone (dump-tree.c made sure it was not
 * alive outside the tree, nor had members there). The root's own group when it is outside the
 * tree is not one: the tree joins the restorer's. */
static bool leaderless(struct restore_ctx *c, pid_t g)
{
	return g && !restore_task_by_vpid(c, g) && g != (pid_t)c->tasks[0].pstree->pgid;
}

/* The first task (in tree order) of group g, or NULL. */
static struct restore_task *first_in(struct restore_ctx *c, pid_t g)
{
	for (size_t i = 0; i < c->nr_tasks; i++)
		if ((pid_t)c->tasks[i].pstree->pgid == g &&
		    c->tasks[i].pstree->sid != c->tasks[i].pstree->pid)
			return &c->tasks[i];
	return NULL;
}

/* For a leaderless group: a child of its first task, with the group's id as its pid, made the
 * group's leader by that parent (setpgid(child, child)), so the others can join; or, once they
 * have (done), killed and reaped by that parent. */
static int group_helper(struct restore_ctx *c, pid_t g, bool done)
{
	struct restore_task *p = first_in(c, g);
	long r;
	int ret;

	if (!p)
		return 0;
	if (!done) {
		ret = clone_in(c, p, g, 0, SIGCHLD, NULL);
		if (ret) {
			pr_err("can't make process group %d again: no task can take its pid\n", g);
			return ret;
		}
		r = rsys_call(&p->rs, SYS_setpgid, g, g, 0, 0, 0, 0);
		if (!r)
			pr_info(
			    "process group %d (its leader is gone): a helper leads it for now\n",
			    g);
		return (int)r;
	}
	r = rsys_call(&p->rs, SYS_kill, g, SIGKILL, 0, 0, 0, 0);
	if (!r)
		r = rsys_call(&p->rs, SYS_wait4, g, 0, __WALL, 0, 0, 0);
	if (r < 0)
		return (int)r;
	if (r != g) {
		pr_err("pid %d: reaped %ld instead of the helper %d\n", p->vpid, r, g);
		return -ECHILD;
	}
	return drop_sigchld(p);
}

/* Every leaderless group once (the first task of each with that group). */
static int group_helpers(struct restore_ctx *c, bool done)
{
	for (size_t i = 0; i < c->nr_tasks; i++) {
		pid_t g = (pid_t)c->tasks[i].pstree->pgid;
		int ret;

		if (!leaderless(c, g) || first_in(c, g) != &c->tasks[i])
			continue;
		ret = group_helper(c, g, done);
		if (ret)
			return ret;
	}
	return 0;
}

/* Sessions first (a session leader must not have a group of its own yet and
 * its children must be born in its session), groups once every task exists. */
static int set_groups(struct restore_ctx *c)
{
	/* the helpers of leaderless groups: made before the others join, gone after */
	int ret = group_helpers(c, false);

	if (ret)
		return ret;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < c->nr_tasks; i++) {
			struct restore_task *t = &c->tasks[i];
			const PstreeEntry *pe = t->pstree;
			pid_t g = (pid_t)pe->pgid;
			long r = 0;

			if (pe->sid == pe->pid || pe->pgid == 0)
				continue;
			if (pass == 0 && pe->pgid == pe->pid)
				r = rsys_call(&t->rs, SYS_setpgid, 0, 0, 0, 0, 0, 0);
			else if (pass == 1 && pe->pgid != pe->pid &&
				 (restore_task_by_vpid(c, g) || leaderless(c, g)))
				r = rsys_call(&t->rs, SYS_setpgid, 0, g, 0, 0, 0, 0);
			if (r)
				return (int)r;
		}
	}
	return group_helpers(c, true);
}

/* A zombie child: let its skeleton end the way the task ended, so the
 * restored parent's wait() gets the same status. */
static int make_zombie(struct restore_task *t)
{
	int status = t->pstree->has_exit_code ? t->pstree->exit_code : 0;
	struct user_regs_struct regs = *rsys_regs(&t->rs);
	uint64_t none = 0;
	char name[16] = "";
	int ret;

	if (t->pstree->comm) {
		strncpy(name, t->pstree->comm, sizeof(name) - 1);
		ret = rsys_write(&t->rs, t->sk.scratch, name, sizeof(name));
		if (!ret)
			ret = (int)rsys_call(&t->rs, SYS_prctl, PR_SET_NAME, t->sk.scratch, 0, 0, 0,
					     0);
		if (ret)
			return ret;
	}
	t->rs_open = false;
	if ((ret = rsys_close(&t->rs)))
		return ret;
	regs.rip = t->sk.tramp;
	regs.orig_rax = -1;
	if (WIFSIGNALED(status)) {
		regs.rax = SYS_tgkill;
		regs.rdi = t->vpid;
		regs.rsi = t->vpid;
		regs.rdx = WTERMSIG(status);
	} else {
		regs.rax = SYS_exit_group;
		regs.rdi = WEXITSTATUS(status);
	}
	if (ptrace(PTRACE_SETREGS, t->pid, 0, &regs) ||
	    ptrace(PTRACE_SETSIGMASK, t->pid, sizeof(none), &none)) {
		pr_perror("pid %d: can't set up the zombie's exit", t->vpid);
		return -errno;
	}
	ret = seize_release(&t->st, RELEASE_RESUME);
	/* wait until it is a zombie, so its parent's SIGCHLD is there to drop */
	for (int i = 0; !ret && i < 500; i++) {
		char state;

		if (proc_task_state(t->pid, 0, &state) == 0 && state == 'Z')
			return 0;
		usleep(2000);
	}
	if (!ret) {
		pr_err("pid %d did not turn into a zombie\n", t->vpid);
		ret = -ETIMEDOUT;
	}
	return ret;
}

struct restore_task *restore_task_by_vpid(struct restore_ctx *c, pid_t vpid)
{
	for (size_t i = 0; i < c->nr_tasks; i++)
		if (c->tasks[i].vpid == vpid)
			return &c->tasks[i];
	return NULL;
}

int restore_tree_create(struct restore_ctx *c)
{
	uint64_t hole;
	int ret = find_hole(c, &hole);

	if (!ret)
		ret = create_root(c, &c->tasks[0], hole);
	for (size_t i = 0; !ret && i < c->nr_tasks; i++) {
		struct restore_task *t = &c->tasks[i];

		if (t->pstree->sid == t->pstree->pid) {
			long r = rsys_call(&t->rs, SYS_setsid, 0, 0, 0, 0, 0, 0);

			if (r < 0) {
				ret = (int)r;
				break;
			}
			/* its terminal, before its children: they inherit it */
			ret = restore_pty_ctty(c, t); /* restore-tty.c */
		}
		/* in its cgroups before its memory is filled, so that it is charged there */
		if (!ret)
			ret = restore_cgroups(t);
		/* its address space before its children: they inherit what they shared */
		if (!ret && !t->zombie)
			ret = restore_task_mm(c, t);
		/* the time namespace of its children, before them (restore-timens.c) */
		if (!ret)
			ret = restore_timens_kids(c, t);
		/* its children, now that it is in its session */
		for (size_t k = i + 1; !ret && k < c->nr_tasks; k++)
			if (c->tasks[k].parent == t)
				ret = create_child(c, t, &c->tasks[k]);
	}
	if (!ret)
		ret = restore_timens_verify(c);
	if (!ret)
		ret = set_groups(c);
	if (!ret)
		ret = restore_pty_fg(c); /* restore-tty.c */
	for (size_t i = 0; !ret && i < c->nr_tasks; i++)
		if (c->tasks[i].zombie)
			ret = make_zombie(&c->tasks[i]);
	for (size_t i = 0; !ret && i < c->nr_tasks; i++)
		ret = restore_stop_task(&c->tasks[i]);
	for (size_t i = 0; !ret && i < c->nr_tasks; i++)
		ret = restore_stop_report(&c->tasks[i]);
	for (size_t i = 0; !ret && i < c->nr_tasks; i++) {
		uint64_t set = 0;

		for (size_t k = 0; k < c->nr_tasks; k++) {
			const struct restore_task *kid = &c->tasks[k];
			const PstreeEntry *pe = kid->pstree;
			int sig = pe->has_exit_signal ? pe->exit_signal : SIGCHLD;

			if (kid->parent != &c->tasks[i])
				continue;
			if (kid->zombie && sig)
				set |= 1ULL << (sig - 1);
			if (restore_task_stopped(kid))
				set |= 1ULL << (SIGCHLD - 1);
		}
		if (set)
			ret = drop_child_signals(&c->tasks[i], set);
	}
	if (!ret)
		pr_info("created %zu task(s), root pid %d\n", c->nr_tasks, c->tasks[0].pid);
	return ret;
}
