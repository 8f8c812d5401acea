/* page-server: see page-server.h.
 *
 * The directory's pages files are the spaces (ps_space): their sizes are read once from the
 * pagemaps; each connection thread opens readers of its own (page_reader_read() is not thread
 * safe, and a reader's buffer is what a connection sends from). A session (the FAULTS and STREAM
 * connections of one restore, paired by the client's session id) keeps, per space, which chunks
 * were sent on either connection, and where the last fault request ended: the stream goes on
 * from there. Both connections send whole chunks only, so the client can check every batch
 * against its pagemap's chunk checksums as it comes. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LOG_PREFIX "page-server: "
#include "criu-lite/log.h"
#include "criu-lite/stats.h"
#include "images/pagecrc.h"
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
	char peer[80];
	struct ps_session *next;
};

struct ps {
	struct img_dir *dir;
	const struct xfer_auth *auth;
	const struct page_server_opts *o;
	bool busy; /* single: a session runs (or ran) */
	uint64_t busy_id;
	int outcome; /* single: 1 the session ended done, -1 it ended before, 0 not yet */
	uint32_t dump_id;
	struct ps_space *sp;
	size_t nsp;
	pthread_mutex_t lock; /* everything below, and every session's fields */
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

static int cmp_space(const void *a, const void *b)
{
	const struct ps_space *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind == IMG_PAGEMAP ? -1 : 1; /* tasks first */
	return x->id < y->id ? -1 : x->id > y->id;
}

/* A pagemap of the directory, with its pages file's size (page_images_each()). */
static int add_space(void *arg, enum img_kind kind, long id)
{
	struct page_server_dir *ps = arg;
	struct img_err err = { 0 };
	struct page_reader *r;
	struct ps_space *v;
	bool live = false;
	int ret = page_reader_open_unchecked(ps->dir, kind, id, &r, &err);

	if (ret == -ENOENT && ps->o->live_read) { /* no pages file: the frozen tree has them */
		live = true;
		ret = page_reader_open_meta(ps->dir, kind, id, &r, &err);
	}
	if (ret) {
		pr_err("%s\n", err.msg);
		return ret;
	}
	if (!page_reader_chunked(r)) {
		pr_err(
		    "%s has no chunk checksums (a dump by an older criu-lite): it can't be served\n",
		    page_reader_pages_name(r));
		page_reader_close(r);
		return -ENOTSUP;
	}
	v = realloc(ps->sp, (ps->nsp + 1) * sizeof(*v));
	if (!v) {
		page_reader_close(r);
		return -ENOMEM;
	}
	ps->sp = v;
	v[ps->nsp++] = (struct ps_space){
		.kind = kind,
		.id = (uint32_t)id,
		.live = live,
		.size = page_reader_size(r),
		.nchunks = (page_reader_size(r) + PAGECRC_CHUNK - 1) / PAGECRC_CHUNK,
	};
	page_reader_close(r);
	return 0;
}

/* The directory's dump id, and every pagemap of it. */
static int load(struct page_server_dir *ps)
{
	struct img_err err = { 0 };
	int ret = img_dir_dump_id(ps->dir, &ps->dump_id, &err);

	if (!ret)
		ret = page_images_each(ps->dir, add_space, ps, &err);
	if (ret && err.msg[0])
		pr_err("%s\n", err.msg);
	if (!ret)
		qsort(ps->sp, ps->nsp, sizeof(*ps->sp), cmp_space);
	return ret;
}

int page_server_load(struct img_dir *d, const struct page_server_opts *o,
		     struct page_server_dir **out)
{
	struct page_server_dir *pd = calloc(1, sizeof(*pd));
	int ret;

	*out = NULL;
	if (!pd) {
		pr_err("out of memory for %s\n", img_dir_path(d));
		return -ENOMEM;
	}
	pd->dir = d;
	pd->o = o;
	ret = load(pd);
	if (ret) {
		page_server_dir_free(pd);
		return ret;
	}
	*out = pd;
	return 0;
}

void page_server_dir_free(struct page_server_dir *pd)
{
	if (pd)
		free(pd->sp);
	free(pd);
}

