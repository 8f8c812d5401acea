/* dump: the order of a dump and what happens when a step fails (see dump.h). */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>

#define LOG_PREFIX "dump: "
#include "lazy-pages/working-set.h"
#include "criu-lite/dump/dump-lazy.h"
#include "criu-lite/dump/dump-push.h"
#include "criu-lite/dump/dump-snap.h"
#include "criu-lite/dump/dump-track.h"
#include "criu-lite/dump/dump-tree.h"
#include "criu-lite/dump/dump-inet.h"
#include "criu-lite/dump/dump.h"
#include "criu-lite/fault.h"
#include "criu-lite/dump/dump-sknetns.h"
#include "criu-lite/kinds/netns.h"
#include "criu-lite/log.h"
#include "criu-lite/stats.h"

/* Refuse a tree that can't be dumped before touching anything, with the reason: no such
 * process, a thread that is not a process, criu-lite itself or one of its ancestors (pid 1,
 * the init of its PID namespace, is one: freezing it would freeze the dumper too). */
static int check_target(pid_t pid)
{
	char path[64];
	struct proc_status st = { 0 };
	pid_t self = getpid(), p;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d", pid);
	if (access(path, F_OK)) {
		pr_err("no process with pid %d (in criu-lite's PID namespace)\n", pid);
		return -ESRCH;
	}
	ret = proc_parse_status(pid, &st);
	if (ret)
		return ret;
	if (st.tgid != pid) {
		pr_err("pid %d is a thread of process %d: dump -t %d\n", pid, st.tgid, st.tgid);
		proc_status_free(&st);
		return -EINVAL;
	}
	proc_status_free(&st);
	if (pid == self) {
		pr_err("pid %d is criu-lite itself\n", pid);
		return -EINVAL;
	}
	if (pid == 1) {
		pr_err(
		    "pid 1 is the init of criu-lite's PID namespace and an ancestor of criu-lite: "
		    "a tree can only be dumped from outside it\n");
		return -EINVAL;
	}
	for (p = getppid(); p > 1;) {
		struct proc_stat ps;

		if (p == pid) {
			pr_err(
			    "pid %d is an ancestor of criu-lite (pid %d): its tree holds the dumper "
			    "itself\n",
			    pid, self);
			return -EINVAL;
		}
		if (proc_parse_stat(p, &ps))
			break; /* an ancestor exited meanwhile: the chain above is not ours */
		p = ps.ppid;
	}
	return 0;
}

/* The image directory must not hold another dump's images (a mix of two dumps would
 * restore): refused unless --overwrite, which removes them first. */
static int check_images_dir(const struct opts *o, struct img_dir *d)
{
	struct img_dir_usage u;
	struct img_err err = { 0 };

	if (img_dir_usage(d, &u, &err)) {
		pr_err("%s\n", err.msg);
		return -err.code;
	}
	if (!u.files)
		return 0;
	if (!o->overwrite) {
		bool complete = !faccessat(img_dir_fd(d), "inventory.img", F_OK, 0);

		pr_err("%s already holds the images of %s (%s%s): use an empty directory, or "
		       "--overwrite to remove them first\n",
		       o->images_dir,
		       complete ? "another dump"
				: "a dump that did not finish (there is no inventory.img)",
		       u.first, u.files > 1 ? " and more" : "");
		return -EEXIST;
	}
	pr_info("--overwrite: removing the %u image file(s) of an earlier dump in %s\n", u.files,
		o->images_dir);
	if (img_dir_clear(d, &err)) {
		pr_err("%s\n", err.msg);
		return -err.code;
	}
	unlinkat(img_dir_fd(d), LAZY_WS_FILE, 0); /* a lazy restore's hint about those images */
	return 0;
}

/* The local image directory: made if missing, locked (a second dump can't write into it), the
 * temp files of a killed dump removed, and refused when it holds another dump. */
