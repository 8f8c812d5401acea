/* rawpkt: see rawpkt.h. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "criu-lite/restore/rawpkt.h"

#ifndef IPV6_HDRINCL
#define IPV6_HDRINCL 36
#endif

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

int rawpkt_send(bool v4, const uint8_t *src, const uint8_t *dst, uint8_t proto, void *l4,
		size_t len, size_t csum_off, unsigned mark)
{
	size_t alen = v4 ? 4 : 16, hlen = v4 ? sizeof(struct iphdr) : sizeof(struct ip6_hdr);
	struct sockaddr_storage to = { 0 };
	uint8_t *pkt = calloc(1, hlen + len);
	uint32_t sum = sum16(src, alen, sum16(dst, alen, 0)) + proto + (uint32_t)len;
	uint16_t c;
	int fd, on = 1, ret = 0;

	if (!pkt || len > 65535 - hlen) {
		free(pkt);
		return pkt ? -EMSGSIZE : -ENOMEM;
	}
	c = fold(sum16(l4, len, sum));
	if (proto == IPPROTO_UDP && !c)
		c = 0xffff; /* a UDP checksum of 0 means none */
	memcpy((uint8_t *)l4 + csum_off, &c, 2);
	memcpy(pkt + hlen, l4, len);
	if (v4) {
		struct iphdr *h = (struct iphdr *)pkt;
		struct sockaddr_in *t = (struct sockaddr_in *)&to;

		h->version = 4;
		h->ihl = 5;
		h->ttl = 64;
		h->protocol = proto;
		h->tot_len = htons((uint16_t)(hlen + len));
		memcpy(&h->saddr, src, 4);
		memcpy(&h->daddr, dst, 4);
		t->sin_family = AF_INET;
		memcpy(&t->sin_addr, dst, 4);
	} else {
		struct ip6_hdr *h = (struct ip6_hdr *)pkt;
		struct sockaddr_in6 *t = (struct sockaddr_in6 *)&to;

		h->ip6_flow = htonl(6u << 28);
		h->ip6_plen = htons((uint16_t)len);
		h->ip6_nxt = proto;
		h->ip6_hlim = 64;
		memcpy(&h->ip6_src, src, 16);
		memcpy(&h->ip6_dst, dst, 16);
		t->sin6_family = AF_INET6;
		memcpy(&t->sin6_addr, dst, 16);
	}
	fd = socket(v4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (fd < 0 || (mark && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark))) ||
	    (!v4 && setsockopt(fd, SOL_IPV6, IPV6_HDRINCL, &on, sizeof(on))) ||
	    sendto(fd, pkt, hlen + len, 0, (struct sockaddr *)&to,
		   v4 ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)) !=
		(ssize_t)(hlen + len))
		ret = -errno;
	if (fd >= 0)
		close(fd);
	free(pkt);
	return ret;
}
