/* restore-inet: every inet socket of a dump (sk-inet.h), made in the restorer the first time
 * one is asked for: each entry checked, the queued data of each established connection read
 * and checked, then the sockets created, the ones that own a port first (listeners, bound and
 * closed sockets), the established connections after them (restore-tcp.c); each entry gets an
 * O_CLOEXEC dup of its socket. The table keeps its own fds until restore_inet_resume() (the
 * connections leave repair mode just before the tasks run, and a socket kept here would not
 * close when its task closes it) or restore_inet_done(). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/icmp6.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define LOG_PREFIX "sockets: "
#include "criu-lite/kinds/sk-inet.h"
#include "criu-lite/log.h"
#include "criu-lite/net/netlock.h"
#include "criu-lite/restore/rawdata.h"
#include "criu-lite/restore/restore-inet.h"
#include "criu-lite/restore/restore-sk.h"
#include "criu-lite/restore/restore-sknetns.h"
#include "criu-lite/restore/restore-files.h"
#include "criu-lite/restore/restore.h"

socklen_t risk_sockaddr(const InetSkEntry *e, bool peer, struct sockaddr_storage *ss)
{
	const ProtobufCBinaryData *a = peer ? &e->dst_addr : &e->src_addr;
	uint16_t port = (uint16_t)(peer ? e->dst_port : e->src_port);

	memset(ss, 0, sizeof(*ss));
	if (e->family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		if (a->len == 4)
			memcpy(&in->sin_addr, a->data, 4);
		return sizeof(*in);
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(port);
	if (a->len == 16)
		memcpy(&in6->sin6_addr, a->data, 16);
	return sizeof(*in6);
}

socklen_t risk_bind_addr(const InetSkEntry *e, struct sockaddr_storage *ss)
{
	socklen_t l = risk_sockaddr(e, false, ss);
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	/* bind() to a v6 address that is not v4-mapped sets IPV6_V6ONLY: a connected socket that
	 * had it off got its address from connect(), and gets it so again */
	if (e->family == AF_INET6 && e->has_dst_addr && e->opts && e->opts->has_v6only &&
	    !e->opts->v6only && !IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
		in6->sin6_addr = in6addr_any;
	return l;
}

static int bad(const struct risk *s, const char *why)
{
	pr_err("files.img: file %u, %s: %s\n", s->file_id, s->what, why);
	return -EBADMSG;
}

static void name_it(struct risk *s)
{
	const InetSkEntry *e = s->e;
	char a[INET6_ADDRSTRLEN] = "*", b[INET6_ADDRSTRLEN] = "";
	const char *proto = e->type == SOCK_RAW		     ? "raw"
			    : e->protocol == IPPROTO_TCP     ? "tcp"
			    : e->protocol == IPPROTO_UDP     ? "udp"
			    : e->protocol == IPPROTO_UDPLITE ? "udplite"
							     : "ping";

	if (e->has_src_addr && e->src_addr.len == (e->family == AF_INET ? 4u : 16u))
		inet_ntop((int)e->family, e->src_addr.data, a, sizeof(a));
	if (e->has_dst_addr && e->dst_addr.len == (e->family == AF_INET ? 4u : 16u))
		inet_ntop((int)e->family, e->dst_addr.data, b, sizeof(b));
	if (b[0])
		snprintf(s->what, sizeof(s->what), "%s socket %u (%s:%u -> %s:%u)", proto, e->id, a,
			 e->src_port, b, e->dst_port);
	else
		snprintf(s->what, sizeof(s->what), "%s socket %u (%s:%u)", proto, e->id, a,
			 e->src_port);
}

