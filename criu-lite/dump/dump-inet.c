/* dump-inet: the AF_INET and AF_INET6 sockets of the dumped tree (sk-inet.h): what every such
 * socket has (family, type, protocol, state, addresses, shutdown, options); an established TCP
 * connection's own state is dump-tcp.c's.
 *
 * Everything is read through a copy of the task's fd (taskfd_copy): the same socket, so what
 * getsockopt() and getsockname() say is the task's own state, and reading changes nothing. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/sockios.h>
#include <netinet/icmp6.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <linux/filter.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define LOG_PREFIX "sockets: "
#include "criu-lite/dump/dump-inet.h"
#include "criu-lite/dump/dump.h"
#include "criu-lite/dump/inetdiag.h"
#include "criu-lite/dump/sk-common.h"
#include "criu-lite/log.h"
#include "criu-lite/taskfd.h"

/* ---- the table --------------------------------------------------------------------------- */

static int table(struct dump_shared *sh, struct dump_inet **out)
{
	if (!sh->inet) {
		sh->inet = calloc(1, sizeof(*sh->inet));
		if (!sh->inet) {
			pr_err("out of memory\n");
			return -ENOMEM;
		}
	}
	*out = sh->inet;
	return 0;
}

static int add(struct dump_inet *t, struct isk **out)
{
	struct isk **v = realloc(t->v, (t->n + 1) * sizeof(*v)), *s;

	if (!v)
		return -ENOMEM;
	t->v = v;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	v[t->n++] = s;
	*out = s;
	return 0;
}

/* ---- addresses ---------------------------------------------------------------------------- */

/* "127.0.0.1:80", "[::1]:80" */
void isk_addr_str(int family, const uint8_t *a, uint32_t port, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	inet_ntop(family, a, ip, sizeof(ip));
	snprintf(buf, len, family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
}

/* getsockname() or getpeername() into a (4 or 16 bytes) and *port: 0, or -errno. */
static int sk_addr(int fd, bool peer, int family, uint8_t *a, uint32_t *port)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t l = sizeof(ss);

	if ((peer ? getpeername : getsockname)(fd, (struct sockaddr *)&ss, &l))
		return -errno;
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		memcpy(a, &in->sin_addr, 4);
		*port = ntohs(in->sin_port);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		if (in6->sin6_scope_id || in6->sin6_flowinfo)
			return -EOPNOTSUPP;
		memcpy(a, &in6->sin6_addr, 16);
		*port = ntohs(in6->sin6_port);
	}
	return 0;
}

static bool any_addr(const uint8_t *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i])
			return false;
	return true;
}

/* ---- options ------------------------------------------------------------------------------ */

/* opt = value of (level, name) when the kernel reads it back (else absent) */
#define OPT_BOOL(o, f, fd, level, name)              \
	do {                                         \
		int v_;                              \
		if (sk_geti(fd, level, name, &v_)) { \
			(o)->has_##f = true;         \
			(o)->f = v_ != 0;            \
		}                                    \
	} while (0)
#define OPT_U32(o, f, fd, level, name)               \
	do {                                         \
		int v_;                              \
		if (sk_geti(fd, level, name, &v_)) { \
			(o)->has_##f = true;         \
			(o)->f = (uint32_t)v_;       \
		}                                    \
	} while (0)

/* A fresh socket's value of an option whose setting also fixes it (buffers, congestion):
 * restore sets it only where it differs. */
static int fresh_int(const InetSkEntry *e, int level, int name, int *v)
{
	int fd = socket((int)e->family, (int)e->type | SOCK_CLOEXEC, (int)e->protocol), ret;

	if (fd < 0)
		return -errno;
	ret = sk_geti(fd, level, name, v) ? 0 : -errno;
	close(fd);
	return ret;
}

/* An established TCP connection's always: its restore sets them (after filling its queues). */
static void read_bufs(int fd, struct isk *s)
{
	bool always = s->e.protocol == IPPROTO_TCP && tcp_held_state(s->e.state);
	int v, d;

	if (sk_geti(fd, SOL_SOCKET, SO_SNDBUF, &v) &&
	    (always || (!fresh_int(&s->e, SOL_SOCKET, SO_SNDBUF, &d) && v != d))) {
		s->o.has_sndbuf = true;
		s->o.sndbuf = (uint32_t)v;
	}
	if (sk_geti(fd, SOL_SOCKET, SO_RCVBUF, &v) &&
	    (always || (!fresh_int(&s->e, SOL_SOCKET, SO_RCVBUF, &d) && v != d))) {
		s->o.has_rcvbuf = true;
		s->o.rcvbuf = (uint32_t)v;
	}
}

