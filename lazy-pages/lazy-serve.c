/* lazy-serve: see lazy-serve.h. */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define LOG_PREFIX "lazy-pages: "
#include "criu-lite/log.h"
#include "criu-lite/stats.h"
#include "lazy-pages/lazy-ctl.h"
#include "lazy-pages/lazy-serve-int.h"

static int add_uffd(struct server *s, int fd, uint32_t id, pid_t pid, struct lazy_uffd **out)
{
	struct lazy_uffd *u = calloc(1, sizeof(*u)), **v;
	struct epoll_event ev = { .events = EPOLLIN };
	int ret = -ENOMEM;

	v = realloc(s->u, (s->n + 1) * sizeof(*v));
	if (v)
		s->u = v;
	if (!u || !v)
		goto fail;
	u->fd = fd;
	u->id = id;
	u->pid = pid;
	ret = s->src->ops->runs(s->src, IMG_PAGEMAP, id, &u->runs, &u->nruns);
	if (ret)
		goto fail;
	ev.data.ptr = u;
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev)) {
		ret = -errno;
		pr_perror("epoll_ctl on the uffd of pid %d", pid);
		goto fail;
	}
	s->u[s->n++] = u;
	*out = u;
	return 0;
fail:
	free(u);
	return ret;
}

void lazy_drop_uffd(struct server *s, struct lazy_uffd *u, const char *why)
{
	pr_info("pid %d (image %u): %s, %llu pages never needed\n", u->pid, u->id, why,
		(unsigned long long)u->mm.left);
	epoll_ctl(s->ep, EPOLL_CTL_DEL, u->fd, NULL);
	close(u->fd);
	u->fd = -1;
	lazy_mm_free(&u->mm);
}

static int send_ctl(struct server *s, LazyKind kind, uint64_t left, const char *error, int fd)
{
	LazyMsg m = LAZY_MSG__INIT;
	int ret;

	if (s->ctl < 0)
		return 0;
	m.kind = kind;
	m.has_pages_left = kind == LAZY_KIND__LAZY_STATUS || kind == LAZY_KIND__LAZY_DONE;
	m.pages_left = left;
	m.error = (char *)error;
	ret = lazy_ctl_send(s->ctl, &m, fd);
	if (ret)
		pr_warn("the restore's guardian went away (%s): serving on alone\n",
			strerror(-ret));
	return ret;
}

static int forked(struct server *s, struct lazy_uffd *parent, int fd)
{
	struct lazy_uffd *c;
	int ret = add_uffd(s, fd, parent->id, 0, &c);

	if (ret) {
		close(fd);
		return ret;
	}
	ret = lazy_mm_clone(&c->mm, &parent->mm);
	if (ret)
		return ret;
	c->cursor = parent->cursor;
	s->st->forks++;
	pr_info("pid %d forked: a new uffd with %llu pages pending\n", parent->pid,
		(unsigned long long)c->mm.left);
	if (s->ctl >= 0 && send_ctl(s, LAZY_KIND__LAZY_FORKED, 0, NULL, fd)) {
		epoll_ctl(s->ep, EPOLL_CTL_DEL, s->ctl, NULL);
		close(s->ctl);
		s->ctl = -1;
	}
	return 0;
}

static int event(struct server *s, struct lazy_uffd *u, const struct uffd_msg *m)
{
	switch (m->event) {
	case UFFD_EVENT_FORK:
		return forked(s, u, (int)m->arg.fork.ufd);
	case UFFD_EVENT_REMAP:
		s->st->events_remap++;
		return lazy_mm_move(&u->mm, m->arg.remap.from, m->arg.remap.to, m->arg.remap.len);
	case UFFD_EVENT_REMOVE:
		s->st->events_remove++;
		/* private pages are dropped; a shared object's page cache says itself what went
		 * (lazy-shm.h), so its spans have nothing to clear */
		lazy_mm_clear(&u->mm, m->arg.remove.start, m->arg.remove.end);
		return 0;
	case UFFD_EVENT_UNMAP:
		s->st->events_unmap++;
		return lazy_mm_cut(&u->mm, m->arg.remove.start, m->arg.remove.end);
	default:
		pr_err("pid %d: unexpected uffd event %u\n", u->pid, m->event);
		return -EBADMSG;
	}
}