/* One entry on its own. */
static int check_entry(const struct restore_ctx *c, const struct risk *s)
{
	const InetSkEntry *e = s->e;
	size_t alen = e->family == AF_INET ? 4 : 16;
	bool tcp = e->type == SOCK_STREAM && e->protocol == IPPROTO_TCP;

	if (e->family != AF_INET && e->family != AF_INET6)
		return bad(s, "unknown family");
	if (!tcp && !isk_dgram(e) && !(e->type == SOCK_RAW && e->protocol < 256))
		return bad(s, "unknown type or protocol");
	if (e->opts && e->opts->has_icmp6_filter && e->opts->icmp6_filter.len != 32)
		return bad(s, "a malformed ICMPv6 filter");
	if ((e->has_src_addr && e->src_addr.len != alen) ||
	    (e->has_dst_addr && e->dst_addr.len != alen) || e->src_port > 65535 ||
	    e->dst_port > 65535)
		return bad(s, "a malformed address");
	if (!tcp_held_state(e->state) && e->state != TCP_CLOSE && e->state != TCP_LISTEN)
		return bad(s, "unknown socket state");
	if (!tcp && e->state != TCP_ESTABLISHED && e->state != TCP_CLOSE)
		return bad(s, "a state only TCP has");
	if (e->state == TCP_LISTEN && (!tcp || !e->has_backlog || e->has_dst_addr))
		return bad(s, "a listener that is not a TCP socket with a backlog and no peer");
	if (tcp && tcp_held_state(e->state) && !e->has_dst_addr)
		return bad(s, "an established connection without its peer");
	if (e->tcp && (!tcp || !tcp_held_state(e->state) || e->closed ||
		       (uint64_t)e->tcp->inq_len + e->tcp->outq_len > (1u << 30) ||
		       e->tcp->unsent_len > e->tcp->outq_len || !e->tcp->has_data_crc32c))
		return bad(s, "a malformed TCP connection record");
	if (tcp && tcp_held_state(e->state) && !e->tcp && !e->closed)
		return bad(s, "an established connection with neither its state nor 'closed'");
	if (e->tcp && !c->o->tcp_established && !c->o->tcp_close) {
		pr_err("%s is an established TCP connection held by the dump: restore with "
		       "--tcp-established (or --tcp-close to restore it closed)\n",
		       s->what);
		return -ENOTSUP;
	}
	if (e->opts && e->opts->n_filter > BPF_MAXINSNS)
		return bad(s, "a socket filter longer than the kernel takes");
	for (size_t i = 0; e->opts && i < e->opts->n_ints; i++)
		if (!sk_int_opt_find(e->opts->ints[i]->level, e->opts->ints[i]->name))
			return bad(s, "an option restore does not set");
	return 0;
}

static int build_table(struct restore_ctx *c, struct restore_inet *t)
{
	int ret = 0;

	for (size_t i = 0; i < c->nr_files; i++)
		t->n += c->files[i]->type == FILE_TYPE__FT_INETSK;
	t->v = calloc(t->n + 1, sizeof(*t->v));
	if (!t->v)
		return -ENOMEM;
	t->n = 0;
	for (size_t i = 0; i < c->nr_files && !ret; i++) {
		const FileEntry *fe = c->files[i];
		struct risk *s;

		if (fe->type != FILE_TYPE__FT_INETSK)
			continue;
		s = &t->v[t->n++];
		s->fd = -1;
		s->file_id = fe->id;
		s->e = fe->inet_sk;
		if (!s->e) {
			snprintf(s->what, sizeof(s->what), "inet socket");
			ret = bad(s, "no inet_sk record");
			break;
		}
		name_it(s);
		ret = check_entry(c, s);
		if (!ret && s->e->tcp && !c->o->tcp_close) {
			char name[64];

			inet_data_name(name, sizeof(name), s->e->id);
			ret = rawdata_load(c->dir, name, s->what,
					   s->e->tcp->inq_len + s->e->tcp->outq_len,
					   s->e->tcp->data_crc32c, &s->data);
		} else if (!ret && (s->e->n_msg_lens || s->e->has_data_len)) {
			char name[64];

			if (!isk_dgram_udp(s->e) || s->e->protocol != IPPROTO_UDP ||
			    rudp_check(s)) {
				ret = bad(s, "a malformed queue of datagrams");
				break;
			}
			inet_data_name(name, sizeof(name), s->e->id);
			ret = rawdata_load(c->dir, name, s->what, s->e->data_len, s->e->data_crc32c,
					   &s->data);
		}
	}
	return ret;
}

/* The dump's connections locked here too (the restore may run in another network namespace:
 * another host, which now takes the peer's packets), from before their sockets exist until the
 * tasks run: the same table, taken again whole. */
