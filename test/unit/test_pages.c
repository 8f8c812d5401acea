/* test_pages: page images (pages.h): round trips of present / zero / lazy /
 * parent runs with merging, the reserve path and large writes, refused adds,
 * and the reader's refusal of a bad pages file or a pagemap that breaks the
 * run invariants.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "images/pages.h"
#include "util_fs.h"
#include "util_img.h"

#define PG	   IMG_PAGE_SIZE
#define PE_PRESENT PAGEMAP_FLAGS__PE_PRESENT
#define PE_ZERO	   PAGEMAP_FLAGS__PE_ZERO
#define PE_LAZY	   PAGEMAP_FLAGS__PE_LAZY
#define PE_PARENT  PAGEMAP_FLAGS__PE_PARENT

/* Page contents that tell where they came from: every u64 is vaddr + index. */
static void fill_pages(void *buf, uint64_t vaddr, uint64_t nr)
{
	uint64_t *p = buf;

	for (uint64_t i = 0; i < nr * PG / 8; i++)
		p[i] = vaddr + i * 8 + 0x5a5a000000000000ull;
}

static void *make_pages(uint64_t vaddr, uint64_t nr)
{
	void *buf = malloc(nr * PG);

	assert_non_null(buf);
	fill_pages(buf, vaddr, nr);
	return buf;
}

static void add_ok(struct page_writer *w, uint64_t vaddr, uint64_t nr, uint32_t flags)
{
	struct img_err err = { 0 };
	void *data = (flags & PE_PRESENT) ? make_pages(vaddr, nr) : NULL;

	if (page_writer_add(w, vaddr, nr, flags, data, &err) < 0)
		fail_msg("add 0x%llx +%llu flags %u: %s", (unsigned long long)vaddr,
			 (unsigned long long)nr, flags, err.msg);
	free(data);
}

static void check_run(const struct page_run *r, uint64_t vaddr, uint64_t nr, uint32_t flags,
		      uint64_t offset)
{
	assert_non_null(r);
	assert_int_equal(r->vaddr, vaddr);
	assert_int_equal(r->nr_pages, nr);
	assert_int_equal(r->flags, flags);
	assert_int_equal(r->offset, offset);
}

/* The bytes of a present run are the pattern of its addresses. */
static void check_data(const struct page_reader *r, const struct page_run *run)
{
	void *want = make_pages(run->vaddr, run->nr_pages);
	const uint8_t *data = page_reader_data(r);

	assert_non_null(data);
	assert_true(run->offset + run->nr_pages * PG <= page_reader_size(r));
	assert_memory_equal(data + run->offset, want, run->nr_pages * PG);
	free(want);
}