/* ---- sessions ----------------------------------------------------------------------------- */

static struct ps_session *session_get(struct ps *ps, uint64_t id, const char *peer)
{
	struct ps_session *s;

	pthread_mutex_lock(&ps->lock);
	for (s = ps->sessions; s && s->id != id; s = s->next)
		;
	if (s && s->orphaned) {
		s->orphaned = 0;
		pr_info("session %016llx: %s is back\n", (unsigned long long)id, peer);
	}
	if (!s && (s = calloc(1, sizeof(*s)))) {
		s->sent = calloc(ps->nsp ? ps->nsp : 1, sizeof(*s->sent));
		for (size_t i = 0; s->sent && i < ps->nsp; i++)
			if (!(s->sent[i] = calloc((ps->sp[i].nchunks + 63) / 64 + 1, 8)))
				goto nomem;
		if (!s->sent)
			goto nomem;
		s->id = id;
		s->t0 = stats_now();
		snprintf(s->peer, sizeof(s->peer), "%s", peer);
		s->next = ps->sessions;
		ps->sessions = s;
		ps->st->sessions++;
	}
	if (s)
		s->refs++;
	pthread_mutex_unlock(&ps->lock);
	return s;
nomem:
	for (size_t i = 0; s->sent && i < ps->nsp; i++)
		free(s->sent[i]);
	free(s->sent);
	free(s);
	pthread_mutex_unlock(&ps->lock);
	return NULL;
}

/* s ends (under ps->lock, which it drops): out of the list, said, freed. */
static void session_end(struct ps *ps, struct ps_session *s)
{
	struct ps_session **p;

	for (p = &ps->sessions; *p != s; p = &(*p)->next)
		;
	*p = s->next;
	if (ps->o->single)
		ps->outcome = s->done ? 1 : -1;
	pthread_mutex_unlock(&ps->lock);
	pr_info("session %016llx from %s %s: %llu pages by fault, %llu streamed, in %.3f s\n",
		(unsigned long long)s->id, s->peer, s->done ? "done" : "ended before it was done",
		(unsigned long long)s->pages_fault, (unsigned long long)s->pages_stream,
		stats_now() - s->t0);
	for (size_t i = 0; i < ps->nsp; i++)
		free(s->sent[i]);
	free(s->sent);
	free(s);
}

static void session_put(struct ps *ps, struct ps_session *s)
{
	pthread_mutex_lock(&ps->lock);
	if (--s->refs) {
		pthread_mutex_unlock(&ps->lock);
		return;
	}
	if (!s->done && ps->o->reconnect_s > 0 && !ps->stopping) { /* its client may be back */
		s->orphaned = stats_now();
		pthread_mutex_unlock(&ps->lock);
		pr_info("session %016llx: its connections are gone; kept %d s for a reconnect\n",
			(unsigned long long)s->id, ps->o->reconnect_s);
		return;
	}
	session_end(ps, s);
}

/* The sessions whose client has not come back in time (every one orphaned, when all): ended. */
static void sessions_expire(struct ps *ps, bool all)
{
	for (;;) {
		struct ps_session *s;

		pthread_mutex_lock(&ps->lock);
		for (s = ps->sessions; s; s = s->next)
			if (s->orphaned && !s->refs &&
			    (all || stats_now() - s->orphaned > ps->o->reconnect_s))
				break;
		if (!s) {
			pthread_mutex_unlock(&ps->lock);
			return;
		}
		session_end(ps, s);
	}
}

/* Chunks [a, b) of space i were sent (under ps->lock). */
static void mark_sent(struct ps_session *s, size_t i, uint64_t a, uint64_t b)
{
	for (uint64_t c = a; c < b; c++)
		s->sent[i][c / 64] |= 1ULL << (c % 64);
}

static bool is_sent(const struct ps_session *s, size_t i, uint64_t c)
{
	return s->sent[i][c / 64] >> (c % 64) & 1;
}

/* ---- sending pages -------------------------------------------------------------------------- */

