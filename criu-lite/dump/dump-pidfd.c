/* dump-pidfd: a pidfd of a task (pidfd_open(), CLONE_PIDFD) into a pidfd_entry (anonfd.proto;
 * restore-pidfd.c makes it again; docs/fds.md).
 *
 * Contract: dump_pidfd() reads which process the pidfd refers to from its fdinfo ("Pid:", in
 * criu-lite's PID namespace; -1 once that process was reaped) and its status flags
 * (O_NONBLOCK: PIDFD_NONBLOCK; O_EXCL: PIDFD_THREAD). A pidfd of a task of the dump (live or a
 * zombie) keeps that task's pid in the tree's namespace; a PIDFD_THREAD pidfd of another thread
 * than the leader also its tid (restore makes it once the thread exists: the thread's own task
 * is restored first, or is the task that holds it). A pidfd of a reaped process keeps its
 * wait status where the kernel tells it (PIDFD_GET_INFO with PIDFD_INFO_EXIT, 6.15+), read
 * through a copy of the fd. Nothing is changed in the task.
 * Refused, naming the fd and the process: a pidfd of a process outside the dumped tree (it
 * can't be made to refer to it after a restore elsewhere), a PIDFD_THREAD pidfd of a thread of
 * a task restored after the one that holds it (the thread would not exist yet), a reaped
 * process whose status says it dumped core (a status no process can be made to end with
 * without writing a core dump).
 */
#define LOG_PREFIX "anonfd: "

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "criu-lite/dump/dump.h"
#include "criu-lite/kcompat.h"
#include "criu-lite/kinds/anonfd.h"
#include "criu-lite/log.h"
#include "criu-lite/proc/proc.h"
#include "criu-lite/taskfd.h"

#define PIDFD_FLAGS (O_ACCMODE | O_NONBLOCK | O_EXCL)

/* The wait status of the reaped process f's pidfd refers to: 1 with *status, 0 when the
 * kernel does not tell it, or -errno. */
static int reaped_status(pid_t pid, const struct dump_anonfd_fd *f, int32_t *status)
{
	struct kc_pidfd_info info = { .mask = KC_PIDFD_INFO_EXIT };
	int fd = taskfd_copy(pid, f->fd), ret;

	if (fd < 0) {
		errno = -fd;
		pr_perror("%s: can't copy its pidfd", f->what);
		return fd;
	}
	ret = ioctl(fd, KC_PIDFD_GET_INFO, &info);
	if (ret && (errno == ENOTTY || errno == EINVAL)) {
		ret = 0; /* a kernel before 6.13 */
	} else if (ret) {
		ret = -errno;
		pr_perror("%s: PIDFD_GET_INFO on its pidfd failed", f->what);
	} else {
		ret = !!(info.mask & KC_PIDFD_INFO_EXIT);
		*status = info.exit_code;
	}
	close(fd);
	return ret;
}

int dump_pidfd(struct dump_ctx *c, const struct dump_anonfd_fd *f, PidfdEntry *e)
{
	const char *v = proc_fdinfo_value(f->fi, "Pid", 0);
	const struct dump_ctx *t = NULL;
	pid_t vpid = 0, vtid;
	char *end;
	long pid;
	int ret;

	pidfd_entry__init(e);
	e->flags = f->flags & PIDFD_FLAGS;
	if (f->flags & ~(uint32_t)(PIDFD_FLAGS | O_LARGEFILE)) {
		pr_err("%s: a pidfd with status flags %#x: not supported\n", f->what, f->flags);
		return -ENOTSUP;
	}
	errno = 0;
	pid = v ? strtol(v, &end, 10) : 0;
	if (!v || errno || *end || pid < -1) {
		pr_err("%s: its fdinfo shows no process for the pidfd (Pid: %s)\n", f->what,
		       v ? v : "none");
		return -EINVAL;
	}
	if (pid == -1) {
		ret = reaped_status(c->pid, f, &e->exit_code);
		if (ret < 0)
			return ret;
		e->has_exit_code = ret;
		if (ret && WIFSIGNALED(e->exit_code) && WCOREDUMP(e->exit_code)) {
			pr_err("%s: a pidfd of a process that died of signal %d with a core dump: "
			       "that status can't be made again\n",
			       f->what, WTERMSIG(e->exit_code));
			return -ENOTSUP;
		}
		pr_info("%s: a pidfd of a reaped process (wait status %s%#x)\n", f->what,
			ret ? "" : "unknown, ", ret ? e->exit_code : 0);
		return 0;
	}
	vpid = dump_tree_vid(c->sh, F_OWNER_PID, (pid_t)pid, &t);
	if (!vpid && (vtid = dump_tree_vid(c->sh, F_OWNER_TID, (pid_t)pid, &t))) {
		/* restore makes a task's fds before its threads, and the tasks in this order */
		if (c >= c->sh->tasks && c < c->sh->tasks + c->sh->nr_tasks && t > c) {
			pr_err(
			    "%s: a PIDFD_THREAD pidfd of thread %ld of pid %d, which is restored "
			    "later than pid %d that holds it: not supported\n",
			    f->what, pid, t->st.pid, c->pid);
			return -ENOTSUP;
		}
		e->has_pid = e->has_tid = true;
		e->pid = (uint32_t)t->vpid;
		e->tid = (uint32_t)vtid;
		pr_info("%s: a pidfd of thread %ld of pid %d (%d of %d in the tree)\n", f->what,
			pid, t->st.pid, vtid, t->vpid);
		return 0;
	}
	if (!vpid) {
		char state, comm[64] = "?";
		pid_t pp;

		if (pid)
			proc_task_brief((pid_t)pid, &state, &pp, comm, sizeof(comm));
		pr_err("%s: a pidfd of pid %ld (%s), which is outside the dumped tree: not "
		       "supported\n",
		       f->what, pid, pid ? comm : "in an outer PID namespace");
		return -ENOTSUP;
	}
	e->has_pid = true;
	e->pid = (uint32_t)vpid;
	pr_info("%s: a pidfd of pid %d (%d in the tree)\n", f->what, (int)pid, vpid);
	return 0;
}
