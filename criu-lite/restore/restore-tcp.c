/* restore-tcp: an established TCP connection of the dump, rebuilt through TCP_REPAIR
 * (restore-inet.h).
 *
 * In repair mode nothing is sent: bind() takes the port even while its listener holds it
 * (repair forces SO_REUSEADDR), TCP_QUEUE_SEQ sets where each queue starts, connect() makes
 * the socket ESTABLISHED without a SYN, TCP_REPAIR_OPTIONS gives what the handshake had agreed
 * (MSS, window scale, SACK, timestamps), send() with TCP_RECV_QUEUE selected puts bytes in the
 * receive queue as if they had come, and with TCP_SEND_QUEUE selected in the send queue as if
 * they had been sent (not acked yet: they go again when the retransmission timer says so).
 * The bytes that had never been sent are sent normally once repair mode is off
 * (rtcp_resume()), just before the tasks run; until the restore lifts the network lock, what
 * the socket sends is dropped, so the peer sees a pause, not a reset. */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define LOG_PREFIX "sockets: "
#include "criu-lite/kinds/sk-inet.h"
#include "criu-lite/log.h"
#include "criu-lite/net/netlock.h"
#include "criu-lite/restore/restore-inet.h"
#include "criu-lite/restore/restore-sk.h"

#define QUEUE_STEP (64u << 10) /* bytes per send() into a queue in repair mode */

#ifndef TCPOPT_MSS
#define TCPOPT_MSS	 2
#define TCPOPT_WINDOW	 3
#define TCPOPT_SACK_PERM 4
#define TCPOPT_TIMESTAMP 8
#endif

/* All of len bytes from data into the queue q (TCP_RECV_QUEUE, TCP_SEND_QUEUE), in repair
 * mode; or, with q 0, sent normally. */
static int put(const struct risk *s, int fd, int q, const char *data, uint32_t len)
{
	const char *name = q == TCP_RECV_QUEUE	 ? "receive queue"
			   : q == TCP_SEND_QUEUE ? "send queue"
						 : "unsent data";
	uint32_t done = 0;
	int ret;

	if (q && (ret = rsk_seti(fd, s->what, SOL_TCP, TCP_REPAIR_QUEUE, "TCP_REPAIR_QUEUE", q)))
		return ret;
	while (done < len) {
		uint32_t n = len - done < QUEUE_STEP ? len - done : QUEUE_STEP;
		ssize_t w = send(fd, data + done, n, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			ret = w < 0 ? -errno : -EIO;
			pr_perror("%s: writing its %s (%u of %u bytes in)", s->what, name, done,
				  len);
			return ret;
		}
		done += (uint32_t)w;
	}
	return 0;
}

static int set_bufs(const struct risk *s, int fd, int snd, int rcv)
{
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof(snd)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv))) {
		pr_perror("%s: SO_SNDBUFFORCE/SO_RCVBUFFORCE", s->what);
		return -errno;
	}
	return 0;
}

static int set_repair_opts(const struct risk *s, int fd)
{
	const TcpRepairEntry *t = s->e->tcp;
	struct tcp_repair_opt o[4];
	int n = 0;

	o[n++] = (struct tcp_repair_opt){ TCPOPT_MSS, t->mss };
	if (t->wscale)
		o[n++] =
		    (struct tcp_repair_opt){ TCPOPT_WINDOW, t->snd_wscale | (t->rcv_wscale << 16) };
	if (t->sack)
		o[n++] = (struct tcp_repair_opt){ TCPOPT_SACK_PERM, 0 };
	if (t->tstamp)
		o[n++] = (struct tcp_repair_opt){ TCPOPT_TIMESTAMP, 0 };
	if (setsockopt(fd, SOL_TCP, TCP_REPAIR_OPTIONS, o, (socklen_t)(n * sizeof(o[0])))) {
		pr_perror("%s: TCP_REPAIR_OPTIONS", s->what);
		return -errno;
	}
	if (t->has_timestamp &&
	    setsockopt(fd, SOL_TCP, TCP_TIMESTAMP, &t->timestamp, sizeof(t->timestamp))) {
		pr_perror("%s: TCP_TIMESTAMP", s->what);
		return -errno;
	}
	return 0;
}

/* The MSS in use was computed at connect() from the default clamp (536), and the repair
 * option sets the clamp only: it is computed again where an option change makes the kernel do
 * it (tcp_sync_mss() with the path MTU it has): empty IP options for IPv4, empty sticky
 * options (an IPV6_2292PKTOPTIONS whose one cmsg sets nothing sticky) for IPv6 and
 * v4-mapped. */
