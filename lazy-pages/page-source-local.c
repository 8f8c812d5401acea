/* page-source-local: the page source of an image directory (page-source.h). Each page
 * image is opened the first time it is asked for (its metadata checked, not its data), and pages
 * are handed out straight from the read-only mapping of its pages file, each 32 KiB chunk of it
 * checked against its crc32c the first time a page of it is (images/pagecrc.h): a damaged chunk
 * is an error of get(), named, before any of its pages reaches a task. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_PREFIX "lazy-pages: "
#include "criu-lite/log.h"
#include "lazy-pages/lazy-mm.h"
#include "lazy-pages/page-source.h"

struct local_img {
	enum img_kind kind;
	uint32_t id;
	struct page_reader *r;
};

struct local_src {
	struct page_source base;
	struct img_dir *dir;
	struct local_img *v;
	size_t n;
	struct page_buf buf; /* what get() hands out */
};

static int reader(struct local_src *l, enum img_kind kind, uint32_t id, struct page_reader **out)
{
	struct img_err err = { 0 };
	struct local_img *v;
	int ret;

	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].kind == kind && l->v[i].id == id) {
			*out = l->v[i].r;
			return 0;
		}
	v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	l->v = v;
	ret = page_reader_open_unchecked(l->dir, kind, id, &v[l->n].r, &err);
	if (ret) {
		pr_err("%s\n", err.msg);
		return ret;
	}
	v[l->n].kind = kind;
	v[l->n].id = id;
	*out = v[l->n++].r;
	return 0;
}

static int local_runs(struct page_source *s, enum img_kind kind, uint32_t id,
		      const struct page_run **runs, size_t *n)
{
	struct page_reader *r;
	int ret = reader((struct local_src *)s, kind, id, &r);

	if (ret)
		return ret;
	*runs = page_reader_runs(r);
	*n = page_reader_nr_runs(r);
	return 0;
}

static int local_get(struct page_source *s, enum img_kind kind, uint32_t id, uint64_t addr,
		     uint64_t nr, void *buf, const void **data)
{
	struct local_src *l = (struct local_src *)s;
	struct img_err err = { 0 };
	struct page_reader *r;
	uint64_t off;
	int ret = reader(l, kind, id, &r);

	(void)buf;
	if (!ret)
		ret = page_source_offset(r, kind, id, addr, nr, &off);
	if (ret)
		return ret;
	ret = page_reader_read(r, off, nr * LAZY_PG, &l->buf, data, &err);
	if (ret)
		pr_err("%s\n", err.msg);
	return ret;
}

static void local_close(struct page_source *s)
{
	struct local_src *l = (struct local_src *)s;

	for (size_t i = 0; i < l->n; i++)
		page_reader_close(l->v[i].r);
	free(l->v);
	free(l->buf.buf);
	free(l);
}

static const struct page_source_ops local_ops = {
	.runs = local_runs,
	.get = local_get,
	.close = local_close,
};

static int preload_one(void *arg, enum img_kind kind, long id)
{
	struct page_reader *r;

	return reader(arg, kind, (uint32_t)id, &r);
}

/* Every pagemap-<id>.img and pagemap-shmem-<id>.img of the directory (one it can't list: each
 * is opened at its first use). */
static int preload(struct local_src *l)
{
	struct img_err err = { 0 };
	int ret = page_images_each(l->dir, preload_one, l, &err);

	return ret < 0 && err.msg[0] ? 0 : ret;
}

int page_source_local(struct img_dir *d, bool pre, struct page_source **out)
{
	struct local_src *l = calloc(1, sizeof(*l));
	int ret;

	if (!l)
		return -ENOMEM;
	l->base.ops = &local_ops;
	l->base.notify_fd = -1;
	l->dir = d;
	ret = pre ? preload(l) : 0;
	if (ret) {
		local_close(&l->base);
		return ret;
	}
	*out = &l->base;
	return 0;
}
