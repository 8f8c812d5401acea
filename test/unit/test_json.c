/* test_json: images decode to valid JSON with the right values (the engine of
 * `criu-lite show`), and the criu-lite binary's output passes python's parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "images/json.h"
#include "images/pages.h"
#include "core.pb-c.h"
#include "pstree.pb-c.h"
#include "util_img.h"

static struct json_object *get(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;

	assert_true(json_object_object_get_ex(o, k, &v));
	return v;
}

static void write_fixture(struct utest_img_fx *f)
{
	PstreeEntry pe = PSTREE_ENTRY__INIT;
	uint32_t thr[] = { 42, 43 };
	CoreEntry ce = CORE_ENTRY__INIT;
	ThreadCoreEntry tc = THREAD_CORE_ENTRY__INIT, *tcs[] = { &tc };
	UserRegsEntry regs = USER_REGS_ENTRY__INIT;
	uint8_t xs[11008];
	const ProtobufCMessage *m[1];
	struct page_writer *pw;
	struct img_err err = { 0 };
	static uint8_t page[IMG_PAGE_SIZE];

	pe.pid = 42;
	pe.ppid = 1;
	pe.pgid = 42;
	pe.sid = 40;
	pe.state = TASK_STATE__TASK_ZOMBIE;
	pe.n_threads = 2;
	pe.threads = thr;
	m[0] = &pe.base;
	utest_write_msgs(f, IMG_PSTREE, 0, m, 1);

	memset(xs, 0xab, sizeof(xs));
	regs.ip = 0x7fffdeadbeefULL;
	regs.ax = (uint64_t)-512;
	tc.tid = 42;
	tc.regs = &regs;
	tc.xstate.data = xs;
	tc.xstate.len = sizeof(xs);
	tc.blocked = 1ULL << 9;
	ce.pid = 42;
	ce.comm = "json \"quoted\"";
	ce.n_threads = 1;
	ce.threads = tcs;
	m[0] = &ce.base;
	utest_write_msgs(f, IMG_CORE, 42, m, 1);

	memset(page, 0x5a, sizeof(page));
	assert_int_equal(page_writer_open(f->d, 42, &pw, &err), 0);
	assert_int_equal(page_writer_add(pw, 0x400000, 1, PAGEMAP_FLAGS__PE_PRESENT, page, &err),
			 0);
	assert_int_equal(page_writer_add(pw, 0x500000, 3, PAGEMAP_FLAGS__PE_ZERO, NULL, &err), 0);
	assert_int_equal(page_writer_commit(pw, &err), 0);
}

static void test_dir_json(void **state)
{
	struct utest_img_fx *f = *state;
	struct json_object *j, *back, *imgs;
	struct img_err err = { 0 };
	int seen = 0;

	write_fixture(f);
	assert_int_equal(img_dir_to_json(f->path, &j, &err), 0);
	/* serialise and parse back: what `show` prints must be JSON */
	back = json_tokener_parse(json_object_to_json_string(j));
	assert_non_null(back);
	imgs = get(back, "images");
	assert_int_equal(json_object_array_length(imgs), 4); /* core, pagemap, pages, pstree */
	for (size_t i = 0; i < json_object_array_length(imgs); i++) {
		struct json_object *img = json_object_array_get_idx(imgs, i);
		const char *name = json_object_get_string(get(img, "file"));

		if (strcmp(name, "pstree.img") == 0) {
			struct json_object *r = json_object_array_get_idx(get(img, "records"), 0);

			assert_int_equal(json_object_get_int(get(r, "pid")), 42);
			assert_string_equal(json_object_get_string(get(r, "state")), "TASK_ZOMBIE");
			assert_int_equal(json_object_array_length(get(r, "threads")), 2);
			assert_int_equal(
			    json_object_get_int(json_object_array_get_idx(get(r, "threads"), 1)),
			    43);
			seen |= 1;
		} else if (strcmp(name, "core-42.img") == 0) {
			struct json_object *r = json_object_array_get_idx(get(img, "records"), 0);
			struct json_object *t = json_object_array_get_idx(get(r, "threads"), 0);

			assert_string_equal(json_object_get_string(get(r, "comm")),
					    "json \"quoted\"");
			assert_int_equal(json_object_get_int(get(get(t, "xstate"), "size")), 11008);
			assert_true(json_object_get_uint64(get(get(t, "regs"), "ip")) ==
				    0x7fffdeadbeefULL);
			assert_true(json_object_get_uint64(get(get(t, "regs"), "ax")) ==
				    (uint64_t)-512);
			seen |= 2;
		} else if (strcmp(name, "pagemap-42.img") == 0) {
			struct json_object *recs = get(img, "records");

			assert_int_equal(json_object_array_length(recs), 3); /* head + 2 runs */
			assert_int_equal(json_object_get_int(
					     get(json_object_array_get_idx(recs, 0), "pages_size")),
					 IMG_PAGE_SIZE);
			assert_int_equal(json_object_get_int(
					     get(json_object_array_get_idx(recs, 2), "nr_pages")),
					 3);
			seen |= 4;
		} else if (strcmp(name, "pages-42.img") == 0) {
			assert_string_equal(json_object_get_string(get(img, "kind")), "raw");
			assert_int_equal(json_object_get_int(get(img, "pages")), 1);
			seen |= 8;
		}
	}
	assert_int_equal(seen, 15);
	json_object_put(back);
	json_object_put(j);
}

static void test_corrupt_refused(void **state)
{
	struct utest_img_fx *f = *state;
	struct json_object *j = NULL;
	struct img_err err = { 0 };
	char p[4096];
	FILE *fp;

	write_fixture(f);
	snprintf(p, sizeof(p), "%s/pstree.img", f->path);
	fp = fopen(p, "r+");
	assert_non_null(fp);
	fseek(fp, 20, SEEK_SET);
	fputc(0xff, fp);
	fclose(fp);
	assert_true(img_dir_to_json(f->path, &j, &err) < 0);
	assert_non_null(strstr(err.msg, "pstree.img"));
	assert_null(j);
}

/* The binary itself: `criu-lite show DIR` must satisfy python3 -m json.tool. */
static void test_binary_output(void **state)
{
	struct utest_img_fx *f = *state;
	char cmd[8192];

	if (access("criu-lite/criu-lite", X_OK) || system("python3 -c '' 2>/dev/null")) {
		skip();
		return;
	}
	write_fixture(f);
	snprintf(
	    cmd, sizeof(cmd),
	    "bash -c \"set -o pipefail; criu-lite/criu-lite show %s | python3 -m json.tool >/dev/null\"",
	    f->path);
	assert_int_equal(system(cmd), 0);
	snprintf(
	    cmd, sizeof(cmd),
	    "bash -c \"set -o pipefail; criu-lite/criu-lite show %s/core-42.img %s/pstree.img | "
	    "python3 -m json.tool >/dev/null\"",
	    f->path, f->path);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dir_json, utest_img_setup, utest_img_teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_refused, utest_img_setup,
						utest_img_teardown),
		cmocka_unit_test_setup_teardown(test_binary_output, utest_img_setup,
						utest_img_teardown),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
