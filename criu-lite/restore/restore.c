/* restore: the order of a restore and what happens when it fails (see restore.h). */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LOG_PREFIX "restore: "
#include "criu-lite/dump/dump.h"
#include "criu-lite/fault.h"
#include "criu-lite/kinds/locks.h"
#include "criu-lite/kinds/netns.h"
#include "criu-lite/kinds/sk-inet.h"
#include "criu-lite/log.h"
#include "criu-lite/kinds/pipes.h"
#include "criu-lite/restore/restore-attrs.h"
#include "criu-lite/restore/restore-chain.h"
#include "criu-lite/restore/restore-stop.h"
#include "criu-lite/restore/restore-tree.h"
#include "criu-lite/kinds/sk-netlink.h"
#include "criu-lite/kinds/sk-packet.h"
#include "criu-lite/kinds/sk-unix.h"
#include "criu-lite/restore/restore-files.h"
#include "criu-lite/restore/restore-lazy.h"
#include "criu-lite/restore/restore-sknetns.h"
#include "criu-lite/restore/restore.h"
#include "criu-lite/stats.h"
#include "criu-lite/kinds/timers.h"

static int report(const struct img_err *err, int ret)
{
	pr_err("%s\n", err->msg);
	return ret;
}

int restore_read_all(struct img_dir *d, enum img_kind kind, long id, ProtobufCMessage ***out,
		     size_t *n, bool optional)
{
	struct img_reader *r;
	struct img_err err = { 0 };
	ProtobufCMessage *m, **v = NULL;
	int ret;

	*out = NULL;
	*n = 0;
	ret = img_reader_open(d, kind, id, &r, &err);
	if (ret == -ENOENT && optional)
		return ret;
	if (ret)
		return report(&err, ret);
	while ((ret = img_read(r, &m, &err)) > 0) {
		ProtobufCMessage **nv = realloc(v, (*n + 1) * sizeof(*nv));

		if (!nv) {
			protobuf_c_message_free_unpacked(m, NULL);
			ret = -ENOMEM;
			break;
		}
		v = nv;
		v[(*n)++] = m;
	}
	img_reader_close(r);
	*out = v;
	if (ret < 0)
		return err.code ? report(&err, ret) : ret;
	return 0;
}

static int read_one(struct img_dir *d, enum img_kind kind, long id, ProtobufCMessage **m)
{
	struct img_err err = { 0 };
	int ret = img_read_one(d, kind, id, m, &err);

	return ret ? report(&err, ret) : 0;
}

/* Runs restore can't fill: PE_LAZY (lazy restores tell lazy pages by their VMAs), PE_PARENT
 * without a chain to follow: refused rather than restored with those pages missing. (A lazy
 * restore fills a chain's pages eagerly, before the VMAs are registered: lazy-pages serves the
 * final image's pages only.) */
static int check_runs(const struct restore_ctx *c, const struct restore_task *t)
{
	const struct page_run *runs = page_reader_runs(t->pages);

	for (size_t i = 0; i < page_reader_nr_runs(t->pages); i++) {
		const char *why = NULL;

		if (runs[i].flags & PAGEMAP_FLAGS__PE_LAZY)
			why = "lazy: this criu-lite can't restore them";
		else if ((runs[i].flags & PAGEMAP_FLAGS__PE_PARENT) && !c->chain)
			why = "in a parent image, but inventory.img names none";
		if (why) {
			pr_err("pagemap-%d.img: pages at %#llx are %s\n", t->vpid,
			       (unsigned long long)runs[i].vaddr, why);
			return -ENOTSUP;
		}
	}
	return 0;
}

/* The pages file the page reader just summed is the one the manifest lists. */
static int check_pages_crc(struct restore_ctx *c, const struct restore_task *t)
{
	return restore_manifest_pages(c, page_reader_pages_name(t->pages),
				      page_reader_crc(t->pages));
}

