/* page-source: where the pages of a lazy restore come from, behind one interface: local image
 * files now, a remote page server later.
 *
 * Contract: an address space is named by its kind and image id: IMG_PAGEMAP and a task's dumped
 * pid, or IMG_SHMEM_PAGEMAP and a shared memory object's id (addresses are then offsets in the
 * object). runs() gives its page runs (images/pages.h, sorted by address), loading them on first
 * use. get() returns nr pages at addr, all inside one PE_PRESENT run, checked against the image's
 * checksums: a pointer the source keeps valid until the next get() or close, or buf (LAZY_PG * nr
 * bytes) filled. Errors are -errno, logged once by the source naming the image and address (a
 * damaged image: -EBADMSG). */
#ifndef CRIU_LITE_PAGE_SOURCE_H
#define CRIU_LITE_PAGE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "images/img.h"
#include "images/pages.h"

struct page_source;

struct page_source_ops {
	int (*runs)(struct page_source *s, enum img_kind kind, uint32_t id,
		    const struct page_run **runs, size_t *n);
	int (*get)(struct page_source *s, enum img_kind kind, uint32_t id, uint64_t addr,
		   uint64_t nr, void *buf, const void **data);
	void (*close)(struct page_source *s);
};

struct page_source {
	const struct page_source_ops *ops;
};

/* The page images of the directory d (which stays the caller's). With preload, every page
 * image (the tasks' and the shared objects') is opened (and checked) now rather than at its first
 * use: the server does it while the restore checks the images, and serves the first fault at once.
 */
int page_source_local(struct img_dir *d, bool preload, struct page_source **out);

static inline void page_source_close(struct page_source *s)
{
	if (s)
		s->ops->close(s);
}

#endif
