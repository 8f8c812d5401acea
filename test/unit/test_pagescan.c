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
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "criu-lite/dump/pagescan.h"
#include "criu-lite/kcompat.h"

#define PG	 4096UL
#define NR_PAGES 64
#define MAX_RUNS 4096

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

static void scan_w(bool ioctl_path, bool written, uint64_t start, uint64_t end, struct runs *out)
{
	struct pagescan ps;

	memset(out, 0, sizeof(*out));
	assert_int_equal(pagescan_open(getpid(), ioctl_path, &ps), 0);
	ps.want_written = written;
	assert_int_equal(pagescan_range(&ps, start, end, collect, out), 0);
	pagescan_close(&ps);
}

static void scan(bool ioctl_path, uint64_t start, uint64_t end, struct runs *out)
{
	scan_w(ioctl_path, false, start, end, out);
}

static void assert_same(const struct runs *a, const struct runs *b)
{
	assert_int_equal(a->n, b->n);
	for (int i = 0; i < a->n; i++) {
		assert_int_equal(a->r[i].start, b->r[i].start);
		assert_int_equal(a->r[i].end, b->r[i].end);
		assert_int_equal(a->r[i].zero, b->r[i].zero);
		assert_int_equal(a->r[i].written, b->r[i].written);
	}
}

/* What the kernel mapped at va, asked of the kernel itself (pagemap for the PFN, kpageflags
 * for KPF_ZERO_PAGE; both need CAP_SYS_ADMIN, which the unit tests run with): 1 the shared
 * zero page, 0 a page of its own, -1 not present. */
static int kernel_zero_page(uint64_t va)
{
	uint64_t e = 0, f = 0;
	int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	int kf = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);

	assert_true(pm >= 0 && kf >= 0);
	assert_int_equal(pread(pm, &e, 8, (off_t)(va / PG * 8)), 8);
	close(pm);
	if (!(e >> 63)) {
		close(kf);
		return -1;
	}
	assert_true(e & ((1ULL << 55) - 1)); /* a PFN: we are privileged */
	assert_int_equal(pread(kf, &f, 8, (off_t)((e & ((1ULL << 55) - 1)) * 8)), 8);
	close(kf);
	return (int)((f >> 24) & 1); /* KPF_ZERO_PAGE */
}

/* Map the zero page at [va, va + len) of a private anonymous mapping with UFFDIO_ZEROPAGE
 * (which maps the zero PFN whatever the kernel does on a read fault): 0, or -errno. */
static int uffd_zero_pages(uint64_t va, uint64_t len)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .range = { va, len }, .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct uffdio_zeropage z = { .range = { va, len } };
	int u = (int)syscall(SYS_userfaultfd, O_CLOEXEC), r = 0;

	if (u < 0)
		return -errno;
	if (ioctl(u, UFFDIO_API, &api) || ioctl(u, UFFDIO_REGISTER, &reg) ||
	    ioctl(u, UFFDIO_ZEROPAGE, &z))
		r = -errno;
	close(u);
	return r;
}

/* Anonymous memory: written pages are data, zero-page PTEs are zero runs, untouched pages
 * are nothing. Pages 10-11 get the zero page through UFFDIO_ZEROPAGE; page 20 is only read,
 * and whether that mapped the zero page or a page of its own is the kernel's choice (a kernel
 * of this machine kind allocates one), so the test asks the kernel and expects accordingly. */
