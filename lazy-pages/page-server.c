/* page-server: see page-server.h; the directory, the sessions, the connections and their HELLO
 * (the roles: ps-pages.c, ps-push.c; what they share: ps-int.h).
 *
 * The directory's pages files are the spaces (ps_space): their sizes are read once from the
 * pagemaps. A session is the FAULTS and STREAM connections of one lazy restore. */
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
#include "lazy-pages/ps-int.h"
#include "lazy-pages/xfer-msg.h"
#include "images/thread.h"

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

/* The directory's dump id, and every pagemap of it; or that it holds no image file at all. */
static int load(struct page_server_dir *ps)
{
	struct img_err err = { 0 };
	int ret = img_dir_dump_id(ps->dir, &ps->dump_id, &err);

	if (ret == -ENOENT && !ps->o->single) { /* no inventory.img: empty, or the rest of one */
		struct img_dir_usage u;

		ret = img_dir_usage(ps->dir, &u, &err);
		if (!ret && !u.files) {
			ps->empty = true;
			return 0;
		}
		if (!ret)
			ret = img_fail(&err, EEXIST,
				       "%s holds image files but no inventory.img (%s%s): what a "
				       "dump or a push that did not finish left; remove them, or "
				       "serve a whole dump",
				       img_dir_path(ps->dir), u.first,
				       u.files > 1 ? " and more" : "");
	}
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

bool page_server_dir_empty(const struct page_server_dir *pd)
{
	return pd->empty;
}

int ps_load_spaces(struct img_dir *d, const struct page_server_opts *o, char *const *names,
		   size_t n, struct ps_space **sp, size_t *nsp)
{
	struct page_server_dir pd = { .dir = d, .o = o };
	int ret = 0;

	for (size_t i = 0; i < n && !ret; i++) {
		const struct img_kind_desc *k;
		long id;

		k = img_kind_by_filename(names[i], &id);
		if (k && (k->kind == IMG_PAGEMAP || k->kind == IMG_SHMEM_PAGEMAP))
			ret = add_space(&pd, k->kind, id);
	}
	if (ret) {
		free(pd.sp);
		return ret;
	}
	qsort(pd.sp, pd.nsp, sizeof(*pd.sp), cmp_space);
	*sp = pd.sp;
	*nsp = pd.nsp;
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
	/* back: after its connections had all gone, or one more than its two (the client opened
	 * one again before this end saw the old one break) */
	if (s && (s->orphaned || s->joins >= 2))
		pr_info("session %016llx: %s is back\n", (unsigned long long)id, peer);
	if (s)
		s->orphaned = 0;
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
	if (s) {
		s->refs++;
		s->joins++;
	}
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

int ps_send_error(struct ps_conn *pc, int code, const char *fmt, ...)
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

/* ---- connections -------------------------------------------------------------------------- */

/* Why a connection is refused: code (an errno), its text into why. */
static int why_not(char *why, size_t len, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int why_not(char *why, size_t len, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return code;
}

/* A push may come (under ps->lock): 0 and ps->pushing set, or the errno of why not. */
static int may_push(struct ps *ps, const XferMsg *m, char *why, size_t len)
{
	const char *path = img_dir_path(ps->dir);

	if (ps->o->single)
		return why_not(why, len, ENOTSUP, "a migration's source takes no dump");
	if (ps->dump_id || !ps->receiving)
		return why_not(why, len, EEXIST,
			       "%s holds dump %08x: a page server takes a dump only into a "
			       "directory that holds none",
			       path, ps->dump_id);
	if (ps->pushing)
		return why_not(why, len, EBUSY, "another dump is being pushed into %s", path);
	if (!m->has_dump_id)
		return why_not(why, len, EPROTO, "a push must say the dump id of what it sends");
	ps->pushing = true;
	return 0;
}

/* A lazy restore's connection may be served (under ps->lock): 0, or the errno of why not. */
static int may_serve(struct ps *ps, const XferMsg *m, char *why, size_t len)
{
	if (!ps->dump_id)
		return why_not(why, len, ENOENT, "%s holds no dump (yet): nothing to serve",
			       img_dir_path(ps->dir));
	if (m->has_dump_id && m->dump_id != ps->dump_id)
		return why_not(why, len, ESTALE,
			       "the client restores dump %08x, %s holds dump %08x: not the same "
			       "images",
			       m->dump_id, img_dir_path(ps->dir), ps->dump_id);
	return 0;
}

static int hello(struct ps_conn *pc, XferRole *role, uint64_t *session, uint32_t *dump_id)
{
	struct ps *ps = pc->ps;
	XferMsg ok = XFER_MSG__INIT;
	struct img_err err = { 0 };
	struct xfer_frame f;
	char why[XFER_MAX_TEXT];
	int ret = xfer_recv(xfer_conn_read, pc->c, pc->payload, &f, xfer_conn_peer(pc->c), &err);

	if (ret) {
		pr_err("%s\n", ret == -ENODATA ? "a peer closed before its hello" : err.msg);
		return ret;
	}
	if (f.msg->kind != XFER_KIND__XFER_HELLO) {
		ret = ps_send_error(pc, EPROTO, "expected a hello, got message %d", f.msg->kind);
	} else if (f.msg->version != XFER_VERSION) {
		ret = ps_send_error(pc, EPROTONOSUPPORT,
				    "protocol version %u: this page server speaks version %u",
				    f.msg->version, XFER_VERSION);
	} else {
		pthread_mutex_lock(&ps->lock);
		ret = f.msg->role == XFER_ROLE__XFER_ROLE_PUSH
			  ? may_push(ps, f.msg, why, sizeof(why))
			  : may_serve(ps, f.msg, why, sizeof(why));
		pthread_mutex_unlock(&ps->lock);
		if (ret)
			ret = ps_send_error(pc, ret, "%s", why);
	}
	if (!ret) {
		*role = f.msg->role;
		*session = f.msg->session;
		*dump_id = f.msg->dump_id;
	}
	xfer_frame_free(&f);
	if (!ret && ps->o->single && *role != XFER_ROLE__XFER_ROLE_PUSH) {
		/* one destination: only its own connections */
		pthread_mutex_lock(&ps->lock);
		if (ps->busy && ps->busy_id != *session)
			ret = -EBUSY;
		ps->busy = true;
		ps->busy_id = ret ? ps->busy_id : *session;
		pthread_mutex_unlock(&ps->lock);
		if (ret)
			ret = ps_send_error(pc, EBUSY,
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
	ok.dump_id = *role == XFER_ROLE__XFER_ROLE_PUSH ? *dump_id : ps->dump_id;
	ret = xfer_send(xfer_conn_writev, pc->c, &ok, NULL, 0, xfer_conn_peer(pc->c), &err);
	if (ret)
		pr_err("%s\n", err.msg);
	if (ret && *role == XFER_ROLE__XFER_ROLE_PUSH) {
		pthread_mutex_lock(&ps->lock);
		ps->pushing = false;
		pthread_mutex_unlock(&ps->lock);
	}
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
	uint32_t dump_id = 0;
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
	if (!pc.payload) {
		pr_err("out of memory for a connection of %s\n", xfer_conn_peer(pc.c));
		goto out;
	}
	if (hello(&pc, &role, &session, &dump_id))
		goto out;
	if (role == XFER_ROLE__XFER_ROLE_PUSH) {
		ps_serve_push(&pc, dump_id);
		goto out;
	}
	/* the spaces are set for good once a restore may be served (ps-int.h) */
	pc.iov = calloc(XFER_MAX_PAGES, sizeof(*pc.iov));
	pc.r = calloc(a.ps->nsp ? a.ps->nsp : 1, sizeof(*pc.r));
	if (!pc.iov || !pc.r) {
		ps_send_error(&pc, ENOMEM, "out of memory for a connection");
		goto out;
	}
	pc.sess = session_get(a.ps, session, xfer_conn_peer(pc.c));
	if (!pc.sess) {
		ps_send_error(&pc, ENOMEM, "out of memory for a session");
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
		ps_serve_faults(&pc);
	else
		ps_serve_stream(&pc);
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
	ret = thread_start_quiet(&t, &at, conn_main, a);
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
			 .nsp = pd->nsp,
			 .receiving = pd->empty };
	int ret = 0, outcome;

	pthread_mutex_init(&ps.lock, NULL);
	pthread_cond_init(&ps.cond, NULL);
	for (size_t i = 0; i < ps.nsp; i++)
		st->pages_total += ps.sp[i].size / XFER_PG;
	if (pd->empty)
		pr_info("%s holds no dump: waiting for one to be pushed into it (dump "
			"--page-server)\n",
			img_dir_path(pd->dir));
	else
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
	free(ps.own_sp);
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
