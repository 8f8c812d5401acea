/* ps-int: what the files of the page server share (page-server.c: the directory, the sessions,
 * the connections and their HELLO; ps-pages.c: the FAULTS and STREAM roles; ps-push.c: the PUSH
 * role). Not an API: see page-server.h.
 *
 * The spaces (ps->sp, ps->nsp) and ps->dump_id are set once: when the server starts on a dump,
 * or when a push into its empty directory is complete (ps-push.c, under ps->lock). A FAULTS or
 * STREAM connection is taken only once they are set (its HELLO, under the lock), and reads them
 * without the lock from then on. */
#ifndef CRIU_LITE_PS_INT_H
#define CRIU_LITE_PS_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "images/pages.h"
#include "lazy-pages/page-server.h"
#include "lazy-pages/xfer-msg.h"

struct ps_space {
	enum img_kind kind; /* IMG_PAGEMAP or IMG_SHMEM_PAGEMAP */
	uint32_t id;
	bool live;     /* no pages file: o->live_read gives its bytes */
	uint64_t size; /* of its pages file */
	uint64_t nchunks;
};

/* what page_server_load() found in the directory, for page_server_serve() */
struct page_server_dir {
	struct img_dir *dir;
	const struct page_server_opts *o;
	uint32_t dump_id;
	struct ps_space *sp;
	size_t nsp;
	bool empty; /* no dump in dir: it may receive one (a push) */
};

struct ps_session {
	uint64_t id;
	int refs;
	bool done;	 /* the client has every page */
	uint64_t **sent; /* per space: chunks sent */
	size_t hint_sp;	 /* the last fault request ended in this space, at this chunk */
	uint64_t hint_chunk, hint_seq;
	uint64_t pages_fault, pages_stream;
	double t0;
	double orphaned; /* its connections are gone, its client not done: kept for a reconnect */
	int streams;	 /* STREAM connections it had */
	int joins;	 /* connections that joined it (a FAULTS and a STREAM; more: reconnects) */
	char peer[80];
	struct ps_session *next;
};

struct ps {
	struct img_dir *dir;
	const struct xfer_auth *auth;
	const struct page_server_opts *o;
	bool busy; /* single: a session runs (or ran) */
	uint64_t busy_id;
	int outcome;	  /* single: 1 the session ended done, -1 it ended before, 0 not yet */
	uint32_t dump_id; /* 0: none yet */
	struct ps_space *sp;
	size_t nsp;
	pthread_mutex_t lock;	 /* everything below, and every session's fields */
	bool receiving;		 /* it started with no dump: it may take one */
	bool pushing;		 /* a push is under way (ps-push.c) */
	struct ps_space *own_sp; /* the spaces of a dump pushed here (freed at the end) */
	pthread_cond_t cond;
	struct ps_session *sessions;
	int active;	       /* connection threads */
	struct ps_conn *conns; /* theirs, to cut when the server stops */
	bool stopping;
	struct ps_stats *st;
};

/* one connection's own */
struct ps_conn {
	struct ps *ps;
	int fd;
	struct ps_conn *next;
	struct xfer_conn *c;
	struct ps_session *sess;
	struct page_reader **r; /* per space, opened on first use */
	struct page_buf buf;
	void *live; /* what a live space's bytes are read into */
	void *payload;
	struct iovec *iov;
	uint8_t zmap[XFER_MAX_PAGES / 8];
};

/* ERROR with the text (printf), logged with the peer: -code */
int ps_send_error(struct ps_conn *pc, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* ps-pages.c: the two roles of a lazy restore's session */
int ps_serve_faults(struct ps_conn *pc);
int ps_serve_stream(struct ps_conn *pc);
/* ps-push.c: a push (HELLO taken, pc->ps->pushing set), until it ends; clears pushing */
void ps_serve_push(struct ps_conn *pc, uint32_t dump_id);
/* page-server.c: the spaces of the pagemaps named in names[0..n) (others are skipped), sorted
 * as the server keeps them, into *sp and *nsp (free(*sp)): 0 or -errno, logged */
int ps_load_spaces(struct img_dir *d, const struct page_server_opts *o, char *const *names,
		   size_t n, struct ps_space **sp, size_t *nsp);

#endif
