/* memfd: file descriptors on a memfd (FT_MEMFD), at dump and at restore.
 *
 * Contract, dump (dump-shmem.c): dump_memfd_fd() describes one fd of the task
 * on a memfd (link "/memfd:NAME (deleted)", a tmpfs file without a name). The
 * memfd is the same shared memory object of shmem.img (keyed by device and
 * inode) that mappings of it use, saved once: name, size, mode, owner, seals
 * and every data page, found with SEEK_DATA/SEEK_HOLE (swapped-out pages
 * included) on a file of our own opened through /proc/PID/fd/N, so the task's
 * file offset never moves and a failed dump changes nothing. The fd's status
 * flags and offset go to its memfd_file_entry. hugetlbfs memfds are refused.
 * Contract, restore (restore-shmem.c): restore_memfd_open() returns an
 * O_CLOEXEC fd of the restorer for one FT_MEMFD entry: its object's transfer
 * fd (restore_shmem_prepare) reopened through /proc/self/fd with the entry's
 * access mode and status flags, at its offset: an open file description of
 * its own. Every call for one entry (fds that shared a description, in any
 * task) returns a dup of the same description. Errors are logged once,
 * naming the file entry and the object.
 */
#ifndef CRIU_LITE_MEMFD_H
#define CRIU_LITE_MEMFD_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "files.pb-c.h"

struct dump_ctx;
struct restore_ctx;

#define MEMFD_LINK_PREFIX "/memfd:"
#define MEMFD_LINK_SUFFIX " (deleted)"

/* Is an fd whose /proc link is link, stat'ed as st, on a memfd? */
static inline bool memfd_link(const char *link, const struct stat *st)
{
	size_t l = strlen(link), pl = strlen(MEMFD_LINK_PREFIX), sl = strlen(MEMFD_LINK_SUFFIX);

	return S_ISREG(st->st_mode) && !st->st_nlink && l >= pl + sl &&
	       !strncmp(link, MEMFD_LINK_PREFIX, pl) && !strcmp(link + l - sl, MEMFD_LINK_SUFFIX);
}

/* One fd of the task on a memfd. */
struct dump_memfd_fd {
	const char *what; /* "pid 12 fd 3", for messages */
	const char *link; /* "/memfd:NAME (deleted)" */
	int fd;		  /* the fd in the task; -1: reached through via */
	const char *via;  /* with fd -1: /proc/PID/exe or a /proc/PID/map_files link */
	uint32_t flags;	  /* status flags (fdinfo, without O_CLOEXEC) */
	uint64_t pos;	  /* file offset (fdinfo) */
	const struct stat *st;
};

/* The object of f (dumped now if it is new) and f's flags and offset into *out. */
int dump_memfd_fd(struct dump_ctx *c, const struct dump_memfd_fd *f, MemfdFileEntry *out);

/* Restore: an fd of the restorer (O_CLOEXEC) for the FT_MEMFD entry fe, or -errno. */
int restore_memfd_open(struct restore_ctx *c, const FileEntry *fe);

#endif
