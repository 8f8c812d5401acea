/* zdtm_self_mem: private and shared anonymous memory and heap filled with
 * seeded patterns survive until SIGTERM, bit for bit (pattern and CRC-32C).
 * First it proves the helpers can see a difference at all. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "zdtmtst.h"

#define PRIV_LEN   (8u << 20) /* 8 MiB */
#define SHARED_LEN (1u << 20)
#define HEAP_LEN   ((256u << 10) + 123) /* not a page multiple */

struct region {
	const char *name;
	unsigned char *p;
	size_t len;
	uint64_t seed;
	uint32_t crc;
};

/* The helpers must see a flipped byte where it is, and known CRC values. */
static int check_helpers(void)
{
	unsigned char buf[4096 + 5];
	ssize_t bad;

	if (test_crc32c("123456789", 9) != 0xe3069283u) {
		fail("crc32c(\"123456789\") = %#x, expected 0xe3069283",
		     test_crc32c("123456789", 9));
		return -1;
	}
	test_fill_pattern(buf, sizeof(buf), 42);
	bad = test_check_pattern(buf, sizeof(buf), 42);
	if (bad != -1) {
		fail("a fresh pattern mismatches at offset %zd", bad);
		return -1;
	}
	buf[4097] ^= 0x10;
	bad = test_check_pattern(buf, sizeof(buf), 42);
	if (bad != 4097) {
		fail("a byte flipped at 4097 was found at %zd", bad);
		return -1;
	}
	bad = test_check_pattern(buf, sizeof(buf), 43);
	if (bad < 0 || bad >= 8) {
		fail("another seed's pattern first differs at %zd, expected within 8 bytes", bad);
		return -1;
	}
	return 0;
}

static int check_region(const struct region *r)
{
	ssize_t bad = test_check_pattern(r->p, r->len, r->seed);
	uint32_t crc;

	if (bad >= 0) {
		fail("%s memory (%zu bytes at %p) differs first at offset %zd: 0x%02x", r->name,
		     r->len, (void *)r->p, bad, r->p[bad]);
		return -1;
	}
	crc = test_crc32c(r->p, r->len);
	if (crc != r->crc) {
		fail("%s memory crc32c %#x, was %#x", r->name, crc, r->crc);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct region regions[] = {
		{ "private anon", NULL, PRIV_LEN, 0x5eed0001, 0 },
		{ "shared anon", NULL, SHARED_LEN, 0x5eed0002, 0 },
		{ "heap", NULL, HEAP_LEN, 0x5eed0003, 0 },
	};

	if (test_init(argc, argv))
		return 1;
	if (check_helpers())
		return 1;
	regions[0].p =
	    mmap(NULL, PRIV_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	regions[1].p =
	    mmap(NULL, SHARED_LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	regions[2].p = malloc(HEAP_LEN);
	if (regions[0].p == MAP_FAILED || regions[1].p == MAP_FAILED || !regions[2].p) {
		fail_errno("setup: mmap/malloc");
		return 1;
	}
	for (size_t i = 0; i < sizeof(regions) / sizeof(regions[0]); i++) {
		test_fill_pattern(regions[i].p, regions[i].len, regions[i].seed);
		regions[i].crc = test_crc32c(regions[i].p, regions[i].len);
	}
	if (test_daemon())
		return 1;
	test_waitsig();
	for (size_t i = 0; i < sizeof(regions) / sizeof(regions[0]); i++) {
		if (check_region(&regions[i]))
			return 1;
	}
	pass();
	return 0;
}
