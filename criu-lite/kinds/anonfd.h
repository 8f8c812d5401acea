/* anonfd: eventfd, signalfd, timerfd, epoll and inotify files, at dump and at restore.
 *
 * Contract, dump (dump-anonfd.c): dump_anonfd() describes one open file description on an
 * anonymous inode of those five kinds, met for the first time at one fd of a task, from its
 * fdinfo; it never changes what the task can observe (nothing is read from the file; a
 * timerfd is only brought up to date with timerfd_gettime() on a copy, which counts
 * expirations the way a read() would without consuming them). An epoll watch whose fd
 * number is closed or reused in the task is found at another fd of that task (kcmp) or
 * refused; an inotify watch is saved by the path of its inode (open_by_handle_at(), needs
 * CAP_DAC_READ_SEARCH) or refused. Every refusal names the pid, the fd and why.
 * Contract, restore (restore-anonfd.c): restore_anonfd_open() creates the file of one
 * files.img entry in the restorer (an O_CLOEXEC fd): eventfd with its counter, signalfd
 * with its mask, timerfd on its clock (not armed yet), epoll (no watches yet), inotify with
 * every watch at its path under its own wd number. restore_anonfd_task() runs in the
 * seized task once its fds are installed: it arms the timerfds and adds the epoll watches
 * of the entries whose owner is that task (so each is done once, however many fds and
 * tasks share the file). Every function logs its own errors, naming the file.
 * What is not kept (queued inotify events, an ET watch's reported state, ...) is listed
 * in docs/fds.md.
 */
#ifndef CRIU_LITE_ANONFD_H
#define CRIU_LITE_ANONFD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "files.pb-c.h"

struct dump_ctx;
struct proc_fdinfo;
struct restore_ctx;
struct restore_task;

/* The file type of a /proc/PID/fd link ("anon_inode:[eventfd]", "anon_inode:inotify", ...)
 * of the kinds this module handles, or 0 for any other link. */
FileType anonfd_type(const char *link);

/* ---- fdinfo lines (pure parsers: 0, or -EINVAL for text the kernel does not print) ---- */

/* "tfd: N events: X data: X  pos:N ino:X sdev:X" (the value after "tfd:") */
struct anonfd_tfd {
	int tfd;
	uint32_t events;
	uint64_t data;
	uint64_t ino;
	uint32_t sdev; /* the kernel's s_dev: major << 20 | minor */
};
int anonfd_parse_tfd(const char *value, struct anonfd_tfd *out);

#define ANONFD_HANDLE_MAX 128 /* MAX_HANDLE_SZ */

/* "wd:X ino:X sdev:X mask:X ignored_mask:X [fhandle-bytes:X fhandle-type:X f_handle:HEX]"
 * (the value after "inotify wd:" is "X ino:..."). handle_bytes 0: no handle shown. */
struct anonfd_wd {
	int wd;
	uint64_t ino;
	uint32_t sdev;
	uint32_t mask, ignored_mask;
	uint32_t handle_bytes;
	int handle_type;
	unsigned char handle[ANONFD_HANDLE_MAX];
};
int anonfd_parse_wd(const char *value, struct anonfd_wd *out);

/* The timerfd lines of an fdinfo. */
struct anonfd_timer {
	int clockid;
	uint64_t ticks;
	uint32_t settime_flags;
	uint64_t value_ns, interval_ns;
};
/* *bad names the missing or malformed line on -EINVAL. */
int anonfd_parse_timer(const struct proc_fdinfo *fi, struct anonfd_timer *out, const char **bad);

/* ---- dump ---- */

struct dump_anonfd; /* one saved file: its files.img message */

struct dump_anonfd_fd {
	const char *what; /* "pid 12 fd 3", for messages */
	const char *link; /* "anon_inode:[eventfd]", ... */
	int fd;		  /* the fd in the task */
	uint32_t flags;	  /* its status flags (fdinfo, without O_CLOEXEC) */
	const struct proc_fdinfo *fi;
};

/* Describe the file at f into *out (freed with dump_anonfd_free); *type its file type. */
int dump_anonfd(struct dump_ctx *c, const struct dump_anonfd_fd *f, FileType *type,
		struct dump_anonfd **out);
/* Point fe's kind-specific field at a's message (valid until dump_anonfd_free(a)). */
void dump_anonfd_fill(struct dump_anonfd *a, FileEntry *fe);
void dump_anonfd_free(struct dump_anonfd *a); /* safe on NULL */
/* The inotify watches of a on deleted files (anonfd_inode_find() found no path), given the
 * files.img entry find() says holds that inode (true with *id and its *path): 0, or -ENOTSUP
 * (logged, naming what and the inode) when none does. */
typedef bool anonfd_find_deleted(void *arg, uint64_t dev, uint64_t ino, uint32_t *id,
				 const char **path);
int dump_anonfd_resolve(struct dump_anonfd *a, const char *what, anonfd_find_deleted *find,
			void *arg);
/* The path of the inode w names (ino, sdev, file handle; wd for messages), found by opening its
 * handle on a mount of its file system that the task sees: 0 with *path, or -errno (logged). */
int anonfd_inode_path(struct dump_ctx *c, const struct dump_anonfd_fd *f, const struct anonfd_wd *w,
		      char **path);
/* The same, but with none_ok 1 (nothing logged) when no path reaches the inode (a file deleted
 * while open: an inotify watch then needs an fd or mapping of the tree on it, found when the
 * files are written: dump-files-commit.c). */
int anonfd_inode_find(struct dump_ctx *c, const struct dump_anonfd_fd *f, const struct anonfd_wd *w,
		      char **path, bool none_ok);
/* An inotify or fanotify group at f with events queued: refused (nothing can put them back
 * into the queue, and no read takes them without consuming them). 0 or -errno (logged). */
int anonfd_no_queued(pid_t pid, const struct dump_anonfd_fd *f);
/* dump-fanotify.c: a fanotify group and its marks into e (refusals logged). */
int dump_fanotify(struct dump_ctx *c, const struct dump_anonfd_fd *f, FanotifyEntry *e);
void dump_fanotify_free(FanotifyEntry *e);
/* dump-pidfd.c: a pidfd into e (refusals logged). */
int dump_pidfd(struct dump_ctx *c, const struct dump_anonfd_fd *f, PidfdEntry *e);

/* ---- restore ---- */

/* The restore side handles this entry type (FT_EVENTFD ... FT_INOTIFY, FT_FANOTIFY). */
bool anonfd_restores(FileType type);
/* An fd of the restorer (O_CLOEXEC) for the entry fe, or -errno. */
int restore_anonfd_open(struct restore_ctx *c, const FileEntry *fe);
/* restore-pidfd.c: pidfds are made late, from inside the task holding them, once the tree
 * exists (restore-late.c). restore_pidfd_check(): the entry must hold together (while the
 * transfer fds are prepared, before any task exists): 0, or -EBADMSG (logged).
 * restore_pidfd_make(): the first fd of the description, made in task t: its number there, or
 * -errno. */
int restore_pidfd_check(struct restore_ctx *c, const FileEntry *fe);
long restore_pidfd_make(struct restore_ctx *c, struct restore_task *t, const FileEntry *fe);
/* In the seized task t, after its fds were installed (t->rs open). 0 or -errno. */
int restore_anonfd_task(struct restore_ctx *c, struct restore_task *t);
/* restore-fanotify.c: the group, made in the restorer; its marks, added in its owner t, whose
 * fd fd holds it. */
int restore_fanotify_open(struct restore_ctx *c, const FileEntry *fe);
int restore_fanotify_marks(struct restore_task *t, const FileEntry *fe, int fd);

#endif
