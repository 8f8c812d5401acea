/* restore-files: a task's fd table, cwd, root and umask.
 *
 * restore_files_prepare() runs in the restorer before the skeleton exists:
 * it opens each file of the task's fdinfo once (restore-files.h), moves it to
 * a transfer fd (>= xfer_base, inherited by the skeleton at clone) and fills
 * t->fds; fds that shared an open file description, in this task or with a
 * task prepared before it, share one transfer fd, so they share it again.
 * The cwd and root directories become transfer fds too.
 * restore_files() then runs inside the skeleton through rsys: it closes every
 * inherited fd below xfer_base, dup3()s each transfer fd to its number (with
 * O_CLOEXEC where the dumped fd had FD_CLOEXEC), changes root and cwd, sets
 * the umask and closes every transfer fd (restore-mm has used its own by
 * then). Pipes and FIFOs come from restore-pipes.c (pipes.h), which keeps
 * each pipe's own ends until the last task's fds are prepared. Terminals
 * (--shell-job) are the restorer's own fds 0-2 (see restore-files-open.c);
 * the controlling terminal comes with the session the skeleton inherits from
 * the restorer. A pidfd, or an fd on a task's own namespace, has no transfer
 * fd (-1): it is made from inside the task when its table is filled
 * (restore-late.c).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LOG_PREFIX "files: "
#include "criu-lite/kinds/anonfd.h"
#include "criu-lite/log.h"
#include "criu-lite/kinds/pipes.h"
#include "criu-lite/restore/restore-files.h"
#include "criu-lite/kinds/sk-unix.h"

/* The fdinfo records must be usable: known ids, distinct fds below xfer_base. */
/* A task with its parent's fd table (CLONE_FILES) must list the very same fds. */
static int check_shared_table(const struct restore_task *t)
{
	const struct restore_task *p = t->parent;
	bool same = p && !p->zombie && p->nr_fdinfo == t->nr_fdinfo;

	for (size_t i = 0; same && i < t->nr_fdinfo; i++)
		same = t->fdinfo[i]->fd == p->fdinfo[i]->fd &&
		       t->fdinfo[i]->id == p->fdinfo[i]->id &&
		       t->fdinfo[i]->fd_flags == p->fdinfo[i]->fd_flags;
	if (!same)
		pr_err(
		    "fdinfo-%d.img: pid %d shares its parent's fd table (pstree.img), but the fds "
		    "differ from the parent's\n",
		    t->vpid, t->vpid);
	return same ? 0 : -EBADMSG;
}

static int check_fdinfo(struct restore_ctx *c, struct restore_task *t)
{
	if (!t->fs) {
		pr_err("pid %d: no fs image (cwd, root, umask)\n", t->pid);
		return -EBADMSG;
	}
	for (size_t i = 0; i < t->nr_fdinfo; i++) {
		const FdinfoEntry *e = t->fdinfo[i];

		if (!restore_file(c, e->id)) {
			pr_err("fdinfo-%d.img: fd %u refers to file %u, which files.img lacks\n",
			       t->pid, e->fd, e->id);
			return -EBADMSG;
		}
		if (e->fd >= (uint32_t)c->xfer_base) {
			pr_err("pid %d: fd %u is not below the transfer fds (from %d)\n", t->pid,
			       e->fd, c->xfer_base);
			return -EINVAL;
		}
		for (size_t k = 0; k < i; k++)
			if (t->fdinfo[k]->fd == e->fd) {
				pr_err("fdinfo-%d.img: fd %u appears twice\n", t->pid, e->fd);
				return -EBADMSG;
			}
	}
	return t->pstree && t->pstree->files_shared ? check_shared_table(t) : 0;
}

/* The lowest fd of the task on file id. */
static int first_fd_of(const struct restore_task *t, uint32_t id)
{
	int lo = -1;

	for (size_t i = 0; i < t->nr_fdinfo; i++)
		if (t->fdinfo[i]->id == id && (lo < 0 || (int)t->fdinfo[i]->fd < lo))
			lo = (int)t->fdinfo[i]->fd;
	return lo;
}

/* Tasks that shared an open file description (fork, SCM_RIGHTS) share it again, as every
 * skeleton inherits every transfer fd. */
int restore_xfer_of(const struct restore_ctx *c, const struct restore_task *t, uint32_t id)
{
	for (size_t j = 0; j < c->nr_tasks && &c->tasks[j] != t; j++)
		for (size_t k = 0; k < c->tasks[j].nr_fds; k++)
			if (c->tasks[j].fdinfo[k]->id == id && c->tasks[j].fds[k].xfer_fd >= 0)
				return c->tasks[j].fds[k].xfer_fd;
	return -1;
}

