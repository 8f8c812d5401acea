/* sock_raw00: raw and ICMP (ping) sockets survive checkpoint/restore with their protocol,
 * binding, peer and options, and work after it. Root (raw sockets need CAP_NET_RAW).
 *  - icmp4: SOCK_RAW IPPROTO_ICMP bound to 127.0.0.1, ICMP_FILTER passing only echo replies;
 *  - hdr4: SOCK_RAW protocol 254 (experimental: no traffic of others reaches it), IP_HDRINCL 1,
 *    connected to 127.0.0.1;
 *  - icmp6: SOCK_RAW IPPROTO_ICMPV6 bound to ::1, ICMP6_FILTER passing only echo replies;
 *  - p253: SOCK_RAW protocol 253 (experimental) on v6, IPV6_CHECKSUM 2;
 *  - ping4: SOCK_DGRAM IPPROTO_ICMP (a ping socket), bound to 127.0.0.1 with its identifier,
 *    only where net.ipv4.ping_group_range lets us make one (the test says so otherwise).
 * After the restore: each has the type, protocol, family, name, peer and options (SO_RCVBUF,
 * IP_HDRINCL, ICMP_FILTER, ICMP6_FILTER, IPV6_CHECKSUM) of before; then icmp4 sends an echo
 * request with an identifier of its own to 127.0.0.1 and reads the echo reply to it (the
 * filter keeps the request itself out: the first packet it reads must be a reply), icmp6
 * likewise on ::1 (the kernel checksums ICMPv6), ping4 sends an echo and reads its reply. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"
#include "zdtminet.h"

#ifndef ICMP_FILTER
#define ICMP_FILTER 1
#endif

enum { ICMP4, HDR4, ICMP6S, P253, PING4, NSOCK };

static struct rsock {
	const char *what;
	int fd;
	struct test_name name, peer;
	bool has_peer, icmp6; /* icmp6: ICMP6_FILTER in the place of ICMP_FILTER */
	unsigned char opt[4][64];
	socklen_t optlen[4];
} sk[NSOCK];

static const struct {
	int level, opt;
} optv[4] = { { SOL_SOCKET, SO_RCVBUF },
	      { SOL_IP, IP_HDRINCL },
	      { SOL_RAW, ICMP_FILTER },
	      { SOL_RAW, IPV6_CHECKSUM } };

static void read_state(struct rsock *s)
{
	s->has_peer = test_name_get(s->fd, true, &s->peer) == 0;
	test_name_get(s->fd, false, &s->name);
	for (int i = 0; i < 4; i++) {
		s->optlen[i] = sizeof(s->opt[i]);
		if (getsockopt(s->fd, optv[i].level, optv[i].opt, s->opt[i], &s->optlen[i]))
			s->optlen[i] = 0; /* not one this socket has */
	}
	if (s->icmp6) {
		s->optlen[2] = sizeof(s->opt[2]);
		if (getsockopt(s->fd, SOL_ICMPV6, ICMP6_FILTER, s->opt[2], &s->optlen[2]))
			s->optlen[2] = 0;
	}
}

static int same_state(struct rsock *s)
{
	struct rsock now = *s;
	char a[80], b[80];

	read_state(&now);
	if (now.has_peer != s->has_peer || (s->has_peer && !test_name_eq(&now.peer, &s->peer))) {
		fail("%s: its peer is %s, expected %s", s->what,
		     now.has_peer ? test_name_str(&now.peer, a, sizeof(a)) : "none",
		     s->has_peer ? test_name_str(&s->peer, b, sizeof(b)) : "none");
		return -1;
	}
	if (!test_name_eq(&now.name, &s->name)) {
		fail("%s: its name is %s, expected %s", s->what,
		     test_name_str(&now.name, a, sizeof(a)), test_name_str(&s->name, b, sizeof(b)));
		return -1;
	}
	for (int i = 0; i < 4; i++)
		if (now.optlen[i] != s->optlen[i] || memcmp(now.opt[i], s->opt[i], s->optlen[i])) {
			fail("%s: option %d/%d reads %u bytes (first word %#x), expected %u (%#x)",
			     s->what, optv[i].level, optv[i].opt, now.optlen[i],
			     now.optlen[i] >= 4 ? *(unsigned *)now.opt[i] : 0, s->optlen[i],
			     s->optlen[i] >= 4 ? *(unsigned *)s->opt[i] : 0);
			return -1;
		}
	return 0;
}

