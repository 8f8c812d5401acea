/* dump-files-int: what dump-files.c (collecting a dump's open files) and dump-files-commit.c
 * (writing files.img, checking what is shared outside the tree) share: the list of records. */
#ifndef CRIU_LITE_DUMP_FILES_INT_H
#define CRIU_LITE_DUMP_FILES_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "criu-lite/dump/dump.h"
#include "criu-lite/kinds/ghost.h"
#include "criu-lite/kinds/locks.h"
#include "criu-lite/kinds/pipes.h"
#include "files.pb-c.h"

/* One open file description (or, from dump_file_add_path, one file opened with
 * given flags): a files.img record in the making. */
struct file_rec {
	uint32_t id;
	FileType type;
	char *path; /* without " (deleted)" */
	uint32_t flags;
	uint64_t pos;
	struct stat st;
	bool deleted;
	size_t ghost; /* deleted: its index in the list's ghosts */
	pid_t pid;    /* the fd it was found at (for kcmp); fd -1: added by path */
	int fd;
	struct dump_pipe pipe;	  /* FT_PIPE */
	MemfdFileEntry *memfd;	  /* FT_MEMFD (memfd.h), malloc'd */
	struct dump_anonfd *anon; /* eventfd, signalfd, timerfd, epoll, inotify (anonfd.h) */
	struct dump_sk_rec sk;	  /* sockets (dump-socket.c) */
	uint32_t netns_id;	  /* FT_NSFILE: its namespace (dump-sknetns.h) */
	const char *ns_own;	  /* FT_NSFILE of another kind: its task's own one, by name */
	PtyFileEntry *pty;	  /* FT_PTY (dump-tty.c), malloc'd */
	FownEntry *fown;	  /* its owner (dump-fown.c), malloc'd, or NULL */
	bool own_fd;	/* fd is the dumper's (in flight: dump-inflight.c), closed at free */
	pid_t proc_pid; /* FT_REG under /proc/PID of a task of the tree or one gone (dump-procpid.c)
			 */
	bool proc_gone; /* that process is gone */
	bool tty_external; /* FT_TTY: named by --external tty[MAJ:MIN], reopened by path */
};

struct file_entry_list {
	struct file_rec *v;
	size_t n, cap;
	struct dump_ghosts ghosts; /* ghost.h */
	struct dump_pipes pipes;
	struct dump_locks locks; /* locks.h */
	struct dump_unix *usk;	 /* unix sockets (sk-unix.h) */
};

/* The dump's list (c->sh->files), made on first use. */
int dump_files_list(struct dump_ctx *c, struct file_entry_list **out);
/* One image file of records; 0 or -errno (logged). */
int dump_files_write(struct dump_ctx *c, enum img_kind kind, long id,
		     const ProtobufCMessage *const *msgs, size_t n);

#endif
