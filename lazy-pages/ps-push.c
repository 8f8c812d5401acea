/* ps-push: the PUSH role of the page server (page-server.h): a dump received into the server's
 * empty directory (lazy-pages/push-recv.h), then loaded as one found there would be and served
 * from then on (ps-int.h: the spaces are set once, under the lock). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_PREFIX "page-server: "
#include "criu-lite/log.h"
#include "criu-lite/stats.h"
#include "lazy-pages/ps-int.h"
#include "lazy-pages/push-recv.h"

/* A push that failed (what came is gone): said, to the sender too unless it gave up or went;
 * then what it still sends is read for a while, so that its frames in flight do not meet a
 * reset that would drop the reason. */
static void failed(struct ps_conn *pc, int ret, const struct img_err *err)
{
	XferMsg m = XFER_MSG__INIT;
	struct img_err e = { 0 };
	char text[XFER_MAX_TEXT];
	double until;
	bool stopping;

	pthread_mutex_lock(&pc->ps->lock);
	stopping = pc->ps->stopping;
	pthread_mutex_unlock(&pc->ps->lock);
	if (stopping) {
		pr_warn("a push from %s was cut: the server stops; what came was removed\n",
			xfer_conn_peer(pc->c));
		return;
	}
	if (ret == -ECONNABORTED || ret == -EPIPE) { /* the dump failed, or the dumper went */
		pr_warn("%s; what came was removed\n", err->msg);
		return;
	}
	snprintf(text, sizeof(text), "%s; what came was removed", err->msg);
	pr_err("%s\n", text);
	m.kind = XFER_KIND__XFER_ERROR;
	m.error = text;
	m.has_errno_val = true;
	m.errno_val = -ret;
	if (xfer_send(xfer_conn_writev, pc->c, &m, NULL, 0, xfer_conn_peer(pc->c), &e))
		return;
	xfer_conn_timeout(pc->c, PS_PUSH_LINGER_MS);
	until = stats_now() + PS_PUSH_LINGER_MS / 1000.0;
	while (stats_now() < until) {
		struct xfer_frame f;

		if (xfer_recv(xfer_conn_read, pc->c, pc->payload, &f, xfer_conn_peer(pc->c), &e))
			break;
		xfer_frame_free(&f);
	}
}

void ps_serve_push(struct ps_conn *pc, uint32_t dump_id)
{
	struct ps *ps = pc->ps;
	XferMsg done = XFER_MSG__INIT;
	struct push_files files = { 0 };
	struct img_err err = { 0 };
	struct ps_space *sp = NULL;
	double t0 = stats_now();
	char peer[128];
	size_t nsp = 0;
	int ret;

	snprintf(peer, sizeof(peer), "page client %s", xfer_conn_peer(pc->c));
	pr_info("%s pushes dump %08x into %s\n", peer, dump_id, img_dir_path(ps->dir));
	xfer_conn_timeout(pc->c, PS_PUSH_IO_MS);
	ret =
	    push_receive(xfer_conn_read, pc->c, peer, ps->dir, dump_id, pc->payload, &files, &err);
	if (!ret && (ret = ps_load_spaces(ps->dir, ps->o, files.names, files.n, &sp, &nsp))) {
		img_fail(&err, -ret, "dump %08x from %s can't be served (see above)", dump_id,
			 peer);
		push_files_discard(ps->dir, &files);
	}
	if (!ret) {
		done.kind = XFER_KIND__XFER_DONE;
		ret = xfer_send(xfer_conn_writev, pc->c, &done, NULL, 0, peer, &err);
		if (ret) { /* the sender can't know it is here: it resumes its tree */
			push_files_discard(ps->dir, &files);
			free(sp);
		}
	}
	pthread_mutex_lock(&ps->lock);
	ps->pushing = false;
	if (!ret) {
		ps->sp = ps->own_sp = sp;
		ps->nsp = nsp;
		ps->dump_id = dump_id;
		for (size_t i = 0; i < nsp; i++)
			ps->st->pages_total += sp[i].size / XFER_PG;
		ps->st->pushes++;
		ps->st->bytes_received += files.bytes;
	} else {
		ps->st->pushes_failed++;
	}
	pthread_mutex_unlock(&ps->lock);
	if (ret) {
		failed(pc, ret, &err);
		push_files_free(&files);
		return;
	}
	pr_info("received dump %08x from %s: %zu files, %llu bytes, in %.3f s; serving %zu pages "
		"files of it\n",
		dump_id, peer, files.n, (unsigned long long)files.bytes, stats_now() - t0, nsp);
	/* restores may read it now (a push may not come any more) */
	if (img_dir_lock(ps->dir, false, &err) < 0)
		pr_warn("%s: its lock stays exclusive: %s\n", img_dir_path(ps->dir), err.msg);
	push_files_free(&files);
}
