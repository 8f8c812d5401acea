/* fuzz_frames: what the fuzz targets of the page-server protocol share: a connection's bytes
 * read as a transport (xfer-msg.h xfer_read_fn), and fix_crcs(), which makes every frame's
 * payload_crc32c right so that mutations of a payload get past its checksum (run_twice(): an
 * input as it is, then so mended). Header-only: each
 * target is one binary built from its own source (Makefile `fuzz`). */
#ifndef CRIU_LITE_FUZZ_FRAMES_H
#define CRIU_LITE_FUZZ_FRAMES_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lazy-pages/xfer-msg.h"

struct stream {
	const uint8_t *buf;
	size_t len, pos;
	uint8_t *out; /* writev */
	size_t out_len, out_cap;
};

static inline int st_read(void *ctx, void *buf, size_t len)
{
	struct stream *s = ctx;

	if (s->pos == s->len)
		return -ENODATA;
	if (s->len - s->pos < len) {
		s->pos = s->len;
		return -EPIPE;
	}
	memcpy(buf, s->buf + s->pos, len);
	s->pos += len;
	return 0;
}

/* data with every frame's payload_crc32c set to the crc32c of the bytes after its header, as
 * far as they go; the rest as it is from the first frame whose header does not unpack */
static inline size_t fix_crcs(const uint8_t *data, size_t size, uint8_t *out, size_t cap)
{
	size_t in = 0, o = 0;

	while (size - in >= 4) {
		uint32_t hlen = (uint32_t)data[in] | (uint32_t)data[in + 1] << 8 |
				(uint32_t)data[in + 2] << 16 | (uint32_t)data[in + 3] << 24;
		XferMsg *m;
		size_t plen, nlen;

		if (hlen == 0 || hlen > XFER_MAX_HDR || hlen > size - in - 4)
			break;
		m = xfer_msg__unpack(NULL, hlen, data + in + 4);
		if (!m)
			break;
		plen = size - in - 4 - hlen;
		if (plen > m->payload_len)
			plen = m->payload_len;
		m->has_payload_crc32c = true;
		m->payload_crc32c = img_crc32c(0, data + in + 4 + hlen, plen);
		nlen = xfer_msg__get_packed_size(m);
		if (nlen + 4 + plen > cap - o) {
			xfer_msg__free_unpacked(m, NULL);
			break;
		}
		for (int i = 0; i < 4; i++)
			out[o + i] = (uint8_t)(nlen >> (8 * i));
		xfer_msg__pack(m, out + o + 4);
		memcpy(out + o + 4 + nlen, data + in + 4 + hlen, plen);
		o += 4 + nlen + plen;
		in += 4 + hlen + plen;
		xfer_msg__free_unpacked(m, NULL);
	}
	if (size - in > cap - o)
		return o;
	memcpy(out + o, data + in, size - in);
	return o + size - in;
}

/* run(data) and, when making the crcs right changes them, run() of those bytes too */
static inline void run_twice(const uint8_t *data, size_t size,
			     void (*run)(const uint8_t *data, size_t size))
{
	size_t cap = size + 64 * 16, n;
	uint8_t *fixed;

	run(data, size);
	fixed = malloc(cap);
	if (!fixed)
		return;
	n = fix_crcs(data, size, fixed, cap);
	if (n != size || memcmp(fixed, data, size))
		run(fixed, n);
	free(fixed);
}

#endif
