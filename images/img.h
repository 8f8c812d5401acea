/* images: the on-disk image format of criu-lite.
 *
 * Contract:
 * - An image directory holds one file per kind (and per task for per-task
 *   kinds: "core-1234.img"). A record file is: header {magic, version, owner,
 *   dump id} (4 x u32 LE), records of (u32 LE length, protobuf
 *   message), and a trailer {IMG_TRAILER_MAGIC, record count, crc32c of every
 *   byte before the crc field} (3 x u32 LE).
 * - Readers verify the whole file (size, header, trailer, crc, every record
 *   length) when it is opened, before a single record is handed out. Errors
 *   name the file, the record index and the reason.
 * - Writers write to "<name>.tmp", and commit with fsync + rename; an aborted
 *   or failed writer leaves nothing behind. No image is written in place.
 * - Raw data files (pages-N.img, ghost-N.img) are plain bytes; their size and
 *   crc32c live in the record that refers to them (see pages.h).
 * - A sink (img_dir_open_sink) is an image directory elsewhere: a dump's files go through the
 *   caller's operations (a page server, dump --page-server) under the same names, in the order
 *   they are committed, with the same manifest (size, crc32c); nothing is written locally.
 * - Library functions never print: they return a negative errno and fill the
 *   caller's struct img_err with a one-line message. A damaged file is
 *   -EBADMSG, a newer format -ENOTSUP, a missing one -ENOENT; record indexes
 *   in messages count from 0.
 */
#ifndef CRIU_LITE_IMG_H
#define CRIU_LITE_IMG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

/* 2: the header's third word is the owner (the id in a per-id file's name, a task's pid; 0 for
 * other kinds) and its last the dump id (1: both were 0). A reader refuses a per-id file whose
 * owner is not the id it is opened as (a renamed or swapped file). */
#define IMG_VERSION	  2u
#define IMG_TRAILER_MAGIC 0x454e4421u /* "!DNE" on disk: end of records */
#define IMG_HEADER_SIZE	  16u
#define IMG_TRAILER_SIZE  12u
#define IMG_MAX_RECORD	  (64u << 20) /* a record claiming more is corrupt */

struct img_err {
	int code;      /* positive errno-style code, 0 when no error */
	char msg[512]; /* "core-42.img: record 3: truncated (need 120 bytes, have 7)" */
};

/* Fill err (printf-style) and return -code. */
int img_fail(struct img_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

enum img_kind {
	IMG_INVENTORY,
	IMG_PSTREE,
	IMG_CORE,    /* per task */
	IMG_MM,	     /* per task */
	IMG_PAGEMAP, /* per task (or per shmem object id) */
	IMG_FILES,
	IMG_FDINFO,	   /* per task */
	IMG_FS,		   /* per task */
	IMG_SHMEM,	   /* shared memory objects of the whole tree */
	IMG_SHMEM_PAGEMAP, /* per shmem object id: like pagemap */
	IMG_NETNS,	   /* the tree's own network namespace, when it has one */
	IMG_NETNS_REFS,	   /* other network namespaces its sockets and nsfs fds are in */
	IMG_SHMEM_SUMS,	   /* per shmem object id: a sum of each page, for a chain's next round */
	IMG_KIND_NR,
};

struct img_kind_desc {
	enum img_kind kind;
	const char *name; /* "core" */
	uint32_t magic;
	bool per_id; /* file name is "<name>-<id>.img", else "<name>.img" */
	/* every record of the file is this message, except for pagemap, whose
	 * first record is a pagemap_head (see pages.h) */
	const ProtobufCMessageDescriptor *desc;
	const ProtobufCMessageDescriptor *first_desc; /* NULL: same as desc */
};

const struct img_kind_desc *img_kind(enum img_kind kind);
const struct img_kind_desc *img_kind_by_magic(uint32_t magic);
/* Parse a file name such as "core-42.img"; returns NULL for unknown names. */
const struct img_kind_desc *img_kind_by_filename(const char *fname, long *id);
/* "core-42.img" or "inventory.img" into buf. */
void img_filename(char *buf, size_t len, enum img_kind kind, long id);

/* crc32c (Castagnoli), hardware accelerated; crc=0 to start. */
uint32_t img_crc32c(uint32_t crc, const void *buf, size_t len);
/* The crc32c of the first len bytes of fd, read with pread() a MiB at a time into a buffer:
 * summing what a read just wrote measured 3-5x faster here than summing a file through its
 * mapping (1 GiB on tmpfs: 0.10-0.15 s against 0.47-0.55 s). 0, or -errno (-EIO: the file is
 * shorter than len). */
int img_pread_crc32c(int fd, uint64_t len, uint32_t *crc);
/* The crc32c of A then B, from crc_a, crc_b and B's length. With many B of one length, take
 * img_crc32c_shift(len_b) once and use img_crc32c_combine_op(). */
uint32_t img_crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b);
uint32_t img_crc32c_shift(uint64_t len_b);
/* crc64 (ECMA-182, reflected) of buf: the sum of a page's contents that a pre-dump chain compares
 * (64 bits: a changed page passes for unchanged with odds 2^-64, not crc32c's 2^-32). */
