/* page-source-remote: the page source of a page server on another host (page-source.h,
 * proto/pagexfer.proto).
 *
 * The local image directory holds every image but the pages files: the pagemaps say where each
 * page lies in its pages file and what each 32 KiB chunk of that file sums to. Two connections
 * go to the server, one session: FAULTS, on which get() and fetch() ask for the chunks they
 * need and wait for them (nothing else travels there, so they never wait behind a background
 * batch), and STREAM, on which the server sends every chunk unasked, read by a thread of ours.
 * Whatever comes, on either, is checked chunk by chunk against the pagemap before it is kept in
 * the space's cache (an anonymous mapping as large as its pages file), and a chunk is kept once:
 * a kept chunk is never written again, so get() hands out pointers into the cache. While a fault
 * loop runs, it gives a sink (page-source.h): the stream thread hands each chunk it brings
 * straight to it, from the buffer it was received in, and keeps only what the sink could not
 * place everywhere (the cache is fresh memory, whose first touch costs more here than the copy:
 * bench/README.md). What the stream brings and keeps is queued for arrived() (the fault loop
 * copies it in as it comes, in the order it comes) and announced on an eventfd. If the stream
 * connection breaks, the faults connection still brings everything (prefetch then asks for it).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LOG_PREFIX "lazy-pages: "
#include "criu-lite/log.h"
#include "criu-lite/stats.h"
#include "images/pagecrc.h"
#include "lazy-pages/lazy-mm.h"
#include "lazy-pages/page-source.h"
#include "lazy-pages/psr-int.h"
#include "lazy-pages/xfer-conn.h"
#include "lazy-pages/xfer-msg.h"
#include "images/thread.h"

struct rspace *find_space(struct remote_src *r, enum img_kind kind, uint32_t id)
{
	for (size_t i = 0; i < r->nsp; i++)
		if (r->sp[i].kind == kind && r->sp[i].id == id)
			return &r->sp[i];
	return NULL;
}

const char *space_name(const struct rspace *sp)
{
	return page_reader_pages_name(sp->meta);
}

/* ---- keeping chunks ----------------------------------------------------------------------- */

int push_arrival(struct remote_src *r, const struct rspace *sp, uint64_t off, uint64_t len)
{
	if (r->qn == r->qcap) {
		size_t cap = r->qcap ? r->qcap * 2 : 256;
		struct arrival *q = realloc(r->q, cap * sizeof(*q));

		if (!q)
			return -ENOMEM;
		r->q = q;
		r->qcap = cap;
	}
	r->q[r->qn++] = (struct arrival){ (uint32_t)(sp - r->sp), off, len };
	return 0;
}

/* The chunks of [off, off + len) of sp (whole ones; the file's short last one counts) that are
 * not kept yet, from buf (which holds those bytes), checked and kept (under r->lock); with
 * queue, the ranges kept go to the queue. 0 or -EBADMSG (named), -ENOMEM. */
int keep(struct remote_src *r, struct rspace *sp, const uint8_t *buf, uint64_t off, uint64_t len,
	 bool queue)
{
	uint64_t run_a = 0, run_len = 0;
	int ret = 0;

	for (uint64_t c = off; c < off + len && !ret; c += PAGECRC_CHUNK) {
		uint64_t n = off + len - c < PAGECRC_CHUNK ? off + len - c : PAGECRC_CHUNK;
		struct img_err err = { 0 };

		if (page_reader_verified(sp->meta, c)) {
			if (queue && run_len)
				ret = push_arrival(r, sp, run_a, run_len);
			run_len = 0;
			continue;
		}
		ret = page_reader_take(sp->meta, buf + (c - off), c, n, &err);
		if (ret) {
			pr_err("from %s: %s\n", r->peer, err.msg);
			return ret;
		}
		memcpy(sp->cache + c, buf + (c - off), n);
		if (!run_len)
			run_a = c;
		run_len += n;
	}
	if (!ret && queue && run_len)
		ret = push_arrival(r, sp, run_a, run_len);
	return ret;
}

