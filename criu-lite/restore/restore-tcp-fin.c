/* restore-tcp-fin: what a half-closed connection's peer had sent it, given again to the
 * restored socket: the peer's FIN (CLOSE_WAIT, LAST_ACK, CLOSING), and the peer's ACK of our FIN
 * (FIN_WAIT2).
 *
 * Repair mode has no way to put a received FIN in a socket: the socket is rebuilt established
 * with its receive sequence just before the FIN, and once out of repair mode, a FIN+ACK segment
 * "from the peer" is sent to it through a raw socket (IP_HDRINCL / IPV6_HDRINCL: the peer's
 * address as source, the FIN's own sequence number, acking what the peer had acked, the window
 * it had advertised). Nor has it a way to put a FIN in the send queue: our FIN is sent again
 * by shutdown() (the lock drops it: the peer had it), and where the peer had acked it
 * (FIN_WAIT2) its ACK is given again the same way, so the socket is in FIN_WAIT2 before its
 * task runs (without it the FIN would wait for a retransmission timeout to be acked again:
 * 3 s on a restored connection, which has no RTT sample). Each segment is marked
 * NETLOCK_BYPASS_MARK, so the network lock lets it through; it never leaves the host (its
 * destination is the socket's own, local, address). The socket takes it as the kernel takes
 * any: state, EOF after the queued bytes, and for a FIN an ACK back (which the lock drops: the
 * peer had that ACK already). */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LOG_PREFIX "sockets: "
#include "criu-lite/kinds/sk-inet.h"
#include "criu-lite/log.h"
#include "criu-lite/net/netlock.h"
#include "criu-lite/restore/rawpkt.h"
#include "criu-lite/restore/restore-inet.h"

#define STATE_WAIT_S 10 /* for the socket to have taken the FIN (a loaded machine) */

static bool v4mapped(const ProtobufCBinaryData *a)
{
	static const uint8_t pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return a->len == 16 && !memcmp(a->data, pfx, 12);
}

/* The FIN+ACK the peer had sent (fin), or its ACK of everything we sent, our FIN too (FIN_WAIT2),
 * as the wire had it (no options: Linux takes a segment without the timestamp option on a
 * connection that has them). */
static void make_tcp(const struct risk *s, bool fin, struct tcphdr *h)
{
	const InetSkEntry *e = s->e;
	const TcpRepairEntry *t = e->tcp;
	/* what the peer had acked with its FIN: not our FIN (LAST_ACK, CLOSING: it was not) */
	uint32_t una = t->snd_seq - t->outq_len - (tcp_our_fin(e->state) ? 1 : 0);

	memset(h, 0, sizeof(*h));
	h->source = htons((uint16_t)e->dst_port);
	h->dest = htons((uint16_t)e->src_port);
	h->seq = htonl(fin ? t->rcv_seq - 1 : t->rcv_seq); /* the FIN's own sequence number */
	h->ack_seq = htonl(fin ? una : t->snd_seq);
	h->doff = sizeof(*h) / 4;
	h->fin = fin;
	h->ack = 1;
	h->window = htons((uint16_t)(t->has_snd_wnd ? t->snd_wnd >> t->snd_wscale : 0xffff));
}

static int state_of(int fd)
{
	struct tcp_info ti = { 0 };
	socklen_t l = sizeof(ti);

	return getsockopt(fd, SOL_TCP, TCP_INFO, &ti, &l) ? -errno : ti.tcpi_state;
}

int rtcp_peer_segment(const struct risk *s, bool fin, int want)
{
	const InetSkEntry *e = s->e;
	bool v4 = e->family == AF_INET || (v4mapped(&e->src_addr) && v4mapped(&e->dst_addr));
	const uint8_t *src = e->dst_addr.data + (v4 && e->family == AF_INET6 ? 12 : 0);
	const uint8_t *dst = e->src_addr.data + (v4 && e->family == AF_INET6 ? 12 : 0);
	struct timespec t0, now;
	struct tcphdr h;
	int ret;

	make_tcp(s, fin, &h);
	ret = rawpkt_send(v4, src, dst, IPPROTO_TCP, &h, sizeof(h), offsetof(struct tcphdr, check),
			  NETLOCK_BYPASS_MARK);
	if (ret) {
		errno = -ret;
		pr_perror("%s: sending it its peer's %s again", s->what, fin ? "FIN" : "ACK");
		return ret;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) { /* taken in the softirq of the loopback: soon, but not before sendto() returns */
		int st = state_of(s->fd);

		if (st == want)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (st < 0 || now.tv_sec - t0.tv_sec > STATE_WAIT_S) {
			pr_err("%s: its peer's %s, sent again, left it in state %d, not %d\n",
			       s->what, fin ? "FIN" : "ACK", st, want);
			return -EIO;
		}
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
}