static uint64_t tv_us(const struct timeval *t)
{
	return (uint64_t)t->tv_sec * 1000000u + (uint64_t)t->tv_usec;
}

static int read_filter(int fd, struct isk *s)
{
	int ret = sk_read_filter(fd, s->what, &s->filter);

	if (ret || !s->filter.n)
		return ret;
	s->o.n_filter = s->filter.n;
	s->o.filter = s->filter.fp;
	s->o.has_filter_locked = s->filter.has_locked;
	s->o.filter_locked = s->filter.locked;
	return 0;
}

/* The options of the allow-list (sk-inet.c) that differ from a new socket's. */
static void read_ints(int fd, struct isk *s)
{
	int f = socket((int)s->e.family, (int)s->e.type | SOCK_CLOEXEC, (int)s->e.protocol);
	const struct sk_int_opt_def *d;
	size_t n, k = 0;

	if (f < 0)
		return;
	d = sk_int_opts(&n);
	for (size_t i = 0; i < n && k < sizeof(s->ints) / sizeof(s->ints[0]); i++) {
		int v, dv;

		if ((d[i].family && d[i].family != (int)s->e.family) ||
		    (d[i].dgram && s->e.type != SOCK_DGRAM) ||
		    !sk_geti(fd, d[i].level, d[i].name, &v) ||
		    !sk_geti(f, d[i].level, d[i].name, &dv) || v == dv)
			continue;
		sk_int_opt__init(&s->ints[k]);
		s->ints[k].level = (uint32_t)d[i].level;
		s->ints[k].name = (uint32_t)d[i].name;
		s->ints[k].value = v;
		s->intp[k] = &s->ints[k];
		k++;
	}
	close(f);
	s->o.n_ints = k;
	s->o.ints = s->intp;
}

/* A raw socket's own: IP_HDRINCL, its ICMP filter (v4) or ICMPv6 filter, IPV6_CHECKSUM. */
static void read_raw_opts(int fd, struct isk *s)
{
	InetSkOpts *o = &s->o;
	socklen_t l;
	uint32_t f;
	int v;

	if (s->e.family == AF_INET) {
		OPT_BOOL(o, hdrincl, fd, SOL_IP, IP_HDRINCL);
		l = sizeof(f);
		if (s->e.protocol == IPPROTO_ICMP &&
		    !getsockopt(fd, SOL_RAW, ICMP_FILTER, &f, &l) && f) {
			o->has_icmp_filter = true;
			o->icmp_filter = f;
		}
		return;
	}
	l = sizeof(s->icmp6f);
	if (s->e.protocol == IPPROTO_ICMPV6 &&
	    !getsockopt(fd, SOL_ICMPV6, ICMP6_FILTER, s->icmp6f, &l) && l == sizeof(s->icmp6f)) {
		o->has_icmp6_filter = true;
		o->icmp6_filter = (ProtobufCBinaryData){ sizeof(s->icmp6f), s->icmp6f };
	}
	if (s->e.protocol != IPPROTO_ICMPV6 && sk_geti(fd, SOL_RAW, IPV6_CHECKSUM, &v) && v >= 0) {
		o->has_ipv6_checksum = true;
		o->ipv6_checksum = v;
	}
}

