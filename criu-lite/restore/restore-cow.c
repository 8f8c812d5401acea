/* restore-cow: pages a task shared copy-on-write with its parent (PE_COW runs, dump-cow.c)
 * are shared again: the parent's address space is restored before it forks the task, and
 * the task keeps the VMAs that hold such pages, as inherited, instead of mapping them anew.
 *
 * Contract: restore_cow_check() (before any task exists) checks that every PE_COW run of t
 * lies in a private anonymous VMA of t, that t's parent is a live task of the dump with a VMA
 * of the same bounds, protection, kind and flags, and records which of t's VMAs are kept
 * (t->cow_keep); images that say otherwise are refused as damaged. restore_cow_unmap() (in the
 * freshly forked task) unmaps everything but the trampoline and the kept VMAs.
 * restore_cow_fill_prep() makes each kept VMA writable and drops, with MADV_DONTNEED, every page
 * of it that is not a PE_COW run, so that only the task's own pages (written next by pagefill)
 * and the shared ones are left: a page the parent has and the task had not reads as zero,
 * as it did. */
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define LOG_PREFIX "mm: "
#include "criu-lite/log.h"
#include "criu-lite/restore/restore.h"

#define PG	     4096ULL
#define TASK_SIZE_47 0x7ffffffff000ULL

bool restore_vma_private_anon(const VmaEntry *v)
{
	return (v->kind == VMA_KIND__VMA_ANON_PRIVATE || v->kind == VMA_KIND__VMA_HEAP ||
		v->kind == VMA_KIND__VMA_STACK) &&
	       !(v->flags & MAP_SHARED);
}

/* The VMA of mm that holds address at, or NULL (with its index in *idx). */
static const VmaEntry *vma_at(const MmEntry *mm, uint64_t at, size_t *idx)
{
	for (size_t i = 0; i < mm->n_vmas; i++)
		if (mm->vmas[i]->start <= at && at < mm->vmas[i]->end) {
			*idx = i;
			return mm->vmas[i];
		}
	return NULL;
}

static bool same_vma(const VmaEntry *a, const VmaEntry *b)
{
	return a->start == b->start && a->end == b->end && a->prot == b->prot &&
	       a->kind == b->kind && a->flags == b->flags && a->has_madv == b->has_madv &&
	       a->madv == b->madv;
}

/* One VMA v (index k) of t holding pages shared with the parent p: p must have the same. */
static int check_vma(struct restore_task *t, const struct restore_task *p, const VmaEntry *v,
		     size_t k)
{
	const VmaEntry *pv;
	size_t pk;

	if (!restore_vma_private_anon(v)) {
		pr_err(
		    "pagemap-%d.img: pages shared with the parent lie in VMA %#llx-%#llx, which is "
		    "not private anonymous memory\n",
		    t->vpid, (unsigned long long)v->start, (unsigned long long)v->end);
		return -EBADMSG;
	}
	if (!p || p->zombie || !p->mm) {
		pr_err(
		    "pagemap-%d.img: VMA %#llx-%#llx holds pages shared with a parent that the dump "
		    "does not hold alive\n",
		    t->vpid, (unsigned long long)v->start, (unsigned long long)v->end);
		return -EBADMSG;
	}
	pv = vma_at(p->mm, v->start, &pk);
	if (!pv || !same_vma(v, pv)) {
		pr_err(
		    "pagemap-%d.img: VMA %#llx-%#llx shares pages with pid %d, which has no such VMA "
		    "in mm-%d.img\n",
		    t->vpid, (unsigned long long)v->start, (unsigned long long)v->end, p->vpid,
		    p->vpid);
		return -EBADMSG;
	}
	if (!t->cow_keep) {
		t->cow_keep = calloc(t->mm->n_vmas, sizeof(*t->cow_keep));
		if (!t->cow_keep)
			return -ENOMEM;
	}
	t->cow_keep[k] = true;
	return 0;
}

int restore_cow_check(struct restore_ctx *c, struct restore_task *t)
{
	const struct page_run *runs = page_reader_runs(t->pages);
	size_t n = page_reader_nr_runs(t->pages);
	int ret;

	(void)c;
	for (size_t i = 0; i < n; i++) {
		uint64_t at = runs[i].vaddr, end = at + runs[i].nr_pages * PG;

		if (!(runs[i].flags & PAGEMAP_FLAGS__PE_COW))
			continue;
		/* a run may span neighbouring VMAs: each must be one the parent has too */
		while (at < end) {
			size_t k;
			const VmaEntry *v = vma_at(t->mm, at, &k);

			if (!v) {
				pr_err(
				    "pagemap-%d.img: page %#llx, shared with the parent, lies in no "
				    "VMA of mm-%d.img\n",
				    t->vpid, (unsigned long long)at, t->vpid);
				return -EBADMSG;
			}
			if ((ret = check_vma(t, t->parent, v, k)))
				return ret;
			at = v->end;
		}
	}
	return 0;
}

int restore_cow_unmap(struct restore_task *t)
{
	uint64_t from = 0;

	for (size_t i = 0; i <= t->mm->n_vmas; i++) {
		uint64_t to = i < t->mm->n_vmas ? t->mm->vmas[i]->start : TASK_SIZE_47;
		uint64_t next = i < t->mm->n_vmas ? t->mm->vmas[i]->end : TASK_SIZE_47;

		if (i < t->mm->n_vmas && !t->cow_keep[i])
			continue;
		/* [from, to) goes, but for the trampoline */
		for (int part = 0; part < 2; part++) {
			uint64_t s = part ? t->sk.tramp + SKEL_TRAMP_SIZE : from;
			uint64_t e = part ? to : t->sk.tramp;
			long r;

			if (s < from)
				s = from;
			if (e > to)
				e = to;
			if (s >= e)
				continue;
			r = rsys_call(&t->rs, SYS_munmap, s, e - s, 0, 0, 0, 0);
			if (r)
				return (int)r;
		}
		from = next;
	}
	return 0;
}

int restore_cow_fill_prep(struct restore_task *t, const uint64_t *vmf)
{
	const struct page_run *runs = page_reader_runs(t->pages);
	size_t n = page_reader_nr_runs(t->pages);

	for (size_t i = 0; i < t->mm->n_vmas; i++) {
		const VmaEntry *v = t->mm->vmas[i];
		uint64_t at = v->start;
		long r;

		if (!t->cow_keep[i])
			continue;
		/* writable for pagefill, unless it writes this one through /proc/PID/mem */
		if (v->prot != (PROT_READ | PROT_WRITE) && !restore_vma_direct(v, vmf[i]) &&
		    (r = rsys_call(&t->rs, SYS_mprotect, v->start, v->end - v->start,
				   PROT_READ | PROT_WRITE, 0, 0, 0)))
			return (int)r;
		/* runs are in address order: drop every gap between the shared ones */
		for (size_t k = 0; k <= n; k++) {
			uint64_t s = k < n ? runs[k].vaddr : v->end;
			uint64_t e = k < n ? s + runs[k].nr_pages * PG : v->end;

			if (k < n && (!(runs[k].flags & PAGEMAP_FLAGS__PE_COW) || e <= v->start ||
				      s >= v->end))
				continue;
			if (s > at && (r = rsys_call(&t->rs, SYS_madvise, at, s - at, MADV_DONTNEED,
						     0, 0, 0)))
				return (int)r;
			at = e;
			if (at >= v->end)
				break;
		}
	}
	return 0;
}
