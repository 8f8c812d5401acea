/* test_xfer_msg: the frames of the page-server protocol (lazy-pages/xfer-msg.h) over a memory
 * transport (xfer_msg_fixture.h); the refusals of xfer_recv() are test_xfer_refuse's.
 * - roundtrip_*: HELLO/HELLO_OK, PAGES_REQ and PAGES (zero_map, payload in pieces), FILE_BEGIN,
 *   FILE_DATA, FILE_END, DONE, ERROR and STREAM_END arrive as sent; each send is one writev of
 *   the u32 LE header length + header, then the payload; a peer that closes between frames
 *   gives -ENODATA; a frame with a payload and no buffer for it is -EINVAL.
 * - send_limits: a payload over XFER_MAX_PAYLOAD, too many pieces, a header over XFER_MAX_HDR
 *   are -EINVAL and nothing is written; exactly the bounds go; a transport error comes back as
 *   it is.
 * - bases_accepted: the valid frames test_xfer_refuse changes one thing of.
 * - truncated: a frame cut at every byte: -ENODATA at 0, -EPIPE past it.
 * - transport_errors: a read error at the length, header or payload is passed on unchanged.
 * - pages_pack: all-zero, no-zero, alternating and mixed pages to a zero_map + iovecs, and back. */
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

/* ---- round trips ---- */

static void test_roundtrip_hello(void **state)
{
	struct mem *t = mem_new();
	XferMsg m = XFER_MSG__INIT, *raw;
	struct xfer_frame f;
	struct img_err err = { 0 };
	uint32_t hlen;

	(void)state;
	m.kind = XFER_KIND__XFER_HELLO;
	m.has_version = m.has_role = m.has_session = m.has_dump_id = m.has_features = true;
	m.version = XFER_VERSION;
	m.role = XFER_ROLE__XFER_ROLE_STREAM;
	m.session = 0x1234567890abcdefull;
	m.dump_id = 77;
	m.features = 5;
	m.payload_len = 99; /* xfer_send() sets it */
	assert_int_equal(xfer_send(mem_writev, t, &m, NULL, 0, PEER, &err), 0);
	assert_int_equal(t->writes, 1);
	/* the wire: u32 LE length, then the header */
	hlen = (uint32_t)t->buf[0] | (uint32_t)t->buf[1] << 8 | (uint32_t)t->buf[2] << 16 |
	       (uint32_t)t->buf[3] << 24;
	assert_int_equal(hlen + 4, t->len);
	raw = xfer_msg__unpack(NULL, hlen, t->buf + 4);
	assert_non_null(raw);
	assert_int_equal(raw->payload_len, 0);
	assert_false(raw->has_payload_crc32c);
	xfer_msg__free_unpacked(raw, NULL);

	m = (XferMsg)XFER_MSG__INIT;
	m.kind = XFER_KIND__XFER_HELLO_OK;
	assert_int_equal(xfer_send(mem_writev, t, &m, NULL, 0, PEER, &err), 0);
	assert_int_equal(t->writes, 2);

	assert_int_equal(xfer_recv(mem_read, t, NULL, &f, PEER, &err), 0);
	assert_int_equal(f.msg->kind, XFER_KIND__XFER_HELLO);
	assert_int_equal(f.msg->version, XFER_VERSION);
	assert_int_equal(f.msg->role, XFER_ROLE__XFER_ROLE_STREAM);
	assert_true(f.msg->session == 0x1234567890abcdefull);
	assert_int_equal(f.msg->dump_id, 77);
	assert_int_equal(f.msg->features, 5);
	assert_int_equal(f.payload_len, 0);
	xfer_frame_free(&f);
	assert_null(f.msg);
	assert_int_equal(xfer_recv(mem_read, t, NULL, &f, PEER, &err), 0);
	assert_int_equal(f.msg->kind, XFER_KIND__XFER_HELLO_OK);
	xfer_frame_free(&f);
	/* closed between frames */
	assert_int_equal(xfer_recv(mem_read, t, NULL, &f, PEER, &err), -ENODATA);
	assert_int_equal(err.code, ENODATA);
	assert_non_null(strstr(err.msg, PEER));
	assert_null(f.msg);
	mem_free(t);
}

