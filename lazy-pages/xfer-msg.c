/* xfer-msg: see xfer-msg.h.
 *
 * Both directions keep a frame's header on the stack (at most XFER_MAX_HDR bytes, and the
 * iovecs of a send): nothing is allocated per frame but the unpacked header the caller frees.
 *
 * protobuf-c checks the wire format of a header and that its required fields are there, but
 * not the values of enums (an unknown kind, role or space unpacks as that number) nor NUL bytes
 * inside strings (it hands out C strings: a name "a\0b" would arrive as "a" without a word),
 * and it takes a field numbered 0 (no valid field is) when its tag is written in more bytes
 * than needed (0x80 0x00), which it would refuse once packed again; check_header() refuses all
 * three, NULs on the packed bytes (wire_has_nul()).
 *
 * The payload's crc32c is checked after the payload is read; every other rule of xfer-msg.h
 * is checked on the header alone, before a byte of the payload is read. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lazy-pages/xfer-msg.h"

#define TLS_HANDSHAKE 0x16 /* a TLS record: content type 22, then version 3.x */

/* "PAGES" for XFER_KIND__XFER_PAGES; NULL for a number that is no kind */
static const char *kind_name(int kind)
{
	const ProtobufCEnumValue *v =
	    protobuf_c_enum_descriptor_get_value(&xfer_kind__descriptor, kind);

	return v ? v->name + strlen("XFER_") : NULL;
}

static const char *kind_or_q(int kind)
{
	const char *n = kind_name(kind);

	return n ? n : "?";
}

/* ---- sending ---- */

int xfer_sendv(xfer_writev_fn wr, void *ctx, const XferMsg *m, const struct iovec *payload, int n,
	       const char *peer, struct img_err *err)
{
	uint8_t hdr[4 + XFER_MAX_HDR];
	struct iovec iov[1 + XFER_MAX_PAGES];
	const char *kn = kind_or_q(m->kind);
	XferMsg h = *m;
	uint32_t crc = 0;
	size_t total = 0, hlen;
	int cnt = 1, ret;

	if (n < 0 || n > (int)XFER_MAX_PAGES || (n > 0 && !payload))
		return img_fail(err, EINVAL, "%s: %s frame's payload in %d pieces (at most %u)",
				peer, kn, n, XFER_MAX_PAGES);
	for (int i = 0; i < n; i++) {
		if (payload[i].iov_len > XFER_MAX_PAYLOAD - total)
			return img_fail(err, EINVAL,
					"%s: %s frame's payload of over %u bytes (at most %u)",
					peer, kn, XFER_MAX_PAYLOAD, XFER_MAX_PAYLOAD);
		if (!payload[i].iov_len)
			continue;
		if (!payload[i].iov_base)
			return img_fail(err, EINVAL, "%s: %s frame's payload piece %d is NULL",
					peer, kn, i);
		crc = img_crc32c(crc, payload[i].iov_base, payload[i].iov_len);
		total += payload[i].iov_len;
		iov[cnt++] = payload[i];
	}
	h.payload_len = (uint32_t)total;
	h.has_payload_crc32c = total > 0;
	h.payload_crc32c = total ? crc : 0;
	hlen = xfer_msg__get_packed_size(&h);
	if (hlen > XFER_MAX_HDR)
		return img_fail(err, EINVAL, "%s: %s frame header of %zu bytes (at most %u)", peer,
				kn, hlen, XFER_MAX_HDR);
	xfer_msg__pack(&h, hdr + 4);
	for (int i = 0; i < 4; i++)
		hdr[i] = (uint8_t)(hlen >> (8 * i));
	iov[0] = (struct iovec){ .iov_base = hdr, .iov_len = 4 + hlen };
	ret = wr(ctx, iov, cnt);
	if (ret < 0)
		return img_fail(err, -ret, "%s: sending %s: %s", peer, kn, strerror(-ret));
	return 0;
}

int xfer_send(xfer_writev_fn wr, void *ctx, const XferMsg *m, const void *payload, size_t len,
	      const char *peer, struct img_err *err)
{
	struct iovec iov = { .iov_base = (void *)payload, .iov_len = len };

	if (len > XFER_MAX_PAYLOAD)
		return img_fail(err, EINVAL, "%s: %s frame's payload of %zu bytes (at most %u)",
				peer, kind_or_q(m->kind), len, XFER_MAX_PAYLOAD);
	return xfer_sendv(wr, ctx, m, &iov, len ? 1 : 0, peer, err);
}

