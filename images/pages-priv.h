/* pages-priv: what the page writer (page-writer.c) and reader (pages.c) share; internal to
 * images/.
 *
 * Contract: the pagemap flags and the run arithmetic both sides check runs with, and the
 * names of the pages files. */
#ifndef CRIU_LITE_PAGES_PRIV_H
#define CRIU_LITE_PAGES_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "images/pages.h"

#define PE_PRESENT PAGEMAP_FLAGS__PE_PRESENT
#define PE_ZERO	   PAGEMAP_FLAGS__PE_ZERO
#define PE_LAZY	   PAGEMAP_FLAGS__PE_LAZY
#define PE_PARENT  PAGEMAP_FLAGS__PE_PARENT
#define PE_COW	   PAGEMAP_FLAGS__PE_COW
#define PE_KNOWN   (PE_PRESENT | PE_ZERO | PE_LAZY | PE_PARENT | PE_COW)

/* Known bits only, at least one, and at most one place the contents come
 * from (the pages file, zero, the parent image or the parent task); PE_LAZY combines with
 * any. */
static inline bool flags_valid(uint32_t flags)
{
	if (!flags || (flags & ~(uint32_t)PE_KNOWN))
		return false;
	return __builtin_popcount(flags & (PE_PRESENT | PE_ZERO | PE_PARENT | PE_COW)) <= 1;
}

/* Bytes covered by nr pages at vaddr, or false if vaddr + that overflows. */
static inline bool run_fits(uint64_t vaddr, uint64_t nr_pages)
{
	return nr_pages <= (UINT64_MAX - vaddr) / IMG_PAGE_SIZE;
}

static inline uint64_t run_end(const struct page_run *r)
{
	return r->vaddr + r->nr_pages * IMG_PAGE_SIZE;
}

/* "pages-" for a task's pages, "pages-shmem-" for a shared memory object's. */
static inline const char *pages_prefix(enum img_kind kind)
{
	return kind == IMG_SHMEM_PAGEMAP ? "pages-shmem-" : "pages-";
}

/* Pages of n runs whose flags include every bit of flag. */
static inline uint64_t runs_pages(const struct page_run *runs, size_t n, uint32_t flag)
{
	uint64_t pages = 0;

	for (size_t i = 0; i < n; i++)
		if ((runs[i].flags & flag) == flag)
			pages += runs[i].nr_pages;
	return pages;
}

#endif