static void fill_pages(uint8_t *p, uint32_t nr, const char *pattern)
{
	/* pattern[i % len]: '0' a zero page, 'x' one with data */
	size_t plen = strlen(pattern);

	for (uint32_t i = 0; i < nr; i++) {
		uint8_t *pg = p + (size_t)i * XFER_PG;

		memset(pg, 0, XFER_PG);
		if (pattern[i % plen] == 'x')
			for (size_t j = 0; j < XFER_PG; j += 97)
				pg[j] = (uint8_t)(i * 31 + j + 1) | 1;
	}
}

static void test_roundtrip_pages(void **state)
{
	struct mem *t = mem_new();
	uint32_t nr = 13;
	uint8_t *pages = malloc((size_t)nr * XFER_PG), *out = malloc((size_t)nr * XFER_PG);
	uint8_t map[2];
	struct iovec iov[13];
	XferMsg m = XFER_MSG__INIT;
	struct xfer_frame f;
	struct img_err err = { 0 };
	int n;
	unsigned zeros;

	(void)state;
	assert_non_null(pages);
	assert_non_null(out);
	/* a request */
	m.kind = XFER_KIND__XFER_PAGES_REQ;
	m.has_req_id = m.has_space = m.has_id = m.has_addr = m.has_nr_pages = true;
	m.req_id = 42;
	m.space = XFER_SPACE__XFER_SPACE_SHMEM;
	m.id = 7;
	m.addr = 0x7f0000001000;
	m.nr_pages = nr;
	assert_int_equal(xfer_send(mem_writev, t, &m, NULL, 0, PEER, &err), 0);

	/* its answer: 0 x x 0 0 x x x 0 x 0 x x: zero pages 0, 3, 4, 8, 10 */
	fill_pages(pages, nr, "0xx00xxx0x0xx");
	zeros = xfer_pages_pack(pages, nr, map, iov, &n);
	assert_int_equal(zeros, 5);
	assert_int_equal(n, 4);
	assert_int_equal(map[0], 0x19);
	assert_int_equal(map[1], 0x05);
	m.kind = XFER_KIND__XFER_PAGES;
	m.has_zero_map = true;
	m.zero_map.data = map;
	m.zero_map.len = 2;
	assert_int_equal(xfer_sendv(mem_writev, t, &m, iov, n, PEER, &err), 0);
	assert_int_equal(t->writes, 2);
	assert_int_equal(t->last_iovcnt, 1 + n);

	assert_int_equal(xfer_recv(mem_read, t, payload_buf, &f, PEER, &err), 0);
	assert_int_equal(f.msg->kind, XFER_KIND__XFER_PAGES_REQ);
	assert_int_equal(f.msg->req_id, 42);
	assert_int_equal(f.msg->space, XFER_SPACE__XFER_SPACE_SHMEM);
	assert_int_equal(f.msg->id, 7);
	assert_true(f.msg->addr == 0x7f0000001000);
	assert_int_equal(f.msg->nr_pages, nr);
	xfer_frame_free(&f);
	assert_int_equal(xfer_recv(mem_read, t, payload_buf, &f, PEER, &err), 0);
	assert_int_equal(f.msg->kind, XFER_KIND__XFER_PAGES);
	assert_int_equal(f.payload_len, (nr - zeros) * XFER_PG);
	assert_int_equal(f.msg->zero_map.len, 2);
	memset(out, 0xee, (size_t)nr * XFER_PG);
	xfer_pages_unpack(f.msg, payload_buf, out);
	assert_memory_equal(out, pages, (size_t)nr * XFER_PG);
	xfer_frame_free(&f);

	/* no zero page: no zero_map at all */
	fill_pages(pages, 3, "x");
	m.has_zero_map = false;
	m.nr_pages = 3;
	m.has_req_id = false; /* streamed */
	assert_int_equal(xfer_send(mem_writev, t, &m, pages, 3 * XFER_PG, PEER, &err), 0);
	assert_int_equal(xfer_recv(mem_read, t, payload_buf, &f, PEER, &err), 0);
	assert_false(f.msg->has_req_id);
	memset(out, 0xee, 3 * XFER_PG);
	xfer_pages_unpack(f.msg, payload_buf, out);
	assert_memory_equal(out, pages, 3 * XFER_PG);
	xfer_frame_free(&f);
	free(pages);
	free(out);
	mem_free(t);
}

