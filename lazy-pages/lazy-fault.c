/* lazy-fault: see lazy-serve-int.h. */
#include <errno.h>
#include <linux/userfaultfd.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#define LOG_PREFIX "lazy-pages: "
#include "criu-lite/log.h"
#include "criu-lite/stats.h"
#include "lazy-pages/lazy-serve-int.h"

/* ---- copying ------------------------------------------------------------------------------ */

static int wake(struct lazy_uffd *u, uint64_t at, uint64_t len)
{
	struct uffdio_range r = { .start = at, .len = len };

	return ioctl(u->fd, UFFDIO_WAKE, &r) ? -errno : 0;
}

static int zeropage(struct lazy_uffd *u, uint64_t at)
{
	struct uffdio_zeropage z = { .range = { .start = at, .len = LAZY_PG } };

	if (!ioctl(u->fd, UFFDIO_ZEROPAGE, &z))
		return 0;
	if (errno == EEXIST || (z.zeropage < 0 && -z.zeropage == EEXIST))
		return wake(u, at, LAZY_PG); /* it came in meanwhile */
	if (errno == ENOENT)
		return wake(u, at, LAZY_PG); /* gone: the thread retries and sees why */
	return -errno;
}

int lazy_copy_from(struct server *s, struct lazy_uffd *u, uint64_t at, uint64_t n, bool dontwake,
		   const struct lazy_bytes *b)
{
	const struct lazy_span *sp = lazy_mm_find(&u->mm, at);

	while (n && sp) {
		uint64_t img = sp->src + (at - sp->start), k;
		const struct page_run *r = page_runs_find(u->runs, u->nruns, img);
		struct uffdio_copy c;
		const void *data;
		int ret;

		if (!r || !(r->flags & PAGEMAP_FLAGS__PE_PRESENT)) {
			pr_err("pid %d: page %#llx (image %#llx) is pending but pagemap-%u.img has "
			       "no data for it\n",
			       u->pid, (unsigned long long)at, (unsigned long long)img, u->id);
			return -EBADMSG;
		}
		k = (r->vaddr + r->nr_pages * LAZY_PG - img) / LAZY_PG;
		k = k < n ? k : n;
		if (b) {
			data = b->data + (img - b->img);
		} else {
			ret = s->src->ops->get(s->src, IMG_PAGEMAP, u->id, img, k, NULL, &data);
			if (ret)
				return ret;
		}
		c = (struct uffdio_copy){ .dst = at,
					  .src = (uintptr_t)data,
					  .len = k * LAZY_PG,
					  .mode = dontwake ? UFFDIO_COPY_MODE_DONTWAKE : 0 };
		if (!ioctl(u->fd, UFFDIO_COPY, &c)) {
			lazy_mm_clear(&u->mm, at, at + k * LAZY_PG);
			at += k * LAZY_PG;
			n -= k;
			continue;
		}
		if (c.copy > 0) { /* part of it: go on after that part */
			lazy_mm_clear(&u->mm, at, at + (uint64_t)c.copy);
			n -= (uint64_t)c.copy / LAZY_PG;
			at += (uint64_t)c.copy;
			continue;
		}
		ret = c.copy < 0 ? (int)-c.copy : errno;
		if (ret == EEXIST) { /* already there (a fault's zero page, a racing copy) */
			lazy_mm_clear(&u->mm, at, at + LAZY_PG);
			if (!dontwake)
				wake(u, at, LAZY_PG);
			at += LAZY_PG;
			n--;
			continue;
		}
		if (ret == EAGAIN)
			return -EAGAIN;
		if (ret == ESRCH || ret == ENOSPC)
			return -ESRCH;
		if (ret == ENOENT || ret == EINVAL) {
			/* not registered there any more (an unmap whose event is on its way or
			 * an exit): nothing to fill; a thread that waits retries its access */
			lazy_mm_clear(&u->mm, at, at + k * LAZY_PG);
			wake(u, at, k * LAZY_PG);
			at += k * LAZY_PG;
			n -= k;
			continue;
		}
		errno = ret;
		pr_perror("pid %d: UFFDIO_COPY of %llu pages at %#llx", u->pid,
			  (unsigned long long)k, (unsigned long long)at);
		return -ret;
	}
	return 0;
}

int lazy_copy_run(struct server *s, struct lazy_uffd *u, uint64_t at, uint64_t n, bool dontwake)
{
	return lazy_copy_from(s, u, at, n, dontwake, NULL);
}

/* Map the page at at, in the object's page cache, into u (woken unless dontwake). 0 also when
 * it is mapped already (EEXIST) or no longer in the cache (EFAULT: punched out since; the thread
 * faults again, MISSING) or not registered any more; -EAGAIN, -ESRCH, or a fatal -errno. */
static int cont(struct server *s, struct lazy_uffd *u, uint64_t at, bool dontwake)
{
	struct uffdio_continue c = { .range = { .start = at, .len = LAZY_PG },
				     .mode = dontwake ? UFFDIO_CONTINUE_MODE_DONTWAKE : 0 };
	int ret;

	if (!ioctl(u->fd, UFFDIO_CONTINUE, &c)) {
		s->st->continues++;
		return 0;
	}
	ret = c.mapped < 0 ? (int)-c.mapped : errno;
	if (ret == EAGAIN)
		return -EAGAIN;
	if (ret == ESRCH || ret == ENOSPC)
		return -ESRCH;
	if (ret == EEXIST || ret == EFAULT || ret == ENOENT || ret == EINVAL)
		return dontwake ? 0 : wake(u, at, LAZY_PG);
	errno = ret;
	pr_perror("pid %d: UFFDIO_CONTINUE at %#llx", u->pid, (unsigned long long)at);
	return -ret;
}

