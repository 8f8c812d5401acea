/* dump-mm: the address space of a task: mm-PID.img (mm fields, auxv, VMAs
 * with their VmFlags and guard regions, the mm-wide switches of dump-mmattr.c)
 * and its private pages into pagemap-PID.img + pages-PID.img.
 *
 * A VMA whose flags restore can't set again is refused, naming the VMA and
 * the flag (kinds/vmflags.h). Pages are found with pagescan (PAGEMAP_SCAN or
 * pagemap) and read with batched process_vm_readv (/proc/PID/mem for VMAs
 * the task cannot read itself), straight into the page writer's buffer for
 * large runs; guard regions are found by pagescan too, in every VMA that may
 * hold them. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#define LOG_PREFIX "mm: "
#include "criu-lite/dump/dump-cow.h"
#include "criu-lite/dump/dump-snap.h"
#include "criu-lite/dump/dump-track.h"
#include "criu-lite/dump/dump.h"
#include "criu-lite/fault.h"
#include "criu-lite/kcompat.h"
#include "criu-lite/kinds/vmflags.h"
#include "criu-lite/log.h"
#include "criu-lite/dump/pagescan.h"
#include "images/pages.h"
#include "mm.pb-c.h"

#define PG	       4096ULL
#define BATCH_BYTES    (256ULL << 10) /* the page writer's buffer (images/page-writer.c) */
#define BATCH_RUNS     1024	      /* IOV_MAX */
#define MAX_AUXV_WORDS 128
#define PEND_DEFER     (1u << 31) /* a pend entry of pages a live snapshot copies later */

struct mm_pages {
	struct dump_ctx *c;
	struct page_writer *pw;
	int memfd;     /* /proc/PID/mem, for VMAs without PROT_READ */
	bool readable; /* the current VMA has PROT_READ */
	bool via_mem;  /* the pending batch is read through /proc/PID/mem (see dump-cow.c) */
	struct iovec runs[BATCH_RUNS];
	size_t nr_runs;
	uint64_t bytes;
	/* every entry of the batch in address order: the data runs above (data) and, between
	 * them, runs without data (PE_PARENT, PE_COW), which wait with them so that scattered
	 * pages are read together, not one read a run */
	struct pend {
		uint64_t vaddr, len;
		uint32_t flags;
	} pend[2 * BATCH_RUNS];
	size_t nr_pend;
	struct cow cw; /* pages shared with the parent (dump-cow.c) */
	bool cow_vma;  /* the current VMA may hold some */
	bool snap;     /* the current VMA's pages are copied after the freeze (dump-snap.h) */
};

static int read_remote(struct mm_pages *p, void *dst, const struct iovec *remote, size_t nr,
		       uint64_t bytes)
{
	struct iovec local = { dst, bytes };
	ssize_t n;

	if (!p->readable || p->via_mem) {
		char *d = dst;

		for (size_t i = 0; i < nr; i++) {
			n = pread(p->memfd, d, remote[i].iov_len,
				  (off_t)(uintptr_t)remote[i].iov_base);
			if (n != (ssize_t)remote[i].iov_len) {
				pr_perror("pid %d: read of %#lx (+%zu) through /proc/PID/mem",
					  p->c->pid, (unsigned long)(uintptr_t)remote[i].iov_base,
					  remote[i].iov_len);
				return n < 0 ? -errno : -EIO;
			}
			d += n;
		}
		return 0;
	}
	n = process_vm_readv(p->c->pid, &local, 1, remote, nr, 0);
	if (n != (ssize_t)bytes) {
		pr_perror("pid %d: process_vm_readv of %zu runs from %#lx: got %zd of %llu bytes",
			  p->c->pid, nr, (unsigned long)(uintptr_t)remote[0].iov_base, n,
			  (unsigned long long)bytes);
		return n < 0 ? -errno : -EIO;
	}
	return 0;
}

static int add_run(struct mm_pages *p, uint64_t vaddr, uint64_t len, uint32_t flags,
		   const void *data)
{
	struct img_err err = { 0 };

	if (page_writer_add(p->pw, vaddr, len / PG, flags, data, &err)) {
		pr_err("%s\n", err.msg);
		return -EIO;
	}
	return 0;
}