static void test_roundtrip_file(void **state)
{
	struct mem *t = mem_new();
	uint8_t data[10000];
	XferMsg m = XFER_MSG__INIT;
	struct xfer_frame f;
	struct img_err err = { 0 };
	struct iovec pieces[3] = {
		{ .iov_base = data, .iov_len = 3000 },
		{ .iov_base = data + 3000, .iov_len = 0 }, /* an empty piece is fine */
		{ .iov_base = data + 3000, .iov_len = 7000 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	m.kind = XFER_KIND__XFER_FILE_BEGIN;
	m.name = "core-42.img";
	assert_int_equal(xfer_send(mem_writev, t, &m, NULL, 0, PEER, &err), 0);
	m = (XferMsg)XFER_MSG__INIT;
	m.kind = XFER_KIND__XFER_FILE_DATA;
	m.has_offset = true;
	m.offset = 1u << 20;
	assert_int_equal(xfer_sendv(mem_writev, t, &m, pieces, 3, PEER, &err), 0);
	assert_int_equal(t->last_iovcnt, 3);
	m = (XferMsg)XFER_MSG__INIT;
	m.kind = XFER_KIND__XFER_FILE_END;
	m.has_size = m.has_crc32c = true;
	m.size = (1u << 20) + sizeof(data);
	m.crc32c = 0xdeadbeef;
	assert_int_equal(xfer_send(mem_writev, t, &m, NULL, 0, PEER, &err), 0);
	m = (XferMsg)XFER_MSG__INIT;
	m.kind = XFER_KIND__XFER_DONE;
	assert_int_equal(xfer_send(mem_writev, t, &m, NULL, 0, PEER, &err), 0);
	assert_int_equal(t->writes, 4);

	assert_int_equal(xfer_recv(mem_read, t, payload_buf, &f, PEER, &err), 0);
	assert_int_equal(f.msg->kind, XFER_KIND__XFER_FILE_BEGIN);
	assert_string_equal(f.msg->name, "core-42.img");
	xfer_frame_free(&f);
	assert_int_equal(xfer_recv(mem_read, t, payload_buf, &f, PEER, &err), 0);
	assert_int_equal(f.msg->kind, XFER_KIND__XFER_FILE_DATA);
	assert_int_equal(f.msg->offset, 1u << 20);
	assert_int_equal(f.payload_len, sizeof(data));
	assert_int_equal(f.msg->payload_crc32c, img_crc32c(0, data, sizeof(data)));
	assert_memory_equal(payload_buf, data, sizeof(data));
	xfer_frame_free(&f);
	assert_int_equal(xfer_recv(mem_read, t, payload_buf, &f, PEER, &err), 0);
	assert_int_equal(f.msg->kind, XFER_KIND__XFER_FILE_END);
	assert_int_equal(f.msg->size, (1u << 20) + sizeof(data));
	assert_int_equal(f.msg->crc32c, 0xdeadbeef);
	xfer_frame_free(&f);
	assert_int_equal(xfer_recv(mem_read, t, payload_buf, &f, PEER, &err), 0);
	assert_int_equal(f.msg->kind, XFER_KIND__XFER_DONE);
	xfer_frame_free(&f);
	assert_int_equal(xfer_recv(mem_read, t, payload_buf, &f, PEER, &err), -ENODATA);

	/* no buffer: fine for a frame without a payload, -EINVAL for one with */
	t->len = t->pos = 0;
	m = (XferMsg)XFER_MSG__INIT;
	m.kind = XFER_KIND__XFER_FILE_DATA;
	m.has_offset = true;
	assert_int_equal(xfer_send(mem_writev, t, &m, data, 10, PEER, &err), 0);
	assert_int_equal(xfer_recv(mem_read, t, NULL, &f, PEER, &err), -EINVAL);
	assert_non_null(strstr(err.msg, PEER));
	assert_null(f.msg);
	mem_free(t);
}

static void test_roundtrip_error(void **state)
{
	struct mem *t = mem_new();
	char text[XFER_MAX_TEXT + 1];
	XferMsg m = XFER_MSG__INIT;
	struct xfer_frame f;
	struct img_err err = { 0 };

	(void)state;
	memset(text, 'e', XFER_MAX_TEXT);
	text[XFER_MAX_TEXT] = 0; /* the longest allowed */
	m.kind = XFER_KIND__XFER_ERROR;
	m.error = text;
	m.has_errno_val = true;
	m.errno_val = -ENOENT;
	assert_int_equal(xfer_send(mem_writev, t, &m, NULL, 0, PEER, &err), 0);
	m = (XferMsg)XFER_MSG__INIT;
	m.kind = XFER_KIND__XFER_STREAM_END;
	assert_int_equal(xfer_send(mem_writev, t, &m, NULL, 0, PEER, &err), 0);

	assert_int_equal(xfer_recv(mem_read, t, payload_buf, &f, PEER, &err), 0);
	assert_int_equal(f.msg->kind, XFER_KIND__XFER_ERROR);
	assert_string_equal(f.msg->error, text);
	assert_int_equal(f.msg->errno_val, -ENOENT);
	xfer_frame_free(&f);
	assert_int_equal(xfer_recv(mem_read, t, payload_buf, &f, PEER, &err), 0);
	assert_int_equal(f.msg->kind, XFER_KIND__XFER_STREAM_END);
	xfer_frame_free(&f);
	mem_free(t);
}

/* ---- sending: the bounds ---- */

static void test_send_limits(void **state)
{
	struct mem *t = mem_new();
	static struct iovec many[XFER_MAX_PAGES + 1];
	static char text[XFER_MAX_HDR + 100];
	XferMsg m = XFER_MSG__INIT;
	struct img_err err = { 0 };
	struct iovec two[2] = {
		{ .iov_base = payload_buf, .iov_len = XFER_MAX_PAYLOAD },
		{ .iov_base = payload_buf, .iov_len = 1 },
	};

	(void)state;
	m.kind = XFER_KIND__XFER_FILE_DATA;
	m.has_offset = true;
	assert_int_equal(
	    xfer_send(mem_writev, t, &m, payload_buf, XFER_MAX_PAYLOAD + 1, PEER, &err), -EINVAL);
	assert_non_null(strstr(err.msg, PEER));
	assert_non_null(strstr(err.msg, "at most 4194304"));
	assert_int_equal(xfer_sendv(mem_writev, t, &m, two, 2, PEER, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "payload"));
	for (unsigned i = 0; i <= XFER_MAX_PAGES; i++)
		many[i] = (struct iovec){ .iov_base = payload_buf, .iov_len = 1 };
	assert_int_equal(xfer_sendv(mem_writev, t, &m, many, XFER_MAX_PAGES + 1, PEER, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "1025 pieces"));
	assert_int_equal(xfer_send(mem_writev, t, &m, NULL, 10, PEER, &err), -EINVAL);
	m = (XferMsg)XFER_MSG__INIT;
	m.kind = XFER_KIND__XFER_ERROR;
	memset(text, 'e', sizeof(text) - 1);
	m.error = text;
	assert_int_equal(xfer_send(mem_writev, t, &m, NULL, 0, PEER, &err), -EINVAL);
	assert_non_null(strstr(err.msg, PEER));
	assert_non_null(strstr(err.msg, "(at most 16384)"));
	assert_int_equal(t->writes, 0);

	/* exactly the bounds: fine */
	m = (XferMsg)XFER_MSG__INIT;
	m.kind = XFER_KIND__XFER_FILE_DATA;
	m.has_offset = true;
	assert_int_equal(xfer_sendv(mem_writev, t, &m, many, XFER_MAX_PAGES, PEER, &err), 0);
	assert_int_equal(t->last_iovcnt, 1 + XFER_MAX_PAGES);
	assert_int_equal(xfer_send(mem_writev, t, &m, payload_buf, XFER_MAX_PAYLOAD, PEER, &err),
			 0);

	/* the transport's error, as it is */
	t->write_err = -ECONNRESET;
	assert_int_equal(xfer_send(mem_writev, t, &m, payload_buf, 10, PEER, &err), -ECONNRESET);
	assert_int_equal(err.code, ECONNRESET);
	assert_non_null(strstr(err.msg, PEER));
	assert_non_null(strstr(err.msg, "FILE_DATA"));
	mem_free(t);
}

/* every valid frame of xfer_msg_fixture.h is accepted (test_xfer_refuse changes one thing) */
static void test_bases_accepted(void **state)
{
	XferMsg ms[] = { mk_hello(),
			 mk_req(),
			 mk_pages(),
			 mk_kind(XFER_KIND__XFER_HELLO_OK),
			 mk_kind(XFER_KIND__XFER_STREAM_END),
			 mk_kind(XFER_KIND__XFER_FILE_BEGIN),
			 mk_kind(XFER_KIND__XFER_FILE_DATA),
			 mk_kind(XFER_KIND__XFER_FILE_END),
			 mk_kind(XFER_KIND__XFER_DONE),
			 mk_kind(XFER_KIND__XFER_ERROR) };
	struct mem *t = mem_new();
	struct img_err err = { 0 };
	struct xfer_frame f;

	(void)state;
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++)
		put_frame(t, &ms[i]);
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		int ret = xfer_recv(mem_read, t, payload_buf, &f, PEER, &err);

		if (ret)
			fail_msg("frame %zu: %s", i, err.msg);
		assert_int_equal(f.msg->kind, ms[i].kind);
		xfer_frame_free(&f);
	}
	mem_free(t);
}

