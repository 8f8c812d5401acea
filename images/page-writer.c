/* page-writer: writing the page images of one address space (pagemap-<id>.img +
 * pages-<id>.img), see pages.h for the contract.
 *
 * Page data goes into one large anonymous buffer (callers may fill it in place via
 * page_writer_reserve) that is written out with one write() per PW_BUF_SIZE bytes; data bigger
 * than the buffer is written straight from the caller's memory. The crc32c is summed as data
 * arrives. Runs live in memory and go to the pagemap file at commit, after the pages file is
 * committed. Into a sink (img.h) the pages file streams: one background writer hands its buffers
 * over as they fill.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/pages.h"
#include "images/img-priv.h"
#include "images/pagecrc.h"
#include "images/pagepool.h"
#include "images/pages-priv.h"

/* the usual write batch: small, as each buffer's first touch costs a host fault per page on a VM
 * (4 x 8 MiB buffers were 80-140 ms of a 64 MiB dump here; bench/README.md) */
#define PW_BUF_SIZE    (256u << 10)
#define PW_WRITERS     2 /* background writer threads (pagepool.h) */
#define PW_RESERVE_MAX (1ull << 30)
#define PW_RESUM_PIECE (1u << 20) /* read back at once to sum a file with deferred places */

struct page_writer {
	struct img_dir *dir;
	enum img_kind kind; /* IMG_PAGEMAP or IMG_SHMEM_PAGEMAP */
	long id;
	struct raw_file rf;
	struct pw_pool *pool;	 /* writes full buffers in the background (pagepool.h) */
	off_t foff;		 /* file offset of the current buffer's first byte */
	char name[IMG_NAME_MAX]; /* pages-<id>.img, for messages */
	int failed;		 /* negative errno of the first I/O failure */
	uint8_t *buf;
	size_t cap;
	size_t fill;
	void *reserved; /* handed out by page_writer_reserve, or NULL */
	uint64_t reserved_nr;
	uint64_t size;	    /* bytes of page data so far (written + buffered) */
	struct pagecrc crc; /* per chunk, and whole */
	struct page_run *runs;
	size_t nr_runs;
	size_t runs_alloc;
	bool elsewhere; /* the pages are not written: their sums and the pagemap only */
	bool deferred;	/* some places are filled later (page_writer_defer): summed at commit */
};

static int pw_io_error(struct page_writer *w, int ret, struct img_err *err)
{
	const char *why = ret && w->pool ? pw_pool_error(w->pool) : "";

	if (ret == -ENOMEM && !why[0])
		w->failed = img_fail(err, ENOMEM, "%s: out of memory for a write buffer", w->name);
	else if (ret && why[0]) /* what the write that failed said */
		w->failed = img_fail(err, -ret, "%s", why);
	else if (ret)
		w->failed = img_fail(err, -ret, "%s: write: %s", w->name, strerror(-ret));
	return ret ? w->failed : 0;
}

