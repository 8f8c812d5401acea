/* ghost: the contents of a file that was deleted while open ("ghost file").
 *
 * Contract: at dump, ghost_save() walks a deleted regular file, reached through
 * a /proc link (/proc/PID/fd/N, /proc/PID/map_files/S-E), with SEEK_DATA /
 * SEEK_HOLE and copies its data extents, back to back, into the raw image
 * ghost-<id>.img; it returns the extents and the image's crc32c (which the
 * caller stores in the file's reg_file_entry). Holes are not saved; a file
 * whose data (not its apparent size) exceed the limit (--ghost-limit) is
 * refused, naming the file, its sizes and the option. At restore,
 * ghost_verify() checks an image against the extents, the size and the crc
 * before anything is created, and ghost_recreate() creates a file of the saved
 * size whose extents hold the saved data and whose holes are holes again,
 * with its mode, owner and mtime, under its original name (remaking its
 * directories for the moment when they were deleted too), unlinks it again and
 * hands back an O_PATH fd of it. A regular file still linked by another name
 * is not copied: ghost_relink() opens that inode again by its file handle and
 * gives it its old name the same way. Each function logs its own errors,
 * naming the image, the file and the errno.
 */
#ifndef CRIU_LITE_GHOST_H
#define CRIU_LITE_GHOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "files.pb-c.h"
#include "images/img.h"

struct dump_ctx;
struct restore_ctx;

/* "ghost-<id>.img" */
void ghost_image_name(char *buf, size_t len, uint32_t id);

/* Data extents of a file: ascending, disjoint, none empty. */
struct ghost_extent {
	uint64_t off, len;
};

struct ghost_extents {
	struct ghost_extent *v;
	size_t n;
};

void ghost_extents_free(struct ghost_extents *e);
/* Bytes of data in e. */
uint64_t ghost_extents_bytes(const struct ghost_extents *e);

/* what names the file in messages ("pid 12 fd 3"). size: st_size of the file, which must
 * not change while it is saved. limit: the most data bytes saved (--ghost-limit). */
int ghost_save(struct img_dir *d, uint32_t id, const char *what, const char *via, const char *path,
	       uint64_t size, uint64_t limit, struct ghost_extents *ext, uint32_t *crc);

/* The extents must lie inside size, ascending and disjoint, and the image must hold their
 * bytes with that crc: else -EBADMSG, naming the image. */
int ghost_verify(struct img_dir *d, uint32_t id, uint64_t size, const struct ghost_extents *ext,
		 uint32_t crc);

struct ghost_attr {
	uint32_t mode; /* st_mode (permission bits are applied) */
	bool has_owner;
	uid_t uid;
	gid_t gid;
	bool has_mtime;
	int64_t mtime_ns;
};

/* Recreate the file from ghost-<id>.img (size bytes, data at ext, holes elsewhere) and
 * unlink it again at once; returns an O_PATH fd of it (reopen it through /proc/self/fd/N) or
 * -errno. Its /proc link reads "PATH (deleted)" as it did: when path is free the file is made
 * there; when its directory is gone, the missing directories are made for the moment and
 * removed again with it; when another file has that name now, it is made at a unique sibling
 * name, swapped with that file (renameat2 RENAME_EXCHANGE) and the other file renamed back over
 * it, so the other file keeps its name and inode; for those few microseconds path names the
 * recreated file. */
int ghost_recreate(struct img_dir *d, uint32_t id, uint64_t size, const struct ghost_extents *ext,
		   const char *path, const struct ghost_attr *a);

/* A deleted directory (it holds nothing: rmdir() takes only empty ones), FIFO or character
 * device (rdev), as a's type says: made at path (or a free sibling name, then swapped in) with
 * a's mode, owner and mtime, and removed again; an O_PATH fd of it, or -errno (logged). */
int ghost_recreate_node(uint32_t id, const char *path, const struct ghost_attr *a, dev_t rdev);

/* A regular file deleted while open but still linked by another name: the same inode found
 * again by its file handle (name_to_handle_at at dump) on a mount of its file system: the one
 * at mnt, or any other of device dev in our mountinfo. */
struct ghost_handle {
	int type;
	uint32_t len;
	unsigned char bytes[128]; /* MAX_HANDLE_SZ */
	char *mnt;
	uint64_t dev; /* st_dev of the file at dump, 0: unknown (mnt alone) */
	uint64_t ino; /* its inode at dump (checked on the same device), 0: not */
};

/* The file of h opened (open_by_handle_at), linked at path (or a free sibling name, then
 * swapped in, as ghost_recreate() does) for a moment, opened there and unlinked again: an O_PATH
 * fd whose /proc link reads "PATH (deleted)" as it did, on the same inode as the other name. Gone
 * since the dump (ESTALE), or another inode: refused, naming path. -errno, logged. */
int ghost_relink(uint32_t id, const char *path, const struct ghost_handle *h);

/* Dump (dump-ghost.c): the deleted files of the dump, each saved once per inode; one still
 * linked by another name is kept by its file handle instead (linked). */
struct dump_ghost {
	dev_t dev;
	ino_t ino;
	uint32_t id, crc;
	FileExtent **ext; /* files.img's ghost_extents */
	size_t n_ext;
	bool linked;
	struct ghost_handle h;
};

struct dump_ghosts {
	struct dump_ghost *v;
	size_t n, cap;
};

/* The ghost of the deleted file st (reached through via; what and path name it in messages):
 * saved by the first call for its inode, within the dump's --ghost-limit. Its index in g. */
int dump_ghost_get(struct dump_ctx *c, struct dump_ghosts *g, const char *what, const char *via,
		   const char *path, const struct stat *st, size_t *idx);
/* The ghost fields of a files.img record (pointing into g's extents). */
void dump_ghost_fill(const struct dump_ghost *g, RegFileEntry *re);
void dump_ghosts_free(struct dump_ghosts *g);

/* Restore: the extents of a files.img record: ghost_extents when ghost_sparse, else (an older
 * image) all of its size. 0 or -ENOMEM. */
int ghost_extents_of(const RegFileEntry *re, struct ghost_extents *e);

#endif