/* ---- a frame cut short, and the transport's errors ---- */

static void test_truncated(void **state)
{
	struct mem *t = mem_new();
	XferMsg ms[2] = { mk_pages(), mk_hello() };
	struct img_err err = { 0 };
	struct xfer_frame f;

	(void)state;
	for (int k = 0; k < 2; k++) {
		size_t full;

		t->len = 0;
		put_frame(t, &ms[k]);
		full = t->len;
		for (size_t cut = 0; cut < full; cut++) {
			int want = cut ? -EPIPE : -ENODATA;

			t->len = cut;
			t->pos = 0;
			err = (struct img_err){ 0 };
			assert_int_equal(xfer_recv(mem_read, t, payload_buf, &f, PEER, &err), want);
			assert_int_equal(err.code, -want);
			assert_non_null(strstr(err.msg, PEER));
			assert_null(f.msg);
		}
		t->len = full;
		t->pos = 0;
		assert_int_equal(xfer_recv(mem_read, t, payload_buf, &f, PEER, &err), 0);
		xfer_frame_free(&f);
	}
	mem_free(t);
}

static void test_transport_errors(void **state)
{
	struct mem *t = mem_new();
	XferMsg m = mk_pages();
	struct img_err err = { 0 };
	struct xfer_frame f;
	size_t hdr_end = put_frame(t, &m);
	size_t at[] = { 0, 2, 4, hdr_end - 1, hdr_end, hdr_end + 4095 };
	int errs[] = { -ECONNRESET, -ETIMEDOUT, -EPIPE, -EIO };

	(void)state;
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		for (size_t e = 0; e < sizeof(errs) / sizeof(errs[0]); e++) {
			t->pos = 0;
			t->read_at = at[i];
			t->read_err = errs[e];
			assert_int_equal(xfer_recv(mem_read, t, payload_buf, &f, PEER, &err),
					 errs[e]);
			assert_int_equal(err.code, -errs[e]);
			assert_non_null(strstr(err.msg, PEER));
			assert_null(f.msg);
		}
	}
	mem_free(t);
}

