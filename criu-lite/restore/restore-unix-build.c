/* restore-unix-build: create every unix socket of the table (see restore-unix.h).
 *
 * Order, each step over the whole table:
 * 1. listeners: bound, listening with their backlog;
 * 2. connected stream and seqpacket pairs. A pair whose ends have no name is a
 *    socketpair(). An end that carries a name was accepted from a listener (or
 *    bound it itself): its partner connects to the listener of the table that
 *    owns the name, or to a temporary listener bound to it (the dumped one was
 *    closed), and that end is accept()ed, so both ends see the names they saw.
 *    A gone peer is played by a stand-in ("mate") closed at the end, which
 *    shuts the survivor down as the real close did;
 * 3. clients of pending connections connect to their listener in accept order
 *    (a gone client: a stand-in that connects and closes), before anything else
 *    could take a place in the backlog;
 * 4. unconnected stream and seqpacket sockets, bound if named;
 * 5. datagram sockets: a socketpair() for two that are connected to each other
 *    (or one and a stand-in for a gone peer), else bound, then connected by name;
 *    a socket whose peer was outside the tree (--external at dump), of any type,
 *    connects to that peer's name again (for a stream socket: a new connection);
 * 6. queued data, sent again (restore-unix-queue.c);
 * 7. options (send and receive buffers, SO_PASSCRED, timeouts, SO_PEEK_OFF) and
 *    the O_NONBLOCK of each file: every socket is nonblocking until here, so no
 *    step ever waits;
 * 8. shutdowns, then the stand-ins and temporary listeners close, and a path
 *    that was gone at dump is removed again.
 */
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define LOG_PREFIX "unix: "
#include "criu-lite/log.h"
#include "criu-lite/restore/restore-unix.h"

int usk_new_sock(int type, const char *what)
{
	int fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		fd = -errno;
		pr_perror("%s: can't create a unix socket of type %d", what, type);
	}
	return fd;
}

static int new_pair(int type, int sv[2], const char *what)
{
	if (socketpair(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0)
		return 0;
	pr_perror("%s: can't create a socketpair of type %d", what, type);
	return -errno;
}

static int bind_named(struct restore_unix *t, struct rsk *s, int fd)
{
	int ret;

	if (!s->u->has_name)
		return 0;
	ret = usk_bind(t, fd, (int)s->u->type, s->u, s->what);
	s->bound = !ret;
	return ret;
}

static bool same_name(const UnixSkEntry *a, const UnixSkEntry *b)
{
	return a->has_name && b->has_name && a->name.len == b->name.len &&
	       memcmp(a->name.data, b->name.data, a->name.len) == 0;
}

/* The listener of the table with u's name and type. */
static struct rsk *owner(struct restore_unix *t, const UnixSkEntry *u)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].u->state == TCP_LISTEN && t->v[i].u->type == u->type &&
		    same_name(t->v[i].u, u))
			return &t->v[i];
	return NULL;
}

/* Step 1. */
static int make_listener(struct restore_unix *t, struct rsk *s)
{
	int ret;

	s->fd = usk_new_sock((int)s->u->type, s->what);
	if (s->fd < 0)
		return s->fd;
	if ((ret = bind_named(t, s, s->fd)))
		return ret;
	if (listen(s->fd, (int)s->u->backlog)) {
		pr_perror("%s: can't listen with a backlog of %u", s->what, s->u->backlog);
		return -errno;
	}
	return 0;
}

/* A listener to accept the end a from: the table's own for its name, or a temporary one. */
static int listener_for(struct restore_unix *t, const struct rsk *a, const UnixSkEntry **lu)
{
	struct rsk *l = owner(t, a->u);
	struct rsk_tmp_listener *nl;
	char what[sizeof(a->what) + 32];
	int ret;

	if (l) {
		*lu = l->u;
		return l->fd;
	}
	for (size_t i = 0; i < t->ntl; i++)
		if (t->tl[i].u->type == a->u->type && same_name(t->tl[i].u, a->u)) {
			*lu = t->tl[i].u;
			return t->tl[i].fd;
		}
	nl = realloc(t->tl, (t->ntl + 1) * sizeof(*nl));
	if (!nl) {
		pr_err("out of memory\n");
		return -ENOMEM;
	}
	t->tl = nl;
	nl[t->ntl] =
	    (struct rsk_tmp_listener){ .u = a->u, .fd = usk_new_sock((int)a->u->type, a->what) };
	if (nl[t->ntl].fd < 0)
		return nl[t->ntl].fd;
	t->ntl++;
	snprintf(what, sizeof(what), "%s (a listener for its name)", a->what);
	if ((ret = usk_bind(t, nl[t->ntl - 1].fd, (int)a->u->type, a->u, what)))
		return ret;
	if (listen(nl[t->ntl - 1].fd, 64)) {
		pr_perror("%s: can't listen", what);
		return -errno;
	}
	*lu = a->u;
	return nl[t->ntl - 1].fd;
}

/* Step 2, an end a that carries a name: c (NULL: a stand-in for a gone peer) connects to a
 * listener with that name, a is accepted. */
