/* test_pagescan: page discovery finds exactly the private data pages of a
 * range, and the PAGEMAP_SCAN path and the pagemap-read path agree. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "criu-lite/dump/pagescan.h"

#define PG	 4096UL
#define NR_PAGES 64
#define MAX_RUNS 64

struct runs {
	struct pagescan_run r[MAX_RUNS];
	int n;
};

static int collect(void *arg, const struct pagescan_run *run)
{
	struct runs *rs = arg;

	if (rs->n == MAX_RUNS)
		return -E2BIG;
	rs->r[rs->n++] = *run;
	return 0;
}

static void scan(bool ioctl_path, uint64_t start, uint64_t end, struct runs *out)
{
	struct pagescan ps;

	memset(out, 0, sizeof(*out));
	assert_int_equal(pagescan_open(getpid(), ioctl_path, &ps), 0);
	assert_int_equal(pagescan_range(&ps, start, end, collect, out), 0);
	pagescan_close(&ps);
}

static void assert_same(const struct runs *a, const struct runs *b)
{
	assert_int_equal(a->n, b->n);
	for (int i = 0; i < a->n; i++) {
		assert_int_equal(a->r[i].start, b->r[i].start);
		assert_int_equal(a->r[i].end, b->r[i].end);
		assert_int_equal(a->r[i].zero, b->r[i].zero);
	}
}

/* Anonymous memory: written pages are data, read-only-touched pages map the
 * zero page, untouched pages are nothing. */
static void test_anon(void **state)
{
	char *p =
	    mmap(NULL, NR_PAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t b = (uintptr_t)p;
	struct runs a, r;
	volatile char sink;

	(void)state;
	assert_true(p != MAP_FAILED);
	madvise(p, NR_PAGES * PG, MADV_NOHUGEPAGE);
	memset(p + 2 * PG, 1, 3 * PG); /* pages 2-4 data */
	sink = p[10 * PG];	       /* page 10 zero page */
	sink = p[11 * PG];	       /* page 11 zero page */
	p[12 * PG] = 7;		       /* page 12 data */
	p[40 * PG] = 9;		       /* page 40 data */
	(void)sink;
	scan(true, b, b + NR_PAGES * PG, &a);
	scan(false, b, b + NR_PAGES * PG, &r);
	assert_int_equal(a.n, 4);
	assert_int_equal(a.r[0].start, b + 2 * PG);
	assert_int_equal(a.r[0].end, b + 5 * PG);
	assert_false(a.r[0].zero);
	assert_int_equal(a.r[1].start, b + 10 * PG);
	assert_int_equal(a.r[1].end, b + 12 * PG);
	assert_true(a.r[1].zero);
	assert_int_equal(a.r[2].start, b + 12 * PG);
	assert_int_equal(a.r[2].end, b + 13 * PG);
	assert_false(a.r[2].zero);
	assert_int_equal(a.r[3].start, b + 40 * PG);
	assert_same(&a, &r);
	/* a sub-range: runs are clipped to it */
	scan(true, b + 3 * PG, b + 4 * PG, &a);
	assert_int_equal(a.n, 1);
	assert_int_equal(a.r[0].start, b + 3 * PG);
	assert_int_equal(a.r[0].end, b + 4 * PG);
	munmap(p, NR_PAGES * PG);
}

/* A private file mapping: only the copied-on-write pages are private data;
 * pages read from the file are page cache and stay out. */
static void test_file_private(void **state)
{
	char path[] = "/tmp/criu-lite-pagescan-XXXXXX";
	int fd = mkstemp(path);
	char buf[PG];
	struct runs a, r;
	volatile char sink;
	char *p;
	uint64_t b;

	(void)state;
	assert_true(fd >= 0);
	unlink(path);
	memset(buf, 'f', sizeof(buf));
	for (int i = 0; i < 16; i++)
		assert_int_equal(write(fd, buf, PG), PG);
	p = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	assert_true(p != MAP_FAILED);
	b = (uintptr_t)p;
	for (int i = 0; i < 16; i++)
		sink = p[i * PG]; /* all present as file pages */
	(void)sink;
	p[5 * PG] = 'x'; /* COW */
	p[6 * PG] = 'y'; /* COW */
	scan(true, b, b + 16 * PG, &a);
	scan(false, b, b + 16 * PG, &r);
	assert_int_equal(a.n, 1);
	assert_int_equal(a.r[0].start, b + 5 * PG);
	assert_int_equal(a.r[0].end, b + 7 * PG);
	assert_false(a.r[0].zero);
	assert_same(&a, &r);
	munmap(p, 16 * PG);
	close(fd);
}

/* A PROT_NONE region keeps its data pages (the dump must read them). */
static void test_prot_none(void **state)
{
	char *p = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t b = (uintptr_t)p;
	struct runs a, r;

	(void)state;
	assert_true(p != MAP_FAILED);
	memset(p, 3, 8 * PG);
	assert_int_equal(mprotect(p, 8 * PG, PROT_NONE), 0);
	scan(true, b, b + 8 * PG, &a);
	scan(false, b, b + 8 * PG, &r);
	assert_int_equal(a.n, 1);
	assert_int_equal(a.r[0].end - a.r[0].start, 8 * PG);
	assert_same(&a, &r);
	munmap(p, 8 * PG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_anon),
		cmocka_unit_test(test_file_private),
		cmocka_unit_test(test_prot_none),
	};

	if (geteuid() != 0) {
		printf("test_pagescan: needs root (pagemap frame numbers)\n");
		return 0;
	}
	return cmocka_run_group_tests_name("pagescan", tests, NULL, NULL);
}
