/* verpage: pages that carry a version, for tests that keep writing memory while it is dumped
 * (the pre-dump chain tests): a page written with version v holds the pattern of (area, index,
 * v) with v in its first word, so a page from an older round, a page of another index or area,
 * or a damaged one is told apart from the one the test noted. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "zdtmtst.h"

#define PG	4096ul
#define MAX_BAD 10 /* failures reported; the rest only counted */

static uint64_t seed(unsigned area, size_t i, uint32_t v)
{
	return ((uint64_t)area << 56) ^ ((uint64_t)i << 32) ^ v;
}

void test_verpage_put(unsigned char *p, unsigned area, size_t i, uint32_t v)
{
	test_fill_pattern(p, PG, seed(area, i, v));
	memcpy(p, &v, sizeof(v));
}

static bool zero(const unsigned char *p)
{
	for (size_t k = 0; k < PG; k++)
		if (p[k])
			return false;
	return true;
}

int test_verpage_check(const char *what, const unsigned char *p, unsigned area, size_t i,
		       uint32_t noted, int *bad)
{
	unsigned char exp[PG];
	uint32_t v;

	if (zero(p) && (noted == 0 || noted == TEST_VERPAGE_DROPPING))
		return 0;
	memcpy(&v, p, sizeof(v));
	if (v == noted || (noted != TEST_VERPAGE_DROPPING && v == noted + 1) ||
	    (noted == TEST_VERPAGE_DROPPING && v)) {
		test_verpage_put(exp, area, i, v);
		if (!memcmp(exp, p, PG))
			return 0;
	}
	if ((*bad)++ < MAX_BAD)
		fail("%s page %zu: version %u (or its contents damaged), noted %u%s", what, i, v,
		     noted,
		     noted != TEST_VERPAGE_DROPPING && v < noted ? ": stale, from an older round"
								 : "");
	return -1;
}