static int accept_pair(struct restore_unix *t, struct rsk *a, struct rsk *c)
{
	const UnixSkEntry *lu = NULL;
	int lfd = listener_for(t, a, &lu), cfd, ret;

	if (lfd < 0)
		return lfd;
	cfd = usk_new_sock((int)a->u->type, c ? c->what : a->what);
	if (cfd < 0)
		return cfd;
	if (c)
		c->fd = cfd;
	else
		a->mate = cfd;
	if ((c && (ret = bind_named(t, c, cfd))) || (ret = usk_connect(cfd, lu, a->what)))
		return ret;
	a->fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (a->fd < 0) {
		pr_perror("%s: can't accept it from its listener", a->what);
		return -errno;
	}
	return 0;
}

static int make_connected(struct restore_unix *t, struct rsk *s)
{
	struct rsk *p = s->peer, *a = NULL, *c = NULL;
	int sv[2], ret;

	if (s->u->has_name && owner(t, s->u))
		a = s, c = p;
	else if (p && p->u->has_name && owner(t, p->u))
		a = p, c = s;
	else if (s->u->has_name)
		a = s, c = p;
	else if (p && p->u->has_name)
		a = p, c = s;
	if (a)
		return accept_pair(t, a, c);
	if ((ret = new_pair((int)s->u->type, sv, s->what)))
		return ret;
	s->fd = sv[0];
	s->paired = true;
	if (p) {
		p->fd = sv[1];
		p->paired = true;
	} else {
		s->mate = sv[1];
	}
	return 0;
}

/* Step 3: the connections waiting in listener l's backlog, in order. */
static int make_pending(struct restore_unix *t, struct rsk *l)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < l->u->n_pending; i++) {
		struct rsk *cl = l->u->pending[i] ? usk_find(t, l->u->pending[i]) : NULL;
		int fd = usk_new_sock((int)l->u->type, cl ? cl->what : l->what);

		if (fd < 0)
			return fd;
		if (cl) {
			cl->fd = fd;
			if (!(ret = bind_named(t, cl, fd)))
				ret = usk_connect(fd, l->u, cl->what);
			continue;
		}
		ret = usk_connect(fd, l->u, l->what); /* its client is gone: connect, close */
		close(fd);
	}
	return ret;
}

/* Step 5, first half: create (and bind) datagram socket s. */
static int make_dgram(struct restore_unix *t, struct rsk *s)
{
	struct rsk *p = s->peer;
	bool gone = s->u->has_peer && !s->u->peer;
	int sv[2], ret;

	if (gone || (p && p != s && p->peer == s && p->fd < 0)) {
		if ((ret = new_pair(SOCK_DGRAM, sv, s->what)))
			return ret;
		s->fd = sv[0];
		s->paired = true;
		if (gone) {
			s->mate = sv[1];
		} else {
			p->fd = sv[1];
			p->paired = true;
			if ((ret = bind_named(t, p, p->fd)))
				return ret;
		}
		return bind_named(t, s, s->fd);
	}
	s->fd = usk_new_sock(SOCK_DGRAM, s->what);
	return s->fd < 0 ? s->fd : bind_named(t, s, s->fd);
}

/* A buffer size exactly as dumped: SO_*BUF, or SO_*BUFFORCE above net.core.*mem_max. The
 * kernel keeps twice what it is given, as getsockopt() reports it. */
static int get_buf(const struct rsk *s, int opt, const char *name, int *cur)
{
	socklen_t l = sizeof(*cur);

	if (getsockopt(s->fd, SOL_SOCKET, opt, cur, &l) == 0)
		return 0;
	pr_perror("%s: getsockopt(%s)", s->what, name);
	return -errno;
}

static int set_buf(const struct rsk *s, int opt, int force, uint32_t want, const char *name)
{
	int cur = 0, half = (int)(want / 2), ret;

	if ((ret = get_buf(s, opt, name, &cur)) || (uint32_t)cur == want)
		return ret;
	if (setsockopt(s->fd, SOL_SOCKET, opt, &half, sizeof(half)) == 0 &&
	    ((ret = get_buf(s, opt, name, &cur)) || (uint32_t)cur == want))
		return ret;
	if (setsockopt(s->fd, SOL_SOCKET, force, &half, sizeof(half))) {
		pr_perror("%s: can't set %s to %u bytes as dumped (above net.core's limit it "
			  "takes CAP_NET_ADMIN)",
			  s->what, name, want);
		return -errno;
	}
	if ((ret = get_buf(s, opt, name, &cur)) || (uint32_t)cur == want)
		return ret;
	pr_err("%s: %s is %d bytes, dumped with %u: the kernel won't take that size\n", s->what,
	       name, cur, want);
	return -EINVAL;
}

static int set_opt(const struct rsk *s, int opt, const void *v, socklen_t len, const char *name)
{
	if (setsockopt(s->fd, SOL_SOCKET, opt, v, len) == 0)
		return 0;
	pr_perror("%s: setsockopt(%s)", s->what, name);
	return -errno;
}

