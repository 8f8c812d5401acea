/* test_xfer_refuse: every refusal of xfer_recv() (lazy-pages/xfer-msg.h), one bad frame each,
 * packed by hand (xfer_msg_fixture.h) or with its bytes changed: -EBADMSG, a message that names the
 * peer and what was wrong, no header handed out, and no byte read past the header but for the
 * payload's crc32c, which is checked once the payload is in.
 * - refused_framing: a header length of 0 or over XFER_MAX_HDR (TLS bytes named as such), a
 *   header that does not unpack, unknown enum values, a payload over the bound or without its
 *   crc32c, a wrong crc32c, a crc32c without a payload, a file name holding a NUL, a field
 *   numbered 0.
 * - refused_fields: each field a kind requires, missing; each bound of nr_pages, addr, zero_map,
 *   the PAGES payload, the file name, FILE_DATA's offset, the error text; a payload on a kind
 *   that carries none. */
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

/* t's next frame is refused (-EBADMSG) naming the peer and why, and nothing past header_end
 * was read */
static void expect_bad_at(struct mem *t, size_t header_end, const char *why)
{
	struct xfer_frame f = { (XferMsg *)1, 1 };
	struct img_err err = { 0 };

	assert_int_equal(xfer_recv(mem_read, t, payload_buf, &f, PEER, &err), -EBADMSG);
	assert_int_equal(err.code, EBADMSG);
	if (!strstr(err.msg, PEER) || !strstr(err.msg, why))
		fail_msg("\"%s\" does not say \"%s\"", err.msg, why);
	assert_null(f.msg);
	assert_int_equal(f.payload_len, 0);
	assert_int_equal(t->pos, header_end);
}

/* m's frame is refused for why, before a byte of its payload is read */
static void bad(const XferMsg *m, const char *why)
{
	struct mem *t = mem_new();
	size_t end = put_frame(t, m);

	expect_bad_at(t, end, why);
	mem_free(t);
}

static void test_refused_framing(void **state)
{
	struct mem *t;
	static const uint8_t tls[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03 };
	static const uint8_t junk[] = { 0xff, 0xff, 0xff };
	static const uint8_t no_len[] = { 0x08, 0x01 }; /* kind HELLO, no payload_len */
	XferMsg m = mk_hello();
	uint8_t hdr[64];
	size_t n;

	(void)state;
	t = mem_new();
	put_le32(t, 0);
	expect_bad_at(t, 4, "frame header of 0 bytes");
	mem_free(t);

	t = mem_new();
	put_le32(t, 70000);
	put(t, filler, 100);
	expect_bad_at(t, 4, PEER ": frame header of 70000 bytes (at most 16384)");
	mem_free(t);

	t = mem_new();
	put_le32(t, XFER_MAX_HDR + 1);
	expect_bad_at(t, 4, "frame header of 16385 bytes (at most 16384)");
	mem_free(t);

	t = mem_new(); /* a TLS ClientHello to a plaintext end */
	put(t, tls, sizeof(tls));
	expect_bad_at(t, 4, "a TLS peer? (this end runs --insecure)");
	mem_free(t);

	t = mem_new();
	put_le32(t, sizeof(junk));
	put(t, junk, sizeof(junk));
	expect_bad_at(t, 4 + sizeof(junk), "not a page-server message");
	mem_free(t);

	t = mem_new();
	put_le32(t, sizeof(no_len));
	put(t, no_len, sizeof(no_len));
	expect_bad_at(t, 4 + sizeof(no_len), "not a page-server message");
	mem_free(t);

	/* a field numbered 0, its tag in two bytes: protobuf-c takes it (but not in one byte) */
	m = mk_kind(XFER_KIND__XFER_DONE);
	n = xfer_msg__pack(&m, hdr);
	memcpy(hdr + n, "\x80\x00\x07", 3);
	t = mem_new();
	put_le32(t, (uint32_t)n + 3);
	put(t, hdr, n + 3);
	expect_bad_at(t, 4 + n + 3, "not a page-server message (a field numbered 0)");
	mem_free(t);

	/* unknown enum values: protobuf-c unpacks them as numbers */
	m.kind = 77;
	bad(&m, "unknown kind 77");
	m.kind = 0;
	bad(&m, "unknown kind 0");
	m = mk_hello();
	m.role = 9;
	bad(&m, "unknown role 9");
	m = mk_req();
	m.space = 5;
	bad(&m, "unknown address space 5");

	/* a payload claimed past the bound, or without its crc */
	m = mk_kind(XFER_KIND__XFER_FILE_DATA);
	m.payload_len = XFER_MAX_PAYLOAD + 1;
	bad(&m, "payload of 4194305 bytes (at most 4194304)");
	m = mk_kind(XFER_KIND__XFER_FILE_DATA);
	m.has_payload_crc32c = false;
	n = put_frame((t = mem_new()), &m);
	expect_bad_at(t, n, "no payload_crc32c");
	mem_free(t);

	/* a payload that is not what its crc says */
	t = mem_new();
	m = mk_kind(XFER_KIND__XFER_FILE_DATA);
	n = put_frame(t, &m);
	t->buf[n + 50] ^= 1;
	expect_bad_at(t, n + 100, "crc32c");
	mem_free(t);
	/* a crc32c but no payload */
	m = mk_kind(XFER_KIND__XFER_DONE);
	m.has_payload_crc32c = true;
	m.payload_crc32c = 1;
	bad(&m, "crc32c of nothing");

	/* a name with a NUL inside: packed by hand */
	m = mk_kind(XFER_KIND__XFER_FILE_BEGIN);
	m.name = "abXcd.img";
	n = xfer_msg__pack(&m, hdr);
	*(uint8_t *)memchr(hdr, 'X', n) = 0;
	t = mem_new();
	put_le32(t, (uint32_t)n);
	put(t, hdr, n);
	expect_bad_at(t, 4 + n, "holds a NUL");
	mem_free(t);
}

