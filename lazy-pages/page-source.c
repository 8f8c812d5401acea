/* page-source: what the page sources share (page-source.h). */
#include <errno.h>

#define LOG_PREFIX "lazy-pages: "
#include "criu-lite/log.h"
#include "lazy-pages/lazy-mm.h"
#include "lazy-pages/page-source.h"

int page_source_offset(const struct page_reader *r, enum img_kind kind, uint32_t id, uint64_t addr,
		       uint64_t nr, uint64_t *off)
{
	const struct page_run *run = r ? page_reader_find(r, addr) : NULL;

	if (!run || !(run->flags & PAGEMAP_FLAGS__PE_PRESENT) ||
	    addr + nr * LAZY_PG > run->vaddr + run->nr_pages * LAZY_PG) {
		pr_err("pagemap-%s%u.img has no pages for %#llx (+%llu pages)\n",
		       kind == IMG_SHMEM_PAGEMAP ? "shmem-" : "", id, (unsigned long long)addr,
		       (unsigned long long)nr);
		return -ENOENT;
	}
	*off = run->offset + (addr - run->vaddr);
	return 0;
}
