/* restore-lazy: see restore-lazy.h. */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOG_PREFIX "lazy: "
#include "criu-lite/kcompat.h"
#include "criu-lite/log.h"
#include "criu-lite/proc/proc.h"
#include "criu-lite/restore/lazy-guardian.h"
#include "criu-lite/restore/restore-lazy.h"
#include "lazy-pages/lazy-ctl.h"

#define PG	       4096ULL
#define LAZY_TIMEOUT_S 30
#define LAZY_UFFD_EVENTS                                                                  \
	(UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_EVENT_REMAP | UFFD_FEATURE_EVENT_REMOVE | \
	 UFFD_FEATURE_EVENT_UNMAP)

struct restore_lazy {
	int srv;   /* the lazy-pages server */
	int guard; /* the guardian (-1 until restore_lazy_start()) */
	pid_t guardian;
	bool remote; /* the pages come from a page server: the pages we fill, through fetch */
	int fetch;
};

/* LAZY_READY: the server opened every page image (their data is checked chunk by chunk as it
 * is used: page_reader_open_unchecked()) and took this restore; before it, no task may exist. */
static int wait_ready(struct restore_ctx *c, int srv, bool *remote)
{
	int timeout = c->o->lazy_timeout ? c->o->lazy_timeout : LAZY_TIMEOUT_S;
	struct pollfd p = { .fd = srv, .events = POLLIN };
	LazyMsg *m;
	int fd, ret, n;

	n = poll(&p, 1, timeout * 1000);
	if (n <= 0) {
		pr_err("lazy-pages took no restore within %d s (--lazy-timeout)\n", timeout);
		return -ETIMEDOUT;
	}
	ret = lazy_ctl_recv(srv, &m, &fd);
	if (ret) {
		pr_err("lazy-pages closed the connection before it took the restore (%s): see its "
		       "log (did it refuse a page image?)\n",
		       ret == -ENODATA ? "no message" : strerror(-ret));
		return ret;
	}
	if (fd >= 0)
		close(fd);
	ret = m->kind == LAZY_KIND__LAZY_READY ? 0 : -EBADMSG;
	if (ret)
		pr_err("lazy-pages said %d where it says it is ready\n", m->kind);
	*remote = m->remote_pages;
	lazy_msg__free_unpacked(m, NULL);
	return ret;
}

/* The channel on which restore asks for the pages it fills itself (a remote source's). */
static int open_fetch(struct restore_lazy *l)
{
	LazyMsg m = LAZY_MSG__INIT;
	int sp[2], ret;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp)) {
		pr_perror("socketpair");
		return -errno;
	}
	m.kind = LAZY_KIND__LAZY_FETCH_CHANNEL;
	ret = lazy_ctl_send(l->srv, &m, sp[1]);
	close(sp[1]);
	if (ret) {
		pr_err("lazy-pages went away before it took the fetch channel: %s\n",
		       strerror(-ret));
		close(sp[0]);
		return ret;
	}
	l->fetch = sp[0];
	return 0;
}

int restore_lazy_connect(struct restore_ctx *c)
{
	static const enum kd_id need[] = { KD_UFFD, KD_UFFD_EVENT_FORK, KD_UFFD_EVENT_REMAP,
					   KD_UFFD_EVENT_REMOVE, KD_UFFD_EVENT_UNMAP };
	struct restore_lazy *l;
	int srv, ret;
	bool remote = false;

	if (!c->o->lazy_pages)
		return 0;
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!kd_has(&c->kd, need[i])) {
			pr_err("--lazy-pages needs %s, which this kernel lacks: %s\n",
			       kerndat_name(need[i]), c->kd.item[need[i]].detail);
			return -ENOTSUP;
		}
	srv = lazy_ctl_connect(img_dir_fd(c->dir));
	if (srv < 0) {
		errno = -srv;
		pr_perror("no lazy-pages server answers on %s/%s (start `criu-lite lazy-pages -D "
			  "%s` first)",
			  c->o->images_dir, LAZY_CTL_SOCK, c->o->images_dir);
		return srv;
	}
	ret = wait_ready(c, srv, &remote);
	l = ret ? NULL : calloc(1, sizeof(*l));
	if (!l) {
		close(srv);
		return ret ? ret : -ENOMEM;
	}
	*l = (struct restore_lazy){ .srv = srv, .guard = -1, .remote = remote, .fetch = -1 };
	c->lazy = l;
	if (remote && (ret = open_fetch(l)))
		return ret;
	pr_info("connected to lazy-pages%s\n", remote ? " (pages from a page server)" : "");
	return 0;
}