static int read_opts(int fd, struct isk *s)
{
	InetSkOpts *o = &s->o;
	struct linger lg;
	struct timeval tv;
	socklen_t l;
	int v;

	OPT_BOOL(o, reuseaddr, fd, SOL_SOCKET, SO_REUSEADDR);
	OPT_BOOL(o, reuseport, fd, SOL_SOCKET, SO_REUSEPORT);
	OPT_BOOL(o, keepalive, fd, SOL_SOCKET, SO_KEEPALIVE);
	OPT_BOOL(o, broadcast, fd, SOL_SOCKET, SO_BROADCAST);
	OPT_BOOL(o, oobinline, fd, SOL_SOCKET, SO_OOBINLINE);
	OPT_U32(o, priority, fd, SOL_SOCKET, SO_PRIORITY);
	OPT_U32(o, mark, fd, SOL_SOCKET, SO_MARK);
	OPT_U32(o, rcvlowat, fd, SOL_SOCKET, SO_RCVLOWAT);
	if (sk_geti(fd, SOL_SOCKET, SO_PEEK_OFF, &v) && v >= 0) {
		o->has_peek_off = true;
		o->peek_off = v;
	}
	read_bufs(fd, s);
	read_ints(fd, s);
	l = sizeof(lg);
	if (!getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &l)) {
		o->has_linger_on = o->has_linger_s = true;
		o->linger_on = lg.l_onoff != 0;
		o->linger_s = (uint32_t)lg.l_linger;
	}
	l = sizeof(tv);
	if (!getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &l)) {
		o->has_rcvtimeo_us = true;
		o->rcvtimeo_us = tv_us(&tv);
	}
	l = sizeof(tv);
	if (!getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &l)) {
		o->has_sndtimeo_us = true;
		o->sndtimeo_us = tv_us(&tv);
	}
	l = sizeof(s->dev);
	if (!getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, s->dev, &l) && l > 0 && s->dev[0])
		o->bindtodevice = s->dev;
	OPT_BOOL(o, freebind, fd, SOL_IP, IP_FREEBIND);
	OPT_BOOL(o, transparent, fd, SOL_IP, IP_TRANSPARENT);
	if (s->e.family == AF_INET) {
		OPT_U32(o, tos, fd, SOL_IP, IP_TOS);
		OPT_U32(o, ttl, fd, SOL_IP, IP_TTL);
	} else {
		if (s->e.type != SOCK_RAW) /* a raw socket's is fixed (its protocol is bound) */
			OPT_BOOL(o, v6only, fd, SOL_IPV6, IPV6_V6ONLY);
		OPT_U32(o, tclass, fd, SOL_IPV6, IPV6_TCLASS);
		if (sk_geti(fd, SOL_IPV6, IPV6_UNICAST_HOPS, &v)) {
			o->has_hoplimit = true;
			o->hoplimit = v;
		}
	}
	if (s->e.protocol == IPPROTO_TCP) {
		char cc[16] = "", dcc[16] = "";

		OPT_BOOL(o, nodelay, fd, SOL_TCP, TCP_NODELAY);
		OPT_BOOL(o, cork, fd, SOL_TCP, TCP_CORK);
		OPT_U32(o, keepidle, fd, SOL_TCP, TCP_KEEPIDLE);
		OPT_U32(o, keepintvl, fd, SOL_TCP, TCP_KEEPINTVL);
		OPT_U32(o, keepcnt, fd, SOL_TCP, TCP_KEEPCNT);
		OPT_U32(o, user_timeout, fd, SOL_TCP, TCP_USER_TIMEOUT);
		OPT_U32(o, notsent_lowat, fd, SOL_TCP, TCP_NOTSENT_LOWAT);
		l = sizeof(cc) - 1;
		if (!getsockopt(fd, SOL_TCP, TCP_CONGESTION, cc, &l)) {
			int f = socket((int)s->e.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
			socklen_t dl = sizeof(dcc) - 1;

			if (f >= 0 && !getsockopt(f, SOL_TCP, TCP_CONGESTION, dcc, &dl) &&
			    strcmp(cc, dcc)) {
				memcpy(s->cc, cc, sizeof(s->cc));
				o->congestion = s->cc;
			}
			if (f >= 0)
				close(f);
		}
	}
	if (s->e.type == SOCK_RAW)
		read_raw_opts(fd, s);
	if (s->e.protocol == IPPROTO_UDPLITE) {
		OPT_U32(&s->e, udplite_send_cscov, fd, SOL_UDPLITE, UDPLITE_SEND_CSCOV);
		OPT_U32(&s->e, udplite_recv_cscov, fd, SOL_UDPLITE, UDPLITE_RECV_CSCOV);
	}
	s->e.opts = o;
	return read_filter(fd, s);
}

/* ---- one socket --------------------------------------------------------------------------- */

static const char *state_name(int st)
{
	static const char *const n[] = { "?",	       "ESTABLISHED", "SYN_SENT",  "SYN_RECV",
					 "FIN_WAIT1",  "FIN_WAIT2",   "TIME_WAIT", "CLOSE",
					 "CLOSE_WAIT", "LAST_ACK",    "LISTEN",	   "CLOSING" };

	return st >= 0 && st < (int)(sizeof(n) / sizeof(n[0])) ? n[st] : "?";
}