static int space_index(const struct ps *ps, XferSpace space, uint32_t id)
{
	enum img_kind kind =
	    space == XFER_SPACE__XFER_SPACE_SHMEM ? IMG_SHMEM_PAGEMAP : IMG_PAGEMAP;

	for (size_t i = 0; i < ps->nsp; i++)
		if (ps->sp[i].kind == kind && ps->sp[i].id == id)
			return (int)i;
	return -1;
}

static int send_error(struct ps_conn *pc, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int send_error(struct ps_conn *pc, int code, const char *fmt, ...)
{
	XferMsg m = XFER_MSG__INIT;
	struct img_err err = { 0 };
	char text[XFER_MAX_TEXT];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	pr_err("%s: %s\n", xfer_conn_peer(pc->c), text);
	m.kind = XFER_KIND__XFER_ERROR;
	m.error = text;
	m.has_errno_val = true;
	m.errno_val = code;
	xfer_send(xfer_conn_writev, pc->c, &m, NULL, 0, xfer_conn_peer(pc->c), &err);
	return -code;
}

/* Bytes [off, off + len) of space i, read (and checked) through this connection's reader. */
static int read_space(struct ps_conn *pc, size_t i, uint64_t off, uint64_t len, const void **data)
{
	struct ps_space *sp = &pc->ps->sp[i];
	struct img_err err = { 0 };
	int ret;

	if (sp->live) {
		if (!pc->live && !(pc->live = malloc(XFER_MAX_PAYLOAD)))
			return -ENOMEM;
		ret =
		    pc->ps->o->live_read(pc->ps->o->live_arg, sp->kind, sp->id, off, len, pc->live);
		*data = pc->live;
		return ret;
	}
	if (!pc->r[i]) {
		ret = page_reader_open_unchecked(pc->ps->dir, sp->kind, sp->id, &pc->r[i], &err);
		if (ret) {
			pr_err("%s\n", err.msg);
			return ret;
		}
	}
	ret = page_reader_read(pc->r[i], off, len, &pc->buf, data, &err);
	if (ret)
		pr_err("%s\n", err.msg);
	return ret;
}

static int send_pages(struct ps_conn *pc, uint64_t req_id, size_t i, uint64_t off, uint32_t nr,
		      const void *data)
{
	XferMsg m = XFER_MSG__INIT;
	struct img_err err = { 0 };
	struct ps_space *sp = &pc->ps->sp[i];
	int iovcnt, ret;
	unsigned zeros = xfer_pages_pack(data, nr, pc->zmap, pc->iov, &iovcnt);

	m.kind = XFER_KIND__XFER_PAGES;
	m.has_req_id = true;
	m.req_id = req_id;
	m.has_space = true;
	m.space =
	    sp->kind == IMG_PAGEMAP ? XFER_SPACE__XFER_SPACE_TASK : XFER_SPACE__XFER_SPACE_SHMEM;
	m.has_id = true;
	m.id = sp->id;
	m.has_addr = true;
	m.addr = off;
	m.has_nr_pages = true;
	m.nr_pages = nr;
	if (zeros) {
		m.has_zero_map = true;
		m.zero_map.data = pc->zmap;
		m.zero_map.len = (nr + 7) / 8;
	}
	ret = xfer_sendv(xfer_conn_writev, pc->c, &m, pc->iov, iovcnt, xfer_conn_peer(pc->c), &err);
	if (ret) {
		pr_err("%s\n", err.msg);
		return ret;
	}
	pthread_mutex_lock(&pc->ps->lock);
	pc->ps->st->zero_pages += zeros;
	pc->ps->st->bytes_sent += (uint64_t)(nr - zeros) * XFER_PG;
	pthread_mutex_unlock(&pc->ps->lock);
	return 0;
}

/* ---- the two roles ------------------------------------------------------------------------ */

static int serve_request(struct ps_conn *pc, const XferMsg *m)
{
	struct ps *ps = pc->ps;
	int i = space_index(ps, m->space, m->id);
	uint64_t len = (uint64_t)m->nr_pages * XFER_PG;
	const void *data;
	int ret;

	if (i < 0)
		return send_error(pc, ENOENT, "no pages file for %s %u in %s",
				  m->space == XFER_SPACE__XFER_SPACE_SHMEM ? "shared object"
									   : "task",
				  m->id, img_dir_path(ps->dir));
	if (m->addr > ps->sp[i].size || len > ps->sp[i].size - m->addr)
		return send_error(pc, EINVAL,
				  "request for bytes %llu-%llu of a %llu-byte pages file",
				  (unsigned long long)m->addr, (unsigned long long)(m->addr + len),
				  (unsigned long long)ps->sp[i].size);
	ret = read_space(pc, (size_t)i, m->addr, len, &data);
	if (ret)
		return send_error(pc, -ret,
				  "can't read the pages asked for (see the server's log)");
	ret = send_pages(pc, m->req_id, (size_t)i, m->addr, m->nr_pages, data);
	if (ret)
		return ret;
	pthread_mutex_lock(&ps->lock);
	mark_sent(pc->sess, (size_t)i, m->addr / PAGECRC_CHUNK,
		  (m->addr + len + PAGECRC_CHUNK - 1) / PAGECRC_CHUNK);
	pc->sess->hint_sp = (size_t)i;
	pc->sess->hint_chunk = (m->addr + len + PAGECRC_CHUNK - 1) / PAGECRC_CHUNK;
	pc->sess->hint_seq++;
	pc->sess->pages_fault += m->nr_pages;
	ps->st->pages_fault += m->nr_pages;
	pthread_mutex_unlock(&ps->lock);
	return 0;
}

static int serve_faults(struct ps_conn *pc)
{
	for (;;) {
		struct img_err err = { 0 };
		struct xfer_frame f;
		int ret =
		    xfer_recv(xfer_conn_read, pc->c, pc->payload, &f, xfer_conn_peer(pc->c), &err);

		if (ret == -ENODATA)
			return 0; /* the client closed */
		if (ret) {
			pr_err("%s\n", err.msg);
			return ret;
		}
		switch (f.msg->kind) {
		case XFER_KIND__XFER_PAGES_REQ:
			ret = serve_request(pc, f.msg);
			break;
		case XFER_KIND__XFER_DONE: {
			XferMsg m = XFER_MSG__INIT;

			pthread_mutex_lock(&pc->ps->lock);
			pc->sess->done = true;
			pthread_mutex_unlock(&pc->ps->lock);
			m.kind = XFER_KIND__XFER_DONE;
			xfer_send(xfer_conn_writev, pc->c, &m, NULL, 0, xfer_conn_peer(pc->c),
				  &err);
			xfer_frame_free(&f);
			return 0;
		}
		default:
			ret = send_error(pc, EPROTO, "unexpected message %d on a faults connection",
					 f.msg->kind);
		}
		xfer_frame_free(&f);
		if (ret)
			return ret;
	}
}

/* The next chunks to stream (under ps->lock): the first unsent one from (*i, *c) on, through
 * every space, and those unsent right after it; marked sent. false when everything was sent. */
static bool next_batch(struct ps *ps, struct ps_session *s, size_t *i, uint64_t *c, uint64_t *n)
{
	for (size_t k = 0; k <= ps->nsp; k++) {
		size_t sp = (*i + k) % ps->nsp;
		uint64_t from = k ? 0 : *c, end = ps->sp[sp].nchunks;

		if (k == ps->nsp) { /* back in the first space: what lies before where it started */
			sp = *i;
			from = 0;
			end = *c < end ? *c : end;
		}
		for (uint64_t x = from; x < end; x++) {
			uint64_t y = x;

			if (is_sent(s, sp, x))
				continue;
			while (y < ps->sp[sp].nchunks && !is_sent(s, sp, y) &&
			       (y - x) < PS_STREAM_BATCH / PAGECRC_CHUNK)
				y++;
			mark_sent(s, sp, x, y);
			*i = sp;
			*c = x;
			*n = y - x;
			return true;
		}
	}
	return false;
}

/* Until the peer's end of the connection breaks, or the session ends. */
static void wait_for_break(struct ps_conn *pc)
{
	struct img_err err = { 0 };
	struct xfer_frame f;
	int ret, over;

	xfer_conn_timeout(pc->c, 1000);
	for (;;) {
		ret =
		    xfer_recv(xfer_conn_read, pc->c, pc->payload, &f, xfer_conn_peer(pc->c), &err);
		if (!ret) {
			xfer_frame_free(&f);
			continue;
		}
		if (ret != -ETIMEDOUT)
			return;
		pthread_mutex_lock(&pc->ps->lock);
		over = pc->sess->done || pc->ps->stopping;
		pthread_mutex_unlock(&pc->ps->lock);
		if (over)
			return;
	}
}

static int serve_stream(struct ps_conn *pc)
{
	struct ps *ps = pc->ps;
	struct ps_session *s = pc->sess;
	uint64_t seen = 0, c = 0, n, batches = 0;
	XferMsg end = XFER_MSG__INIT;
	struct img_err err = { 0 };
	bool first = s->streams == 1;
	size_t i = 0;
	int ret;

	while (ps->nsp) {
		uint64_t off, len;
		const void *data;
		bool more;

		if (first && ps->o->stall_stream_after && batches++ == ps->o->stall_stream_after) {
			pr_info("%s: the stream stalled (CRIU_LITE_FAULT) until its connection "
				"breaks\n",
				xfer_conn_peer(pc->c));
			wait_for_break(pc);
			return 0;
		}
		pthread_mutex_lock(&ps->lock);
		if (s->done) {
			pthread_mutex_unlock(&ps->lock);
			return 0;
		}
		if (s->hint_seq != seen) {
			seen = s->hint_seq;
			i = s->hint_sp;
			c = s->hint_chunk;
		}
		more = next_batch(ps, s, &i, &c, &n);
		pthread_mutex_unlock(&ps->lock);
		if (!more)
			break;
		off = c * PAGECRC_CHUNK;
		len = n * PAGECRC_CHUNK;
		if (len > ps->sp[i].size - off)
			len = ps->sp[i].size - off;
		ret = read_space(pc, i, off, len, &data);
		if (ret)
			return send_error(pc, -ret, "can't read pages (see the server's log)");
		ret = send_pages(pc, 0, i, off, (uint32_t)(len / XFER_PG), data);
		if (ret)
			return ret;
		pthread_mutex_lock(&ps->lock);
		s->pages_stream += len / XFER_PG;
		ps->st->pages_stream += len / XFER_PG;
		pthread_mutex_unlock(&ps->lock);
		c += n;
	}
	end.kind = XFER_KIND__XFER_STREAM_END;
	ret = xfer_send(xfer_conn_writev, pc->c, &end, NULL, 0, xfer_conn_peer(pc->c), &err);
	if (ret) {
		pr_err("%s\n", err.msg);
		return ret;
	}
	/* the client closes it once it has every page (its DONE comes on the faults one) */
	wait_for_break(pc);
	return 0;
}

/* ---- connections -------------------------------------------------------------------------- */

static int hello(struct ps_conn *pc, XferRole *role, uint64_t *session)
{
	struct ps *ps = pc->ps;
	XferMsg ok = XFER_MSG__INIT;
	struct img_err err = { 0 };
	struct xfer_frame f;
	int ret = xfer_recv(xfer_conn_read, pc->c, pc->payload, &f, xfer_conn_peer(pc->c), &err);

	if (ret) {
		pr_err("%s\n", ret == -ENODATA ? "a peer closed before its hello" : err.msg);
		return ret;
	}
	if (f.msg->kind != XFER_KIND__XFER_HELLO)
		ret = send_error(pc, EPROTO, "expected a hello, got message %d", f.msg->kind);
	else if (f.msg->version != XFER_VERSION)
		ret = send_error(pc, EPROTONOSUPPORT,
				 "protocol version %u: this page server speaks version %u",
				 f.msg->version, XFER_VERSION);
	else if (f.msg->has_dump_id && f.msg->dump_id != ps->dump_id)
		ret = send_error(pc, ESTALE,
				 "the client restores dump %08x, %s holds dump %08x: not the same "
				 "images",
				 f.msg->dump_id, img_dir_path(ps->dir), ps->dump_id);
	else if (f.msg->role == XFER_ROLE__XFER_ROLE_PUSH)
		ret = send_error(pc, ENOTSUP,
				 "this page server serves %s; receiving a dump is not built yet",
				 img_dir_path(ps->dir));
	if (!ret) {
		*role = f.msg->role;
		*session = f.msg->session;
	}
	xfer_frame_free(&f);
	if (!ret && ps->o->single) { /* one destination: only its own connections */
		pthread_mutex_lock(&ps->lock);
		if (ps->busy && ps->busy_id != *session)
			ret = -EBUSY;
		ps->busy = true;
		ps->busy_id = ret ? ps->busy_id : *session;
		pthread_mutex_unlock(&ps->lock);
		if (ret)
			ret = send_error(pc, EBUSY,
					 "this source serves one destination, which is another "
					 "(session %016llx)",
					 (unsigned long long)ps->busy_id);
	}
	if (ret)
		return ret;
	ok.kind = XFER_KIND__XFER_HELLO_OK;
	ok.has_version = true;
	ok.version = XFER_VERSION;
	ok.has_dump_id = true;
	ok.dump_id = ps->dump_id;
	ret = xfer_send(xfer_conn_writev, pc->c, &ok, NULL, 0, xfer_conn_peer(pc->c), &err);
	if (ret)
		pr_err("%s\n", err.msg);
	return ret;
}

struct conn_arg {
	struct ps *ps;
	int fd;
};

static void *conn_main(void *arg)
{
	struct conn_arg a = *(struct conn_arg *)arg;
	struct ps_conn pc = { .ps = a.ps, .fd = a.fd }, **p;
	struct img_err err = { 0 };
	uint64_t session = 0;
	XferRole role = 0;
	int ret;

	free(arg);
	pthread_mutex_lock(&a.ps->lock);
	pc.next = a.ps->conns;
	a.ps->conns = &pc;
	if (a.ps->stopping)
		shutdown(a.fd, SHUT_RDWR);
	pthread_mutex_unlock(&a.ps->lock);
	ret = xfer_conn_server(a.fd, a.ps->auth, PS_HANDSHAKE_MS, &pc.c, &err);
	if (ret) {
		pr_err("%s\n", err.msg);
		pthread_mutex_lock(&a.ps->lock);
		a.ps->st->refused++;
		pthread_mutex_unlock(&a.ps->lock);
		goto out;
	}
	xfer_conn_timeout(pc.c, PS_IO_TIMEOUT_MS);
	pc.payload = malloc(XFER_MAX_PAYLOAD);
	pc.iov = calloc(XFER_MAX_PAGES, sizeof(*pc.iov));
	pc.r = calloc(a.ps->nsp ? a.ps->nsp : 1, sizeof(*pc.r));
	if (!pc.payload || !pc.iov || !pc.r) {
		pr_err("out of memory for a connection of %s\n", xfer_conn_peer(pc.c));
		goto out;
	}
	if (hello(&pc, &role, &session))
		goto out;
	pc.sess = session_get(a.ps, session, xfer_conn_peer(pc.c));
	if (!pc.sess) {
		send_error(&pc, ENOMEM, "out of memory for a session");
		goto out;
	}
	pr_debug("%s: session %016llx, %s\n", xfer_conn_peer(pc.c), (unsigned long long)session,
		 role == XFER_ROLE__XFER_ROLE_FAULTS ? "faults" : "stream");
	if (role == XFER_ROLE__XFER_ROLE_STREAM) {
		pthread_mutex_lock(&a.ps->lock);
		/* a stream again (a reconnect): what the last one sent may be lost with it; the
		 * client keeps no chunk twice, so all is sent again */
		for (size_t i = 0; pc.sess->streams && i < a.ps->nsp; i++)
			memset(pc.sess->sent[i], 0, ((a.ps->sp[i].nchunks + 63) / 64 + 1) * 8);
		pc.sess->streams++;
		pthread_mutex_unlock(&a.ps->lock);
	}
	if (role == XFER_ROLE__XFER_ROLE_FAULTS)
		serve_faults(&pc);
	else
		serve_stream(&pc);
	session_put(a.ps, pc.sess);
out:
	for (size_t i = 0; pc.r && i < a.ps->nsp; i++)
		page_reader_close(pc.r[i]);
	free(pc.r);
	free(pc.buf.buf);
	free(pc.live);
	free(pc.iov);
	free(pc.payload);
	if (pc.c) /* else xfer_conn_server() closed it */
		xfer_conn_close(pc.c);
	pthread_mutex_lock(&a.ps->lock);
	for (p = &a.ps->conns; *p != &pc; p = &(*p)->next)
		;
	*p = pc.next;
	a.ps->active--;
	pthread_cond_broadcast(&a.ps->cond);
	pthread_mutex_unlock(&a.ps->lock);
	return NULL;
}

static int start_conn(struct ps *ps, int fd)
{
	struct conn_arg *a = malloc(sizeof(*a));
	pthread_attr_t at;
	pthread_t t;
	int ret;

	if (!a) {
		close(fd);
		return -ENOMEM;
	}
	*a = (struct conn_arg){ .ps = ps, .fd = fd };
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_mutex_lock(&ps->lock);
	ps->active++;
	ps->st->connections++;
	pthread_mutex_unlock(&ps->lock);
	ret = pthread_create(&t, &at, conn_main, a);
	pthread_attr_destroy(&at);
	if (ret) {
		pr_err("can't start a thread for a connection: %s\n", strerror(ret));
		pthread_mutex_lock(&ps->lock);
		ps->active--;
		pthread_mutex_unlock(&ps->lock);
		close(fd);
		free(a);
		return -ret;
	}
	return 0;
}

int page_server_serve(const struct page_server_dir *pd, int lsk, const struct xfer_auth *auth,
		      const struct page_server_opts *o, struct ps_stats *st)
{
	struct ps ps = { .dir = pd->dir,
			 .auth = auth,
			 .o = o,
			 .st = st,
			 .dump_id = pd->dump_id,
			 .sp = pd->sp,
			 .nsp = pd->nsp };
	int ret = 0, outcome;

	pthread_mutex_init(&ps.lock, NULL);
	pthread_cond_init(&ps.cond, NULL);
	for (size_t i = 0; i < ps.nsp; i++)
		st->pages_total += ps.sp[i].size / XFER_PG;
	pr_info("serving %zu pages files of dump %08x from %s\n", ps.nsp, ps.dump_id,
		img_dir_path(pd->dir));
	while (!ret && !(o->stop && *o->stop)) {
		struct pollfd p = { .fd = lsk, .events = POLLIN };
		int n = poll(&p, 1, 200), fd;
		struct ps_stats now;

		sessions_expire(&ps, false);
		pthread_mutex_lock(&ps.lock);
		outcome = ps.outcome;
		now = *st;
		pthread_mutex_unlock(&ps.lock);
		if (o->progress)
			o->progress(o->progress_arg, &now);
		if (outcome)
			break; /* single: its session is over */
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			pr_perror("poll on the listening socket");
			ret = -errno;
			break;
		}
		if (!n)
			continue;
		fd = accept4(lsk, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EAGAIN)
				continue;
			pr_perror("accept");
			ret = -errno;
			break;
		}
		start_conn(&ps, fd);
	}
	/* the connections are cut: a restore served from here is then killed by its guardian */
	pthread_mutex_lock(&ps.lock);
	ps.stopping = true;
	for (struct ps_conn *c = ps.conns; c; c = c->next)
		shutdown(c->fd, SHUT_RDWR);
	while (ps.active)
		pthread_cond_wait(&ps.cond, &ps.lock);
	outcome = ps.outcome;
	pthread_mutex_unlock(&ps.lock);
	sessions_expire(&ps, true); /* those waiting for a reconnect that can't come now */
	pthread_cond_destroy(&ps.cond);
	pthread_mutex_destroy(&ps.lock);
	if (!ret && o->single && outcome != 1)
		ret = outcome ? -ECONNABORTED : -EINTR; /* ended before done / stopped */
	return ret;
}

int page_server_run(struct img_dir *d, int lsk, const struct xfer_auth *auth,
		    const struct page_server_opts *o, struct ps_stats *st)
{
	struct page_server_dir *pd;
	int ret = page_server_load(d, o, &pd);

	if (!ret)
		ret = page_server_serve(pd, lsk, auth, o, st);
	page_server_dir_free(pd);
	return ret;
}
