/* test_images_bad: refusal of bad record files (img.h): truncation at every
 * byte, a flipped bit at every position, foreign magic, newer version, record
 * lengths past the end or over the limit, count mismatch, unparsable records,
 * missing files, a per-task file under another task's name. Every refusal must name the file.
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

#include "images/img.h"
#include "core.pb-c.h"
#include "files.pb-c.h"
#include "inventory.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "pstree.pb-c.h"
#include "util_fs.h"
#include "util_img.h"

/* --- refusing bad files --- */

static void write_small_pstree(struct utest_img_fx *f)
{
	uint32_t th[] = { 1, 2 };
	PstreeEntry a = PSTREE_ENTRY__INIT, b = PSTREE_ENTRY__INIT;
	const ProtobufCMessage *msgs[] = { &a.base, &b.base };

	a.pid = 1;
	a.n_threads = 2;
	a.threads = th;
	b.pid = 2;
	b.ppid = 1;
	utest_write_msgs(f, IMG_PSTREE, 0, msgs, 2);
}

static void expect_refused(struct utest_img_fx *f, const char *name, const char *what)
{
	struct img_reader *r = NULL;
	struct img_err err = { 0 };
	long id = 0;
	const struct img_kind_desc *k = img_kind_by_filename(name, &id);
	int ret;

	assert_non_null(k);
	ret = img_reader_open(f->d, k->kind, id, &r, &err);
	if (ret >= 0)
		fail_msg("%s (%s) was accepted", name, what);
	assert_null(r);
	assert_int_equal(ret, -err.code);
	if (!strstr(err.msg, name))
		fail_msg("%s (%s): message does not name the file: %s", name, what, err.msg);
}

static void test_truncated_everywhere(void **state)
{
	struct utest_img_fx *f = *state;
	struct img_reader *r;
	struct img_err err = { 0 };
	uint8_t *buf;
	size_t len;
	char what[64];

	write_small_pstree(f);
	assert_int_equal(utest_read_file(f->path, "pstree.img", (void **)&buf, &len), 0);
	assert_true(len > IMG_HEADER_SIZE + IMG_TRAILER_SIZE + 8);
	for (size_t cut = 0; cut < len; cut++) {
		assert_int_equal(utest_write_file(f->path, "pstree.img", buf, cut), 0);
		snprintf(what, sizeof(what), "cut to %zu of %zu bytes", cut, len);
		expect_refused(f, "pstree.img", what);
		assert_true(img_reader_open_buf("mem.img", buf, cut, &r, &err) < 0);
		assert_non_null(strstr(err.msg, "mem.img"));
	}
	/* the intact file still opens */
	assert_int_equal(utest_write_file(f->path, "pstree.img", buf, len), 0);
	assert_int_equal(img_reader_open(f->d, IMG_PSTREE, 0, &r, &err), 0);
	img_reader_close(r);
	free(buf);
}

