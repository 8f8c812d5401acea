/* test_pagecrc: the chunk checksums of pages files (images/pagecrc.h) and the checks of a reader
 * opened unchecked (page_reader_verify).
 *
 * - combine: img_crc32c_combine() of two pieces' sums is the sum of both, for 500 random cuts
 *   (empty pieces too).
 * - chunks: a pages file of 100 pages (12.5 chunks) has 13 chunk sums that make its whole sum
 *   (also what a plain crc32c of the file says); every range verifies.
 * - damaged: one byte flipped in chunk 5: the reader opens unchecked, ranges outside chunk 5
 *   verify, any range touching it is refused naming the file, the bytes and chunk 5 (again on a
 *   second try), and a checked open refuses the file.
 * - bad_list: one chunk sum changed, or one missing, or another chunk size: refused at load.
 * - read: page_reader_read() gives the file's bytes, reading whole chunks; a request the buffer
 *   holds is not read again; one that goes on where the last ended reads ahead PAGE_READAHEAD;
 *   a damaged chunk in the read-ahead fails only the request that needs it (named).
 * - no_chunks: a head without chunk sums (an older dump): the first verify sums the whole file,
 *   refusing a damaged one. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "images/pagecrc.h"
#include "images/pages.h"
#include "util_img.h"

#define PG     IMG_PAGE_SIZE
#define NPAGES 100

static void test_combine(void **state)
{
	static uint8_t buf[200000];

	(void)state;
	srand(7);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
	for (int t = 0; t < 500; t++) {
		size_t a = (size_t)rand() % 100000, b = t % 10 ? (size_t)rand() % 100000 : 0;

		assert_int_equal(
		    img_crc32c_combine(img_crc32c(0, buf, a), img_crc32c(0, buf + a, b), b),
		    img_crc32c(0, buf, a + b));
	}
}

/* A pages file of NPAGES pages of a pattern, id 3. */
static void write_image(struct utest_img_fx *f)
{
	struct page_writer *w;
	struct img_err err = { 0 };
	uint8_t *data = malloc(NPAGES * PG);

	assert_non_null(data);
	for (size_t i = 0; i < NPAGES * PG; i++)
		data[i] = (uint8_t)(i * 7 + i / PG);
	assert_int_equal(page_writer_open(f->d, 3, &w, &err), 0);
	/* in three pieces: the chunk sums do not depend on how the data came */
	assert_true(page_writer_add(w, 0x10000, 3, PAGEMAP_FLAGS__PE_PRESENT, data, &err) >= 0);
	assert_true(
	    page_writer_add(w, 0x20000, 50, PAGEMAP_FLAGS__PE_PRESENT, data + 3 * PG, &err) >= 0);
	assert_true(page_writer_add(w, 0x80000, NPAGES - 53, PAGEMAP_FLAGS__PE_PRESENT,
				    data + 53 * PG, &err) >= 0);
	assert_int_equal(page_writer_commit(w, &err), 0);
	free(data);
}

static void flip(struct utest_img_fx *f, off_t at)
{
	char path[4096];
	uint8_t b;
	int fd;

	snprintf(path, sizeof(path), "%s/pages-3.img", f->path);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, at), 1);
	b ^= 0x10;
	assert_int_equal(pwrite(fd, &b, 1, at), 1);
	close(fd);
}

static void test_chunks(void **state)
{
	struct utest_img_fx *f = *state;
	struct img_err err = { 0 };
	struct page_reader *r;

	write_image(f);
	assert_int_equal(page_reader_open_unchecked(f->d, IMG_PAGEMAP, 3, &r, &err), 0);
	assert_int_equal(page_reader_crc(r),
			 img_crc32c(0, page_reader_data(r), page_reader_size(r)));
	for (uint64_t off = 0; off < NPAGES * PG; off += 3 * PG)
		assert_int_equal(page_reader_verify(r, off, PG, &err), 0);
	assert_int_equal(page_reader_verify(r, 0, NPAGES * PG, &err), 0);
	assert_int_equal(page_reader_verify(r, NPAGES * PG - PG, 2 * PG, &err), -EINVAL);
	page_reader_close(r);
}

static void test_damaged(void **state)
{
	struct utest_img_fx *f = *state;
	struct img_err err = { 0 };
	struct page_reader *r;

	write_image(f);
	flip(f, 5 * PAGECRC_CHUNK + 100);
	assert_int_equal(page_reader_open_unchecked(f->d, IMG_PAGEMAP, 3, &r, &err), 0);
	assert_int_equal(page_reader_verify(r, 0, 5 * PAGECRC_CHUNK, &err), 0);
	assert_int_equal(
	    page_reader_verify(r, 6 * PAGECRC_CHUNK, NPAGES * PG - 6 * PAGECRC_CHUNK, &err), 0);
	for (int k = 0; k < 2; k++) {
		memset(&err, 0, sizeof(err));
		assert_int_equal(page_reader_verify(r, 5 * PAGECRC_CHUNK + 2 * PG, PG, &err),
				 -EBADMSG);
		assert_non_null(strstr(err.msg, "pages-3.img: checksum mismatch in bytes 163840-"
						"196608 (chunk 5"));
	}
	page_reader_close(r);
	memset(&err, 0, sizeof(err));
	assert_int_equal(page_reader_open(f->d, 3, &r, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "checksum mismatch"));
}