/* Read and store the pending runs: their pages, read in one go, land in the writer's own
 * buffer, back to back as the pages file holds them (page_writer_reserve), and the entries
 * follow in address order, each run with data taking its part (no copy; a buffer of ours
 * would also cost a first-touch fault per page: 10-14 us on this VM kind). */
static int flush(struct mm_pages *p)
{
	struct img_err err = { 0 };
	char *d = NULL;
	int ret = 0;

	if (p->nr_runs && !(d = page_writer_reserve(p->pw, p->bytes / PG, &err))) {
		pr_err("%s\n", err.msg);
		return -ENOMEM;
	}
	if (p->nr_runs)
		ret = read_remote(p, d, p->runs, p->nr_runs, p->bytes);
	for (size_t i = 0; !ret && i < p->nr_pend; i++) {
		const struct pend *e = &p->pend[i];
		bool data = e->flags == PAGEMAP_FLAGS__PE_PRESENT;

		if (e->flags == PEND_DEFER) {
			ret = dump_snap_defer(p->c, p->pw, e->vaddr, e->vaddr + e->len);
			continue;
		}
		ret = add_run(p, e->vaddr, e->len, e->flags, data ? d : NULL);
		if (data)
			d += e->len;
	}
	p->c->sh->pages_dumped += p->bytes / PG;
	p->nr_runs = p->nr_pend = 0;
	p->bytes = 0;
	return ret;
}

/* A run without data (PE_PARENT, PE_COW), or pages a live snapshot copies later (PEND_DEFER),
 * after the pending ones. */
static int queue_nodata(struct mm_pages *p, uint64_t start, uint64_t end, uint32_t flags)
{
	int ret;

	if (p->nr_pend == sizeof(p->pend) / sizeof(p->pend[0]) && (ret = flush(p)))
		return ret;
	p->pend[p->nr_pend++] = (struct pend){ start, end - start, flags };
	return 0;
}

/* Queue the task's own pages [start, end) for reading and storing; via_mem: they may be
 * shared with another task and are read through /proc/PID/mem (dump-cow.c says why). */
static int queue_data(struct mm_pages *p, uint64_t start, uint64_t end, bool via_mem)
{
	int ret;

	if (p->nr_runs && p->via_mem != via_mem && (ret = flush(p)))
		return ret;
	p->via_mem = via_mem;
	while (start < end) {
		uint64_t len = end - start;

		if (len > BATCH_BYTES)
			len = BATCH_BYTES;
		if (p->bytes + len > BATCH_BYTES || p->nr_runs == BATCH_RUNS ||
		    p->nr_pend == sizeof(p->pend) / sizeof(p->pend[0]))
			if ((ret = flush(p)))
				return ret;
		p->runs[p->nr_runs++] = (struct iovec){ (void *)(uintptr_t)start, len };
		p->pend[p->nr_pend++] = (struct pend){ start, len, PAGEMAP_FLAGS__PE_PRESENT };
		p->bytes += len;
		start += len;
		if (p->bytes == BATCH_BYTES && (ret = flush(p)))
			return ret;
	}
	return 0;
}

/* A piece of a run, as cow_split() classified it. */
static int on_piece(void *arg, uint64_t start, uint64_t end, enum cow_class cls)
{
	struct mm_pages *p = arg;

	if (cls != COW_PARENT && p->snap)
		return queue_nodata(p, start, end, PEND_DEFER);
	if (cls != COW_PARENT)
		return queue_data(p, start, end, cls == COW_SHARED);
	p->c->sh->pages_cow += (end - start) / PG;
	return queue_nodata(p, start, end, PAGEMAP_FLAGS__PE_COW);
}

/* A piece of a run, as dump_track_split() classified it: in the parent image (not written
 * since the parent round), or to copy. */
static int on_tracked(void *arg, uint64_t start, uint64_t end, bool in_parent)
{
	struct mm_pages *p = arg;

	if (!in_parent)
		return cow_split(&p->cw, p->c->pid, start, end, p->cow_vma, on_piece, p);
	return queue_nodata(p, start, end, PAGEMAP_FLAGS__PE_PARENT);
}

