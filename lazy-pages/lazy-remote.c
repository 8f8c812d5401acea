/* lazy-remote: the fault loop's part with a remote page source (lazy-serve-int.h): the pages
 * its stream brought unasked, copied in where they are still pending, in the order they came;
 * and the restore's own requests for the pages it fills itself (LAZY_FETCH).
 *
 *
 * A range of a pages file maps to image addresses through the image's runs (a PE_PRESENT run's
 * pages lie back to back from its offset), and those to each task's addresses through its
 * spans (a span keeps the image address its first page came from, also after mremap); every
 * uffd restored from that image (a task and the children it forked since) gets its pending
 * pages there. A shared object's range is written into the object where still pending.
 * lazy_deliver() does the same for a task's range in the stream thread, from the bytes as they
 * came, under the source's serve lock. */
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#define LOG_PREFIX "lazy-pages: "
#include "criu-lite/log.h"
#include "lazy-pages/lazy-ctl.h"
#include "lazy-pages/lazy-serve-int.h"

/* The pending pages of u in [start, end) (task addresses, inside one span), copied in. */
static int copy_pending(struct server *s, struct lazy_uffd *u, uint64_t start, uint64_t end,
			const struct lazy_bytes *b, uint64_t *done)
{
	uint64_t cur = start;

	while (cur < end) {
		uint64_t at, n = lazy_mm_next(&u->mm, cur, (end - cur) / LAZY_PG, &at);
		int ret;

		if (!n || at < cur || at >= end)
			return 0; /* none left here (lazy_mm_next wraps around) */
		if (at + n * LAZY_PG > end)
			n = (end - at) / LAZY_PG;
		ret = lazy_copy_from(s, u, at, n, false, b);
		if (ret)
			return ret;
		*done += n;
		cur = at + n * LAZY_PG;
	}
	return 0;
}

/* Image addresses [a, e) of u, copied in where its spans hold them and pages are pending (from
 * b, or the page source when NULL). */
static int copy_image_range(struct server *s, struct lazy_uffd *u, uint64_t a, uint64_t e,
			    const struct lazy_bytes *b, uint64_t *done)
{
	for (size_t i = 0; i < u->mm.n; i++) {
		const struct lazy_span *sp = &u->mm.v[i];
		uint64_t src_end = sp->src + (sp->end - sp->start), x, y;
		int ret;

		if (sp->shared || !sp->left || sp->src >= e || src_end <= a)
			continue;
		x = a > sp->src ? a : sp->src;
		y = e < src_end ? e : src_end;
		ret = copy_pending(s, u, sp->start + (x - sp->src), sp->start + (y - sp->src), b,
				   done);
		if (ret) /* copying clears pending bits only: the spans stay as they are */
			return ret;
	}
	return 0;
}

/* Bytes [off, off + len) of a pages file whose runs are runs[0..n): the image addresses they
 * hold, one present run at a time, to fn (with the file offset of a). */
static int for_each_image_range(const struct page_run *runs, size_t n, uint64_t off, uint64_t len,
				int (*fn)(void *arg, uint64_t a, uint64_t e, uint64_t at),
				void *arg)
{
	for (size_t i = 0; i < n; i++) {
		const struct page_run *r = &runs[i];
		uint64_t r_end = r->offset + r->nr_pages * LAZY_PG, x, y;
		int ret;

		if (!(r->flags & PAGEMAP_FLAGS__PE_PRESENT) || r->offset >= off + len ||
		    r_end <= off)
			continue;
		x = off > r->offset ? off : r->offset;
		y = off + len < r_end ? off + len : r_end;
		ret = fn(arg, r->vaddr + (x - r->offset), r->vaddr + (y - r->offset), x);
		if (ret)
			return ret;
	}
	return 0;
}

struct arrive_ctx {
	struct server *s;
	uint32_t id;
	int obj; /* a shared object's index, or -1 */
	uint64_t done;
	const uint8_t *data; /* the bytes themselves (a sink's), from file offset off; or NULL */
	uint64_t off;
	bool found, missed; /* a task of the image was there; one of them was not filled */
};

static int task_range(void *arg, uint64_t a, uint64_t e, uint64_t at)
{
	struct arrive_ctx *c = arg;
	struct lazy_bytes b = { .img = a, .data = c->data ? c->data + (at - c->off) : NULL };

	for (size_t i = 0; i < c->s->n; i++) {
		struct lazy_uffd *u = c->s->u[i];
		int ret;

		if (u->id != c->id)
			continue;
		c->found = true;
		if (u->fd < 0 || !u->mm.left)
			continue;
		if (u->nretry) {
			c->missed = true;
			continue;
		}
		ret = copy_image_range(c->s, u, a, e, b.data ? &b : NULL, &c->done);
		if (ret == -ESRCH) {
			lazy_drop_uffd(c->s, u, "gone");
			continue;
		}
		if (ret == -EAGAIN) {
			c->missed = true;
			continue; /* an event first: prefetch brings the rest */
		}
		if (ret)
			return ret;
	}
	return 0;
}

