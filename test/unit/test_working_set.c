/* test_working_set: the working-set hint file of lazy-pages (lazy-pages/working-set.h).
 * - roundtrip: entries saved come back in order; lazy_ws_for() picks one image's, in order;
 *   no file is an empty set.
 * - bad: a flipped byte in an entry (crc), a cut file (size) and a wrong magic are refused with
 *   -EBADMSG and leave an empty set. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lazy-pages/working-set.h"

static int dirfd_of(char *tmpl)
{
	assert_non_null(mkdtemp(tmpl));
	return open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static void cleanup(int dfd, const char *dir)
{
	unlinkat(dfd, LAZY_WS_FILE, 0);
	close(dfd);
	rmdir(dir);
}

static void test_roundtrip(void **state)
{
	char dir[] = "/tmp/test_ws-XXXXXX";
	int dfd = dirfd_of(dir);
	struct lazy_ws ws = { 0 }, got;
	uint64_t *a;

	(void)state;
	assert_int_equal(lazy_ws_load(dfd, &got), 0);
	assert_int_equal(got.n, 0);
	for (uint32_t i = 0; i < 1000; i++)
		assert_int_equal(lazy_ws_add(&ws, i % 3 ? 7 : 9, 0x7f0000000000ULL + i * 4096ULL),
				 0);
	assert_int_equal(lazy_ws_save(dfd, &ws), 0);
	assert_int_equal(lazy_ws_load(dfd, &got), 0);
	assert_int_equal(got.n, 1000);
	assert_memory_equal(got.v, ws.v, 1000 * sizeof(*ws.v));
	assert_int_equal(lazy_ws_for(&got, 9, &a), 334);
	assert_int_equal(a[0], 0x7f0000000000ULL);
	assert_int_equal(a[1], 0x7f0000000000ULL + 3 * 4096ULL);
	free(a);
	lazy_ws_free(&got);
	lazy_ws_free(&ws);
	cleanup(dfd, dir);
}

/* Save 10 entries, damage the file at offset off (or cut it to len), then load. */
static int damaged(int dfd, long off, long len)
{
	struct lazy_ws ws = { 0 }, got;
	int fd, ret;
	char b;

	for (uint32_t i = 0; i < 10; i++)
		lazy_ws_add(&ws, 1, i * 4096ULL);
	assert_int_equal(lazy_ws_save(dfd, &ws), 0);
	lazy_ws_free(&ws);
	fd = openat(dfd, LAZY_WS_FILE, O_RDWR);
	assert_true(fd >= 0);
	if (len >= 0) {
		assert_int_equal(ftruncate(fd, len), 0);
	} else {
		assert_int_equal(pread(fd, &b, 1, off), 1);
		b ^= 0x10;
		assert_int_equal(pwrite(fd, &b, 1, off), 1);
	}
	close(fd);
	ret = lazy_ws_load(dfd, &got);
	assert_int_equal(got.n, 0);
	assert_null(got.v);
	return ret;
}

static void test_bad(void **state)
{
	char dir[] = "/tmp/test_ws-XXXXXX";
	int dfd = dirfd_of(dir);

	(void)state;
	assert_int_equal(damaged(dfd, 16 + 8 * 16 + 3, -1), -EBADMSG); /* an entry */
	assert_int_equal(damaged(dfd, 0, 16 + 5 * 16), -EBADMSG);      /* cut */
	assert_int_equal(damaged(dfd, 1, -1), -EBADMSG);	       /* magic */
	cleanup(dfd, dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