static int read_task(struct restore_ctx *c, struct restore_task *t)
{
	int ret;

	if (t->zombie)
		return 0; /* a zombie is only its pstree entry */
	if ((ret = read_one(c->dir, IMG_CORE, t->vpid, (ProtobufCMessage **)&t->core)) ||
	    (ret = read_one(c->dir, IMG_MM, t->vpid, (ProtobufCMessage **)&t->mm)) ||
	    (ret = read_one(c->dir, IMG_FS, t->vpid, (ProtobufCMessage **)&t->fs)) ||
	    (ret = restore_read_all(c->dir, IMG_FDINFO, t->vpid, (ProtobufCMessage ***)&t->fdinfo,
				    &t->nr_fdinfo, false)))
		return ret;
	if ((ret = restore_lazy_pages_open(c, IMG_PAGEMAP, t->vpid, &t->pages)))
		return ret;
	if ((ret = check_runs(c, t)) || (ret = restore_task_runs_check(t)) ||
	    (ret = restore_chain_task(c, t)) || (ret = check_pages_crc(c, t)) ||
	    (ret = restore_core_check(c, t)) || (ret = restore_stop_check(t)))
		return ret;
	return restore_mm_check(c, t);
}

static int check_host(struct restore_ctx *c)
{
	char vdso[128];

	if (c->inv->img_version > IMG_VERSION) {
		pr_err("inventory.img: image version %u is newer than this criu-lite (%u)\n",
		       c->inv->img_version, IMG_VERSION);
		return -ENOTSUP;
	}
	if (c->inv->page_size != (uint32_t)sysconf(_SC_PAGESIZE)) {
		pr_err("inventory.img: dumped with page size %u, this host has %ld\n",
		       c->inv->page_size, sysconf(_SC_PAGESIZE));
		return -ENOTSUP;
	}
	dump_vdso_layout(&c->kd, vdso, sizeof(vdso));
	if (c->inv->vdso_layout && strcmp(c->inv->vdso_layout, vdso) != 0) {
		pr_err("the vDSO layout differs: dumped on \"%s\" (kernel %s), this kernel has "
		       "\"%s\": restore on a kernel of the same layout\n",
		       c->inv->vdso_layout, c->inv->kernel_release, vdso);
		return -ENOTSUP;
	}
	return 0;
}

static int read_images(struct restore_ctx *c)
{
	struct img_err err = { 0 };
	int ret = img_read_one(c->dir, IMG_INVENTORY, 0, (ProtobufCMessage **)&c->inv, &err);

	if (ret == -ENOENT) {
		pr_err("%s holds no dump: there is no inventory.img\n", c->o->images_dir);
		return ret;
	}
	if (ret)
		return report(&err, ret);
	if ((ret = check_host(c)) || (ret = restore_manifest_check(c)) ||
	    (ret = restore_chain_open(c)) ||
	    (ret = restore_read_all(c->dir, IMG_PSTREE, 0, (ProtobufCMessage ***)&c->pstree,
				    &c->nr_pstree, false)) ||
	    (ret = restore_read_all(c->dir, IMG_FILES, 0, (ProtobufCMessage ***)&c->files,
				    &c->nr_files, false)))
		return ret;
	if ((ret = restore_shmem_read(c)))
		return ret;
	if (!c->nr_pstree) {
		pr_err("pstree.img: no tasks\n");
		return -EBADMSG;
	}
	c->tasks = calloc(c->nr_pstree, sizeof(*c->tasks));
	if (!c->tasks)
		return -ENOMEM;
	c->nr_tasks = c->nr_pstree;
	for (size_t i = 0; i < c->nr_tasks; i++) {
		struct restore_task *t = &c->tasks[i];
		const PstreeEntry *pe = c->pstree[i];

		t->vpid = pe->pid;
		t->pstree = c->pstree[i];
		t->zombie = pe->state == TASK_STATE__TASK_ZOMBIE;
		t->cwd_fd = t->root_fd = t->exe_fd = -1;
		/* parents come first; the root alone has no parent in the tree */
		if (i && !(t->parent = restore_task_by_vpid(c, pe->ppid))) {
			pr_err("pstree.img: pid %u's parent %u is not before it in the tree\n",
			       pe->pid, pe->ppid);
			return -EBADMSG;
		}
		if ((!i && pe->ppid) || (i && t->parent >= t) ||
		    restore_task_by_vpid(c, pe->pid) != t) {
			pr_err("pstree.img: pid %u: bad or duplicate entry\n", pe->pid);
			return -EBADMSG;
		}
		if (pe->has_exit_signal && (pe->exit_signal < 0 || pe->exit_signal > 64)) {
			pr_err("pstree.img: pid %u: bad exit signal %d\n", pe->pid,
			       pe->exit_signal);
			return -EBADMSG;
		}
		if (t->zombie && !i) {
			pr_err("pstree.img: the root pid %u is a zombie\n", pe->pid);
			return -EBADMSG;
		}
		if ((ret = read_task(c, t)))
			return ret;
	}
	return 0;
}

