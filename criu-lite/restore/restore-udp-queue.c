/* restore-udp-queue: the datagrams a UDP socket had queued for reading (sk-inet.h), given to
 * it again, in order, each from its own sender: a UDP packet "from" the sender's address and
 * port to the socket's own (rawpkt.h; a socket bound to the wildcard gets them on the
 * loopback address of its family). What the task reads is the payload and the sender; what it
 * could read about the packet itself (IP_PKTINFO's destination, IP_RECVTTL, IP_RECVTOS,
 * timestamps) is that of the new packet (docs/fds.md). */
#include <errno.h>
#include <stddef.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define LOG_PREFIX "sockets: "
#include "criu-lite/log.h"
#include "criu-lite/restore/rawpkt.h"
#include "criu-lite/restore/restore-inet.h"

#define ARRIVE_MS 10000 /* for the first of them to be in (a loaded machine) */

static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
static const uint8_t lo4[4] = { 127, 0, 0, 1 };

int rudp_check(const struct risk *s)
{
	const InetSkEntry *e = s->e;
	uint64_t sum = 0;

	if (e->n_msg_lens != e->n_msg_from || !e->has_data_len || !e->has_data_crc32c)
		return -EBADMSG;
	for (size_t i = 0; i < e->n_msg_lens; i++) {
		if (e->msg_lens[i] > 65507 ||
		    e->msg_from[i]->addr.len != (e->family == AF_INET ? 4u : 16u) ||
		    e->msg_from[i]->port > 65535)
			return -EBADMSG;
		sum += e->msg_lens[i];
	}
	return sum == e->data_len ? 0 : -EBADMSG;
}

int rudp_queue(const struct risk *s, int fd)
{
	const InetSkEntry *e = s->e;
	struct sockaddr_storage ss = { 0 };
	socklen_t l = sizeof(ss);
	uint8_t *pkt = malloc(sizeof(struct udphdr) + 65535), dst[16] = { 0 };
	uint16_t port;
	size_t off = 0;
	int ret = 0;

	if (!pkt)
		return -ENOMEM;
	if (getsockname(fd, (struct sockaddr *)&ss, &l)) {
		ret = -errno;
		pr_perror("%s: its name, to give it its queued datagrams", s->what);
		free(pkt);
		return ret;
	}
	if (e->family == AF_INET) {
		memcpy(dst, &((struct sockaddr_in *)&ss)->sin_addr, 4);
		port = ((struct sockaddr_in *)&ss)->sin_port;
		if (!memcmp(dst, (const uint8_t[4]){ 0 }, 4))
			memcpy(dst, lo4, 4);
	} else {
		memcpy(dst, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
		port = ((struct sockaddr_in6 *)&ss)->sin6_port;
		if (!memcmp(dst, &in6addr_any, 16))
			memcpy(dst, &in6addr_loopback, 16);
	}
	for (size_t i = 0; i < e->n_msg_lens && !ret; i++) {
		const uint8_t *src = e->msg_from[i]->addr.data;
		const uint8_t *to = dst;
		struct udphdr *h = (struct udphdr *)pkt;
		size_t n = e->msg_lens[i];
		bool v4 = e->family == AF_INET;

		/* a v6 socket's v4 sender (::ffff:a.b.c.d) sent IPv4, to a v4 address of ours */
		if (!v4 && !memcmp(src, mapped, 12)) {
			v4 = true;
			src += 12;
			to = memcmp(dst, mapped, 12) ? lo4 : dst + 12;
		}
		memset(h, 0, sizeof(*h));
		h->source = htons((uint16_t)e->msg_from[i]->port);
		h->dest = port;
		h->len = htons((uint16_t)(sizeof(*h) + n));
		memcpy(pkt + sizeof(*h), s->data + off, n);
		off += n;
		ret = rawpkt_send(v4, src, to, IPPROTO_UDP, pkt, sizeof(*h) + n,
				  offsetof(struct udphdr, check), 0);
		if (ret) {
			errno = -ret;
			pr_perror("%s: giving it again its queued datagram %zu", s->what, i);
		}
	}
	free(pkt);
	if (!ret && e->n_msg_lens) { /* looped back in a softirq: in soon, not at once */
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, ARRIVE_MS) != 1) {
			pr_err("%s: its queued datagrams, given again, did not arrive\n", s->what);
			ret = -EIO;
		}
	}
	return ret;
}
