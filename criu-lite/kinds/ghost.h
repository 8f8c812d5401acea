/* ghost: the contents of a file that was deleted while open ("ghost file").
 *
 * Contract: at dump, ghost_save() copies a deleted regular file, reached
 * through a /proc link (/proc/PID/fd/N, /proc/PID/map_files/S-E), into the raw
 * image ghost-<id>.img and returns its size and crc32c (which the caller
 * stores in the file's reg_file_entry); files larger than GHOST_MAX_SIZE are
 * refused. At restore, ghost_verify() checks an image against that size and
 * crc before anything is created, and ghost_recreate() creates a file with the
 * saved contents, mode, owner and mtime under its original name, unlinks it
 * again and hands back an O_PATH fd of it. Each function logs its own errors,
 * naming the image, the file and the errno.
 */
#ifndef CRIU_LITE_GHOST_H
#define CRIU_LITE_GHOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "images/img.h"

/* Deleted files above this size are refused at dump: their contents travel in
 * the image directory and a restore writes them back in full. */
#define GHOST_MAX_SIZE (64ULL << 20)

/* "ghost-<id>.img" */
void ghost_image_name(char *buf, size_t len, uint32_t id);

/* what names the file in messages ("pid 12 fd 3"). size: st_size of the file;
 * the copy must end at exactly that size. */
int ghost_save(struct img_dir *d, uint32_t id, const char *what, const char *via, const char *path,
	       uint64_t size, uint32_t *crc);

int ghost_verify(struct img_dir *d, uint32_t id, uint64_t size, uint32_t crc);

struct ghost_attr {
	uint32_t mode; /* st_mode (permission bits are applied) */
	bool has_owner;
	uid_t uid;
	gid_t gid;
	bool has_mtime;
	int64_t mtime_ns;
};

/* Recreate the file from ghost-<id>.img (size bytes) and unlink it again at once; returns an
 * O_PATH fd of it (reopen it through /proc/self/fd/N) or -errno. Its /proc link reads
 * "PATH (deleted)" as it did: when path is free the file is made there; when another file has
 * that name now, it is made at a unique sibling name, swapped with that file
 * (renameat2 RENAME_EXCHANGE) and the other file renamed back over it, so the other file keeps
 * its name and inode; for those few microseconds path names the recreated file. */
int ghost_recreate(struct img_dir *d, uint32_t id, uint64_t size, const char *path,
		   const struct ghost_attr *a);

#endif
