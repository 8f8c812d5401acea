/* locks: flock, POSIX record and OFD locks, at dump and at restore (docs/fds.md).
 *
 * Contract, dump (dump-locks.c): dump_locks_fd() reads the "lock:" lines of one fd's fdinfo
 * (the locks held through its open file description: flock and OFD locks it owns, POSIX locks
 * the task owns and took through it) and records them on the description's file id, once
 * however many fds and tasks show them; a POSIX lock records its owner's pid as the tree sees
 * it. Leases and every other kind are refused, naming the pid, fd and file. Nothing is changed.
 * dump_locks_fill() points a files.img entry at its locks (file_entry.locks); the storage stays
 * with the list until dump_locks_free().
 * Contract, restore (restore-locks.c): restore_locks_check() refuses bad lock records before any
 * task exists (unknown kind, bad range, a POSIX owner that is not a live task of the tree with an
 * fd on that file). restore_locks() runs in the skeleton after restore_files() installed its
 * fds: it takes every lock of each of its files again through the fd, without waiting (flock
 * LOCK_NB, F_SETLK, F_OFD_SETLK), so the restored task is the owner; the POSIX ones only in
 * their owner. A lock some other process holds meanwhile fails the restore, naming it.
 */
#ifndef CRIU_LITE_LOCKS_H
#define CRIU_LITE_LOCKS_H

#include <stddef.h>
#include <stdint.h>

#include "files.pb-c.h"

struct dump_ctx;
struct proc_fdinfo;
struct restore_ctx;
struct restore_task;

/* "flock", "POSIX", "OFD", "lease" (or "unknown"), for messages. */
static inline const char *lock_kind_word(FileLockKind k)
{
	switch (k) {
	case FILE_LOCK_KIND__LOCK_FLOCK:
		return "flock";
	case FILE_LOCK_KIND__LOCK_POSIX:
		return "POSIX";
	case FILE_LOCK_KIND__LOCK_OFD:
		return "OFD";
	case FILE_LOCK_KIND__LOCK_LEASE:
		return "lease";
	default:
		return "unknown";
	}
}

/* The locks of one file id. */
struct dump_lock_group {
	uint32_t file_id;
	FileLockEntry **v;
	size_t n, cap;
};

/* Every lock seen so far in one dump. */
struct dump_locks {
	struct dump_lock_group *g;
	size_t n, cap;
};

/* what: "pid 12 fd 3" and link: the fd's target, for messages. */
int dump_locks_fd(struct dump_ctx *c, struct dump_locks *l, uint32_t file_id, const char *what,
		  const char *link, const struct proc_fdinfo *fi);
void dump_locks_fill(const struct dump_locks *l, FileEntry *fe);
/* "flock" or "OFD" when file_id's open file description holds such a lock, else NULL. */
const char *dump_locks_description_kind(const struct dump_locks *l, uint32_t file_id);
void dump_locks_free(struct dump_locks *l);

int restore_locks_check(struct restore_ctx *c);
int restore_locks(struct restore_ctx *c, struct restore_task *t);

#endif
