/* hugetlb: surplus huge pages for a test (zdtmtst.h test_hugetlb_allow()). */
#include <stdio.h>
#include <stdlib.h>

#include "zdtmtst.h"

#define OVERCOMMIT "/proc/sys/vm/nr_overcommit_hugepages"

static int write_long(long v)
{
	FILE *f = fopen(OVERCOMMIT, "w");
	int ret = f && fprintf(f, "%ld\n", v) > 0 ? 0 : -1;

	if (f && fclose(f))
		ret = -1;
	return ret;
}

long test_hugetlb_allow(long want)
{
	size_t len;
	char *s = test_read_file(OVERCOMMIT, &len);
	long old = s ? strtol(s, NULL, 10) : -1;

	free(s);
	if (old < 0)
		return -1;
	if (old < want && write_long(want))
		return -1;
	return old;
}

void test_hugetlb_reset(long old, long want)
{
	if (old >= 0 && old < want)
		write_long(old);
}
