/* util_img: shared fixture and helpers of the image library unit tests.
 *
 * Contract: utest_img_setup/teardown give each test a fresh image directory
 * under /tmp (state is a struct utest_img_fx) and remove it afterwards; the
 * helpers fail the running cmocka test on any mismatch.
 */
#ifndef CRIU_LITE_TEST_UTIL_IMG_H
#define CRIU_LITE_TEST_UTIL_IMG_H

#include "images/img.h"

struct utest_img_fx {
	char *path;
	struct img_dir *d;
};

int utest_img_setup(void **state);
int utest_img_teardown(void **state);
/* Same descriptor and the same packed bytes. */
void utest_assert_same_msg(const ProtobufCMessage *a, const ProtobufCMessage *b);
/* Write msgs as the image (kind, id), commit, check no temp file is left. */
void utest_write_msgs(struct utest_img_fx *f, enum img_kind kind, long id,
		      const ProtobufCMessage **msgs, unsigned n);

#endif