static int set_timeo(const struct rsk *s, int opt, uint64_t us, const char *name)
{
	struct timeval tv = { .tv_sec = (time_t)(us / 1000000u), .tv_usec = (long)(us % 1000000u) };

	return us ? set_opt(s, opt, &tv, sizeof(tv), name) : 0;
}

/* Step 7. */
static int set_opts(const struct rsk *s)
{
	const UnixSkOpts *o = s->u->opts;
	int one = 1, ret = 0, fl;

	if (o && o->has_sndbuf)
		ret = set_buf(s, SO_SNDBUF, SO_SNDBUFFORCE, o->sndbuf, "SO_SNDBUF");
	if (!ret && o && o->has_rcvbuf)
		ret = set_buf(s, SO_RCVBUF, SO_RCVBUFFORCE, o->rcvbuf, "SO_RCVBUF");
	if (!ret && o && o->has_passcred && o->passcred)
		ret = set_opt(s, SO_PASSCRED, &one, sizeof(one), "SO_PASSCRED");
	if (!ret && o && o->has_rcvtimeo_us)
		ret = set_timeo(s, SO_RCVTIMEO, o->rcvtimeo_us, "SO_RCVTIMEO");
	if (!ret && o && o->has_sndtimeo_us)
		ret = set_timeo(s, SO_SNDTIMEO, o->sndtimeo_us, "SO_SNDTIMEO");
	if (!ret && o && o->has_peek_off && o->peek_off != -1 && s->u->state != TCP_LISTEN)
		ret = set_opt(s, SO_PEEK_OFF, &o->peek_off, sizeof(o->peek_off), "SO_PEEK_OFF");
	if (ret)
		return ret;
	fl = fcntl(s->fd, F_GETFL);
	if (fl < 0 || fcntl(s->fd, F_SETFL, (fl & ~O_NONBLOCK) | (int)(s->u->flags & O_NONBLOCK))) {
		pr_perror("%s: can't set its status flags 0%o", s->what, s->u->flags);
		return -errno;
	}
	return 0;
}

/* Step 8: the shutdowns a stand-in's close does not bring. */
static int set_shutdown(const struct rsk *s)
{
	uint32_t bits = s->u->has_shutdown ? s->u->shutdown & 3 : 0;

	if (!bits || (s->mate >= 0 && s->u->type != SOCK_DGRAM))
		return 0;
	if (shutdown(s->fd, (int)bits - 1) == 0)
		return 0;
	pr_perror("%s: can't shut it down (mode %u)", s->what, bits - 1);
	return -errno;
}

static int finish(struct restore_unix *t)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < t->n; i++)
		ret = set_shutdown(&t->v[i]);
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].mate >= 0) {
			close(t->v[i].mate);
			t->v[i].mate = -1;
		}
	for (size_t i = 0; !ret && i < t->n; i++)
		if (t->v[i].bound)
			usk_unlink_gone(t->v[i].u, t->v[i].what);
	return ret;
}

/* Steps 2-5 for one socket not created yet. */
static int make_other(struct restore_unix *t, struct rsk *s)
{
	if (s->u->type == SOCK_DGRAM)
		return make_dgram(t, s);
	if (s->u->has_peer && !s->listener)
		return make_connected(t, s);
	s->fd = usk_new_sock((int)s->u->type, s->what);
	return s->fd < 0 ? s->fd : bind_named(t, s, s->fd);
}

int usk_build(struct restore_unix *t)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < t->n; i++)
		if (t->v[i].u->state == TCP_LISTEN)
			ret = make_listener(t, &t->v[i]);
	for (size_t i = 0; !ret && i < t->n; i++)
		if (t->v[i].fd < 0 && t->v[i].u->type != SOCK_DGRAM && t->v[i].u->has_peer &&
		    !t->v[i].listener)
			ret = make_connected(t, &t->v[i]);
	for (size_t i = 0; !ret && i < t->n; i++)
		if (t->v[i].u->state == TCP_LISTEN)
			ret = make_pending(t, &t->v[i]);
	for (size_t i = 0; !ret && i < t->n; i++)
		if (t->v[i].fd < 0)
			ret = make_other(t, &t->v[i]);
	for (size_t i = 0; !ret && i < t->n; i++) {
		struct rsk *s = &t->v[i];

		if (s->u->type == SOCK_DGRAM && s->peer && !s->paired)
			ret = usk_connect(s->fd, s->peer->u, s->what);
		else if (s->u->has_ext_peer) /* --external at dump: its peer is outside */
			ret = usk_connect_ext(s->fd, s->u, s->what);
	}
	for (size_t i = 0; i < t->ntl; i++) {
		close(t->tl[i].fd);
		t->tl[i].fd = -1;
		if (!ret)
			usk_unlink_gone(t->tl[i].u, "a temporary listener");
	}
	for (size_t i = 0; !ret && i < t->n; i++)
		ret = usk_queue_data(t, &t->v[i]);
	for (size_t i = 0; !ret && i < t->n; i++)
		ret = set_opts(&t->v[i]);
	if (!ret)
		ret = finish(t);
	if (!ret)
		pr_info("%zu unix socket(s) created\n", t->n);
	return ret;
}
