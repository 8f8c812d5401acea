/* dump-fown: the owner of an open file description and its I/O signal (fown_entry).
 *
 * Contract: dump_fown() reads, through a copy of the task's fd (pidfd_getfd: the owner is the
 * description's), F_GETOWN_EX and F_GETSIG, for a description in O_ASYNC mode or a socket (a
 * socket's owner gets SIGURG without O_ASYNC too), and names the owner in the tree's PID
 * namespace: a thread (F_OWNER_TID), a process (F_OWNER_PID) or a process group
 * (F_OWNER_PGRP) of the tree. *out stays NULL when there is nothing to keep (no owner, no
 * signal, no O_ASYNC). Refused, naming the fd: an owner outside the tree. Nothing is changed.
 */
#define LOG_PREFIX "files: "

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "criu-lite/dump/dump.h"
#include "criu-lite/log.h"
#include "criu-lite/taskfd.h"

int dump_fown(struct dump_ctx *c, int fd, uint32_t flags, bool sock, const char *what,
	      FownEntry **out)
{
	struct f_owner_ex o = { 0 };
	int cp, sig = 0, ret = 0;
	pid_t v = 0;

	*out = NULL;
	if (!(flags & O_ASYNC) && !sock)
		return 0;
	cp = taskfd_copy(c->pid, fd);
	if (cp < 0 || fcntl(cp, F_GETOWN_EX, &o) || (sig = fcntl(cp, F_GETSIG)) < 0) {
		ret = cp < 0 ? cp : -errno;
		errno = -ret;
		pr_perror("%s: can't read its owner (F_GETOWN_EX, F_GETSIG)", what);
		goto out;
	}
	if (o.pid > 0 && !(v = dump_tree_vid(c->sh, o.type, o.pid, NULL))) {
		pr_err(
		    "%s: its owner (F_SETOWN: %s %d) is outside the dumped tree: not supported\n",
		    what,
		    o.type == F_OWNER_TID    ? "thread"
		    : o.type == F_OWNER_PGRP ? "process group"
					     : "process",
		    o.pid);
		ret = -ENOTSUP;
		goto out;
	}
	if (!v && !sig && !(flags & O_ASYNC))
		goto out;
	*out = malloc(sizeof(**out));
	if (!*out) {
		ret = -ENOMEM;
		goto out;
	}
	fown_entry__init(*out);
	(*out)->type = (uint32_t)o.type;
	(*out)->pid = (uint32_t)v;
	(*out)->signum = (uint32_t)sig;
	(*out)->async = (flags & O_ASYNC) != 0;
	pr_debug("%s: owner %d (type %d), signal %d%s\n", what, v, o.type, sig,
		 (flags & O_ASYNC) ? ", O_ASYNC" : "");
out:
	if (cp >= 0)
		close(cp);
	return ret;
}