static int on_run(void *arg, const struct pagescan_run *run)
{
	struct mm_pages *p = arg;

	if (run->zero) {
		p->c->sh->pages_zero += (run->end - run->start) / PG;
		return queue_nodata(p, run->start, run->end, PAGEMAP_FLAGS__PE_ZERO);
	}
	return dump_track_split(p->c, run->start, run->end, run->written, on_tracked, p);
}

/* Private anonymous hugetlb memory (MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB): the kernel
 * shows it as a deleted file of its own hugetlbfs mount. */
static bool vma_is_anon_hugetlb(const struct vma *v)
{
	static const char name[] = "/anon_hugepage";

	return (v->flags & VMF_HT) && !v->shared && v->name &&
	       vma_name_len(v) == sizeof(name) - 1 && !memcmp(v->name, name, sizeof(name) - 1);
}

/* Which VMAs we can dump and how; -ENOTSUP with the reason logged otherwise. */
static int classify(const struct dump_ctx *c, const struct vma *v, VmaKind *kind)
{
	char buf[VMA_FLAGS_UNKNOWN_MAX + 64];
	const char *why = NULL;

	/* the kernel's own mappings: recorded, re-created by the kernel */
	if (vma_is_vdso_like(v))
		goto special;
	/* the kernel marks hugetlb memory as unable to grow (de) itself */
	why = vmf_refusal(v->flags & ~((v->flags & VMF_HT) ? VMF_DE : 0), v->flags_unknown, buf,
			  sizeof(buf));
	if (!why && (v->flags & VMF_GU) && kd_has(&c->sh->kd, KD_GUARD_INSTALL) &&
	    !kd_has(&c->sh->kd, KD_GUARD_PAGEMAP))
		why =
		    "marked as holding guard regions (gu), which this kernel's pagemap can't show";
	if (!why && v->pkey > 0)
		why = "tagged with a memory protection key";
	if (!why && (v->flags & VMF_HT) && !vma_is_anon_hugetlb(v))
		why = "hugetlb memory other than private anonymous memory (MAP_SHARED, a hugetlbfs "
		      "file or an MFD_HUGETLB memfd: not supported yet)";
	if (!why && (v->flags & VMF_HT) && v->kernel_page_size != (2ULL << 20) &&
	    v->kernel_page_size != (1ULL << 30))
		why = "hugetlb memory of pages neither 2 MiB nor 1 GiB";
	if (why)
		goto refuse;
	if (vma_is_anon_hugetlb(v)) {
		*kind = VMA_KIND__VMA_ANON_PRIVATE;
		return 0;
	}
special:
	switch (v->kind) {
	case VMA_HEAP:
		*kind = VMA_KIND__VMA_HEAP;
		return 0;
	case VMA_STACK:
		*kind = VMA_KIND__VMA_STACK;
		return 0;
	case VMA_VDSO:
		*kind = VMA_KIND__VMA_VDSO;
		return 0;
	case VMA_VVAR:
		*kind = VMA_KIND__VMA_VVAR;
		return 0;
	case VMA_VVAR_VCLOCK:
		*kind = VMA_KIND__VMA_VVAR_VCLOCK;
		return 0;
	case VMA_VSYSCALL:
		*kind = VMA_KIND__VMA_VSYSCALL;
		return 0;
	case VMA_ANON:
	case VMA_ANON_NAMED:
		*kind = v->shared ? VMA_KIND__VMA_ANON_SHARED : VMA_KIND__VMA_ANON_PRIVATE;
		return 0;
	case VMA_ANON_SHMEM_NAMED:
		*kind = VMA_KIND__VMA_ANON_SHARED;
		return 0;
	case VMA_FILE:
		if (vma_is_sysv_shm(v)) {
			why =
			    "SysV shared memory (not supported yet: it needs its own IPC namespace)";
			goto refuse;
		}
		if (vma_is_anon_shared(v)) {
			*kind = VMA_KIND__VMA_ANON_SHARED;
			return 0;
		}
		if (vma_is_memfd(v)) {
			/* a private mapping of a memfd: its object plus private COW pages */
			*kind = v->shared ? VMA_KIND__VMA_MEMFD_SHARED : VMA_KIND__VMA_FILE_PRIVATE;
			return 0;
		}
		if (!v->shared && v->name && strcmp(v->name, "/dev/zero") == 0) {
			*kind = VMA_KIND__VMA_ANON_PRIVATE; /* private /dev/zero is anonymous */
			return 0;
		}
		if (!v->name || v->name[0] != '/') {
			why = "a mapping of a pseudo file";
			goto refuse;
		}
		*kind = v->shared ? VMA_KIND__VMA_FILE_SHARED : VMA_KIND__VMA_FILE_PRIVATE;
		return 0;
	default:
		why = "a special mapping";
		goto refuse;
	}
refuse:
	pr_err("pid %d: VMA %#llx-%#llx %s is %s: can't dump it\n", c->pid,
	       (unsigned long long)v->start, (unsigned long long)v->end, v->name ? v->name : "",
	       why);
	return -ENOTSUP;
}

