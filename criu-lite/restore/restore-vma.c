/* restore-vma: the attributes of each rebuilt VMA, set again from its dumped VmFlags
 * (kinds/vmflags.h says which flag is set how), and the check that the rebuilt address space
 * shows exactly those flags.
 *
 * restore-mm.c maps a VMA (writable while filled, unless restore_vma_direct()), and around its
 * pagefill calls restore_vma_before_fill() (VmFlags gu without a guard left: a guard put in
 * and taken out again, while the VMA holds no data yet) and restore_vma_finish(): the
 * anon_vma an anonymous VMA needs to keep `ac` once read-only, guard regions
 * (MADV_GUARD_INSTALL, on pages that hold no data), madvise() advice, the final protection,
 * mlock()/mlock2() (a guard can't go into a locked VMA); restore_vma_seal() mseal()s it once
 * the task's children are forked.
 * restore_vma_check() then compares smaps with the image: a VMA rebuilt with other flags fails
 * the restore, naming the VMA and the flags. One difference is let through: an extra `gu`.
 * The kernel sets it on the whole VMA a guard goes into and keeps it across merges (a hint
 * that the VMA may hold guards, whose page tables fork must then copy), so a neighbour that
 * merges with a VMA holding guards at restore, where the two stayed apart in the dumped task,
 * shows it too: no page and no access differs. A dumped `gu` is never lost.
 * Images without vmflags (older criu-lite) give their madv bitmask and locked flag only, and
 * are not checked. Everything runs through rsys in the skeleton; errors are logged here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define LOG_PREFIX "mm: "
#include "criu-lite/kcompat.h"
#include "criu-lite/kinds/vmflags.h"
#include "criu-lite/log.h"
#include "criu-lite/restore/restore.h"

#define PG 4096ULL

int restore_vma_flags(const VmaEntry *v, uint64_t *flags)
{
	char unknown[VMA_FLAGS_UNKNOWN_MAX], buf[VMA_FLAGS_UNKNOWN_MAX + 64];
	const char *why, *refused;

	*flags = 0;
	if (!v->vmflags)
		return 0;
	if (vma_flags_from_text(v->vmflags, v->vmflags + strlen(v->vmflags), flags, unknown,
				&why)) {
		pr_err("mm.img: VMA %#llx: bad VmFlags '%s'\n", (unsigned long long)v->start,
		       v->vmflags);
		return -EBADMSG;
	}
	/* hugetlb memory can't grow (de): the kernel's own mark */
	refused =
	    vmf_refusal(*flags & ~((*flags & VMF_HT) ? VMF_DE : 0), unknown, buf, sizeof(buf));
	if (!refused && ((*flags & VMF_HT) != 0) != ((v->flags & MAP_HUGETLB) != 0))
		refused = "hugetlb memory (ht) without MAP_HUGETLB, or the reverse";
	if (!refused && (*flags & VMF_HT) &&
	    (v->kind != VMA_KIND__VMA_ANON_PRIVATE || !(v->flags & MAP_ANONYMOUS) ||
	     (v->flags & MAP_SHARED) ||
	     ((v->flags >> MAP_HUGE_SHIFT & MAP_HUGE_MASK) != 21 &&
	      (v->flags >> MAP_HUGE_SHIFT & MAP_HUGE_MASK) != 30)))
		refused = "hugetlb memory other than private anonymous memory of 2 MiB or 1 GiB "
			  "pages";
	if (refused && v->kind != VMA_KIND__VMA_VDSO && v->kind != VMA_KIND__VMA_VVAR &&
	    v->kind != VMA_KIND__VMA_VVAR_VCLOCK && v->kind != VMA_KIND__VMA_VSYSCALL) {
		pr_err("mm.img: VMA %#llx is %s: no dump makes such an image\n",
		       (unsigned long long)v->start, refused);
		return -EBADMSG;
	}
	return 0;
}

static bool is_anon_kind(const VmaEntry *v)
{
	return v->kind == VMA_KIND__VMA_ANON_PRIVATE || v->kind == VMA_KIND__VMA_HEAP ||
	       v->kind == VMA_KIND__VMA_STACK;
}