bool restore_lazy_remote(const struct restore_ctx *c)
{
	return c->lazy && c->lazy->remote;
}

/* page_fetch_fn: bytes of a pages file, asked for on the fetch channel. */
static int fetch(void *arg, enum img_kind kind, long id, uint64_t off, uint64_t len, void *buf,
		 struct img_err *err)
{
	struct restore_lazy *l = arg;

	while (len) {
		uint64_t n = len < LAZY_CTL_MAX / 4 ? len : LAZY_CTL_MAX / 4;
		LazyMsg q = LAZY_MSG__INIT, *a;
		int fd, ret;

		q.kind = LAZY_KIND__LAZY_FETCH;
		q.has_image_id = q.has_shmem = q.has_offset = q.has_size = true;
		q.image_id = (uint32_t)id;
		q.shmem = kind == IMG_SHMEM_PAGEMAP;
		q.offset = off;
		q.size = n;
		ret = lazy_ctl_send(l->fetch, &q, -1);
		if (!ret)
			ret = lazy_ctl_recv(l->fetch, &a, &fd);
		if (ret)
			return img_fail(err, -ret, "pages %s%ld.img: lazy-pages did not answer: %s",
					kind == IMG_SHMEM_PAGEMAP ? "pages-shmem-" : "pages-", id,
					strerror(-ret));
		if (fd >= 0)
			close(fd);
		if (a->kind != LAZY_KIND__LAZY_FETCHED || !a->has_data || a->data.len != n) {
			ret = img_fail(err, EIO, "%s%ld.img bytes %llu-%llu: %s",
				       kind == IMG_SHMEM_PAGEMAP ? "pages-shmem-" : "pages-", id,
				       (unsigned long long)off, (unsigned long long)(off + n),
				       a->error ? a->error : "lazy-pages gave no pages");
			lazy_msg__free_unpacked(a, NULL);
			return ret;
		}
		memcpy(buf, a->data.data, n);
		lazy_msg__free_unpacked(a, NULL);
		buf = (uint8_t *)buf + n;
		off += n;
		len -= n;
	}
	return 0;
}

int restore_lazy_pages_open(struct restore_ctx *c, enum img_kind kind, long id,
			    struct page_reader **out)
{
	struct img_err err = { 0 };
	int ret;

	if (restore_lazy_remote(c)) {
		ret = page_reader_open_meta(c->dir, kind, id, out, &err);
		if (!ret && (ret = page_reader_set_fetch(*out, fetch, c->lazy, &err))) {
			page_reader_close(*out);
			*out = NULL;
		}
	} else if (c->o->lazy_pages) { /* lazy-pages checks the pages files */
		ret = page_reader_open_unchecked(c->dir, kind, id, out, &err);
	} else {
		ret = page_reader_open_kind(c->dir, kind, id, out, &err);
	}
	if (ret)
		pr_err("%s\n", err.msg);
	return ret;
}

int restore_lazy_start(struct restore_ctx *c)
{
	struct restore_lazy *l = c->lazy;
	pid_t me = getpid(), pid;
	int sp[2];

	if (!l)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp)) {
		pr_perror("socketpair");
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		pr_perror("can't fork the lazy restore's guardian");
		close(sp[0]);
		close(sp[1]);
		return -errno;
	}
	if (pid == 0) {
		close(sp[0]);
		if (l->fetch >= 0)
			close(l->fetch);
		lazy_guardian(l->srv, sp[1], me,
			      c->o->lazy_timeout ? c->o->lazy_timeout : LAZY_TIMEOUT_S);
	}
	close(sp[1]);
	l->guard = sp[0];
	l->guardian = pid;
	pr_info("guardian pid %d\n", pid);
	return 0;
}

static bool can_be_lazy(const struct restore_task *t, size_t i)
{
	const VmaEntry *v = t->mm->vmas[i];
	uint64_t f;

	/* read-only in the end: mprotect() before any page is in would drop its `ac` (no
	 * anon_vma yet: restore-vma.c), so it is filled before */
	if (!restore_vma_private_anon(v) || !(v->prot & PROT_WRITE) || (v->flags & MAP_DROPPABLE) ||
	    v->n_guards || (t->cow_keep && t->cow_keep[i]) || restore_vma_flags(v, &f))
		return false;
	/* hugetlb: a userfaultfd copies whole huge pages only: filled before it runs */
	if (f & (VMF_LO | VMF_LF | VMF_GU | VMF_DP | VMF_HT) || restore_vma_direct(v, f))
		return false;
	return page_reader_any(t->pages, v->start, v->end, PAGEMAP_FLAGS__PE_PRESENT);
}

