/* pipes: pipes and FIFOs with the data in flight, at dump and at restore.
 *
 * Contract, dump (dump-pipes.c): dump_pipe_end() describes one fd of the task
 * on a pipe (link "pipe:[INO]") or a FIFO (link: its path, S_ISFIFO). Each pipe
 * is saved once per dump, keyed by st_dev + st_ino: its size (F_GETPIPE_SZ) and
 * the bytes in flight, copied with tee(2) so that the task's pipe keeps them (a
 * failed dump leaves it as it was), into pipes-data-<pipe_id>.img with their
 * crc32c. Packet-mode pipes (O_DIRECT) are refused. A pipe also open outside the tree is
 * refused (dump_outside(), dump.h) unless it is --external: then nothing of it is saved, its
 * entries say external, and restore uses the fd --inherit-fd names in its place.
 * Contract, restore (restore-pipes.c): restore_pipe_open() returns an O_CLOEXEC
 * fd of the restorer for one FT_PIPE entry of files.img. Its first call reads
 * and checks every pipe of files.img (entries of one pipe agree, data size and
 * crc32c) before it creates anything. Each pipe is created once, sized
 * (F_SETPIPE_SZ; refused clearly if the host does not allow the size) and
 * filled with its data; a FIFO is reopened by path (O_RDWR: no blocking) and
 * filled the same way. The first entry of each end of a pipe(2) pair gets that
 * end, any other entry a reopen through /proc/self/fd. restore_pipes_done()
 * closes what the table holds: an end no entry uses is gone then, after its
 * data was written. Every function logs its own errors, naming the pipe.
 */
#ifndef CRIU_LITE_PIPES_H
#define CRIU_LITE_PIPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "files.pb-c.h"

struct dump_ctx;
struct restore_ctx;
struct opts;

/* "pipe:[INO]", the /proc/PID/fd link of a pipe(2) end. */
static inline bool pipe_link(const char *link)
{
	return strncmp(link, "pipe:", 5) == 0;
}

/* "pipes-data-<id>.img" */
void pipe_data_name(char *buf, size_t len, uint32_t id);
/* fs.pipe-max-size (the largest F_SETPIPE_SZ without CAP_SYS_RESOURCE), for messages;
 * -1 if it can't be read. */
long pipe_max_size(void);

/* One pipe of the dump, as saved. */
struct dump_pipe {
	dev_t dev;
	ino_t ino;
	bool fifo;	   /* a named pipe (reopened by path at restore) */
	uint32_t id;	   /* pipe_id in files.img, from 1 */
	uint32_t size;	   /* F_GETPIPE_SZ */
	uint32_t data_len; /* bytes in flight (0: no data file) */
	uint32_t data_crc;
	bool external;	   /* --external pipe:[INO]: not saved; restore takes --inherit-fd */
	unsigned int ends; /* 1 << O_RDONLY / O_WRONLY / O_RDWR of the tree's fds on it */
	int key_given;	   /* for an external one: its index in opts.external */
	char what[48];	   /* the first fd of the tree seen on it, "pid 12 fd 3" */
};

/* The pipes saved so far by one dump. */
struct dump_pipes {
	struct dump_pipe *v;
	size_t n, cap;
};

/* One fd of the task on a pipe or FIFO. */
struct dump_pipe_fd {
	const char *what; /* "pid 12 fd 3", for messages */
	const char *link; /* "pipe:[INO]" or the FIFO's path */
	int fd;		  /* the fd in the task */
	uint32_t flags;	  /* its status flags (fdinfo, without O_CLOEXEC) */
	const struct stat *st;
};

/* The pipe of f (saved now if it is new) into *out. */
int dump_pipe_end(struct dump_ctx *c, struct dump_pipes *p, const struct dump_pipe_fd *f,
		  struct dump_pipe *out);
/* The files.img record of one end: flags of that end; fifo_path for a FIFO. */
void dump_pipe_fill(const struct dump_pipe *p, uint32_t flags, char *fifo_path, PipeFileEntry *e);
void dump_pipes_free(struct dump_pipes *p);

/* Restore: read and check every pipe of files.img (data, --inherit-fd for the external ones,
 * and that every --inherit-fd names one); restore_pipe_open() does it on its first call. */
int restore_pipes_prepare(struct restore_ctx *c);
/* Restore: an fd of the restorer (O_CLOEXEC) for the FT_PIPE entry fe, or -errno. */
int restore_pipe_open(struct restore_ctx *c, const FileEntry *fe);
/* Close every pipe end the table still holds and free it (safe when there is none). */
void restore_pipes_done(struct restore_ctx *c);

#endif
