/* util_log: a fresh directory for a unit test of criu-lite's modules, holding the images and
 * the log (linked into every unit binary).
 *
 * Contract: utest_logdir_open() makes /tmp/criu-lite-<tag>-XXXXXX, opens it as an image
 * directory and sends criu-lite's log to test.log in it, at LOG_DEBUG; it returns 0, or -1
 * with nothing left behind. utest_logdir_close() ends the log and removes the directory with
 * all it holds. utest_log_has() (util_fs.h) looks for a message in log.
 */
#ifndef CRIU_LITE_TEST_UTIL_LOG_H
#define CRIU_LITE_TEST_UTIL_LOG_H

#include <limits.h>

#include "images/img.h"

struct utest_logdir {
	char *dir;	    /* the directory */
	char log[PATH_MAX]; /* dir/test.log */
	struct img_dir *img;
};

int utest_logdir_open(struct utest_logdir *d, const char *tag);
void utest_logdir_close(struct utest_logdir *d);

#endif