static int open_images_dir(const struct opts *o, struct img_dir **d)
{
	struct img_err err = { 0 };
	int ret;

	if (img_dir_open(o->images_dir, true, d, &err)) {
		pr_err("%s\n", err.msg);
		return -err.code;
	}
	ret = img_dir_lock(*d, true, &err); /* released when it is closed, or we die */
	if (ret < 0) {
		pr_err("%s\n", err.msg);
		return ret;
	}
	if (ret > 0)
		pr_warn("%s is not locked: this kernel has no file locking (flock: ENOSYS), so "
			"nothing keeps a second dump out of it\n",
			o->images_dir);
	ret = img_dir_remove_tmp(*d, &err);
	if (ret > 0)
		pr_info("removed %d temporary file(s) a killed dump left in %s\n", ret,
			o->images_dir);
	if (ret < 0) {
		pr_err("%s\n", err.msg);
		return ret;
	}
	img_dir_sync_later(*d); /* made durable all at once before the manifest (dump_inventory) */
	return check_images_dir(o, *d);
}

static int collect_proc(struct dump_ctx *c)
{
	int ret = proc_parse_stat(c->pid, &c->stat);

	if (!ret)
		ret = proc_parse_status(c->pid, &c->status);
	if (!ret)
		ret = dump_cgroups(c);
	if (!ret && !c->zombie)
		ret = dump_seccomp_check(c); /* before the first remote call */
	c->exit_signal = c->stat.exit_signal;
	if (!ret && c->st.leader_exited) { /* c->pid is a thread: the leader's is the process's */
		struct proc_stat ls;

		ret = proc_parse_stat(c->st.pid, &ls);
		c->exit_signal = ls.exit_signal;
	}
	if (!ret && !c->zombie)
		ret = proc_parse_vmas(c->pid, &c->vmas);
	return ret;
}

/* An rsys session in every live task. */
static int open_sessions(struct dump_tree_list *tl)
{
	int ret;

	for (size_t i = 0; i < tl->n; i++) {
		struct dump_ctx *c = &tl->t[i];

		if (c->zombie || c->rs_open)
			continue;
		if ((ret = rsys_open(c->pid, &c->rs)))
			return ret;
		c->rs_open = true;
	}
	return 0;
}

static const char *const phase_names[DUMP_PH_N] = {
	"start", "freeze", "proc", "core", "files", "memory", "commit", "release",
};
static const char *const phase_keys[DUMP_PH_N] = {
	/* stats keys are kept, not copied */
	"phase_start_s", "phase_freeze_s", "phase_proc_s",   "phase_core_s",
	"phase_files_s", "phase_memory_s", "phase_commit_s", "phase_release_s",
};

/* The time since *t counts for phase p; *t moves on to now. */
static void phase_end(struct dump_shared *sh, enum dump_phase p, double *t)
{
	stats_lap(&sh->phase_s[p], t);
}

/* Every step for one live task. */
static int dump_one(struct dump_ctx *c)
{
	const struct opts *o = c->sh->o;
	double t = stats_now();
	int ret;

	if (c->zombie)
		return 0;
	if ((ret = dump_timens_task(c)))
		return ret;
	if ((ret = fault_inject(o, "core")) || (ret = dump_core(c)))
		return ret;
	phase_end(c->sh, DUMP_PH_CORE, &t);
	if ((ret = fault_inject(o, "files")) || (ret = dump_files(c)))
		return ret;
	phase_end(c->sh, DUMP_PH_FILES, &t);
	if ((ret = fault_inject(o, "mm")) || (ret = dump_mm(c)))
		return ret;
	phase_end(c->sh, DUMP_PH_MEMORY, &t);
	return 0;
}

/* The dump kills the tree once it succeeds (not a pre-dump, not --leave-running). */
static bool kills(const struct opts *o, bool pre_dump)
{
	return !pre_dump && !o->leave_running;
}

/* rsys_close() puts back registers, mask and scratch: a must before release. The trackers of
 * a tree the dump is to kill stay until it is: they die with it (taking them out would cost the
 * walk that unprotects every page, and a remote call that lets each task back into user space,
 * where the kernel may rewrite its rseq area, the CPU it runs on, in a page whose sum is in the
 * images: a lazy migration then serves that page from the task, changed: dump-lazy.h). */
