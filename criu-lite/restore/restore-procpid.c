/* restore-procpid: an fd on /proc/PID or a file under it, of a task of the tree or of a process
 * that was gone at dump (reg_file_entry proc_pid, proc_gone; dump-procpid.c). Either is opened
 * by task t through its own /proc (a remote open: its root, its mounts, so the pid is one of its
 * PID namespace) once every task of the tree exists again, and moved to the dumped offset. For a
 * process that was gone, the restorer first forks a helper with pid PID in the tree's PID
 * namespace (restore-helper.c), and ends and reaps it once the file is open: the fd is then on
 * the files of a process that is gone, as at dump (reads give ESRCH, the directory lists
 * nothing, and its link names PID).
 *
 * Contract: restore_procpid_make() is called by restore-late.c while t's fd table is filled;
 * it returns the fd number in t, or -errno (logged, naming the file: a pid of a process that was
 * gone, taken by another process at restore, cannot be made again: -EEXIST). */
#define LOG_PREFIX "files: "

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "criu-lite/log.h"
#include "criu-lite/restore/restore.h"

#define call restore_files_call

/* Open re's path in t at its offset: its fd number there, or -errno. */
static long open_in(struct restore_task *t, const FileEntry *fe)
{
	const RegFileEntry *re = fe->reg;
	char what[96];
	long n, r;

	snprintf(what, sizeof(what), "opening %s (file %u)", re->path, fe->id);
	n = restore_late_open(t, re->path,
			      (int)(re->flags & ~(uint32_t)(O_CREAT | O_TRUNC | O_EXCL)), what);
	if (n < 0 || !re->pos)
		return n;
	snprintf(what, sizeof(what), "moving %s (file %u) to offset %llu", re->path, fe->id,
		 (unsigned long long)re->pos);
	r = call(t, what, SYS_lseek, n, (long)re->pos, SEEK_SET);
	if (r < 0) {
		call(t, "closing it", SYS_close, n, 0, 0);
		return r;
	}
	return n;
}

long restore_procpid_make(struct restore_ctx *c, struct restore_task *t, const FileEntry *fe)
{
	const RegFileEntry *re = fe->reg;
	pid_t want = (pid_t)re->proc_pid, h;
	int w[2], status;
	long n;

	if (!re->proc_gone)
		return open_in(t, fe);
	h = restore_helper_start(c, 0, want, w);
	if (h < 0) {
		pr_err("file %u: %s: can't make a process with pid %d for it to belong to: %s "
		       "(errno %d)%s\n",
		       fe->id, re->path, want, strerror(-h), -h,
		       h == -EEXIST ? ": that pid is in use" : "");
		return h;
	}
	close(w[0]);
	n = open_in(t, fe);
	close(w[1]); /* the helper ends now */
	if (waitpid(h, &status, 0) != h && n >= 0) {
		n = -errno;
		pr_perror("file %u: can't reap the process it belonged to", fe->id);
	}
	if (n >= 0)
		pr_debug("pid %d: file %u: %s of a process that is gone again\n", t->vpid, fe->id,
			 re->path);
	return n;
}