/* The space of a checked PAGES frame, whose range must be whole chunks of its pages file. */
int frame_range(struct remote_src *r, const XferMsg *m, struct rspace **sp)
{
	enum img_kind kind =
	    m->space == XFER_SPACE__XFER_SPACE_SHMEM ? IMG_SHMEM_PAGEMAP : IMG_PAGEMAP;
	uint64_t len = (uint64_t)m->nr_pages * XFER_PG;

	*sp = find_space(r, kind, m->id);
	if (!*sp) {
		pr_err("%s sent pages of %s %u, which this dump does not have\n", r->peer,
		       kind == IMG_PAGEMAP ? "task" : "shared object", m->id);
		return -EBADMSG;
	}
	if (m->addr > (*sp)->size || len > (*sp)->size - m->addr || (m->addr % PAGECRC_CHUNK) ||
	    (len % PAGECRC_CHUNK && m->addr + len != (*sp)->size)) {
		pr_err("%s sent bytes %llu-%llu of %s (%llu bytes): not whole chunks of it\n",
		       r->peer, (unsigned long long)m->addr, (unsigned long long)(m->addr + len),
		       space_name(*sp), (unsigned long long)(*sp)->size);
		return -EBADMSG;
	}
	return 0;
}

/* ---- broken connections ------------------------------------------------------------------ */

static int open_conn(struct remote_src *r, XferRole role, void *buf, struct xfer_conn **out);

/* A broken connection (not a refusal, not a damaged frame): worth a reconnect. */
bool lost(int ret)
{
	return ret == -EPIPE || ret == -ECONNRESET || ret == -ECONNABORTED || ret == -ENODATA ||
	       ret == -ETIMEDOUT || ret == -ENETUNREACH || ret == -EHOSTUNREACH ||
	       ret == -ENOTCONN || ret == -EPROTO || ret == -EIO;
}

/* *c broke: a new connection in role, same session, within the reconnect timeout (the
 * server keeps the session that long); 0, or the last error. */
int reconnect(struct remote_src *r, XferRole role, void *buf, struct xfer_conn **c, const char *why)
{
	double end = stats_now() + r->o.reconnect_s;
	const char *name = role == XFER_ROLE__XFER_ROLE_FAULTS ? "faults" : "stream";
	struct xfer_conn *n = NULL;
	int ret = -ETIMEDOUT;

	pr_warn("the %s connection to %s broke (%s): reconnecting, for up to %d s\n", name, r->peer,
		why, r->o.reconnect_s);
	if (*c && role == XFER_ROLE__XFER_ROLE_FAULTS) {
		xfer_conn_close(*c);
		*c = NULL;
	}
	while (!atomic_load(&r->closing) && stats_now() < end) {
		ret = open_conn(r, role, buf, &n);
		if (!ret)
			break;
		nanosleep(&(struct timespec){ 0, 100 * 1000 * 1000 }, NULL);
	}
	if (ret)
		return ret;
	if (role == XFER_ROLE__XFER_ROLE_STREAM) {
		xfer_conn_timeout(n, 0); /* as the first: it may pause while faults are served */
		pthread_mutex_lock(&r->lock);
		xfer_conn_close(r->stream);
		r->stream = n;
		pthread_mutex_unlock(&r->lock);
	} else {
		*c = n;
	}
	pthread_mutex_lock(&r->lock);
	r->st.reconnects++;
	pthread_mutex_unlock(&r->lock);
	pr_info("the %s connection to %s is back\n", name, r->peer);
	return 0;
}

/* ---- the faults connection ---------------------------------------------------------------- */

/* ensure() once, on the faults connection as it is: *broken when that is what failed. With
 * direct (one request's worth, no chunk of it kept): the reply is checked, not kept, and
 * *direct points at [off, off + len) in the faults connection's buffer (a fault's pages go
 * from there into the task: the cache's first touch costs more than the rest of a fault). */
