/* restore-late: the fds that can only be made once the tree exists, from inside the task that
 * holds them (see restore.h): pidfds (restore-pidfd.c), nsfs files of the task's own
 * namespaces of a kind other than net (/proc/self/ns/KIND, opened in the task, so that it is
 * the restored task's namespace of that kind: its PID namespace in the tree's, its mount
 * namespace, ...), and /dev/tty of a task whose controlling terminal is a pty of the tree
 * (opened in the task, which has it as its terminal again: restore-tty.c), and files under
 * /proc/PID of a task of the tree or of a process that was gone at dump (restore-procpid.c).
 *
 * Contract: restore_late() says which entries are made late; restore-files gives them no
 * transfer fd, checks them with restore_late_check() while the transfer fds are prepared
 * (before any task exists), and installs fd i of task t with restore_late_install() when it
 * fills t's table. When a task restored before t (or an earlier fd of t) already holds that
 * open file description, t gets a copy of it (pidfd_getfd() through a pidfd of that task, or
 * dup3()), so that fds that shared a description share it again; otherwise it is made anew.
 * The fd lands at its number with its FD_CLOEXEC. A PIDFD_THREAD pidfd of one of t's own
 * threads other than the leader waits for that thread: restore_late_threads() installs every fd
 * of t on such a description once restore-core.c has made t's threads (the fds of an earlier
 * task's threads are made with the rest: that task is complete). 0 or -errno (logged).
 */
#define LOG_PREFIX "files: "

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include "criu-lite/kinds/anonfd.h"
#include "criu-lite/log.h"
#include "criu-lite/restore/restore-tree.h"
#include "criu-lite/restore/restore.h"

#define call restore_files_call

static const char *const own_kinds[] = { "mnt",
					 "uts",
					 "ipc",
					 "pid",
					 "pid_for_children",
					 "user",
					 "cgroup",
					 "time",
					 "time_for_children" };

static bool own_ns(const FileEntry *fe)
{
	return fe->type == FILE_TYPE__FT_NSFILE && fe->nsfile && fe->nsfile->own;
}

static bool dev_tty(const FileEntry *fe)
{
	return fe->type == FILE_TYPE__FT_PTY && fe->pty && fe->pty->has_dev_tty && fe->pty->dev_tty;
}

static bool proc_pid(const FileEntry *fe)
{
	return fe->type == FILE_TYPE__FT_REG && fe->reg && fe->reg->has_proc_pid;
}

bool restore_late(const FileEntry *fe)
{
	return fe && (fe->type == FILE_TYPE__FT_PIDFD || own_ns(fe) || dev_tty(fe) || proc_pid(fe));
}

int restore_late_check(struct restore_ctx *c, const FileEntry *fe)
{
	if (fe->type == FILE_TYPE__FT_PIDFD)
		return restore_pidfd_check(c, fe);
	if (dev_tty(fe)) /* its pty is made from the pair's own entries */
		return 0;
	if (proc_pid(fe)) {
		if (strncmp(fe->reg->path, "/proc/", 6) || !fe->reg->proc_pid ||
		    fe->reg->proc_pid > INT32_MAX) {
			pr_err("files.img: file %u: %s of pid %u is no file under /proc/PID\n",
			       fe->id, fe->reg->path, fe->reg->proc_pid);
			return -EBADMSG;
		}
		if (!fe->reg->proc_gone && !restore_task_by_vpid(c, (pid_t)fe->reg->proc_pid)) {
			pr_err("files.img: file %u: %s of pid %u, which is no task of the dump\n",
			       fe->id, fe->reg->path, fe->reg->proc_pid);
			return -EBADMSG;
		}
		return 0;
	}
	for (size_t i = 0; i < sizeof(own_kinds) / sizeof(own_kinds[0]); i++)
		if (!strcmp(fe->nsfile->own, own_kinds[i]))
			return 0;
	pr_err("files.img: file %u: an fd on its task's own \"%s\" namespace: no such kind\n",
	       fe->id, fe->nsfile->own);
	return -EBADMSG;
}

/* /proc/self/ns/KIND opened in t: its fd number there, or -errno. */
long restore_late_open(struct restore_task *t, const char *path, int flags, const char *what)
{
	size_t len = strlen(path) + 1;
	int ret;

	if (len > t->sk.scratch_len) {
		pr_err("pid %d: %s: the path %s is too long\n", t->vpid, what, path);
		return -ENAMETOOLONG;
	}
	ret = rsys_write(&t->rs, t->sk.scratch, path, len);
	if (ret)
		return ret;
	return call(t, what, SYS_open, (long)t->sk.scratch, flags | O_CLOEXEC, 0);
}