static int lock_here(struct restore_ctx *c, struct restore_inet *t)
{
	struct netlock_conn *v = calloc(t->n + 1, sizeof(*v));
	char name[NETLOCK_NAME_MAX + 1];
	size_t n = 0;
	int ret;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		const InetSkEntry *e = t->v[i].e;

		if (!e->tcp)
			continue;
		v[n].family = (int)e->family;
		memcpy(v[n].src, e->src_addr.data, e->src_addr.len);
		memcpy(v[n].dst, e->dst_addr.data, e->dst_addr.len);
		v[n].sport = (uint16_t)e->src_port;
		v[n].dport = (uint16_t)e->dst_port;
		n++;
	}
	inet_lock_name(name, sizeof(name), c->inv->dump_id);
	ret = n ? netlock_lock(name, v, n) : 0;
	if (ret)
		pr_err(
		    "can't lock the dump's TCP connections here (network lock, nftables): the "
		    "restore needs it (--network-lock skip if the caller drops their packets)\n");
	free(v);
	return ret;
}

int restore_inet_check(struct restore_ctx *c)
{
	int ret;

	for (size_t i = 0; i < c->nr_files && !c->isk; i++) {
		if (c->files[i]->type != FILE_TYPE__FT_INETSK)
			continue;
		c->isk = calloc(1, sizeof(*c->isk));
		if (!c->isk) {
			pr_err("out of memory for the inet socket table\n");
			return -ENOMEM;
		}
		ret = build_table(c, c->isk);
		if (!ret && c->o->tcp_established && c->o->network_lock == NETLOCK_NFTABLES)
			ret = lock_here(c, c->isk);
		if (ret) {
			restore_inet_done(c, false);
			return ret;
		}
		pr_debug("%zu inet socket(s) in files.img, checked\n", c->isk->n);
	}
	return 0;
}

/* ---- options ------------------------------------------------------------------------------ */