static int ensure_once(struct remote_src *r, struct rspace *sp, uint64_t off, uint64_t len,
		       uint64_t *upto, bool *broken, const void **direct)
{
	uint64_t a = off / PAGECRC_CHUNK * PAGECRC_CHUNK, b, reqs[64][2];
	XferMsg m = XFER_MSG__INIT;
	struct img_err err = { 0 };
	double t0 = stats_now();
	int nreq = 0, ret = 0;

	*broken = false;
	*upto = off + len;

	pthread_mutex_lock(&r->lock);
	while (a < off + len && page_reader_verified(sp->meta, a))
		a += PAGECRC_CHUNK;
	b = a;
	for (uint64_t c = a; c < off + len; c += PAGECRC_CHUNK)
		if (!page_reader_verified(sp->meta, c))
			b = c + PAGECRC_CHUNK;
	pthread_mutex_unlock(&r->lock);
	if (a >= off + len)
		return 0;
	if (b > sp->size)
		b = sp->size;
	/* pipelined: every request first, then the replies */
	m.kind = XFER_KIND__XFER_PAGES_REQ;
	m.has_req_id = m.has_space = m.has_id = m.has_addr = m.has_nr_pages = true;
	m.space =
	    sp->kind == IMG_PAGEMAP ? XFER_SPACE__XFER_SPACE_TASK : XFER_SPACE__XFER_SPACE_SHMEM;
	m.id = sp->id;
	for (uint64_t at = a; at < b && !ret; at += XFER_MAX_PAYLOAD) {
		uint64_t n = b - at < XFER_MAX_PAYLOAD ? b - at : XFER_MAX_PAYLOAD;

		if (nreq == 64) { /* more than 256 MiB at once: the caller asks again */
			b = at;
			break;
		}
		m.req_id = ++r->next_req;
		m.addr = at;
		m.nr_pages = (uint32_t)(n / XFER_PG);
		reqs[nreq][0] = m.req_id;
		reqs[nreq++][1] = at;
		ret = xfer_send(xfer_conn_writev, r->faults, &m, NULL, 0, r->peer, &err);
		*broken = ret && lost(ret);
	}
	for (int i = 0; i < nreq && !ret; i++) {
		struct xfer_frame f;
		struct rspace *got;

		ret = xfer_recv(xfer_conn_read, r->faults, r->fbuf, &f, r->peer, &err);
		*broken = ret && lost(ret);
		if (ret)
			break;
		if (f.msg->kind == XFER_KIND__XFER_ERROR) {
			pr_err("%s: %s\n", r->peer, f.msg->error);
			ret = f.msg->has_errno_val && f.msg->errno_val > 0 ? -f.msg->errno_val
									   : -EPROTO;
		} else if (f.msg->kind != XFER_KIND__XFER_PAGES || f.msg->req_id != reqs[i][0] ||
			   f.msg->addr != reqs[i][1]) {
			pr_err("%s answered request %llu with something else (message %d, "
			       "request %llu)\n",
			       r->peer, (unsigned long long)reqs[i][0], f.msg->kind,
			       (unsigned long long)f.msg->req_id);
			ret = -EPROTO;
		} else if (!(ret = frame_range(r, f.msg, &got)) && got != sp) {
			pr_err("%s answered with pages of another image\n", r->peer);
			ret = -EPROTO;
		}
		if (!ret && direct) {
			uint64_t n = (uint64_t)f.msg->nr_pages * XFER_PG;

			xfer_pages_unpack(f.msg, r->fbuf, r->funpack);
			pthread_mutex_lock(&r->lock);
			ret = page_reader_take(sp->meta, r->funpack, f.msg->addr, n, &err);
			for (uint64_t x = f.msg->addr; x < f.msg->addr + n; x += PAGECRC_CHUNK)
				page_reader_forget(sp->meta, x);
			*direct = (const uint8_t *)r->funpack + (off - f.msg->addr);
			r->st.requests++;
			r->st.pages_fault += f.msg->nr_pages;
			r->st.bytes += f.payload_len;
			pthread_mutex_unlock(&r->lock);
		} else if (!ret) {
			xfer_pages_unpack(f.msg, r->fbuf, r->funpack);
			pthread_mutex_lock(&r->lock);
			ret = keep(r, sp, r->funpack, f.msg->addr,
				   (uint64_t)f.msg->nr_pages * XFER_PG, false);
			r->st.requests++;
			r->st.pages_fault += f.msg->nr_pages;
			r->st.bytes += f.payload_len;
			pthread_mutex_unlock(&r->lock);
		}
		xfer_frame_free(&f);
	}
	if (ret && !*broken && err.msg[0])
		pr_err("%s\n", err.msg);
	pthread_mutex_lock(&r->lock);
	r->st.wait_s += stats_now() - t0;
	pthread_mutex_unlock(&r->lock);
	if (!ret)
		*upto = b;
	return ret;
}

