/* util_log: see util_log.h. */
#include <stdio.h>

#include "criu-lite/log.h"
#include "util_fs.h"
#include "util_log.h"

int utest_logdir_open(struct utest_logdir *d, const char *tag)
{
	struct img_err err = { 0 };

	d->img = NULL;
	d->dir = utest_tmpdir_make(tag);
	if (!d->dir)
		return -1;
	snprintf(d->log, sizeof(d->log), "%s/test.log", d->dir);
	if (log_init(d->log, LOG_DEBUG)) {
		utest_tmpdir_remove(d->dir);
		d->dir = NULL;
		return -1;
	}
	if (img_dir_open(d->dir, false, &d->img, &err)) {
		log_fini();
		utest_tmpdir_remove(d->dir);
		d->dir = NULL;
		return -1;
	}
	return 0;
}

void utest_logdir_close(struct utest_logdir *d)
{
	log_fini();
	img_dir_close(d->img);
	utest_tmpdir_remove(d->dir);
	d->img = NULL;
	d->dir = NULL;
}