/* ---- faults ------------------------------------------------------------------------------- */

/* The aligned LAZY_AROUND window of addr; inside sp when it is a shared object's. */
static void window(const struct lazy_span *sp, uint64_t addr, uint64_t *a, uint64_t *b)
{
	*a = addr & ~(LAZY_AROUND * LAZY_PG - 1);
	*b = *a + LAZY_AROUND * LAZY_PG;
	if (sp && sp->shared && *a < sp->start)
		*a = sp->start;
	if (sp && sp->shared && *b > sp->end)
		*b = sp->end;
}

/* A fault that gets a zero page. */
static int fault_zero(struct server *s, struct lazy_uffd *u, uint64_t addr)
{
	int ret = zeropage(u, addr);

	if (!ret)
		s->st->zero_faults++;
	return ret == -ENOSPC ? -ESRCH : ret;
}

/* Private memory: the page copied in (or a zero page), the thread woken. */
static int fault_private(struct server *s, struct lazy_uffd *u, uint64_t addr)
{
	const struct lazy_span *sp;
	int ret;

	if (!lazy_mm_pending(&u->mm, addr))
		return fault_zero(s, u, addr);
	sp = lazy_mm_find(&u->mm, addr);
	ret = lazy_copy_run(s, u, addr, 1, false);
	if (ret)
		return ret;
	s->st->pages_fault++;
	return lazy_ws_add(&s->ws_out, u->id, sp->src + (addr - sp->start));
}

/* A shared object: MISSING (not in its page cache): zeros, and nothing to write there any
 * more; MINOR: the page written if it is pending, then mapped (lazy-shm.h). */
static int fault_shared(struct server *s, struct lazy_uffd *u, const struct lazy_span *sp,
			uint64_t addr, bool minor)
{
	uint64_t off = sp->src + (addr - sp->start), done;
	int ret;

	if (!minor) {
		lazy_shm_drop(&s->shm, sp->obj, off);
		return fault_zero(s, u, addr);
	}
	ret = lazy_shm_fill(&s->shm, sp->obj, off, 1, &done);
	if (ret)
		return ret;
	s->st->minor_faults++;
	s->st->shm_pages_fault += done;
	return cont(s, u, addr, false);
}

/* After the faulting thread is woken: the rest of its window, which nobody waits for. The kernel
 * does no fault-around in uffd-armed ranges: private pages are copied in, a shared object's
 * pages written and mapped (each would be a MINOR fault of its own). */
static int around(struct server *s, struct lazy_uffd *u, uint64_t addr)
{
	const struct lazy_span *sp = lazy_mm_find(&u->mm, addr);
	uint64_t a, b, done;
	int ret;

	window(sp, addr, &a, &b);
	if (sp && sp->shared) {
		ret = lazy_shm_fill(&s->shm, sp->obj, sp->src + (a - sp->start), (b - a) / LAZY_PG,
				    &done);
		if (ret)
			return ret;
		s->st->shm_pages_fault += done;
		for (uint64_t at = a; at < b && !ret; at += LAZY_PG)
			if (at != addr &&
			    !lazy_shm_pending(&s->shm, sp->obj, sp->src + (at - sp->start)))
				ret = cont(s, u, at, true);
		return ret == -EAGAIN ? 0 : ret; /* what is left waits for its own fault */
	}
	for (uint64_t at = a; at < b;) {
		uint64_t n = lazy_mm_run_at(&u->mm, at, b);

		if (!n) {
			at += LAZY_PG;
			continue;
		}
		ret = lazy_copy_run(s, u, at, n, true);
		if (ret == -EAGAIN)
			return 0; /* the prefetch will get them */
		if (ret)
			return ret;
		s->st->pages_around += n;
		at += n * LAZY_PG;
	}
	return 0;
}

int lazy_fault(struct server *s, struct lazy_uffd *u, const struct deferred *f)
{
	const struct lazy_span *sp = lazy_mm_find(&u->mm, f->addr);
	int ret = sp && sp->shared ? fault_shared(s, u, sp, f->addr, f->minor)
				   : fault_private(s, u, f->addr);

	if (ret == -EINVAL)
		ret = 0; /* not registered there any more: the thread retries and sees why */
	if (ret && ret != -EAGAIN && ret != -ESRCH) {
		errno = -ret;
		pr_perror("pid %d: fault at %#llx", u->pid, (unsigned long long)f->addr);
		return ret;
	}
	if (ret)
		return ret;
	double now = stats_now(), lat = now - f->t0;

	s->st->faults++;
	s->last_fault = now;
	s->st->blocked_s += lat;
	if (s->st->nlat < LAZY_LAT_MAX) {
		if (!s->st->lat_ns && !(s->st->lat_ns = calloc(LAZY_LAT_MAX, sizeof(uint64_t))))
			return -ENOMEM;
		s->st->lat_ns[s->st->nlat++] = (uint64_t)(lat * 1e9);
	}
	u->cursor = f->addr + LAZY_PG;
	return around(s, u, f->addr);
}
