/* pages: writing and reading the page images of one address space
 * (pagemap-<id>.img + pages-<id>.img), see pages.h for the contract.
 *
 * Writer: page data goes into one large anonymous buffer (callers may fill it
 * in place via page_writer_reserve) that is written out with one write() per
 * PW_BUF_SIZE bytes; data bigger than the buffer is written straight from the
 * caller's memory. The crc32c is summed as data arrives. Runs live in memory
 * and go to the pagemap file at commit, after the pages file is committed. Into a sink (img.h)
 * the pages file streams: one background writer hands its buffers over as they fill.
 *
 * Reader: every run invariant is checked against the head before the pages
 * file is mapped, then its size and crc32c are checked.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/pages.h"
#include "images/img-priv.h"
#include "images/pagecrc.h"
#include "images/pagepool.h"

#define PW_BUF_SIZE    (8u << 20) /* the usual write batch */
#define PW_WRITERS     2	  /* background writer threads (pagepool.h) */
#define PW_RESERVE_MAX (1ull << 30)

#define PE_PRESENT PAGEMAP_FLAGS__PE_PRESENT
#define PE_ZERO	   PAGEMAP_FLAGS__PE_ZERO
#define PE_LAZY	   PAGEMAP_FLAGS__PE_LAZY
#define PE_PARENT  PAGEMAP_FLAGS__PE_PARENT
#define PE_COW	   PAGEMAP_FLAGS__PE_COW
#define PE_KNOWN   (PE_PRESENT | PE_ZERO | PE_LAZY | PE_PARENT | PE_COW)

/* Known bits only, at least one, and at most one place the contents come
 * from (the pages file, zero, the parent image or the parent task); PE_LAZY combines with
 * any. */
static bool flags_valid(uint32_t flags)
{
	if (!flags || (flags & ~(uint32_t)PE_KNOWN))
		return false;
	return __builtin_popcount(flags & (PE_PRESENT | PE_ZERO | PE_PARENT | PE_COW)) <= 1;
}

/* Bytes covered by nr pages at vaddr, or false if vaddr + that overflows. */
static bool run_fits(uint64_t vaddr, uint64_t nr_pages)
{
	return nr_pages <= (UINT64_MAX - vaddr) / IMG_PAGE_SIZE;
}

static uint64_t run_end(const struct page_run *r)
{
	return r->vaddr + r->nr_pages * IMG_PAGE_SIZE;
}

/* --- writer --- */

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

/* "pages-" for a task's pages, "pages-shmem-" for a shared memory object's. */
static const char *pages_prefix(enum img_kind kind)
{
	return kind == IMG_SHMEM_PAGEMAP ? "pages-shmem-" : "pages-";
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
		if (pagecrc_add(&w->crc, w->buf + w->fill, len))
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
			const void *data, struct img_err *err)
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
	if ((flags & PE_PRESENT) && !data)
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

