/* dump-tcp: an established TCP connection of the dumped tree (sk-inet.h): locked, held in
 * repair mode, read; and, once the tree is released, let go of (dump_inet_finish()).
 *
 * Order, for each connection: its packets are dropped first (the network lock, net/netlock.h:
 * the table holds every connection locked so far and is replaced whole), then TCP_REPAIR is set
 * on a copy of the task's fd (the socket stops sending: no ACK, no retransmission, no window
 * probe), then its state is read. In repair mode, TCP_QUEUE_SEQ gives the send queue's
 * write_seq and the receive queue's rcv_nxt, and recv(MSG_PEEK) of the selected queue gives
 * its bytes without taking them: the send queue whole (SIOCOUTQ bytes, of which SIOCOUTQNSD
 * were never sent), the receive queue (SIOCINQ bytes). */
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define LOG_PREFIX "sockets: "
#include "criu-lite/dump/dump-inet.h"
#include "criu-lite/dump/dump.h"
#include "criu-lite/fault.h"
#include "criu-lite/kinds/netns.h"
#include "criu-lite/log.h"
#include "images/img.h"

/* One more connection for the lock (taken for all at once: dump_inet_hold_all()). */
static int add_conn(struct dump_inet *t, const struct isk *s)
{
	struct netlock_conn *v = realloc(t->conns, (t->nconns + 1) * sizeof(*v)), *c;

	if (!v)
		return -ENOMEM;
	t->conns = v;
	c = &v[t->nconns++];
	memset(c, 0, sizeof(*c));
	c->family = (int)s->e.family;
	memcpy(c->src, s->src, sizeof(c->src));
	memcpy(c->dst, s->dst, sizeof(c->dst));
	c->sport = (uint16_t)s->e.src_port;
	c->dport = (uint16_t)s->e.dst_port;
	return 0;
}

/* A copy of the connection's socket, kept by the dump and by the guard (started with the first
 * one) before it enters repair mode: whatever happens to the dumper, someone puts it back. */
static int hold(struct dump_shared *sh, struct dump_inet *t, int fd, const struct isk *s)
{
	struct isk_held *v = realloc(t->held, (t->nheld + 1) * sizeof(*v));
	bool reuse = s->o.has_reuseaddr && s->o.reuseaddr;
	char name[NETLOCK_NAME_MAX + 1];
	int dup, ret;

	if (!v)
		return -ENOMEM;
	t->held = v;
	if (t->nheld == TCP_GUARD_MAX) {
		pr_err("%s: more than %d established TCP connections in one dump: not supported\n",
		       s->what, TCP_GUARD_MAX);
		return -ENOTSUP;
	}
	if (!t->guard.pid) {
		inet_lock_name(name, sizeof(name), sh->dump_id);
		ret = tcp_guard_start(&t->guard,
				      sh->o->network_lock == NETLOCK_NFTABLES ? name : NULL);
		if (ret)
			return ret;
	}
	ret = tcp_guard_add(&t->guard, fd, reuse);
	if (ret)
		return ret;
	dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dup < 0) {
		ret = -errno;
		pr_perror("%s: dup", s->what);
		return ret;
	}
	v[t->nheld].fd = dup;
	v[t->nheld].reuse = reuse;
	v[t->nheld].repair = false;
	v[t->nheld].s = (struct isk *)s;
	snprintf(v[t->nheld].what, sizeof(v[t->nheld].what), "%s", s->what);
	t->nheld++;
	return 0;
}

/* The bytes of one queue (TCP_SEND_QUEUE or TCP_RECV_QUEUE) into buf: its sequence number and
 * exactly len bytes. */
static int read_queue(int fd, int q, const struct isk *s, char *buf, uint32_t len, uint32_t *seq)
{
	const char *name = q == TCP_SEND_QUEUE ? "send" : "receive";
	int v, ret;
	ssize_t n;

	if (setsockopt(fd, SOL_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q)) ||
	    !sk_geti(fd, SOL_TCP, TCP_QUEUE_SEQ, &v)) {
		ret = -errno;
		pr_perror("%s: selecting its %s queue (TCP_REPAIR_QUEUE, TCP_QUEUE_SEQ)", s->what,
			  name);
		return ret;
	}
	*seq = (uint32_t)v;
	if (!len)
		return 0;
	n = recv(fd, buf, len, MSG_PEEK | MSG_DONTWAIT);
	if (n != (ssize_t)len) {
		ret = n < 0 ? -errno : -EIO;
		if (n < 0)
			pr_perror("%s: reading its %s queue (%u bytes)", s->what, name, len);
		else
			pr_err("%s: its %s queue gave %zd of its %u bytes\n", s->what, name, n,
			       len);
		return ret;
	}
	return 0;
}