static long own_nsfile(struct restore_task *t, const FileEntry *fe)
{
	char path[48], what[80];

	snprintf(path, sizeof(path), "/proc/self/ns/%s", fe->nsfile->own);
	snprintf(what, sizeof(what), "opening its %s namespace (file %u)", fe->nsfile->own, fe->id);
	return restore_late_open(t, path, O_RDONLY, what);
}

/* /dev/tty opened in t, whose controlling terminal the restore gave it: its fd number there. */
static long open_dev_tty(struct restore_task *t, const FileEntry *fe)
{
	char what[64];

	snprintf(what, sizeof(what), "opening /dev/tty (file %u, pty %u)", fe->id, fe->pty->index);
	return restore_late_open(t, "/dev/tty", (int)(fe->pty->flags & (O_ACCMODE | O_NONBLOCK)),
				 what);
}

int restore_fd_holder(struct restore_ctx *c, struct restore_task *t, size_t i, uint32_t id,
		      struct restore_task **task)
{
	for (size_t k = 0; k < i; k++)
		if (t->fdinfo[k]->id == id) {
			*task = t;
			return t->fds[k].fd;
		}
	for (size_t j = 0; j < c->nr_tasks && &c->tasks[j] != t; j++) {
		struct restore_task *o = &c->tasks[j];

		for (size_t k = 0; !o->zombie && k < o->nr_fds; k++)
			if (o->fdinfo[k]->id == id && !(o->pstree && o->pstree->files_shared)) {
				*task = o;
				return o->fds[k].fd;
			}
	}
	return -1;
}

bool restore_late_after_threads(const struct restore_task *t, const FileEntry *fe)
{
	return fe && fe->type == FILE_TYPE__FT_PIDFD && fe->pidfd && fe->pidfd->has_tid &&
	       fe->pidfd->pid == (uint32_t)t->vpid;
}

int restore_late_threads(struct restore_ctx *c, struct restore_task *t)
{
	for (size_t i = 0; i < t->nr_fds; i++) {
		int ret;

		if (!restore_late_after_threads(t, restore_file(c, t->fdinfo[i]->id)))
			continue;
		ret = restore_late_install(c, t, i);
		if (ret)
			return ret;
	}
	return 0;
}

int restore_late_install(struct restore_ctx *c, struct restore_task *t, size_t i)
{
	const FdinfoEntry *e = t->fdinfo[i];
	const FileEntry *fe = restore_file(c, e->id);
	const struct restore_fd *f = &t->fds[i];
	struct restore_task *o = NULL;
	char what[96];
	long n, p;
	int at;

	if (!restore_late(fe)) {
		pr_err("files.img: file %u is not made late (internal error)\n", e->id);
		return -EINVAL;
	}
	at = restore_fd_holder(c, t, i, e->id, &o);
	if (at >= 0 && o == t) {
		n = at; /* an earlier fd of its own: dup3 below */
	} else if (at >= 0) {
		snprintf(what, sizeof(what), "a pidfd of pid %d, to copy its fd %d", o->vpid, at);
		p = call(t, what, SYS_pidfd_open, o->vpid, 0, 0);
		if (p < 0)
			return (int)p;
		snprintf(what, sizeof(what), "copying fd %d of pid %d (file %u)", at, o->vpid,
			 e->id);
		n = call(t, what, SYS_pidfd_getfd, p, at, 0);
		call(t, "closing the pidfd it copied through", SYS_close, p, 0, 0);
	} else {
		n = fe->type == FILE_TYPE__FT_PIDFD ? restore_pidfd_make(c, t, fe)
		    : dev_tty(fe)		    ? open_dev_tty(t, fe)
		    : proc_pid(fe)		    ? restore_procpid_make(c, t, fe)
						    : own_nsfile(t, fe);
	}
	if (n < 0)
		return (int)n;
	if (n != f->fd) {
		snprintf(what, sizeof(what), "installing fd %d (file %u)", f->fd, e->id);
		p = call(t, what, SYS_dup3, n, f->fd, f->cloexec ? O_CLOEXEC : 0);
		if (p >= 0 && (o != t || at < 0))
			call(t, "closing the file's first fd", SYS_close, n, 0, 0);
		if (p < 0)
			return (int)p;
	} else if (!f->cloexec) {
		p = call(t, "clearing FD_CLOEXEC", SYS_fcntl, n, F_SETFD, 0);
		if (p < 0)
			return (int)p;
	}
	pr_debug("pid %d: fd %d: file %u made in the task\n", t->vpid, f->fd, e->id);
	return 0;
}