static void test_roundtrip_mixed(void **state)
{
	struct utest_img_fx *f = *state;
	const uint64_t b = 0x400000;
	struct page_writer *w;
	struct page_reader *r;
	struct img_err err = { 0 };
	const struct page_run *runs;

	assert_int_equal(page_writer_open(f->d, 7, &w, &err), 0);
	add_ok(w, b, 2, PE_PRESENT);
	add_ok(w, b + 2 * PG, 3, PE_PRESENT); /* merges: 5 pages */
	add_ok(w, b + 5 * PG, 4, PE_ZERO);
	add_ok(w, b + 9 * PG, 1, PE_ZERO); /* merges: 5 pages */
	add_ok(w, b + 0x100000, 2, PE_LAZY);
	add_ok(w, b + 0x100000 + 2 * PG, 3, PE_PARENT); /* adjacent, other flags */
	add_ok(w, b + 0x200000, 2, PE_PRESENT | PE_LAZY);
	add_ok(w, b + 0x200000 + 2 * PG, 1, PE_PRESENT);
	add_ok(w, b + 0x300000, 2, PE_PRESENT); /* same flags, not adjacent */
	assert_int_equal(page_writer_pages(w, PE_PRESENT), 10);
	assert_int_equal(page_writer_pages(w, PE_ZERO), 5);
	assert_int_equal(page_writer_pages(w, PE_LAZY), 4);
	assert_int_equal(page_writer_pages(w, PE_PARENT), 3);
	assert_int_equal(page_writer_pages(w, 0), 20);
	assert_int_equal(page_writer_commit(w, &err), 0);
	assert_int_equal(utest_dir_entries(f->path), 2);
	assert_true(utest_file_exists(f->path, "pages-7.img"));
	assert_true(utest_file_exists(f->path, "pagemap-7.img"));

	assert_int_equal(page_reader_open(f->d, 7, &r, &err), 0);
	assert_int_equal(page_reader_nr_runs(r), 7);
	assert_int_equal(page_reader_size(r), 10 * PG);
	assert_true(page_reader_fd(r) >= 0);
	runs = page_reader_runs(r);
	check_run(&runs[0], b, 5, PE_PRESENT, 0);
	check_run(&runs[1], b + 5 * PG, 5, PE_ZERO, 0);
	check_run(&runs[2], b + 0x100000, 2, PE_LAZY, 0);
	check_run(&runs[3], b + 0x100000 + 2 * PG, 3, PE_PARENT, 0);
	check_run(&runs[4], b + 0x200000, 2, PE_PRESENT | PE_LAZY, 5 * PG);
	check_run(&runs[5], b + 0x200000 + 2 * PG, 1, PE_PRESENT, 7 * PG);
	check_run(&runs[6], b + 0x300000, 2, PE_PRESENT, 8 * PG);
	check_data(r, &runs[0]);
	check_data(r, &runs[4]);
	check_data(r, &runs[5]);
	check_data(r, &runs[6]);

	/* find() at the edges of runs and in the gaps */
	assert_ptr_equal(page_reader_find(r, b), &runs[0]);
	assert_ptr_equal(page_reader_find(r, b + 5 * PG - 1), &runs[0]);
	assert_ptr_equal(page_reader_find(r, b + 5 * PG), &runs[1]);
	assert_ptr_equal(page_reader_find(r, b + 10 * PG - 1), &runs[1]);
	assert_null(page_reader_find(r, b + 10 * PG));
	assert_null(page_reader_find(r, b - 1));
	assert_null(page_reader_find(r, 0));
	assert_ptr_equal(page_reader_find(r, b + 0x100000 + 2 * PG - 1), &runs[2]);
	assert_ptr_equal(page_reader_find(r, b + 0x100000 + 2 * PG), &runs[3]);
	assert_ptr_equal(page_reader_find(r, b + 0x100000 + 5 * PG - 1), &runs[3]);
	assert_null(page_reader_find(r, b + 0x100000 + 5 * PG));
	assert_ptr_equal(page_reader_find(r, b + 0x300000 + 2 * PG - 1), &runs[6]);
	assert_null(page_reader_find(r, b + 0x300000 + 2 * PG));
	assert_null(page_reader_find(r, UINT64_MAX));

	/* any(): a run with the flags overlapping a range, not just touching it */
	assert_true(page_reader_any(r, b, b + PG, PE_PRESENT));
	assert_true(page_reader_any(r, b + 4 * PG, b + 6 * PG, PE_ZERO));
	assert_false(page_reader_any(r, b + 5 * PG, b + 10 * PG, PE_PRESENT));
	assert_false(page_reader_any(r, b - PG, b, PE_PRESENT));
	assert_false(page_reader_any(r, b + 10 * PG, b + 0x100000, 0));
	assert_true(page_reader_any(r, b + 0x100000, b + 0x300000 + PG, PE_PRESENT));
	assert_true(page_reader_any(r, b + 0x100000, b + 0x200000 + PG, PE_PRESENT | PE_LAZY));
	assert_false(page_reader_any(r, b + 0x100000, b + 0x200000, PE_PRESENT));
	assert_false(page_reader_any(r, b + 0x300000 + 2 * PG, UINT64_MAX, 0));
	assert_false(page_reader_any(NULL, 0, UINT64_MAX, 0));
	page_reader_close(r);
}