/* The chunks of [off, off + len) of sp not kept yet, asked for and kept: requests are
 * idempotent, so after a reconnect those in flight are simply asked for again. */
static int ensure(struct remote_src *r, struct rspace *sp, uint64_t off, uint64_t len,
		  const void **direct)
{
	while (len) {
		uint64_t upto;
		bool broken;
		int ret = ensure_once(r, sp, off, len, &upto, &broken, direct);

		if (ret && broken) {
			char why[64];

			snprintf(why, sizeof(why), "%s", strerror(-ret));
			if (reconnect(r, XFER_ROLE__XFER_ROLE_FAULTS, r->fbuf, &r->faults, why)) {
				pr_err("%s: the faults connection did not come back\n", r->peer);
				return ret;
			}
			continue;
		}
		if (ret)
			return ret;
		len -= upto - off < len ? upto - off : len;
		off = upto;
	}
	return 0;
}

/* ---- the page source ---------------------------------------------------------------------- */

static int remote_runs(struct page_source *s, enum img_kind kind, uint32_t id,
		       const struct page_run **runs, size_t *n)
{
	struct rspace *sp = find_space((struct remote_src *)s, kind, id);

	if (!sp) {
		pr_err("no pagemap-%s%u.img in the image directory\n",
		       kind == IMG_SHMEM_PAGEMAP ? "shmem-" : "", id);
		return -ENOENT;
	}
	*runs = page_reader_runs(sp->meta);
	*n = page_reader_nr_runs(sp->meta);
	return 0;
}

static int remote_fetch(struct page_source *s, enum img_kind kind, uint32_t id, uint64_t off,
			uint64_t len, const void **data)
{
	struct remote_src *r = (struct remote_src *)s;
	struct rspace *sp = find_space(r, kind, id);
	int ret;

	if (!sp || off > sp->size || len > sp->size - off) {
		pr_err("bytes %llu-%llu of the pages of %s %u: not in the images\n",
		       (unsigned long long)off, (unsigned long long)(off + len),
		       kind == IMG_PAGEMAP ? "task" : "shared object", id);
		return -ENOENT;
	}
	ret = ensure(r, sp, off, len, NULL);
	if (!ret)
		*data = sp->cache + off;
	return ret;
}

/* None of the chunks holding [off, off + len) of sp is kept, and one reply brings them all. */
static bool none_kept(struct remote_src *r, const struct rspace *sp, uint64_t off, uint64_t len)
{
	uint64_t a = off / PAGECRC_CHUNK * PAGECRC_CHUNK;
	bool none = off + len - a <= XFER_MAX_PAYLOAD;

	pthread_mutex_lock(&r->lock);
	for (uint64_t c = a; c < off + len && none; c += PAGECRC_CHUNK)
		none = !page_reader_verified(sp->meta, c);
	pthread_mutex_unlock(&r->lock);
	return none;
}

