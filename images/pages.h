/* pages: page images of one address space (a task, or later a shmem object).
 *
 * Contract:
 * - pagemap-<id>.img is a record file: a pagemap_head (pages file id, size,
 *   crc32c), then pagemap_entry runs in strictly increasing, non-overlapping
 *   address order. PE_PRESENT runs have their bytes back to back in
 *   pages-<id>.img at entry.offset (page aligned, offsets increasing with no
 *   gaps); PE_ZERO / PE_LAZY-only / PE_PARENT runs store nothing.
 * - The writer buffers page data and writes it in large batches; callers may
 *   fill the buffer in place (page_writer_reserve) to avoid a copy, e.g. with
 *   process_vm_readv. Adjacent runs with equal flags are merged.
 * - The reader verifies the pagemap file (img.h rules), the pages file size
 *   and crc32c, and the run invariants above, before returning. It maps the
 *   pages file read-only so restore can copy straight from it.
 */
#ifndef CRIU_LITE_PAGES_H
#define CRIU_LITE_PAGES_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "images/img.h"
#include "pagemap.pb-c.h"

#define IMG_PAGE_SIZE 4096u

struct page_run {
	uint64_t vaddr;
	uint64_t nr_pages;
	uint32_t flags;	 /* PAGEMAP_FLAGS__PE_* */
	uint64_t offset; /* in the pages file, for PE_PRESENT */
};

struct page_writer;
int page_writer_open(struct img_dir *d, long id, struct page_writer **out, struct img_err *err);
/* The same for another kind: IMG_SHMEM_PAGEMAP writes pagemap-shmem-<id>.img
 * and pages-shmem-<id>.img (the contents of shared memory object <id>). */
int page_writer_open_kind(struct img_dir *d, enum img_kind kind, long id, struct page_writer **out,
			  struct img_err *err);
/* Write buffers kept from one page writer to the next (one writer at a time):
 * a dump of many tasks then faults its buffers in once, not once per task. */
struct page_bufs;
struct page_bufs *page_bufs_new(void);
void page_bufs_free(struct page_bufs *b);
/* page_writer_open_kind() taking its buffers from bufs (NULL: its own). */
int page_writer_open_cached(struct img_dir *d, enum img_kind kind, long id, struct page_bufs *bufs,
			    struct page_writer **out, struct img_err *err);
/* A writer whose pages go elsewhere (a lazy migration serves them from the frozen tree): it
 * takes them as any writer does, but only sums them (images/pagecrc.h) and writes the
 * pagemap; the pages file is listed among the files written (the manifest: its size and
 * crc32c) but not written. */
int page_writer_open_elsewhere(struct img_dir *d, enum img_kind kind, long id,
			       struct page_writer **out, struct img_err *err);
/* Return a buffer for nr_pages pages that the next page_writer_add() with
 * data == that buffer consumes without copying. Runs may consume it a part at a time: after
 * an add of k < nr_pages of it, the reservation is the rest (data + k pages, nr_pages - k),
 * and runs without data in between keep it. Valid until it is used up, or an add with other
 * data, or a failure. */
void *page_writer_reserve(struct page_writer *w, uint64_t nr_pages, struct img_err *err);
/* Append a run at vaddr (page aligned, above every earlier run). data holds
 * nr_pages pages when flags has PE_PRESENT, else must be NULL. */
int page_writer_add(struct page_writer *w, uint64_t vaddr, uint64_t nr_pages, uint32_t flags,
		    const void *data, struct img_err *err);
/* A PE_PRESENT run whose pages come later (a live snapshot copies them while the tree runs):
 * its place in the pages file is kept, at *off. Only into a local file (not elsewhere, not a
 * sink). page_writer_fill() then writes len bytes of data at file offset off (inside deferred
 * places; any order, any time before the commit, which sums the whole file again), copied into
 * the writer's buffer and written in the background (data is the caller's again on return). */
int page_writer_defer(struct page_writer *w, uint64_t vaddr, uint64_t nr_pages, uint64_t *off,
		      struct img_err *err);
int page_writer_fill(struct page_writer *w, uint64_t off, const void *data, uint64_t len,
		     struct img_err *err);
/* Totals so far (for logs and benchmarks): pages of the runs whose flags
 * include every bit of flag; flag 0 counts every page. */
uint64_t page_writer_pages(const struct page_writer *w, uint32_t flag);
int page_writer_commit(struct page_writer *w, struct img_err *err);
void page_writer_abort(struct page_writer *w);

struct page_reader;
int page_reader_open(struct img_dir *d, long id, struct page_reader **out, struct img_err *err);
int page_reader_open_kind(struct img_dir *d, enum img_kind kind, long id, struct page_reader **out,
			  struct img_err *err);
/* page_reader_open() without reading the pages file: its size is checked, and its chunk checksums
 * against its crc32c (images/pagecrc.h), not its contents (page_reader_crc() says what the
 * pagemap's head says it is). For a lazy restore: whoever reads bytes of it checks them first with
 * page_reader_verify(). */