static void test_refused_fields(void **state)
{
	static char long_name[XFER_MAX_NAME + 2], long_text[XFER_MAX_TEXT + 2];
	uint8_t map[2] = { 0 };
	XferMsg m;

	(void)state;
	/* HELLO */
	m = mk_hello();
	m.has_version = false;
	bad(&m, "HELLO frame without version");
	m = mk_hello();
	m.has_role = false;
	bad(&m, "HELLO frame without role");
	m = mk_hello();
	m.has_session = false;
	bad(&m, "HELLO frame without session");
	m = mk_hello();
	with_payload(&m, 10);
	bad(&m, "HELLO frame with a payload of 10 bytes");

	/* PAGES_REQ */
	m = mk_req();
	m.has_req_id = false;
	bad(&m, "PAGES_REQ frame without req_id");
	m = mk_req();
	m.has_space = false;
	bad(&m, "PAGES_REQ frame without space");
	m = mk_req();
	m.has_id = false;
	bad(&m, "PAGES_REQ frame without id");
	m = mk_req();
	m.has_addr = false;
	bad(&m, "PAGES_REQ frame without addr");
	m = mk_req();
	m.has_nr_pages = false;
	bad(&m, "PAGES_REQ frame without nr_pages");
	m = mk_req();
	with_payload(&m, 4096);
	bad(&m, "PAGES_REQ frame with a payload");
	m = mk_req();
	m.nr_pages = 0;
	bad(&m, "of 0 pages (1..1024)");
	m = mk_req();
	m.nr_pages = XFER_MAX_PAGES + 1;
	bad(&m, "of 1025 pages (1..1024)");
	m = mk_req();
	m.addr = 0x400010;
	bad(&m, "at 0x400010: not page aligned");
	m = mk_req();
	m.addr = UINT64_MAX - XFER_PG + 1; /* the last page, and one past it */
	bad(&m, "the range wraps");

	/* PAGES */
	m = mk_pages();
	m.has_space = false;
	bad(&m, "PAGES frame without space");
	m = mk_pages();
	m.has_id = false;
	bad(&m, "PAGES frame without id");
	m = mk_pages();
	m.has_addr = false;
	bad(&m, "PAGES frame without addr");
	m = mk_pages();
	m.has_nr_pages = false;
	bad(&m, "PAGES frame without nr_pages");
	m = mk_pages();
	m.nr_pages = 0;
	bad(&m, "of 0 pages");
	m = mk_pages();
	m.nr_pages = XFER_MAX_PAGES + 1;
	bad(&m, "of 1025 pages");
	m = mk_pages();
	m.addr = 0x400800;
	bad(&m, "not page aligned");
	m = mk_pages();
	m.addr = UINT64_MAX - XFER_PG + 1;
	bad(&m, "the range wraps");
	m = mk_pages();
	m.has_zero_map = true;
	m.zero_map.data = map;
	m.zero_map.len = 2; /* 2 pages: 1 byte */
	bad(&m, "zero_map of 2 bytes (must be 1)");
	m.zero_map.len = 0;
	bad(&m, "zero_map of 0 bytes (must be 1)");
	m.zero_map.len = 1;
	map[0] = 0x04; /* page 2 of 2 */
	bad(&m, "zero_map bits past its last page");
	map[0] = 0x01; /* page 0 zero: one page of payload, not two */
	bad(&m, "2 pages, 1 of them zero, with a payload of 8192 bytes (must be 4096)");
	m = mk_pages();
	with_payload(&m, 4096 + 1);
	bad(&m, "with a payload of 4097 bytes (must be 8192)");
	m = mk_pages();
	m.payload_len = 0;
	m.has_payload_crc32c = false;
	bad(&m, "with a payload of 0 bytes (must be 8192)");

	/* FILE_BEGIN: the name */
	m = mk_kind(XFER_KIND__XFER_FILE_BEGIN);
	m.name = NULL;
	bad(&m, "FILE_BEGIN frame without name");
	m.name = "";
	bad(&m, "an empty file name");
	memset(long_name, 'n', XFER_MAX_NAME + 1);
	m.name = long_name;
	bad(&m, "a file name of 256 bytes (at most 255)");
	m.name = "../core-1.img";
	bad(&m, "holds '/'");
	m.name = "a/b";
	bad(&m, "holds '/'");
	m.name = ".";
	bad(&m, "the file name \".\"");
	m.name = "..";
	bad(&m, "the file name \"..\"");
	m = mk_kind(XFER_KIND__XFER_FILE_BEGIN);
	with_payload(&m, 1);
	bad(&m, "FILE_BEGIN frame with a payload of 1 bytes");

	/* FILE_DATA */
	m = mk_kind(XFER_KIND__XFER_FILE_DATA);
	m.has_offset = false;
	bad(&m, "FILE_DATA frame without offset");
	m = mk_kind(XFER_KIND__XFER_FILE_DATA);
	with_payload(&m, 0);
	bad(&m, "FILE_DATA frame without a payload");
	m = mk_kind(XFER_KIND__XFER_FILE_DATA);
	m.offset = UINT64_MAX - 50;
	bad(&m, "past 2^64");
	m = mk_kind(XFER_KIND__XFER_FILE_DATA);
	m.name = "x/y"; /* a name, when there is one, is checked on any kind */
	bad(&m, "holds '/'");

	/* FILE_END */
	m = mk_kind(XFER_KIND__XFER_FILE_END);
	m.has_size = false;
	bad(&m, "FILE_END frame without size");
	m = mk_kind(XFER_KIND__XFER_FILE_END);
	m.has_crc32c = false;
	bad(&m, "FILE_END frame without crc32c");

	/* ERROR */
	m = mk_kind(XFER_KIND__XFER_ERROR);
	m.error = NULL;
	bad(&m, "ERROR frame without error");
	memset(long_text, 't', XFER_MAX_TEXT + 1);
	m.error = long_text;
	bad(&m, "an error text of 1025 bytes (at most 1024)");

	/* no payload on these */
	m = mk_kind(XFER_KIND__XFER_STREAM_END);
	with_payload(&m, 5);
	bad(&m, "STREAM_END frame with a payload of 5 bytes");
	m = mk_kind(XFER_KIND__XFER_DONE);
	with_payload(&m, 5);
	bad(&m, "DONE frame with a payload of 5 bytes");
	m = mk_kind(XFER_KIND__XFER_HELLO_OK);
	with_payload(&m, 5);
	bad(&m, "HELLO_OK frame with a payload of 5 bytes");
	m = mk_kind(XFER_KIND__XFER_ERROR);
	with_payload(&m, 5);
	bad(&m, "ERROR frame with a payload of 5 bytes");
	m = mk_kind(XFER_KIND__XFER_FILE_END);
	with_payload(&m, 5);
	bad(&m, "FILE_END frame with a payload of 5 bytes");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused_framing),
		cmocka_unit_test(test_refused_fields),
	};

	xfer_fx_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