int page_writer_add(struct page_writer *w, uint64_t vaddr, uint64_t nr_pages, uint32_t flags,
		    const void *data, struct img_err *err)
{
	struct page_run *last;
	int ret;

	ret = pw_check_run(w, vaddr, nr_pages, flags, data, err);
	if (ret) {
		w->reserved = NULL;
		return ret;
	}
	if (flags & PE_PRESENT) {
		ret = pw_put(w, data, nr_pages * IMG_PAGE_SIZE, err);
		w->reserved = NULL;
		if (ret)
			return ret;
	}
	w->reserved = NULL;

	last = w->nr_runs ? &w->runs[w->nr_runs - 1] : NULL;
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

/* Pages of n runs whose flags include every bit of flag. */
static uint64_t runs_pages(const struct page_run *runs, size_t n, uint32_t flag)
{
	uint64_t pages = 0;

	for (size_t i = 0; i < n; i++)
		if ((runs[i].flags & flag) == flag)
			pages += runs[i].nr_pages;
	return pages;
}

uint64_t page_writer_pages(const struct page_writer *w, uint32_t flag)
{
	return runs_pages(w->runs, w->nr_runs, flag);
}

uint64_t page_reader_pages(const struct page_reader *r, uint32_t flag)
{
	return r ? runs_pages(page_reader_runs(r), page_reader_nr_runs(r), flag) : 0;
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
	ret = w->elsewhere ? img_dir_note(w->dir, w->name, w->size, w->crc.whole, err)
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

/* --- reader --- */

struct page_reader {
	struct page_run *runs;
	size_t nr_runs;
	enum img_kind kind;
	long id;
	page_fetch_fn fetch; /* PR_META with a fetcher: data is ours, filled chunk by chunk */
	void *fetch_arg;
	void *data;
	uint64_t size;
	int fd;
	uint32_t crc;		       /* of the whole pages file */
	struct pagecrc_check check;    /* what of it is verified */
	char pages_name[IMG_NAME_MAX]; /* its name */
};

/* Check run i (record i + 1 of the pagemap file) against the previous run and
 * the running offset of present data, then take it into r. */
static int pr_take_run(const char *name, struct page_reader *r, const PagemapEntry *e,
		       uint64_t *offset, struct img_err *err)
{
	size_t i = r->nr_runs;
	unsigned long long va = e->vaddr;

	if (!flags_valid(e->flags))
		return img_fail(err, EBADMSG, "%s: record %zu: run at 0x%llx: bad flags 0x%x", name,
				i + 1, va, e->flags);
	if (e->vaddr % IMG_PAGE_SIZE)
		return img_fail(err, EBADMSG,
				"%s: record %zu: run at 0x%llx: address not page aligned", name,
				i + 1, va);
	if (e->nr_pages == 0 || !run_fits(e->vaddr, e->nr_pages))
		return img_fail(err, EBADMSG, "%s: record %zu: run at 0x%llx: bad page count %llu",
				name, i + 1, va, (unsigned long long)e->nr_pages);
	if (i && e->vaddr < run_end(&r->runs[i - 1]))
		return img_fail(
		    err, EBADMSG,
		    "%s: record %zu: run at 0x%llx: below the end 0x%llx of the previous run", name,
		    i + 1, va, (unsigned long long)run_end(&r->runs[i - 1]));
	if (e->flags & PE_PRESENT) {
		uint64_t len = e->nr_pages * IMG_PAGE_SIZE;

		if (!e->has_offset || e->offset != *offset)
			return img_fail(
			    err, EBADMSG,
			    "%s: record %zu: run at 0x%llx: offset %s0x%llx, expected 0x%llx", name,
			    i + 1, va, e->has_offset ? "" : "missing, ",
			    (unsigned long long)e->offset, (unsigned long long)*offset);
		if (len > UINT64_MAX - *offset)
			return img_fail(err, EBADMSG,
					"%s: record %zu: run at 0x%llx: page data overflows", name,
					i + 1, va);
		*offset += len;
	} else if (e->has_offset) {
		return img_fail(
		    err, EBADMSG,
		    "%s: record %zu: run at 0x%llx: offset on a run that stores no data", name,
		    i + 1, va);
	}
	r->runs[i] = (struct page_run){
		.vaddr = e->vaddr,
		.nr_pages = e->nr_pages,
		.flags = e->flags,
		.offset = (e->flags & PE_PRESENT) ? e->offset : 0,
	};
	r->nr_runs++;
	return 0;
}

static int pr_load_runs(const char *name, struct img_reader *ir, struct page_reader *r,
			PagemapHead **headp, struct img_err *err)
{
	ProtobufCMessage *m;
	unsigned count = img_reader_count(ir);
	uint64_t offset = 0;
	int ret;

	if (count == 0)
		return img_fail(err, EBADMSG, "%s: no pagemap head record", name);
	img_read(ir, &m, err);
	*headp = (PagemapHead *)m;
	r->runs = calloc(count, sizeof(*r->runs));
	if (!r->runs)
		return img_fail(err, ENOMEM, "%s: out of memory for %u runs", name, count);
	while ((ret = img_read(ir, &m, err)) == 1) {
		ret = pr_take_run(name, r, (PagemapEntry *)m, &offset, err);
		protobuf_c_message_free_unpacked(m, NULL);
		if (ret)
			return ret;
	}
	if (ret < 0)
		return ret;
	if (offset != (*headp)->pages_size)
		return img_fail(
		    err, EBADMSG,
		    "%s: present runs hold %llu bytes, the head says the pages file has %llu", name,
		    (unsigned long long)offset, (unsigned long long)(*headp)->pages_size);
	return 0;
}

static int pr_map_pages(struct img_dir *d, enum img_kind kind, const char *pm_name,
			const PagemapHead *head, bool check, struct page_reader *r,
			struct img_err *err)
{
	char name[IMG_NAME_MAX];
	struct stat st;
	uint32_t crc;
	int ret;

	snprintf(name, sizeof(name), "%s%u.img", pages_prefix(kind), head->pages_id);
	snprintf(r->pages_name, sizeof(r->pages_name), "%s", name);
	r->fd = openat(img_dir_fd(d), name, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0)
		return img_fail(err, errno, "%s: cannot open in %s: %s", name, img_dir_path(d),
				strerror(errno));
	if (fstat(r->fd, &st) < 0)
		return img_fail(err, errno, "%s: stat: %s", name, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return img_fail(err, EINVAL, "%s: not a regular file", name);
	if ((uint64_t)st.st_size != head->pages_size)
		return img_fail(err, EBADMSG, "%s: size %lld does not match %s (%llu bytes)", name,
				(long long)st.st_size, pm_name,
				(unsigned long long)head->pages_size);
	r->size = head->pages_size;
	if (r->size) {
		void *p = mmap(NULL, r->size, PROT_READ, MAP_SHARED | (check ? MAP_POPULATE : 0),
			       r->fd, 0);

		if (p == MAP_FAILED)
			return img_fail(err, errno, "%s: mmap of %llu bytes: %s", name,
					(unsigned long long)r->size, strerror(errno));
		r->data = p;
	}
	r->crc = head->pages_crc32c;
	ret =
	    pagecrc_load(&r->check, head->chunk_crc32c, head->n_chunk_crc32c,
			 head->has_chunk_shift ? head->chunk_shift : 0, r->size, r->crc, name, err);
	if (ret)
		return ret;
	if (!check) /* checked as it is used (page_reader_verify) */
		return 0;
	crc = img_crc32c(0, r->data, r->size);
	if (crc != head->pages_crc32c)
		return img_fail(err, EBADMSG,
				"%s: checksum mismatch (stored 0x%08x in %s, computed 0x%08x)",
				name, head->pages_crc32c, pm_name, crc);
	r->check.all = true;
	return 0;
}

const char *page_reader_pages_name(const struct page_reader *r)
{
	return r->pages_name;
}

uint32_t page_reader_crc(const struct page_reader *r)
{
	return r->crc;
}

int page_reader_set_fetch(struct page_reader *r, page_fetch_fn fn, void *arg, struct img_err *err)
{
	void *p;

	if (r->fd >= 0 || r->data || !r->check.v)
		return img_fail(err, EINVAL,
				"%s: pages can be fetched only for a pagemap opened "
				"alone, with chunk checksums",
				r->pages_name);
	if (r->size) {
		p = mmap(NULL, r->size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			return img_fail(err, errno, "%s: mmap of %llu bytes: %s", r->pages_name,
					(unsigned long long)r->size, strerror(errno));
		r->data = p;
	}
	r->fetch = fn;
	r->fetch_arg = arg;
	return 0;
}

/* The chunks of [off, off + len) not verified yet, fetched into r->data (whole chunks, in
 * runs of them). */
static int fetch_missing(struct page_reader *r, uint64_t off, uint64_t len, struct img_err *err)
{
	uint64_t end = off + len, c = off / PAGECRC_CHUNK * PAGECRC_CHUNK;

	while (c < end) {
		uint64_t e = c;
		int ret;

		if (pagecrc_verified(&r->check, c)) {
			c += PAGECRC_CHUNK;
			continue;
		}
		while (e < end && !pagecrc_verified(&r->check, e))
			e += PAGECRC_CHUNK;
		if (e > r->size)
			e = r->size;
		ret = r->fetch(r->fetch_arg, r->kind, r->id, c, e - c, (uint8_t *)r->data + c, err);
		if (ret)
			return ret;
		c = e;
	}
	return 0;
}

int page_reader_verify(struct page_reader *r, uint64_t off, uint64_t len, struct img_err *err)
{
	if (r->fetch) {
		int ret;

		if (off > r->size || len > r->size - off)
			return img_fail(err, EINVAL, "%s: bytes %llu-%llu are beyond its %llu",
					r->pages_name, (unsigned long long)off,
					(unsigned long long)(off + len),
					(unsigned long long)r->size);
		ret = fetch_missing(r, off, len, err);
		if (ret)
			return ret;
	}
	return pagecrc_verify(&r->check, r->data, r->size, off, len, r->pages_name, err);
}

int page_reader_read(struct page_reader *r, uint64_t off, uint64_t len, struct page_buf *b,
		     const void **data, struct img_err *err)
{
	uint64_t a, e;
	ssize_t n;

	if (off > r->size || len > r->size - off)
		return img_fail(err, EINVAL, "%s: bytes %llu-%llu are beyond its %llu",
				r->pages_name, (unsigned long long)off,
				(unsigned long long)(off + len), (unsigned long long)r->size);
	if (!r->check.v) /* an older dump: the whole file checked once, then its mapping */
		return page_reader_verify(r, off, len, err)
			   ?: (*data = (const uint8_t *)r->data + off, 0);
	if (b->r == r && off >= b->at && off + len <= b->at + b->len)
		goto out;
	e = b->r == r && off == b->next && len < PAGE_READAHEAD ? off + PAGE_READAHEAD : off + len;
	b->r = NULL;
	for (;;) {
		a = off / PAGECRC_CHUNK * PAGECRC_CHUNK;
		e = (e + PAGECRC_CHUNK - 1) / PAGECRC_CHUNK * PAGECRC_CHUNK;
		e = e < r->size ? e : r->size;
		if (b->cap < e - a) {
			void *nb = realloc(b->buf, e - a);

			if (!nb)
				return img_fail(err, ENOMEM, "%s: out of memory for %llu bytes",
						r->pages_name, (unsigned long long)(e - a));
			b->buf = nb;
			b->cap = e - a;
		}
		n = pread(r->fd, b->buf, e - a, (off_t)a);
		if (n != (ssize_t)(e - a))
			return img_fail(err, n < 0 ? errno : EIO, "%s: read of bytes %llu-%llu: %s",
					r->pages_name, (unsigned long long)a, (unsigned long long)e,
					n < 0 ? strerror(errno) : "short");
		n = pagecrc_verify_buf(&r->check, b->buf, a, e - a, r->size, r->pages_name, err);
		if (!n)
			break;
		if (e <= off + len + PAGECRC_CHUNK) /* the bytes asked for: damaged */
			return (int)n;
		e = off + len; /* a damaged chunk read ahead: the request alone */
	}
	*b = (struct page_buf){ b->buf, b->cap, r, a, e - a, 0 };
out:
	*data = (const uint8_t *)b->buf + (off - b->at);
	b->next = off + len;
	return 0;
}

int page_reader_open(struct img_dir *d, long id, struct page_reader **out, struct img_err *err)
{
	return page_reader_open_kind(d, IMG_PAGEMAP, id, out, err);
}

/* how open_reader() takes the pages file */
enum pr_mode {
	PR_CHECKED,   /* read and summed whole now */
	PR_UNCHECKED, /* mapped, its chunks checked as they are used */
	PR_META,      /* not opened: its pages come from elsewhere */
};

/* PR_META: what the head says of the pages file, which is not opened. */
static int pr_meta_pages(enum img_kind kind, const PagemapHead *head, struct page_reader *r,
			 struct img_err *err)
{
	snprintf(r->pages_name, sizeof(r->pages_name), "%s%u.img", pages_prefix(kind),
		 head->pages_id);
	r->size = head->pages_size;
	r->crc = head->pages_crc32c;
	return pagecrc_load(&r->check, head->chunk_crc32c, head->n_chunk_crc32c,
			    head->has_chunk_shift ? head->chunk_shift : 0, r->size, r->crc,
			    r->pages_name, err);
}

static int open_reader(struct img_dir *d, enum img_kind kind, long id, enum pr_mode mode,
		       struct page_reader **out, struct img_err *err)
{
	char name[IMG_NAME_MAX];
	PagemapHead *head = NULL;
	struct img_reader *ir;
	struct page_reader *r;
	int ret;

	*out = NULL;
	ret = img_reader_open(d, kind, id, &ir, err);
	if (ret)
		return ret;
	img_filename(name, sizeof(name), kind, id);
	r = calloc(1, sizeof(*r));
	if (!r) {
		img_reader_close(ir);
		return img_fail(err, ENOMEM, "%s: out of memory", name);
	}
	r->fd = -1;
	r->kind = kind;
	r->id = id;
	ret = pr_load_runs(name, ir, r, &head, err);
	img_reader_close(ir);
	if (!ret && mode == PR_META)
		ret = pr_meta_pages(kind, head, r, err);
	else if (!ret)
		ret = pr_map_pages(d, kind, name, head, mode == PR_CHECKED, r, err);
	if (head)
		protobuf_c_message_free_unpacked(&head->base, NULL);
	if (ret) {
		page_reader_close(r);
		return ret;
	}
	*out = r;
	return 0;
}

int page_reader_open_kind(struct img_dir *d, enum img_kind kind, long id, struct page_reader **out,
			  struct img_err *err)
{
	return open_reader(d, kind, id, PR_CHECKED, out, err);
}

int page_reader_open_unchecked(struct img_dir *d, enum img_kind kind, long id,
			       struct page_reader **out, struct img_err *err)
{
	return open_reader(d, kind, id, PR_UNCHECKED, out, err);
}

int page_reader_open_meta(struct img_dir *d, enum img_kind kind, long id, struct page_reader **out,
			  struct img_err *err)
{
	return open_reader(d, kind, id, PR_META, out, err);
}

bool page_reader_chunked(const struct page_reader *r)
{
	return r->check.v != NULL;
}

int page_reader_take(struct page_reader *r, const void *buf, uint64_t off, uint64_t len,
		     struct img_err *err)
{
	if (off > r->size || len > r->size - off)
		return img_fail(err, EINVAL, "%s: bytes %llu-%llu are beyond its %llu",
				r->pages_name, (unsigned long long)off,
				(unsigned long long)(off + len), (unsigned long long)r->size);
	return pagecrc_verify_buf(&r->check, buf, off, len, r->size, r->pages_name, err);
}

bool page_reader_verified(const struct page_reader *r, uint64_t off)
{
	return pagecrc_verified(&r->check, off);
}

size_t page_reader_nr_runs(const struct page_reader *r)
{
	return r->nr_runs;
}

const struct page_run *page_reader_runs(const struct page_reader *r)
{
	return r->runs;
}

const struct page_run *page_runs_find(const struct page_run *runs, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct page_run *run = &runs[mid];

		if (addr < run->vaddr)
			hi = mid;
		else if (addr >= run_end(run))
			lo = mid + 1;
		else
			return run;
	}
	return NULL;
}

const struct page_run *page_reader_find(const struct page_reader *r, uint64_t addr)
{
	return page_runs_find(r->runs, r->nr_runs, addr);
}

bool page_reader_any(const struct page_reader *r, uint64_t start, uint64_t end, uint32_t flag)
{
	size_t lo = 0, hi = r ? r->nr_runs : 0;

	while (lo < hi) { /* the first run that ends after start */
		size_t mid = lo + (hi - lo) / 2;

		if (run_end(&r->runs[mid]) <= start)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; r && lo < r->nr_runs && r->runs[lo].vaddr < end; lo++)
		if ((r->runs[lo].flags & flag) == flag)
			return true;
	return false;
}

const void *page_reader_data(const struct page_reader *r)
{
	return r->data;
}

uint64_t page_reader_size(const struct page_reader *r)
{
	return r->size;
}

int page_reader_fd(const struct page_reader *r)
{
	return r->fd;
}

void page_reader_close(struct page_reader *r)
{
	if (!r)
		return;
	if (r->data)
		munmap(r->data, r->size);
	if (r->fd >= 0)
		close(r->fd);
	pagecrc_check_free(&r->check);
	free(r->runs);
	free(r);
}

int page_images_each(struct img_dir *d, int (*fn)(void *arg, enum img_kind kind, long id),
		     void *arg, struct img_err *err)
{
	int dfd = openat(img_dir_fd(d), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *de;
	int ret = 0;

	if (!dir) {
		ret = errno;
		if (dfd >= 0)
			close(dfd);
		return img_fail(err, ret, "%s: can't list it: %s", img_dir_path(d), strerror(ret));
	}
	while (!ret && (de = readdir(dir))) {
		const struct img_kind_desc *k;
		long id;

		k = img_kind_by_filename(de->d_name, &id);
		if (k && (k->kind == IMG_PAGEMAP || k->kind == IMG_SHMEM_PAGEMAP))
			ret = fn(arg, k->kind, id);
	}
	closedir(dir);
	return ret;
}
