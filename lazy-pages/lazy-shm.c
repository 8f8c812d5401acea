/* lazy-shm: see lazy-shm.h. */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define LOG_PREFIX "lazy-pages: "
#include "criu-lite/log.h"
#include "lazy-pages/lazy-mm.h"
#include "lazy-pages/lazy-shm.h"

struct lazy_obj {
	uint32_t id;
	int fd;
	uint64_t npages;
	char *view; /* MAP_SHARED, registered MISSING with SIGBUS on t->uffd */
	const struct page_run *runs;
	size_t nruns;
	uint64_t *pending; /* bit i: page i */
	uint64_t left, cursor;
};

static bool bit(const uint64_t *b, uint64_t i)
{
	return b[i / 64] >> (i % 64) & 1;
}

static void clear(struct lazy_shm *t, struct lazy_obj *o, uint64_t i)
{
	if (bit(o->pending, i)) {
		o->pending[i / 64] &= ~(1ULL << (i % 64));
		o->left--;
		t->left--;
	}
}

void lazy_shm_init(struct lazy_shm *t, struct page_source *src)
{
	*t = (struct lazy_shm){ .src = src, .uffd = -1 };
}

/* The views' uffd: privileged (a fault in the kernel's own copy must be caught too) and with
 * SIGBUS, so that a write into a page that is not in the cache fails instead of waiting. */
static int views_uffd(struct lazy_shm *t)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_SIGBUS };
	int fd;

	if (t->uffd >= 0)
		return 0;
	fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		pr_perror("userfaultfd for the shared objects' views");
		return -errno;
	}
	if (ioctl(fd, UFFDIO_API, &api)) {
		pr_perror("UFFDIO_API with UFFD_FEATURE_SIGBUS");
		close(fd);
		return -errno;
	}
	t->uffd = fd;
	return 0;
}

static int map_view(struct lazy_shm *t, struct lazy_obj *o)
{
	uint64_t len = o->npages * LAZY_PG;
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };

	o->view = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, o->fd, 0);
	if (o->view == MAP_FAILED) {
		o->view = NULL;
		pr_perror("shared object %u: can't map its %llu pages", o->id,
			  (unsigned long long)o->npages);
		return -errno;
	}
	reg.range.start = (uintptr_t)o->view;
	reg.range.len = len;
	if (ioctl(t->uffd, UFFDIO_REGISTER, &reg)) {
		pr_perror("shared object %u: can't register its view", o->id);
		return -errno;
	}
	return 0;
}

int lazy_shm_add(struct lazy_shm *t, uint32_t id, uint64_t size, int fd)
{
	struct lazy_obj *v, *o;
	int ret;

	if (lazy_shm_find(t, id) >= 0 || !size) {
		pr_err("shared object %u: %s\n", id, size ? "handed over twice" : "empty");
		close(fd);
		return -EBADMSG;
	}
	v = realloc(t->v, (t->n + 1) * sizeof(*v));
	if (!v) {
		close(fd);
		return -ENOMEM;
	}
	t->v = v;
	o = &t->v[t->n];
	*o = (struct lazy_obj){ .id = id, .fd = fd, .npages = (size + LAZY_PG - 1) / LAZY_PG };
	t->n++; /* lazy_shm_free() lets go of it from here on */
	ret = t->src->ops->runs(t->src, IMG_SHMEM_PAGEMAP, id, &o->runs, &o->nruns);
	if (!ret)
		ret = views_uffd(t);
	if (!ret)
		ret = map_view(t, o);
	if (ret)
		return ret;
	o->pending = calloc(o->npages / 64 + 1, sizeof(uint64_t));
	if (!o->pending)
		return -ENOMEM;
	for (size_t i = 0; i < o->nruns; i++) {
		const struct page_run *r = &o->runs[i];

		if (!(r->flags & PAGEMAP_FLAGS__PE_PRESENT))
			continue;
		if (r->vaddr % LAZY_PG || r->vaddr / LAZY_PG + r->nr_pages > o->npages) {
			pr_err("pagemap-shmem-%u.img: pages beyond the object's %llu bytes\n", id,
			       (unsigned long long)size);
			return -EBADMSG;
		}
		for (uint64_t p = r->vaddr / LAZY_PG; p < r->vaddr / LAZY_PG + r->nr_pages; p++)
			if (!bit(o->pending, p)) {
				o->pending[p / 64] |= 1ULL << (p % 64);
				o->left++;
			}
	}
	t->left += o->left;
	pr_info("shared object %u: %llu bytes, %llu pages to write in\n", id,
		(unsigned long long)size, (unsigned long long)o->left);
	return 0;
}

int lazy_shm_find(const struct lazy_shm *t, uint32_t id)
{
	for (size_t k = 0; k < t->n; k++)
		if (t->v[k].id == id)
			return (int)k;
	return -1;
}