/* The path of a mapped file, without " (deleted)". */
static char *vma_path(const struct vma *v)
{
	return strndup(v->name, vma_name_len(v));
}

static int fill_vma(struct dump_ctx *c, const struct vma *v, VmaEntry *e)
{
	VmaKind kind;
	int ret = classify(c, v, &kind);

	if (ret)
		return ret;
	e->start = v->start;
	e->end = v->end;
	e->pgoff = v->pgoff;
	e->prot = v->prot;
	e->kind = kind;
	e->flags = v->shared ? MAP_SHARED : (v->flags & VMF_DP) ? MAP_DROPPABLE : MAP_PRIVATE;
	if (kind == VMA_KIND__VMA_ANON_PRIVATE || kind == VMA_KIND__VMA_HEAP ||
	    kind == VMA_KIND__VMA_STACK)
		e->flags |= MAP_ANONYMOUS;
	if (v->flags & VMF_GD)
		e->flags |= MAP_GROWSDOWN;
	if (v->flags & VMF_NR)
		e->flags |= MAP_NORESERVE;
	if (v->flags & VMF_SF)
		e->flags |= MAP_SYNC;
	if (v->flags & VMF_HT) /* classify() took only 2 MiB and 1 GiB pages */
		e->flags |= MAP_HUGETLB | (uint32_t)__builtin_ctzll(v->kernel_page_size)
					      << MAP_HUGE_SHIFT;
	e->vmflags = malloc(VMF_TEXT_MAX);
	if (!e->vmflags)
		return -ENOMEM;
	vma_flags_to_text(v->flags, e->vmflags, VMF_TEXT_MAX);
	e->has_madv = true;
	e->madv = vmf_madv_bits(v->flags);
	e->has_locked = true;
	e->locked = !!(v->flags & VMF_LO);
	if (kind == VMA_KIND__VMA_ANON_SHARED || kind == VMA_KIND__VMA_MEMFD_SHARED ||
	    vma_is_memfd(v)) {
		e->has_shmem_id = true;
		return dump_shmem_vma(c, v, &e->shmem_id);
	}
	if (kind == VMA_KIND__VMA_FILE_PRIVATE || kind == VMA_KIND__VMA_FILE_SHARED) {
		char *path = vma_path(v);
		int fl = (v->shared && (v->flags & VMF_MW)) ? O_RDWR : O_RDONLY;

		if (!path)
			return -ENOMEM;
		e->has_file_id = true;
		ret = dump_file_add_path(c, path, fl, &e->file_id);
		free(path);
	}
	return ret;
}

static bool has_private_pages(const VmaEntry *e)
{
	return e->kind == VMA_KIND__VMA_ANON_PRIVATE || e->kind == VMA_KIND__VMA_HEAP ||
	       e->kind == VMA_KIND__VMA_STACK || e->kind == VMA_KIND__VMA_FILE_PRIVATE;
}

static int on_guard(void *arg, const struct pagescan_run *run)
{
	VmaEntry *e = arg;
	PageRange **g = realloc(e->guards, (e->n_guards + 1) * sizeof(*g));
	PageRange *r = malloc(sizeof(*r));

	if (g)
		e->guards = g;
	if (!g || !r) {
		free(r);
		return -ENOMEM;
	}
	page_range__init(r);
	r->start = run->start;
	r->end = run->end;
	e->guards[e->n_guards++] = r;
	return 0;
}