static int check_kind(const struct isk *s)
{
	const InetSkEntry *e = &s->e;
	bool tcp = e->type == SOCK_STREAM && e->protocol == IPPROTO_TCP;

	if (!tcp && !isk_dgram(e) && e->type != SOCK_RAW) {
		pr_err("%s is an inet socket of type %u, protocol %u (SCTP, MPTCP, ...): not "
		       "supported yet (TCP, UDP, UDP-Lite, ping and raw sockets are)\n",
		       s->what, e->type, e->protocol);
		return -ENOTSUP;
	}
	if (tcp && !tcp_held_state(e->state) && e->state != TCP_CLOSE && e->state != TCP_LISTEN) {
		pr_err("%s is a TCP socket in state %s: not supported yet (LISTEN, CLOSE, "
		       "ESTABLISHED and the half-closed states are)\n",
		       s->what, state_name((int)e->state));
		return -ENOTSUP;
	}
	/* a connection that ended (both sides closed, or reset) while the task kept its fd: a
	 * read gives EOF, which a new socket can't */
	if (tcp && e->state == TCP_CLOSE && e->has_shutdown && e->shutdown) {
		pr_err("%s is a TCP socket whose connection has ended (CLOSE, shut down %u): not "
		       "supported yet\n",
		       s->what, e->shutdown);
		return -ENOTSUP;
	}
	return 0;
}

/* What the socket's own fd tells: addresses, options, a listener's backlog, a UDP queue. */
static int read_sock(int fd, uint32_t rqueue, struct isk *s)
{
	InetSkEntry *e = &s->e;
	size_t alen = e->family == AF_INET ? 4 : 16;
	char a[80];
	int ret;

	ret = sk_addr(fd, false, (int)e->family, s->src, &e->src_port);
	if (ret) {
		errno = -ret;
		pr_perror("%s: its local address", s->what);
		return ret;
	}
	if (e->src_port || !any_addr(s->src, alen)) {
		e->has_src_addr = e->has_src_port = true;
		e->src_addr = (ProtobufCBinaryData){ alen, s->src };
	}
	ret = sk_addr(fd, true, (int)e->family, s->dst, &e->dst_port);
	if (!ret) {
		e->has_dst_addr = e->has_dst_port = true;
		e->dst_addr = (ProtobufCBinaryData){ alen, s->dst };
	} else if (ret != -ENOTCONN) {
		errno = -ret;
		pr_perror("%s: its peer's address", s->what);
		return ret;
	}
	if (e->state == TCP_LISTEN) {
		struct tcp_info ti = { 0 };
		socklen_t l = sizeof(ti);

		if (getsockopt(fd, SOL_TCP, TCP_INFO, &ti, &l)) {
			pr_perror("%s: TCP_INFO", s->what);
			return -errno;
		}
		/* a listener's TCP_INFO: tcpi_unacked is its accept queue, tcpi_sacked its
		 * backlog */
		if (ti.tcpi_unacked) {
			isk_addr_str((int)e->family, s->src, e->src_port, a, sizeof(a));
			pr_err("%s: the listener on %s has %u connection(s) not accepted yet: not "
			       "supported (they can't be put back in its queue); dump again once "
			       "they are accepted\n",
			       s->what, a, ti.tcpi_unacked);
			return -ENOTSUP;
		}
		e->has_backlog = true;
		e->backlog = ti.tcpi_sacked;
	}
	if (e->type != SOCK_STREAM && rqueue && !isk_dgram_udp(e)) {
		pr_err("%s: a %s socket with %s queued for reading (%u bytes): not supported yet "
		       "(they can't be put back as they came)\n",
		       s->what, e->type == SOCK_RAW ? "raw" : "datagram",
		       e->type == SOCK_RAW ? "packets" : "datagrams", rqueue);
		return -ENOTSUP;
	}
	if (e->type == SOCK_RAW) { /* its "port" is the protocol: nothing bound */
		e->has_src_port = e->src_port != 0 && !any_addr(s->src, alen);
		e->src_port = 0;
		e->has_src_addr = e->has_src_port;
		e->has_dst_port = false;
		e->dst_port = 0;
	}
	return read_opts(fd, s);
}

/* A ping or raw socket's state, as sock_diag would give it: connected or not (getpeername),
 * its receive side shut down or not (POLLRDHUP), and its queue (SIOCINQ: the first packet's
 * length). Its send side shut down alone shows nowhere (docs/fds.md). */
static int own_state(int fd, const struct isk *s, struct isk_diag *dg)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	struct pollfd p = { .fd = fd, .events = POLLRDHUP };
	int inq = -1;

	*dg = (struct isk_diag){ .state = getpeername(fd, (struct sockaddr *)&ss, &l)
					      ? TCP_CLOSE
					      : TCP_ESTABLISHED };
	if (poll(&p, 1, 0) > 0 && (p.revents & POLLRDHUP))
		dg->shutdown = ISK_RCV_SHUTDOWN;
	if (ioctl(fd, SIOCINQ, &inq) && errno == ENOTTY) { /* a ping socket has no ioctl() */
		char c;
		ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0 && errno != EAGAIN) {
			pr_perror("%s: peeking at its queue", s->what);
			return -errno;
		}
		inq = n < 0 ? 0 : n ? (int)n : 1; /* an empty datagram is a datagram */
	} else if (inq < 0) {
		pr_perror("%s: SIOCINQ", s->what);
		return -errno;
	}
	dg->rqueue = (uint32_t)inq;
	return 0;
}

