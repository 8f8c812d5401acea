/* psr-int: what the two halves of the remote page source share (page-source-remote.c: the
 * spaces, the faults connection, the page source's calls, setting up; page-source-remote-rx.c:
 * the stream thread and its sink). Internal to lazy-pages/. */
#ifndef CRIU_LITE_PSR_INT_H
#define CRIU_LITE_PSR_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "images/pages.h"
#include "lazy-pages/page-source.h"
#include "lazy-pages/xfer-conn.h"
#include "lazy-pages/xfer-msg.h"

#define CONNECT_MS 10000
#define IO_MS	   30000

struct rspace {
	enum img_kind kind;
	uint32_t id;
	struct page_reader *meta; /* the local pagemap: runs, chunk sums, which chunks we keep */
	uint8_t *cache;		  /* the pages file's bytes, those of kept chunks */
	uint64_t size;
};

struct arrival {
	uint32_t sp;
	uint64_t off, len;
};

struct remote_src {
	struct page_source base;
	struct img_dir *dir;
	struct rspace *sp;
	size_t nsp;
	struct xfer_conn *faults, *stream; /* stream: the rx thread's (swapped under lock) */
	struct remote_opts o;		   /* where the server is, to reconnect */
	char peer[80];
	uint64_t session, next_req;
	uint32_t dump_id;
	void *fbuf, *funpack; /* the faults connection's payload, and it unpacked */
	void *sbuf, *sunpack; /* the stream's */
	pthread_t rx;
	bool rx_started;
	atomic_bool closing;
	pthread_mutex_t lock;  /* the spaces' chunk bits and caches, the queue, the figures */
	pthread_mutex_t serve; /* the fault loop's while it works; the stream takes it first */
	atomic_bool urgent;    /* the loop waits for serve to serve a fault */
	const struct page_sink *sink; /* under serve */
	struct arrival *q;
	size_t qhead, qn, qcap;
	bool stream_end, stream_lost;
	struct remote_stats st;
};

struct rspace *find_space(struct remote_src *r, enum img_kind kind, uint32_t id);
const char *space_name(const struct rspace *sp);
/* The range [off, off + len) of sp queued for arrived() (under r->lock). */
int push_arrival(struct remote_src *r, const struct rspace *sp, uint64_t off, uint64_t len);
/* The chunks of [off, off + len) of sp not kept yet, from buf, checked and kept (under r->lock);
 * with queue, queued for arrived(). 0 or -EBADMSG (named), -ENOMEM. */
int keep(struct remote_src *r, struct rspace *sp, const uint8_t *buf, uint64_t off, uint64_t len,
	 bool queue);
/* The space of a checked PAGES frame, whose range must be whole chunks of its pages file. */
int frame_range(struct remote_src *r, const XferMsg *m, struct rspace **sp);
/* A broken connection (not a refusal, not a damaged frame): worth a reconnect. */
bool lost(int ret);
/* *c broke: a new connection in role, same session, within the reconnect timeout. */
int reconnect(struct remote_src *r, XferRole role, void *buf, struct xfer_conn **c,
	      const char *why);

/* page-source-remote-rx.c: the stream thread (its arg: r), and the loop's eventfd */
void *rx_main(void *arg);
void notify(struct remote_src *r);

#endif