/* The pages thread k of t resumes on, restored eagerly: [*lo, *hi). */
static void stack_top(const struct restore_task *t, size_t k, uint64_t *lo, uint64_t *hi)
{
	uint64_t sp = t->core->threads[k]->regs->sp & ~(PG - 1);

	*lo = sp > LAZY_STACK_PAGES * PG ? sp - LAZY_STACK_PAGES * PG : 0;
	*hi = sp + LAZY_STACK_PAGES * PG;
}

/* A thread of t resumes inside [a, b)? */
static bool stack_top_in(const struct restore_task *t, uint64_t a, uint64_t b)
{
	uint64_t lo, hi;

	for (size_t k = 0; t->core && k < t->core->n_threads; k++) {
		stack_top(t, k, &lo, &hi);
		if (hi > a && lo < b)
			return true;
	}
	return false;
}

/* A VMA of shared object i that does not let it be lazy. */
static const char *shmem_vma_bars(const struct restore_task *t, const VmaEntry *v)
{
	uint64_t f;

	if (!(v->flags & MAP_SHARED))
		return "a private mapping of it";
	if (v->n_guards || restore_vma_flags(v, &f) || (f & (VMF_LO | VMF_LF | VMF_GU)))
		return "a locked or guarded mapping of it";
	if (stack_top_in(t, v->start, v->end))
		return "a thread's stack top in it";
	return NULL;
}

/* Shared object i filled lazily: only mappings reach it, every one shared, none locked or
 * holding a stack top, and its contents can still be written (no write seal). */
static bool shmem_can_be_lazy(const struct restore_ctx *c, size_t i)
{
	const ShmemEntry *e = c->shmem[i];
	const char *why = NULL;

	if (!page_reader_any(c->shmem_pages[i], 0, e->size + PG, PAGEMAP_FLAGS__PE_PRESENT))
		return false;
	if (!kd_has(&c->kd, KD_UFFD_MINOR_SHMEM) || !kd_has(&c->kd, KD_UFFD_MISSING_SHMEM))
		why = "the kernel has no MINOR or MISSING faults on shmem";
	else if (e->has_seals && (e->seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)))
		why = "it is sealed against writes";
	for (size_t k = 0; !why && k < c->nr_files; k++)
		if (c->files[k]->type == FILE_TYPE__FT_MEMFD && c->files[k]->memfd &&
		    c->files[k]->memfd->shmem_id == e->id)
			why = "a task has it open (a read through the fd would not fault)";
	for (size_t k = 0; !why && k < c->nr_tasks; k++) {
		const struct restore_task *t = &c->tasks[k];

		for (size_t j = 0; !why && !t->zombie && t->mm && j < t->mm->n_vmas; j++) {
			const VmaEntry *v = t->mm->vmas[j];

			if (v->has_shmem_id && v->shmem_id == e->id)
				why = shmem_vma_bars(t, v);
		}
	}
	if (why)
		pr_info("shared memory object %u is filled eagerly: %s\n", e->id, why);
	return !why;
}

/* v maps a lazy shared object (then it is registered MISSING|MINOR)? */
static bool maps_lazy_shmem(const struct restore_ctx *c, const VmaEntry *v)
{
	for (size_t i = 0; v->has_shmem_id && i < c->nr_shmem; i++)
		if (c->shmem[i]->id == v->shmem_id)
			return c->shmem_lazy[i];
	return false;
}

