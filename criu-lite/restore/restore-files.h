/* restore-files: open the files of files.img in the restorer (restore-files-open.c);
 * restore_files_prepare() and restore_files() themselves are declared in restore.h.
 *
 * Contract: restore_open_entry() opens one files.img entry the way the dumped
 * task had it: a regular file or directory by path with its status flags and
 * offset, after checking it is still the same kind of file with the dumped
 * size; a deleted file recreated from its ghost image (ghost.h), opened, and
 * unlinked again; a memory device by path (same device number); a terminal
 * (--shell-job only) as a dup of the restorer's own fd 0, 1 or 2; a pipe end
 * or FIFO through restore-pipes.c (pipes.h); an eventfd, signalfd, timerfd,
 * epoll or inotify file through restore-anonfd.c (anonfd.h); a unix socket
 * through restore-unix.c (sk-unix.h: all of them are made at once). It returns
 * an O_CLOEXEC fd of the restorer, or -errno after logging one message that
 * names the file.
 */
#ifndef CRIU_LITE_RESTORE_FILES_H
#define CRIU_LITE_RESTORE_FILES_H

#include "criu-lite/restore/restore.h"

/* Deleted files recreated for the whole restore (c->ghosts): every entry on one inode, of
 * any task, fd or mapping, reopens the same recreated (and already unlinked) file, which stays
 * one file after the restore as it was one before; restore_ghosts_done() closes them once
 * every task's files are open (the transfer fds keep them alive). */
struct restore_ghost {
	uint32_t id;
	int fd; /* O_PATH (ghost.h) */
};

struct restore_ghosts {
	struct restore_ghost *v;
	size_t n, cap;
};

/* first_fd: the lowest fd number of the task on this entry (it picks the
 * restorer's terminal fd for a terminal), -1 when no fd uses it. */
int restore_open_entry(struct restore_ctx *c, const FileEntry *fe, int first_fd);
void restore_ghosts_done(struct restore_ctx *c);
/* The recreated (and unlinked) file of files.img entry id, a file deleted while open: its
 * O_PATH fd, the table's own (an inotify watch on it goes through /proc/self/fd), or -errno. */
int restore_ghost_of(struct restore_ctx *c, uint32_t id);

/* An O_CLOEXEC dup of fd, a table's own (what names its object), or -errno (logged). */
int restore_dup(int fd, const char *what);

/* Entry id of files.img (for mappings and the exe link). */
int restore_open_file(struct restore_ctx *c, uint32_t id);

#endif