const FileEntry *restore_file(const struct restore_ctx *c, uint32_t id)
{
	for (size_t i = 0; i < c->nr_files; i++)
		if (c->files[i]->id == id)
			return c->files[i];
	return NULL;
}

int restore_xfer_fd(struct restore_ctx *c, int fd)
{
	int x = fcntl(fd, F_DUPFD_CLOEXEC, c->xfer_base);

	if (x < 0) {
		pr_perror("can't move fd %d above %d", fd, c->xfer_base);
		x = -errno;
	}
	close(fd);
	return x;
}

/* Transfer fds start above the restorer's own fds and above every fd number
 * the tasks will use. */
static int pick_xfer_base(struct restore_ctx *c)
{
	struct rlimit rl;
	int top = 0;

	for (size_t i = 0; i < c->nr_tasks; i++)
		for (size_t k = 0; k < c->tasks[i].nr_fdinfo; k++)
			if ((int)c->tasks[i].fdinfo[k]->fd > top)
				top = c->tasks[i].fdinfo[k]->fd;
	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0 && fd > top)
			top = fd;
	c->xfer_base = top + 64;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max &&
	    (rlim_t)c->xfer_base + 1024 > rl.rlim_cur) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	return 0;
}

/* Build one task inside its seized skeleton (restore-tree.c made it). */
int restore_task_mm(struct restore_ctx *c, struct restore_task *t)
{
	int ret;

	if ((ret = restore_core_prepare(c, t)))
		return ret;
	if ((ret = fault_inject(c->o, "mm")) || (ret = restore_mm(c, t)))
		return ret;
	t->mm_done = true;
	return 0;
}

static int restore_task(struct restore_ctx *c, struct restore_task *t)
{
	int ret;

	if (t->zombie)
		return 0;
	if (!t->mm_done && (ret = restore_task_mm(c, t)))
		return ret;
	if ((ret = restore_mm_late(c, t)))
		return ret;
	if ((ret = fault_inject(c->o, "files")) || (ret = restore_files(c, t)) ||
	    (ret = restore_locks(c, t)))
		return ret;
	if ((ret = fault_inject(c->o, "core")) || (ret = restore_core(c, t)) ||
	    (ret = restore_fown(c, t)) || (ret = restore_timers(c, t)))
		return ret;
	/* the last call runs from the trampoline and removes it */
	ret = (int)rsys_call(&t->rs, SYS_munmap, t->sk.tramp, SKEL_TRAMP_SIZE, 0, 0, 0, 0);
	if (ret)
		return ret;
	t->rs_open = false;
	if ((ret = rsys_close(&t->rs)))
		return ret;
	if ((ret = fault_inject(c->o, "regs")) || (ret = restore_core_regs(c, t)) ||
	    (ret = restore_sched(t)))
		return ret;
	return 0;
}

/* Children first: a killed parent must not leave a live skeleton behind. */
static void kill_tasks(struct restore_ctx *c)
{
	for (size_t i = c->nr_tasks; i-- > 0;) {
		struct restore_task *t = &c->tasks[i];

		if (t->rs_open) {
			rsys_close(&t->rs);
			t->rs_open = false;
		}
		if (t->st.nr)
			seize_release(&t->st, RELEASE_KILL);
		else if (t->pid > 0)
			kill(t->pid, SIGKILL);
	}
	/* the root is our child: reap it so its pid is free again at once */
	if (c->nr_tasks && c->tasks[0].pid > 0)
		waitpid(c->tasks[0].pid, NULL, __WALL | WNOHANG);
}

