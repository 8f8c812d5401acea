/* dump-snap: see dump-snap.h. */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LOG_PREFIX "snapshot: "
#include "criu-lite/dump/dump-snap.h"
#include "criu-lite/dump/dump-tree.h"
#include "criu-lite/dump/dump.h"
#include "criu-lite/fault.h"
#include "criu-lite/kcompat.h"
#include "criu-lite/log.h"
#include "criu-lite/stats.h"
#include "images/pages.h"

#define PG	      4096ULL
#define BATCH	      64   /* pages copied at once in the background */
#define AROUND	      16   /* pages copied with a faulting one (the rest of its run, if fewer) */
#define RELEASE_PAGES 2048 /* background-saved pages unprotected at once (one TLB flush) */
#define NR_REGIONS    64

/* A deferred run: pages [start, end) of the task, at off in its pages file. */
struct snap_run {
	uint64_t start, end, off;
	uint64_t *saved; /* bit per page */
};

struct snap_task {
	pid_t pid, vpid;
	const struct vma_list *vmas; /* the task's (dump_ctx), kept until the dump's end */
	int uffd, memfd, pmfd; /* ours: the task's userfaultfd, /proc/PID/mem, /proc/PID/pagemap */
	struct page_writer *pw;
	struct snap_run *runs;
	size_t n, cap;
	size_t cursor;		     /* the background copy's run */
	uint64_t left;		     /* pages not saved yet */
	uint64_t rel_start, rel_end; /* saved by the background, still protected: unprotected
				      * RELEASE_PAGES at a time */
};

struct dump_snap {
	struct snap_task *t;
	size_t n;
	uint8_t *buf; /* BATCH pages */
	uint64_t pages, by_fault, faults;
	double copy_s;
};

static bool test_bit(const uint64_t *b, uint64_t i)
{
	return b[i / 64] >> (i % 64) & 1;
}

int dump_snap_begin(struct dump_shared *sh, struct dump_tree_list *tl)
{
	struct dump_snap *s;

	if (!kd_has(&sh->kd, KD_UFFD) || !kd_has(&sh->kd, KD_PAGEMAP_SCAN)) {
		pr_err(
		    "--snapshot needs userfaultfd write-protection and PAGEMAP_SCAN (Linux 6.7), "
		    "which this kernel lacks: see `criu-lite check`\n");
		return -ENOTSUP;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->t = calloc(tl->n + 1, sizeof(*s->t))) || !(s->buf = malloc(BATCH * PG))) {
		if (s)
			free(s->t);
		free(s);
		return -ENOMEM;
	}
	sh->snap = s;
	s->n = tl->n;
	for (size_t i = 0; i < tl->n; i++) {
		struct snap_task *t = &s->t[i];

		*t = (struct snap_task){ .pid = tl->t[i].pid,
					 .vpid = tl->t[i].vpid,
					 .vmas = &tl->t[i].vmas,
					 .uffd = -1,
					 .memfd = -1,
					 .pmfd = -1 };
		tl->t[i].snap = tl->t[i].zombie ? NULL : t;
	}
	return 0;
}

/* A VMA a thread's stack pointer is in: read while frozen. A thread that exits during the copy
 * has its stack discarded at once (glibc gives back the unused part of a cached stack with
 * MADV_DONTNEED, or unmaps it), before its pages could be copied. */
static bool holds_a_stack(const struct dump_ctx *c, const struct vma *v)
{
	for (size_t k = 0; k < c->st.nr; k++)
		if (c->st.thr[k].sp >= v->start && c->st.thr[k].sp < v->end)
			return true;
	return false;
}

bool dump_snap_vma(const struct dump_ctx *c, const struct vma *v)
{
	return c->snap && !v->shared && !vma_is_vdso_like(v) &&
	       (v->kind == VMA_ANON || v->kind == VMA_HEAP || v->kind == VMA_STACK) &&
	       !(v->flags & (VMF_PF | VMF_IO | VMF_DP)) && !holds_a_stack(c, v);
}