/* Guard regions of VMA i: every VMA may hold them where VmFlags can't say which do. */
static int find_guards(struct dump_ctx *c, struct pagescan *ps, size_t i, VmaEntry *e)
{
	const struct kerndat *kd = &c->sh->kd;
	const struct vma *v = &c->vmas.v[i];
	int ret;

	if (!kd_has(kd, KD_GUARD_PAGEMAP) || vma_is_vdso_like(v) ||
	    (kd->guard_vmflag && !(v->flags & VMF_GU)))
		return 0;
	ret = pagescan_guards(ps, kd->guard_scan, v->start, v->end, on_guard, e);
	if (!ret && e->n_guards)
		pr_debug("pid %d: VMA %#llx: %zu guard region(s), the first at %#llx-%#llx\n",
			 c->pid, (unsigned long long)v->start, e->n_guards,
			 (unsigned long long)e->guards[0]->start,
			 (unsigned long long)e->guards[0]->end);
	return ret;
}

static int dump_pages(struct dump_ctx *c, VmaEntry **vmas, size_t n)
{
	struct mm_pages p = { .c = c, .memfd = -1 };
	struct pagescan ps;
	struct img_err err = { 0 };
	char path[64];
	int ret;

	if ((ret = fault_inject(c->sh->o, "pages")))
		return ret;
	snprintf(path, sizeof(path), "/proc/%d/mem", c->pid);
	p.memfd = open(path, O_RDONLY | O_CLOEXEC);
	if (p.memfd < 0) {
		pr_perror("can't open %s", path);
		return -errno;
	}
	ret = cow_open(c, &p.cw);
	/* a migration serves these pages from the task later, against their sums: what rsys
	 * writes on its stack after this is put back when it closes */
	if (!ret && c->sh->o->lazy_pages)
		ret = rsys_keep_stack(&c->rs);
	if (!ret)
		ret = pagescan_open(c->pid, kd_has(&c->sh->kd, KD_PAGEMAP_SCAN), &ps);
	if (ret)
		goto out;
	/* a lazy migration serves the pages from the frozen tree (dump-lazy.h) */
	if (c->sh->o->lazy_pages
		? page_writer_open_elsewhere(c->sh->dir, IMG_PAGEMAP, c->vpid, &p.pw, &err)
		: page_writer_open_cached(c->sh->dir, IMG_PAGEMAP, c->vpid,
					  c->snap ? NULL : c->sh->bufs, &p.pw, &err)) {
		pr_err("%s\n", err.msg);
		ret = -EIO;
		pagescan_close(&ps);
		goto out;
	}
	for (size_t i = 0; i < n && !ret; i++) {
		if ((ret = find_guards(c, &ps, i, vmas[i])))
			break;
		if (!has_private_pages(vmas[i]))
			continue;
		if ((ret = flush(&p)))
			break;
		p.readable = vmas[i]->prot & PROT_READ;
		p.cow_vma = cow_vma_ok(&p.cw, &c->vmas.v[i]);
		p.snap = dump_snap_vma(c, &c->vmas.v[i]);
		/* before its pages are read: both while frozen */
		if ((ret = dump_track_vma(c, i, &ps.want_written)))
			break;
		ret = pagescan_range(&ps, vmas[i]->start, vmas[i]->end, on_run, &p);
	}
	if (!ret)
		ret = flush(&p);
	pagescan_close(&ps);
	if (!ret && c->snap) { /* committed once the snapshot's copy is done */
		dump_snap_keep(c, p.pw);
	} else if (!ret && page_writer_commit(p.pw, &err)) {
		pr_err("%s\n", err.msg);
		ret = -EIO;
	} else if (ret) {
		page_writer_abort(p.pw);
	}
out:
	cow_close(&p.cw);
	close(p.memfd);
	return ret;
}

static void free_vmas(VmaEntry *ents, VmaEntry **vmas, size_t n)
{
	for (size_t i = 0; ents && i < n; i++) {
		free(ents[i].vmflags);
		for (size_t k = 0; k < ents[i].n_guards; k++)
			free(ents[i].guards[k]);
		free(ents[i].guards);
	}
	free(vmas);
	free(ents);
}

/* A pre-dump's part: the private pages, and the shared memory objects the task maps (no mm.img,
 * no files): a later dump refers to them. The VMAs are classified as a dump would, so that a
 * tree a dump would refuse is refused now. */
