/* hugetlb_refuse00: shared anonymous hugetlb memory (MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB)
 * is refused at dump, naming the VMA (tests.desc expect=dumpfail dumpmsg=hugetlb: only private
 * anonymous hugetlb memory is restored), and the test runs on with its memory as it was. It lets
 * the kernel take surplus huge pages for itself as hugetlb00 does. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"

#define HP	   (2UL << 20)
#define SEED	   0x4a6e7e02u
#define OVERCOMMIT "/proc/sys/vm/nr_overcommit_hugepages"

static long overcommit(long v)
{
	char *s = test_read_file(OVERCOMMIT, &(size_t){ 0 });
	long old = s ? strtol(s, NULL, 10) : -1;
	FILE *f;

	free(s);
	if (old >= 0 && old < v && (f = fopen(OVERCOMMIT, "w"))) {
		fprintf(f, "%ld\n", v);
		fclose(f);
	}
	return old;
}

int main(int argc, char **argv)
{
	unsigned char *p;
	long old;
	ssize_t bad;

	if (test_init(argc, argv))
		return 1;
	if (access("/sys/kernel/mm/hugepages/hugepages-2048kB", F_OK)) {
		skip("the kernel has no 2 MiB hugetlb pages");
		return 0;
	}
	old = overcommit(4);
	p = mmap(NULL, HP, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (p == MAP_FAILED) {
		skip("no huge page could be had: %s", strerror(errno));
		overcommit(old);
		return 0;
	}
	test_fill_pattern(p, HP, SEED);

	test_daemon();
	test_waitsig();

	bad = test_check_pattern(p, HP, SEED);
	munmap(p, HP);
	if (old >= 0 && old < 4) {
		FILE *f = fopen(OVERCOMMIT, "w");

		if (f) {
			fprintf(f, "%ld\n", old);
			fclose(f);
		}
	}
	if (bad >= 0) {
		fail("the shared hugetlb memory differs at byte %zd", bad);
		return 1;
	}
	pass();
	return 0;
}
