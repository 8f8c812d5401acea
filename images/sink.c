/* sink: an image directory whose files go elsewhere (img.h: img_dir_open_sink()).
 *
 * A file of a sink is a memfd until its commit (record files, raw files written through an fd),
 * then read back and handed to the sink's operations whole; a pages file streams instead
 * (images/page-writer.c hands its buffers to img_sink_data()). d->streaming says a streamed file is
 * open: nothing else may go meanwhile, the receiver takes one file at a time. A streamed file
 * that is given up leaves its name in d->abandoned: the receiver holds part of it, and only
 * discarding the whole set takes it back. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "images/img.h"
#include "images/img-priv.h"

#define SEND_PIECE (1u << 20) /* bytes read back and handed over at once */

int img_dir_open_sink(const char *label, const struct img_sink_ops *ops, void *arg,
		      struct img_dir **out, struct img_err *err)
{
	struct img_dir *d = calloc(1, sizeof(*d));

	*out = NULL;
	if (d)
		d->path = strdup(label);
	if (!d || !d->path) {
		free(d);
		return img_fail(err, ENOMEM, "%s: out of memory", label);
	}
	d->fd = -1;
	d->sink = ops;
	d->sink_arg = arg;
	*out = d;
	return 0;
}

bool img_dir_is_sink(const struct img_dir *d)
{
	return d->sink != NULL;
}

int img_tmp_open(struct img_dir *d, const char *tmp, struct img_err *err)
{
	int fd;

	if (!d->sink)
		return img_create_tmp(d->fd, tmp, err);
	fd = memfd_create(tmp, MFD_CLOEXEC);
	if (fd < 0)
		return img_fail(err, errno, "%s: memfd_create: %s", tmp, strerror(errno));
	return fd;
}

/* Whether name may start going now. */
static int may_begin(struct img_dir *d, const char *name, struct img_err *err)
{
	if (d->abandoned[0])
		return img_fail(err, ECANCELED,
				"%s: not sent to %s: %s was given up half sent, the set is lost",
				name, d->path, d->abandoned);
	if (d->streaming)
		return img_fail(err, EBUSY, "%s: not sent to %s while a pages file streams there",
				name, d->path);
	return 0;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	return len && !p[0] && !memcmp(p, p + 1, len - 1);
}

int img_sink_send_fd(struct img_dir *d, int fd, const char *name, bool crc_known, uint64_t *size,
		     uint32_t *crc, struct img_err *err)
{
	uint8_t *buf = NULL;
	uint64_t off = 0;
	uint32_t sum = 0;
	bool tail_left = false; /* the last piece read was all zero and not sent */
	ssize_t n;
	int ret = may_begin(d, name, err);

	if (!ret && !(buf = malloc(SEND_PIECE)))
		ret = img_fail(err, ENOMEM, "%s: out of memory", name);
	if (!ret)
		ret = d->sink->begin(d->sink_arg, name, err);
	while (!ret && (n = pread(fd, buf, SEND_PIECE, (off_t)off)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = img_fail(err, errno, "%s: read back: %s", name, strerror(errno));
			break;
		}
		sum = img_crc32c(sum, buf, (size_t)n);
		tail_left = all_zero(buf, (size_t)n);
		if (!tail_left)
			ret = d->sink->data(d->sink_arg, off, buf, (size_t)n, err);
		off += (uint64_t)n;
	}
	if (!ret && tail_left) /* the receiver's file must end where this one does */
		ret = d->sink->data(d->sink_arg, off - 1, "", 1, err);
	if (!ret) {
		if (!crc_known)
			*crc = sum;
		*size = off;
		ret = d->sink->end(d->sink_arg, name, off, *crc, err);
	}
	free(buf);
	close(fd);
	return ret;
}

int img_sink_begin_stream(struct img_dir *d, const char *name, struct img_err *err)
{
	int ret = may_begin(d, name, err);

	if (!ret)
		ret = d->sink->begin(d->sink_arg, name, err);
	if (!ret)
		d->streaming = true;
	return ret;
}

int img_sink_data(struct img_dir *d, uint64_t off, const void *buf, size_t len, struct img_err *err)
{
	return len ? d->sink->data(d->sink_arg, off, buf, len, err) : 0;
}

int img_sink_end_stream(struct img_dir *d, const char *name, uint64_t size, uint32_t crc,
			struct img_err *err)
{
	d->streaming = false;
	return d->sink->end(d->sink_arg, name, size, crc, err);
}

void img_sink_abandon(struct img_dir *d, const char *name)
{
	d->streaming = false;
	if (!d->abandoned[0])
		snprintf(d->abandoned, sizeof(d->abandoned), "%s", name);
}