/* ---- the checks of a received header ---- */

/* one varint at p[*i..len): false when it runs past len or over 10 bytes */
static bool wire_varint(const uint8_t *p, size_t len, size_t *i, uint64_t *v)
{
	*v = 0;
	for (unsigned shift = 0; shift < 70 && *i < len; shift += 7) {
		uint8_t b = p[(*i)++];

		*v |= (uint64_t)(b & 0x7f) << (shift < 64 ? shift : 0);
		if (!(b & 0x80))
			return true;
	}
	return false;
}

/* Whether any length-delimited occurrence of field fno in the packed message p[0..len) holds a
 * NUL, or the walk cannot follow the wire (which protobuf-c took: not expected). */
static bool wire_has_nul(const uint8_t *p, size_t len, uint32_t fno)
{
	size_t i = 0;

	while (i < len) {
		uint64_t tag, v;

		if (!wire_varint(p, len, &i, &tag))
			return true;
		switch (tag & 7) {
		case 0: /* varint */
			if (!wire_varint(p, len, &i, &v))
				return true;
			break;
		case 1: /* fixed64 */
			i += 8;
			break;
		case 5: /* fixed32 */
			i += 4;
			break;
		case 2: /* length-delimited */
			if (!wire_varint(p, len, &i, &v) || v > len - i)
				return true;
			if ((tag >> 3) == fno && memchr(p + i, 0, (size_t)v))
				return true;
			i += (size_t)v;
			break;
		default:
			return true;
		}
	}
	return i != len;
}

/* what a kind carries besides its header */
enum payload_rule {
	PL_NONE,  /* nothing: payload_len 0 */
	PL_DATA,  /* FILE_DATA: at least a byte */
	PL_PAGES, /* PAGES: XFER_PG per page the zero_map does not mark */
};

struct kind_rule {
	const char *need[6]; /* the fields it requires, by their names in the .proto */
	enum payload_rule payload;
};

static const struct kind_rule rules[] = {
	[XFER_KIND__XFER_HELLO] = { { "version", "role", "session" }, PL_NONE },
	[XFER_KIND__XFER_HELLO_OK] = { { NULL }, PL_NONE },
	[XFER_KIND__XFER_PAGES_REQ] = { { "req_id", "space", "id", "addr", "nr_pages" }, PL_NONE },
	[XFER_KIND__XFER_PAGES] = { { "space", "id", "addr", "nr_pages" }, PL_PAGES },
	[XFER_KIND__XFER_STREAM_END] = { { NULL }, PL_NONE },
	[XFER_KIND__XFER_FILE_BEGIN] = { { "name" }, PL_NONE },
	[XFER_KIND__XFER_FILE_DATA] = { { "offset" }, PL_DATA },
	[XFER_KIND__XFER_FILE_END] = { { "size", "crc32c" }, PL_NONE },
	[XFER_KIND__XFER_DONE] = { { NULL }, PL_NONE },
	[XFER_KIND__XFER_ERROR] = { { "error" }, PL_NONE },
};

/* whether m has the optional field name: its has_ flag, or a string that is not NULL */
static bool has_field(const XferMsg *m, const char *name)
{
	const ProtobufCFieldDescriptor *fd =
	    protobuf_c_message_descriptor_get_field_by_name(&xfer_msg__descriptor, name);
	const char *base = (const char *)m;

	if (fd->type == PROTOBUF_C_TYPE_STRING)
		return *(char *const *)(base + fd->offset) != NULL;
	return *(const protobuf_c_boolean *)(base + fd->quantifier_offset);
}

static unsigned popcount_map(const uint8_t *map, size_t len)
{
	unsigned n = 0;

	for (size_t i = 0; i < len; i++)
		n += (unsigned)__builtin_popcount(map[i]);
	return n;
}

