/* pagepool: background writers for a pages file (internal to images/).
 *
 * Contract: the page writer fills one buffer at a time (pw_pool_buf) and
 * hands it over with the file offset its bytes belong at (pw_pool_submit);
 * up to `threads` threads write submitted buffers out through the pool's write
 * function (pwrite() to the pages file, or a sink's data: img.h) while the
 * caller fills the next one. On this kind of host, faulting in fresh tmpfs
 * pages is the cost of a dump, and two writers do it about twice as fast as one.
 * Buffers are allocated on first use, so a small image costs one buffer.
 * pw_pool_drain() waits for every write and returns the first error
 * (-errno), whose message pw_pool_error() keeps; after an error, nothing more
 * is written. Not thread-safe: one caller thread. */
#ifndef CRIU_LITE_PAGEPOOL_H
#define CRIU_LITE_PAGEPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "images/img.h"

struct pw_pool;

/* Write len bytes of buf at off: 0, or -errno with err filled. Called from the pool's threads
 * and from pw_pool_write_now()'s caller. */
typedef int (*pw_write_fn)(void *arg, const void *buf, size_t len, uint64_t off,
			   struct img_err *err);

/* Buffers kept between pools (one pool at a time), so a dump of many tasks
 * faults its write buffers in once. */
struct pw_bufs;
struct pw_bufs *pw_bufs_new(void);
void pw_bufs_free(struct pw_bufs *b);

/* cache may be NULL: buffers are then unmapped when the pool closes. */
int pw_pool_open(struct pw_pool **out, pw_write_fn fn, void *arg, unsigned int threads,
		 size_t bufsize, struct pw_bufs *cache);
/* The buffer to fill next, at least `need` bytes (0: the usual size); *cap
 * gets its size. NULL with -errno in *err on failure. */
uint8_t *pw_pool_buf(struct pw_pool *p, size_t need, size_t *cap, int *err);
/* Queue the first len bytes of the current buffer for offset off. */
int pw_pool_submit(struct pw_pool *p, size_t len, off_t off);
/* Write data (not a pool buffer) at off now, in the caller's thread. */
int pw_pool_write_now(struct pw_pool *p, const void *data, size_t len, off_t off);
int pw_pool_drain(struct pw_pool *p);
/* The message of the first failed write ("" when none). */
const char *pw_pool_error(struct pw_pool *p);
void pw_pool_close(struct pw_pool *p);

#endif