#define SET(has, level, name, v)                                                   \
	do {                                                                       \
		if ((has) && !ret)                                                 \
			ret = rsk_seti(fd, s->what, level, name, #name, (int)(v)); \
	} while (0)

/* What must be in place before bind() (and, in repair mode, before the queues). */
int risk_set_opts(const struct risk *s, int fd)
{
	const InetSkEntry *e = s->e;
	const InetSkOpts *o = e->opts;
	int ret = 0;

	if (!o)
		return 0;
	SET(o->has_reuseaddr, SOL_SOCKET, SO_REUSEADDR, o->reuseaddr);
	SET(o->has_reuseport, SOL_SOCKET, SO_REUSEPORT, o->reuseport);
	SET(o->has_keepalive, SOL_SOCKET, SO_KEEPALIVE, o->keepalive);
	SET(o->has_broadcast, SOL_SOCKET, SO_BROADCAST, o->broadcast);
	SET(o->has_oobinline, SOL_SOCKET, SO_OOBINLINE, o->oobinline);
	SET(o->has_priority, SOL_SOCKET, SO_PRIORITY, o->priority);
	SET(o->has_mark && o->mark, SOL_SOCKET, SO_MARK, o->mark);
	SET(o->has_rcvlowat && o->rcvlowat != 1, SOL_SOCKET, SO_RCVLOWAT, o->rcvlowat);
	/* getsockopt() reports the doubled value; the FORCE options pass rmem_max/wmem_max */
	SET(o->has_sndbuf, SOL_SOCKET, SO_SNDBUFFORCE, o->sndbuf / 2);
	SET(o->has_rcvbuf, SOL_SOCKET, SO_RCVBUFFORCE, o->rcvbuf / 2);
	SET(o->has_freebind, SOL_IP, IP_FREEBIND, o->freebind);
	SET(o->has_transparent && o->transparent, SOL_IP, IP_TRANSPARENT, 1);
	SET(o->has_tos, SOL_IP, IP_TOS, o->tos);
	SET(o->has_ttl, SOL_IP, IP_TTL, o->ttl);
	SET(o->has_v6only, SOL_IPV6, IPV6_V6ONLY, o->v6only);
	SET(o->has_tclass, SOL_IPV6, IPV6_TCLASS, o->tclass);
	SET(o->has_hoplimit, SOL_IPV6, IPV6_UNICAST_HOPS, o->hoplimit);
	if (o->has_linger_on && o->linger_on && !ret) {
		struct linger lg = { 1, (int)o->linger_s };

		if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg))) {
			ret = -errno;
			pr_perror("%s: SO_LINGER", s->what);
		}
	}
	for (int k = 0; k < 2 && !ret; k++) {
		uint64_t us = k ? o->sndtimeo_us : o->rcvtimeo_us;
		struct timeval tv = { (time_t)(us / 1000000u), (suseconds_t)(us % 1000000u) };

		if ((k ? o->has_sndtimeo_us : o->has_rcvtimeo_us) && us &&
		    setsockopt(fd, SOL_SOCKET, k ? SO_SNDTIMEO : SO_RCVTIMEO, &tv, sizeof(tv))) {
			ret = -errno;
			pr_perror("%s: SO_%sTIMEO", s->what, k ? "SND" : "RCV");
		}
	}
	if (o->bindtodevice && !ret &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, o->bindtodevice,
		       (socklen_t)strlen(o->bindtodevice) + 1)) {
		ret = -errno;
		pr_perror("%s: SO_BINDTODEVICE %s", s->what, o->bindtodevice);
	}
	if (e->protocol == IPPROTO_TCP) {
		SET(o->has_nodelay, SOL_TCP, TCP_NODELAY, o->nodelay);
		SET(o->has_cork && o->cork, SOL_TCP, TCP_CORK, 1);
		SET(o->has_keepidle, SOL_TCP, TCP_KEEPIDLE, o->keepidle);
		SET(o->has_keepintvl, SOL_TCP, TCP_KEEPINTVL, o->keepintvl);
		SET(o->has_keepcnt, SOL_TCP, TCP_KEEPCNT, o->keepcnt);
		SET(o->has_user_timeout, SOL_TCP, TCP_USER_TIMEOUT, o->user_timeout);
		SET(o->has_notsent_lowat && o->notsent_lowat, SOL_TCP, TCP_NOTSENT_LOWAT,
		    o->notsent_lowat);
		if (o->congestion && !ret &&
		    setsockopt(fd, SOL_TCP, TCP_CONGESTION, o->congestion,
			       (socklen_t)strlen(o->congestion))) {
			ret = -errno;
			pr_perror("%s: TCP_CONGESTION %s", s->what, o->congestion);
		}
	}
	SET(o->has_hdrincl && o->hdrincl && e->protocol != IPPROTO_RAW, SOL_IP, IP_HDRINCL, 1);
	SET(o->has_ipv6_checksum, SOL_RAW, IPV6_CHECKSUM, o->ipv6_checksum);
	if (!ret && o->has_icmp_filter &&
	    setsockopt(fd, SOL_RAW, ICMP_FILTER, &o->icmp_filter, sizeof(o->icmp_filter))) {
		ret = -errno;
		pr_perror("%s: ICMP_FILTER", s->what);
	}
	if (!ret && o->has_icmp6_filter &&
	    setsockopt(fd, SOL_ICMPV6, ICMP6_FILTER, o->icmp6_filter.data,
		       (socklen_t)o->icmp6_filter.len)) {
		ret = -errno;
		pr_perror("%s: ICMP6_FILTER", s->what);
	}
	SET(e->has_udplite_send_cscov, SOL_UDPLITE, UDPLITE_SEND_CSCOV, e->udplite_send_cscov);
	SET(e->has_udplite_recv_cscov, SOL_UDPLITE, UDPLITE_RECV_CSCOV, e->udplite_recv_cscov);
	for (size_t i = 0; i < o->n_ints && !ret; i++) {
		const SkIntOpt *x = o->ints[i];

		ret = rsk_seti(fd, s->what, (int)x->level, (int)x->name,
			       sk_int_opt_find(x->level, x->name)->str, x->value);
	}
	if (o->n_filter && !ret)
		ret = rsk_filter(fd, s->what, o->filter, o->n_filter,
				 o->has_filter_locked && o->filter_locked);
	return ret;
}

/* ---- creating ----------------------------------------------------------------------------- */