static int close_sessions(struct dump_shared *sh, struct dump_tree_list *tl, bool pre_dump)
{
	int ret = fault_inject(sh->o, "track-end");

	if (ret || (!kills(sh->o, pre_dump) && (ret = dump_track_end(sh, tl, true))))
		return ret; /* trackers: armed or gone */
	/* a snapshot's userfaultfds: the last remote calls (dump-snap.h) */
	if ((ret = dump_snap_uffd(sh, tl)))
		return ret;
	for (size_t i = 0; i < tl->n; i++) {
		if (!tl->t[i].rs_open)
			continue;
		tl->t[i].rs_open = false;
		if ((ret = rsys_close(&tl->t[i].rs)))
			return ret;
	}
	return fault_inject(sh->o, "release");
}

/* A pre-dump's steps: the tasks' private pages and shared memory objects while frozen, trackers
 * armed (dump-track.h). */
static int predump_steps(struct dump_shared *sh, struct dump_tree_list *tl)
{
	int ret = 0;

	for (size_t i = 0; i < tl->n && !ret; i++)
		if (!tl->t[i].zombie)
			ret = fault_inject(sh->o, "mm") ?: dump_mm_predump(&tl->t[i]);
	if (!ret)
		ret = dump_shmem_commit(&tl->t[0]);
	if (!ret)
		ret = fault_inject(sh->o, "inventory")
			  ?: dump_inventory(sh, tl->t[0].vpid, sh->dump_id);
	return ret ?: close_sessions(sh, tl, true);
}

/* The steps, in order; each is a fault-injection site of the same name. */
static int run_steps(struct dump_shared *sh, struct dump_tree_list *tl, bool pre_dump)
{
	double t = stats_now();
	int ret;

	if ((ret = fault_inject(sh->o, "seize")) || (ret = dump_tree_seize(sh, tl)))
		return ret;
	phase_end(sh, DUMP_PH_FREEZE, &t);
	if ((ret = fault_inject(sh->o, "proc")))
		return ret;
	for (size_t i = 0; i < tl->n; i++)
		if ((ret = collect_proc(&tl->t[i])))
			return ret;
	if ((ret = dump_tree_ids(sh, tl)))
		return ret;
	sh->tasks = tl->t;
	sh->nr_tasks = tl->n;
	if ((ret = open_sessions(tl)))
		return ret;
	/* trackers before any fd table or memory is read: their fds and VmFlags are ours */
	if ((ret = fault_inject(sh->o, "track")) || (ret = dump_track_begin(sh, tl, pre_dump)))
		return ret;
	if (pre_dump) {
		phase_end(sh, DUMP_PH_PROC, &t);
		ret = predump_steps(sh, tl);
		phase_end(sh, DUMP_PH_MEMORY, &t); /* the pages, and their images */
		return ret;
	}
	if (sh->o->snapshot && (ret = dump_snap_begin(sh, tl)))
		return ret;
	/* a network namespace of the tree's own: entered for the steps below (netns.h) */
	if ((ret = fault_inject(sh->o, "netns")) || (ret = dump_netns_check(sh, tl)))
		return ret;
	/* group stops before any task's memory is read: the question goes to the parent through
	 * rsys, which lets it into user space for an instant, where the kernel may rewrite its
	 * rseq area; a lazy migration serves the pages later from the task against their sums */
	if ((ret = dump_stops(tl)))
		return ret;
	phase_end(sh, DUMP_PH_PROC, &t);
	for (size_t i = 0; i < tl->n; i++)
		if ((ret = dump_one(&tl->t[i])))
			return ret;
	t = stats_now();		    /* dump_one() counted its own */
	if ((ret = dump_inet_hold_all(sh))) /* the TCP connections, all locked at once */
		return ret;
	if ((ret = dump_files_outside(tl->t, tl->n)))
		return ret;
	if ((ret = fault_inject(sh->o, "tree")) || (ret = dump_tree(sh, tl->t, tl->n)))
		return ret;
	if ((ret = fault_inject(sh->o, "write")) || (ret = dump_files_commit(&tl->t[0])) ||
	    (ret = dump_sknetns_commit(sh)) || (ret = dump_shmem_commit(&tl->t[0])))
		return ret;
	/* last: the manifest of every file above (a set without it is incomplete); a snapshot's
	 * once its memory is copied (dump_run) */
	if (!sh->snap && ((ret = fault_inject(sh->o, "inventory")) ||
			  (ret = dump_inventory(sh, tl->t[0].vpid, sh->dump_id))))
		return ret;
	ret = close_sessions(sh, tl, false);
	phase_end(sh, DUMP_PH_COMMIT, &t);
	return ret;
}

