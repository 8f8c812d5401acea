/* pagecrc: see pagecrc.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "images/pagecrc.h"

void pagecrc_init(struct pagecrc *c)
{
	*c = (struct pagecrc){ .shift = img_crc32c_shift(PAGECRC_CHUNK) };
}

static int push(struct pagecrc *c, uint32_t sum)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		uint32_t *v = realloc(c->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = sum;
	return 0;
}

/* The chunk being summed is done: its sum joins the list and the whole. */
static int close_chunk(struct pagecrc *c, uint32_t shift)
{
	if (push(c, c->cur))
		return -ENOMEM;
	c->whole = img_crc32c_combine_op(c->whole, c->cur, shift);
	c->cur = 0;
	c->fill = 0;
	return 0;
}

int pagecrc_add(struct pagecrc *c, const void *data, uint64_t len)
{
	const uint8_t *p = data;

	while (len) {
		uint64_t k = PAGECRC_CHUNK - c->fill < len ? PAGECRC_CHUNK - c->fill : len;

		c->cur = img_crc32c(c->cur, p, k);
		c->fill += k;
		p += k;
		len -= k;
		if (c->fill == PAGECRC_CHUNK && close_chunk(c, c->shift))
			return -ENOMEM;
	}
	return 0;
}

int pagecrc_finish(struct pagecrc *c)
{
	return c->fill ? close_chunk(c, img_crc32c_shift(c->fill)) : 0;
}

void pagecrc_free(struct pagecrc *c)
{
	free(c->v);
	c->v = NULL;
	c->n = c->cap = 0;
}

int pagecrc_load(struct pagecrc_check *k, const uint32_t *v, size_t n, uint32_t shift,
		 uint64_t size, uint32_t whole, const char *name, struct img_err *err)
{
	uint64_t want = (size + PAGECRC_CHUNK - 1) / PAGECRC_CHUNK;
	uint32_t sum = 0, op = img_crc32c_shift(PAGECRC_CHUNK);

	*k = (struct pagecrc_check){ .whole = whole };
	if (!n && !shift)
		return 0; /* an older dump: the whole file is summed on first use */
	if (shift != PAGECRC_SHIFT || n != want)
		return img_fail(err, EBADMSG,
				"%s: %zu chunk checksums of 2^%u bytes for %llu bytes (expected "
				"%llu of 2^%u)",
				name, n, shift, (unsigned long long)size, (unsigned long long)want,
				PAGECRC_SHIFT);
	for (size_t i = 0; i < n; i++)
		sum = i + 1 < n || size % PAGECRC_CHUNK == 0
			  ? img_crc32c_combine_op(sum, v[i], op)
			  : img_crc32c_combine(sum, v[i], size % PAGECRC_CHUNK);
	if (sum != whole)
		return img_fail(err, EBADMSG,
				"%s: its chunk checksums make 0x%08x, the file's is 0x%08x", name,
				sum, whole);
	k->v = malloc((n + 1) * sizeof(*v));
	k->ok = calloc(n / 64 + 1, sizeof(uint64_t));
	if (!k->v || !k->ok) {
		pagecrc_check_free(k);
		return img_fail(err, ENOMEM, "%s: out of memory for %zu chunk checksums", name, n);
	}
	if (n)
		memcpy(k->v, v, n * sizeof(*v));
	k->n = n;
	return 0;
}

/* Chunk i, whose n bytes are at bytes (file offset i * PAGECRC_CHUNK), checked once. */
static int check_chunk(struct pagecrc_check *k, uint64_t i, const void *bytes, uint64_t n,
		       const char *name, struct img_err *err)
{
	uint32_t sum;

	if (k->ok[i / 64] >> (i % 64) & 1)
		return 0;
	sum = img_crc32c(0, bytes, n);
	if (sum != k->v[i])
		return img_fail(
		    err, EBADMSG,
		    "%s: checksum mismatch in bytes %llu-%llu (chunk %llu: stored 0x%08x, "
		    "computed 0x%08x)",
		    name, (unsigned long long)(i * PAGECRC_CHUNK),
		    (unsigned long long)(i * PAGECRC_CHUNK + n), (unsigned long long)i, k->v[i],
		    sum);
	k->ok[i / 64] |= 1ULL << (i % 64);
	return 0;
}

int pagecrc_verify(struct pagecrc_check *k, const void *data, uint64_t size, uint64_t off,
		   uint64_t len, const char *name, struct img_err *err)
{
	if (k->all || !len)
		return 0;
	if (off > size || len > size - off)
		return img_fail(err, EINVAL, "%s: bytes %llu-%llu are beyond its %llu", name,
				(unsigned long long)off, (unsigned long long)(off + len),
				(unsigned long long)size);
	if (!k->v) {
		uint32_t sum = img_crc32c(0, data, size);

		if (sum != k->whole)
			return img_fail(err, EBADMSG,
					"%s: checksum mismatch (stored 0x%08x, computed 0x%08x)",
					name, k->whole, sum);
		k->all = true;
		return 0;
	}
	/* the whole chunks around the range: all of the file is there */
	uint64_t a = off / PAGECRC_CHUNK * PAGECRC_CHUNK;
	uint64_t e = (off + len + PAGECRC_CHUNK - 1) / PAGECRC_CHUNK * PAGECRC_CHUNK;

	e = e < size ? e : size;
	return pagecrc_verify_buf(k, (const uint8_t *)data + a, a, e - a, size, name, err);
}

bool pagecrc_verified(const struct pagecrc_check *k, uint64_t off)
{
	uint64_t i = off / PAGECRC_CHUNK;

	return k->all || (k->v && i < k->n && (k->ok[i / 64] >> (i % 64) & 1));
}

void pagecrc_forget(struct pagecrc_check *k, uint64_t off)
{
	uint64_t i = off / PAGECRC_CHUNK;

	if (!k->all && k->v && i < k->n)
		k->ok[i / 64] &= ~(1ULL << (i % 64));
}

int pagecrc_verify_buf(struct pagecrc_check *k, const void *buf, uint64_t a, uint64_t len,
		       uint64_t size, const char *name, struct img_err *err)
{
	if (k->all || !k->v)
		return 0;
	for (uint64_t c = (a + PAGECRC_CHUNK - 1) / PAGECRC_CHUNK * PAGECRC_CHUNK; c < a + len;
	     c += PAGECRC_CHUNK) {
		uint64_t n = size - c < PAGECRC_CHUNK ? size - c : PAGECRC_CHUNK;
		int ret;

		if (c + n > a + len)
			break; /* not all of it here */
		ret =
		    check_chunk(k, c / PAGECRC_CHUNK, (const uint8_t *)buf + (c - a), n, name, err);
		if (ret)
			return ret;
	}
	return 0;
}

void pagecrc_check_free(struct pagecrc_check *k)
{
	free(k->v);
	free(k->ok);
	k->v = NULL;
	k->ok = NULL;
}
