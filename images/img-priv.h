/* img-priv: helpers shared by the files of the images library only.
 *
 * Contract: little-endian u32 load/store for the on-disk header and trailer,
 * and the temp-file + commit steps shared by record and raw files; nothing
 * here is public API.
 */
#ifndef CRIU_LITE_IMG_PRIV_H
#define CRIU_LITE_IMG_PRIV_H

#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "images/img.h"

#define IMG_NAME_MAX 64u

/* A file this img_dir committed: for the manifest (manifest.c). */
struct img_note {
	char *name;
	uint64_t size;
	uint32_t crc;	/* crc32c of the whole file */
	bool elsewhere; /* listed, not written here (img_dir_note_elsewhere) */
};

struct img_dir {
	int fd;			/* -1: a sink (sink.c) */
	char *path;		/* a sink: its label ("page server 198.18.0.2:7000") */
	uint32_t dump_id;	/* written into record headers; 0: none (version 1) */
	uint32_t expect_id;	/* readers refuse record files of another dump; 0: no check */
	struct img_note *notes; /* every file committed through this img_dir, in order */
	bool sync_later; /* img_dir_sync_later(): commits without fsync until img_dir_sync() */
	size_t nnotes, cap;
	/* a sink (img_dir_open_sink): where files go, the one streaming now, and the file abandoned
	 * mid-way that ends the sink's use ("" when none) */
	const struct img_sink_ops *sink;
	void *sink_arg;
	bool streaming;
	char abandoned[IMG_NAME_MAX];
};

/* Record that name was committed with size bytes and crc32c crc: 0 or -ENOMEM. */
int img_dir_note(struct img_dir *d, const char *name, uint64_t size, uint32_t crc,
		 struct img_err *err);
/* The same for a file the manifest lists that is not written here (a lazy migration's pages
 * files): img_dir_sync() leaves it alone. */
int img_dir_note_elsewhere(struct img_dir *d, const char *name, uint64_t size, uint32_t crc,
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
/* The same for a file of d: in a sink, a memfd named tmp, whose contents go at commit. */
int img_tmp_open(struct img_dir *d, const char *tmp, struct img_err *err);
/* fsync fd, close it, rename tmp to name, fsync dirfd; removes tmp on failure. */
int img_commit_file(int dirfd, int fd, const char *tmp, const char *name, bool sync,
		    struct img_err *err);

/* --- sinks (sink.c) --- */
/* Send the file name of a sink whole, from fd (a memfd of img_tmp_open()), which is closed:
 * begin, its bytes (a piece that is all zero is left out, but for the last byte: the receiver's
 * file gets its size), end with *size and *crc; with crc_known, *crc is the manifest crc (a
 * record file's), else the crc32c of the whole file, summed while it is read and returned. */
int img_sink_send_fd(struct img_dir *d, int fd, const char *name, bool crc_known, uint64_t *size,
		     uint32_t *crc, struct img_err *err);
/* A file that streams into a sink (a pages file): begin now, its data through img_sink_data()
 * from any thread, end at img_sink_end(); img_sink_abandon() when it is given up. */
int img_sink_begin_stream(struct img_dir *d, const char *name, struct img_err *err);
int img_sink_data(struct img_dir *d, uint64_t off, const void *buf, size_t len,
		  struct img_err *err);
int img_sink_end_stream(struct img_dir *d, const char *name, uint64_t size, uint32_t crc,
			struct img_err *err);
void img_sink_abandon(struct img_dir *d, const char *name);

#endif