/* nr_pages, addr and (PAGES) zero_map and payload_len of a PAGES_REQ or PAGES header */
static int check_pages(const XferMsg *m, const char *kn, const char *peer, struct img_err *err)
{
	uint64_t len = (uint64_t)m->nr_pages * XFER_PG;
	size_t map_len = ((size_t)m->nr_pages + 7) / 8;
	unsigned zeros = 0;

	if (m->nr_pages == 0 || m->nr_pages > XFER_MAX_PAGES)
		return img_fail(err, EBADMSG, "%s: %s frame of %u pages (1..%u)", peer, kn,
				m->nr_pages, XFER_MAX_PAGES);
	if (m->addr % XFER_PG)
		return img_fail(err, EBADMSG, "%s: %s frame at 0x%llx: not page aligned", peer, kn,
				(unsigned long long)m->addr);
	if (len > UINT64_MAX - m->addr)
		return img_fail(err, EBADMSG,
				"%s: %s frame of %u pages at 0x%llx: the range wraps around", peer,
				kn, m->nr_pages, (unsigned long long)m->addr);
	if (m->kind != XFER_KIND__XFER_PAGES)
		return 0;
	if (m->has_zero_map) {
		const uint8_t *map = m->zero_map.data;

		if (m->zero_map.len != map_len)
			return img_fail(err, EBADMSG,
					"%s: PAGES frame of %u pages with a zero_map of %zu bytes "
					"(must be %zu)",
					peer, m->nr_pages, m->zero_map.len, map_len);
		if (m->nr_pages % 8 && map[map_len - 1] >> (m->nr_pages % 8))
			return img_fail(err, EBADMSG,
					"%s: PAGES frame of %u pages with zero_map bits past its "
					"last page",
					peer, m->nr_pages);
		zeros = popcount_map(map, map_len);
	}
	if ((uint64_t)m->payload_len != (uint64_t)(m->nr_pages - zeros) * XFER_PG)
		return img_fail(err, EBADMSG,
				"%s: PAGES frame of %u pages, %u of them zero, with a payload of "
				"%u bytes (must be %llu)",
				peer, m->nr_pages, zeros, m->payload_len,
				(unsigned long long)(m->nr_pages - zeros) * XFER_PG);
	return 0;
}

/* a file name: one component of a directory, printable or not */
static int check_name(const XferMsg *m, const uint8_t *raw, size_t raw_len, const char *kn,
		      const char *peer, struct img_err *err)
{
	const ProtobufCFieldDescriptor *name_fd =
	    protobuf_c_message_descriptor_get_field_by_name(&xfer_msg__descriptor, "name");
	size_t n = strlen(m->name);

	if (!n)
		return img_fail(err, EBADMSG, "%s: %s frame with an empty file name", peer, kn);
	if (n > XFER_MAX_NAME)
		return img_fail(err, EBADMSG,
				"%s: %s frame with a file name of %zu bytes (at most %u)", peer, kn,
				n, XFER_MAX_NAME);
	if (wire_has_nul(raw, raw_len, name_fd->id))
		return img_fail(err, EBADMSG, "%s: %s frame with a file name that holds a NUL",
				peer, kn);
	if (strchr(m->name, '/'))
		return img_fail(err, EBADMSG, "%s: %s frame with a file name that holds '/'", peer,
				kn);
	if (!strcmp(m->name, ".") || !strcmp(m->name, ".."))
		return img_fail(err, EBADMSG, "%s: %s frame with the file name \"%s\"", peer, kn,
				m->name);
	return 0;
}

static int check_header(const XferMsg *m, const uint8_t *raw, size_t raw_len, const char *peer,
			struct img_err *err)
{
	const char *kn = kind_name(m->kind);
	const struct kind_rule *r;
	int ret;

