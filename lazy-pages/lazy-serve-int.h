/* lazy-serve-int: what the two halves of the fault loop share: lazy-serve.c (the loop, the
 * events, the control connection, prefetch) and lazy-fault.c (how a fault or a batch is served:
 * UFFDIO_COPY/ZEROPAGE for private memory, write-then-UFFDIO_CONTINUE for shared objects).
 * Internal to lazy-pages/. */
#ifndef CRIU_LITE_LAZY_SERVE_INT_H
#define CRIU_LITE_LAZY_SERVE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lazy-pages/lazy-mm.h"
#include "lazy-pages/lazy-serve.h"
#include "lazy-pages/lazy-shm.h"
#include "lazy-pages/working-set.h"

struct lazy_uffd {
	int fd;
	uint32_t id; /* image id */
	pid_t pid;   /* 0: a child forked after the restore */
	struct lazy_mm mm;
	const struct page_run *runs; /* of the image */
	size_t nruns;
	uint64_t cursor; /* prefetch goes on from here */
	uint64_t *hints; /* an earlier working set: image addresses, prefetched first */
	size_t nhints, next_hint;
	struct deferred { /* faults that met a pending event: retried once it is read */
		uint64_t addr;
		double t0;
		bool minor; /* UFFD_PAGEFAULT_FLAG_MINOR */
	} * retry;
	size_t nretry, cap_retry;
};

/* what a remote source brought, still to copy in (lazy-remote.c) */
struct lazy_arrival {
	enum img_kind kind;
	uint32_t id;
	uint64_t off, len;
};

struct server {
	struct page_source *src;
	int ctl, ep;
	struct lazy_uffd **u;
	size_t n, rr;
	bool tasks_done;
	bool hold;	       /* no prefetch until SIGUSR1 */
	struct lazy_ws *ws_in; /* an earlier working set */
	struct lazy_ws ws_out; /* this one's faults */
	int sigfd;	       /* SIGUSR1, while hold */
	int fetch_fd;	       /* a remote source's: restore asks for its eager pages here */
	double t_first, last_status;
	double last_fault;   /* when the last fault was served: the loop spins for a while after */
	struct lazy_shm shm; /* the shared objects */
	bool shm_turn;	     /* the next prefetch batch is a shared object's */
	struct lazy_stats *st;
	const struct lazy_serve_opts *o;
	struct lazy_arrival arrival;
};

/* Pages still pending, over all tasks and shared objects. */
uint64_t lazy_pages_left(const struct server *s);
/* u's task is gone (or its uffd no use): it is dropped, with what it still had pending. */
void lazy_drop_uffd(struct server *s, struct lazy_uffd *u, const char *why);
/* Copy n pending pages of u from at (one span); woken unless dontwake. 0, -EAGAIN (an event is
 * pending: retry after it), -ESRCH (the task is gone), or a fatal -errno. */
int lazy_copy_run(struct server *s, struct lazy_uffd *u, uint64_t at, uint64_t n, bool dontwake);
/* The same, the bytes from b (which holds every page of the run: image address img is at
 * data) instead of the page source. */
struct lazy_bytes {
	uint64_t img;
	const uint8_t *data;
};
int lazy_copy_from(struct server *s, struct lazy_uffd *u, uint64_t at, uint64_t n, bool dontwake,
		   const struct lazy_bytes *b);
/* Serve fault f of u: 0, -EAGAIN (defer it), -ESRCH, or a fatal -errno. */
int lazy_fault(struct server *s, struct lazy_uffd *u, const struct deferred *f);
/* lazy-remote.c, with a remote source: one range it brought unasked, copied in where still
 * pending (*did false when there was none); the restore's channel for the pages it fills
 * itself (LAZY_FETCH_CHANNEL: fd taken), and one LAZY_FETCH read there and answered. 0 or a
 * fatal -errno. */
int lazy_copy_arrived(struct server *s, bool *did);
/* The sink (page-source.h) of a remote source's stream: s's, called under the serve lock. */
void lazy_deliver(void *arg, enum img_kind kind, uint32_t id, uint64_t off, uint64_t len,
		  const void *data, bool *all, bool *wake);
int lazy_fetch_channel(struct server *s, int fd);
int lazy_serve_fetch(struct server *s);

#endif