int restore_lazy_plan(struct restore_ctx *c)
{
	if (!c->lazy)
		return 0;
	for (size_t i = 0; i < c->nr_shmem; i++)
		c->shmem_lazy[i] = shmem_can_be_lazy(c, i);
	for (size_t k = 0; k < c->nr_tasks; k++) {
		struct restore_task *t = &c->tasks[k];

		if (t->zombie || !t->mm)
			continue;
		t->lazy = calloc(t->mm->n_vmas + 1, sizeof(*t->lazy));
		if (!t->lazy)
			return -ENOMEM;
		for (size_t i = 0; i < t->mm->n_vmas; i++)
			t->lazy[i] = can_be_lazy(t, i) || maps_lazy_shmem(c, t->mm->vmas[i]);
	}
	/* a VMA a child keeps as inherited must be whole in the parent when it forks */
	for (size_t k = 0; k < c->nr_tasks; k++) {
		const struct restore_task *t = &c->tasks[k];
		struct restore_task *p = t->parent;

		for (size_t i = 0; t->cow_keep && p && p->lazy && i < t->mm->n_vmas; i++)
			for (size_t j = 0; t->cow_keep[i] && j < p->mm->n_vmas; j++)
				if (p->mm->vmas[j]->start == t->mm->vmas[i]->start)
					p->lazy[j] = false;
	}
	return 0;
}

/* Remove [a, b) from the sorted ranges r[0..*n) (room for one more each time). */
static void subtract(uint64_t (*r)[2], size_t *n, uint64_t a, uint64_t b)
{
	for (size_t i = 0; i < *n; i++) {
		uint64_t s = r[i][0], e = r[i][1];

		if (e <= a || s >= b)
			continue;
		if (s < a && e > b) { /* split: the upper part after it */
			memmove(&r[i + 2], &r[i + 1], (*n - i - 1) * sizeof(*r));
			r[i][1] = a;
			r[i + 1][0] = b;
			r[i + 1][1] = e;
			(*n)++;
			return;
		}
		if (s < a) {
			r[i][1] = a;
		} else if (e > b) {
			r[i][0] = b;
		} else {
			memmove(&r[i], &r[i + 1], (*n - i - 1) * sizeof(*r));
			(*n)--;
			i--;
		}
	}
}