	for (unsigned i = 0; i < m->base.n_unknown_fields; i++)
		if (m->base.unknown_fields[i].tag == 0)
			return img_fail(err, EBADMSG,
					"%s: not a page-server message (a field numbered 0)", peer);
	if (!kn || (size_t)m->kind >= sizeof(rules) / sizeof(rules[0]))
		return img_fail(err, EBADMSG, "%s: a frame of unknown kind %d", peer, (int)m->kind);
	r = &rules[m->kind];
	if (m->payload_len > XFER_MAX_PAYLOAD)
		return img_fail(err, EBADMSG,
				"%s: %s frame with a payload of %u bytes (at most %u)", peer, kn,
				m->payload_len, XFER_MAX_PAYLOAD);
	if (m->payload_len && !m->has_payload_crc32c)
		return img_fail(err, EBADMSG,
				"%s: %s frame with a payload of %u bytes and no payload_crc32c",
				peer, kn, m->payload_len);
	if (m->has_role && !protobuf_c_enum_descriptor_get_value(&xfer_role__descriptor, m->role))
		return img_fail(err, EBADMSG, "%s: %s frame of unknown role %d", peer, kn,
				(int)m->role);
	if (m->has_space &&
	    !protobuf_c_enum_descriptor_get_value(&xfer_space__descriptor, m->space))
		return img_fail(err, EBADMSG, "%s: %s frame of unknown address space %d", peer, kn,
				(int)m->space);
	for (size_t i = 0; i < sizeof(r->need) / sizeof(r->need[0]) && r->need[i]; i++)
		if (!has_field(m, r->need[i]))
			return img_fail(err, EBADMSG, "%s: %s frame without %s", peer, kn,
					r->need[i]);
	if (r->payload == PL_NONE && m->payload_len)
		return img_fail(err, EBADMSG,
				"%s: %s frame with a payload of %u bytes (it carries none)", peer,
				kn, m->payload_len);
	if (r->payload == PL_DATA && !m->payload_len)
		return img_fail(err, EBADMSG, "%s: %s frame without a payload", peer, kn);
	if (m->kind == XFER_KIND__XFER_PAGES_REQ || m->kind == XFER_KIND__XFER_PAGES) {
		ret = check_pages(m, kn, peer, err);
		if (ret < 0)
			return ret;
	}
	if (m->kind == XFER_KIND__XFER_FILE_DATA && m->payload_len > UINT64_MAX - m->offset)
		return img_fail(err, EBADMSG,
				"%s: FILE_DATA frame of %u bytes at offset %llu: past 2^64", peer,
				m->payload_len, (unsigned long long)m->offset);
	if (m->name) {
		ret = check_name(m, raw, raw_len, kn, peer, err);
		if (ret < 0)
			return ret;
	}
	if (m->error && strlen(m->error) > XFER_MAX_TEXT)
		return img_fail(err, EBADMSG,
				"%s: %s frame with an error text of %zu bytes (at most %u)", peer,
				kn, strlen(m->error), XFER_MAX_TEXT);
	return 0;
}

/* ---- receiving ---- */

/* len bytes of the frame; first: they are its first bytes */
static int read_part(xfer_read_fn rd, void *ctx, void *buf, size_t len, bool first,
		     const char *what, const char *peer, struct img_err *err)
{
	int ret = rd(ctx, buf, len);

	if (ret == 0)
		return 0;
	if (ret > 0) /* not the transport's contract */
		return img_fail(err, EIO, "%s: reading %s: the transport returned %d", peer, what,
				ret);
	if (ret == -ENODATA && first)
		return img_fail(err, ENODATA, "%s: the connection was closed", peer);
	if (ret == -ENODATA || ret == -EPIPE)
		return img_fail(err, EPIPE, "%s: the connection was closed in the middle of %s",
				peer, what);
	return img_fail(err, -ret, "%s: reading %s: %s", peer, what, strerror(-ret));
}

static int bad_hdr_len(const uint8_t lb[4], uint32_t hlen, const char *peer, struct img_err *err)
{
	if (hlen == 0)
		return img_fail(err, EBADMSG, "%s: frame header of 0 bytes (at least 1)", peer);
	if (lb[0] == TLS_HANDSHAKE && lb[1] == 3)
		return img_fail(err, EBADMSG,
				"%s: frame header of %u bytes (at most %u): not a criu-lite "
				"page-server frame but a TLS record: a TLS peer? (this end runs "
				"--insecure)",
				peer, hlen, XFER_MAX_HDR);
	return img_fail(err, EBADMSG, "%s: frame header of %u bytes (at most %u)", peer, hlen,
			XFER_MAX_HDR);
}

int xfer_recv(xfer_read_fn rd, void *ctx, void *payload_buf, struct xfer_frame *f, const char *peer,
	      struct img_err *err)
{
	uint8_t lb[4], hdr[XFER_MAX_HDR];
	char what[64];
	uint32_t hlen;
	XferMsg *m;
	int ret;