uint64_t img_crc64(const void *buf, size_t len);
uint32_t img_crc32c_combine_op(uint32_t crc_a, uint32_t crc_b, uint32_t shift_b);

/* An open image directory (holds an O_DIRECTORY fd). */
struct img_dir;
int img_dir_open(const char *path, bool create, struct img_dir **out, struct img_err *err);
void img_dir_close(struct img_dir *d);
int img_dir_fd(const struct img_dir *d);
const char *img_dir_path(const struct img_dir *d);
/* The files of d that this library writes: names ending in ".img", and the ".img.tmp" a
 * writer leaves while it works. */
struct img_dir_usage {
	unsigned int files;
	uint64_t bytes;
	char first[256]; /* one of their names ("" when there is none) */
};
bool img_is_image_name(const char *name);
int img_dir_usage(struct img_dir *d, struct img_dir_usage *u, struct img_err *err);
/* Remove every such file of d (an earlier dump's images): 0, or -errno naming the file. */
int img_dir_clear(struct img_dir *d, struct img_err *err);

/* --- an image directory elsewhere: a sink (sink.c) --- */
/* Where the files written through a sink go. A record file, and a raw file a caller writes
 * through raw_file_create()'s fd, is kept in memory (a memfd) until its commit and goes then,
 * whole: begin, data (from offset 0 on; a piece that is all zero is left out, but never a file's
 * last byte), end. A pages file (images/pages.h) streams: begin when its writer opens, data
 * as the page writer's buffers fill (at their offsets, in any order), end at its commit. One
 * file at a time goes: a file committed while a pages file streams is refused (-EBUSY; a dump
 * commits its files one after another). A streamed file given up (page_writer_abort()) can't
 * be taken back: every later file is refused (-ECANCELED), and the caller discards the whole
 * set. Each returns 0 or -errno with err filled; data is called from the page writer's threads
 * too, never two calls at once per thread, but calls from different threads at once: the
 * caller's operations serialize them. */
struct img_sink_ops {
	int (*begin)(void *arg, const char *name, struct img_err *err);
	/* len (> 0) bytes of the file begun last, at off */
	int (*data)(void *arg, uint64_t off, const void *buf, size_t len, struct img_err *err);
	/* size: the file's; crc: its manifest crc32c (img_file_crc()) */
	int (*end)(void *arg, const char *name, uint64_t size, uint32_t crc, struct img_err *err);
	/* img_dir_remove_written(): whatever was sent is to go */
	int (*discard)(void *arg, struct img_err *err);
};
/* An img_dir whose files go to ops (arg is theirs). label names it in messages ("page server
 * 198.18.0.2:7000"; img_dir_path() returns it). It has no directory fd (img_dir_fd() is -1):
 * readers, img_dir_lock(), img_dir_clear(), img_dir_remove_tmp(), img_dir_dump_id() and
 * img_file_crc() fail with -EBADF; img_dir_usage() counts the files committed through it. */
int img_dir_open_sink(const char *label, const struct img_sink_ops *ops, void *arg,
		      struct img_dir **out, struct img_err *err);
bool img_dir_is_sink(const struct img_dir *d);

/* --- one dump's set of files (manifest.c) --- */
/* The lock of an image directory (flock on the directory itself, so nothing is added to it): a
 * dump holds it exclusive while it writes, a restore shared while it reads. Refused at once when
 * taken, naming the holder (from /proc/locks): -EBUSY. Released by img_dir_close(), or with
 * the process. 1 (nothing locked) on a kernel without file locking (flock: ENOSYS). */
int img_dir_lock(struct img_dir *d, bool exclusive, struct img_err *err);
/* The dump id of the dump in d (its inventory.img): 0, -ENOENT (no inventory.img), -ENOTSUP
 * (a dump by an older criu-lite, without one), or another -errno; err says which. */
int img_dir_dump_id(struct img_dir *d, uint32_t *id, struct img_err *err);
/* Remove the "*.img.tmp" files a killed dump left (under the lock): how many, or -errno. */
int img_dir_remove_tmp(struct img_dir *d, struct img_err *err);
/* The dump id written into every record file's header from now on (a writer's). */
void img_dir_set_dump_id(struct img_dir *d, uint32_t id);
/* From now on, readers refuse a record file whose header names another dump id. */
void img_dir_expect_dump_id(struct img_dir *d, uint32_t id);
/* The files committed through d so far, in order (name, size, manifest crc32c: see
 * img_file_crc()). */
