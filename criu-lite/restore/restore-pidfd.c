/* restore-pidfd: pidfds (pidfd_entry, anonfd.proto; dump-pidfd.c; docs/fds.md).
 *
 * Contract: a pidfd can only be made once the tree exists (its target, or its PID namespace):
 * restore-late.c installs it from inside the task when its fd table is filled, and asks
 * restore_pidfd_make() for the first fd of each description (restore_pidfd_check() has checked
 * the entry while the transfer fds were prepared). For a task of the tree: pidfd_open() of its
 * pid in the tree's PID namespace (which every task of the tree is in), with the dumped
 * PIDFD_NONBLOCK / PIDFD_THREAD; the fd number in the task is returned. A PIDFD_THREAD pidfd
 * of another thread than the leader: pidfd_open() of that thread's tid, once it exists: the dump
 * saw to it that its task is restored before the holder or is the holder, whose fds of it
 * restore-late.c installs right after that task's threads are made (restore_late_after_threads()).
 * For a process that had been reaped: the restorer forks a helper into the tree's PID namespace
 * (restore-helper.c: setns to the root's, and back), the task opens a pidfd of it, then it ends
 * with the dumped wait status (its exit code, or the signal that killed it) and the restorer reaps
 * it. Like the dumped one, the pidfd then refers to nothing that runs: pidfd_send_signal() gets
 * ESRCH, poll() reports it ended, PIDFD_GET_INFO gives the same exit status (a pidfd of a process
 * outside the reader's PID namespace would answer none of these alike: hence the namespace).
 */
#define LOG_PREFIX "anonfd: "

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "criu-lite/kinds/anonfd.h"
#include "criu-lite/log.h"
#include "criu-lite/proc/proc.h"
#include "criu-lite/restore/restore-tree.h"
#include "criu-lite/restore/restore.h"

#define PIDFD_NONBLOCK_FLAG O_NONBLOCK
#define PIDFD_THREAD_FLAG   O_EXCL

int restore_pidfd_check(struct restore_ctx *c, const FileEntry *fe)
{
	struct restore_task *o = NULL;
	int32_t st;

	if (!fe || !fe->pidfd) {
		pr_err("files.img: pidfd file %u has no pidfd record\n", fe ? fe->id : 0);
		return -EBADMSG;
	}
	if (fe->pidfd->flags & ~(uint32_t)(O_ACCMODE | O_NONBLOCK | O_EXCL)) {
		pr_err("files.img: pidfd file %u has status flags %#x\n", fe->id, fe->pidfd->flags);
		return -EBADMSG;
	}
	if (fe->pidfd->has_pid && !(o = restore_task_by_vpid(c, (pid_t)fe->pidfd->pid))) {
		pr_err("files.img: pidfd file %u refers to pid %u, which is no task of the dump\n",
		       fe->id, fe->pidfd->pid);
		return -EBADMSG;
	}
	if (fe->pidfd->has_tid) {
		bool found = false;

		for (size_t i = 1; o && o->core && i < o->core->n_threads; i++)
			found |= o->core->threads[i]->tid == fe->pidfd->tid;
		if (!fe->pidfd->has_pid || !(fe->pidfd->flags & O_EXCL) || (o->core && !found)) {
			pr_err(
			    "files.img: pidfd file %u refers to thread %u of pid %u, which is no "
			    "thread of it but the leader, or has no PIDFD_THREAD\n",
			    fe->id, fe->pidfd->tid, fe->pidfd->pid);
			return -EBADMSG;
		}
	}
	st = fe->pidfd->has_exit_code ? fe->pidfd->exit_code : 0;
	if (!fe->pidfd->has_pid && !WIFEXITED(st) && !(WIFSIGNALED(st) && !WCOREDUMP(st))) {
		pr_err("files.img: pidfd file %u: wait status %#x is no exit and no death by a "
		       "signal\n",
		       fe->id, (unsigned int)st);
		return -EBADMSG;
	}
	return 0;
}

#define call restore_files_call

/* A pidfd of a reaped process, in task t: a helper in the tree's PID namespace that the task
 * opens a pidfd of, then ends with the dumped wait status and is reaped. Its fd number in the
 * task, or -errno. */
static long reaped_pidfd(struct restore_ctx *c, struct restore_task *t, const FileEntry *fe)
{
	int32_t st = fe->pidfd->has_exit_code ? fe->pidfd->exit_code : 0;
	int w[2], status = 0;
	pid_t h, v;
	long n;

	h = restore_helper_start(c, st, 0, w);
	if (h < 0) {
		pr_err("pidfd file %u: can't make a process in the tree's PID namespace for it to "
		       "refer to: %s (errno %d)\n",
		       fe->id, strerror(-h), -h);
		return h;
	}
	close(w[0]);
	v = restore_helper_vpid(h);
	n = v ? call(t, "opening the pidfd of a process to be reaped", SYS_pidfd_open, v,
		     fe->pidfd->flags & (PIDFD_NONBLOCK_FLAG | PIDFD_THREAD_FLAG), 0)
	      : -ESRCH;
	close(w[1]); /* it ends now */
	if (waitpid(h, &status, 0) != h && n >= 0)
		n = -errno;
	if (n >= 0 && status != st) {
		pr_err("pidfd file %u: its process ended with status %#x, not %#x\n", fe->id,
		       (unsigned int)status, (unsigned int)st);
		call(t, "closing a wrong pidfd", SYS_close, n, 0, 0);
		n = -EIO;
	}
	if (n >= 0)
		pr_debug("pid %d: pidfd file %u: of a reaped process (status %#x)\n", t->vpid,
			 fe->id, (unsigned int)st);
	return n;
}

long restore_pidfd_make(struct restore_ctx *c, struct restore_task *t, const FileEntry *fe)
{
	char what[96];

	if (!fe->pidfd->has_pid)
		return reaped_pidfd(c, t, fe);
	if (fe->pidfd->has_tid)
		snprintf(what, sizeof(what),
			 "opening a pidfd of thread %u of pid %u (pidfd file %u)", fe->pidfd->tid,
			 fe->pidfd->pid, fe->id);
	else
		snprintf(what, sizeof(what), "opening a pidfd of pid %u (pidfd file %u)",
			 fe->pidfd->pid, fe->id);
	return call(t, what, SYS_pidfd_open, fe->pidfd->has_tid ? fe->pidfd->tid : fe->pidfd->pid,
		    fe->pidfd->flags & (PIDFD_NONBLOCK_FLAG | PIDFD_THREAD_FLAG), 0);
}