/* A socket that is not an established connection held by the dump. */
static int create_plain(struct risk *s)
{
	const InetSkEntry *e = s->e;
	struct sockaddr_storage ss;
	socklen_t l;
	int fd = socket((int)e->family, (int)e->type | SOCK_CLOEXEC, (int)e->protocol), ret;

	if (fd < 0) {
		pr_perror("%s: socket()", s->what);
		return -errno;
	}
	ret = risk_set_opts(s, fd);
	if (!ret && e->has_src_port && !e->closed) {
		l = risk_bind_addr(e, &ss);
		if (bind(fd, (struct sockaddr *)&ss, l)) {
			ret = -errno;
			pr_perror("%s: bind()", s->what);
		}
	}
	if (!ret && e->state == TCP_LISTEN && listen(fd, (int)e->backlog)) {
		ret = -errno;
		pr_perror("%s: listen(%u)", s->what, e->backlog);
	}
	if (!ret && e->type != SOCK_STREAM && e->has_dst_addr) {
		l = risk_sockaddr(e, true, &ss);
		if (connect(fd, (struct sockaddr *)&ss, l)) {
			ret = -errno;
			pr_perror("%s: connect()", s->what);
		}
	}
	if (!ret && e->n_msg_lens) /* before a shutdown of its receive side */
		ret = rudp_queue(s, fd);
	if (!ret && e->opts && e->opts->has_peek_off) /* the task's own, once its queue is in */
		ret = rsk_seti(fd, s->what, SOL_SOCKET, SO_PEEK_OFF, "SO_PEEK_OFF",
			       e->opts->peek_off);
	if (!ret && e->has_shutdown && e->shutdown && !e->closed) {
		int how = e->shutdown == 3 ? SHUT_RDWR : e->shutdown == 2 ? SHUT_WR : SHUT_RD;

		/* an unconnected datagram socket takes the flags and says ENOTCONN */
		if (shutdown(fd, how) && !(errno == ENOTCONN && e->type != SOCK_STREAM)) {
			ret = -errno;
			pr_perror("%s: shutdown(%d)", s->what, how);
		}
	}
	if (ret) {
		close(fd);
		return ret;
	}
	s->fd = fd;
	return 0;
}

static int create_all(struct restore_ctx *c, struct restore_inet *t)
{
	int ret = 0;

	/* what owns a port first: a connection's socket shares its listener's; each in its
	 * network namespace (restore-sknetns.h: the connections are all in the tree's) */
	for (size_t i = 0; i < t->n && !ret; i++) {
		bool in = false;

		if (t->v[i].e->tcp && !c->o->tcp_close)
			continue;
		ret = restore_sknetns_enter(c, restore_file(c, t->v[i].file_id), &in);
		if (!ret)
			ret = create_plain(&t->v[i]);
		ret = restore_sknetns_leave(c, in) ?: ret;
	}
	for (size_t i = 0; i < t->n && !ret; i++)
		if (t->v[i].e->tcp && !c->o->tcp_close)
			ret = rtcp_create(&t->v[i]);
	for (size_t i = 0; i < t->n && !ret; i++) {
		struct risk *s = &t->v[i];
		int fl = s->e->flags & O_NONBLOCK;

		if (fl && fcntl(s->fd, F_SETFL, fl)) {
			ret = -errno;
			pr_perror("%s: F_SETFL O_NONBLOCK", s->what);
		}
	}
	return ret;
}

int restore_inet_open(struct restore_ctx *c, const FileEntry *fe)
{
	struct restore_inet *t = c->isk;
	struct risk *s = NULL;
	int ret;

	if (!t) {
		pr_err("files.img: inet socket file %u was not checked\n", fe->id);
		return -EBADMSG;
	}
	if (t->n && t->v[0].fd < 0 && !t->resumed) {
		ret = create_all(c, t);
		if (ret)
			return ret;
	}
	for (size_t i = 0; i < t->n && !s; i++)
		if (t->v[i].file_id == fe->id)
			s = &t->v[i];
	if (!s || s->fd < 0) {
		pr_err("files.img: inet socket file %u is not in the socket table\n", fe->id);
		return -EBADMSG;
	}
	return restore_dup(s->fd, s->what);
}

int restore_inet_resume(struct restore_ctx *c)
{
	struct restore_inet *t = c->isk;
	int ret = 0;

	if (!t)
		return 0;
	for (size_t i = 0; i < t->n && !ret; i++)
		if (t->v[i].repair)
			ret = rtcp_resume(&t->v[i]);
	if (ret)
		return ret;
	for (size_t i = 0; i < t->n; i++) {
		if (t->v[i].fd >= 0)
			close(t->v[i].fd);
		t->v[i].fd = -1;
	}
	t->resumed = true;
	return 0;
}

void restore_inet_done(struct restore_ctx *c, bool ok)
{
	struct restore_inet *t = c->isk;
	bool held = false;

	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		held |= t->v[i].e->tcp && !c->o->tcp_close;
		if (t->v[i].fd >= 0) /* still in repair mode: closing it sends nothing */
			close(t->v[i].fd);
		free(t->v[i].data);
	}
	if (ok && held && c->o->network_lock == NETLOCK_NFTABLES) {
		char name[NETLOCK_NAME_MAX + 1];

		inet_lock_name(name, sizeof(name), c->inv->dump_id);
		netlock_unlock(name);
	}
	free(t->v);
	free(t);
	c->isk = NULL;
}