/* Bound to a port (or an address): then sock_diag knows it. */
static bool bound(int fd, const struct isk *s)
{
	uint8_t a[16] = { 0 };
	uint32_t port = 0;

	return sk_addr(fd, false, (int)s->e.family, a, &port) || port ||
	       !any_addr(a, s->e.family == AF_INET ? 4 : 16);
}

int dump_inet_sk(struct dump_shared *sh, const struct dump_inet_fd *f, InetSkEntry **out)
{
	struct dump_inet *t;
	struct isk_diag dg;
	struct isk *s;
	socklen_t l = sizeof(int);
	int fd, v, ret = table(sh, &t);

	if (ret || (ret = add(t, &s))) {
		pr_err("out of memory\n");
		return ret;
	}
	inet_sk_entry__init(&s->e);
	inet_sk_opts__init(&s->o);
	tcp_repair_entry__init(&s->t);
	snprintf(s->what, sizeof(s->what), "%s: %s", f->what, f->link);
	s->e.id = (uint32_t)t->n;
	s->e.ino = (uint32_t)f->st->st_ino;
	s->e.flags = f->flags;
	fd = taskfd_copy(f->pid, f->fd);
	if (fd < 0) {
		errno = -fd;
		pr_perror("%s: can't take a copy (pidfd_getfd)", s->what);
		return fd;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &l) ||
	    (s->e.family = (uint32_t)v, getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &l)) ||
	    (s->e.type = (uint32_t)v, getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &l))) {
		ret = -errno;
		pr_perror("%s: its family, type or protocol", s->what);
		goto out;
	}
	s->e.protocol = (uint32_t)v;
	/* sock_diag lists the sockets of the kernel's hash tables: a socket never bound nor
	 * connected is in none (its state is CLOSE, nothing is shut down or queued) */
	/* no sock_diag for ping sockets, nor for raw ones without CONFIG_INET_RAW_DIAG */
	if (s->e.type == SOCK_RAW || (s->e.type == SOCK_DGRAM && !isk_dgram_udp(&s->e)))
		ret = own_state(fd, s, &dg);
	else
		ret = inetdiag_get(&t->diag, f->netns_id, (int)s->e.family, (int)s->e.protocol,
				   s->e.ino, &dg);
	if (ret == -ENOENT && !bound(fd, s)) {
		dg = (struct isk_diag){ .state = TCP_CLOSE };
		ret = 0;
	} else if (ret == -ENOENT) {
		pr_err("%s: sock_diag does not know it in criu-lite's network namespace\n",
		       s->what);
		ret = -EIO;
	}
	if (ret)
		goto out;
	s->e.state = dg.state;
	if (dg.shutdown) {
		s->e.has_shutdown = true;
		s->e.shutdown = dg.shutdown;
	}
	ret = check_kind(s);
	if (!ret)
		ret = read_sock(fd, dg.rqueue, s);
	if (!ret && isk_dgram_udp(&s->e))
		ret = dump_udp_queue(sh, fd, s);
	if (!ret && s->e.protocol == IPPROTO_TCP && tcp_held_state(s->e.state) && f->netns_id &&
	    !sh->o->tcp_close) {
		pr_err("%s: a TCP connection (state %u) in another network namespace than the "
		       "tree's: not supported yet (the network lock and repair work in the tree's; "
		       "--tcp-close restores it closed)\n",
		       s->what, s->e.state);
		ret = -ENOTSUP;
	} else if (!ret && s->e.protocol == IPPROTO_TCP && tcp_held_state(s->e.state)) {
		ret = dump_tcp_established(sh, t, fd, s);
	}
	if (!ret)
		*out = &s->e;
out:
	close(fd);
	return ret;
}

void dump_inet_free(struct dump_shared *sh)
{
	struct dump_inet *t = sh->inet;

	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		sk_filter_free(&t->v[i]->filter);
		free(t->v[i]->from);
		free(t->v[i]->fromp);
		free(t->v[i]->dg_lens);
		free(t->v[i]->dg_addr);
		free(t->v[i]);
	}
	free(t->v);
	inetdiag_free(&t->diag);
	dump_tcp_free(t);
	free(t);
	sh->inet = NULL;
}
