/* img-priv: helpers shared by the files of the images library only.
 *
 * Contract: little-endian u32 load/store for the on-disk header and trailer,
 * and the temp-file + commit steps shared by record and raw files; nothing
 * here is public API.
 */
#ifndef CRIU_LITE_IMG_PRIV_H
#define CRIU_LITE_IMG_PRIV_H

#include <endian.h>
#include <stdint.h>
#include <string.h>

#include "images/img.h"

#define IMG_NAME_MAX 64u

/* A file this img_dir committed: for the manifest (manifest.c). */
struct img_note {
	char *name;
	uint64_t size;
	uint32_t crc; /* crc32c of the whole file */
};

struct img_dir {
	int fd;
	char *path;
	uint32_t dump_id;	/* written into record headers; 0: none (version 1) */
	uint32_t expect_id;	/* readers refuse record files of another dump; 0: no check */
	struct img_note *notes; /* every file committed through this img_dir, in order */
	size_t nnotes, cap;
};

/* Record that name was committed with size bytes and crc32c crc: 0 or -ENOMEM. */
int img_dir_note(struct img_dir *d, const char *name, uint64_t size, uint32_t crc,
		 struct img_err *err);

static inline void img_put_le32(void *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static inline uint32_t img_get_le32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

/* Create (truncate) the temp file tmp in dirfd for writing; returns the fd. */
int img_create_tmp(int dirfd, const char *tmp, struct img_err *err);
/* fsync fd, close it, rename tmp to name, fsync dirfd; removes tmp on failure. */
int img_commit_file(int dirfd, int fd, const char *tmp, const char *name, struct img_err *err);

#endif