static int shm_range(void *arg, uint64_t a, uint64_t e, uint64_t at)
{
	struct arrive_ctx *c = arg;
	uint64_t d = 0;
	int ret = lazy_shm_fill(&c->s->shm, (uint32_t)c->obj, a, (e - a) / LAZY_PG, &d);

	(void)at;
	c->s->st->shm_pages_prefetch += d;
	return ret;
}

int lazy_copy_arrived(struct server *s, bool *did)
{
	struct arrive_ctx c = { .s = s, .obj = -1 };
	struct lazy_arrival *a = &s->arrival;
	const struct page_run *runs;
	uint64_t len;
	size_t n;
	int ret;

	*did = false;
	if (!a->len && (!s->src->ops->arrived ||
			!s->src->ops->arrived(s->src, &a->kind, &a->id, &a->off, &a->len)))
		return 0;
	*did = true;
	/* a prefetch batch's worth at a time (a range that came may be a whole stream batch):
	 * a fault waits for no more than that */
	len = a->len < LAZY_CHUNK * LAZY_PG ? a->len : LAZY_CHUNK * LAZY_PG;
	c.id = a->id;
	if (a->kind == IMG_SHMEM_PAGEMAP) {
		c.obj = lazy_shm_find(&s->shm, c.id);
		if (c.obj < 0) { /* not lazy here (restore filled it) */
			a->len = 0;
			return 0;
		}
	}
	ret = s->src->ops->runs(s->src, a->kind, c.id, &runs, &n);
	if (!ret)
		ret = for_each_image_range(runs, n, a->off, len, c.obj < 0 ? task_range : shm_range,
					   &c);
	a->off += len;
	a->len -= len;
	s->st->pages_prefetch += c.done;
	return ret;
}

void lazy_deliver(void *arg, enum img_kind kind, uint32_t id, uint64_t off, uint64_t len,
		  const void *data, bool *all, bool *wake)
{
	struct server *s = arg;
	struct arrive_ctx c = { .s = s, .id = id, .obj = -1, .data = data, .off = off };
	const struct page_run *runs;
	size_t n;

	*all = *wake = false;
	/* a shared object's pages go the way they always did (the source keeps them, the loop
	 * writes them into the object); so do a task's before its uffd is here (the restore may
	 * still fill some of them itself) */
	if (kind != IMG_PAGEMAP || s->src->ops->runs(s->src, kind, id, &runs, &n))
		return;
	/* a failure here (logged) is met again, and handled, where the loop copies what is kept */
	if (for_each_image_range(runs, n, off, len, task_range, &c))
		return;
	s->st->pages_prefetch += c.done;
	*all = c.found && !c.missed;
	*wake = !lazy_pages_left(s);
}

/* ---- the restore's own pages -------------------------------------------------------------- */

int lazy_fetch_channel(struct server *s, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &s->fetch_fd };

	if (fd < 0 || s->fetch_fd >= 0 || !s->src->ops->fetch) {
		pr_err("the restore sent a fetch channel %s\n",
		       fd < 0 ? "without its fd" : "that this server does not take");
		if (fd >= 0)
			close(fd);
		return -EBADMSG;
	}
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev)) {
		pr_perror("epoll on the fetch channel");
		close(fd);
		return -errno;
	}
	s->fetch_fd = fd;
	return 0;
}

static void close_fetch(struct server *s)
{
	epoll_ctl(s->ep, EPOLL_CTL_DEL, s->fetch_fd, NULL);
	close(s->fetch_fd);
	s->fetch_fd = -1;
}

int lazy_serve_fetch(struct server *s)
{
	LazyMsg *m, a = LAZY_MSG__INIT;
	const void *data = NULL;
	int fd, ret = lazy_ctl_recv(s->fetch_fd, &m, &fd);

	if (ret) { /* the restore is done with it (or gone: the control connection says) */
		close_fetch(s);
		return 0;
	}
	if (fd >= 0)
		close(fd);
	if (m->kind != LAZY_KIND__LAZY_FETCH || !m->has_image_id || !m->has_offset ||
	    !m->has_size || m->size > LAZY_CTL_MAX / 2) {
		pr_err("a bad request on the fetch channel (message %d)\n", m->kind);
		lazy_msg__free_unpacked(m, NULL);
		close_fetch(s);
		return -EBADMSG;
	}
	ret = s->src->ops->fetch(s->src, m->shmem ? IMG_SHMEM_PAGEMAP : IMG_PAGEMAP, m->image_id,
				 m->offset, m->size, &data);
	a.kind = LAZY_KIND__LAZY_FETCHED;
	if (ret) {
		a.error = (char *)"lazy-pages could not get those pages (see its log)";
	} else {
		a.has_data = true;
		a.data.data = (uint8_t *)data;
		a.data.len = m->size;
	}
	lazy_msg__free_unpacked(m, NULL);
	if (lazy_ctl_send(s->fetch_fd, &a, -1))
		close_fetch(s);
	return ret; /* a page we can't get is fatal here too */
}
