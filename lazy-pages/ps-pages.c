/* ps-pages: the FAULTS and STREAM roles of the page server (page-server.h), for the sessions of
 * lazy restores (ps-int.h).
 *
 * Each connection thread opens readers of its own (page_reader_read() is not thread safe, and a
 * reader's buffer is what a connection sends from). A session (the FAULTS and STREAM connections
 * of one restore, paired by the client's session id) keeps, per space, which chunks were sent on
 * either connection, and where the last fault request ended: the stream goes on from there. Both
 * connections send whole chunks only, so the client can check every batch against its pagemap's
 * chunk checksums as it comes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_PREFIX "page-server: "
#include "criu-lite/log.h"
#include "images/pagecrc.h"
#include "lazy-pages/ps-int.h"

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
		return ps_send_error(pc, ENOENT, "no pages file for %s %u in %s",
				     m->space == XFER_SPACE__XFER_SPACE_SHMEM ? "shared object"
									      : "task",
				     m->id, img_dir_path(ps->dir));
	if (m->addr > ps->sp[i].size || len > ps->sp[i].size - m->addr)
		return ps_send_error(
		    pc, EINVAL, "request for bytes %llu-%llu of a %llu-byte pages file",
		    (unsigned long long)m->addr, (unsigned long long)(m->addr + len),
		    (unsigned long long)ps->sp[i].size);
	ret = read_space(pc, (size_t)i, m->addr, len, &data);
	if (ret)
		return ps_send_error(pc, -ret,
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

int ps_serve_faults(struct ps_conn *pc)
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
			ret = ps_send_error(pc, EPROTO,
					    "unexpected message %d on a faults connection",
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

int ps_serve_stream(struct ps_conn *pc)
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
			return ps_send_error(pc, -ret, "can't read pages (see the server's log)");
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