int page_reader_open_unchecked(struct img_dir *d, enum img_kind kind, long id,
			       struct page_reader **out, struct img_err *err);
/* The pagemap alone, for pages that come from elsewhere (a page server): the pages file is
 * not opened (page_reader_data() is NULL), its size, name and chunk checksums are the head's.
 * page_reader_take() checks bytes that came for it. */
int page_reader_open_meta(struct img_dir *d, enum img_kind kind, long id, struct page_reader **out,
			  struct img_err *err);
/* The pages of a reader opened alone come from fn: page_reader_verify() fetches the chunks of
 * its range not checked yet (whole ones, len bytes at off of the pages file, into buf) and
 * checks them; page_reader_data() is then a private mapping they are fetched into. fn returns 0
 * or -errno with err filled. */
typedef int (*page_fetch_fn)(void *arg, enum img_kind kind, long id, uint64_t off, uint64_t len,
			     void *buf, struct img_err *err);
int page_reader_set_fetch(struct page_reader *r, page_fetch_fn fn, void *arg, struct img_err *err);
/* The pagemap's head has a checksum per chunk (images/pagecrc.h; an older dump's has none). */
bool page_reader_chunked(const struct page_reader *r);
/* buf holds bytes [off, off + len) of the pages file: each chunk lying wholly in it and not
 * checked yet is checked now (a short last chunk of the file counts as whole): 0, -EBADMSG
 * naming the chunk, -EINVAL when the range is not in the file. Not thread safe. */
int page_reader_take(struct page_reader *r, const void *buf, uint64_t off, uint64_t len,
		     struct img_err *err);
/* The chunk holding byte off of the pages file was checked. */
bool page_reader_verified(const struct page_reader *r, uint64_t off);
/* ... and is to be checked again when it next comes to page_reader_take() (who took it used its
 * bytes and did not keep them). */
void page_reader_forget(struct page_reader *r, uint64_t off);
/* fn for every page image of d (pagemap-<id>.img: IMG_PAGEMAP, pagemap-shmem-<id>.img:
 * IMG_SHMEM_PAGEMAP), in directory order, until it returns non-zero: that, 0, or -errno
 * (err filled) when d can't be listed. */
int page_images_each(struct img_dir *d, int (*fn)(void *arg, enum img_kind kind, long id),
		     void *arg, struct img_err *err);
size_t page_reader_nr_runs(const struct page_reader *r);
const struct page_run *page_reader_runs(const struct page_reader *r);
/* Pages of the runs whose flags include every bit of flag (0: every page); 0 for NULL. */
uint64_t page_reader_pages(const struct page_reader *r, uint32_t flag);
/* The pages file behind r ("pages-12.img") and the crc32c of its whole contents, which
 * page_reader_open() checked against the pagemap's head. */
const char *page_reader_pages_name(const struct page_reader *r);
uint32_t page_reader_crc(const struct page_reader *r);
/* Check bytes [off, off + len) of the pages file (the chunks around them not checked yet; the
 * whole file once for a dump without chunk checksums): 0, or -EBADMSG naming the chunk. A
 * reader page_reader_open() checked says 0 at once. Not thread safe. */
int page_reader_verify(struct page_reader *r, uint64_t off, uint64_t len, struct img_err *err);
/* A buffer page_reader_read() reads into, the caller's (free(buf) when done). */
struct page_buf {
	void *buf;
	size_t cap;
	const struct page_reader *r; /* what buf holds: bytes [at, at + len) of r's file */
	uint64_t at, len;
	uint64_t next; /* where the last request ended: a request from there reads ahead */
};
/* Bytes [off, off + len) of the pages file, checked: read with pread() into b in whole chunks
 * (each checked there when it was not yet), *data pointing at them (valid until b is used
 * again). A request that goes on where the last one ended reads PAGE_READAHEAD bytes at once, and
 * one that b holds already is not read again. A lazy server's way: no page of the file's mapping
 * is faulted in, and the bytes are read from memory once. 0 or -errno (-EBADMSG naming the
 * chunk). */
#define PAGE_READAHEAD (256ULL << 10)
int page_reader_read(struct page_reader *r, uint64_t off, uint64_t len, struct page_buf *b,
		     const void **data, struct img_err *err);
/* The run containing addr, or NULL. */
const struct page_run *page_reader_find(const struct page_reader *r, uint64_t addr);
/* The same in any sorted array of n runs (a page source's). */
const struct page_run *page_runs_find(const struct page_run *runs, size_t n, uint64_t addr);
/* Whether a run whose flags include every bit of flag overlaps [start, end); false for NULL. */
bool page_reader_any(const struct page_reader *r, uint64_t start, uint64_t end, uint32_t flag);
/* Bytes of the pages file (read-only mapping; NULL when it is empty). */
const void *page_reader_data(const struct page_reader *r);
uint64_t page_reader_size(const struct page_reader *r);
int page_reader_fd(const struct page_reader *r);
void page_reader_close(struct page_reader *r);

#endif