/* Whole or not at all (a temporary file renamed): a restore killed meanwhile leaves none. */
static int write_pidfile(const char *path, pid_t pid)
{
	char buf[32], tmp[PATH_MAX];
	int n = snprintf(buf, sizeof(buf), "%d\n", pid), fd, ret = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp-%d", path, getpid()) >= (int)sizeof(tmp)) {
		pr_err("pidfile %s: the path is too long\n", path);
		return -ENAMETOOLONG;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, buf, n) != n || close(fd) || rename(tmp, path)) {
		ret = -errno;
		pr_perror("can't write pidfile %s", path);
		if (fd >= 0)
			unlink(tmp);
	}
	return ret;
}

static void free_ctx(struct restore_ctx *c)
{
	restore_inet_done(c, false);  /* what a failed restore made, closed silently */
	restore_netns_done(c, false); /* and the veths' outer ends it made, deleted */
	restore_sknetns_free(c);
	restore_ptys_free(c);
	for (size_t i = 0; i < c->nr_tasks; i++) {
		struct restore_task *t = &c->tasks[i];

		if (t->core)
			core_entry__free_unpacked(t->core, NULL);
		if (t->mm)
			mm_entry__free_unpacked(t->mm, NULL);
		if (t->fs)
			fs_entry__free_unpacked(t->fs, NULL);
		for (size_t k = 0; k < t->nr_fdinfo; k++)
			fdinfo_entry__free_unpacked(t->fdinfo[k], NULL);
		free(t->fdinfo);
		free(t->fds);
		free(t->map_fds);
		free(t->tids);
		free(t->cow_keep);
		free(t->lazy);
		page_reader_close(t->pages);
		restore_chain_task_free(t);
	}
	free(c->tasks);
	for (size_t i = 0; i < c->nr_pstree; i++)
		pstree_entry__free_unpacked(c->pstree[i], NULL);
	free(c->pstree);
	for (size_t i = 0; i < c->nr_files; i++)
		file_entry__free_unpacked(c->files[i], NULL);
	free(c->files);
	/* tables of objects being handed out, when a failure stopped that early */
	restore_pipes_done(c);
	restore_unix_done(c);
	restore_inflight_done(c);
	restore_ghosts_done(c);
	restore_shmem_free(c);
	restore_chain_close(c);
	if (c->inv)
		inventory_entry__free_unpacked(c->inv, NULL);
	img_dir_close(c->dir);
}

/* The summary line (unless -v0) and --stats-file, once the tree runs. */
/* Where a restore's time goes until the tree runs: the summary line names the longest, -v logs
 * them all, --stats-file has each as phase_<name>_s. */
enum restore_phase {
	RST_PH_IMAGES,	/* the kernel's features, every image read and checked */
	RST_PH_PREPARE, /* what the skeletons inherit: transfer fds, shared memory, pipes */
	RST_PH_TREE,	/* the skeletons, with their memory */
	RST_PH_TASKS,	/* each task's state inside it (registers, signals, fds ...) */
	RST_PH_RESUME,	/* connections out of repair, the pidfile, the release */
	RST_PH_N
};

static const char *const rst_phase_names[RST_PH_N] = { "images", "prepare", "tree", "tasks",
						       "resume" };
static const char *const rst_phase_keys[RST_PH_N] = { /* stats keys are kept, not copied */
						      "phase_images_s", "phase_prepare_s",
						      "phase_tree_s", "phase_tasks_s",
						      "phase_resume_s"
};