/* No task after t gets its files prepared (zombies after it have none). */
static bool last_live(const struct restore_ctx *c, const struct restore_task *t)
{
	for (const struct restore_task *n = t + 1; n < c->tasks + c->nr_tasks; n++)
		if (!n->zombie)
			return false;
	return true;
}

static int open_fds(struct restore_ctx *c, struct restore_task *t)
{
	for (size_t i = 0; i < t->nr_fdinfo; i++) {
		const FdinfoEntry *e = t->fdinfo[i];
		const FileEntry *fe = restore_file(c, e->id);
		struct restore_fd *f = &t->fds[i];
		int fd = restore_fown_check(c, fe); /* the owner record, before anything */

		if (fd)
			return fd;
		fd = -1;
		f->fd = (int)e->fd;
		f->cloexec = e->fd_flags & FD_CLOEXEC;
		if (restore_late(fe)) {
			int ret = restore_late_check(c, fe);

			if (ret)
				return ret;
			f->xfer_fd = -1; /* made once the tasks exist (restore-late.c) */
			t->nr_fds = i + 1;
			continue;
		}
		for (size_t k = 0; k < i && fd < 0; k++)
			if (t->fdinfo[k]->id == e->id)
				fd = t->fds[k].xfer_fd;
		if (fd < 0)
			fd = restore_xfer_of(c, t, e->id);
		if (fd <
		    0) { /* one a unix socket's queue has in flight already (restore-inflight.c) */
			fd = restore_inflight_take(c, e->id);
			if (fd >= 0)
				fd = restore_xfer_fd(c, fd);
			else if (fd != -ENOENT)
				return fd;
			else
				fd = -1;
		}
		if (fd < 0) {
			fd = restore_open_entry(c, restore_file(c, e->id), first_fd_of(t, e->id));
			if (fd >= 0)
				fd = restore_xfer_fd(c, fd);
		}
		if (fd < 0)
			return fd;
		f->xfer_fd = fd;
		t->nr_fds = i + 1;
		pr_debug("pid %d: fd %d <- file %u, transfer fd %d%s\n", t->pid, f->fd, e->id, fd,
			 f->cloexec ? ", cloexec" : "");
	}
	return 0;
}

static int open_dir(struct restore_ctx *c, pid_t pid, const char *what, const char *path)
{
	int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		fd = -errno;
		pr_perror("pid %d: can't open its %s %s", pid, what, path);
		return fd;
	}
	return restore_xfer_fd(c, fd);
}

/* Close what prepare opened (each transfer fd once) and forget it. */
static void close_prepared(struct restore_task *t)
{
	for (size_t i = 0; i < t->nr_fds; i++) {
		bool seen = false;

		for (size_t k = 0; k < i; k++)
			seen |= t->fds[k].xfer_fd == t->fds[i].xfer_fd;
		if (!seen && t->fds[i].xfer_fd >= 0)
			close(t->fds[i].xfer_fd);
	}
	free(t->fds);
	t->fds = NULL;
	t->nr_fds = 0;
	if (t->cwd_fd >= 0)
		close(t->cwd_fd);
	if (t->root_fd >= 0)
		close(t->root_fd);
	t->cwd_fd = t->root_fd = -1;
}

int restore_files_prepare(struct restore_ctx *c, struct restore_task *t)
{
	int ret = check_fdinfo(c, t);

	if (ret)
		return ret;
	t->cwd_fd = t->root_fd = -1;
	t->nr_fds = 0;
	t->fds = calloc(t->nr_fdinfo + 1, sizeof(*t->fds));
	if (!t->fds) {
		pr_err("out of memory for %zu fds\n", t->nr_fdinfo);
		return -ENOMEM;
	}
	ret = open_fds(c, t);
	/* and the pipes: the table's own ends go once the last task has its fds */
	if (ret || last_live(c, t))
		restore_pipes_done(c);
	if (ret || last_live(c, t)) /* and the unix sockets' table (sk-unix.h) */
		restore_unix_done(c);
	if (ret || last_live(c, t)) /* and the files in flight in their queues */
		restore_inflight_done(c);
	if (!ret) { /* a cwd deleted at dump: its ghost directory (restore-files-open.c) */
		ret = t->fs->has_cwd_file ? restore_open_file(c, t->fs->cwd_file)
					  : open_dir(c, t->pid, "cwd", t->fs->cwd);
		if (ret >= 0 && t->fs->has_cwd_file)
			ret = restore_xfer_fd(c, ret);
		t->cwd_fd = ret < 0 ? -1 : ret;
	}
	if (ret >= 0) {
		ret = open_dir(c, t->pid, "root", t->fs->root);
		t->root_fd = ret < 0 ? -1 : ret;
	}
	if (ret < 0) {
		close_prepared(t);
		return ret;
	}
	pr_info("pid %d: %zu fds prepared\n", t->pid, t->nr_fds);
	return 0;
}

