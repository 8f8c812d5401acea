/* bigmem00: a 256 MiB private anonymous region survives checkpoint/restore
 * byte for byte. Each 1 MiB chunk holds the pattern of its own seed, so a
 * damaged, shifted or swapped chunk is found and named; every byte is
 * checked. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "zdtmtst.h"

#define LEN	(256ul << 20)
#define CHUNK	(1ul << 20)
#define NCHUNKS (LEN / CHUNK)
#define SEED	0xb16e0000u
#define MAX_BAD 8

static uint64_t chunk_seed(size_t i)
{
	return SEED + i;
}

/* 0, or -1 after reporting the first bad byte of chunk i. */
static int check_chunk(const unsigned char *p, size_t i, unsigned char *exp, int *bad)
{
	const unsigned char *c = p + i * CHUNK;
	ssize_t off = test_check_pattern(c, CHUNK, chunk_seed(i));

	if (off < 0)
		return 0;
	test_fill_pattern(exp, CHUNK, chunk_seed(i));
	if ((*bad)++ < MAX_BAD)
		fail("256 MiB region at %p: chunk %zu, byte %zd (offset %#zx) is 0x%02x, "
		     "expected 0x%02x",
		     (const void *)p, i, off, i * CHUNK + (size_t)off, c[off], exp[off]);
	return -1;
}

int main(int argc, char **argv)
{
	unsigned char *p, *exp;
	int bad = 0;

	if (test_init(argc, argv))
		return 1;
	p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	exp = malloc(CHUNK);
	if (p == MAP_FAILED || !exp) {
		fail_errno("setup: mmap %lu bytes", LEN);
		return 1;
	}
	for (size_t i = 0; i < NCHUNKS; i++)
		test_fill_pattern(p + i * CHUNK, CHUNK, chunk_seed(i));
	if (test_daemon())
		return 1;
	test_waitsig();

	for (size_t i = 0; i < NCHUNKS; i++)
		check_chunk(p, i, exp, &bad);
	if (bad) {
		fail("%d of %lu chunks of 1 MiB differ", bad, NCHUNKS);
		return 1;
	}
	munmap(p, LEN);
	free(exp);
	pass();
	return 0;
}