static void free_tasks(struct dump_tree_list *tl)
{
	if (tl->n)
		dump_files_free(&tl->t[0]);
	if (tl->n)
		dump_shmem_free(&tl->t[0]);
	for (size_t i = 0; i < tl->n; i++) {
		vma_list_free(&tl->t[i].vmas);
		proc_status_free(&tl->t[i].status);
		proc_cgroup_list_free(&tl->t[i].cgroups);
		free(tl->t[i].vtid);
	}
	free(tl->t);
}

/* Release every task: children before parents, so a parent never sees a
 * child die while it is itself still held. */
static int release_all(struct dump_tree_list *tl, enum seize_release_mode mode)
{
	int ret = 0;

	for (size_t i = tl->n; i-- > 0;) {
		struct dump_ctx *c = &tl->t[i];

		if (c->rs_open) {
			rsys_close(&c->rs);
			c->rs_open = false;
		}
		ret |= seize_release(&c->st, mode);
	}
	return ret;
}

/* The summary line (unless -v0) and --stats-file. */
static int report(const struct opts *o, struct dump_shared *sh, size_t nr_tasks, double t0,
		  double frozen_s)
{
	struct img_dir_usage u;
	struct img_err err = { 0 };
	struct stats st = { 0 };
	double total_s = stats_now() - t0;
	char mem[32], img[32];

	if (img_dir_usage(sh->dir, &u, &err)) {
		pr_err("%s\n", err.msg);
		return -err.code;
	}
	stats_count(&st, "tasks", nr_tasks);
	stats_count(&st, "pages_written", sh->pages_dumped);
	stats_count(&st, "pages_zero", sh->pages_zero);
	stats_count(&st, "pages_in_parent", dump_track_pages_parent(sh));
	stats_count(&st, "pages_untracked", dump_track_pages_untracked(sh));
	/* shared memory in a chain: pages compared by sums (dump-shmem-chain.h); untracked: of
	 * objects the parent lacks */
	stats_count(&st, "shmem_pages_written", sh->shmem_pages);
	stats_count(&st, "shmem_pages_parent", sh->shmem_pages_parent);
	stats_count(&st, "shmem_pages_untracked", sh->shmem_pages_whole);
	dump_snap_stats(sh, &st);
	stats_count(&st, "memory_bytes", sh->pages_dumped * 4096);
	stats_count(&st, "image_files", u.files);
	stats_count(&st, "image_bytes", u.bytes);
	stats_secs(&st, "frozen_s", frozen_s);
	stats_secs(&st, "total_s", total_s);
	char phases[256];
	int longest = stats_phases(&st, phase_names, phase_keys, sh->phase_s, DUMP_PH_N, phases,
				   sizeof(phases));

	pr_info("where the time went: %s\n", phases);
	stats_bytes_str(sh->pages_dumped * 4096, mem, sizeof(mem));
	stats_bytes_str(u.bytes, img, sizeof(img));
	if (o->lazy_pages) {
		char sent[32];

		stats_count(&st, "pages_served", sh->lazy_pages);
		stats_count(&st, "bytes_sent", sh->lazy_sent);
		stats_secs(&st, "serving_s", sh->lazy_s);
		stats_bytes_str(sh->lazy_sent, sent, sizeof(sent));
		log_summary(
		    "dump of pid %d: %zu task%s, %s of memory migrated (%s sent in %.3f s), "
		    "images %s in %s, frozen %.3f s, total %.3f s\n",
		    o->tree, nr_tasks, nr_tasks == 1 ? "" : "s", mem, sent, sh->lazy_s, img,
		    o->images_dir, frozen_s, total_s);
	} else {
		char par[64] = "";

		if (sh->track && dump_track_pages_parent(sh))
			snprintf(par, sizeof(par), " (+%llu pages in the parent)",
				 (unsigned long long)dump_track_pages_parent(sh));
		log_summary("%s of pid %d: %zu task%s, %s of memory%s, images %s %s %s, frozen "
			    "%.3f s, total %.3f s (longest: %s %.3f s)\n",
			    o->cmd, o->tree, nr_tasks, nr_tasks == 1 ? "" : "s", mem, par, img,
			    sh->push ? "to" : "in",
			    sh->push ? img_dir_path(sh->dir) : o->images_dir, frozen_s, total_s,
			    phase_names[longest], sh->phase_s[longest]);
	}
	return o->stats_file ? stats_write(&st, o->stats_file) : 0;
}