static void test_reserve_and_large(void **state)
{
	struct utest_img_fx *f = *state;
	const uint64_t b = 0x7f0000000000ull;
	const uint64_t big = 2100, huge = 3000; /* both over the 8 MiB buffer */
	struct page_writer *w;
	struct page_reader *r;
	struct img_err err = { 0 };
	uint64_t va = b;
	void *p, *data;

	assert_int_equal(page_writer_open(f->d, 3, &w, &err), 0);
	/* in place, small */
	p = page_writer_reserve(w, 3, &err);
	assert_non_null(p);
	fill_pages(p, va, 3);
	assert_int_equal(page_writer_add(w, va, 3, PE_PRESENT, p, &err), 0);
	va += 3 * PG;
	/* from the caller's memory, crossing a partly filled buffer */
	data = make_pages(va, big);
	assert_int_equal(page_writer_add(w, va, big, PE_PRESENT, data, &err), 0);
	free(data);
	va += big * PG;
	/* in place, bigger than the buffer: it grows */
	p = page_writer_reserve(w, huge, &err);
	assert_non_null(p);
	fill_pages(p, va, huge);
	assert_int_equal(page_writer_add(w, va, huge, PE_PRESENT, p, &err), 0);
	va += huge * PG;
	/* more pages than reserved is refused */
	p = page_writer_reserve(w, 2, &err);
	assert_non_null(p);
	assert_int_equal(page_writer_add(w, va, 3, PE_PRESENT, p, &err), -EINVAL);
	assert_null(page_writer_reserve(w, 0, &err));
	/* after the caller's data, a small one again */
	p = page_writer_reserve(w, 1, &err);
	fill_pages(p, va, 1);
	assert_int_equal(page_writer_add(w, va, 1, PE_PRESENT, p, &err), 0);
	assert_int_equal(page_writer_commit(w, &err), 0);

	assert_int_equal(page_reader_open(f->d, 3, &r, &err), 0);
	assert_int_equal(page_reader_nr_runs(r), 1); /* all adjacent: merged */
	check_run(&page_reader_runs(r)[0], b, 3 + big + huge + 1, PE_PRESENT, 0);
	assert_int_equal(page_reader_size(r), (3 + big + huge + 1) * PG);
	check_data(r, &page_reader_runs(r)[0]);
	page_reader_close(r);
}

/* One reservation taken a part at a time: runs with data take their part of it in turn, a run
 * without data between them keeps the rest; the file holds every part back to back, checked
 * by its sums (the reader verifies them). */
static void test_reserve_in_parts(void **state)
{
	struct utest_img_fx *f = *state;
	const uint64_t b = 0x7f0000000000ull;
	struct page_writer *w;
	struct page_reader *r;
	struct img_err err = { 0 };
	uint8_t *p;

	assert_int_equal(page_writer_open(f->d, 4, &w, &err), 0);
	p = page_writer_reserve(w, 5, &err);
	assert_non_null(p);
	fill_pages(p, b, 2);
	fill_pages(p + 2 * PG, b + 10 * PG, 3);
	assert_int_equal(page_writer_add(w, b, 2, PE_PRESENT, p, &err), 0);
	assert_int_equal(page_writer_add(w, b + 4 * PG, 4, PE_PARENT, NULL, &err), 0);
	/* more than the rest of the reservation is refused */
	assert_int_equal(page_writer_add(w, b + 10 * PG, 4, PE_PRESENT, p + 2 * PG, &err), -EINVAL);
	p = page_writer_reserve(w, 5, &err); /* a failure let it go: again, as it was */
	assert_non_null(p);
	fill_pages(p, b + 10 * PG, 3);
	assert_int_equal(page_writer_add(w, b + 10 * PG, 3, PE_PRESENT, p, &err), 0);
	assert_int_equal(page_writer_add(w, b + 13 * PG, 1, PE_PARENT, NULL, &err), 0);
	fill_pages(p + 3 * PG, b + 20 * PG, 2);
	assert_int_equal(page_writer_add(w, b + 20 * PG, 2, PE_PRESENT, p + 3 * PG, &err), 0);
	assert_int_equal(page_writer_commit(w, &err), 0);

	assert_int_equal(page_reader_open(f->d, 4, &r, &err), 0);
	assert_int_equal(page_reader_nr_runs(r), 5);
	check_run(&page_reader_runs(r)[0], b, 2, PE_PRESENT, 0);
	check_run(&page_reader_runs(r)[1], b + 4 * PG, 4, PE_PARENT, 0);
	check_run(&page_reader_runs(r)[2], b + 10 * PG, 3, PE_PRESENT, 2 * PG);
	check_run(&page_reader_runs(r)[4], b + 20 * PG, 2, PE_PRESENT, 5 * PG);
	assert_int_equal(page_reader_size(r), 7 * PG);
	for (size_t i = 0; i < 5; i++)
		if (page_reader_runs(r)[i].flags == PE_PRESENT)
			check_data(r, &page_reader_runs(r)[i]);
	page_reader_close(r);
}

