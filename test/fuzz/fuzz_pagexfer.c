/* fuzz_pagexfer: libFuzzer target for the frames of the page-server protocol (xfer-msg.h).
 *
 * The input is the byte stream of a connection: xfer_recv() reads frames from it until it
 * refuses one or the stream ends. A refusal must be -EBADMSG, -ENODATA (only where a frame
 * would start) or -EPIPE, with one message naming the peer and no header handed out. An accepted
 * frame must keep every bound of xfer-msg.h, checked again here without xfer-msg.c's code
 * (check_frame()); a PAGES frame is unpacked and compared page by page, then packed again
 * (xfer_pages_pack()) and unpacked; every accepted frame is sent again with xfer_send() and must
 * come back accepted with the same header. Any crash, leak or broken contract is a finding
 * (abort()).
 *
 * The same bytes are tried a second time with each frame's payload_crc32c made right (fix_crcs()),
 * so mutations of a payload get past its checksum and reach the PAGES and FILE_DATA checks.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lazy-pages/xfer-msg.h"
#include "test/fuzz/fuzz_frames.h"

#define PEER "fuzz peer 192.0.2.1:7001"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int st_writev(void *ctx, const struct iovec *iov, int iovcnt)
{
	struct stream *s = ctx;

	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > s->out_cap - s->out_len)
			abort();
		memcpy(s->out + s->out_len, iov[i].iov_base, iov[i].iov_len);
		s->out_len += iov[i].iov_len;
	}
	return 0;
}

static uint8_t payload[XFER_MAX_PAYLOAD], payload2[XFER_MAX_PAYLOAD], pages[XFER_MAX_PAYLOAD];
static uint8_t resent[4 + XFER_MAX_HDR + XFER_MAX_PAYLOAD];

static void check(bool ok)
{
	if (!ok)
		abort();
}

/* every bound of xfer-msg.h on an accepted frame, written apart from xfer-msg.c */
static void check_frame(const XferMsg *m, size_t len, const uint8_t *pl)
{
	unsigned zeros = 0;

	check(len == m->payload_len && len <= XFER_MAX_PAYLOAD);
	check(!len || (m->has_payload_crc32c && img_crc32c(0, pl, len) == m->payload_crc32c));
	check(len || !m->has_payload_crc32c || m->payload_crc32c == 0);
	check(!m->has_role ||
	      (m->role >= XFER_ROLE__XFER_ROLE_FAULTS && m->role <= XFER_ROLE__XFER_ROLE_PUSH));
	check(!m->has_space || m->space == XFER_SPACE__XFER_SPACE_TASK ||
	      m->space == XFER_SPACE__XFER_SPACE_SHMEM);
	if (m->name) {
		size_t n = strlen(m->name);

		check(n >= 1 && n <= XFER_MAX_NAME && !strchr(m->name, '/'));
		check(strcmp(m->name, ".") && strcmp(m->name, ".."));
	}
	check(!m->error || strlen(m->error) <= XFER_MAX_TEXT);
	if (m->kind == XFER_KIND__XFER_PAGES_REQ || m->kind == XFER_KIND__XFER_PAGES) {
		check(m->has_space && m->has_id && m->has_addr && m->has_nr_pages);
		check(m->nr_pages >= 1 && m->nr_pages <= XFER_MAX_PAGES);
		check((m->addr & (XFER_PG - 1)) == 0);
		check(m->addr + (uint64_t)m->nr_pages * XFER_PG > m->addr); /* no wrap */
	}
	switch (m->kind) {
	case XFER_KIND__XFER_HELLO:
		check(m->has_version && m->has_role && m->has_session && !len);
		break;
	case XFER_KIND__XFER_PAGES_REQ:
		check(m->has_req_id && !len);
		break;
	case XFER_KIND__XFER_PAGES:
		if (m->has_zero_map) {
			check(m->zero_map.len == (m->nr_pages + 7) / 8);
			for (uint32_t i = 0; i < m->zero_map.len * 8; i++) {
				bool bit = (m->zero_map.data[i / 8] >> (i % 8)) & 1;

				check(!bit || i < m->nr_pages);
				zeros += bit;
			}
		}
		check(len == (size_t)(m->nr_pages - zeros) * XFER_PG);
		break;
	case XFER_KIND__XFER_FILE_BEGIN:
		check(m->name && !len);
		break;
	case XFER_KIND__XFER_FILE_DATA:
		check(m->has_offset && len > 0 && m->offset + len > m->offset);
		break;
	case XFER_KIND__XFER_FILE_END:
		check(m->has_size && m->has_crc32c && !len);
		break;
	case XFER_KIND__XFER_ERROR:
		check(m->error && !len);
		break;
	case XFER_KIND__XFER_HELLO_OK:
	case XFER_KIND__XFER_STREAM_END:
	case XFER_KIND__XFER_DONE:
		check(!len);
		break;
	default:
		abort();
	}
}