	f->msg = NULL;
	f->payload_len = 0;
	ret = read_part(rd, ctx, lb, 4, true, "a frame's length", peer, err);
	if (ret < 0)
		return ret;
	hlen =
	    (uint32_t)lb[0] | (uint32_t)lb[1] << 8 | (uint32_t)lb[2] << 16 | (uint32_t)lb[3] << 24;
	if (hlen == 0 || hlen > XFER_MAX_HDR)
		return bad_hdr_len(lb, hlen, peer, err);
	snprintf(what, sizeof(what), "a frame header of %u bytes", hlen);
	ret = read_part(rd, ctx, hdr, hlen, false, what, peer, err);
	if (ret < 0)
		return ret;
	m = xfer_msg__unpack(NULL, hlen, hdr);
	if (!m)
		return img_fail(err, EBADMSG,
				"%s: not a page-server message (a frame header of %u bytes that "
				"does not unpack)",
				peer, hlen);
	ret = check_header(m, hdr, hlen, peer, err);
	if (ret < 0)
		goto fail;
	if (m->payload_len) {
		uint32_t crc;

		if (!payload_buf) {
			ret = img_fail(err, EINVAL, "%s: %s frame's payload and no buffer for it",
				       peer, kind_name(m->kind));
			goto fail;
		}
		snprintf(what, sizeof(what), "%s frame's payload of %u bytes", kind_name(m->kind),
			 m->payload_len);
		ret = read_part(rd, ctx, payload_buf, m->payload_len, false, what, peer, err);
		if (ret < 0)
			goto fail;
		crc = img_crc32c(0, payload_buf, m->payload_len);
		if (crc != m->payload_crc32c) {
			ret = img_fail(err, EBADMSG,
				       "%s: %s frame's payload of %u bytes with crc32c %08x "
				       "(its header says %08x)",
				       peer, kind_name(m->kind), m->payload_len, crc,
				       m->payload_crc32c);
			goto fail;
		}
	} else if (m->has_payload_crc32c && m->payload_crc32c != 0) {
		ret = img_fail(err, EBADMSG,
			       "%s: %s frame without a payload with payload_crc32c %08x (the "
			       "crc32c of nothing is 0)",
			       peer, kind_name(m->kind), m->payload_crc32c);
		goto fail;
	}
	f->msg = m;
	f->payload_len = m->payload_len;
	return 0;
fail:
	xfer_msg__free_unpacked(m, NULL);
	return ret;
}

void xfer_frame_free(struct xfer_frame *f)
{
	if (f->msg)
		xfer_msg__free_unpacked(f->msg, NULL);
	f->msg = NULL;
	f->payload_len = 0;
}

/* ---- pages ---- */

static const uint8_t zero_page[XFER_PG];

static bool page_is_zero(const uint8_t *p)
{
	/* most pages that are not zero differ in their first word: skip the call for them */
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return !w && !memcmp(p, zero_page, XFER_PG);
}

unsigned xfer_pages_pack(const void *pages, uint32_t nr, uint8_t *zero_map, struct iovec *iov,
			 int *iovcnt)
{
	const uint8_t *p = pages;
	unsigned zeros = 0;
	int n = 0;
	bool prev_data = false;

	memset(zero_map, 0, ((size_t)nr + 7) / 8);
	for (uint32_t i = 0; i < nr; i++) {
		const uint8_t *pg = p + (size_t)i * XFER_PG;

		if (page_is_zero(pg)) {
			zero_map[i / 8] |= (uint8_t)(1u << (i % 8));
			zeros++;
			prev_data = false;
			continue;
		}
		if (prev_data) {
			iov[n - 1].iov_len += XFER_PG;
		} else {
			iov[n++] = (struct iovec){ .iov_base = (void *)pg, .iov_len = XFER_PG };
			prev_data = true;
		}
	}
	*iovcnt = n;
	return zeros;
}

static bool map_bit(const XferMsg *m, uint32_t i)
{
	return m->has_zero_map && (m->zero_map.data[i / 8] >> (i % 8)) & 1;
}

void xfer_pages_unpack(const XferMsg *m, const void *payload, void *out)
{
	const uint8_t *src = payload;
	uint8_t *dst = out;

	/* runs of the same kind of page: one memset or memcpy each */
	for (uint32_t i = 0; i < m->nr_pages;) {
		bool zero = map_bit(m, i);
		uint32_t j = i + 1;
		size_t len;

		while (j < m->nr_pages && map_bit(m, j) == zero)
			j++;
		len = (size_t)(j - i) * XFER_PG;
		if (zero) {
			memset(dst, 0, len);
		} else {
			memcpy(dst, src, len);
			src += len;
		}
		dst += len;
		i = j;
	}
}
