/* lazy-shm: the shared memory objects of a lazy restore (shared anonymous memory and memfds that
 * only mappings reach), filled in their page cache behind the tasks' MINOR faults.
 *
 * Contract: restore creates each such object with its size and, for every page the image holds,
 * a placeholder: a page fallocate()d into its page cache and not written yet. It hands the
 * object's fd over (LAZY_SHMEM); lazy_shm_add() takes it. A page of the object is pending until
 * its contents from pagemap-shmem-<id>.img are written; this table is the only record of that (a
 * shmem THP folio makes neighbours look present, so the page cache can't say). The tasks map
 * the object with their VMAs registered MISSING|MINOR (lazy-serve.c):
 * - a MINOR fault (the page is in the cache): a pending page is written first, then mapped with
 *   UFFDIO_CONTINUE; a page no longer pending is only mapped, never written again (it holds
 *   live data the tasks wrote);
 * - a MISSING fault (not in the cache): the image has nothing there or a task punched it out
 *   (MADV_REMOVE, or fallocate through a mapping's map_files): zeros either way, and the page is
 *   no longer pending (lazy_shm_drop());
 * - MADV_DONTNEED zaps only the caller's page tables, so the placeholder stays and the next
 *   fault is MINOR and gets the contents; MADV_REMOVE punches it out, so the next fault is
 *   MISSING and reads zeros. Their UFFD_EVENT_REMOVE can't tell the two apart, the page cache
 *   can: the event changes nothing here, and contents are written only into a page still in
 *   the cache. That is the job of lazy_shm_fill(): it writes through lazy-pages' own mapping of
 *   the object (the view), registered MISSING with UFFD_FEATURE_SIGBUS, with
 *   process_vm_writev(), which maps a placeholder and fills it, but fails with EFAULT on a page
 *   punched out instead of allocating it again. A punch after the write drops the contents, as
 *   it should.
 * An object a task can reach through an fd is never lazy (restore keeps it eager): a read() or
 * write() through the fd does not fault. All functions return 0 or -errno, logged once here. */
#ifndef CRIU_LITE_LAZY_SHM_H
#define CRIU_LITE_LAZY_SHM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lazy-pages/page-source.h"

struct lazy_obj;

struct lazy_shm {
	struct page_source *src;
	int uffd; /* the views', -1 until the first object */
	struct lazy_obj *v;
	size_t n, rr;
	uint64_t left; /* pending pages over all objects */
};

void lazy_shm_init(struct lazy_shm *t, struct page_source *src);
/* Object id of size bytes, its fd (taken, also on failure). */
int lazy_shm_add(struct lazy_shm *t, uint32_t id, uint64_t size, int fd);
/* The index of object id, or -1. */
int lazy_shm_find(const struct lazy_shm *t, uint32_t id);
bool lazy_shm_pending(const struct lazy_shm *t, uint32_t k, uint64_t off);
/* The page at off is gone from the object (a MISSING fault): nothing to write there. */
void lazy_shm_drop(struct lazy_shm *t, uint32_t k, uint64_t off);
/* Write the pending pages of [off, off + n pages) of object k; *done: pages written. */
int lazy_shm_fill(struct lazy_shm *t, uint32_t k, uint64_t off, uint64_t n, uint64_t *done);
/* One batch of at most max pending pages of some object (round robin); *done 0: none left. */
int lazy_shm_prefetch(struct lazy_shm *t, uint64_t max, uint64_t *done);
void lazy_shm_free(struct lazy_shm *t);

#endif