int dump_snap_defer(struct dump_ctx *c, struct page_writer *pw, uint64_t start, uint64_t end)
{
	struct snap_task *t = c->snap;
	struct img_err err = { 0 };
	uint64_t off, n = (end - start) / PG;
	struct snap_run *r;

	if (page_writer_defer(pw, start, n, &off, &err)) {
		pr_err("%s\n", err.msg);
		return -EIO;
	}
	if (t->n && t->runs[t->n - 1].end == start &&
	    t->runs[t->n - 1].off + (start - t->runs[t->n - 1].start) == off) {
		r = &t->runs[t->n - 1]; /* goes on from the last: one run, its bitmap grown */
		uint64_t had = (r->end - r->start) / PG, words = (had + n) / 64 + 1;
		uint64_t *nb = realloc(r->saved, words * sizeof(*nb));

		if (!nb)
			return -ENOMEM;
		memset(nb + had / 64 + 1, 0, (words - had / 64 - 1) * sizeof(*nb));
		r->saved = nb;
		r->end = end;
	} else {
		if (t->n == t->cap) {
			size_t cap = t->cap ? 2 * t->cap : 64;
			struct snap_run *nr = realloc(t->runs, cap * sizeof(*nr));

			if (!nr)
				return -ENOMEM;
			t->runs = nr;
			t->cap = cap;
		}
		r = &t->runs[t->n];
		*r = (struct snap_run){ start, end, off, calloc(n / 64 + 1, sizeof(uint64_t)) };
		if (!r->saved)
			return -ENOMEM;
		t->n++;
	}
	t->left += n;
	c->sh->pages_dumped += n;
	return 0;
}

void dump_snap_keep(struct dump_ctx *c, struct page_writer *pw)
{
	c->snap->pw = pw;
}

static int open_proc(pid_t pid, const char *what)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, what);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		pr_perror("pid %d: can't open %s", pid, path);
	return fd < 0 ? -errno : fd;
}

/* A userfaultfd made in the task, ours alone: taken, then closed there. Privileged (no
 * UFFD_USER_MODE_ONLY): the kernel's own writes into the tree's memory (read() into a buffer, a
 * signal frame) must wait for their page to be copied as the tree's do. */
static int make_uffd(struct dump_ctx *c, struct snap_task *t)
{
	struct uffdio_api api = { .api = UFFD_API };
	long fd = rsys_call_quiet(&c->rs, SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK, 0, 0, 0, 0, 0);

	if (fd < 0) {
		pr_err("pid %d: userfaultfd() in the task: %s%s\n", t->pid, strerror((int)-fd),
		       fd == -EPERM ? " (a userfaultfd that catches the kernel's writes needs "
				      "CAP_SYS_PTRACE in the task or vm.unprivileged_userfaultfd=1)"
				    : "");
		return (int)fd;
	}
	t->uffd = rsys_getfd(&c->rs, (int)fd);
	rsys1(&c->rs, SYS_close, fd);
	if (t->uffd < 0)
		return t->uffd;
	if (ioctl(t->uffd, UFFDIO_API, &api)) {
		pr_perror("pid %d: UFFDIO_API on its userfaultfd", t->pid);
		return -errno;
	}
	return 0;
}

int dump_snap_uffd(struct dump_shared *sh, struct dump_tree_list *tl)
{
	for (size_t i = 0; sh->snap && i < tl->n; i++) {
		struct snap_task *t = tl->t[i].snap;
		int ret;

		if (!t || !t->n)
			continue;
		if ((ret = make_uffd(&tl->t[i], t)))
			return ret;
		t->memfd = open_proc(t->pid, "mem");
		t->pmfd = open_proc(t->pid, "pagemap");
		if (t->memfd < 0 || t->pmfd < 0)
			return t->memfd < 0 ? t->memfd : t->pmfd;
	}
	return 0;
}

static int writeprotect(struct snap_task *t, uint64_t start, uint64_t end, bool wp)
{
	struct uffdio_writeprotect w = { .range = { start, end - start },
					 .mode = wp ? UFFDIO_WRITEPROTECT_MODE_WP : 0 };

	while (ioctl(t->uffd, UFFDIO_WRITEPROTECT, &w)) {
		if (errno == EAGAIN)
			continue;
		if (!wp && (errno == ENOENT || errno == ESRCH)) {
			/* the tree unmapped some of it since (what of it was not saved yet, the
			 * copy finds gone and fails), or the task is gone: a writer that waits
			 * there is let go */
			struct uffdio_range r = { start, end - start };

			ioctl(t->uffd, UFFDIO_WAKE, &r);
			return 0;
		}
		pr_perror("pid %d: UFFDIO_WRITEPROTECT%s of %#llx-%#llx", t->pid, wp ? "" : " off",
			  (unsigned long long)start, (unsigned long long)end);
		return -errno;
	}
	return 0;
}

