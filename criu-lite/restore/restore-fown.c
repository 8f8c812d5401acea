/* restore-fown: the owner and I/O signal of an open file description (fown_entry;
 * dump-fown.c).
 *
 * Contract: restore_fown_check() refuses, while the transfer fds are prepared (before any task
 * exists), an owner record that can't be right: an unknown owner type, or a pid that is no
 * task, thread or process group of the dump. restore_fown() runs in task t once its
 * credentials are restored (the kernel keeps the uid and euid of whoever sets the owner, and
 * checks them when it sends the signal): for each description whose first holder in the tree
 * is t, through rsys, F_SETOWN_EX with the owner in the tree's namespace, F_SETSIG, and for one
 * in O_ASYNC mode F_SETFL with O_ASYNC (which arms it: open() would not).
 */
#define LOG_PREFIX "files: "

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>

#include "criu-lite/log.h"
#include "criu-lite/restore/restore-tree.h"
#include "criu-lite/restore/restore.h"

#define call restore_files_call

static bool names_thread(struct restore_ctx *c, uint32_t tid)
{
	for (size_t i = 0; i < c->nr_tasks; i++)
		for (size_t k = 0; c->tasks[i].pstree && k < c->tasks[i].pstree->n_threads; k++)
			if (c->tasks[i].pstree->threads[k] == tid)
				return true;
	return false;
}

static bool names_group(struct restore_ctx *c, uint32_t pgid)
{
	for (size_t i = 0; i < c->nr_tasks; i++)
		if (c->tasks[i].pstree && c->tasks[i].pstree->pgid == pgid)
			return true;
	return false;
}

int restore_fown_check(struct restore_ctx *c, const FileEntry *fe)
{
	const FownEntry *o = fe ? fe->fown : NULL;
	bool ok;

	if (!o || !o->pid)
		return 0;
	ok = o->type == F_OWNER_TID    ? names_thread(c, o->pid)
	     : o->type == F_OWNER_PID  ? restore_task_by_vpid(c, (pid_t)o->pid) != NULL
	     : o->type == F_OWNER_PGRP ? names_group(c, o->pid)
				       : false;
	if (!ok || o->signum > 64) {
		pr_err("files.img: file %u: its owner (type %u, pid %u, signal %u) is no thread, "
		       "process or group of the dump\n",
		       fe->id, o->type, o->pid, o->signum);
		return -EBADMSG;
	}
	return 0;
}

static int set_owner(struct restore_task *t, int fd, const FownEntry *o)
{
	struct f_owner_ex ex = { .type = (int)o->type, .pid = (pid_t)o->pid };
	char what[64];
	long r = 0, fl;

	snprintf(what, sizeof(what), "setting the owner of fd %d", fd);
	if (o->pid) {
		r = rsys_write(&t->rs, t->sk.scratch, &ex, sizeof(ex));
		if (!r)
			r = call(t, what, SYS_fcntl, fd, F_SETOWN_EX, (long)t->sk.scratch);
	}
	if (r >= 0 && o->signum)
		r = call(t, what, SYS_fcntl, fd, F_SETSIG, o->signum);
	if (r >= 0 && o->async) {
		fl = call(t, what, SYS_fcntl, fd, F_GETFL, 0);
		r = fl < 0 ? fl : call(t, what, SYS_fcntl, fd, F_SETFL, fl | O_ASYNC);
	}
	return r < 0 ? (int)r : 0;
}

int restore_fown(struct restore_ctx *c, struct restore_task *t)
{
	if (t->pstree && t->pstree->files_shared)
		return 0; /* its parent's table: set there */
	for (size_t i = 0; i < t->nr_fds && i < t->nr_fdinfo; i++) {
		const FileEntry *fe = restore_file(c, t->fdinfo[i]->id);
		struct restore_task *o;
		int ret;

		/* once per description: by the first task of the tree that holds it */
		if (!fe || !fe->fown || restore_fd_holder(c, t, i, fe->id, &o) >= 0)
			continue;
		ret = set_owner(t, t->fds[i].fd, fe->fown);
		if (ret)
			return ret;
	}
	return 0;
}
