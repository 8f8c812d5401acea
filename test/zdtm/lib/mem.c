/* mem: seeded memory patterns and CRC-32C, for tests that check memory
 * survived a checkpoint/restore bit for bit. */
#include <stdint.h>
#include <sys/types.h>

#include "zdtmtst.h"

/* splitmix64 of (seed, word index): every 8-byte word of a region differs
 * and depends on its offset, so shifted or swapped pages do not match. */
static uint64_t pattern_word(uint64_t seed, uint64_t idx)
{
	uint64_t z = seed + (idx + 1) * 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void test_fill_pattern(void *buf, size_t len, uint64_t seed)
{
	unsigned char *p = buf;

	for (size_t off = 0; off < len; off += 8) {
		uint64_t w = pattern_word(seed, off / 8);
		size_t n = len - off < 8 ? len - off : 8;

		for (size_t k = 0; k < n; k++)
			p[off + k] = (unsigned char)(w >> (8 * k));
	}
}

ssize_t test_check_pattern(const void *buf, size_t len, uint64_t seed)
{
	const unsigned char *p = buf;

	for (size_t off = 0; off < len; off += 8) {
		uint64_t w = pattern_word(seed, off / 8);
		size_t n = len - off < 8 ? len - off : 8;

		for (size_t k = 0; k < n; k++) {
			if (p[off + k] != (unsigned char)(w >> (8 * k)))
				return (ssize_t)(off + k);
		}
	}
	return -1;
}

uint32_t test_crc32c(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint32_t table[256];
	uint32_t crc = 0xffffffffu;

	/* reflected Castagnoli polynomial; 2 KiB of work, cheaper than any cache */
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
		table[i] = c;
	}
	for (size_t i = 0; i < len; i++)
		crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return crc ^ 0xffffffffu;
}