/* Every VMA that holds a deferred run registered for write faults, every run protected. */
static int protect_task(struct snap_task *t)
{
	for (size_t i = 0, k = 0; i < t->vmas->n && k < t->n; i++) {
		const struct vma *v = &t->vmas->v[i];
		struct uffdio_register reg = { .range = { v->start, v->end - v->start },
					       .mode = UFFDIO_REGISTER_MODE_WP };

		if (t->runs[k].start >= v->end)
			continue;
		if (ioctl(t->uffd, UFFDIO_REGISTER, &reg)) {
			int e = errno;

			pr_err("pid %d: VMA %#llx-%#llx can't be write-protected for the snapshot: "
			       "%s%s\n",
			       t->pid, (unsigned long long)v->start, (unsigned long long)v->end,
			       strerror(e),
			       e == EBUSY ? " (a userfaultfd of the task's own holds it)" : "");
			return -e;
		}
		if (!(reg.ioctls & (1ULL << _UFFDIO_WRITEPROTECT))) {
			pr_err("pid %d: VMA %#llx-%#llx: this kernel can't write-protect it\n",
			       t->pid, (unsigned long long)v->start, (unsigned long long)v->end);
			return -ENOTSUP;
		}
		for (; k < t->n && t->runs[k].end <= v->end; k++) {
			int ret = writeprotect(t, t->runs[k].start, t->runs[k].end, true);

			if (ret)
				return ret;
		}
	}
	return 0;
}

int dump_snap_protect(struct dump_shared *sh)
{
	struct dump_snap *s = sh->snap;

	for (size_t i = 0; s && i < s->n; i++) {
		struct snap_task *t = &s->t[i];
		int ret;

		if (!t->n || !t->pw)
			continue;
		ret = protect_task(t);
		if (ret)
			return ret;
		s->pages += t->left;
		pr_info("pid %d: %llu pages in %zu runs write-protected, copied while it runs\n",
			t->pid, (unsigned long long)t->left, t->n);
	}
	return 0;
}

/* Pages [a, b) are still present (or swapped) and still protected: what was read from them is
 * what they held at the freeze (only criu-lite lifts the protection, once a page is saved; a
 * page the tree discarded and touched again has none). */
static int check_kept(struct snap_task *t, uint64_t a, uint64_t b)
{
	struct page_region vec[NR_REGIONS];
	struct pm_scan_arg s = { .size = sizeof(s),
				 .start = a,
				 .end = b,
				 .vec = (uintptr_t)vec,
				 .vec_len = NR_REGIONS,
				 .return_mask =
				     PAGE_IS_PRESENT | PAGE_IS_SWAPPED | PAGE_IS_WRITTEN };
	uint64_t at = a;
	int n = ioctl(t->pmfd, PAGEMAP_SCAN, &s);

	if (n < 0) {
		pr_perror("pid %d: PAGEMAP_SCAN of %#llx-%#llx", t->pid, (unsigned long long)a,
			  (unsigned long long)b);
		return -errno;
	}
	for (int i = 0; i < n && at < b; i++) {
		if (vec[i].start != at || (vec[i].categories & PAGE_IS_WRITTEN) ||
		    !(vec[i].categories & (PAGE_IS_PRESENT | PAGE_IS_SWAPPED)))
			break;
		at = vec[i].end;
	}
	if (at >= b)
		return 0;
	pr_err("pid %d: the page at %#llx was discarded or replaced by the tree (munmap, "
	       "MADV_DONTNEED, mremap) before the snapshot could save it: the snapshot fails\n",
	       t->pid, (unsigned long long)at);
	return -ESTALE;
}

/* Pages [p, p + n) of run r (none saved yet): read, checked, into the pages file, then, for a
 * fault (release), unprotected, which wakes whoever waits to write one of them. The background
 * copy leaves them protected: each unprotect flushes the TLB of every CPU the tree runs on,
 * and a page the tree then writes costs one fault; the close of the userfaultfd at the end
 * unprotects the rest in one walk. */