/* a PAGES frame's pages: zero where the zero_map says, else the payload's next page; packed
 * again, they mark at least those zero (a page of the payload may be zero too) and unpack the
 * same */
static void check_pages(const XferMsg *m, const uint8_t *pl)
{
	static const uint8_t zero[XFER_PG];
	static struct iovec iov[XFER_MAX_PAGES];
	uint8_t map[XFER_MAX_PAGES / 8];
	const uint8_t *src = pl;
	XferMsg again = *m;
	size_t off = 0;
	unsigned zeros;
	int n = -1;

	xfer_pages_unpack(m, pl, pages);
	for (uint32_t i = 0; i < m->nr_pages; i++) {
		const uint8_t *pg = pages + (size_t)i * XFER_PG;

		if (m->has_zero_map && (m->zero_map.data[i / 8] >> (i % 8)) & 1) {
			check(!memcmp(pg, zero, XFER_PG));
		} else {
			check(!memcmp(pg, src, XFER_PG));
			src += XFER_PG;
		}
	}
	zeros = xfer_pages_pack(pages, m->nr_pages, map, iov, &n);
	check(zeros <= m->nr_pages && n >= 0 && (unsigned)n <= m->nr_pages - zeros);
	for (uint32_t i = 0; i < m->nr_pages; i++) {
		bool was = m->has_zero_map && (m->zero_map.data[i / 8] >> (i % 8)) & 1;
		bool is = (map[i / 8] >> (i % 8)) & 1;

		check(!was || is);
		check(is == !memcmp(pages + (size_t)i * XFER_PG, zero, XFER_PG));
	}
	for (int i = 0; i < n; i++) {
		check(iov[i].iov_len && iov[i].iov_len % XFER_PG == 0);
		check(off + iov[i].iov_len <= sizeof(payload2));
		memcpy(payload2 + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	check(off == (size_t)(m->nr_pages - zeros) * XFER_PG);
	again.has_zero_map = true;
	again.zero_map.data = map;
	again.zero_map.len = (m->nr_pages + 7) / 8;
	xfer_pages_unpack(&again, payload2, resent);
	check(!memcmp(resent, pages, (size_t)m->nr_pages * XFER_PG));
}

/* m packed, with payload_crc32c as xfer_send() sets it */
static size_t pack_norm(const XferMsg *m, uint8_t *buf)
{
	XferMsg c = *m;

	c.has_payload_crc32c = c.payload_len > 0;
	if (!c.has_payload_crc32c)
		c.payload_crc32c = 0;
	return xfer_msg__pack(&c, buf);
}

/* sent again and received: the same header and payload */
static void check_resend(const struct xfer_frame *f, const uint8_t *pl)
{
	static uint8_t a[2 * XFER_MAX_HDR], b[2 * XFER_MAX_HDR];
	struct stream s = { .out = resent, .out_cap = sizeof(resent) };
	struct img_err err = { 0 };
	struct xfer_frame g;
	size_t la, lb;
	int ret;

	if (xfer_msg__get_packed_size(f->msg) > XFER_MAX_HDR - 16)
		return; /* may grow past the bound when packed again (a 5-byte negative int32) */
	ret = xfer_send(st_writev, &s, f->msg, pl, f->payload_len, PEER, &err);
	check(ret == 0);
	s.buf = s.out;
	s.len = s.out_len;
	ret = xfer_recv(st_read, &s, payload2, &g, PEER, &err);
	check(ret == 0 && s.pos == s.len && g.payload_len == f->payload_len);
	check(!memcmp(payload2, pl, f->payload_len));
	la = pack_norm(f->msg, a);
	lb = pack_norm(g.msg, b);
	check(la == lb && !memcmp(a, b, la));
	xfer_frame_free(&g);
}

static void run(const uint8_t *data, size_t size)
{
	struct stream s = { .buf = data, .len = size };

	for (;;) {
		struct img_err err = { 0 };
		struct xfer_frame f = { (XferMsg *)1, 1 };
		size_t start = s.pos;
		int ret = xfer_recv(st_read, &s, payload, &f, PEER, &err);

		if (ret < 0) {
			check(ret == -EBADMSG || ret == -EPIPE || ret == -ENODATA);
			check(ret != -ENODATA || start == size);
			check(err.code == -ret && err.msg[0] && strstr(err.msg, PEER));
			check(!f.msg && !f.payload_len);
			return;
		}
		check(ret == 0 && f.msg);
		check_frame(f.msg, f.payload_len, payload);
		if (f.msg->kind == XFER_KIND__XFER_PAGES)
			check_pages(f.msg, payload);
		check_resend(&f, payload);
		xfer_frame_free(&f);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run_twice(data, size, run);
	return 0;
}