static int report_run(struct restore_ctx *c, double running_s, const double *ph)
{
	const struct opts *o = c->o;
	uint64_t pages = 0;
	struct img_dir_usage u;
	struct img_err err = { 0 };
	struct stats st = { 0 };
	char mem[32], img[32];

	for (size_t i = 0; i < c->nr_tasks; i++)
		pages += page_reader_pages(c->tasks[i].pages, PAGEMAP_FLAGS__PE_PRESENT) +
			 page_reader_pages(c->tasks[i].pages, PAGEMAP_FLAGS__PE_PARENT);
	for (size_t i = 0; i < c->nr_shmem; i++)
		pages += page_reader_pages(c->shmem_pages[i], PAGEMAP_FLAGS__PE_PRESENT);
	if (img_dir_usage(c->dir, &u, &err)) {
		pr_err("%s\n", err.msg);
		return -err.code;
	}
	stats_count(&st, "tasks", c->nr_tasks);
	stats_count(&st, "pages_read", pages);
	stats_count(&st, "memory_bytes", pages * 4096);
	stats_count(&st, "image_files", u.files);
	stats_count(&st, "image_bytes", u.bytes);
	stats_secs(&st, "running_s", running_s);
	char phases[192];
	int longest = stats_phases(&st, rst_phase_names, rst_phase_keys, ph, RST_PH_N, phases,
				   sizeof(phases));

	pr_info("where the time went: %s\n", phases);
	stats_bytes_str(pages * 4096, mem, sizeof(mem));
	stats_bytes_str(u.bytes, img, sizeof(img));
	log_summary("restore of pid %d: %zu task%s, %s of memory, images %s from %s, running after "
		    "%.3f s (longest: %s %.3f s)\n",
		    c->tasks[0].vpid, c->nr_tasks, c->nr_tasks == 1 ? "" : "s", mem, img,
		    o->images_dir, running_s, rst_phase_names[longest], ph[longest]);
	return o->stats_file ? stats_write(&st, o->stats_file) : 0;
}

