/* xfer_msg_fixture: what the unit tests of the page-server frames (test_xfer_msg, test_xfer_refuse)
 * share: a byte stream in memory that fits xfer-msg.h's transport, frames packed as they are
 * (no xfer_send(): a test sets payload_len and payload_crc32c itself, right or wrong), and a valid
 * header of every kind for a test to change one thing of.
 *
 * The helpers fail the running cmocka test when the stream's buffer is too small. */
#ifndef CRIU_LITE_TEST_XFER_MSG_FIXTURE_H
#define CRIU_LITE_TEST_XFER_MSG_FIXTURE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "lazy-pages/xfer-msg.h"

#define PEER "page server 198.18.0.2:7001"

/* a byte stream in memory: writev appends, read consumes */
struct mem {
	uint8_t *buf;
	size_t cap, len, pos;
	int writes, last_iovcnt;
	int write_err; /* the next writev returns it */
	int read_err;  /* a read that reaches past read_at returns it */
	size_t read_at;
};

int mem_writev(void *ctx, const struct iovec *iov, int iovcnt);
int mem_read(void *ctx, void *buf, size_t len);
struct mem *mem_new(void); /* room for two frames of the largest size */
void mem_free(struct mem *t);
void put(struct mem *t, const void *p, size_t len);
void put_le32(struct mem *t, uint32_t v);

/* a receive buffer, and XFER_MAX_PAYLOAD bytes of a pattern without a zero page (filled by
 * xfer_fx_init(), which main() calls first) */
extern uint8_t payload_buf[XFER_MAX_PAYLOAD];
extern uint8_t filler[XFER_MAX_PAYLOAD];
void xfer_fx_init(void);

/* payload_len len of filler bytes, with their crc32c */
void with_payload(XferMsg *m, uint32_t len);
/* m packed as it is, then payload_len bytes of filler (none over XFER_MAX_PAYLOAD): the offset
 * where the payload starts */
size_t put_frame(struct mem *t, const XferMsg *m);

/* valid headers: HELLO (FAULTS), PAGES_REQ and PAGES (2 pages at 0x400000, no zero page), and
 * any kind with what it requires (FILE_DATA: 100 bytes) */
XferMsg mk_hello(void);
XferMsg mk_req(void);
XferMsg mk_pages(void);
XferMsg mk_kind(XferKind k);

#endif
