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

#define HP   (2UL << 20)
#define SEED 0x4a6e7e02u

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
	old = test_hugetlb_allow(4);
	p = mmap(NULL, HP, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (p == MAP_FAILED) {
		skip("no huge page could be had: %s", strerror(errno));
		test_hugetlb_reset(old, 4);
		return 0;
	}
	test_fill_pattern(p, HP, SEED);

	test_daemon();
	test_waitsig();

	bad = test_check_pattern(p, HP, SEED);
	munmap(p, HP);
	test_hugetlb_reset(old, 4);
	if (bad >= 0) {
		fail("the shared hugetlb memory differs at byte %zd", bad);
		return 1;
	}
	pass();
	return 0;
}