static int resync_mss(const struct risk *s, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct cmsghdr *c = (struct cmsghdr *)cbuf;
	int hops = 64;

	if (s->e->family == AF_INET) {
		if (!setsockopt(fd, SOL_IP, IP_OPTIONS, NULL, 0))
			return 0;
		pr_perror("%s: IP_OPTIONS (to compute the MSS again)", s->what);
		return -errno;
	}
	c->cmsg_level = SOL_IPV6;
	c->cmsg_type = IPV6_2292HOPLIMIT;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &hops, sizeof(hops));
	if (!setsockopt(fd, SOL_IPV6, IPV6_2292PKTOPTIONS, cbuf, sizeof(cbuf)))
		return 0;
	pr_perror("%s: IPV6_2292PKTOPTIONS (to compute the MSS again)", s->what);
	return -errno;
}

static int set_window(const struct risk *s, int fd)
{
	const TcpRepairEntry *t = s->e->tcp;
	struct tcp_repair_window w = { t->snd_wl1, t->snd_wnd, t->max_window, t->rcv_wnd,
				       t->rcv_wup };
	uint32_t nxt = t->rcv_seq - tcp_peer_fin(s->e->state);

	if (!t->has_snd_wl1)
		return 0;
	/* the peer's FIN comes again after: the window may not be updated past it yet */
	if ((int32_t)(w.rcv_wup - nxt) > 0)
		w.rcv_wup = nxt;
	if (setsockopt(fd, SOL_TCP, TCP_REPAIR_WINDOW, &w, sizeof(w))) {
		pr_perror("%s: TCP_REPAIR_WINDOW", s->what);
		return -errno;
	}
	return 0;
}

int rtcp_create(struct risk *s)
{
	const InetSkEntry *e = s->e;
	const TcpRepairEntry *t = e->tcp;
	struct sockaddr_storage ss;
	socklen_t l;
	int fd = socket((int)e->family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP), ret;

	if (fd < 0) {
		pr_perror("%s: socket()", s->what);
		return -errno;
	}
	/* the options first: SO_REUSEADDR would take back the reuse repair mode forces */
	ret = risk_set_opts(s, fd);
	if (!ret)
		ret = rsk_seti(fd, s->what, SOL_TCP, TCP_REPAIR, "TCP_REPAIR", 1);
	if (ret) {
		close(fd);
		return ret;
	}
	s->fd = fd; /* from here on closed in repair mode: silently */
	s->repair = true;
	l = risk_bind_addr(e, &ss);
	if (bind(fd, (struct sockaddr *)&ss, l)) {
		pr_perror("%s: bind()", s->what);
		return -errno;
	}
	/* a FIN took a sequence number: both queues start before it (each is given again after
	 * repair mode: rtcp_resume()) */
	if ((ret = rsk_seti(fd, s->what, SOL_TCP, TCP_REPAIR_QUEUE, "TCP_REPAIR_QUEUE",
			    TCP_SEND_QUEUE)) ||
	    (ret = rsk_seti(fd, s->what, SOL_TCP, TCP_QUEUE_SEQ, "TCP_QUEUE_SEQ",
			    (int)(t->snd_seq - t->outq_len - tcp_our_fin(e->state)))) ||
	    (ret = rsk_seti(fd, s->what, SOL_TCP, TCP_REPAIR_QUEUE, "TCP_REPAIR_QUEUE",
			    TCP_RECV_QUEUE)) ||
	    (ret = rsk_seti(fd, s->what, SOL_TCP, TCP_QUEUE_SEQ, "TCP_QUEUE_SEQ",
			    (int)(t->rcv_seq - t->inq_len - tcp_peer_fin(e->state)))))
		return ret;
	l = risk_sockaddr(e, true, &ss);
	if (connect(fd, (struct sockaddr *)&ss, l)) {
		pr_perror("%s: connect() in repair mode", s->what);
		return -errno;
	}
	ret = set_repair_opts(s, fd);
	if (!ret) /* room for the queues whatever their skbs cost; the dumped sizes come after */
		ret = set_bufs(s, fd, INT_MAX / 2, INT_MAX / 2);
	if (!ret)
		ret = put(s, fd, TCP_RECV_QUEUE, s->data, t->inq_len);
	/* the window once the receive queue is in (its rcv_wup may not pass rcv_nxt); then the
	 * MSS, which is at most half the largest window seen; then what the send queue had sent
	 * and not had acked yet, cut to that MSS */
	if (!ret)
		ret = set_window(s, fd);
	if (!ret)
		ret = resync_mss(s, fd);
	if (!ret) /* all of it when our FIN comes after: it goes behind them (retransmitted) */
		ret = put(s, fd, TCP_SEND_QUEUE, s->data + t->inq_len,
			  t->outq_len - (tcp_our_fin(e->state) ? 0 : t->unsent_len));
	if (!ret)
		ret = rsk_seti(fd, s->what, SOL_TCP, TCP_REPAIR_QUEUE, "TCP_REPAIR_QUEUE",
			       TCP_NO_QUEUE);
	return ret;
}

