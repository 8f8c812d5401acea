/* crc: crc32c (Castagnoli) over isa-l's hardware accelerated crc32_iscsi.
 *
 * img_crc32c(0, buf, len) is the standard crc32c (check value of "123456789"
 * is 0xE3069283); passing a previous result as crc continues the sum, so a
 * stream can be summed in pieces. img_crc32c_combine() gives the crc32c of
 * A followed by B from the crc32c of each and B's length, for sums taken in
 * pieces that are also wanted whole (isa-l has no combine for crc32c: it is
 * the arithmetic below, multiplication modulo the polynomial in reflected bit
 * order).
 * img_pread_crc32c() sums a file's bytes as it reads them.
 * img_crc64() is isa-l's crc64_ecma_refl (hardware accelerated as well), the sum of a page
 * that a pre-dump chain compares across rounds.
 */
#include <errno.h>
#include <isa-l/crc.h>
#include <isa-l/crc64.h>
#include <stdlib.h>
#include <unistd.h>

#include "images/img.h"

/* crc32_iscsi() takes an int length: feed it in chunks well below INT_MAX. */
#define CRC_CHUNK (1u << 30)

uint32_t img_crc32c(uint32_t crc, const void *buf, size_t len)
{
	unsigned char *p = (unsigned char *)buf; /* isa-l's prototype lacks const */
	uint32_t raw = ~crc;

	while (len) {
		size_t n = len < CRC_CHUNK ? len : CRC_CHUNK;

		raw = crc32_iscsi(p, (int)n, raw);
		p += n;
		len -= n;
	}
	return ~raw;
}

uint64_t img_crc64(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint64_t crc = 0;

	while (len) {
		size_t n = len < CRC_CHUNK ? len : CRC_CHUNK;

		crc = crc64_ecma_refl(crc, p, (uint64_t)n);
		p += n;
		len -= n;
	}
	return crc;
}

#define CRC32C_POLY 0x82f63b78u /* reflected */

/* a * b modulo the polynomial; bit 31 is x^0 (reflected). */
static uint32_t mul_mod(uint32_t a, uint32_t b)
{
	uint32_t prod = 0;

	for (uint32_t bit = 1u << 31; bit; bit >>= 1) {
		if (a & bit)
			prod ^= b;
		b = (b & 1) ? (b >> 1) ^ CRC32C_POLY : b >> 1;
	}
	return prod;
}

int img_pread_crc32c(int fd, uint64_t len, uint32_t *crc)
{
	size_t cap = len < (1U << 20) ? (size_t)len : (1U << 20);
	uint8_t *buf = malloc(cap ? cap : 1);
	uint64_t off = 0;

	*crc = 0;
	if (!buf)
		return -ENOMEM;
	while (off < len) {
		size_t want = len - off < cap ? (size_t)(len - off) : cap;
		ssize_t n = pread(fd, buf, want, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int ret = n < 0 ? -errno : -EIO;

			free(buf);
			return ret;
		}
		*crc = img_crc32c(*crc, buf, (size_t)n);
		off += (uint64_t)n;
	}
	free(buf);
	return 0;
}

uint32_t img_crc32c_shift(uint64_t len)
{
	uint32_t power = 1u << 30; /* x^1; squared each round: x^(2^k) */
	uint32_t r = 1u << 31;	   /* x^0 */

	for (uint64_t n = len * 8; n; n >>= 1) {
		if (n & 1)
			r = mul_mod(power, r);
		power = mul_mod(power, power);
	}
	return r;
}

uint32_t img_crc32c_combine_op(uint32_t crc_a, uint32_t crc_b, uint32_t shift_b)
{
	return mul_mod(shift_b, crc_a) ^ crc_b;
}

uint32_t img_crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b)
{
	return img_crc32c_combine_op(crc_a, crc_b, img_crc32c_shift(len_b));
}