long restore_files_call(struct restore_task *t, const char *what, long nr, long a1, long a2,
			long a3)
{
	long r = rsys_call_quiet(&t->rs, nr, a1, a2, a3, 0, 0, 0);

	if (r < 0)
		pr_err("pid %d: %s: remote %s failed: %s (errno %ld)\n", t->pid, what,
		       rsys_name(nr) ? rsys_name(nr) : "syscall", strerror((int)-r), -r);
	return r;
}

#define call restore_files_call

static int install_fds(struct restore_ctx *c, struct restore_task *t)
{
	char what[64];

	for (size_t i = 0; i < t->nr_fds; i++) {
		const struct restore_fd *f = &t->fds[i];
		long r;

		if (f->xfer_fd < 0) { /* made in the task (restore-late.c) */
			int ret = restore_late_after_threads(t, restore_file(c, t->fdinfo[i]->id))
				      ? 0 /* once its threads exist */
				      : restore_late_install(c, t, i);

			if (ret)
				return ret;
			continue;
		}
		snprintf(what, sizeof(what), "installing fd %d from transfer fd %d", f->fd,
			 f->xfer_fd);
		r = call(t, what, SYS_dup3, f->xfer_fd, f->fd, f->cloexec ? O_CLOEXEC : 0);
		if (r < 0)
			return (int)r;
		if (r != f->fd) {
			pr_err("pid %d: %s: dup3 returned %ld\n", t->pid, what, r);
			return -EIO;
		}
	}
	return 0;
}

static int set_fs(struct restore_task *t)
{
	static const char dot[] = ".";
	long r;

	if (strcmp(t->fs->root, "/") != 0) {
		r = rsys_write(&t->rs, t->sk.scratch, dot, sizeof(dot));
		if (r) {
			pr_err("pid %d: can't write to its scratch page at %#llx\n", t->pid,
			       (unsigned long long)t->sk.scratch);
			return (int)r;
		}
		if ((r = call(t, "entering the root", SYS_fchdir, t->root_fd, 0, 0)) < 0 ||
		    (r = call(t, "changing the root", SYS_chroot, (long)t->sk.scratch, 0, 0)) < 0)
			return (int)r;
	}
	r = call(t, "entering the cwd", SYS_fchdir, t->cwd_fd, 0, 0);
	if (r < 0)
		return (int)r;
	r = call(t, "setting the umask", SYS_umask, t->fs->umask, 0, 0);
	return r < 0 ? (int)r : 0;
}

int restore_files(struct restore_ctx *c, struct restore_task *t)
{
	long r;
	int ret;

	if (t->cwd_fd < 0 || t->root_fd < 0) {
		pr_err("pid %d: its files were not prepared\n", t->pid);
		return -EINVAL;
	}
	if (!t->pstree || !t->pstree->files_shared) {
		r = call(t, "closing inherited fds", SYS_close_range, 0, c->xfer_base - 1, 0);
		if (r < 0)
			return (int)r;
		ret = install_fds(c, t);
		if (!ret) /* timers armed, epoll watches added: they need the fds in place */
			ret = restore_anonfd_task(c, t);
	} else {
		ret = 0; /* the parent's table: its restore put every fd in */
	}
	if (!ret)
		ret = set_fs(t);
	if (ret)
		return ret;
	/* a child that shares this table still needs its cwd and root transfer fds: the last
	 * task of the table (restored after its parent) closes them */
	for (size_t i = 0; i < c->nr_tasks; i++)
		if (c->tasks[i].parent == t && c->tasks[i].pstree &&
		    c->tasks[i].pstree->files_shared && !c->tasks[i].zombie)
			return 0;
	r = call(t, "closing transfer fds", SYS_close_range, c->xfer_base, (long)~0U, 0);
	if (r < 0)
		return (int)r;
	pr_info("pid %d: %zu fds, cwd %s, root %s, umask %04o\n", t->pid, t->nr_fds, t->fs->cwd,
		t->fs->root, t->fs->umask);
	return 0;
}