/* FIN_WAIT2: our FIN sent again with the lock's bypass mark (a FIN the lock drops is not sent
 * at all for TCP: the kernel keeps it queued until a retransmission timeout, 3 s on a restored
 * connection), so that the peer's ACK of it, given again, acks what was sent. The peer had
 * that FIN: it answers a duplicate ACK, which the lock drops. A FIN that can't leave (a closed
 * window) stays queued and the socket shows FIN_WAIT1 until the peer acks it. */
static int fin_acked(struct risk *s)
{
	int mark = 0, bypass = (int)NETLOCK_BYPASS_MARK, unsent = 0, ret = 0;
	socklen_t l = sizeof(mark);

	if (getsockopt(s->fd, SOL_SOCKET, SO_MARK, &mark, &l) ||
	    setsockopt(s->fd, SOL_SOCKET, SO_MARK, &bypass, sizeof(bypass)) ||
	    shutdown(s->fd, SHUT_WR) ||
	    setsockopt(s->fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) ||
	    ioctl(s->fd, SIOCOUTQNSD, &unsent)) {
		ret = -errno;
		pr_perror("%s: its FIN again (SO_MARK, shutdown(SHUT_WR))", s->what);
		return ret;
	}
	if (unsent) {
		pr_info("%s: its FIN waits to be sent again: FIN_WAIT1 until its peer acks it\n",
			s->what);
		return 0;
	}
	return rtcp_peer_segment(s, false, TCP_FIN_WAIT2);
}

/* The FINs again, in the order they had come: ours is sent (the lock drops it: the peer had
 * it), the peer's is given again, and so is the peer's ACK of ours where it had come
 * (FIN_WAIT2; restore-tcp-fin.c). */
static int half_close(struct risk *s)
{
	int st = (int)s->e->state, ret = 0;

	if (st == TCP_LAST_ACK) /* the peer's first */
		ret = rtcp_peer_segment(s, true, TCP_CLOSE_WAIT);
	else if (st == TCP_CLOSE_WAIT)
		return rtcp_peer_segment(s, true, TCP_CLOSE_WAIT);
	if (!ret && st == TCP_FIN_WAIT2) /* ours, acked: sent past the lock, then the ACK */
		return fin_acked(s);
	if (!ret && tcp_our_fin(s->e->state) && shutdown(s->fd, SHUT_WR)) {
		ret = -errno;
		pr_perror("%s: shutdown(SHUT_WR) for its FIN", s->what);
	}
	if (!ret && st == TCP_CLOSING) /* ours first, then the peer's */
		ret = rtcp_peer_segment(s, true, TCP_CLOSING);
	return ret;
}

int rtcp_resume(struct risk *s)
{
	const InetSkEntry *e = s->e;
	const TcpRepairEntry *t = e->tcp;
	int ret = rsk_seti(s->fd, s->what, SOL_TCP, TCP_REPAIR, "TCP_REPAIR", 0);

	if (ret)
		return ret;
	s->repair = false;
	/* leaving repair mode clears SO_REUSEADDR */
	if (e->opts && e->opts->has_reuseaddr && e->opts->reuseaddr)
		ret = rsk_seti(s->fd, s->what, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR", 1);
	if (ret)
		return ret;
	if (t->unsent_len && !tcp_our_fin(e->state))
		ret = put(s, s->fd, 0, s->data + t->inq_len + (t->outq_len - t->unsent_len),
			  t->unsent_len);
	if (!ret)
		ret = half_close(s);
	if (!ret && e->opts && e->opts->has_sndbuf && e->opts->has_rcvbuf)
		ret = set_bufs(s, s->fd, e->opts->sndbuf / 2, e->opts->rcvbuf / 2);
	if (!ret && e->has_shutdown && (e->shutdown & 1) && shutdown(s->fd, SHUT_RD)) {
		ret = -errno;
		pr_perror("%s: shutdown(SHUT_RD)", s->what);
	}
	return ret;
}