static uint16_t csum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		sum += (uint32_t)(b[n - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* An echo request with identifier id to 127.0.0.1 (or ::1) through fd; then the first packet
 * fd reads must be the reply to it (v4 raw: after its IP header). */
static int echo(const char *what, int fd, int family, bool ping, uint16_t id)
{
	unsigned char buf[256];
	struct test_name to;
	struct icmphdr h = { .type = family == AF_INET ? ICMP_ECHO : ICMP6_ECHO_REQUEST };
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;
	size_t off;

	h.un.echo.id = htons(id);
	h.un.echo.sequence = htons(7);
	if (family == AF_INET && !ping)
		h.checksum = csum(&h, sizeof(h));
	test_name_make(&to, family == AF_INET ? "127.0.0.1" : "::1", 0);
	if (sendto(fd, &h, sizeof(h), 0, (struct sockaddr *)&to.a, to.len) != sizeof(h)) {
		fail_errno("%s: sending an echo request", what);
		return -1;
	}
	if (poll(&p, 1, -1) != 1 || (n = recv(fd, buf, sizeof(buf), 0)) < 0) {
		fail_errno("%s: reading the echo reply", what);
		return -1;
	}
	off = family == AF_INET && !ping ? (size_t)((buf[0] & 0xf) * 4) : 0;
	if ((size_t)n < off + sizeof(h)) {
		fail("%s: a packet of %zd bytes", what, n);
		return -1;
	}
	memcpy(&h, buf + off, sizeof(h));
	if (h.type != (family == AF_INET ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY) ||
	    (!ping && ntohs(h.un.echo.id) != id) || ntohs(h.un.echo.sequence) != 7) {
		fail("%s: read ICMP type %d id %u seq %u, expected the echo reply (id %u, seq 7)",
		     what, h.type, ntohs(h.un.echo.id), ntohs(h.un.echo.sequence), id);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct icmp6_filter f6;
	struct test_name n;
	uint32_t f4 = ~(1u << ICMP_ECHOREPLY);
	int one = 1, two = 2;

	if (test_init(argc, argv))
		return 1;
	sk[ICMP4] = (struct rsock){ .what = "icmp4",
				    .fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK, IPPROTO_ICMP) };
	sk[HDR4] = (struct rsock){ .what = "hdr4", .fd = socket(AF_INET, SOCK_RAW, 254) };
	sk[ICMP6S] =
	    (struct rsock){ .what = "icmp6",
			    .icmp6 = true,
			    .fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK, IPPROTO_ICMPV6) };
	sk[P253] = (struct rsock){ .what = "p253", .fd = socket(AF_INET6, SOCK_RAW, 253) };
	sk[PING4] =
	    (struct rsock){ .what = "ping4",
			    .fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, IPPROTO_ICMP) };
	for (int i = 0; i < PING4; i++)
		if (sk[i].fd < 0) {
			fail_errno("socket for %s (needs CAP_NET_RAW)", sk[i].what);
			return 1;
		}
	if (sk[PING4].fd < 0)
		test_msg("no ping socket here (net.ipv4.ping_group_range): %s; raw sockets only\n",
			 strerror(errno));
	ICMP6_FILTER_SETBLOCKALL(&f6);
	ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f6);
	if (setsockopt(sk[ICMP4].fd, SOL_RAW, ICMP_FILTER, &f4, sizeof(f4)) ||
	    test_name_make(&n, "127.0.0.1", 0) ||
	    bind(sk[ICMP4].fd, (struct sockaddr *)&n.a, n.len) ||
	    setsockopt(sk[HDR4].fd, SOL_IP, IP_HDRINCL, &one, sizeof(one)) ||
	    connect(sk[HDR4].fd, (struct sockaddr *)&n.a, n.len) ||
	    setsockopt(sk[ICMP6S].fd, SOL_ICMPV6, ICMP6_FILTER, &f6, sizeof(f6)) ||
	    test_name_make(&n, "::1", 0) || bind(sk[ICMP6S].fd, (struct sockaddr *)&n.a, n.len) ||
	    setsockopt(sk[P253].fd, SOL_RAW, IPV6_CHECKSUM, &two, sizeof(two)) ||
	    setsockopt(sk[P253].fd, SOL_SOCKET, SO_RCVBUF, &(int){ 65536 }, sizeof(int))) {
		fail_errno("setting the sockets up");
		return 1;
	}
	if (sk[PING4].fd >= 0 && (test_name_make(&n, "127.0.0.1", 0) ||
				  bind(sk[PING4].fd, (struct sockaddr *)&n.a, n.len))) {
		fail_errno("binding the ping socket");
		return 1;
	}
	for (int i = 0; i < NSOCK; i++)
		if (sk[i].fd >= 0)
			read_state(&sk[i]);
	/* it all works before the checkpoint (and nothing is left queued) */
	if (echo("icmp4 before", sk[ICMP4].fd, AF_INET, false, 0x4a4a) ||
	    echo("icmp6 before", sk[ICMP6S].fd, AF_INET6, false, 0x4b4b) ||
	    (sk[PING4].fd >= 0 && echo("ping4 before", sk[PING4].fd, AF_INET, true, 0)))
		return 1;
	/* icmp4 also got a copy of ping4's reply: nothing stays queued */
	while (recv(sk[ICMP4].fd, (char[256]){ 0 }, 256, 0) > 0)
		;

	test_daemon();
	test_waitsig();

	for (int i = 0; i < NSOCK; i++)
		if (sk[i].fd >= 0 && same_state(&sk[i]))
			return 1;
	if (echo("icmp4", sk[ICMP4].fd, AF_INET, false, 0x5a5a) ||
	    echo("icmp6", sk[ICMP6S].fd, AF_INET6, false, 0x5b5b) ||
	    (sk[PING4].fd >= 0 && echo("ping4", sk[PING4].fd, AF_INET, true, 0)))
		return 1;
	pass();
	return 0;
}