static int save(struct dump_snap *s, struct snap_task *t, struct snap_run *r, uint64_t p,
		uint64_t n, bool release)
{
	uint64_t a = r->start + p * PG, len = n * PG;
	struct img_err err = { 0 };
	ssize_t got = pread(t->memfd, s->buf, len, (off_t)a);
	int ret;

	if (got != (ssize_t)len) {
		int e = got < 0 ? errno : EIO;

		if (e == ESRCH || kill(t->pid, 0))
			pr_err("pid %d exited before the snapshot saved its memory (at %#llx)\n",
			       t->pid, (unsigned long long)a);
		else if (!check_kept(t, a, a + len) && (errno = e)) /* it says what went */
			pr_perror("pid %d: read of %#llx (+%llu) through /proc/PID/mem", t->pid,
				  (unsigned long long)a, (unsigned long long)len);
		return -e;
	}
	if ((ret = check_kept(t, a, a + len)))
		return ret;
	if (page_writer_fill(t->pw, r->off + p * PG, s->buf, len, &err)) {
		pr_err("%s\n", err.msg);
		return -EIO;
	}
	for (uint64_t i = p; i < p + n; i++)
		r->saved[i / 64] |= 1ULL << (i % 64);
	t->left -= n;
	return release ? writeprotect(t, a, a + len, false) : 0;
}

/* From page p of r: the unsaved pages that follow, at most max. */
static uint64_t unsaved_from(const struct snap_run *r, uint64_t p, uint64_t max)
{
	uint64_t n = 0, pages = (r->end - r->start) / PG;

	while (p + n < pages && n < max && !test_bit(r->saved, p + n))
		n++;
	return n;
}

static struct snap_run *find_run(struct snap_task *t, uint64_t addr)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->runs[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->n && t->runs[lo].start <= addr ? &t->runs[lo] : NULL;
}

/* A write fault at addr: its page (and a few after it) saved first, or only let go. */
static int on_fault(struct dump_snap *s, struct snap_task *t, uint64_t addr)
{
	uint64_t a = addr & ~(PG - 1);
	struct snap_run *r = find_run(t, a);
	uint64_t p = r ? (a - r->start) / PG : 0, n = r ? unsaved_from(r, p, AROUND) : 0;

	s->faults++;
	if (!n) /* saved already (its fault raced with the unprotect), or never deferred */
		return writeprotect(t, a, a + PG, false);
	s->by_fault += n;
	return save(s, t, r, p, n, true);
}

/* Every message waiting on t's userfaultfd. */
static int drain(struct dump_snap *s, struct snap_task *t)
{
	struct uffd_msg msg[16];

	for (;;) {
		ssize_t got = read(t->uffd, msg, sizeof(msg));
		int ret = 0;

		if (got < 0 && errno == EAGAIN)
			return 0;
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0 || got % (ssize_t)sizeof(msg[0])) {
			pr_perror("pid %d: read of its userfaultfd", t->pid);
			return got < 0 ? -errno : -EIO;
		}
		for (size_t i = 0; i < (size_t)got / sizeof(msg[0]) && !ret; i++)
			if (msg[i].event == UFFD_EVENT_PAGEFAULT)
				ret = on_fault(s, t, msg[i].arg.pagefault.address);
		if (ret)
			return ret;
	}
}

/* The background-saved pages of t still protected, unprotected now (force), or once there are
 * RELEASE_PAGES of them. */
static int release_saved(struct snap_task *t, bool force)
{
	int ret = 0;

	if (t->rel_end > t->rel_start &&
	    (force || (t->rel_end - t->rel_start) / PG >= RELEASE_PAGES))
		ret = writeprotect(t, t->rel_start, t->rel_end, false);
	if (force || ret || (t->rel_end - t->rel_start) / PG >= RELEASE_PAGES)
		t->rel_start = t->rel_end = 0;
	return ret;
}

/* One background batch of some task (in order), or 0 pages when every page is saved. The
 * saved pages stay protected for a while: each unprotect flushes the TLB of every CPU the tree
 * runs on (here the cost of the copy); they are unprotected RELEASE_PAGES at a time, and a
 * write to one before that costs one fault, which unprotects it alone. */