struct img_file_note {
	const char *name;
	uint64_t size;
	uint32_t crc;
};
size_t img_dir_nr_written(const struct img_dir *d);
struct img_file_note img_dir_written(const struct img_dir *d, size_t i);
/* Durability of a set at once: after img_dir_sync_later(), files committed through d are
 * renamed into place without an fsync each; img_dir_sync() then fsyncs every file committed so
 * far and the directory (the file system commits them together: the first fsync's journal
 * commit carries them all, the others find nothing left to do) and ends the deferral, so what
 * comes next (the manifest, last) is made durable on its own as before. A dump killed before
 * the manifest is durable leaves no usable set either way. 0 or -errno. */
void img_dir_sync_later(struct img_dir *d);
int img_dir_sync(struct img_dir *d, struct img_err *err);
/* Remove exactly the files committed through d (a failed dump): 0 or -errno. A sink's
 * discard operation, for a sink. */
int img_dir_remove_written(struct img_dir *d, struct img_err *err);
/* Size and manifest crc32c of the file name of d: of its whole contents, except for a record
 * file, of everything before its trailer's crc field (which is what that field holds): 0, or
 * -errno (-ENOENT when missing). */
int img_file_crc(struct img_dir *d, const char *name, uint64_t *size, uint32_t *crc,
		 struct img_err *err);

/* --- writing --- */
struct img_writer;
int img_writer_open(struct img_dir *d, enum img_kind kind, long id, struct img_writer **out,
		    struct img_err *err);
/* Append one record; msg must be of the kind's descriptor (first_desc for the first).
 * A wrong type or an oversized record is refused and the writer stays usable;
 * after an I/O error the writer is dead (commit fails, abort cleans up). */
int img_write(struct img_writer *w, const ProtobufCMessage *msg, struct img_err *err);
/* Trailer, fsync, rename into place, free. On error the temp file is removed. */
int img_writer_commit(struct img_writer *w, struct img_err *err);
/* Remove the temp file and free (safe on NULL). */
void img_writer_abort(struct img_writer *w);
/* A whole record file at once: open, every message of msgs[0..n), commit; on any
 * failure nothing is left behind and err says why. */
int img_write_file(struct img_dir *d, enum img_kind kind, long id,
		   const ProtobufCMessage *const *msgs, size_t n, struct img_err *err);

/* --- reading --- */
struct img_reader;
/* Open and fully verify a file; -ENOENT (with message) if it does not exist. */
int img_reader_open(struct img_dir *d, enum img_kind kind, long id, struct img_reader **out,
		    struct img_err *err);
/* Verify and read a file by path, kind taken from its magic (for `show`). */
int img_reader_open_path(const char *path, struct img_reader **out, struct img_err *err);
/* Verify an in-memory copy (tests, fuzzing); name is used in messages. buf is copied. */
int img_reader_open_buf(const char *name, const void *buf, size_t len, struct img_reader **out,
			struct img_err *err);
const struct img_kind_desc *img_reader_kind(const struct img_reader *r);
unsigned img_reader_count(const struct img_reader *r);
/* The dump id in the file's header (0 for a version 1 file). */
uint32_t img_reader_dump_id(const struct img_reader *r);
/* Next record, unpacked: 1 and *msg set, 0 at the end, <0 on error.
 * Free *msg with protobuf_c_message_free_unpacked(*msg, NULL). */
int img_read(struct img_reader *r, ProtobufCMessage **msg, struct img_err *err);
/* Read exactly one record and expect the end of file (single-record kinds). */
int img_read_one(struct img_dir *d, enum img_kind kind, long id, ProtobufCMessage **msg,
		 struct img_err *err);
void img_reader_close(struct img_reader *r);

/* --- raw data files (pages-N.img, ghost-N.img) --- */
/* Write a raw file atomically: data is written by the caller through *fd,
 * then raw_file_commit() fsyncs and renames. In a sink, fd is a memfd, sent at commit. */
struct raw_file {
	struct img_dir *dir;
	int dirfd;
	int fd;
	bool streamed; /* a pages file streaming into a sink: no fd (images/page-writer.c) */
	char name[64];
	char tmp[72];
};
int raw_file_create(struct img_dir *d, const char *name, struct raw_file *rf, struct img_err *err);
int raw_file_commit(struct raw_file *rf, struct img_err *err);
/* The same, and the file goes into d's list of written files with its size and crc32c (the
 * caller summed them while writing). */
int raw_file_commit_noted(struct raw_file *rf, uint64_t size, uint32_t crc, struct img_err *err);
void raw_file_abort(struct raw_file *rf);
/* A raw file of name holding the len bytes of buf, written whole and committed (noted with its
 * size and crc32c): 0, or -errno with err filled and nothing left behind. */
int raw_file_put(struct img_dir *d, const char *name, const void *buf, size_t len,
		 struct img_err *err);

#endif
