/* test_kerndat_cache: kerndat_get() keeps the probes' results between runs (kerndat.h), in a
 * file of the test's own (CRIU_LITE_KERNDAT_CACHE=/path).
 * - roundtrip: the first call probes and writes the file (0600); the second reads it (the log
 *   says so) and gives the same items; fresh (check) probes again although the file is good.
 * - damaged: a byte flipped in the file, or the file writable by its group: probed again (the
 *   log says the file is not this kernel's), and the file is good again afterwards. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "criu-lite/kerndat/kerndat.h"
#include "util_fs.h"
#include "util_log.h"

#define GROUPS (KD_PROBE_PROC | KD_PROBE_MEM | KD_PROBE_VDSO)

static struct utest_logdir ld;
static char path[4096];

static int setup(void **state)
{
	(void)state;
	if (utest_logdir_open(&ld, "kdcache"))
		return -1;
	snprintf(path, sizeof(path), "%s/kerndat.cache", ld.dir);
	return setenv("CRIU_LITE_KERNDAT_CACHE", path, 1);
}

static int teardown(void **state)
{
	(void)state;
	unsetenv("CRIU_LITE_KERNDAT_CACHE");
	utest_logdir_close(&ld);
	return 0;
}

/* How many times the log says the features came from the file. */
static int hits(void)
{
	size_t len = 0;
	void *buf = NULL;
	char *log, *p;
	int n = 0;

	assert_int_equal(utest_read_file(ld.dir, "test.log", &buf, &len), 0);
	log = realloc(buf, len + 1);
	assert_non_null(log);
	log[len] = '\0';
	p = log;
	while ((p = strstr(p, "kernel features from "))) {
		n++;
		p++;
	}
	free(log);
	return n;
}

static void same_items(const struct kerndat *a, const struct kerndat *b)
{
	for (int id = 0; id < KD_NR; id++)
		if (a->item[id].status != KD_NOT_PROBED && b->item[id].status != KD_NOT_PROBED)
			assert_int_equal(a->item[id].status, b->item[id].status);
	assert_int_equal(a->xstate_size, b->xstate_size);
	assert_int_equal(a->vdso.nr_parts, b->vdso.nr_parts);
}

static void test_roundtrip(void **state)
{
	struct kerndat a, b;
	struct stat st;

	(void)state;
	assert_int_equal(kerndat_get(&a, GROUPS, false), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(hits(), 0);
	assert_int_equal(kerndat_get(&b, GROUPS, false), 0);
	assert_int_equal(hits(), 1);
	same_items(&a, &b);
	assert_true(kerndat_core_ok(&b));
	assert_int_equal(kerndat_get(&b, GROUPS, true), 0);
	assert_int_equal(hits(), 1);
	same_items(&a, &b);
}

static void test_damaged(void **state)
{
	struct kerndat a;
	uint8_t byte;
	int fd;

	(void)state;
	assert_int_equal(kerndat_get(&a, GROUPS, false), 0);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &byte, 1, 300), 1);
	byte ^= 0x40;
	assert_int_equal(pwrite(fd, &byte, 1, 300), 1);
	close(fd);
	assert_int_equal(kerndat_get(&a, GROUPS, false), 0);
	assert_int_equal(hits(), 0);
	assert_true(utest_log_has(ld.log, "is not this kernel's or this build's"));
	assert_int_equal(kerndat_get(&a, GROUPS, false), 0); /* rewritten: good again */
	assert_int_equal(hits(), 1);
	assert_int_equal(chmod(path, 0620), 0);
	assert_int_equal(kerndat_get(&a, GROUPS, false), 0);
	assert_int_equal(hits(), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