static int write_data(struct dump_shared *sh, struct isk *s, const char *buf, size_t len)
{
	struct img_err err = { 0 };
	char name[64];
	int ret;

	inet_data_name(name, sizeof(name), s->e.id);
	ret = raw_file_put(sh->dir, name, buf, len, &err);
	if (ret) {
		pr_err("%s: %s\n", s->what, err.msg);
		return ret;
	}
	s->t.has_data_crc32c = true;
	s->t.data_crc32c = img_crc32c(0, buf, len);
	return 0;
}

/* Everything TCP_REPAIR gives of the connection, and its queues. */
static int read_repair(struct dump_shared *sh, int fd, struct isk *s)
{
	TcpRepairEntry *t = &s->t;
	struct tcp_repair_window w;
	struct tcp_info ti = { 0 };
	socklen_t l = sizeof(ti);
	int inq, outq, unsent, v, no = TCP_NO_QUEUE, ret;
	char *buf;

	if (ioctl(fd, SIOCINQ, &inq) || ioctl(fd, SIOCOUTQ, &outq) ||
	    ioctl(fd, SIOCOUTQNSD, &unsent) || getsockopt(fd, SOL_TCP, TCP_INFO, &ti, &l) ||
	    !sk_geti(fd, SOL_TCP, TCP_MAXSEG, &v)) {
		ret = -errno;
		pr_perror("%s: its queues' lengths, TCP_INFO or TCP_MAXSEG", s->what);
		return ret;
	}
	/* our FIN is in the send queue's numbers (SIOCOUTQ while unacked, SIOCOUTQNSD while
	 * unsent), not in its bytes; SIOCINQ already leaves the peer's out */
	if (tcp_our_fin(s->e.state) && s->e.state != TCP_FIN_WAIT2 && outq > 0)
		outq--;
	if (tcp_our_fin(s->e.state) && unsent > 0)
		unsent--;
	t->inq_len = (uint32_t)inq;
	t->outq_len = (uint32_t)outq;
	t->unsent_len = (uint32_t)unsent;
	t->sack = ti.tcpi_options & TCPI_OPT_SACK;
	t->tstamp = ti.tcpi_options & TCPI_OPT_TIMESTAMPS;
	t->mss = (uint32_t)v; /* in repair mode TCP_MAXSEG is the clamp (the peer's MSS) */
	t->wscale = ti.tcpi_options & TCPI_OPT_WSCALE;
	t->snd_wscale = ti.tcpi_snd_wscale;
	t->rcv_wscale = ti.tcpi_rcv_wscale;
	if (t->tstamp && sk_geti(fd, SOL_TCP, TCP_TIMESTAMP, &v)) {
		t->has_timestamp = true;
		t->timestamp = (uint32_t)v;
	}
	l = sizeof(w);
	if (!getsockopt(fd, SOL_TCP, TCP_REPAIR_WINDOW, &w, &l)) {
		t->has_snd_wl1 = t->has_snd_wnd = t->has_max_window = t->has_rcv_wnd =
		    t->has_rcv_wup = true;
		t->snd_wl1 = w.snd_wl1;
		t->snd_wnd = w.snd_wnd;
		t->max_window = w.max_window;
		t->rcv_wnd = w.rcv_wnd;
		t->rcv_wup = w.rcv_wup;
	}
	buf = malloc((size_t)inq + (size_t)outq + 1);
	if (!buf) {
		pr_err("%s: out of memory for its queues (%d + %d bytes)\n", s->what, inq, outq);
		return -ENOMEM;
	}
	ret = read_queue(fd, TCP_RECV_QUEUE, s, buf, t->inq_len, &t->rcv_seq);
	if (!ret)
		ret = read_queue(fd, TCP_SEND_QUEUE, s, buf + inq, t->outq_len, &t->snd_seq);
	setsockopt(fd, SOL_TCP, TCP_REPAIR_QUEUE, &no, sizeof(no));
	if (!ret)
		ret = write_data(sh, s, buf, (size_t)inq + (size_t)outq);
	free(buf);
	s->e.tcp = t;
	return ret;
}

