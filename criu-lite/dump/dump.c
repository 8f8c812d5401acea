/* dump: the order of a dump and what happens when a step fails (see dump.h). */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_PREFIX "dump: "
#include "criu-lite/dump/dump-tree.h"
#include "criu-lite/dump/dump.h"
#include "criu-lite/fault.h"
#include "criu-lite/log.h"

/* Names of the files in the image dir before the dump, so that a failed dump
 * removes exactly what it created. */
struct dir_snapshot {
	char **names;
	size_t n;
};

static int snapshot_dir(const char *path, struct dir_snapshot *s)
{
	DIR *d = opendir(path);
	struct dirent *de;

	s->names = NULL;
	s->n = 0;
	if (!d) {
		pr_perror("can't open image directory %s", path);
		return -errno;
	}
	while ((de = readdir(d))) {
		char **nn = realloc(s->names, (s->n + 1) * sizeof(*nn));

		if (!nn || !(nn[s->n] = strdup(de->d_name))) {
			s->names = nn ? nn : s->names;
			closedir(d);
			pr_err("out of memory\n");
			return -ENOMEM;
		}
		s->names = nn;
		s->n++;
	}
	closedir(d);
	return 0;
}

static bool in_snapshot(const struct dir_snapshot *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->names[i], name) == 0)
			return true;
	return false;
}

static void remove_new_images(const char *path, const struct dir_snapshot *s)
{
	DIR *d = opendir(path);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);

		if (l < 5 || in_snapshot(s, de->d_name))
			continue;
		if (strcmp(de->d_name + l - 4, ".img") && strcmp(de->d_name + l - 4, ".tmp"))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0))
			pr_perror("can't remove %s/%s", path, de->d_name);
	}
	closedir(d);
}

static void snapshot_free(struct dir_snapshot *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->names[i]);
	free(s->names);
}

static int collect_proc(struct dump_ctx *c)
{
	int ret = proc_parse_stat(c->pid, &c->stat);

	if (!ret)
		ret = proc_parse_status(c->pid, &c->status);
	if (!ret && !c->zombie)
		ret = proc_parse_vmas(c->pid, &c->vmas);
	return ret;
}

/* Every step for one live task. */
static int dump_one(struct dump_ctx *c)
{
	const struct opts *o = c->sh->o;
	int ret;

	if (c->zombie)
		return 0;
	ret = rsys_open(c->pid, &c->rs);
	if (ret)
		return ret;
	c->rs_open = true;
	if ((ret = fault_inject(o, "core")) || (ret = dump_core(c)))
		return ret;
	if ((ret = fault_inject(o, "files")) || (ret = dump_files(c)))
		return ret;
	if ((ret = fault_inject(o, "mm")) || (ret = dump_mm(c)))
		return ret;
	return 0;
}

/* The steps, in order; each is a fault-injection site of the same name. */
static int run_steps(struct dump_shared *sh, struct dump_tree_list *tl)
{
	int ret;

	if ((ret = fault_inject(sh->o, "seize")) || (ret = dump_tree_seize(sh, tl)))
		return ret;
	if ((ret = fault_inject(sh->o, "proc")))
		return ret;
	for (size_t i = 0; i < tl->n; i++)
		if ((ret = collect_proc(&tl->t[i])))
			return ret;
	if ((ret = dump_tree_ids(sh, tl)))
		return ret;
	for (size_t i = 0; i < tl->n; i++)
		if ((ret = dump_one(&tl->t[i])))
			return ret;
	if ((ret = fault_inject(sh->o, "tree")) || (ret = dump_tree(sh, tl->t, tl->n)))
		return ret;
	if ((ret = fault_inject(sh->o, "write")) || (ret = dump_files_commit(&tl->t[0])) ||
	    (ret = dump_shmem_commit(&tl->t[0])))
		return ret;
	/* rsys_close() puts back registers, mask and scratch: a must before release */
	for (size_t i = 0; i < tl->n; i++) {
		if (!tl->t[i].rs_open)
			continue;
		tl->t[i].rs_open = false;
		if ((ret = rsys_close(&tl->t[i].rs)))
			return ret;
	}
	return fault_inject(sh->o, "release");
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

int dump_run(const struct opts *o)
{
	struct dump_shared sh = {
		.o = o, .next_file_id = 1, .next_ghost_id = 1, .next_shmem_id = 1
	};
	struct dump_tree_list tl = { 0 };
	struct dir_snapshot snap;
	struct img_err err = { 0 };
	struct timespec t0, t1;
	int ret;

	if (!o->tree) {
		pr_err("dump needs -t PID\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (img_dir_open(o->images_dir, true, &sh.dir, &err)) {
		pr_err("%s\n", err.msg);
		return 1;
	}
	if (snapshot_dir(o->images_dir, &snap)) {
		img_dir_close(sh.dir);
		return 1;
	}
	sh.bufs = page_bufs_new(); /* NULL is fine: each writer then has its own */
	ret = kerndat_probe(&sh.kd, KD_PROBE_PROC | KD_PROBE_MEM | KD_PROBE_VDSO);
	if (!ret && !kerndat_core_ok(&sh.kd)) {
		pr_err("the kernel lacks features criu-lite needs: see `criu-lite check`\n");
		ret = -ENOTSUP;
	}
	if (!ret)
		ret = run_steps(&sh, &tl);
	if (ret) {
		release_all(&tl, RELEASE_RESUME);
		remove_new_images(o->images_dir, &snap);
		pr_err("dump of pid %d failed; %s left running as %s\n", o->tree,
		       tl.n > 1 ? "every task was" : "the task was",
		       tl.n > 1 ? "they were" : "it was");
	} else {
		ret = release_all(&tl, o->leave_running ? RELEASE_RESUME : RELEASE_KILL);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		pr_info("dumped %zu task(s) of pid %d: %llu pages written, %llu zero, in %.3f s\n",
			tl.n, o->tree, (unsigned long long)sh.pages_dumped,
			(unsigned long long)sh.pages_zero,
			(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	}
	snapshot_free(&snap);
	free_tasks(&tl);
	page_bufs_free(sh.bufs);
	img_dir_close(sh.dir);
	return ret ? 1 : 0;
}

int cmd_dump(const struct opts *o)
{
	return dump_run(o);
}
