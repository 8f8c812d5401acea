/* page-source-remote-rx: the stream thread of the remote page source (page-source-remote.c):
 * every frame the server sends unasked, checked chunk by chunk, handed to the fault loop's sink
 * or kept and queued (psr-int.h). */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#define LOG_PREFIX "lazy-pages: "
#include "criu-lite/log.h"
#include "criu-lite/stats.h"
#include "images/pagecrc.h"
#include "lazy-pages/psr-int.h"

/* The stream hands the sink at most this much at a time, and steps aside between two pieces
 * when the fault loop wants the serve lock for a fault (faults jump the queue). */
#define PIECE	      (2 * PAGECRC_CHUNK)
#define STEP_ASIDE_US 500

static void serve_release(struct remote_src *r)
{
	double end;

	pthread_mutex_unlock(&r->serve);
	if (!atomic_load(&r->urgent))
		return;
	end = stats_now() + STEP_ASIDE_US / 1e6;
	while (atomic_load(&r->urgent) && stats_now() < end)
		sched_yield();
}

/* A stream frame's bytes [off, off + len) of sp, in buf. Without a sink, the chunks not kept
 * yet are kept and queued. With one, a piece at a time under r->serve (so the fault loop never
 * sees a chunk checked but not in the cache): the chunks not kept yet are checked and handed to
 * it, which copies them into the tasks from buf; what it could not place everywhere is kept and
 * queued as without a sink, the rest is checked again if it ever comes again. *wake: the loop
 * should look. 0, -EBADMSG (named), -ENOMEM. */
static int deliver(struct remote_src *r, struct rspace *sp, const uint8_t *buf, uint64_t off,
		   uint64_t len, bool *wake)
{
	uint64_t end = off + len, c = off;
	int ret = 0;

	*wake = false;
	while (c < end && !ret) {
		struct img_err err = { 0 };
		uint64_t a, b;
		bool all = false, w = false;

		pthread_mutex_lock(&r->serve);
		pthread_mutex_lock(&r->lock);
		if (!r->sink) {
			ret = keep(r, sp, buf + (c - off), c, end - c, true);
			pthread_mutex_unlock(&r->lock);
			pthread_mutex_unlock(&r->serve);
			*wake = true;
			return ret;
		}
		while (c < end && page_reader_verified(sp->meta, c))
			c += PAGECRC_CHUNK;
		for (a = b = c; b < end && b - a < PIECE && !page_reader_verified(sp->meta, b);
		     b += PAGECRC_CHUNK)
			;
		if (b > end)
			b = end; /* the file's short last chunk */
		if (a < b && (ret = page_reader_take(sp->meta, buf + (a - off), a, b - a, &err))) {
			pr_err("from %s: %s\n", r->peer, err.msg);
			for (uint64_t x = a; x < b; x += PAGECRC_CHUNK) /* none is anywhere */
				page_reader_forget(sp->meta, x);
		}
		pthread_mutex_unlock(&r->lock);
		if (a < b && !ret) {
			r->sink->deliver(r->sink->arg, sp->kind, sp->id, a, b - a, buf + (a - off),
					 &all, &w);
			pthread_mutex_lock(&r->lock);
			if (all) {
				for (uint64_t x = a; x < b; x += PAGECRC_CHUNK)
					page_reader_forget(sp->meta, x);
			} else {
				memcpy(sp->cache + a, buf + (a - off), b - a);
				ret = push_arrival(r, sp, a, b - a);
				w = true;
			}
			pthread_mutex_unlock(&r->lock);
		}
		serve_release(r);
		*wake |= w;
		c = b;
	}
	return ret;
}

/* ---- the stream --------------------------------------------------------------------------- */

void notify(struct remote_src *r)
{
	uint64_t one = 1;

	if (write(r->base.notify_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_perror("eventfd");
}

void *rx_main(void *arg)
{
	struct remote_src *r = arg;

	for (;;) {
		struct img_err err = { 0 };
		struct xfer_frame f;
		struct rspace *sp;
		int ret = xfer_recv(xfer_conn_read, r->stream, r->sbuf, &f, r->peer, &err);

		if (ret && lost(ret) && !atomic_load(&r->closing) &&
		    !reconnect(r, XFER_ROLE__XFER_ROLE_STREAM, r->sbuf, &r->stream,
			       err.msg[0] ? err.msg : xfer_conn_error(r->stream)))
			continue; /* the server streams again what it had not (all of it) */
		if (ret) {
			if (!atomic_load(&r->closing))
				pr_warn("the stream from %s broke (%s): pages come on the faults "
					"connection from now on\n",
					r->peer, err.msg[0] ? err.msg : xfer_conn_error(r->stream));
			pthread_mutex_lock(&r->lock);
			r->stream_lost = true;
			pthread_mutex_unlock(&r->lock);
			notify(r);
			return NULL;
		}
		if (f.msg->kind == XFER_KIND__XFER_STREAM_END) {
			xfer_frame_free(&f);
			pthread_mutex_lock(&r->lock);
			r->stream_end = true;
			pthread_mutex_unlock(&r->lock);
			notify(r);
			return NULL;
		}
		if (f.msg->kind == XFER_KIND__XFER_ERROR) {
			pr_err("%s: %s\n", r->peer, f.msg->error);
			ret = -EPROTO;
		} else if (f.msg->kind != XFER_KIND__XFER_PAGES) {
			pr_err("%s sent message %d on the stream\n", r->peer, f.msg->kind);
			ret = -EPROTO;
		} else {
			ret = frame_range(r, f.msg, &sp);
		}
		if (!ret) {
			uint64_t len = (uint64_t)f.msg->nr_pages * XFER_PG;
			bool wake;

			xfer_pages_unpack(f.msg, r->sbuf, r->sunpack);
			ret = deliver(r, sp, r->sunpack, f.msg->addr, len, &wake);
			pthread_mutex_lock(&r->lock);
			r->st.pages_stream += f.msg->nr_pages;
			r->st.bytes += f.payload_len;
			pthread_mutex_unlock(&r->lock);
			if (wake)
				notify(r);
		}
		xfer_frame_free(&f);
		if (ret) { /* a damaged batch: the faults connection asks for it again */
			pthread_mutex_lock(&r->lock);
			r->stream_lost = true;
			pthread_mutex_unlock(&r->lock);
			notify(r);
			return NULL;
		}
	}
}