int dump_tcp_established(struct dump_shared *sh, struct dump_inet *t, int fd, struct isk *s)
{
	char a[80], b[80];
	int ret;

	isk_addr_str((int)s->e.family, s->src, s->e.src_port, a, sizeof(a));
	isk_addr_str((int)s->e.family, s->dst, s->e.dst_port, b, sizeof(b));
	if (sh->o->tcp_close) {
		s->e.has_closed = s->e.closed = true;
		return 0;
	}
	if (!sh->o->tcp_established) {
		pr_err("%s is an established TCP connection (%s -> %s): dump with "
		       "--tcp-established to keep it (or --tcp-close to restore it closed)\n",
		       s->what, a, b);
		return -ENOTSUP;
	}
	/* held (and read) once every task's files are seen: dump_inet_hold_all() */
	ret = hold(sh, t, fd, s);
	if (!ret)
		ret = add_conn(t, s);
	return ret;
}

/* One held connection into repair mode, then read: its state must be the one seen before. */
static int hold_one(struct dump_shared *sh, struct isk_held *h)
{
	struct isk *s = h->s;
	struct tcp_info ti = { 0 };
	socklen_t l = sizeof(ti);
	char a[80], b[80];
	int on = 1, ret;

	isk_addr_str((int)s->e.family, s->src, s->e.src_port, a, sizeof(a));
	isk_addr_str((int)s->e.family, s->dst, s->e.dst_port, b, sizeof(b));
	if (setsockopt(h->fd, SOL_TCP, TCP_REPAIR, &on, sizeof(on))) {
		ret = -errno;
		pr_perror("%s (%s -> %s): TCP_REPAIR (needs CAP_NET_ADMIN)", s->what, a, b);
		return ret;
	}
	h->repair = true; /* from here until dump_inet_finish() */
	ret = fault_inject(sh->o, "tcp-held");
	if (ret)
		return ret;
	if (getsockopt(h->fd, SOL_TCP, TCP_INFO, &ti, &l)) {
		pr_perror("%s: TCP_INFO", s->what);
		return -errno;
	}
	if (ti.tcpi_state != s->e.state) { /* a FIN came in meanwhile, say */
		pr_err("%s (%s -> %s): its state changed during the dump (%u -> %u): dump again\n",
		       s->what, a, b, s->e.state, ti.tcpi_state);
		return -EAGAIN;
	}
	pr_info("%s: the connection %s -> %s is held in repair mode\n", s->what, a, b);
	return read_repair(sh, h->fd, s);
}

int dump_inet_hold_all(struct dump_shared *sh)
{
	struct dump_inet *t = sh->inet;
	char name[NETLOCK_NAME_MAX + 1];
	int ret = 0;

	if (!t || !t->nheld)
		return 0;
	/* every connection's packets dropped first, in one transaction, then each held */
	if (sh->o->network_lock == NETLOCK_NFTABLES) {
		inet_lock_name(name, sizeof(name), sh->dump_id);
		ret = netlock_lock(name, t->conns, t->nconns);
		if (ret) {
			pr_err(
			    "can't lock the tree's %zu TCP connection(s) (network lock, nftables): "
			    "the dump needs it (--network-lock skip if the caller drops their "
			    "packets)\n",
			    t->nconns);
			return ret;
		}
		t->locked = true;
	}
	for (size_t i = 0; i < t->nheld && !ret; i++)
		ret = hold_one(sh, &t->held[i]);
	return ret;
}

void dump_inet_finish(struct dump_shared *sh, bool killed)
{
	struct dump_inet *t = sh->inet;
	char name[NETLOCK_NAME_MAX + 1];

	if (!t)
		return;
	dump_netns_back(sh); /* the lock lives in the tree's network namespace */
	for (size_t i = 0; i < t->nheld; i++) {
		const struct isk_held *h = &t->held[i];

		/* the tree runs on: so does each connection (killed: in repair mode, closing
		 * sends nothing) */
		if (!killed && h->repair && tcp_repair_off(h->fd, h->reuse))
			pr_perror("%s: can't leave repair mode: the connection is stuck", h->what);
		close(h->fd);
	}
	t->nheld = 0;
	tcp_guard_end(&t->guard, killed);
	if (t->locked && !killed) {
		inet_lock_name(name, sizeof(name), sh->dump_id);
		if (!netlock_unlock(name))
			t->locked = false;
	} else if (t->locked) {
		inet_lock_name(name, sizeof(name), sh->dump_id);
		pr_info("the network lock (nftables table inet %s) stays until the restore "
			"(--tcp-established) lifts it\n",
			name);
	}
	dump_netns_home(sh);
}

void dump_tcp_free(struct dump_inet *t)
{
	tcp_guard_end(&t->guard, false);
	for (size_t i = 0; i < t->nheld; i++)
		close(t->held[i].fd);
	free(t->held);
	free(t->conns);
}