/* ---- pages to zero_map + payload and back ---- */

static void pack_unpack(uint32_t nr, const char *pattern, unsigned want_zeros, int want_iov,
			const uint8_t *want_map)
{
	size_t len = (size_t)nr * XFER_PG;
	uint8_t *pages = malloc(len), *out = malloc(len), *payload = malloc(len + 1);
	static struct iovec iov[XFER_MAX_PAGES];
	uint8_t map[XFER_MAX_PAGES / 8];
	XferMsg m = XFER_MSG__INIT;
	size_t plen = 0;
	int n = -1;

	assert_non_null(pages);
	assert_non_null(out);
	assert_non_null(payload);
	fill_pages(pages, nr, pattern);
	memset(map, 0xa5, sizeof(map)); /* pack clears it */
	assert_int_equal(xfer_pages_pack(pages, nr, map, iov, &n), want_zeros);
	assert_int_equal(n, want_iov);
	if (want_map)
		assert_memory_equal(map, want_map, (nr + 7) / 8);
	for (int i = 0; i < n; i++) {
		assert_int_equal(iov[i].iov_len % XFER_PG, 0);
		memcpy(payload + plen, iov[i].iov_base, iov[i].iov_len);
		plen += iov[i].iov_len;
	}
	assert_int_equal(plen, (size_t)(nr - want_zeros) * XFER_PG);
	m.kind = XFER_KIND__XFER_PAGES;
	m.nr_pages = nr;
	m.has_zero_map = true;
	m.zero_map.data = map;
	m.zero_map.len = (nr + 7) / 8;
	memset(out, 0x5a, len);
	xfer_pages_unpack(&m, payload, out);
	assert_memory_equal(out, pages, len);
	free(pages);
	free(out);
	free(payload);
}