static void test_anon(void **state)
{
	char *p =
	    mmap(NULL, NR_PAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t b = (uintptr_t)p;
	struct runs a, r;
	volatile char sink;
	int zp, read_zero;

	(void)state;
	assert_true(p != MAP_FAILED);
	madvise(p, NR_PAGES * PG, MADV_NOHUGEPAGE);
	memset(p + 2 * PG, 1, 3 * PG); /* pages 2-4 data */
	zp = uffd_zero_pages(b + 10 * PG, 2 * PG);
	if (zp) {
		munmap(p, NR_PAGES * PG);
		print_message("skip: UFFDIO_ZEROPAGE failed (%s): no way to map the zero page\n",
			      strerror(-zp));
		skip();
	}
	assert_int_equal(kernel_zero_page(b + 10 * PG), 1);
	assert_int_equal(kernel_zero_page(b + 11 * PG), 1);
	p[12 * PG] = 7;	   /* page 12 data */
	sink = p[20 * PG]; /* page 20: zero page or a page of its own */
	p[40 * PG] = 9;	   /* page 40 data */
	(void)sink;
	read_zero = kernel_zero_page(b + 20 * PG);
	assert_true(read_zero == 0 || read_zero == 1);
	scan(true, b, b + NR_PAGES * PG, &a);
	scan(false, b, b + NR_PAGES * PG, &r);
	assert_int_equal(a.n, 5);
	assert_int_equal(a.r[0].start, b + 2 * PG);
	assert_int_equal(a.r[0].end, b + 5 * PG);
	assert_false(a.r[0].zero);
	assert_int_equal(a.r[1].start, b + 10 * PG);
	assert_int_equal(a.r[1].end, b + 12 * PG);
	assert_true(a.r[1].zero);
	assert_int_equal(a.r[2].start, b + 12 * PG);
	assert_int_equal(a.r[2].end, b + 13 * PG);
	assert_false(a.r[2].zero);
	assert_int_equal(a.r[3].start, b + 20 * PG);
	assert_int_equal(a.r[3].end, b + 21 * PG);
	assert_int_equal(a.r[3].zero, read_zero == 1);
	assert_int_equal(a.r[4].start, b + 40 * PG);
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

/* More regions than one PAGEMAP_SCAN call's kernel buffer (512): every other page of 4096
 * written. 6.18 returns them all in one call but leaves walk_end at the first buffer's stop;
 * a walk that went on from there reported the rest twice. */
static void test_many_regions(void **state)
{
	static struct runs a, r;
	char *p = mmap(NULL, 4096 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t b = (uintptr_t)p;

	(void)state;
	assert_true(p != MAP_FAILED);
	assert_int_equal(madvise(p, 4096 * PG, MADV_NOHUGEPAGE), 0);
	for (size_t i = 0; i < 4096; i += 2)
		p[i * PG] = 1;
	scan(true, b, b + 4096 * PG, &a);
	scan(false, b, b + 4096 * PG, &r);
	assert_int_equal(a.n, 2048);
	for (int i = 0; i < a.n; i++)
		assert_int_equal(a.r[i].start, b + 2 * (uint64_t)i * PG);
	assert_same(&a, &r);
	munmap(p, 4096 * PG);
}

/* A range write-protected by an async userfaultfd with WP_UNPOPULATED (dirty tracking): the
 * pages never touched carry PTE markers, which PAGEMAP_SCAN calls swapped; they hold no data.
 * Only the written pages are found, by both paths; asked for (want_written), each run says
 * whether it was written since the protection, by both paths. */
static void test_uffd_wp_markers(void **state)
{
	char *p = mmap(NULL, 64 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t b = (uintptr_t)p;
	int u = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	struct uffdio_api api = { .api = UFFD_API,
				  .features = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED };
	struct uffdio_register reg = { .range = { b, 64 * PG }, .mode = UFFDIO_REGISTER_MODE_WP };
	struct uffdio_writeprotect wp = { .range = { b, 64 * PG },
					  .mode = UFFDIO_WRITEPROTECT_MODE_WP };
	struct runs a, r;

	(void)state;
	assert_true(p != MAP_FAILED);
	if (u < 0 || ioctl(u, UFFDIO_API, &api) || ioctl(u, UFFDIO_REGISTER, &reg)) {
		if (u >= 0)
			close(u);
		munmap(p, 64 * PG);
		skip(); /* no async write-protect here: check says so */
	}
	p[3 * PG] = 1;
	p[10 * PG] = 1;
	assert_int_equal(ioctl(u, UFFDIO_WRITEPROTECT, &wp), 0);
	scan(true, b, b + 64 * PG, &a);
	scan(false, b, b + 64 * PG, &r);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.r[0].start, b + 3 * PG);
	assert_int_equal(a.r[1].start, b + 10 * PG);
	assert_same(&a, &r);
	assert_false(a.r[0].written); /* not asked */
	/* asked: of the data pages, written since the protection are 10 and 11 (just written; 11
	 * a page of its own now), 3 is not; both paths say the same */
	p[10 * PG] = 2;
	p[11 * PG] = 2;
	scan_w(true, true, b, b + 64 * PG, &a);
	scan_w(false, true, b, b + 64 * PG, &r);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.r[0].start, b + 3 * PG);
	assert_int_equal(a.r[0].end, b + 4 * PG);
	assert_false(a.r[0].written);
	assert_int_equal(a.r[1].start, b + 10 * PG);
	assert_int_equal(a.r[1].end, b + 12 * PG);
	assert_true(a.r[1].written);
	assert_same(&a, &r);
	close(u);
	munmap(p, 64 * PG);
}

/* Guard regions: exactly the guard pages, by both paths; nothing where there are none. */
static void test_guards(void **state)
{
	char *p =
	    mmap(NULL, NR_PAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t b = (uintptr_t)p;
	struct runs a, r;
	struct pagescan ps;

	(void)state;
	assert_true(p != MAP_FAILED);
	memset(p, 1, NR_PAGES * PG);
	if (madvise(p + 3 * PG, PG, 102 /* MADV_GUARD_INSTALL */)) {
		munmap(p, NR_PAGES * PG);
		print_message("skip: MADV_GUARD_INSTALL: %s (kernel < 6.13)\n", strerror(errno));
		skip();
	}
	assert_int_equal(madvise(p + 7 * PG, 2 * PG, 102), 0);
	assert_int_equal(madvise(p + 63 * PG, PG, 102), 0);
	for (int io = 0; io < 2; io++) {
		struct runs *out = io ? &a : &r;

		memset(out, 0, sizeof(*out));
		assert_int_equal(pagescan_open(getpid(), true, &ps), 0);
		assert_int_equal(pagescan_guards(&ps, io, b, b + NR_PAGES * PG, collect, out), 0);
		pagescan_close(&ps);
	}
	assert_int_equal(r.n, 3);
	assert_int_equal(r.r[0].start, b + 3 * PG);
	assert_int_equal(r.r[0].end, b + 4 * PG);
	assert_int_equal(r.r[1].start, b + 7 * PG);
	assert_int_equal(r.r[1].end, b + 9 * PG);
	assert_int_equal(r.r[2].start, b + 63 * PG);
	assert_int_equal(r.r[2].end, b + 64 * PG);
	assert_same(&a, &r);
	/* the data pages around them are data, the guards are not */
	scan(true, b, b + 10 * PG, &a);
	assert_int_equal(a.n, 3);
	assert_int_equal(a.r[1].start, b + 4 * PG);
	assert_int_equal(a.r[1].end, b + 7 * PG);
	memset(&a, 0, sizeof(a));
	assert_int_equal(pagescan_open(getpid(), true, &ps), 0);
	assert_int_equal(pagescan_guards(&ps, true, b + 9 * PG, b + 63 * PG, collect, &a), 0);
	pagescan_close(&ps);
	assert_int_equal(a.n, 0);
	munmap(p, NR_PAGES * PG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guards),	     cmocka_unit_test(test_anon),
		cmocka_unit_test(test_file_private), cmocka_unit_test(test_prot_none),
		cmocka_unit_test(test_many_regions), cmocka_unit_test(test_uffd_wp_markers),
	};

	if (geteuid() != 0) {
		printf("test_pagescan: needs root (pagemap frame numbers)\n");
		return 0;
	}
	return cmocka_run_group_tests_name("pagescan", tests, NULL, NULL);
}
