/* dump: the order of a dump and what happens when a step fails (see dump.h). */
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_PREFIX "dump: "
#include "criu-lite/dump.h"
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
	if (!ret)
		ret = proc_parse_vmas(c->pid, &c->vmas);
	return ret;
}

static int check_task(struct dump_ctx *c)
{
	if (c->st.nr != 1) {
		pr_err("pid %d has %zu threads: multi-threaded tasks are not supported yet\n",
		       c->pid, c->st.nr);
		return -ENOTSUP;
	}
	if (c->stat.num_threads != 1) {
		pr_err("pid %d has %lld threads: not supported yet\n", c->pid,
		       (long long)c->stat.num_threads);
		return -ENOTSUP;
	}
	return 0;
}

/* The steps, in order; each is a fault-injection site of the same name. */
static int run_steps(struct dump_ctx *c)
{
	int ret;

	ret = fault_inject(c->o, "seize");
	if (!ret)
		ret = seize_task(c->pid, 0, &c->st);
	if (ret)
		return ret;
	if ((ret = fault_inject(c->o, "proc")) || (ret = collect_proc(c)) || (ret = check_task(c)))
		return ret;
	ret = rsys_open(c->pid, &c->rs);
	if (ret)
		return ret;
	c->rs_open = true;
	if ((ret = fault_inject(c->o, "core")) || (ret = dump_core(c)))
		return ret;
	if ((ret = fault_inject(c->o, "files")) || (ret = dump_files(c)))
		return ret;
	if ((ret = fault_inject(c->o, "mm")) || (ret = dump_mm(c)))
		return ret;
	if ((ret = fault_inject(c->o, "tree")) || (ret = dump_tree(c)))
		return ret;
	if ((ret = fault_inject(c->o, "write")) || (ret = dump_files_commit(c)) ||
	    (ret = dump_shmem_commit(c)))
		return ret;
	/* rsys_close() puts back registers, mask and scratch: a must before release */
	c->rs_open = false;
	ret = rsys_close(&c->rs);
	if (!ret)
		ret = fault_inject(c->o, "release");
	return ret;
}

static void dump_ctx_free(struct dump_ctx *c)
{
	dump_files_free(c);
	dump_shmem_free(c);
	vma_list_free(&c->vmas);
	proc_status_free(&c->status);
	img_dir_close(c->dir);
}

int dump_run(const struct opts *o)
{
	struct dump_ctx c = {
		.o = o, .pid = o->tree, .next_file_id = 1, .next_ghost_id = 1, .next_shmem_id = 1
	};
	struct dir_snapshot snap;
	struct img_err err = { 0 };
	struct timespec t0, t1;
	int ret;

	if (!o->tree) {
		pr_err("dump needs -t PID\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (img_dir_open(o->images_dir, true, &c.dir, &err)) {
		pr_err("%s\n", err.msg);
		return 1;
	}
	if (snapshot_dir(o->images_dir, &snap)) {
		img_dir_close(c.dir);
		return 1;
	}
	ret = kerndat_probe(&c.kd, KD_PROBE_PROC | KD_PROBE_MEM | KD_PROBE_VDSO);
	if (!ret && !kerndat_core_ok(&c.kd)) {
		pr_err("the kernel lacks features criu-lite needs: see `criu-lite check`\n");
		ret = -ENOTSUP;
	}
	if (!ret)
		ret = run_steps(&c);
	if (ret) {
		if (c.rs_open)
			rsys_close(&c.rs);
		seize_release(&c.st, RELEASE_RESUME);
		remove_new_images(o->images_dir, &snap);
		pr_err("dump of pid %d failed; the task was left running as it was\n", c.pid);
	} else {
		ret = seize_release(&c.st, o->leave_running ? RELEASE_RESUME : RELEASE_KILL);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		pr_info("dumped pid %d: %llu pages written, %llu zero, in %.3f s\n", c.pid,
			(unsigned long long)c.pages_dumped, (unsigned long long)c.pages_zero,
			(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	}
	snapshot_free(&snap);
	dump_ctx_free(&c);
	return ret ? 1 : 0;
}

int cmd_dump(const struct opts *o)
{
	return dump_run(o);
}