/* The pool's write function: bytes of the pages file, into it or into the sink it streams to. */
static int pw_out(void *arg, const void *buf, size_t len, uint64_t off, struct img_err *err)
{
	struct page_writer *w = arg;
	const uint8_t *p = buf;

	if (w->rf.streamed)
		return img_sink_data(w->dir, off, buf, len, err);
	while (len) {
		ssize_t n = pwrite(w->rf.fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return img_fail(err, n < 0 ? errno : EIO, "%s: write: %s", w->rf.tmp,
					n < 0 ? strerror(errno) : "wrote nothing");
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Large data straight from the caller's memory, in this thread. */
static int pw_write(struct page_writer *w, const void *data, size_t len, struct img_err *err)
{
	int ret = pw_pool_write_now(w->pool, data, len, w->foff);

	w->foff += (off_t)len;
	return pw_io_error(w, ret, err);
}

/* Hand the buffer to the background writers and take the next one. */
static int pw_flush(struct page_writer *w, struct img_err *err)
{
	int ret = 0;

	if (w->elsewhere) { /* summed as they came: nothing to write */
		w->foff += (off_t)w->fill;
		w->fill = 0;
		return 0;
	}
	if (w->fill) {
		ret = pw_pool_submit(w->pool, w->fill, w->foff);
		w->foff += (off_t)w->fill;
		w->fill = 0;
		if (!ret) {
			w->buf = pw_pool_buf(w->pool, 0, &w->cap, &ret);
			if (!w->buf)
				w->cap = 0;
		}
	}
	return pw_io_error(w, ret, err);
}

int page_writer_open(struct img_dir *d, long id, struct page_writer **out, struct img_err *err)
{
	return page_writer_open_kind(d, IMG_PAGEMAP, id, out, err);
}

struct page_bufs {
	struct pw_bufs *kept; /* pagepool.h */
};

struct page_bufs *page_bufs_new(void)
{
	struct page_bufs *b = calloc(1, sizeof(*b));

	if (b && !(b->kept = pw_bufs_new())) {
		free(b);
		b = NULL;
	}
	return b;
}

void page_bufs_free(struct page_bufs *b)
{
	if (b)
		pw_bufs_free(b->kept);
	free(b);
}

int page_writer_open_kind(struct img_dir *d, enum img_kind kind, long id, struct page_writer **out,
			  struct img_err *err)
{
	return page_writer_open_cached(d, kind, id, NULL, out, err);
}

/* A writer (d, kind, id) named and checked, with no file yet. */
static int pw_new(struct img_dir *d, enum img_kind kind, long id, struct page_writer **out,
		  struct img_err *err)
{
	struct page_writer *w;

	*out = NULL;
	if (id < 0 || (unsigned long)id > UINT32_MAX)
		return img_fail(err, EINVAL, "pages: bad id %ld", id);
	w = calloc(1, sizeof(*w));
	if (!w)
		return img_fail(err, ENOMEM, "%s%ld.img: out of memory", pages_prefix(kind), id);
	w->dir = d;
	w->kind = kind;
	w->id = id;
	w->rf.fd = -1;
	pagecrc_init(&w->crc);
	snprintf(w->name, sizeof(w->name), "%s%ld.img", pages_prefix(kind), id);
	*out = w;
	return 0;
}

int page_writer_open_elsewhere(struct img_dir *d, enum img_kind kind, long id,
			       struct page_writer **out, struct img_err *err)
{
	int ret = pw_new(d, kind, id, out, err);

	if (ret)
		return ret;
	(*out)->elsewhere = true;
	(*out)->cap = PW_BUF_SIZE;
	(*out)->buf = malloc(PW_BUF_SIZE);
	if (!(*out)->buf) {
		page_writer_abort(*out);
		*out = NULL;
		return img_fail(err, ENOMEM, "pages: cannot allocate a %zu byte buffer",
				(size_t)PW_BUF_SIZE);
	}
	return 0;
}

int page_writer_open_cached(struct img_dir *d, enum img_kind kind, long id, struct page_bufs *bufs,
			    struct page_writer **out, struct img_err *err)
{
	struct page_writer *w;
	int ret;

	ret = pw_new(d, kind, id, &w, err);
	if (ret)
		return ret;
	if (img_dir_is_sink(d)) { /* streamed as the buffers fill */
		w->rf = (struct raw_file){ .dir = d, .dirfd = -1, .fd = -1, .streamed = true };
		snprintf(w->rf.name, sizeof(w->rf.name), "%s", w->name);
		ret = img_sink_begin_stream(d, w->name, err);
		w->rf.streamed = !ret;
	} else {
		ret = raw_file_create(d, w->name, &w->rf, err);
	}
	if (ret) {
		page_writer_abort(w);
		return ret;
	}
	/* one writer into a sink: a connection, whose frames go one at a time, in file order */
	if (pw_pool_open(&w->pool, pw_out, w, img_dir_is_sink(d) ? 1 : PW_WRITERS, PW_BUF_SIZE,
			 bufs ? bufs->kept : NULL) ||
	    !(w->buf = pw_pool_buf(w->pool, 0, &w->cap, &ret))) {
		page_writer_abort(w);
		return img_fail(err, ENOMEM, "%s: cannot allocate a %zu byte buffer", w->name,
				(size_t)PW_BUF_SIZE);
	}
	*out = w;
	return 0;
}

void *page_writer_reserve(struct page_writer *w, uint64_t nr_pages, struct img_err *err)
{
	uint64_t len;

	w->reserved = NULL;
	if (w->failed) {
		img_fail(err, -w->failed, "%s: writer failed earlier", w->name);
		return NULL;
	}
	if (nr_pages == 0 || nr_pages > PW_RESERVE_MAX / IMG_PAGE_SIZE) {
		img_fail(err, EINVAL, "%s: cannot reserve %llu pages (1..%llu)", w->name,
			 (unsigned long long)nr_pages,
			 (unsigned long long)(PW_RESERVE_MAX / IMG_PAGE_SIZE));
		return NULL;
	}
	len = nr_pages * IMG_PAGE_SIZE;
	if (w->cap - w->fill < len && pw_flush(w, err))
		return NULL;
	if (w->cap < len) {
		/* a caller asking for more than the usual batch: grow once (it is empty) */
		int ret = 0;
		uint8_t *nb =
		    w->elsewhere ? realloc(w->buf, len) : pw_pool_buf(w->pool, len, &w->cap, &ret);

		if (nb && w->elsewhere)
			w->cap = len;
		if (!nb) {
			img_fail(err, ENOMEM, "%s: cannot allocate %llu bytes", w->name,
				 (unsigned long long)len);
			return NULL;
		}
		w->buf = nb;
	}
	w->reserved = w->buf + w->fill;
	w->reserved_nr = nr_pages;
	return w->reserved;
}

/* Append page data, through the buffer or straight from data when large. */
static int pw_put(struct page_writer *w, const void *data, uint64_t len, struct img_err *err)
{
	const uint8_t *p = data;
	int ret;

	if (data == w->reserved) {
		/* already in place (page_writer_reserve) */
		if (pagecrc_add(&w->crc, data, len))
			return img_fail(err, ENOMEM, "%s: out of memory for checksums", w->name);
		if (!w->elsewhere)
			w->fill += len;
		return 0;
	}
	if (pagecrc_add(&w->crc, data, len))
		return img_fail(err, ENOMEM, "%s: out of memory for checksums", w->name);
	if (w->elsewhere)
		return 0;
	while (len) {
		size_t n;

		if (w->fill == 0 && len >= w->cap)
			return pw_write(w, p, len, err);
		n = w->cap - w->fill < len ? w->cap - w->fill : len;
		memcpy(w->buf + w->fill, p, n);
		w->fill += n;
		p += n;
		len -= n;
		if (w->fill == w->cap) {
			ret = pw_flush(w, err);
			if (ret)
				return ret;
		}
	}
	return 0;
}

static int pw_check_run(struct page_writer *w, uint64_t vaddr, uint64_t nr_pages, uint32_t flags,
			const void *data, bool later, struct img_err *err)
{
	const struct page_run *last = w->nr_runs ? &w->runs[w->nr_runs - 1] : NULL;
	unsigned long long va = vaddr;

	if (w->failed)
		return img_fail(err, -w->failed, "%s: writer failed earlier", w->name);
	if (vaddr % IMG_PAGE_SIZE)
		return img_fail(err, EINVAL, "%s: run at 0x%llx: address not page aligned", w->name,
				va);
	if (nr_pages == 0 || !run_fits(vaddr, nr_pages))
		return img_fail(err, EINVAL, "%s: run at 0x%llx: bad page count %llu", w->name, va,
				(unsigned long long)nr_pages);
	if (!flags_valid(flags))
		return img_fail(err, EINVAL, "%s: run at 0x%llx: bad flags 0x%x", w->name, va,
				flags);
	if (last && vaddr < run_end(last))
		return img_fail(err, EINVAL,
				"%s: run at 0x%llx: below the end 0x%llx of the previous run",
				w->name, va, (unsigned long long)run_end(last));
	if ((flags & PE_PRESENT) && !data && !later)
		return img_fail(err, EINVAL, "%s: run at 0x%llx: present pages without data",
				w->name, va);
	if (!(flags & PE_PRESENT) && data)
		return img_fail(err, EINVAL, "%s: run at 0x%llx: data for a run that stores none",
				w->name, va);
	if (data && data == w->reserved && nr_pages > w->reserved_nr)
		return img_fail(err, EINVAL, "%s: run at 0x%llx: %llu pages, only %llu reserved",
				w->name, va, (unsigned long long)nr_pages,
				(unsigned long long)w->reserved_nr);
	if ((flags & PE_PRESENT) && nr_pages > (UINT64_MAX - w->size) / IMG_PAGE_SIZE)
		return img_fail(err, EFBIG, "%s: too much page data", w->name);
	return 0;
}

/* A checked run into the list: merged with the last one when it goes on from it. */
static int pw_append(struct page_writer *w, uint64_t vaddr, uint64_t nr_pages, uint32_t flags,
		     struct img_err *err)
{
	struct page_run *last = w->nr_runs ? &w->runs[w->nr_runs - 1] : NULL;

	if (last && last->flags == flags && run_end(last) == vaddr) {
		/* the data (if any) went right after last's: just extend it */
		last->nr_pages += nr_pages;
	} else {
		if (w->nr_runs == w->runs_alloc) {
			size_t n = w->runs_alloc ? w->runs_alloc * 2 : 256;
			struct page_run *nr = realloc(w->runs, n * sizeof(*nr));

			if (!nr)
				return w->failed = img_fail(err, ENOMEM,
							    "%s: out of memory for runs", w->name);
			w->runs = nr;
			w->runs_alloc = n;
		}
		w->runs[w->nr_runs++] = (struct page_run){
			.vaddr = vaddr,
			.nr_pages = nr_pages,
			.flags = flags,
			.offset = (flags & PE_PRESENT) ? w->size : 0,
		};
	}
	if (flags & PE_PRESENT)
		w->size += nr_pages * IMG_PAGE_SIZE;
	return 0;
}

int page_writer_add(struct page_writer *w, uint64_t vaddr, uint64_t nr_pages, uint32_t flags,
		    const void *data, struct img_err *err)
{
	int ret;

	ret = pw_check_run(w, vaddr, nr_pages, flags, data, false, err);
	if (ret) {
		w->reserved = NULL;
		return ret;
	}
	if (flags & PE_PRESENT) {
		bool rest = data == w->reserved && nr_pages < w->reserved_nr;

		ret = pw_put(w, data, nr_pages * IMG_PAGE_SIZE, err);
		/* the rest of a reservation stays for the next runs with data (a run without
		 * data between them keeps it too: it stores nothing) */
		w->reserved = !ret && rest ? (uint8_t *)data + nr_pages * IMG_PAGE_SIZE : NULL;
		w->reserved_nr = w->reserved ? w->reserved_nr - nr_pages : 0;
		if (ret)
			return ret;
	}

	return pw_append(w, vaddr, nr_pages, flags, err);
}

int page_writer_defer(struct page_writer *w, uint64_t vaddr, uint64_t nr_pages, uint64_t *off,
		      struct img_err *err)
{
	int ret;

	w->reserved = NULL;
	if (w->elsewhere || w->rf.streamed || w->rf.fd < 0)
		return img_fail(err, EINVAL,
				"%s: pages can be filled in later only in a local file", w->name);
	ret = pw_check_run(w, vaddr, nr_pages, PE_PRESENT, NULL, true, err);
	/* what is buffered goes first: the place starts where the file's bytes end */
	if (!ret)
		ret = pw_flush(w, err);
	if (ret)
		return ret;
	*off = w->size;
	w->foff += (off_t)(nr_pages * IMG_PAGE_SIZE);
	w->deferred = true;
	return pw_append(w, vaddr, nr_pages, PE_PRESENT, err);
}

int page_writer_fill(struct page_writer *w, uint64_t off, const void *data, uint64_t len,
		     struct img_err *err)
{
	int ret;

	if (w->failed)
		return img_fail(err, -w->failed, "%s: writer failed earlier", w->name);
	if (!w->deferred || off > w->size || len > w->size - off)
		return img_fail(err, EINVAL, "%s: bytes %llu-%llu: not a place kept for later",
				w->name, (unsigned long long)off, (unsigned long long)(off + len));
	if (w->pool && w->buf && len <= w->cap) {
		/* through the background writers, as buffers are: the caller goes on at once
		 * (each new tmpfs page costs the writer a fault; two writers take them twice as
		 * fast). What the sequential runs left buffered goes first, at its own offset. */
		ret = w->fill ? pw_flush(w, err) : 0;
		if (ret)
			return ret;
		memcpy(w->buf, data, len);
		ret = pw_pool_submit(w->pool, len, (off_t)off);
		if (!ret) {
			w->buf = pw_pool_buf(w->pool, 0, &w->cap, &ret);
			if (!w->buf)
				w->cap = 0;
		}
		return pw_io_error(w, ret, err);
	}
	/* larger than a buffer: in this thread */
	ret = pw_out(w, data, len, off, err);
	if (ret)
		w->failed = ret;
	return ret;
}

/* Deferred places filled: the file's sums taken again from what it holds. */
static int pw_resum(struct page_writer *w, struct img_err *err)
{
	uint8_t *buf = malloc(PW_RESUM_PIECE);
	int ret = 0;

	if (!buf)
		return img_fail(err, ENOMEM, "%s: out of memory to sum it", w->name);
	if (ftruncate(w->rf.fd, (off_t)w->size)) { /* a last place never filled: a hole */
		free(buf);
		return img_fail(err, errno, "%s: truncate to %llu: %s", w->name,
				(unsigned long long)w->size, strerror(errno));
	}
	pagecrc_free(&w->crc);
	pagecrc_init(&w->crc);
	for (uint64_t off = 0; off < w->size && !ret;) {
		uint64_t n = w->size - off < PW_RESUM_PIECE ? w->size - off : PW_RESUM_PIECE;
		ssize_t got = pread(w->rf.fd, buf, n, (off_t)off);

		if (got != (ssize_t)n)
			ret = img_fail(err, got < 0 ? errno : EIO, "%s: read back at %llu: %s",
				       w->name, (unsigned long long)off,
				       got < 0 ? strerror(errno) : "short");
		else if (pagecrc_add(&w->crc, buf, n))
			ret = img_fail(err, ENOMEM, "%s: out of memory for checksums", w->name);
		off += n;
	}
	free(buf);
	return ret;
}

uint64_t page_writer_pages(const struct page_writer *w, uint32_t flag)
{
	return runs_pages(w->runs, w->nr_runs, flag);
}

static int write_pagemap(struct page_writer *w, struct img_err *err)
{
	PagemapHead head = PAGEMAP_HEAD__INIT;
	struct img_writer *iw;
	int ret;

	ret = img_writer_open(w->dir, w->kind, w->id, &iw, err);
	if (ret)
		return ret;
	head.pages_id = (uint32_t)w->id;
	head.pages_size = w->size;
	head.pages_crc32c = w->crc.whole;
	head.has_chunk_shift = true;
	head.chunk_shift = PAGECRC_SHIFT;
	head.n_chunk_crc32c = w->crc.n;
	head.chunk_crc32c = w->crc.v;
	ret = img_write(iw, &head.base, err);
	for (size_t i = 0; !ret && i < w->nr_runs; i++) {
		PagemapEntry e = PAGEMAP_ENTRY__INIT;

		e.vaddr = w->runs[i].vaddr;
		e.nr_pages = w->runs[i].nr_pages;
		e.flags = w->runs[i].flags;
		if (e.flags & PE_PRESENT) {
			e.has_offset = true;
			e.offset = w->runs[i].offset;
		}
		ret = img_write(iw, &e.base, err);
	}
	if (ret) {
		img_writer_abort(iw);
		return ret;
	}
	return img_writer_commit(iw, err);
}

static void pw_free(struct page_writer *w)
{
	if (w->elsewhere)
		free(w->buf);
	pw_pool_close(w->pool); /* waits for the writers; owns the buffers */
	pagecrc_free(&w->crc);
	free(w->runs);
	free(w);
}

int page_writer_commit(struct page_writer *w, struct img_err *err)
{
	int ret;

	if (w->failed) {
		ret = img_fail(err, -w->failed, "%s: not committed: an earlier write failed",
			       w->name);
		page_writer_abort(w);
		return ret;
	}
	ret = pw_flush(w, err);
	if (!ret && !w->elsewhere)
		ret = pw_io_error(w, pw_pool_drain(w->pool), err);
	if (!ret && w->deferred)
		ret = pw_resum(w, err);
	if (ret) {
		page_writer_abort(w);
		return ret;
	}
	if (pagecrc_finish(&w->crc)) {
		ret = img_fail(err, ENOMEM, "%s: out of memory for checksums", w->name);
		page_writer_abort(w);
		return ret;
	}
	/* elsewhere: listed in the manifest, with what it would hold, but not written */
	ret = w->elsewhere ? img_dir_note_elsewhere(w->dir, w->name, w->size, w->crc.whole, err)
			   : raw_file_commit_noted(&w->rf, w->size, w->crc.whole, err);
	if (!ret) {
		ret = write_pagemap(w, err);
		/* a pages file without its pagemap is useless (a sink's set is lost anyway) */
		if (ret && !img_dir_is_sink(w->dir))
			unlinkat(img_dir_fd(w->dir), w->name, 0);
	}
	pw_free(w);
	return ret;
}

void page_writer_abort(struct page_writer *w)
{
	if (!w)
		return;
	pw_pool_close(w->pool); /* no writer may touch the fd once it is closed */
	w->pool = NULL;
	raw_file_abort(&w->rf);
	pw_free(w);
}
