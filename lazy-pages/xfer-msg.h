/* xfer-msg: the frames of the page-server protocol (proto/pagexfer.proto), read and written
 * through the caller's byte transport (xfer-conn.h for TCP/TLS; a buffer in tests and fuzzing).
 *
 * Contract:
 * - xfer_send() writes one frame: the u32 LE header length, the packed header (payload_len and
 *   payload_crc32c set from the payload given), the payload; one writev call of the transport,
 *   with the length and header in one iovec and then one per payload piece that is not empty:
 *   up to 1 + XFER_MAX_PAGES iovecs, more than IOV_MAX (1024), which a transport must take.
 *   A payload over XFER_MAX_PAYLOAD, more pieces than XFER_MAX_PAGES or a header over
 *   XFER_MAX_HDR is -EINVAL and nothing is written; the header is sent as the caller made it.
 * - xfer_recv() reads one frame and checks, before it allocates or reads anything more, every
 *   length and count against the bounds below and the header against its kind: a header length
 *   of 0 or over XFER_MAX_HDR, a payload over XFER_MAX_PAYLOAD, a field the kind requires
 *   missing, nr_pages of 0 or over XFER_MAX_PAGES, an address not page aligned or whose range
 *   wraps, a zero_map not of (nr_pages + 7) / 8 bytes or with bits past nr_pages, a PAGES
 *   payload that is not 4096 bytes per page the zero_map does not mark, a file name that is
 *   empty, over XFER_MAX_NAME bytes, holds '/' or NUL or is "." or "..", an error text over
 *   XFER_MAX_TEXT bytes, or a payload whose crc32c is not payload_crc32c: all -EBADMSG, naming
 *   what was wrong (peer names the other end in messages: "page server 198.18.0.2:7001").
 *   What each kind requires: HELLO version, role, session; PAGES_REQ req_id, space, id, addr,
 *   nr_pages; PAGES space, id, addr, nr_pages (req_id 0 or absent: streamed); FILE_BEGIN name;
 *   FILE_DATA offset and a payload (that does not end past 2^64); FILE_END size, crc32c; ERROR
 *   error. Only PAGES and FILE_DATA carry a payload, and a payload_len > 0 needs its
 *   payload_crc32c (without a payload it may only be 0). Beyond the contract's list: an enum
 *   value the .proto does not name (kind, role, space) is refused (protobuf-c unpacks any
 *   number), and a name or error text is checked on whatever kind carries it.
 *   The payload goes into the caller's buffer (XFER_MAX_PAYLOAD bytes; it may be NULL where no
 *   payload may come: one that does is then -EINVAL); the header is the caller's to free with
 *   xfer_frame_free(). A transport error is passed on as it is (-EPIPE, -ECONNRESET,
 *   -ETIMEDOUT...); a peer that closed before a frame's first byte is -ENODATA, in the middle
 *   of one -EPIPE.
 * - xfer_pages_pack() / xfer_pages_unpack(): nr pages to a zero_map + the payload that is not
 *   zero, and back into nr whole pages.
 * Nothing here prints: errors are -errno with err filled. */
#ifndef CRIU_LITE_XFER_MSG_H
#define CRIU_LITE_XFER_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "images/img.h"
#include "pagexfer.pb-c.h"

#define XFER_VERSION	 1u
#define XFER_PG		 4096u
#define XFER_MAX_HDR	 (16u << 10)
#define XFER_MAX_PAGES	 1024u
#define XFER_MAX_PAYLOAD (XFER_MAX_PAGES * XFER_PG)
#define XFER_MAX_NAME	 255u
#define XFER_MAX_TEXT	 1024u

/* the byte transport: read exactly len bytes, or write all of iov; 0 or -errno (a read at EOF:
 * -ENODATA when no byte of it came, -EPIPE otherwise) */
typedef int (*xfer_read_fn)(void *ctx, void *buf, size_t len);
typedef int (*xfer_writev_fn)(void *ctx, const struct iovec *iov, int iovcnt);

struct xfer_frame {
	XferMsg *msg;	    /* the checked header */
	size_t payload_len; /* bytes of the payload in the caller's buffer */
};

int xfer_send(xfer_writev_fn wr, void *ctx, const XferMsg *m, const void *payload, size_t len,
	      const char *peer, struct img_err *err);
/* the same with the payload in pieces (at most XFER_MAX_PAGES of them) */
int xfer_sendv(xfer_writev_fn wr, void *ctx, const XferMsg *m, const struct iovec *payload, int n,
	       const char *peer, struct img_err *err);
int xfer_recv(xfer_read_fn rd, void *ctx, void *payload_buf, struct xfer_frame *f, const char *peer,
	      struct img_err *err);
void xfer_frame_free(struct xfer_frame *f);

/* nr (<= XFER_MAX_PAGES) pages at pages: zero_map ((nr + 7) / 8 bytes) and iov (at most nr
 * entries, adjacent non-zero pages merged) for the payload; returns the number of zero pages
 * and sets *iovcnt. */
unsigned xfer_pages_pack(const void *pages, uint32_t nr, uint8_t *zero_map, struct iovec *iov,
			 int *iovcnt);
/* a checked PAGES frame's payload (with its zero_map) into nr whole pages at out */
void xfer_pages_unpack(const XferMsg *m, const void *payload, void *out);

#endif
