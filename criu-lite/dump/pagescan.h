/* pagescan: which pages of a range of a task hold data to dump.
 *
 * Contract: pagescan_range() reports, in address order, the runs of pages
 * in [start, end) of the task whose pagemap fd is given that hold private
 * data: present or swapped-out anonymous pages (for a file mapping: its
 * copied-on-write pages only), each run marked zero when it maps the zero
 * page. Guard regions and swap-type-31 markers are never data (pagescan_guards()
 * reports guard regions). It uses the
 * PAGEMAP_SCAN ioctl when available, else batched reads of the pagemap file;
 * both give the same answer (a unit test compares them). With want_written set, each run
 * also says whether its pages were written since a userfaultfd write-protected them
 * (PAGE_IS_WRITTEN; pagemap's PM_UFFD_WP clear): dirty tracking's answer from the same walk
 * (meaningful only in ranges that a uffd with WP_ASYNC protects: dump-track.h). */
#ifndef CRIU_LITE_PAGESCAN_H
#define CRIU_LITE_PAGESCAN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct pagescan_run {
	uint64_t start, end;
	bool zero;    /* maps the shared zero page: contents are zeros */
	bool written; /* want_written: written since write-protected (else false) */
};

struct pagescan {
	int pagemap_fd;
	bool use_ioctl;	   /* PAGEMAP_SCAN */
	bool want_written; /* set by the caller before a pagescan_range() */
	uint64_t zero_pfn; /* for the pagemap fallback; 0 = unknown (treat as data) */
	void *buf;	   /* ioctl region vector or pagemap entries */
	size_t buf_len;
};

typedef int (*pagescan_cb)(void *arg, const struct pagescan_run *run);

/* Where the next call of a PAGEMAP_SCAN walk that ends at end starts, after a call from start
 * that returned n regions of a vector of vec_len (ends[] their ends, ascending): end when the
 * vector did not fill (the kernel walked to the end), else the furthest of walk_end and the last
 * region's end. walk_end alone is not to be trusted: 6.18 leaves it where the walk of one call
 * last filled the kernel's own buffer, which may lie below regions it returned after that (a
 * walk of it from there reports them twice). */
static inline uint64_t pagescan_next(uint64_t start, uint64_t end, uint64_t walk_end, int n,
				     uint64_t vec_len, uint64_t last_end)
{
	uint64_t next = walk_end > start ? walk_end : start;

	if ((uint64_t)n < vec_len)
		return end;
	return n > 0 && last_end > next ? last_end : next;
}

int pagescan_open(pid_t pid, bool use_ioctl, struct pagescan *ps);
void pagescan_close(struct pagescan *ps);
/* Calls cb for each run, merged where adjacent and alike; stops at the first
 * non-zero return of cb and returns it. */
int pagescan_range(struct pagescan *ps, uint64_t start, uint64_t end, pagescan_cb cb, void *arg);
/* The same for the guard regions (MADV_GUARD_INSTALL) in [start, end): pagemap bit 58, or
 * PAGEMAP_SCAN PAGE_IS_GUARD when use_ioctl (the kernel must report it: 6.15+). */
int pagescan_guards(struct pagescan *ps, bool use_ioctl, uint64_t start, uint64_t end,
		    pagescan_cb cb, void *arg);

#endif