static void test_bitflip_everywhere(void **state)
{
	struct utest_img_fx *f = *state;
	struct img_reader *r;
	struct img_err err = { 0 };
	uint8_t *buf;
	size_t len;
	char what[64];

	write_small_pstree(f);
	assert_int_equal(utest_read_file(f->path, "pstree.img", (void **)&buf, &len), 0);
	for (size_t bit = 0; bit < len * 8; bit++) {
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(utest_write_file(f->path, "pstree.img", buf, len), 0);
		snprintf(what, sizeof(what), "bit %zu flipped", bit);
		expect_refused(f, "pstree.img", what);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	assert_int_equal(img_reader_open_buf("pstree.img", buf, len, &r, &err), 0);
	img_reader_close(r);
	free(buf);
}

/* A record file built by hand: header, raw body, trailer with a valid crc. */
static uint8_t *craft(uint32_t magic, uint32_t version, const void *body, size_t blen,
		      uint32_t count, size_t *len)
{
	uint8_t *b = calloc(1, IMG_HEADER_SIZE + blen + IMG_TRAILER_SIZE);
	uint32_t hdr[4] = { magic, version, 0, 0 }, tr[3] = { IMG_TRAILER_MAGIC, count, 0 };

	assert_non_null(b);
	memcpy(b, hdr, sizeof(hdr));
	if (blen)
		memcpy(b + IMG_HEADER_SIZE, body, blen);
	*len = IMG_HEADER_SIZE + blen + IMG_TRAILER_SIZE;
	tr[2] = img_crc32c(img_crc32c(0, b, IMG_HEADER_SIZE + blen), tr, 8);
	memcpy(b + IMG_HEADER_SIZE + blen, tr, sizeof(tr));
	return b;
}

/* Craft name from (magic, version, body, count) and expect open to fail with code and msg. */
static void expect_crafted(struct utest_img_fx *f, const char *name, uint32_t magic,
			   uint32_t version, const void *body, size_t blen, uint32_t count,
			   int code, const char *msg)
{
	struct img_reader *r = NULL;
	struct img_err err = { 0 };
	long id;
	const struct img_kind_desc *k = img_kind_by_filename(name, &id);
	size_t len;
	uint8_t *b = craft(magic, version, body, blen, count, &len);

	assert_int_equal(utest_write_file(f->path, name, b, len), 0);
	assert_int_equal(img_reader_open(f->d, k->kind, id, &r, &err), code);
	assert_null(r);
	if (!strstr(err.msg, msg))
		fail_msg("expected \"%s\" in \"%s\"", msg, err.msg);
	free(b);
}

static void test_crafted_bad_files(void **state)
{
	struct utest_img_fx *f = *state;
	const uint32_t core = img_kind(IMG_CORE)->magic, mm = img_kind(IMG_MM)->magic;
	FdinfoEntry fd = FDINFO_ENTRY__INIT;
	uint8_t body[256];
	uint32_t u;
	size_t len, plen;
	char msg[128];

	/* sanity: a crafted valid file opens, so the failures below are real */
	fd.fd = 3;
	plen = protobuf_c_message_get_packed_size(&fd.base);
	u = (uint32_t)plen;
	memcpy(body, &u, 4);
	protobuf_c_message_pack(&fd.base, body + 4);
	{
		struct img_reader *r;
		struct img_err err = { 0 };
		uint8_t *b = craft(img_kind(IMG_FDINFO)->magic, 1, body, 4 + plen, 1, &len);

		assert_int_equal(utest_write_file(f->path, "fdinfo-3.img", b, len), 0);
		assert_int_equal(img_reader_open(f->d, IMG_FDINFO, 3, &r, &err), 0);
		img_reader_close(r);
		free(b);
	}

	/* another kind's file under this name */
	snprintf(msg, sizeof(msg), "mm-7.img: bad magic 0x%08x (expected mm 0x%08x", core, mm);
	expect_crafted(f, "mm-7.img", core, 1, NULL, 0, 0, -EBADMSG, msg);
	expect_crafted(f, "mm-7.img", 0x12345678, 1, NULL, 0, 0, -EBADMSG, "bad magic 0x12345678");
	expect_crafted(f, "mm-7.img", mm, IMG_VERSION + 1, NULL, 0, 0, -ENOTSUP,
		       "mm-7.img: newer version 3, this criu-lite reads up to 2");
	expect_crafted(f, "mm-7.img", mm, 0, NULL, 0, 0, -EBADMSG, "bad version 0");
	/* a length claiming 4 GiB */
	u = 0xffffffffu;
	memcpy(body, &u, 4);
	expect_crafted(f, "core-42.img", core, 1, body, 8, 1, -EBADMSG,
		       "core-42.img: record 0: length 4294967295 is over the");
	/* IMG_MAX_RECORD + 1 */
	u = IMG_MAX_RECORD + 1;
	memcpy(body, &u, 4);
	expect_crafted(f, "core-42.img", core, 1, body, 8, 1, -EBADMSG,
		       "is over the 67108864 byte limit");
	/* a record running past the end: 120 bytes claimed, 7 there */
	u = 120;
	memcpy(body, &u, 4);
	expect_crafted(f, "core-42.img", core, 1, body, 11, 1, -EBADMSG,
		       "core-42.img: record 0: truncated (length 120, 7 bytes left)");
	/* second record: a partial length field */
	memcpy(body, &(uint32_t){ 1 }, 4);
	body[4] = 0;
	expect_crafted(f, "core-42.img", core, 1, body, 7, 2, -EBADMSG,
		       "record 1: truncated length field (2 bytes left)");
	/* the count in the trailer disagrees */
	u = (uint32_t)plen;
	memcpy(body, &u, 4);
	protobuf_c_message_pack(&fd.base, body + 4);
	expect_crafted(f, "fdinfo-3.img", img_kind(IMG_FDINFO)->magic, 1, body, 4 + plen, 2,
		       -EBADMSG, "record count mismatch (trailer says 2, found 1)");
	/* a record that is not a valid message: refused at open, not later */
	memcpy(body, &(uint32_t){ 3 }, 4);
	memcpy(body + 4, "\xff\xff\xff", 3);
	expect_crafted(f, "fdinfo-3.img", img_kind(IMG_FDINFO)->magic, 1, body, 7, 1, -EBADMSG,
		       "fdinfo-3.img: record 0: cannot unpack fdinfo_entry");
	/* a valid message of the wrong type (missing required fields) */
	{
		FsEntry fs = FS_ENTRY__INIT;

		fs.cwd = "/";
		fs.root = "/";
		plen = protobuf_c_message_get_packed_size(&fs.base);
		u = (uint32_t)plen;
		memcpy(body, &u, 4);
		protobuf_c_message_pack(&fs.base, body + 4);
		expect_crafted(f, "fdinfo-3.img", img_kind(IMG_FDINFO)->magic, 1, body, 4 + plen, 1,
			       -EBADMSG, "cannot unpack");
	}
	/* a 4 GiB length in the trailer count is just a mismatch */
	expect_crafted(f, "fs-1.img", img_kind(IMG_FS)->magic, 1, NULL, 0, 0xffffffffu, -EBADMSG,
		       "fs-1.img: record count mismatch");
}

/* A per-task file names its task (the header's owner word): swapped files are refused by name. */
static void test_swapped_owner(void **state)
{
	struct utest_img_fx *f = *state;
	FsEntry a = FS_ENTRY__INIT, b = FS_ENTRY__INIT;
	const ProtobufCMessage *ma[] = { &a.base }, *mb[] = { &b.base };
	struct img_reader *r = NULL;
	struct img_err err = { 0 };
	char p1[4200], p2[4200], tmp[4200];

	a.cwd = a.root = "/a";
	b.cwd = b.root = "/b";
	utest_write_msgs(f, IMG_FS, 1, ma, 1);
	utest_write_msgs(f, IMG_FS, 2, mb, 1);
	assert_int_equal(img_reader_open(f->d, IMG_FS, 1, &r, &err), 0);
	img_reader_close(r);
	snprintf(p1, sizeof(p1), "%s/fs-1.img", f->path);
	snprintf(p2, sizeof(p2), "%s/fs-2.img", f->path);
	snprintf(tmp, sizeof(tmp), "%s/fs-x", f->path);
	assert_int_equal(rename(p1, tmp) || rename(p2, p1) || rename(tmp, p2), 0);
	assert_int_equal(img_reader_open(f->d, IMG_FS, 1, &r, &err), -EBADMSG);
	assert_null(r);
	assert_non_null(
	    strstr(err.msg, "fs-1.img: holds the fs image of id 2 (its header), not of 1"));
	/* by path too: the id comes from the name */
	assert_int_equal(img_reader_open_path(p2, &r, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "not of 2: renamed or swapped"));
	/* a kind that is not per task carries no owner */
	{
		uint8_t *buf;
		size_t len;

		write_small_pstree(f);
		assert_int_equal(utest_read_file(f->path, "pstree.img", (void **)&buf, &len), 0);
		buf[8] = 7;
		assert_int_equal(utest_write_file(f->path, "pstree.img", buf, len), 0);
		assert_int_equal(img_reader_open(f->d, IMG_PSTREE, 0, &r, &err), -EBADMSG);
		assert_non_null(strstr(err.msg, "pstree.img: header names id 7"));
		free(buf);
	}
}

static void test_checksum_message(void **state)
{
	struct utest_img_fx *f = *state;
	struct img_reader *r;
	struct img_err err = { 0 };
	uint8_t *buf;
	size_t len;

	write_small_pstree(f);
	assert_int_equal(utest_read_file(f->path, "pstree.img", (void **)&buf, &len), 0);
	buf[IMG_HEADER_SIZE + 5] ^= 0x40;
	assert_int_equal(utest_write_file(f->path, "pstree.img", buf, len), 0);
	assert_int_equal(img_reader_open(f->d, IMG_PSTREE, 0, &r, &err), -EBADMSG);
	assert_int_equal(err.code, EBADMSG);
	assert_non_null(strstr(err.msg, "pstree.img: checksum mismatch (stored 0x"));
	free(buf);
}

static void test_missing_and_open_path(void **state)
{
	struct utest_img_fx *f = *state;
	struct img_reader *r = (void *)1;
	struct img_err err = { 0 };
	ProtobufCMessage *m;
	char path[4200];

	assert_int_equal(img_reader_open(f->d, IMG_CORE, 42, &r, &err), -ENOENT);
	assert_null(r);
	assert_int_equal(err.code, ENOENT);
	assert_non_null(strstr(err.msg, "core-42.img"));
	assert_int_equal(img_read_one(f->d, IMG_INVENTORY, 0, &m, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "inventory.img"));
	snprintf(path, sizeof(path), "%s/nothing.img", f->path);
	assert_int_equal(img_reader_open_path(path, &r, &err), -ENOENT);
	assert_non_null(strstr(err.msg, path));
	/* a directory is not an image */
	assert_int_equal(img_reader_open_path(f->path, &r, &err), -EINVAL);
	/* open_path finds the kind by magic */
	write_small_pstree(f);
	snprintf(path, sizeof(path), "%s/pstree.img", f->path);
	assert_int_equal(img_reader_open_path(path, &r, &err), 0);
	assert_int_equal(img_reader_kind(r)->kind, IMG_PSTREE);
	assert_int_equal(img_reader_count(r), 2);
	img_reader_close(r);
	/* records not read are freed by close (checked by ASan) */
	assert_int_equal(img_reader_open(f->d, IMG_PSTREE, 0, &r, &err), 0);
	assert_int_equal(img_read(r, &m, &err), 1);
	protobuf_c_message_free_unpacked(m, NULL);
	img_reader_close(r);
	img_reader_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_truncated_everywhere, utest_img_setup,
						utest_img_teardown),
		cmocka_unit_test_setup_teardown(test_bitflip_everywhere, utest_img_setup,
						utest_img_teardown),
		cmocka_unit_test_setup_teardown(test_crafted_bad_files, utest_img_setup,
						utest_img_teardown),
		cmocka_unit_test_setup_teardown(test_swapped_owner, utest_img_setup,
						utest_img_teardown),
		cmocka_unit_test_setup_teardown(test_checksum_message, utest_img_setup,
						utest_img_teardown),
		cmocka_unit_test_setup_teardown(test_missing_and_open_path, utest_img_setup,
						utest_img_teardown),
	};

	return cmocka_run_group_tests_name("images_bad", tests, NULL, NULL);
}
