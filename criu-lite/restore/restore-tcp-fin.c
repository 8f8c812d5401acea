/* restore-tcp-fin: the peer's FIN of a half-closed connection (CLOSE_WAIT, LAST_ACK, CLOSING),
 * given again to the restored socket.
 *
 * Repair mode has no way to put a received FIN in a socket: the socket is rebuilt established
 * with its receive sequence just before the FIN, and once out of repair mode, a FIN+ACK segment
 * "from the peer" is sent to it through a raw socket (IP_HDRINCL / IPV6_HDRINCL: the peer's
 * address as source, the FIN's own sequence number, acking what the peer had acked, the window
 * it had advertised). It is marked NETLOCK_BYPASS_MARK, so the network lock lets it through; it
 * never leaves the host (its destination is the socket's own, local, address). The socket then
 * takes the FIN as the kernel takes any: state, EOF after the queued bytes, and an ACK back
 * (which the lock drops: the peer had that ACK already). */
#include <arpa/inet.h>
#include <errno.h>
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
#include "criu-lite/restore/restore-inet.h"

#ifndef IPV6_HDRINCL
#define IPV6_HDRINCL 36
#endif

#define STATE_WAIT_S 10 /* for the socket to have taken the FIN (a loaded machine) */

static uint32_t sum16(const void *p, size_t n, uint32_t sum)
{
	const uint8_t *b = p;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		sum += (uint32_t)(b[n - 1] << 8);
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

static bool v4mapped(const ProtobufCBinaryData *a)
{
	static const uint8_t pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return a->len == 16 && !memcmp(a->data, pfx, 12);
}

/* The FIN+ACK the peer had sent, as the wire had it (no options: Linux takes a segment without
 * the timestamp option on a connection that has them). */
static void make_tcp(const struct risk *s, struct tcphdr *h)
{
	const InetSkEntry *e = s->e;
	const TcpRepairEntry *t = e->tcp;
	/* what the peer had acked: our FIN too where it was acked (LAST_ACK: not; CLOSING: not) */
	uint32_t una = t->snd_seq - t->outq_len - (tcp_our_fin(e->state) ? 1 : 0);

	memset(h, 0, sizeof(*h));
	h->source = htons((uint16_t)e->dst_port);
	h->dest = htons((uint16_t)e->src_port);
	h->seq = htonl(t->rcv_seq - 1); /* the FIN's own sequence number */
	h->ack_seq = htonl(una);
	h->doff = sizeof(*h) / 4;
	h->fin = 1;
	h->ack = 1;
	h->window = htons((uint16_t)(t->has_snd_wnd ? t->snd_wnd >> t->snd_wscale : 0xffff));
}

static int send_v4(const struct risk *s, const uint8_t *src, const uint8_t *dst, int fd)
{
	struct {
		struct iphdr ip;
		struct tcphdr tcp;
	} pkt = { 0 };
	struct sockaddr_in to = { .sin_family = AF_INET };
	uint32_t sum;

	pkt.ip.version = 4;
	pkt.ip.ihl = 5;
	pkt.ip.ttl = 64;
	pkt.ip.protocol = IPPROTO_TCP;
	pkt.ip.tot_len = htons(sizeof(pkt));
	memcpy(&pkt.ip.saddr, src, 4);
	memcpy(&pkt.ip.daddr, dst, 4);
	make_tcp(s, &pkt.tcp);
	sum = sum16(src, 4, 0);
	sum = sum16(dst, 4, sum);
	sum += IPPROTO_TCP + sizeof(pkt.tcp);
	pkt.tcp.check = fold(sum16(&pkt.tcp, sizeof(pkt.tcp), sum));
	memcpy(&to.sin_addr, dst, 4);
	return sendto(fd, &pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to)) ==
		       (ssize_t)sizeof(pkt)
		   ? 0
		   : -errno;
}

static int send_v6(const struct risk *s, const uint8_t *src, const uint8_t *dst, int fd)
{
	struct {
		struct ip6_hdr ip;
		struct tcphdr tcp;
	} pkt = { 0 };
	struct sockaddr_in6 to = { .sin6_family = AF_INET6 };
	uint32_t sum;

	pkt.ip.ip6_flow = htonl(6u << 28);
	pkt.ip.ip6_plen = htons(sizeof(pkt.tcp));
	pkt.ip.ip6_nxt = IPPROTO_TCP;
	pkt.ip.ip6_hlim = 64;
	memcpy(&pkt.ip.ip6_src, src, 16);
	memcpy(&pkt.ip.ip6_dst, dst, 16);
	make_tcp(s, &pkt.tcp);
	sum = sum16(src, 16, 0);
	sum = sum16(dst, 16, sum);
	sum += IPPROTO_TCP + sizeof(pkt.tcp);
	pkt.tcp.check = fold(sum16(&pkt.tcp, sizeof(pkt.tcp), sum));
	memcpy(&to.sin6_addr, dst, 16);
	return sendto(fd, &pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to)) ==
		       (ssize_t)sizeof(pkt)
		   ? 0
		   : -errno;
}

static int state_of(int fd)
{
	struct tcp_info ti = { 0 };
	socklen_t l = sizeof(ti);

	return getsockopt(fd, SOL_TCP, TCP_INFO, &ti, &l) ? -errno : ti.tcpi_state;
}

int rtcp_peer_fin(const struct risk *s, int want)
{
	const InetSkEntry *e = s->e;
	bool v4 = e->family == AF_INET || (v4mapped(&e->src_addr) && v4mapped(&e->dst_addr));
	const uint8_t *src = e->dst_addr.data + (v4 && e->family == AF_INET6 ? 12 : 0);
	const uint8_t *dst = e->src_addr.data + (v4 && e->family == AF_INET6 ? 12 : 0);
	int fd = socket(v4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW), on = 1, ret;
	unsigned mark = NETLOCK_BYPASS_MARK;
	struct timespec t0, now;

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) ||
	    (!v4 && setsockopt(fd, SOL_IPV6, IPV6_HDRINCL, &on, sizeof(on)))) {
		ret = -errno;
		pr_perror("%s: a raw socket to give it its peer's FIN again", s->what);
		if (fd >= 0)
			close(fd);
		return ret;
	}
	ret = v4 ? send_v4(s, src, dst, fd) : send_v6(s, src, dst, fd);
	close(fd);
	if (ret) {
		errno = -ret;
		pr_perror("%s: sending it its peer's FIN again", s->what);
		return ret;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) { /* taken in the softirq of the loopback: soon, but not before sendto() returns */
		int st = state_of(s->fd);

		if (st == want)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (st < 0 || now.tv_sec - t0.tv_sec > STATE_WAIT_S) {
			pr_err("%s: its peer's FIN, sent again, left it in state %d, not %d\n", s->what,
			       st, want);
			return -EIO;
		}
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
}