static void test_read(void **state)
{
	struct utest_img_fx *f = *state;
	struct img_err err = { 0 };
	struct page_buf b = { 0 };
	struct page_reader *r;
	const void *d;

	write_image(f);
	flip(f, 10 * PAGECRC_CHUNK + 5); /* chunk 10: bytes 327680-360448 */
	assert_int_equal(page_reader_open_unchecked(f->d, IMG_PAGEMAP, 3, &r, &err), 0);
	for (uint64_t off = 0; off < 2 * PAGECRC_CHUNK; off += PG) {
		assert_int_equal(page_reader_read(r, off, PG, &b, &d, &err), 0);
		assert_memory_equal(d, (const uint8_t *)page_reader_data(r) + off, PG);
	}
	/* the first read took one chunk, the next pages were in it, then one read ahead */
	assert_int_equal(b.at, PAGECRC_CHUNK);
	assert_int_equal(b.len, PAGE_READAHEAD);
	/* held: not read again */
	assert_int_equal(page_reader_read(r, 5 * PAGECRC_CHUNK, PG, &b, &d, &err), 0);
	assert_int_equal(b.at, PAGECRC_CHUNK);
	/* another buffer; not sequential: one chunk */
	free(b.buf);
	b = (struct page_buf){ 0 };
	assert_int_equal(page_reader_read(r, 8 * PAGECRC_CHUNK, PG, &b, &d, &err), 0);
	assert_int_equal(b.at, 8 * PAGECRC_CHUNK);
	assert_int_equal(b.len, PAGECRC_CHUNK);
	assert_int_equal(page_reader_read(r, 9 * PAGECRC_CHUNK - PG, PG, &b, &d, &err), 0);
	/* sequential: the read-ahead meets the damaged chunk 10; the request is served alone */
	assert_int_equal(page_reader_read(r, 9 * PAGECRC_CHUNK, PG, &b, &d, &err), 0);
	assert_int_equal(b.at, 9 * PAGECRC_CHUNK);
	assert_int_equal(b.len, PAGECRC_CHUNK);
	assert_memory_equal(d, (const uint8_t *)page_reader_data(r) + 9 * PAGECRC_CHUNK, PG);
	memset(&err, 0, sizeof(err));
	assert_int_equal(page_reader_read(r, 10 * PAGECRC_CHUNK, PG, &b, &d, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "(chunk 10:"));
	assert_int_equal(page_reader_read(r, 11 * PAGECRC_CHUNK, PG, &b, &d, &err), 0);
	free(b.buf);
	page_reader_close(r);
}

static void test_bad_list(void **state)
{
	uint8_t data[3 * PAGECRC_CHUNK + 100];
	struct pagecrc c;
	struct pagecrc_check k;
	struct img_err err = { 0 };

	(void)state;
	memset(data, 0x3c, sizeof(data));
	pagecrc_init(&c);
	assert_int_equal(pagecrc_add(&c, data, sizeof(data)), 0);
	assert_int_equal(pagecrc_finish(&c), 0);
	assert_int_equal(c.n, 4);
	assert_int_equal(c.whole, img_crc32c(0, data, sizeof(data)));
	assert_int_equal(
	    pagecrc_load(&k, c.v, c.n, PAGECRC_SHIFT, sizeof(data), c.whole, "x", &err), 0);
	pagecrc_check_free(&k);
	c.v[2] ^= 1;
	assert_int_equal(
	    pagecrc_load(&k, c.v, c.n, PAGECRC_SHIFT, sizeof(data), c.whole, "x", &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "chunk checksums make"));
	c.v[2] ^= 1;
	assert_int_equal(
	    pagecrc_load(&k, c.v, c.n - 1, PAGECRC_SHIFT, sizeof(data), c.whole, "x", &err),
	    -EBADMSG);
	assert_int_equal(
	    pagecrc_load(&k, c.v, c.n, PAGECRC_SHIFT + 1, sizeof(data), c.whole, "x", &err),
	    -EBADMSG);
	pagecrc_free(&c);
}

static void test_no_chunks(void **state)
{
	uint8_t data[2 * PAGECRC_CHUNK];
	struct pagecrc_check k;
	struct img_err err = { 0 };
	uint32_t whole;

	(void)state;
	memset(data, 0x11, sizeof(data));
	whole = img_crc32c(0, data, sizeof(data));
	assert_int_equal(pagecrc_load(&k, NULL, 0, 0, sizeof(data), whole, "old", &err), 0);
	data[PAGECRC_CHUNK + 1] ^= 1;
	assert_int_equal(pagecrc_verify(&k, data, sizeof(data), 0, PG, "old", &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "old: checksum mismatch"));
	data[PAGECRC_CHUNK + 1] ^= 1;
	assert_int_equal(pagecrc_verify(&k, data, sizeof(data), 0, PG, "old", &err), 0);
	assert_true(k.all);
	pagecrc_check_free(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_combine),
#define T(fn) cmocka_unit_test_setup_teardown(fn, utest_img_setup, utest_img_teardown)
		T(test_chunks),
		T(test_damaged),
		T(test_read),
#undef T
		cmocka_unit_test(test_bad_list),
		cmocka_unit_test(test_no_chunks),
	};

	return cmocka_run_group_tests_name("pagecrc", tests, NULL, NULL);
}