/* Without -d: wait for the root task and return its status as ours. */
static int wait_root(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			pr_perror("waitpid(%d)", pid);
			return 1;
		}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int restore_run(const struct opts *o)
{
	struct restore_ctx c = { .o = o };
	struct img_err err = { 0 };
	double t0 = stats_now(), t = t0, ph[RST_PH_N] = { 0 };
	int ret;

	if (img_dir_open(o->images_dir, false, &c.dir, &err) ||
	    img_dir_lock(c.dir, false, &err) < 0) { /* no dump may write into it meanwhile */
		pr_err("%s\n", err.msg);
		img_dir_close(c.dir);
		return 1;
	}
	ret = kerndat_get(&c.kd,
			  KD_PROBE_PROC | KD_PROBE_MEM | KD_PROBE_VDSO |
			      (o->lazy_pages ? KD_PROBE_UFFD : 0),
			  false);
	if (!ret && !kerndat_core_ok(&c.kd)) {
		pr_err("the kernel lacks features criu-lite needs: see `criu-lite check`\n");
		ret = -ENOTSUP;
	}
	/* 1: everything is read and checked before anything is created (a lazy restore's server
	 * first: it says where the pages come from) */
	if (!ret)
		ret = restore_lazy_connect(&c);
	if (!ret)
		ret = read_images(&c);
	if (!ret) /* the tree's own network namespace, before any socket is made (netns.h), and
		   * those of its sockets that live in another (restore-sknetns.h) */
		ret = restore_sknetns_read(&c) ?: restore_netns(&c) ?: restore_sknetns_make(&c);
	if (!ret)
		ret = restore_timers_check(&c);
	if (!ret)
		ret = restore_locks_check(&c);
	if (!ret)
		ret = restore_inet_check(&c);
	if (!ret) /* netlink and packet sockets (sk-netlink.h, sk-packet.h) */
		ret = restore_netlink_check(&c) ?: restore_packet_check(&c);
	if (!ret)
		ret = fault_inject(o, "images");
	if (!ret)
		ret = restore_lazy_start(&c);
	stats_lap(&ph[RST_PH_IMAGES], &t);
	/* 2: what the skeletons inherit */
	if (!ret)
		ret = pick_xfer_base(&c);
	if (!ret)
		ret = restore_pipes_prepare(&c);
	if (!ret)
		ret = restore_shmem_prepare(&c);
	for (size_t i = 0; !ret && i < c.nr_tasks; i++) {
		if (c.tasks[i].zombie)
			continue;
		ret = restore_mm_prepare(&c, &c.tasks[i]);
		if (!ret)
			ret = restore_files_prepare(&c, &c.tasks[i]);
	}
	if (!ret) /* the terminals' slaves and locks, once every task's fds are prepared */
		ret = restore_ptys_prepare(&c);
	/* the transfer fds keep the recreated deleted files alive */
	restore_ghosts_done(&c);
	if (!ret)
		ret = restore_lazy_plan(&c);
	if (!ret)
		ret = restore_shmem_fill(&c);
	if (!ret)
		ret = fault_inject(o, "prepare");
	stats_lap(&ph[RST_PH_PREPARE], &t);
	/* 3: the tasks */
	if (!ret)
		ret = fault_inject(o, "clone");
	if (!ret) {
		restore_sigactions_inherited(&c);
		ret = restore_tree_create(&c);
	}
	stats_lap(&ph[RST_PH_TREE], &t);
	for (size_t i = 0; !ret && i < c.nr_tasks; i++)
		ret = restore_task(&c, &c.tasks[i]);
	stats_lap(&ph[RST_PH_TASKS], &t);
	if (ret) {
		bool created = false;

		for (size_t i = 0; i < c.nr_tasks; i++)
			created |= c.tasks[i].pid > 0;
		kill_tasks(&c);
		restore_lazy_finish(&c, false);
		pr_err("restore from %s failed%s\n", o->images_dir,
		       created ? "; every task it created was killed"
			       : " before any task was created");
		free_ctx(&c);
		return 1;
	}
	/* 4: let them run, without the restorer's copies of the transfer fds (a pipe's
	 * write end kept here would hide EOF from a restored reader while we wait) */
	syscall(SYS_close_range, c.xfer_base, ~0U, 0);
	/* the TCP connections out of repair mode, before their tasks can use them */
	ret = restore_inet_resume(&c);
	if (ret) {
		kill_tasks(&c);
		restore_lazy_finish(&c, false);
		pr_err("restore from %s failed; every task it created was killed\n", o->images_dir);
		free_ctx(&c);
		return 1;
	}
	/* the pidfile is the commit point: until it is written, every task is still seized with
	 * PTRACE_O_EXITKILL (a restorer killed before it leaves none); a lazy restore's is after
	 * the hand-over to its guardian, which kills the tree if the restorer dies before */
	bool early_pid = o->pidfile && !o->lazy_pages;

	if (early_pid && (ret = write_pidfile(o->pidfile, c.tasks[0].pid))) {
		kill_tasks(&c);
		pr_err("restore from %s failed; every task it created was killed\n", o->images_dir);
		free_ctx(&c);
		return 1;
	}
	for (size_t i = 0; i < c.nr_tasks; i++)
		if (!c.tasks[i].zombie)
			ret |= seize_release(&c.tasks[i].st, RELEASE_RESUME);
	/* running now, but not yet handed to the lazy restore's guardian (a crash here is its
	 * to see: "handover:kill"); a failure kills them before the guardian lets go */
	if (!ret)
		ret = fault_inject(o, "handover");
	if (ret) {
		kill_tasks(&c);
		if (early_pid)
			unlink(o->pidfile);
		pr_err("restore from %s failed after the tasks were resumed; every task it created "
		       "was killed\n",
		       o->images_dir);
	}
	restore_lazy_finish(&c, !ret);
	restore_inet_done(&c, !ret); /* and the dump's network lock lifted */
	restore_netns_done(&c, !ret);
	pid_t root = c.tasks[0].pid;

	/* the pidfile names a tree that runs: written once it does */
	if (!ret && o->pidfile && !early_pid)
		ret = write_pidfile(o->pidfile, root);

	stats_lap(&ph[RST_PH_RESUME], &t);
	if (!ret)
		ret = report_run(&c, stats_now() - t0, ph);
	free_ctx(&c);
	if (ret)
		return 1;
	return o->restore_detached ? 0 : wait_root(root);
}

int cmd_restore(const struct opts *o)
{
	return restore_run(o);
}
