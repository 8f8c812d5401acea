/* pages: reading the page images of one address space (pagemap-<id>.img + pages-<id>.img),
 * see pages.h for the contract (the writer: page-writer.c).
 *
 * Every run invariant is checked against the head before the pages file is mapped, then its
 * size and crc32c are checked.
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
#include "images/pages-priv.h"

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
	ret = img_pread_crc32c(r->fd, r->size, &crc);
	if (ret)
		return img_fail(err, -ret, "%s: read to sum it: %s", name, strerror(-ret));
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

void page_reader_forget(struct page_reader *r, uint64_t off)
{
	pagecrc_forget(&r->check, off);
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

uint64_t page_reader_pages(const struct page_reader *r, uint32_t flag)
{
	return r ? runs_pages(page_reader_runs(r), page_reader_nr_runs(r), flag) : 0;
}
