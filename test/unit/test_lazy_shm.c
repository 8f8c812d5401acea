/* test_lazy_shm: how lazy-pages writes a shared object's pages (lazy-pages/lazy-shm.h), on a
 * real memfd, from a page source of the test's own (64 pages, pages 8-47 with contents: page p
 * holds the byte p + 1).
 *
 * - fill: placeholders fallocate()d for pages 8-47 as restore makes them, then pages 20-23
 *   punched out (MADV_REMOVE's effect) before anything is written. Filling pages 0-63 writes
 *   every page still in the cache (36: their contents read back through the fd), leaves the
 *   punched pages holes (SEEK_DATA skips them, they read as zeros): never written again, as a
 *   pwrite() would have done; nothing is pending after it. A second fill writes nothing.
 * - prefetch: batches of 16 pages from the cursor write all 40 pages, then report none; a page
 *   written before by a fault is not written again (its new contents stay). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "lazy-pages/lazy-mm.h"
#include "lazy-pages/lazy-shm.h"

#define NPG   64
#define FIRST 8
#define LAST  48 /* exclusive */

struct fake_src {
	struct page_source base;
	struct page_run run;
	uint8_t data[(LAST - FIRST) * LAZY_PG];
};

static int fake_runs(struct page_source *s, enum img_kind kind, uint32_t id,
		     const struct page_run **runs, size_t *n)
{
	struct fake_src *f = (struct fake_src *)s;

	assert_int_equal(kind, IMG_SHMEM_PAGEMAP);
	assert_int_equal(id, 7);
	*runs = &f->run;
	*n = 1;
	return 0;
}

static int fake_get(struct page_source *s, enum img_kind kind, uint32_t id, uint64_t addr,
		    uint64_t nr, void *buf, const void **data)
{
	struct fake_src *f = (struct fake_src *)s;

	(void)buf;
	assert_int_equal(kind, IMG_SHMEM_PAGEMAP);
	assert_int_equal(id, 7);
	assert_true(addr >= FIRST * LAZY_PG && addr + nr * LAZY_PG <= LAST * LAZY_PG);
	*data = f->data + (addr - FIRST * LAZY_PG);
	return 0;
}

static const struct page_source_ops fake_ops = { .runs = fake_runs, .get = fake_get };

static struct fake_src *fake(void)
{
	struct fake_src *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->base.ops = &fake_ops;
	f->base.notify_fd = -1;
	f->run = (struct page_run){ .vaddr = FIRST * LAZY_PG,
				    .nr_pages = LAST - FIRST,
				    .flags = PAGEMAP_FLAGS__PE_PRESENT };
	for (int p = FIRST; p < LAST; p++)
		memset(f->data + (p - FIRST) * LAZY_PG, p + 1, LAZY_PG);
	return f;
}

/* A memfd of NPG pages with placeholders for FIRST..LAST, as restore makes it. */
static int object(void)
{
	int fd = memfd_create("test_lazy_shm", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, NPG * LAZY_PG), 0);
	assert_int_equal(
	    fallocate(fd, FALLOC_FL_KEEP_SIZE, FIRST * LAZY_PG, (LAST - FIRST) * LAZY_PG), 0);
	return fd;
}

static uint8_t page_byte(int fd, int p)
{
	uint8_t b[LAZY_PG];

	assert_int_equal(pread(fd, b, LAZY_PG, p * (off_t)LAZY_PG), (ssize_t)LAZY_PG);
	for (size_t i = 1; i < LAZY_PG; i++)
		assert_int_equal(b[i], b[0]);
	return b[0];
}

static void test_fill(void **state)
{
	struct fake_src *f = fake();
	struct lazy_shm t;
	int fd = object(), keep = dup(fd);
	uint64_t done;

	(void)state;
	assert_int_equal(
	    fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 20 * LAZY_PG, 4 * LAZY_PG),
	    0);
	lazy_shm_init(&t, &f->base);
	assert_int_equal(lazy_shm_add(&t, 7, NPG * LAZY_PG, fd), 0);
	assert_int_equal(t.left, LAST - FIRST);
	assert_true(lazy_shm_pending(&t, 0, 20 * LAZY_PG));
	assert_int_equal(lazy_shm_fill(&t, 0, 0, NPG, &done), 0);
	assert_int_equal(done, LAST - FIRST - 4);
	assert_int_equal(t.left, 0);
	for (int p = 0; p < NPG; p++) {
		bool hole = p < FIRST || p >= LAST || (p >= 20 && p < 24);

		assert_int_equal(page_byte(keep, p), hole ? 0 : p + 1);
	}
	assert_int_equal(lseek(keep, 20 * LAZY_PG, SEEK_DATA), 24 * (off_t)LAZY_PG);
	assert_int_equal(lazy_shm_fill(&t, 0, 0, NPG, &done), 0);
	assert_int_equal(done, 0);
	lazy_shm_free(&t);
	close(keep);
	free(f);
}

static void test_prefetch(void **state)
{
	struct fake_src *f = fake();
	struct lazy_shm t;
	int fd = object(), keep = dup(fd);
	uint64_t done, total = 0;
	uint8_t mine[LAZY_PG];

	(void)state;
	lazy_shm_init(&t, &f->base);
	assert_int_equal(lazy_shm_add(&t, 7, NPG * LAZY_PG, fd), 0);
	/* a fault writes page 30, then a task writes into it */
	assert_int_equal(lazy_shm_fill(&t, 0, 30 * LAZY_PG, 1, &done), 0);
	assert_int_equal(done, 1);
	memset(mine, 0xee, sizeof(mine));
	assert_int_equal(pwrite(keep, mine, LAZY_PG, 30 * LAZY_PG), (ssize_t)LAZY_PG);
	for (int k = 0; k < 10 && t.left; k++) {
		assert_int_equal(lazy_shm_prefetch(&t, 16, &done), 0);
		assert_true(done > 0 && done <= 16);
		total += done;
	}
	assert_int_equal(total, LAST - FIRST - 1);
	assert_int_equal(t.left, 0);
	assert_int_equal(lazy_shm_prefetch(&t, 16, &done), 0);
	assert_int_equal(done, 0);
	for (int p = FIRST; p < LAST; p++)
		assert_int_equal(page_byte(keep, p), p == 30 ? 0xee : p + 1);
	lazy_shm_free(&t);
	close(keep);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fill),
		cmocka_unit_test(test_prefetch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
