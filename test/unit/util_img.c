/* util_img: see util_img.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util_fs.h"
#include "util_img.h"

int utest_img_setup(void **state)
{
	struct img_err err = { 0 };
	struct utest_img_fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->path = utest_tmpdir_make("images");
	if (!f->path || img_dir_open(f->path, false, &f->d, &err) < 0) {
		fprintf(stderr, "setup: cannot make a test image dir: %s\n",
			f->path ? err.msg : "mkdtemp failed");
		utest_tmpdir_remove(f->path);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

int utest_img_teardown(void **state)
{
	struct utest_img_fx *f = *state;

	img_dir_close(f->d);
	utest_tmpdir_remove(f->path);
	free(f);
	return 0;
}

static uint8_t *pack_msg(const ProtobufCMessage *m, size_t *len)
{
	uint8_t *buf;

	*len = protobuf_c_message_get_packed_size(m);
	buf = malloc(*len + 1);
	assert_non_null(buf);
	protobuf_c_message_pack(m, buf);
	return buf;
}

void utest_assert_same_msg(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
	size_t la, lb;
	uint8_t *pa = pack_msg(a, &la), *pb = pack_msg(b, &lb);

	assert_ptr_equal(a->descriptor, b->descriptor);
	assert_int_equal(la, lb);
	assert_memory_equal(pa, pb, la);
	free(pa);
	free(pb);
}

void utest_write_msgs(struct utest_img_fx *f, enum img_kind kind, long id,
		      const ProtobufCMessage **msgs, unsigned n)
{
	struct img_writer *w;
	struct img_err err = { 0 };
	char name[64], tmp[80];

	assert_int_equal(img_writer_open(f->d, kind, id, &w, &err), 0);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(img_write(w, msgs[i], &err), 0);
	assert_int_equal(img_writer_commit(w, &err), 0);
	img_filename(name, sizeof(name), kind, id);
	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	assert_true(utest_file_exists(f->path, name));
	assert_false(utest_file_exists(f->path, tmp));
}

/* Write msgs, read them back by every open path, compare byte for byte. */