bool restore_vma_direct(const VmaEntry *v, uint64_t flags)
{
	/* mapped writable, the kernel would account it (ac) for good */
	return v->vmflags && !(v->flags & MAP_SHARED) && !(v->prot & PROT_WRITE) &&
	       !(flags & VMF_AC);
}

static long call(struct restore_task *t, const VmaEntry *v, const char *what, long nr, long a1,
		 long a2, long a3)
{
	long r = rsys_call_quiet(&t->rs, nr, a1, a2, a3, 0, 0, 0);

	if (r < 0 && !t->rs.dead) {
		errno = (int)-r;
		pr_perror("pid %d: VMA %#llx-%#llx: %s", t->pid, (unsigned long long)v->start,
			  (unsigned long long)v->end, what);
	}
	return r;
}

int restore_vma_before_fill(struct restore_task *t, const VmaEntry *v, uint64_t flags)
{
	long r;

	if (!(flags & VMF_GU) || v->n_guards)
		return 0;
	/* gu stays once a guard was installed, even after MADV_GUARD_REMOVE */
	r = call(t, v, "madvise(MADV_GUARD_INSTALL) for VmFlags gu", SYS_madvise, v->start, PG,
		 MADV_GUARD_INSTALL);
	if (!r)
		r = call(t, v, "madvise(MADV_GUARD_REMOVE)", SYS_madvise, v->start, PG,
			 MADV_GUARD_REMOVE);
	return (int)r;
}

static int advise(struct restore_task *t, const VmaEntry *v, uint64_t flags, bool merge_any)
{
	uint64_t len = v->end - v->start;
	char what[48];
	long r;

	if (!v->vmflags) { /* an older image: its advice bitmask */
		for (int a = 0; a < 64 && v->has_madv; a++) {
			if (!(v->madv & (1ULL << a)))
				continue;
			snprintf(what, sizeof(what), "madvise(%d)", a);
			if ((r = call(t, v, what, SYS_madvise, v->start, len, a)))
				return (int)r;
		}
		return 0;
	}
	for (size_t i = 0; i < vmf_nr_advice; i++) {
		if (!(flags & vmf_advice[i].bit))
			continue;
		if ((v->flags & MAP_DROPPABLE) && (vmf_advice[i].bit & VMF_DROPPABLE_IMPLIED))
			continue; /* it has them from birth, and refuses the advice */
		snprintf(what, sizeof(what), "madvise(%d)", vmf_advice[i].advice);
		if ((r = call(t, v, what, SYS_madvise, v->start, len, vmf_advice[i].advice)))
			return (int)r;
	}
	/* PR_SET_MEMORY_MERGE made every new VMA mergeable; this one was taken out */
	if (merge_any && !(flags & VMF_MG) &&
	    (r = call(t, v, "madvise(MADV_UNMERGEABLE)", SYS_madvise, v->start, len,
		      MADV_UNMERGEABLE)))
		return (int)r;
	return 0;
}

static int lock(struct restore_task *t, const VmaEntry *v, uint64_t flags)
{
	uint64_t len = v->end - v->start;
	bool locked = v->vmflags ? !!(flags & VMF_LO) : (v->has_locked && v->locked);
	long r;

	if (!locked)
		return 0;
	if (flags & VMF_LF)
		return (int)call(t, v, "mlock2(MLOCK_ONFAULT)", SYS_mlock2, v->start, len,
				 MLOCK_ONFAULT);
	r = rsys_call_quiet(&t->rs, SYS_mlock, v->start, len, 0, 0, 0, 0);
	/* the kernel locks the VMA, then faults its pages in and stops at the first guard page:
	 * so it did for the dumped task, whose VMA has guards (they can't be put into a locked
	 * one) */
	if (r == -ENOMEM && v->n_guards)
		return 0;
	if (r)
		return (int)call(t, v, "mlock", SYS_mlock, v->start, len, 0);
	return 0;
}