int restore_lazy_skip(const struct restore_task *t, struct pagefill_direct *skip)
{
	size_t nth = t->core ? t->core->n_threads : 0, n = 0;
	uint64_t(*r)[2];

	skip->range = NULL;
	skip->n = 0;
	if (!t->lazy)
		return 0;
	r = calloc(t->mm->n_vmas + nth + 1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (size_t i = 0; i < t->mm->n_vmas; i++)
		if (t->lazy[i]) {
			r[n][0] = t->mm->vmas[i]->start;
			r[n++][1] = t->mm->vmas[i]->end;
		}
	for (size_t k = 0; k < nth; k++) {
		uint64_t lo, hi;

		stack_top(t, k, &lo, &hi);
		subtract(r, &n, lo, hi);
	}
	skip->range = (const uint64_t(*)[2])r;
	skip->n = n;
	return 0;
}

int restore_lazy_shmem(struct restore_ctx *c, const ShmemEntry *e, int fd)
{
	LazyMsg m = LAZY_MSG__INIT;
	int ret;

	m.kind = LAZY_KIND__LAZY_SHMEM;
	m.has_image_id = m.has_size = true;
	m.image_id = e->id;
	m.size = e->size;
	ret = lazy_ctl_send(c->lazy->srv, &m, fd);
	if (ret)
		pr_err("shared memory object %u: can't hand it to lazy-pages: %s\n", e->id,
		       strerror(-ret));
	else
		pr_info("shared memory object %u: %llu bytes, filled lazily\n", e->id,
			(unsigned long long)e->size);
	return ret;
}

/* A userfaultfd of t's mm, here (the task's own fd is closed again). */
static int task_uffd(struct restore_ctx *c, struct restore_task *t)
{
	struct uffdio_api api = {
		.api = UFFD_API,
		.features = LAZY_UFFD_EVENTS |
			    (kd_has(&c->kd, KD_UFFD_MINOR_SHMEM) ? UFFD_FEATURE_MINOR_SHMEM : 0)
	};
	long rfd = rsys_call(&t->rs, SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK, 0, 0, 0, 0, 0);
	int fd;

	if (rfd < 0)
		return (int)rfd;
	fd = rsys_getfd(&t->rs, (int)rfd);
	rsys_call(&t->rs, SYS_close, rfd, 0, 0, 0, 0, 0);
	if (fd < 0)
		return fd;
	if (ioctl(fd, UFFDIO_API, &api)) {
		pr_perror("pid %d: UFFDIO_API with events %#llx", t->vpid,
			  (unsigned long long)LAZY_UFFD_EVENTS);
		close(fd);
		return -errno;
	}
	return fd;
}

int restore_lazy_register(struct restore_ctx *c, struct restore_task *t)
{
	LazyMsg m = LAZY_MSG__INIT;
	LazyRange *rv = NULL, **rp = NULL;
	size_t n = 0;
	int fd, ret = 0;

	if (!c->lazy || !t->lazy)
		return 0;
	for (size_t i = 0; i < t->mm->n_vmas; i++)
		n += t->lazy[i];
	if (!n)
		return 0;
	fd = task_uffd(c, t);
	if (fd < 0)
		return fd;
	rv = calloc(n, sizeof(*rv));
	rp = calloc(n, sizeof(*rp));
	if (!rv || !rp)
		ret = -ENOMEM;
	n = 0;
	for (size_t i = 0; !ret && i < t->mm->n_vmas; i++) {
		const VmaEntry *v = t->mm->vmas[i];
		struct uffdio_register reg = { .range = { .start = v->start,
							  .len = v->end - v->start },
					       .mode = UFFDIO_REGISTER_MODE_MISSING };

		if (!t->lazy[i])
			continue;
		if (v->has_shmem_id)
			reg.mode |= UFFDIO_REGISTER_MODE_MINOR;
		if (ioctl(fd, UFFDIO_REGISTER, &reg)) {
			pr_perror("pid %d: can't register VMA %#llx-%#llx for lazy pages", t->vpid,
				  (unsigned long long)v->start, (unsigned long long)v->end);
			ret = -errno;
			break;
		}
		lazy_range__init(&rv[n]);
		rv[n].start = v->start;
		rv[n].end = v->end;
		rv[n].has_shmem_id = rv[n].has_offset = v->has_shmem_id;
		rv[n].shmem_id = v->shmem_id;
		rv[n].offset = v->pgoff;
		rp[n] = &rv[n];
		n++;
	}
	m.kind = LAZY_KIND__LAZY_TASK;
	m.has_pid = m.has_image_id = true;
	m.pid = (uint32_t)t->pid;
	m.image_id = (uint32_t)t->vpid;
	m.n_ranges = n;
	m.ranges = rp;
	if (!ret && (ret = lazy_ctl_send(c->lazy->srv, &m, fd)))
		pr_err("pid %d: can't hand its uffd to lazy-pages: %s\n", t->vpid, strerror(-ret));
	m.n_ranges = 0;
	if (!ret && (ret = lazy_ctl_send(c->lazy->guard, &m, fd)))
		pr_err("pid %d: can't hand its uffd to the guardian: %s\n", t->vpid,
		       strerror(-ret));
	if (!ret)
		pr_info("pid %d: %zu VMAs lazy\n", t->vpid, n);
	free(rv);
	free(rp);
	close(fd);
	return ret;
}

void restore_lazy_finish(struct restore_ctx *c, bool ok)
{
	struct restore_lazy *l = c->lazy;
	LazyMsg m = LAZY_MSG__INIT;
	uint32_t *pids;
	size_t n = 0;

	if (!l)
		return;
	if (l->fetch >= 0)
		close(l->fetch);
	if (l->guard < 0) { /* no guardian yet: nothing was handed over */
		close(l->srv);
		free(l);
		c->lazy = NULL;
		return;
	}
	pids = calloc(c->nr_tasks + 1, sizeof(*pids));
	for (size_t i = 0; pids && i < c->nr_tasks; i++)
		if (!c->tasks[i].zombie && c->tasks[i].pid > 0)
			pids[n++] = (uint32_t)c->tasks[i].pid;
	m.kind = ok && pids ? LAZY_KIND__LAZY_END : LAZY_KIND__LAZY_ERROR;
	m.n_pids = n;
	m.pids = pids;
	if (lazy_ctl_send(l->guard, &m, -1) && ok)
		pr_warn("the guardian (pid %d) is gone: nobody will kill the tree if lazy-pages "
			"dies\n",
			l->guardian);
	close(l->guard);
	if (!ok) /* it goes quietly; only then may the server see us go */
		waitpid(l->guardian, NULL, 0);
	m = (LazyMsg)LAZY_MSG__INIT;
	m.kind = LAZY_KIND__LAZY_END;
	if (ok && lazy_ctl_send(l->srv, &m, -1))
		pr_warn("lazy-pages went away before the end of the restore\n");
	close(l->srv);
	free(pids);
	free(l);
	c->lazy = NULL;
}