bool lazy_shm_pending(const struct lazy_shm *t, uint32_t k, uint64_t off)
{
	const struct lazy_obj *o = &t->v[k];

	return off / LAZY_PG < o->npages && bit(o->pending, off / LAZY_PG);
}

void lazy_shm_drop(struct lazy_shm *t, uint32_t k, uint64_t off)
{
	if (off / LAZY_PG < t->v[k].npages)
		clear(t, &t->v[k], off / LAZY_PG);
}

/* Write n bytes of data at page p of o's view: the bytes written, or -errno; -EFAULT for
 * the first page when it is not in the cache. */
static ssize_t write_view(struct lazy_obj *o, uint64_t p, const void *data, uint64_t n)
{
	struct iovec l = { .iov_base = (void *)data, .iov_len = n };
	struct iovec r = { .iov_base = o->view + p * LAZY_PG, .iov_len = n };
	ssize_t w = process_vm_writev(getpid(), &l, 1, &r, 1, 0);

	return w < 0 ? -errno : w;
}

/* Pending pages [p, p + n) of o, all in one image run. */
static int fill_run(struct lazy_shm *t, struct lazy_obj *o, uint64_t p, uint64_t n, uint64_t *done)
{
	const void *data;
	int ret = t->src->ops->get(t->src, IMG_SHMEM_PAGEMAP, o->id, p * LAZY_PG, n, NULL, &data);

	while (!ret && n) {
		ssize_t w = write_view(o, p, data, n * LAZY_PG);
		uint64_t k = w > 0 ? (uint64_t)w / LAZY_PG : 0;

		for (uint64_t i = 0; i < k; i++)
			clear(t, o, p + i);
		*done += k;
		p += k;
		n -= k;
		data = (const char *)data + k * LAZY_PG;
		if (!n)
			break;
		/* it stopped at page p: punched out (EFAULT), or for another reason; alone it
		 * says which */
		if (w != -EFAULT)
			w = write_view(o, p, data, LAZY_PG);
		if (w != -EFAULT && w != (ssize_t)LAZY_PG) {
			errno = w < 0 ? (int)-w : EIO;
			pr_perror("shared object %u: can't write page %llu", o->id,
				  (unsigned long long)p);
			return w < 0 ? (int)w : -EIO;
		}
		clear(t, o, p); /* written, or punched out: it reads as zeros then */
		*done += w > 0;
		p++;
		n--;
		data = (const char *)data + LAZY_PG;
	}
	return ret;
}

int lazy_shm_fill(struct lazy_shm *t, uint32_t k, uint64_t off, uint64_t n, uint64_t *done)
{
	struct lazy_obj *o = &t->v[k];
	uint64_t p = off / LAZY_PG, end = p + n < o->npages ? p + n : o->npages;

	*done = 0;
	while (p < end) {
		const struct page_run *r;
		uint64_t q, rend;
		int ret;

		if (!bit(o->pending, p)) {
			p++;
			continue;
		}
		r = page_runs_find(o->runs, o->nruns, p * LAZY_PG);
		if (!r) {
			pr_err("shared object %u: page %llu is pending but the image has no data "
			       "for it\n",
			       o->id, (unsigned long long)p);
			return -EBADMSG;
		}
		rend = r->vaddr / LAZY_PG + r->nr_pages;
		for (q = p; q < end && q < rend && bit(o->pending, q); q++)
			;
		ret = fill_run(t, o, p, q - p, done);
		if (ret)
			return ret;
		p = q;
	}
	return 0;
}

int lazy_shm_prefetch(struct lazy_shm *t, uint64_t max, uint64_t *done)
{
	*done = 0;
	for (size_t j = 0; j < t->n; j++) {
		struct lazy_obj *o = &t->v[(t->rr + j) % t->n];
		uint64_t p;

		if (!o->left)
			continue;
		t->rr = (t->rr + j) % t->n;
		for (p = o->cursor; !bit(o->pending, p);) {
			p = o->pending[p / 64] >> (p % 64) ? p + 1 : (p / 64 + 1) * 64;
			if (p >= o->npages)
				p = 0;
		}
		o->cursor = p + max < o->npages ? p + max : 0;
		return lazy_shm_fill(t, (uint32_t)t->rr, p * LAZY_PG, max, done);
	}
	return 0;
}

void lazy_shm_free(struct lazy_shm *t)
{
	for (size_t k = 0; k < t->n; k++) {
		struct lazy_obj *o = &t->v[k];

		if (o->view)
			munmap(o->view, o->npages * LAZY_PG);
		close(o->fd);
		free(o->pending);
	}
	free(t->v);
	if (t->uffd >= 0)
		close(t->uffd);
	*t = (struct lazy_shm){ .uffd = -1 };
}