int restore_vma_finish(struct restore_task *t, const VmaEntry *v, uint64_t flags, bool merge_any)
{
	uint64_t len = v->end - v->start;
	int ret;
	long r;

	/* an anonymous VMA made read-only keeps `ac` only when it has an anon_vma, which the
	 * first page written gives it; one without data gets a page written and dropped */
	if (is_anon_kind(v) && (flags & VMF_AC) && !(v->prot & PROT_WRITE) &&
	    !page_reader_any(t->pages, v->start, v->end, PAGEMAP_FLAGS__PE_PRESENT) &&
	    !page_reader_any(t->pages, v->start, v->end, PAGEMAP_FLAGS__PE_PARENT) &&
	    !page_reader_any(t->pages, v->start, v->end, PAGEMAP_FLAGS__PE_COW)) {
		static const char zero;

		if ((ret = rsys_write(&t->rs, v->start, &zero, 1)) ||
		    (ret = (int)call(t, v, "madvise(MADV_DONTNEED)", SYS_madvise, v->start, PG,
				     MADV_DONTNEED)))
			return ret;
	}
	for (size_t i = 0; i < v->n_guards; i++) {
		const PageRange *g = v->guards[i];

		if ((r = call(t, v, "madvise(MADV_GUARD_INSTALL)", SYS_madvise, g->start,
			      g->end - g->start, MADV_GUARD_INSTALL)))
			return (int)r;
	}
	if ((ret = advise(t, v, flags, merge_any)))
		return ret;
	if (!(v->flags & MAP_SHARED) && !restore_vma_direct(v, flags) &&
	    v->prot != (PROT_READ | PROT_WRITE) &&
	    (r = call(t, v, "mprotect", SYS_mprotect, v->start, len, v->prot)))
		return (int)r;
	return lock(t, v, flags);
}

int restore_vma_seal(struct restore_task *t, const VmaEntry *v)
{
	uint64_t flags;
	int ret = restore_vma_flags(v, &flags);

	if (ret || !(flags & VMF_SL))
		return ret;
	return (int)call(t, v, "mseal", SYS_mseal, v->start, v->end - v->start, 0);
}

static void report(const struct restore_task *t, const VmaEntry *v, const struct vma *got,
		   uint64_t want)
{
	char w[VMF_TEXT_MAX], g[VMF_TEXT_MAX], missing[VMF_TEXT_MAX], extra[VMF_TEXT_MAX];

	vma_flags_to_text(want & VMF_COMPARED, w, sizeof(w));
	vma_flags_to_text(got->flags & VMF_COMPARED, g, sizeof(g));
	vma_flags_to_text(want & ~got->flags & VMF_COMPARED, missing, sizeof(missing));
	vma_flags_to_text(got->flags & ~want & VMF_COMPARED, extra, sizeof(extra));
	pr_err("pid %d: VMA %#llx-%#llx was rebuilt with VmFlags '%s' at %#llx-%#llx, dumped "
	       "with '%s' (missing: '%s', extra: '%s')\n",
	       t->pid, (unsigned long long)v->start, (unsigned long long)v->end, g,
	       (unsigned long long)got->start, (unsigned long long)got->end, w, missing, extra);
}

int restore_vma_check(struct restore_task *t)
{
	struct vma_list l;
	size_t k = 0;
	int ret = proc_parse_vmas(t->pid, &l);

	if (ret)
		return ret;
	for (size_t i = 0; i < t->mm->n_vmas && !ret; i++) {
		const VmaEntry *v = t->mm->vmas[i];
		uint64_t want;

		if (!v->vmflags)
			continue;
		if ((ret = restore_vma_flags(v, &want)))
			break;
		while (k < l.n && l.v[k].end <= v->start)
			k++;
		for (size_t j = k; j < l.n && l.v[j].start < v->end; j++)
			if ((want ^ l.v[j].flags) & VMF_COMPARED & ~(l.v[j].flags & VMF_GU) &
			    ~(t->lazy && t->lazy[i] ? VMF_UM | VMF_UI
						    : 0)) { /* um, ui: lazy-pages' */
				report(t, v, &l.v[j], want);
				ret = -EIO;
				break;
			}
	}
	vma_list_free(&l);
	return ret;
}
