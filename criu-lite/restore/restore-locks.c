/* restore-locks: file locks taken again inside the restored task (see locks.h).
 *
 * A lock is taken through the task's own fd, by the task (rsys), so the kernel records the
 * restored task as its owner (the pid of a flock or POSIX lock in /proc/locks) and ties it to the
 * right open file description. flock and OFD locks belong to the description: taking one again in
 * each task that shares it finds the lock already there and changes nothing. Nothing waits: a
 * lock held by someone else fails the restore with a message naming the file and the range.
 */
#define LOG_PREFIX "locks: "

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>

#include "criu-lite/kinds/locks.h"
#include "criu-lite/log.h"
#include "criu-lite/restore/restore-tree.h"
#include "criu-lite/restore/restore.h"

static const char *file_name(const FileEntry *fe)
{
	if (fe->reg)
		return fe->reg->path;
	if (fe->pipe && fe->pipe->fifo_path)
		return fe->pipe->fifo_path;
	return "(no path)";
}

/* ---- checks, before anything is created ----------------------------------------------------- */

static bool task_has_file(const struct restore_task *t, uint32_t id)
{
	for (size_t i = 0; i < t->nr_fdinfo; i++)
		if (t->fdinfo[i]->id == id)
			return true;
	return false;
}

static int check_lock(struct restore_ctx *c, const FileEntry *fe, const FileLockEntry *e)
{
	const struct restore_task *t;

	if (e->kind != FILE_LOCK_KIND__LOCK_FLOCK && e->kind != FILE_LOCK_KIND__LOCK_POSIX &&
	    e->kind != FILE_LOCK_KIND__LOCK_OFD && e->kind != FILE_LOCK_KIND__LOCK_LEASE) {
		pr_err("files.img: file %u (%s): lock of unknown kind %d\n", fe->id, file_name(fe),
		       e->kind);
		return -EINVAL;
	}
	if (e->kind != FILE_LOCK_KIND__LOCK_FLOCK && e->kind != FILE_LOCK_KIND__LOCK_LEASE &&
	    (!e->has_start || !e->has_len || e->start > INT64_MAX || e->len > INT64_MAX ||
	     (e->len && e->start > (uint64_t)INT64_MAX - (e->len - 1)))) {
		pr_err("files.img: file %u (%s): %s lock with a bad range (start %" PRIu64
		       ", length %" PRIu64 ")\n",
		       fe->id, file_name(fe), lock_kind_word(e->kind), e->start, e->len);
		return -EINVAL;
	}
	if (e->kind != FILE_LOCK_KIND__LOCK_POSIX)
		return 0;
	t = e->has_owner ? restore_task_by_vpid(c, (pid_t)e->owner) : NULL;
	if (!t || t->zombie || !task_has_file(t, fe->id)) {
		pr_err("files.img: file %u (%s): the owner of a POSIX lock, pid %u, is not a live "
		       "task of the tree with an fd on it\n",
		       fe->id, file_name(fe), e->has_owner ? e->owner : 0);
		return -EINVAL;
	}
	return 0;
}

int restore_locks_check(struct restore_ctx *c)
{
	for (size_t i = 0; i < c->nr_files; i++) {
		const FileEntry *fe = c->files[i];

		for (size_t k = 0; k < fe->n_locks; k++) {
			int ret = check_lock(c, fe, fe->locks[k]);

			if (ret)
				return ret;
		}
	}
	return 0;
}

/* ---- in the skeleton ------------------------------------------------------------------------ */

static int take_lock(struct restore_task *t, int fd, const FileEntry *fe, const FileLockEntry *e)
{
	struct flock fl = {
		.l_type = e->write ? F_WRLCK : F_RDLCK,
		.l_whence = SEEK_SET,
		.l_start = (off_t)e->start,
		.l_len = (off_t)e->len,
	};
	char range[64] = "";
	long r;

	if (e->kind == FILE_LOCK_KIND__LOCK_FLOCK) {
		r = rsys_call_quiet(&t->rs, SYS_flock, fd, (e->write ? LOCK_EX : LOCK_SH) | LOCK_NB,
				    0, 0, 0, 0);
	} else if (e->kind == FILE_LOCK_KIND__LOCK_LEASE) { /* its owner: restore-fown.c */
		r = rsys_call_quiet(&t->rs, SYS_fcntl, fd, F_SETLEASE, e->write ? F_WRLCK : F_RDLCK,
				    0, 0, 0);
	} else {
		int ret = rsys_write(&t->rs, t->sk.scratch, &fl, sizeof(fl));

		if (ret)
			return ret;
		snprintf(range, sizeof(range), " of bytes %" PRIu64 "+%" PRIu64 "%s", e->start,
			 e->len, e->len ? "" : " (to EOF)");
		r = rsys_call_quiet(&t->rs, SYS_fcntl, fd,
				    e->kind == FILE_LOCK_KIND__LOCK_OFD ? F_OFD_SETLK : F_SETLK,
				    (long)t->sk.scratch, 0, 0, 0);
	}
	if (r == -EAGAIN || r == -EACCES || r == -EWOULDBLOCK) {
		pr_err("pid %d fd %d: can't take back its %s %s lock%s on %s: another process "
		       "holds a conflicting lock\n",
		       t->pid, fd, lock_kind_word(e->kind), e->write ? "write" : "read", range,
		       file_name(fe));
		return (int)r;
	}
	if (r < 0) {
		errno = (int)-r;
		pr_perror("pid %d fd %d: can't take back its %s %s lock%s on %s", t->pid, fd,
			  lock_kind_word(e->kind), e->write ? "write" : "read", range,
			  file_name(fe));
		return (int)r;
	}
	pr_info("pid %d fd %d: %s %s lock%s on %s\n", t->pid, fd, lock_kind_word(e->kind),
		e->write ? "write" : "read", range, file_name(fe));
	return 0;
}

int restore_locks(struct restore_ctx *c, struct restore_task *t)
{
	size_t taken = 0;

	for (size_t i = 0; i < t->nr_fdinfo; i++) {
		const FdinfoEntry *fi = t->fdinfo[i];
		const FileEntry *fe = restore_file(c, fi->id);
		bool first = true;

		for (size_t k = 0; k < i && first; k++)
			first = t->fdinfo[k]->id != fi->id;
		if (!fe || !first)
			continue;
		for (size_t k = 0; k < fe->n_locks; k++) {
			const FileLockEntry *e = fe->locks[k];
			int ret;

			if (e->kind == FILE_LOCK_KIND__LOCK_POSIX && e->owner != (uint32_t)t->vpid)
				continue;
			if (t->sk.scratch_len < sizeof(struct flock)) {
				pr_err("pid %d: no scratch page (internal error)\n", t->pid);
				return -EINVAL;
			}
			ret = take_lock(t, (int)fi->fd, fe, e);
			if (ret)
				return ret;
			taken++;
		}
	}
	if (taken)
		pr_info("pid %d: %zu file lock(s) taken back\n", t->pid, taken);
	return 0;
}