static int background(struct dump_snap *s, uint64_t *done)
{
	*done = 0;
	for (size_t i = 0; i < s->n; i++) {
		struct snap_task *t = &s->t[i];
		int ret;

		while (t->left && t->cursor < t->n) {
			struct snap_run *r = &t->runs[t->cursor];
			uint64_t pages = (r->end - r->start) / PG, p = 0, n, a;

			while (p < pages && test_bit(r->saved, p))
				p++;
			if (p == pages) {
				t->cursor++;
				continue;
			}
			n = unsaved_from(r, p, BATCH);
			a = r->start + p * PG;
			/* the range may span pages faults saved (and unprotected) meanwhile: no
			 * harm in unprotecting them again; it ends with its run */
			if (t->rel_end && (t->rel_start < r->start || t->rel_end > a) &&
			    (ret = release_saved(t, true)))
				return ret;
			if ((ret = save(s, t, r, p, n, false)))
				return ret;
			if (!t->rel_end)
				t->rel_start = a;
			t->rel_end = a + n * PG;
			*done = n;
			return release_saved(t, false);
		}
		if ((ret = release_saved(t, true)))
			return ret;
	}
	return 0;
}

int dump_snap_copy(struct dump_shared *sh)
{
	struct dump_snap *s = sh->snap;
	struct pollfd *pf;
	double t0 = stats_now();
	unsigned long batches = 0;
	int ret = 0;

	if (!s)
		return 0;
	pf = calloc(s->n + 1, sizeof(*pf));
	if (!pf)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++)
		pf[i] = (struct pollfd){ .fd = s->t[i].uffd, .events = POLLIN };
	for (;;) {
		uint64_t done = 0;
		int n = poll(pf, s->n, 0); /* faults first */

		for (size_t i = 0; n > 0 && i < s->n && !ret; i++)
			if (pf[i].revents & POLLIN)
				ret = drain(s, &s->t[i]);
		if (!ret && n < 0 && errno != EINTR) {
			pr_perror("poll of the tree's userfaultfds");
			ret = -errno;
		}
		if (!ret)
			ret = background(s, &done);
		/* a test's crash or failure in the middle of the copy */
		if (!ret && done && !batches++)
			ret = fault_inject(sh->o, "snapshot-copy");
		if (ret || !done)
			break;
	}
	free(pf);
	/* every page saved and unprotected: the registrations go with the only copy */
	for (size_t i = 0; i < s->n; i++) {
		if (s->t[i].uffd >= 0)
			close(s->t[i].uffd);
		s->t[i].uffd = -1;
	}
	s->copy_s = stats_now() - t0;
	if (!ret)
		pr_info(
		    "%llu pages copied while the tree ran (%llu of them first for its %llu write "
		    "faults) in %.3f s\n",
		    (unsigned long long)s->pages, (unsigned long long)s->by_fault,
		    (unsigned long long)s->faults, s->copy_s);
	return ret;
}

int dump_snap_commit(struct dump_shared *sh)
{
	struct dump_snap *s = sh->snap;
	int ret = 0;

	for (size_t i = 0; s && i < s->n && !ret; i++) {
		struct snap_task *t = &s->t[i];
		struct img_err err = { 0 };

		if (!t->pw)
			continue;
		ret = page_writer_commit(t->pw, &err);
		t->pw = NULL;
		if (ret)
			pr_err("%s\n", err.msg);
	}
	return ret;
}

void dump_snap_stats(const struct dump_shared *sh, struct stats *st)
{
	const struct dump_snap *s = sh->snap;

	if (!s)
		return;
	stats_count(st, "snapshot_pages", s->pages);
	stats_count(st, "snapshot_pages_by_fault", s->by_fault);
	stats_count(st, "snapshot_faults", s->faults);
	stats_secs(st, "snapshot_copy_s", s->copy_s);
}

void dump_snap_free(struct dump_shared *sh)
{
	struct dump_snap *s = sh->snap;

	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		struct snap_task *t = &s->t[i];

		if (t->uffd >= 0) /* the tree's writers go on, unprotected */
			close(t->uffd);
		if (t->memfd >= 0)
			close(t->memfd);
		if (t->pmfd >= 0)
			close(t->pmfd);
		page_writer_abort(t->pw);
		for (size_t k = 0; k < t->n; k++)
			free(t->runs[k].saved);
		free(t->runs);
	}
	free(s->t);
	free(s->buf);
	free(s);
	sh->snap = NULL;
}
