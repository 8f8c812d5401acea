/* inetdiag: see inetdiag.c. */
#ifndef CRIU_LITE_INETDIAG_H
#define CRIU_LITE_INETDIAG_H

#include <stdint.h>

struct isk_diag {
	uint8_t state;	  /* TCP_* (UDP: TCP_ESTABLISHED connected, TCP_CLOSE not) */
	uint8_t shutdown; /* RCV_SHUTDOWN 1 | SEND_SHUTDOWN 2 */
	uint32_t rqueue;  /* idiag_rqueue: UDP, bytes of the datagrams queued for reading */
};

struct inetdiag_table;
/* *cache: NULL at first; free with inetdiag_free(). nsid: which network namespace the caller
 * is in (dump-sknetns.h's id: 0 the tree's), each with tables of its own. */
int inetdiag_get(struct inetdiag_table **cache, uint32_t nsid, int family, int protocol,
		 uint32_t ino, struct isk_diag *out);
void inetdiag_free(struct inetdiag_table **cache);

#endif