/* A fault that met a pending event: retried once the events are read (its thread waits). */
static int defer(struct lazy_uffd *u, const struct deferred *f)
{
	if (u->nretry == u->cap_retry) {
		size_t cap = u->cap_retry ? 2 * u->cap_retry : 16;
		struct deferred *v = realloc(u->retry, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		u->retry = v;
		u->cap_retry = cap;
	}
	u->retry[u->nretry++] = *f;
	return 0;
}

static int serve_faults(struct server *s, struct lazy_uffd *u, const struct deferred *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int ret = lazy_fault(s, u, &f[i]);

		if (ret == -EAGAIN)
			ret = defer(u, &f[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* Everything the uffd has to say; -ESRCH when its task is gone. */
static int serve_uffd(struct server *s, struct lazy_uffd *u)
{
	struct uffd_msg msg[32];

	for (;;) {
		ssize_t r = read(u->fd, msg, sizeof(msg));
		double now = stats_now();
		struct deferred *f;
		size_t nf = 0;
		int ret = 0;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			r = 0;
		if (r < 0) {
			pr_perror("pid %d: read from its uffd", u->pid);
			return -errno;
		}
		/* the faults deferred by an event, then the new ones, after the events */
		f = malloc((u->nretry + 32) * sizeof(*f));
		if (!f)
			return -ENOMEM;
		if (u->nretry) /* (never memcpy from NULL, even 0 bytes) */
			memcpy(f, u->retry, u->nretry * sizeof(*f));
		nf = u->nretry;
		u->nretry = 0;
		for (size_t i = 0; !ret && i < (size_t)r / sizeof(msg[0]); i++) {
			if (msg[i].event == UFFD_EVENT_PAGEFAULT)
				f[nf++] = (struct deferred){
					msg[i].arg.pagefault.address & ~(LAZY_PG - 1), now,
					msg[i].arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_MINOR
				};
			else
				ret = event(s, u, &msg[i]);
		}
		if (!ret)
			ret = serve_faults(s, u, f, nf);
		free(f);
		if (ret || (size_t)r < sizeof(msg))
			return ret;
	}
}

/* ---- control and prefetch ----------------------------------------------------------------- */

static int take_task(struct server *s, LazyMsg *m, int fd)
{
	struct lazy_uffd *u;
	int ret;

	if (fd < 0 || !m->has_pid || !m->has_image_id) {
		pr_err("a task message without %s\n", fd < 0 ? "its uffd" : "pid or image id");
		if (fd >= 0)
			close(fd);
		return -EBADMSG;
	}
	ret = add_uffd(s, fd, m->image_id, (pid_t)m->pid, &u);
	if (ret) {
		close(fd);
		return ret;
	}
	if (!s->t_first)
		s->t_first = stats_now();
	for (size_t i = 0; i < m->n_ranges && !ret; i++) {
		const LazyRange *r = m->ranges[i];
		uint64_t a = r->start, b = r->end, off = r->offset;
		int k = r->has_shmem_id ? lazy_shm_find(&s->shm, r->shmem_id) : -1;

		/* a mapping may reach past the object's end (a memfd shrunk under it): the
		 * kernel gives SIGBUS there before any fault */
		if (a >= b || (a | b | off) & (LAZY_PG - 1) || lazy_mm_find(&u->mm, a) ||
		    (r->has_shmem_id && (k < 0 || off + (b - a) < off))) {
			pr_err("pid %u: bad lazy range %#llx-%#llx%s\n", m->pid,
			       (unsigned long long)a, (unsigned long long)b,
			       r->has_shmem_id ? " of a shared object" : "");
			return -EBADMSG;
		}
		ret = k >= 0 ? lazy_mm_add_shared(&u->mm, a, b, (uint32_t)k, off)
			     : lazy_mm_add(&u->mm, a, b);
	}
	/* pending: the pages with contents in the image, inside the ranges */
	for (size_t i = 0; i < u->nruns && !ret; i++)
		if (u->runs[i].flags & PAGEMAP_FLAGS__PE_PRESENT)
			lazy_mm_set(&u->mm, u->runs[i].vaddr,
				    u->runs[i].vaddr + u->runs[i].nr_pages * LAZY_PG);
	u->cursor = 0;
	if (s->ws_in && s->ws_in->n)
		u->nhints = lazy_ws_for(s->ws_in, u->id, &u->hints);
	s->st->tasks++;
	pr_info("pid %u (image %u): %zu lazy ranges, %llu pages to copy in\n", m->pid, m->image_id,
		m->n_ranges, (unsigned long long)u->mm.left);
	return ret;
}

static int take_shmem(struct server *s, LazyMsg *m, int fd)
{
	int ret;

	if (fd < 0 || !m->has_image_id || !m->has_size) {
		pr_err("a shared object message without %s\n", fd < 0 ? "its fd" : "id or size");
		if (fd >= 0)
			close(fd);
		return -EBADMSG;
	}
	ret = lazy_shm_add(&s->shm, m->image_id, m->size, fd);
	if (!ret)
		s->st->shm_objects++;
	return ret;
}

static int serve_ctl(struct server *s)
{
	LazyMsg *m;
	int fd, ret = lazy_ctl_recv(s->ctl, &m, &fd);

	if (ret) {
		epoll_ctl(s->ep, EPOLL_CTL_DEL, s->ctl, NULL);
		close(s->ctl);
		s->ctl = -1;
		if (!s->tasks_done) {
			pr_err("the restore went away before it had handed over every task (%s)\n",
			       ret == -ENODATA ? "connection closed" : strerror(-ret));
			return -ECONNRESET;
		}
		pr_warn("the restore's guardian went away: serving on alone\n");
		return 0;
	}
	if (m->kind == LAZY_KIND__LAZY_TASK) {
		ret = take_task(s, m, fd);
	} else if (m->kind == LAZY_KIND__LAZY_SHMEM) {
		ret = take_shmem(s, m, fd);
	} else if (m->kind == LAZY_KIND__LAZY_END) {
		s->tasks_done = true;
	} else if (m->kind == LAZY_KIND__LAZY_FETCH_CHANNEL) {
		ret = lazy_fetch_channel(s, fd);
	} else {
		pr_err("unexpected control message %d\n", m->kind);
		if (fd >= 0)
			close(fd);
		ret = -EBADMSG;
	}
	lazy_msg__free_unpacked(m, NULL);
	return ret;
}

uint64_t lazy_pages_left(const struct server *s)
{
	uint64_t n = s->shm.left;

	for (size_t i = 0; i < s->n; i++)
		if (s->u[i]->fd >= 0)
			n += s->u[i]->mm.left;
	return n;
}

/* The next page of u's earlier working set still pending, where it is now (a span moved by
 * mremap keeps its source); 0 pages when the hints are used up. */
static uint64_t next_hint(struct lazy_uffd *u, uint64_t *at)
{
	while (u->next_hint < u->nhints) {
		uint64_t img = u->hints[u->next_hint++];

		for (size_t i = 0; i < u->mm.n; i++) {
			const struct lazy_span *sp = &u->mm.v[i];

			if (img >= sp->src && img < sp->src + (sp->end - sp->start)) {
				*at = sp->start + (img - sp->src);
				if (lazy_mm_pending(&u->mm, *at))
					return lazy_mm_run_at(&u->mm, *at,
							      *at + LAZY_CHUNK * LAZY_PG);
				break;
			}
		}
	}
	return 0;
}

/* One batch of a shared object's. */
static int prefetch_shared(struct server *s, bool *did)
{
	uint64_t done;
	int ret = lazy_shm_prefetch(&s->shm, LAZY_SHM_CHUNK, &done);

	s->st->shm_pages_prefetch += done;
	*did = done;
	return ret;
}

/* One batch for the next task or shared object with pages left (they take turns); *did false
 * when there was nothing to do. */
static int prefetch(struct server *s, bool *did)
{
	int ret;

	/* what a remote source's stream brought, first; while it streams, nothing else (asking
	 * for pages it is about to send would only send them twice) */
	if (s->src->ops->arrived) {
		ret = lazy_copy_arrived(s, did);
		if (ret || *did || s->src->ops->streaming(s->src))
			return ret;
	}
	*did = false;
	s->shm_turn = !s->shm_turn;
	if (s->shm_turn && s->shm.left)
		return prefetch_shared(s, did);
	for (size_t k = 0; k < s->n; k++) {
		struct lazy_uffd *u = s->u[(s->rr + k) % s->n];
		uint64_t at, n, left = u->mm.left;
		bool hinted;

		if (u->fd < 0 || !u->mm.left || u->nretry)
			continue;
		n = next_hint(u, &at);
		hinted = n;
		if (!n)
			n = lazy_mm_next(&u->mm, u->cursor, LAZY_CHUNK, &at);
		if (!n)
			continue;
		s->rr = (s->rr + k + 1) % s->n;
		ret = lazy_copy_run(s, u, at, n, false);
		if (ret == -ESRCH) {
			lazy_drop_uffd(s, u, "gone");
			ret = 0;
		}
		if (ret == -EAGAIN)
			ret = 0; /* an event first: the uffd is readable */
		if (ret)
			return ret;
		/* the pages it copied in: the window may hold pages already in */
		left = left > u->mm.left ? left - u->mm.left : 0;
		s->st->pages_prefetch += left;
		if (hinted)
			s->st->ws_pages += left;
		else
			u->cursor = at + n * LAZY_PG;
		*did = true;
		return 0;
	}
	return s->shm.left ? prefetch_shared(s, did) : 0;
}

/* Faults deferred by EAGAIN, tried again. The event that made the kernel say EAGAIN may have
 * been read already (its task takes back mmap_changing only once it runs again), so nothing
 * makes the uffd readable for them: they are retried every turn of the loop until they pass. */
static int retry_deferred(struct server *s, bool *any)
{
	*any = false;
	for (size_t i = 0; i < s->n; i++) {
		struct lazy_uffd *u = s->u[i];
		struct deferred *f;
		size_t n = u->nretry;
		int ret;

		if (u->fd < 0 || !n)
			continue;
		f = malloc(n * sizeof(*f));
		if (!f)
			return -ENOMEM;
		memcpy(f, u->retry, n * sizeof(*f));
		u->nretry = 0;
		ret = serve_faults(s, u, f, n);
		free(f);
		if (ret == -ESRCH) {
			lazy_drop_uffd(s, u, "gone");
			ret = 0;
		}
		if (ret)
			return ret;
		*any |= u->fd >= 0 && u->nretry;
	}
	return 0;
}

/* With a remote source: the stream thread copies in what it brings (lazy_deliver()) only
 * while the loop lets go of this. */
static void serve_lock(struct server *s, bool on, bool urgent)
{
	if (s->src->ops->serve_lock)
		s->src->ops->serve_lock(s->src, on, urgent);
}

static int loop(struct server *s)
{
	bool idle = false, deferred = false;

	for (;;) {
		struct epoll_event ev[16];
		uint64_t left = lazy_pages_left(s);
		double now = stats_now();
		int n, ret = 0;

		if (s->tasks_done && !left)
			return 0;
		if (s->ctl >= 0 && now - s->last_status >= LAZY_STATUS_MS / 1000.0) {
			const struct lazy_stats *st = s->st;

			s->last_status = now;
			if (s->o->progress)
				s->o->progress(s->o->progress_arg,
					       st->pages_fault + st->pages_around +
						   st->pages_prefetch + st->shm_pages_fault +
						   st->shm_pages_prefetch,
					       left, st);
			if (send_ctl(s, LAZY_KIND__LAZY_STATUS, left, NULL, -1)) {
				epoll_ctl(s->ep, EPOLL_CTL_DEL, s->ctl, NULL);
				close(s->ctl);
				s->ctl = -1;
			}
		}
		/* deferred faults: look again within a millisecond; right after a fault, spin: the
		 * next one tends to follow (a task walking its memory), and a server woken from
		 * idle costs the task tens of microseconds more here (a VM's halted vCPU) */
		bool spin = now - s->last_fault < LAZY_SPIN_US / 1e6;

		serve_lock(s, false, false); /* the stream may copy in meanwhile */
		n = epoll_wait(s->ep, ev, 16,
			       deferred			 ? 1
			       : (left && !idle) || spin ? 0
							 : LAZY_STATUS_MS);
		serve_lock(s, true, n > 0);
		left = lazy_pages_left(s);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			pr_perror("epoll_wait");
			return -errno;
		}
		for (int i = 0, nev = n; i < nev && !ret; i++) {
			struct lazy_uffd *u = ev[i].data.ptr;

			if (!u) {
				ret = serve_ctl(s);
				continue;
			}
			if ((void *)u == (void *)&s->fetch_fd) {
				n--;
				ret = lazy_serve_fetch(s);
				continue;
			}
			if ((void *)u == (void *)&s->src) {
				n--; /* the source brought pages: prefetch copies them */
				continue;
			}
			if ((void *)u == (void *)&s->sigfd) {
				pr_info("SIGUSR1: prefetch on\n");
				s->hold = false;
				epoll_ctl(s->ep, EPOLL_CTL_DEL, s->sigfd, NULL);
				continue;
			}
			if (u->fd < 0)
				continue;
			ret = serve_uffd(s, u);
			if (ret == -ESRCH) {
				lazy_drop_uffd(s, u, "gone");
				ret = 0;
			}
		}
		if (!ret)
			ret = retry_deferred(s, &deferred);
		bool did = false;

		if (!ret && !n && !s->hold)
			ret = prefetch(s, &did);
		if (ret)
			return ret;
		/* nothing prefetchable now (every task waits for an event): block a while (a
		 * batch that found nothing pending is work done: what a remote source brought
		 * goes through fast even where faults took it first) */
		idle = !n && !did && left == lazy_pages_left(s);
	}
}

/* After LAZY_DONE: the peer's end closing says the guardian let go of the uffds. */
static void wait_bye(int ctl)
{
	double end = stats_now() + LAZY_BYE_S;
	char buf[256];

	while (stats_now() < end) {
		struct pollfd p = { .fd = ctl, .events = POLLIN };
		int n = poll(&p, 1, 100);

		if (n < 0 && errno != EINTR)
			return;
		if (n > 0 && read(ctl, buf, sizeof(buf)) <= 0)
			return;
	}
	pr_warn("the guardian did not close its connection within %d s\n", LAZY_BYE_S);
}

int lazy_serve(struct page_source *src, int ctl, const struct lazy_serve_opts *o,
	       struct lazy_stats *st)
{
	struct server s = { .src = src,
			    .ctl = ctl,
			    .st = st,
			    .hold = o->hold_prefetch,
			    .sigfd = -1,
			    .fetch_fd = -1,
			    .o = o,
			    .ws_in = o->ws };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	struct page_sink sink = { .arg = &s, .deliver = lazy_deliver };
	int ret;

	lazy_shm_init(&s.shm, src);
	s.ep = epoll_create1(EPOLL_CLOEXEC);
	if (s.ep < 0 || epoll_ctl(s.ep, EPOLL_CTL_ADD, ctl, &ev)) {
		pr_perror("epoll");
		if (s.ep >= 0)
			close(s.ep);
		return -errno;
	}
	if (s.hold) {
		sigset_t m;

		sigemptyset(&m);
		sigaddset(&m, SIGUSR1);
		sigprocmask(SIG_BLOCK, &m, NULL);
		s.sigfd = signalfd(-1, &m, SFD_CLOEXEC);
		ev.data.ptr = &s.sigfd;
		if (s.sigfd < 0 || epoll_ctl(s.ep, EPOLL_CTL_ADD, s.sigfd, &ev)) {
			pr_perror("signalfd for SIGUSR1");
			close(s.ep);
			return -errno;
		}
		pr_info("prefetch held until SIGUSR1 (CRIU_LITE_FAULT)\n");
	}
	/* edge triggered: a turn that copies nothing in (prefetch held) does not spin on it */
	ev.events = EPOLLIN | EPOLLET;
	ev.data.ptr = &s.src;
	if (src->notify_fd >= 0 && epoll_ctl(s.ep, EPOLL_CTL_ADD, src->notify_fd, &ev)) {
		pr_perror("epoll on the page source");
		if (s.sigfd >= 0)
			close(s.sigfd);
		close(s.ep);
		return -errno;
	}
	serve_lock(&s, true, false);
	if (src->ops->set_sink)
		src->ops->set_sink(src, &sink);
	ret = loop(&s);
	if (src->ops->set_sink)
		src->ops->set_sink(src, NULL);
	serve_lock(&s, false, false);
	st->all_pages_s = s.t_first ? stats_now() - s.t_first : 0;
	if (ret) {
		char why[160];

		snprintf(why, sizeof(why), "the lazy-pages daemon failed: %s", strerror(-ret));
		send_ctl(&s, LAZY_KIND__LAZY_ERROR, lazy_pages_left(&s), why, -1);
	} else if (!send_ctl(&s, LAZY_KIND__LAZY_DONE, 0, NULL, -1) && s.ctl >= 0) {
		wait_bye(s.ctl);
	}
	if (s.sigfd >= 0)
		close(s.sigfd);
	if (s.fetch_fd >= 0)
		close(s.fetch_fd);
	for (size_t i = 0; i < s.n; i++) {
		if (s.u[i]->fd >= 0) {
			close(s.u[i]->fd);
			lazy_mm_free(&s.u[i]->mm);
		}
		free(s.u[i]->hints);
		free(s.u[i]->retry);
		free(s.u[i]);
	}
	/* this restore's working set replaces the earlier one, when it has one */
	if (!ret && o->ws && s.ws_out.n) {
		lazy_ws_free(o->ws);
		*o->ws = s.ws_out;
	} else {
		lazy_ws_free(&s.ws_out);
	}
	free(s.u);
	lazy_shm_free(&s.shm);
	close(s.ep);
	return ret;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

double lazy_stats_quantile(struct lazy_stats *st, double p)
{
	uint64_t i;

	if (!st->nlat)
		return 0;
	qsort(st->lat_ns, st->nlat, sizeof(uint64_t), cmp_u64);
	i = (uint64_t)(p * (double)(st->nlat - 1) + 0.5);
	return (double)st->lat_ns[i] / 1e9;
}

void lazy_stats_free(struct lazy_stats *st)
{
	free(st->lat_ns);
	st->lat_ns = NULL;
}
