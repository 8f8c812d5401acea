/* xfer_msg_fixture: see xfer_msg_fixture.h. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "xfer_msg_fixture.h"

int mem_writev(void *ctx, const struct iovec *iov, int iovcnt)
{
	struct mem *t = ctx;

	t->writes++;
	t->last_iovcnt = iovcnt;
	if (t->write_err)
		return t->write_err;
	for (int i = 0; i < iovcnt; i++) {
		assert_true(t->len + iov[i].iov_len <= t->cap);
		memcpy(t->buf + t->len, iov[i].iov_base, iov[i].iov_len);
		t->len += iov[i].iov_len;
	}
	return 0;
}

int mem_read(void *ctx, void *buf, size_t len)
{
	struct mem *t = ctx;

	if (t->read_err && t->pos + len > t->read_at)
		return t->read_err;
	if (t->pos == t->len)
		return -ENODATA;
	if (t->len - t->pos < len) {
		t->pos = t->len;
		return -EPIPE;
	}
	memcpy(buf, t->buf + t->pos, len);
	t->pos += len;
	return 0;
}

struct mem *mem_new(void)
{
	struct mem *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	t->cap = 2 * XFER_MAX_PAYLOAD + 2 * XFER_MAX_HDR + 64;
	t->buf = malloc(t->cap);
	assert_non_null(t->buf);
	return t;
}

void mem_free(struct mem *t)
{
	free(t->buf);
	free(t);
}

void put(struct mem *t, const void *p, size_t len)
{
	assert_true(t->len + len <= t->cap);
	memcpy(t->buf + t->len, p, len);
	t->len += len;
}

void put_le32(struct mem *t, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	put(t, b, 4);
}

uint8_t payload_buf[XFER_MAX_PAYLOAD];

uint8_t filler[XFER_MAX_PAYLOAD];

void xfer_fx_init(void)
{
	for (size_t i = 0; i < sizeof(filler); i++)
		filler[i] = (uint8_t)(i * 13 + 1);
}

void with_payload(XferMsg *m, uint32_t len)
{
	m->payload_len = len;
	m->has_payload_crc32c = len > 0;
	m->payload_crc32c = len ? img_crc32c(0, filler, len) : 0;
}

size_t put_frame(struct mem *t, const XferMsg *m)
{
	static uint8_t hdr[XFER_MAX_HDR * 2];
	size_t hlen = xfer_msg__get_packed_size(m);

	assert_true(hlen <= sizeof(hdr));
	xfer_msg__pack(m, hdr);
	put_le32(t, (uint32_t)hlen);
	put(t, hdr, hlen);
	if (m->payload_len <= XFER_MAX_PAYLOAD)
		put(t, filler, m->payload_len);
	return 4 + hlen;
}

XferMsg mk_hello(void)
{
	XferMsg m = XFER_MSG__INIT;

	m.kind = XFER_KIND__XFER_HELLO;
	m.has_version = m.has_role = m.has_session = true;
	m.version = XFER_VERSION;
	m.role = XFER_ROLE__XFER_ROLE_FAULTS;
	m.session = 1;
	return m;
}

XferMsg mk_req(void)
{
	XferMsg m = XFER_MSG__INIT;

	m.kind = XFER_KIND__XFER_PAGES_REQ;
	m.has_req_id = m.has_space = m.has_id = m.has_addr = m.has_nr_pages = true;
	m.req_id = 1;
	m.space = XFER_SPACE__XFER_SPACE_TASK;
	m.id = 42;
	m.addr = 0x400000;
	m.nr_pages = 2;
	return m;
}

XferMsg mk_pages(void)
{
	XferMsg m = mk_req();

	m.kind = XFER_KIND__XFER_PAGES;
	with_payload(&m, 2 * XFER_PG);
	return m;
}

XferMsg mk_kind(XferKind k)
{
	XferMsg m = XFER_MSG__INIT;

	m.kind = k;
	switch (k) {
	case XFER_KIND__XFER_FILE_BEGIN:
		m.name = "pages-1.img";
		break;
	case XFER_KIND__XFER_FILE_DATA:
		m.has_offset = true;
		with_payload(&m, 100);
		break;
	case XFER_KIND__XFER_FILE_END:
		m.has_size = m.has_crc32c = true;
		break;
	case XFER_KIND__XFER_ERROR:
		m.error = "no space left";
		break;
	default:
		break;
	}
	return m;
}