/* Places kept for later (a live snapshot): filled out of order after other runs, summed at
 * commit from the file; a fill outside them is refused. */
static void test_deferred(void **state)
{
	struct utest_img_fx *f = *state;
	const uint64_t b = 0x7f1000000000ull;
	struct page_writer *w;
	struct page_reader *r;
	struct img_err err = { 0 };
	uint64_t off1 = 0, off2 = 0;
	void *d;

	assert_int_equal(page_writer_open(f->d, 5, &w, &err), 0);
	add_ok(w, b, 2, PE_PRESENT);
	assert_int_equal(page_writer_defer(w, b + 2 * PG, 3, &off1, &err), 0);
	assert_int_equal(off1, 2 * PG);
	add_ok(w, b + 8 * PG, 1, PE_ZERO);
	add_ok(w, b + 9 * PG, 1, PE_PRESENT);
	assert_int_equal(page_writer_defer(w, b + 20 * PG, 2, &off2, &err), 0);
	assert_int_equal(off2, 6 * PG);
	/* the last place first, then the other in two parts */
	d = make_pages(b + 20 * PG, 2);
	assert_int_equal(page_writer_fill(w, off2, d, 2 * PG, &err), 0);
	free(d);
	d = make_pages(b + 2 * PG, 3);
	assert_int_equal(page_writer_fill(w, off1 + PG, (uint8_t *)d + PG, 2 * PG, &err), 0);
	assert_int_equal(page_writer_fill(w, off1, d, PG, &err), 0);
	assert_int_equal(page_writer_fill(w, off2 + PG, d, 2 * PG, &err), -EINVAL);
	free(d);
	assert_int_equal(page_writer_commit(w, &err), 0);

	assert_int_equal(page_reader_open(f->d, 5, &r, &err), 0);
	assert_int_equal(page_reader_nr_runs(r), 4);
	check_run(&page_reader_runs(r)[0], b, 5, PE_PRESENT, 0);
	check_run(&page_reader_runs(r)[1], b + 8 * PG, 1, PE_ZERO, 0);
	check_run(&page_reader_runs(r)[2], b + 9 * PG, 1, PE_PRESENT, 5 * PG);
	check_run(&page_reader_runs(r)[3], b + 20 * PG, 2, PE_PRESENT, 6 * PG);
	assert_int_equal(page_reader_size(r), 8 * PG);
	for (size_t i = 0; i < 4; i++)
		if (page_reader_runs(r)[i].flags == PE_PRESENT)
			check_data(r, &page_reader_runs(r)[i]);
	page_reader_close(r);
}