/* A snapshot's memory copied while the tree runs, its images completed; on failure the tree
 * runs on, unprotected, and this dump's files are removed. */
static int snapshot_finish(struct dump_shared *sh, struct dump_tree_list *tl)
{
	struct img_err err = { 0 };
	int ret = dump_snap_copy(sh) ?: dump_snap_commit(sh);

	if (!ret)
		ret = fault_inject(sh->o, "inventory")
			  ?: dump_inventory(sh, tl->t[0].vpid, sh->dump_id);
	if (!ret)
		return 0;
	dump_snap_free(sh);
	if (img_dir_remove_written(sh->dir, &err))
		pr_err("%s\n", err.msg);
	pr_err("the snapshot of pid %d failed; the tree runs on as it did\n", sh->o->tree);
	return ret;
}

static int dump_run(const struct opts *o, bool pre_dump)
{
	struct dump_shared sh = {
		.o = o, .next_file_id = 1, .next_ghost_id = 1, .next_shmem_id = 1
	};
	struct dump_tree_list tl = { 0 };
	struct img_err err = { 0 };
	double t0 = stats_now(), t_freeze = 0, frozen_s = 0;
	bool killed = false;
	int ret;

	if (!o->tree) {
		pr_err("%s needs -t PID\n", o->cmd);
		return 2;
	}
	if (check_target(o->tree))
		return 1;
	sh.dump_id = dump_new_id();
	if (o->page_server) { /* -D: the index of what goes to the server (dump-push.h) */
		struct img_dir *index = NULL;

		ret = o->images_dir_given ? open_images_dir(o, &index) : 0;
		ret = ret ?: dump_push_open(&sh, index);
		if (ret && !sh.tee)
			img_dir_close(index);
	} else {
		ret = open_images_dir(o, &sh.dir);
	}
	if (ret) {
		img_dir_close(sh.dir);
		dump_push_close(&sh);
		return 1;
	}
	img_dir_set_dump_id(sh.dir, sh.dump_id);
	sh.bufs = page_bufs_new(); /* NULL is fine: each writer then has its own */
	/* uffd: the trackers' backend (dump-track.h), also to disarm one an earlier round left */
	ret = kerndat_get(&sh.kd, KD_PROBE_PROC | KD_PROBE_MEM | KD_PROBE_VDSO | KD_PROBE_UFFD,
			  false);
	if (!ret && !kerndat_core_ok(&sh.kd)) {
		pr_err("the kernel lacks features criu-lite needs: see `criu-lite check`\n");
		ret = -ENOTSUP;
	}
	if (!ret && kd_has(&sh.kd, KD_GUARD_INSTALL) && !kd_has(&sh.kd, KD_GUARD_PAGEMAP) &&
	    !sh.kd.guard_vmflag)
		pr_warn(
		    "this kernel has guard regions (MADV_GUARD_INSTALL) but shows them neither in "
		    "pagemap nor in VmFlags: any the tree holds can't be found, and are not kept\n");
	if (!ret) {
		t_freeze = stats_now();
		sh.phase_s[DUMP_PH_START] = t_freeze - t0;
		ret = run_steps(&sh, &tl, pre_dump);
		if (dump_netns_home(&sh)) /* what comes next (serving, reporting) is from here */
			ret = ret ?: -EIO;
	}
	if (!ret && sh.snap) /* write-protected, then released */
		ret = dump_snap_protect(&sh);
	if (!ret && o->lazy_pages) /* the tree stays frozen until a destination has it all */
		ret = dump_lazy_serve(&sh, &tl);
	if (!ret && sh.push) /* and until the page server has every file in place */
		ret = dump_push_finish(&sh);
	if (ret) {
		dump_snap_free(&sh); /* nothing of the tree's waits on a snapshot any more */
		dump_inet_finish(&sh, false); /* the connections go on before their tasks do */
		if (kills(o, pre_dump) && sh.track) /* they outlived close_sessions() */
			open_sessions(&tl);
		dump_track_end(&sh, &tl, false); /* the tree goes on untracked */
		release_all(&tl, RELEASE_RESUME);
		if (img_dir_remove_written(sh.dir, &err)) /* this dump's files, and only those */
			pr_err("%s\n", err.msg);
		else if (sh.push)
			pr_info("%s discarded the files it had received\n", img_dir_path(sh.dir));
		pr_err("%s of pid %d failed; %s left running as %s\n", o->cmd, o->tree,
		       tl.n > 1 ? "every task was" : "the task was",
		       tl.n > 1 ? "they were" : "it was");
	} else {
		bool resume = o->leave_running || pre_dump;

		if (resume)
			dump_inet_finish(&sh, false);
		/* frozen: until the tree runs again, or is sent SIGKILL (its images complete: the
		 * kernel's teardown of a killed tree is not the dump's, nor a frozen tree's) */
		frozen_s = stats_now() - t_freeze;
		double t_rel = stats_now();

		ret = release_all(&tl, resume ? RELEASE_RESUME : RELEASE_KILL);
		phase_end(&sh, DUMP_PH_RELEASE, &t_rel);
		killed = !resume;
		if (resume)
			frozen_s = stats_now() - t_freeze;
		if (killed) /* its trackers: gone with it */
			dump_track_end(&sh, &tl, true);
		if (killed) /* the tasks are gone: so are their connections */
			dump_inet_finish(&sh, true);
		if (!ret && sh.snap) /* the memory, while the tree runs; then the manifest */
			ret = snapshot_finish(&sh, &tl);
	}
	free_tasks(&tl);
	dump_inet_free(&sh);
	dump_ptys_free(sh.ptys);
	dump_timens_free(&sh);
	dump_sknetns_free(&sh);
	/* last of what holds the tree's network namespace: then its veths' outer ends may go */
	if (dump_netns_finish(&sh, killed))
		ret = ret ?: -EIO;
	if (!ret) /* the dump's end: its total time counts that wait */
		ret = report(o, &sh, tl.n, t0, frozen_s);
	dump_track_free(&sh);
	dump_snap_free(&sh);
	page_bufs_free(sh.bufs);
	img_dir_close(sh.dir);
	dump_push_close(&sh);
	return ret ? 1 : 0;
}

/* The dumper holds a copy of every file in flight in the tree's unix sockets until the end
 * (dump-inflight.c): as many fds as the hard limit allows. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int cmd_dump(const struct opts *o)
{
	raise_nofile();
	return dump_run(o, false);
}

int cmd_pre_dump(const struct opts *o)
{
	raise_nofile();
	return dump_run(o, true);
}