static void test_pages_pack(void **state)
{
	static const uint8_t all_zero[] = { 0xff, 0x03 };
	static const uint8_t none[] = { 0, 0 };
	static const uint8_t alt[] = { 0xaa, 0x00 };
	static uint8_t alt_big[XFER_MAX_PAGES / 8];
	uint8_t *pg = calloc(3, XFER_PG);
	uint8_t map[1];
	struct iovec iov[3];
	int n;

	(void)state;
	pack_unpack(10, "0", 10, 0, all_zero);
	pack_unpack(10, "x", 0, 1, none);
	pack_unpack(9, "x0", 4, 5, alt);
	memset(alt_big, 0x55, sizeof(alt_big));
	pack_unpack(XFER_MAX_PAGES, "0x", XFER_MAX_PAGES / 2, XFER_MAX_PAGES / 2, alt_big);
	pack_unpack(XFER_MAX_PAGES, "x", 0, 1, NULL);
	pack_unpack(1, "0", 1, 0, NULL);
	pack_unpack(1, "x", 0, 1, NULL);
	pack_unpack(13, "0xx00xxx0x0xx", 5, 4, NULL);

	/* a page with one byte set, first or last, is not zero */
	assert_non_null(pg);
	pg[XFER_PG - 1] = 1;
	pg[2 * XFER_PG] = 1;
	assert_int_equal(xfer_pages_pack(pg, 3, map, iov, &n), 1);
	assert_int_equal(map[0], 0x02);
	assert_int_equal(n, 2);
	assert_ptr_equal(iov[0].iov_base, pg);
	assert_ptr_equal(iov[1].iov_base, pg + 2 * XFER_PG);
	free(pg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_hello), cmocka_unit_test(test_roundtrip_pages),
		cmocka_unit_test(test_roundtrip_file),	cmocka_unit_test(test_roundtrip_error),
		cmocka_unit_test(test_send_limits),	cmocka_unit_test(test_bases_accepted),
		cmocka_unit_test(test_truncated),	cmocka_unit_test(test_transport_errors),
		cmocka_unit_test(test_pages_pack),
	};

	xfer_fx_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