static void test_add_refused(void **state)
{
	struct utest_img_fx *f = *state;
	struct page_writer *w;
	struct page_reader *r;
	struct img_err err = { 0 };
	void *pg = make_pages(0, 2);
	static const uint32_t bad_flags[] = {
		0,
		0x20, /* unknown */
		PE_PRESENT | PE_ZERO,
		PE_ZERO | PE_PARENT,
		PE_PRESENT | PE_PARENT,
		PAGEMAP_FLAGS__PE_COW | PE_PRESENT,
		PAGEMAP_FLAGS__PE_COW | PE_ZERO,
	};

	assert_int_equal(page_writer_open(f->d, 4, &w, &err), 0);
	assert_int_equal(page_writer_add(w, 0x10000, 3, PE_ZERO, NULL, &err), 0);
	/* overlapping, below, unaligned, empty, overflowing */
	assert_int_equal(page_writer_add(w, 0x12000, 1, PE_ZERO, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "pages-4.img: run at 0x12000: below the end 0x13000"));
	assert_int_equal(page_writer_add(w, 0x5000, 1, PE_ZERO, NULL, &err), -EINVAL);
	assert_int_equal(page_writer_add(w, 0x20001, 1, PE_ZERO, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not page aligned"));
	assert_int_equal(page_writer_add(w, 0x20000, 0, PE_ZERO, NULL, &err), -EINVAL);
	assert_int_equal(page_writer_add(w, 0xfffffffffffff000ull, 2, PE_ZERO, NULL, &err),
			 -EINVAL);
	for (size_t i = 0; i < sizeof(bad_flags) / sizeof(bad_flags[0]); i++) {
		const void *d = (bad_flags[i] & PE_PRESENT) ? pg : NULL;

		assert_int_equal(page_writer_add(w, 0x20000, 1, bad_flags[i], d, &err), -EINVAL);
		assert_non_null(strstr(err.msg, "bad flags"));
	}
	/* data must come with present pages, and only with them */
	assert_int_equal(page_writer_add(w, 0x20000, 1, PE_PRESENT, NULL, &err), -EINVAL);
	assert_int_equal(page_writer_add(w, 0x20000, 1, PE_ZERO, pg, &err), -EINVAL);
	/* refusals leave the writer usable: right at the end of the last run merges */
	assert_int_equal(page_writer_add(w, 0x13000, 1, PE_ZERO, NULL, &err), 0);
	assert_int_equal(page_writer_add(w, 0x20000, 2, PE_PRESENT, pg, &err), 0);
	assert_int_equal(page_writer_commit(w, &err), 0);
	assert_int_equal(page_reader_open(f->d, 4, &r, &err), 0);
	assert_int_equal(page_reader_nr_runs(r), 2);
	check_run(&page_reader_runs(r)[0], 0x10000, 4, PE_ZERO, 0);
	check_run(&page_reader_runs(r)[1], 0x20000, 2, PE_PRESENT, 0);
	assert_memory_equal(page_reader_data(r), pg, 2 * PG);
	page_reader_close(r);
	free(pg);

	assert_int_equal(page_writer_open(f->d, -1, &w, &err), -EINVAL);
	assert_int_equal(page_writer_open(f->d, 1l << 32, &w, &err), -EINVAL);
}

static void test_abort_and_empty(void **state)
{
	struct utest_img_fx *f = *state;
	struct page_writer *w;
	struct page_reader *r;
	struct img_err err = { 0 };

	assert_int_equal(page_writer_open(f->d, 5, &w, &err), 0);
	add_ok(w, 0x1000, 4, PE_PRESENT);
	assert_true(utest_file_exists(f->path, "pages-5.img.tmp"));
	page_writer_abort(w);
	assert_int_equal(utest_dir_entries(f->path), 0);
	page_writer_abort(NULL);

	assert_int_equal(page_reader_open(f->d, 5, &r, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "pagemap-5.img"));

	assert_int_equal(page_writer_open(f->d, 5, &w, &err), 0);
	assert_int_equal(page_writer_commit(w, &err), 0);
	assert_int_equal(page_reader_open(f->d, 5, &r, &err), 0);
	assert_int_equal(page_reader_nr_runs(r), 0);
	assert_int_equal(page_reader_size(r), 0);
	assert_null(page_reader_data(r));
	assert_null(page_reader_find(r, 0x1000));
	page_reader_close(r);
	assert_int_equal(utest_dir_entries(f->path), 2);
}

static void write_three_pages(struct utest_img_fx *f, long id)
{
	struct page_writer *w;
	struct img_err err = { 0 };

	assert_int_equal(page_writer_open(f->d, id, &w, &err), 0);
	add_ok(w, 0x1000, 2, PE_PRESENT);
	add_ok(w, 0x8000, 1, PE_PRESENT);
	assert_int_equal(page_writer_commit(w, &err), 0);
}

static void expect_reader_fails(struct utest_img_fx *f, long id, int code, const char *msg)
{
	struct page_reader *r = NULL;
	struct img_err err = { 0 };

	assert_int_equal(page_reader_open(f->d, id, &r, &err), code);
	assert_null(r);
	if (!strstr(err.msg, msg))
		fail_msg("expected \"%s\" in \"%s\"", msg, err.msg);
}

static void test_pages_file_bad(void **state)
{
	struct utest_img_fx *f = *state;
	uint8_t *buf;
	size_t len;

	write_three_pages(f, 6);
	assert_int_equal(utest_read_file(f->path, "pages-6.img", (void **)&buf, &len), 0);
	assert_int_equal(len, 3 * PG);

	buf[PG + 100] ^= 0x01;
	assert_int_equal(utest_write_file(f->path, "pages-6.img", buf, len), 0);
	expect_reader_fails(f, 6, -EBADMSG, "pages-6.img: checksum mismatch (stored 0x");
	buf[PG + 100] ^= 0x01;

	assert_int_equal(utest_write_file(f->path, "pages-6.img", buf, len - PG), 0);
	expect_reader_fails(f, 6, -EBADMSG, "pages-6.img: size 8192 does not match pagemap-6.img");
	buf[len] = 0;
	assert_int_equal(utest_write_file(f->path, "pages-6.img", buf, len + 1), 0);
	expect_reader_fails(f, 6, -EBADMSG, "pages-6.img: size 12289");

	assert_int_equal(unlink(strcat(strcpy((char *)buf, f->path), "/pages-6.img")), 0);
	expect_reader_fails(f, 6, -ENOENT, "pages-6.img");
	free(buf);
}

/* A pagemap-9.img written by hand over a valid 3 page pages-9.img. */
struct pm_case {
	const char *what;
	uint64_t head_size;
	unsigned n;
	PagemapEntry e[3];
	const char *msg; /* NULL: must open */
};

#define E(va, nr, fl)                                                                           \
	{                                                                                       \
		PROTOBUF_C_MESSAGE_INIT(&pagemap_entry__descriptor), (va), (nr), (fl), false, 0 \
	}
#define EO(va, nr, fl, o)                                                                        \
	{                                                                                        \
		PROTOBUF_C_MESSAGE_INIT(&pagemap_entry__descriptor), (va), (nr), (fl), true, (o) \
	}

static void write_case(struct utest_img_fx *f, const struct pm_case *c, uint32_t crc)
{
	PagemapHead h = PAGEMAP_HEAD__INIT;
	struct img_writer *iw;
	struct img_err err = { 0 };

	h.pages_id = 9;
	h.pages_size = c->head_size;
	h.pages_crc32c = crc;
	assert_int_equal(img_writer_open(f->d, IMG_PAGEMAP, 9, &iw, &err), 0);
	assert_int_equal(img_write(iw, &h.base, &err), 0);
	for (unsigned i = 0; i < c->n; i++)
		assert_int_equal(img_write(iw, &c->e[i].base, &err), 0);
	assert_int_equal(img_writer_commit(iw, &err), 0);
}

static void test_pagemap_invariants(void **state)
{
	struct utest_img_fx *f = *state;
	const uint32_t P = PE_PRESENT;
	const struct pm_case cases[] = {
		{ "valid",
		  3 * PG,
		  3,
		  { EO(0x1000, 1, P, 0), E(0x2000, 1, PE_ZERO), EO(0x5000, 2, P, PG) },
		  NULL },
		{ "overlap",
		  PG,
		  2,
		  { EO(0x1000, 2, P, 0), E(0x2000, 1, PE_ZERO) },
		  "below the end 0x3000" },
		{ "unsorted",
		  PG,
		  2,
		  { E(0x5000, 1, PE_ZERO), EO(0x1000, 1, P, 0) },
		  "below the end" },
		{ "no pages", 0, 1, { E(0x1000, 0, PE_ZERO) }, "bad page count 0" },
		{ "overflow", 0, 1, { E(0xfffffffffffff000ull, 2, PE_ZERO) }, "bad page count 2" },
		{ "unaligned", 0, 1, { E(0x1800, 1, PE_ZERO) }, "not page aligned" },
		{ "offset gap",
		  2 * PG,
		  2,
		  { EO(0x1000, 1, P, 0), EO(0x3000, 1, P, 2 * PG) },
		  "offset 0x2000, expected 0x1000" },
		{ "no offset", PG, 1, { E(0x1000, 1, P) }, "offset missing" },
		{ "zero with offset",
		  0,
		  1,
		  { EO(0x1000, 1, PE_ZERO, 0) },
		  "offset on a run that stores no data" },
		{ "unknown flag", 0, 1, { E(0x1000, 1, 0x20) }, "bad flags 0x20" },
		{ "present+parent", PG, 1, { EO(0x1000, 1, P | PE_PARENT, 0) }, "bad flags 0x9" },
		{ "head too big",
		  4 * PG,
		  1,
		  { EO(0x1000, 3, P, 0) },
		  "present runs hold 12288 bytes, the head says the pages file has 16384" },
		{ "head too small", 2 * PG, 1, { EO(0x1000, 3, P, 0) }, "present runs hold 12288" },
	};
	struct raw_file rf;
	struct img_err err = { 0 };
	void *data = make_pages(0, 3);
	uint32_t crc = img_crc32c(0, data, 3 * PG);

	assert_int_equal(raw_file_create(f->d, "pages-9.img", &rf, &err), 0);
	assert_int_equal(write(rf.fd, data, 3 * PG), 3 * PG);
	assert_int_equal(raw_file_commit(&rf, &err), 0);
	free(data);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pm_case *c = &cases[i];
		struct page_reader *r = NULL;
		int ret;

		write_case(f, c, crc);
		ret = page_reader_open(f->d, 9, &r, &err);
		if (!c->msg) {
			if (ret)
				fail_msg("%s: refused: %s", c->what, err.msg);
			assert_int_equal(page_reader_nr_runs(r), c->n);
			page_reader_close(r);
			continue;
		}
		if (ret != -EBADMSG)
			fail_msg("%s: expected -EBADMSG, got %d (%s)", c->what, ret, err.msg);
		assert_null(r);
		if (!strstr(err.msg, c->msg) || !strstr(err.msg, "pagemap-9.img"))
			fail_msg("%s: expected \"%s\" in \"%s\"", c->what, c->msg, err.msg);
	}

	/* a pagemap without even its head */
	{
		struct img_writer *iw;

		assert_int_equal(img_writer_open(f->d, IMG_PAGEMAP, 9, &iw, &err), 0);
		assert_int_equal(img_writer_commit(iw, &err), 0);
		expect_reader_fails(f, 9, -EBADMSG, "pagemap-9.img: no pagemap head record");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, utest_img_setup, utest_img_teardown)
		T(test_roundtrip_mixed),    T(test_reserve_and_large), T(test_reserve_in_parts),
		T(test_add_refused),	    T(test_abort_and_empty),   T(test_pages_file_bad),
		T(test_pagemap_invariants), T(test_deferred),
#undef T
	};

	return cmocka_run_group_tests_name("pages", tests, NULL, NULL);
}
