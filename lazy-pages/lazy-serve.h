/* lazy-serve: the fault loop of `criu-lite lazy-pages`: one thread, one epoll over the control
 * connection and every task's userfaultfd.
 *
 * Contract: lazy_serve() takes shared memory objects (LAZY_SHMEM: id, size, fd; lazy-shm.h) and
 * tasks (LAZY_TASK: pid, image id, the ranges registered MISSING, or MISSING|MINOR where they map
 * a shared object, and the uffd as SCM_RIGHTS) from the control connection until LAZY_END, and
 * copies in every page of the images that lies in those ranges or objects, until none is left
 * or the tasks are gone:
 * - a fault always jumps the queue: the faulting page is copied (UFFDIO_COPY) and its thread
 *   woken first, then the pending pages of its aligned LAZY_AROUND window (fault-around, which
 *   the kernel does not do in uffd-armed ranges); a page the image does not hold, or the task
 *   dropped, gets UFFDIO_ZEROPAGE; one already present, a wake-up; in a shared object a MINOR
 *   fault gets the page written (if pending) and mapped with UFFDIO_CONTINUE, then its window
 *   alike, and a MISSING one a zero page (lazy-shm.h);
 * - background prefetch runs from the first task on, in LAZY_CHUNK batches, round robin over
 *   the tasks (the shared objects, in LAZY_SHM_CHUNK batches, take every other turn), each from
 *   just after its last fault (locality); the loop looks for faults between batches, so a fault
 *   waits for at most one batch; for LAZY_SPIN_US after a fault it polls without sleeping, so
 *   that the next fault does not wait for the server to wake;
 * - events (all read before the faults read with them, so a fault never refills what a
 *   REMOVE dropped): FORK adopts the child's uffd with a copy of the parent's pending pages and
 *   hands it to the control peer (LAZY_FORKED, for the guardian), REMAP moves the bookkeeping,
 *   REMOVE drops pages (later faults there get zeros), UNMAP forgets them; EAGAIN (an event
 *   pending) retries after the events, ENOENT/EEXIST races are settled, ESRCH/ENOSPC mean
 *   the task is gone;
 * - every LAZY_STATUS_MS the control peer gets LAZY_STATUS (pages left); at the end LAZY_DONE,
 *   after which the uffds are closed. A page the source can't give is fatal: LAZY_ERROR with
 *   the reason, and -errno (the guardian then kills the tree: never a zero page instead).
 * After LAZY_DONE it waits (up to LAZY_BYE_S) for the peer to close the connection: the
 * guardian has let go of the uffds when lazy_serve() returns.
 * With hold_prefetch (tests: CRIU_LITE_FAULT=lazy-prefetch) nothing is prefetched until the
 * process gets SIGUSR1: only faults bring pages in meanwhile. The working set (working-set.h)
 * of an earlier restore of the same images is prefetched before anything else, each task's in
 * its fault order; this restore's faults make the new one.
 * Returns 0 when everything was copied in (or its task is gone). Figures go to *st. */
#ifndef CRIU_LITE_LAZY_SERVE_H
#define CRIU_LITE_LAZY_SERVE_H

#include <stdbool.h>
#include <stdint.h>

#include "lazy-pages/page-source.h"

#define LAZY_AROUND    16 /* pages: the fault-around window, aligned */
#define LAZY_CHUNK     16 /* pages per prefetch batch */
#define LAZY_SHM_CHUNK 64 /* pages per prefetch batch of a shared object (written, not mapped) */
#define LAZY_STATUS_MS 200
#define LAZY_SPIN_US   2000 /* after a fault, the loop polls without sleeping this long */
#define LAZY_BYE_S     10

struct lazy_stats {
	uint64_t tasks, forks, faults, zero_faults, pages_fault, pages_around, pages_prefetch;
	uint64_t events_remove, events_unmap, events_remap;
	uint64_t shm_objects;	  /* shared objects filled lazily */
	uint64_t minor_faults;	  /* MINOR faults (a shared object's page in its cache) */
	uint64_t continues;	  /* pages mapped with UFFDIO_CONTINUE (faults and their windows) */
	uint64_t shm_pages_fault; /* a shared object's pages written for faults and windows */
	uint64_t shm_pages_prefetch; /* ... and by prefetch */
	uint64_t ws_pages;	     /* prefetched from an earlier working set */
	uint64_t *lat_ns;	     /* per fault, read to woken (the first LAZY_LAT_MAX faults) */
	uint64_t nlat;
	double blocked_s;   /* the sum of those latencies */
	double all_pages_s; /* first task taken to the last page in */
};

#define LAZY_LAT_MAX (1U << 20)

struct lazy_ws;

struct lazy_serve_opts {
	bool hold_prefetch; /* no prefetch until SIGUSR1 (tests: CRIU_LITE_FAULT=lazy-prefetch) */
	/* in: the working set of an earlier lazy restore, prefetched first; out: it is replaced
	 * by this restore's (the pages of faults, in order) when this one saw faults */
	struct lazy_ws *ws;
	/* every LAZY_STATUS_MS: pages copied in so far and pages left (NULL: none) */
	void (*progress)(void *arg, uint64_t done, uint64_t left, const struct lazy_stats *st);
	void *progress_arg;
};

int lazy_serve(struct page_source *src, int ctl, const struct lazy_serve_opts *o,
	       struct lazy_stats *st);
/* p in [0, 1]: the latency at that quantile, in seconds (0 with no faults). */
double lazy_stats_quantile(struct lazy_stats *st, double p);
void lazy_stats_free(struct lazy_stats *st);

#endif