static int remote_get(struct page_source *s, enum img_kind kind, uint32_t id, uint64_t addr,
		      uint64_t nr, void *buf, const void **data)
{
	struct rspace *sp = find_space((struct remote_src *)s, kind, id);
	uint64_t off;
	int ret = page_source_offset(sp ? sp->meta : NULL, kind, id, addr, nr, &off);

	(void)buf;
	if (ret)
		return ret;
	if (none_kept((struct remote_src *)s, sp, off, nr * LAZY_PG)) {
		*data = NULL;
		ret = ensure((struct remote_src *)s, sp, off, nr * LAZY_PG, data);
		if (!ret && !*data)
			ret = -EPROTO; /* can't be: ensure() had chunks to ask for */
		return ret;
	}
	return remote_fetch(s, kind, id, off, nr * LAZY_PG, data);
}

static int remote_arrived(struct page_source *s, enum img_kind *kind, uint32_t *id, uint64_t *off,
			  uint64_t *len)
{
	struct remote_src *r = (struct remote_src *)s;
	uint64_t v;
	int got = 0;

	if (read(s->notify_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		pr_perror("eventfd");
	pthread_mutex_lock(&r->lock);
	if (r->qhead < r->qn) {
		struct arrival a = r->q[r->qhead++];

		*kind = r->sp[a.sp].kind;
		*id = r->sp[a.sp].id;
		*off = a.off;
		*len = a.len;
		got = 1;
		if (r->qhead < r->qn)
			notify(r); /* more: the loop comes back */
	}
	if (r->qhead == r->qn)
		r->qhead = r->qn = 0;
	pthread_mutex_unlock(&r->lock);
	return got;
}

static bool remote_streaming(struct page_source *s)
{
	struct remote_src *r = (struct remote_src *)s;
	bool on;

	pthread_mutex_lock(&r->lock);
	on = !r->stream_end && !r->stream_lost;
	pthread_mutex_unlock(&r->lock);
	return on;
}

static void remote_serve_lock(struct page_source *s, bool on, bool urgent)
{
	struct remote_src *r = (struct remote_src *)s;

	if (!on) {
		pthread_mutex_unlock(&r->serve);
		return;
	}
	if (urgent)
		atomic_store(&r->urgent, true);
	pthread_mutex_lock(&r->serve);
	if (urgent)
		atomic_store(&r->urgent, false);
}

static void remote_set_sink(struct page_source *s, const struct page_sink *sink)
{
	((struct remote_src *)s)->sink = sink;
}

static void remote_close(struct page_source *s)
{
	struct remote_src *r = (struct remote_src *)s;

	atomic_store(&r->closing, true);
	pthread_mutex_lock(&r->lock);
	if (r->stream)
		shutdown(xfer_conn_fd(r->stream), SHUT_RDWR);
	pthread_mutex_unlock(&r->lock);
	if (r->rx_started)
		pthread_join(r->rx, NULL);
	if (r->stream)
		xfer_conn_close(r->stream);
	if (r->faults)
		xfer_conn_close(r->faults);
	for (size_t i = 0; i < r->nsp; i++) {
		if (r->sp[i].cache)
			munmap(r->sp[i].cache, r->sp[i].size);
		page_reader_close(r->sp[i].meta);
	}
	if (s->notify_fd >= 0)
		close(s->notify_fd);
	free(r->sp);
	free(r->q);
	free(r->fbuf);
	free(r->funpack);
	free(r->sbuf);
	free(r->sunpack);
	pthread_mutex_destroy(&r->lock);
	pthread_mutex_destroy(&r->serve);
	free(r);
}

static const struct page_source_ops remote_ops = {
	.runs = remote_runs,
	.get = remote_get,
	.fetch = remote_fetch,
	.arrived = remote_arrived,
	.streaming = remote_streaming,
	.serve_lock = remote_serve_lock,
	.set_sink = remote_set_sink,
	.close = remote_close,
};

/* ---- setting up --------------------------------------------------------------------------- */

static int add_space(void *arg, enum img_kind kind, long id)
{
	struct remote_src *r = arg;
	struct img_err err = { 0 };
	struct rspace *v = realloc(r->sp, (r->nsp + 1) * sizeof(*v)), *sp;
	int ret;

	if (!v)
		return -ENOMEM;
	r->sp = v;
	sp = &v[r->nsp];
	*sp = (struct rspace){ .kind = kind, .id = (uint32_t)id };
	ret = page_reader_open_meta(r->dir, kind, id, &sp->meta, &err);
	if (ret) {
		pr_err("%s\n", err.msg);
		return ret;
	}
	if (!page_reader_chunked(sp->meta)) {
		pr_err("%s has no chunk checksums (a dump by an older criu-lite): its pages can't "
		       "be checked as they come, so they can't come from a page server\n",
		       space_name(sp));
		page_reader_close(sp->meta);
		return -ENOTSUP;
	}
	sp->size = page_reader_size(sp->meta);
	if (sp->size) {
		sp->cache = mmap(NULL, sp->size, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (sp->cache == MAP_FAILED) {
			pr_perror("mmap of %llu bytes for %s", (unsigned long long)sp->size,
				  space_name(sp));
			page_reader_close(sp->meta);
			return -errno;
		}
		/* filled once, front to back: 4 KiB first touches cost a fault and a clear each
		 * (bench/README.md: 1 GiB all in 5.5-11 s -> 2.7-4.5 s here); a hint, so its
		 * failure changes nothing */
		madvise(sp->cache, sp->size, MADV_HUGEPAGE);
	}
	r->nsp++;
	return 0;
}

/* The dump id the server must hold, and every pagemap of the directory. */
static int load(struct remote_src *r)
{
	struct img_err err = { 0 };
	int ret = img_dir_dump_id(r->dir, &r->dump_id, &err);

	if (!ret)
		ret = page_images_each(r->dir, add_space, r, &err);
	if (ret && err.msg[0])
		pr_err("%s\n", err.msg);
	return ret;
}

/* A connection in role, its hello answered (buf: XFER_MAX_PAYLOAD bytes of the caller's). */
static int open_conn(struct remote_src *r, XferRole role, void *buf, struct xfer_conn **out)
{
	XferMsg m = XFER_MSG__INIT;
	struct img_err err = { 0 };
	struct xfer_frame f;
	int ret = xfer_connect(r->o.address, r->o.port, r->o.auth, CONNECT_MS, out, &err);

	if (ret) {
		pr_err("%s\n", err.msg);
		return ret;
	}
	xfer_conn_timeout(*out, IO_MS);
	m.kind = XFER_KIND__XFER_HELLO;
	m.has_version = m.has_role = m.has_session = m.has_dump_id = true;
	m.version = XFER_VERSION;
	m.role = role;
	m.session = r->session;
	m.dump_id = r->dump_id;
	ret = xfer_send(xfer_conn_writev, *out, &m, NULL, 0, r->peer, &err);
	if (!ret)
		ret = xfer_recv(xfer_conn_read, *out, buf, &f, r->peer, &err);
	if (ret) { /* the transport's own words first: it knows a TLS peer from garbage */
		pr_err("%s\n", xfer_conn_error(*out)[0] ? xfer_conn_error(*out) : err.msg);
		xfer_conn_close(*out);
		*out = NULL;
		return ret;
	}
	if (f.msg->kind == XFER_KIND__XFER_ERROR) {
		pr_err("%s refused us: %s\n", r->peer, f.msg->error);
		ret = -ECONNREFUSED;
	} else if (f.msg->kind != XFER_KIND__XFER_HELLO_OK) {
		pr_err("%s answered our hello with message %d\n", r->peer, f.msg->kind);
		ret = -EPROTO;
	}
	xfer_frame_free(&f);
	if (ret) {
		xfer_conn_close(*out);
		*out = NULL;
	}
	return ret;
}

int page_source_remote(struct img_dir *d, const struct remote_opts *o, struct page_source **out)
{
	struct remote_src *r = calloc(1, sizeof(*r));
	int ret;

	if (!r)
		return -ENOMEM;
	r->base.ops = &remote_ops;
	r->base.notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	r->dir = d;
	r->o = *o;
	pthread_mutex_init(&r->lock, NULL);
	pthread_mutex_init(&r->serve, NULL);
	snprintf(r->peer, sizeof(r->peer), "page server %s%s%s:%u",
		 strchr(o->address, ':') ? "[" : "", o->address, strchr(o->address, ':') ? "]" : "",
		 o->port);
	r->fbuf = malloc(XFER_MAX_PAYLOAD);
	r->funpack = malloc(XFER_MAX_PAYLOAD);
	r->sbuf = malloc(XFER_MAX_PAYLOAD);
	r->sunpack = malloc(XFER_MAX_PAYLOAD);
	if (r->base.notify_fd < 0 || !r->fbuf || !r->funpack || !r->sbuf || !r->sunpack) {
		ret = r->base.notify_fd < 0 ? -errno : -ENOMEM;
		pr_err("can't set up the page source: %s\n", strerror(-ret));
		goto fail;
	}
	if (getrandom(&r->session, sizeof(r->session), 0) != sizeof(r->session)) {
		ret = -errno;
		pr_perror("getrandom");
		goto fail;
	}
	ret = load(r);
	if (!ret)
		ret = open_conn(r, XFER_ROLE__XFER_ROLE_FAULTS, r->fbuf, &r->faults);
	if (!ret)
		ret = open_conn(r, XFER_ROLE__XFER_ROLE_STREAM, r->sbuf, &r->stream);
	if (ret)
		goto fail;
	xfer_conn_timeout(r->stream, 0); /* the stream may pause while faults are served */
	ret = -thread_start_quiet(&r->rx, NULL, rx_main, r);
	if (ret) {
		pr_err("can't start the stream thread: %s\n", strerror(-ret));
		goto fail;
	}
	r->rx_started = true;
	pr_info("pages of %zu images from %s (dump %08x, session %016llx)\n", r->nsp, r->peer,
		r->dump_id, (unsigned long long)r->session);
	*out = &r->base;
	return 0;
fail:
	remote_close(&r->base);
	return ret;
}

int page_source_remote_done(struct page_source *s)
{
	struct remote_src *r = (struct remote_src *)s;
	XferMsg m = XFER_MSG__INIT;
	struct img_err err = { 0 };
	struct xfer_frame f;
	int ret;

	m.kind = XFER_KIND__XFER_DONE;
	for (;;) { /* a migration's source resumes its tree unless it hears this: try hard */
		ret = xfer_send(xfer_conn_writev, r->faults, &m, NULL, 0, r->peer, &err);
		if (!ret)
			ret = xfer_recv(xfer_conn_read, r->faults, r->fbuf, &f, r->peer, &err);
		if (!ret || !lost(ret) ||
		    reconnect(r, XFER_ROLE__XFER_ROLE_FAULTS, r->fbuf, &r->faults, err.msg))
			break;
		err = (struct img_err){ 0 };
	}
	if (ret) {
		pr_err("%s; %s did not hear that every page is here: a migration's source then "
		       "resumes its tree, while this one runs too: check which to keep\n",
		       err.msg[0] ? err.msg : strerror(-ret), r->peer);
		return ret;
	}
	if (f.msg->kind != XFER_KIND__XFER_DONE) {
		pr_err("%s answered DONE with message %d\n", r->peer, f.msg->kind);
		ret = -EPROTO;
	}
	xfer_frame_free(&f);
	return ret;
}

void page_source_remote_stats(struct page_source *s, struct remote_stats *st)
{
	struct remote_src *r = (struct remote_src *)s;

	pthread_mutex_lock(&r->lock);
	*st = r->st;
	pthread_mutex_unlock(&r->lock);
}
