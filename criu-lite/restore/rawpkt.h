/* rawpkt: one IPv4 or IPv6 packet made whole and sent through a raw socket (IP_HDRINCL,
 * IPV6_HDRINCL): the restore's way to give a restored socket what it had received (a peer's
 * FIN, queued datagrams) with the sender's address as source. The packets go to a local address
 * and never leave the host.
 *
 * Contract: rawpkt_send() puts an IP header (src, dst: 4 or 16 bytes as v4 says; TTL 64) before
 * the len bytes of the transport header and payload at l4, whose checksum (at csum_off, zero on
 * entry) it fills over the pseudo-header, marks the packet with mark (SO_MARK; 0: none), and
 * sends it to dst. 0 or -errno (not logged: the caller names what it sent). */
#ifndef CRIU_LITE_RAWPKT_H
#define CRIU_LITE_RAWPKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int rawpkt_send(bool v4, const uint8_t *src, const uint8_t *dst, uint8_t proto, void *l4,
		size_t len, size_t csum_off, unsigned mark);

#endif