int dump_mm_predump(struct dump_ctx *c)
{
	size_t n = c->vmas.n;
	VmaEntry *ents = calloc(n + 1, sizeof(*ents));
	VmaEntry **vmas = calloc(n + 1, sizeof(*vmas));
	int ret = ents && vmas ? 0 : -ENOMEM;

	for (size_t i = 0; i < n && !ret; i++) {
		VmaKind kind = VMA_KIND__VMA_ANON_PRIVATE;

		vma_entry__init(&ents[i]);
		vmas[i] = &ents[i];
		ret = classify(c, &c->vmas.v[i], &kind);
		ents[i].start = c->vmas.v[i].start;
		ents[i].end = c->vmas.v[i].end;
		ents[i].prot = (uint32_t)c->vmas.v[i].prot;
		ents[i].kind = kind;
	}
	if (!ret)
		ret = dump_pages(c, vmas, n);
	for (size_t i = 0; i < n && !ret; i++) {
		uint32_t id;

		if (ents[i].kind == VMA_KIND__VMA_ANON_SHARED ||
		    ents[i].kind == VMA_KIND__VMA_MEMFD_SHARED || vma_is_memfd(&c->vmas.v[i]))
			ret = dump_shmem_vma(c, &c->vmas.v[i], &id);
	}
	free_vmas(ents, vmas, n);
	return ret;
}

static int write_mm(struct dump_ctx *c, const MmEntry *mm)
{
	const ProtobufCMessage *m = &mm->base;
	struct img_err err = { 0 };
	int ret = img_write_file(c->sh->dir, IMG_MM, c->vpid, &m, 1, &err);

	if (ret)
		pr_err("%s\n", err.msg);
	return ret;
}

int dump_mm(struct dump_ctx *c)
{
	MmEntry mm = MM_ENTRY__INIT;
	uint64_t auxv[MAX_AUXV_WORDS];
	size_t nr_auxv = 0, n = c->vmas.n;
	VmaEntry *ents = calloc(n, sizeof(*ents));
	VmaEntry **vmas = calloc(n, sizeof(*vmas));
	char exe[64];
	int ret = 0;

	if (!ents || !vmas) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n && !ret; i++) {
		vma_entry__init(&ents[i]);
		vmas[i] = &ents[i];
		ret = fill_vma(c, &c->vmas.v[i], &ents[i]);
	}
	if (ret)
		goto out;
	ret = proc_read_auxv(c->pid, auxv, MAX_AUXV_WORDS, &nr_auxv);
	if (ret)
		goto out;
	mm.start_code = c->stat.start_code;
	mm.end_code = c->stat.end_code;
	mm.start_data = c->stat.start_data;
	mm.end_data = c->stat.end_data;
	mm.start_brk = c->stat.start_brk;
	mm.brk = 0; /* filled below from the task itself */
	mm.start_stack = c->stat.start_stack;
	mm.arg_start = c->stat.arg_start;
	mm.arg_end = c->stat.arg_end;
	mm.env_start = c->stat.env_start;
	mm.env_end = c->stat.env_end;
	mm.n_auxv = nr_auxv;
	mm.auxv = auxv;
	mm.n_vmas = n;
	mm.vmas = vmas;
	/* the current brk: brk(0) in the task returns it */
	{
		long b = rsys_call(&c->rs, 12 /* brk */, 0, 0, 0, 0, 0, 0);

		if (b < 0) {
			ret = (int)b;
			goto out;
		}
		mm.brk = (uint64_t)b;
	}
	snprintf(exe, sizeof(exe), "/proc/%d/exe", c->pid);
	{
		char target[4096];
		ssize_t l = readlink(exe, target, sizeof(target) - 1);

		if (l > 0) {
			target[l] = 0;
			if (l > 10 && strcmp(target + l - 10, " (deleted)") == 0)
				target[l - 10] = 0;
			mm.has_exe_file_id = true;
			ret = dump_file_add_path(c, target, O_RDONLY, &mm.exe_file_id);
			if (ret)
				goto out;
		}
	}
	ret = dump_mm_attrs(c, &mm);
	if (!ret)
		ret = dump_pages(c, vmas, n);
	if (!ret)
		ret = write_mm(c, &mm);
out:
	free_vmas(ents, vmas, n);
	return ret;
}
