/* img-write: writing a record file (header, length-prefixed protobuf records,
 * trailer with the record count and the crc32c of every preceding byte).
 *
 * Records are packed into a 64 KiB buffer that goes out with one write() when
 * full; a record bigger than the buffer is written straight from its own
 * packing buffer. The file is "<name>.tmp" until img_writer_commit() renames
 * it into place; after a failed img_write() the writer is dead and commit
 * refuses (and cleans up), abort always removes the temp file. In a sink (sink.c) the file is a
 * memfd until its commit sends it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/img.h"
#include "images/img-priv.h"

#define WBUF_SIZE (64u << 10)

struct img_writer {
	const struct img_kind_desc *kind;
	struct img_dir *dir;
	uint64_t size; /* bytes so far */
	int dirfd;
	int fd;
	int failed; /* negative errno of the first failure, 0 if none */
	unsigned count;
	uint32_t crc;
	size_t fill;
	char name[IMG_NAME_MAX];
	char tmp[IMG_NAME_MAX + 8];
	uint8_t buf[WBUF_SIZE];
};

static int write_all(struct img_writer *w, const void *data, size_t len, struct img_err *err)
{
	const uint8_t *p = data;

	w->size += len;
	while (len) {
		ssize_t n = write(w->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return img_fail(err, errno, "%s: write: %s", w->tmp, strerror(errno));
		if (n == 0)
			return img_fail(err, EIO, "%s: write returned 0", w->tmp);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int flush(struct img_writer *w, struct img_err *err)
{
	int ret;

	if (!w->fill)
		return 0;
	ret = write_all(w, w->buf, w->fill, err);
	w->fill = 0;
	return ret;
}

/* Append bytes to the file through the buffer. */
static int put_raw(struct img_writer *w, const void *data, size_t len, struct img_err *err)
{
	int ret;

	if (w->fill + len > sizeof(w->buf)) {
		ret = flush(w, err);
		if (ret)
			return ret;
		if (len > sizeof(w->buf))
			return write_all(w, data, len, err);
	}
	memcpy(w->buf + w->fill, data, len);
	w->fill += len;
	return 0;
}

/* The same, summing the bytes into the file's crc as they go. */
static int put(struct img_writer *w, const void *data, size_t len, struct img_err *err)
{
	w->crc = img_crc32c(w->crc, data, len);
	return put_raw(w, data, len, err);
}

int img_writer_open(struct img_dir *d, enum img_kind kind, long id, struct img_writer **out,
		    struct img_err *err)
{
	const struct img_kind_desc *k = img_kind(kind);
	uint8_t hdr[IMG_HEADER_SIZE];
	struct img_writer *w;
	int fd, ret;

	*out = NULL;
	if (!k)
		return img_fail(err, EINVAL, "image kind %d is unknown", (int)kind);
	if (k->per_id && id < 0)
		return img_fail(err, EINVAL, "%s image: bad id %ld", k->name, id);
	w = malloc(sizeof(*w));
	if (!w)
		return img_fail(err, ENOMEM, "%s image: out of memory", k->name);
	w->kind = k;
	w->dir = d;
	w->size = 0;
	w->dirfd = img_dir_fd(d);
	w->failed = 0;
	w->count = 0;
	w->crc = 0;
	w->fill = 0;
	img_filename(w->name, sizeof(w->name), kind, id);
	snprintf(w->tmp, sizeof(w->tmp), "%s.tmp", w->name);

	fd = img_tmp_open(d, w->tmp, err);
	if (fd < 0) {
		free(w);
		return fd;
	}
	w->fd = fd;

	img_put_le32(hdr, k->magic);
	img_put_le32(hdr + 4, IMG_VERSION);
	img_put_le32(hdr + 8, k->per_id ? (uint32_t)id : 0); /* the owner (version 2) */
	img_put_le32(hdr + 12, d->dump_id);
	ret = put(w, hdr, sizeof(hdr), err);
	if (ret) {
		img_writer_abort(w);
		return ret;
	}
	*out = w;
	return 0;
}

int img_write(struct img_writer *w, const ProtobufCMessage *msg, struct img_err *err)
{
	const ProtobufCMessageDescriptor *want = w->kind->desc;
	uint8_t len_le[4];
	uint8_t *tmp = NULL;
	size_t len;
	int ret;

	if (w->failed)
		return img_fail(err, -w->failed, "%s: writer failed earlier", w->tmp);
	if (w->count == 0 && w->kind->first_desc)
		want = w->kind->first_desc;
	if (!msg || msg->descriptor != want)
		return img_fail(err, EINVAL, "%s: record %u: message is %s, expected %s", w->name,
				w->count, msg ? msg->descriptor->name : "NULL", want->name);
	if (w->count == UINT32_MAX)
		return img_fail(err, EFBIG, "%s: too many records", w->name);

	len = protobuf_c_message_get_packed_size(msg);
	if (len > IMG_MAX_RECORD) {
		/* refused before anything is written: the writer stays usable */
		return img_fail(err, EFBIG, "%s: record %u: %zu bytes, limit %u", w->name, w->count,
				len, IMG_MAX_RECORD);
	}
	img_put_le32(len_le, (uint32_t)len);
	ret = put(w, len_le, sizeof(len_le), err);
	if (ret)
		goto fail;

	if (w->fill + len <= sizeof(w->buf)) {
		/* pack straight into the write buffer */
		protobuf_c_message_pack(msg, w->buf + w->fill);
		w->crc = img_crc32c(w->crc, w->buf + w->fill, len);
		w->fill += len;
	} else {
		tmp = malloc(len ? len : 1);
		if (!tmp) {
			ret = img_fail(err, ENOMEM, "%s: record %u: out of memory (%zu bytes)",
				       w->name, w->count, len);
			goto fail;
		}
		protobuf_c_message_pack(msg, tmp);
		ret = put(w, tmp, len, err);
		free(tmp);
		if (ret)
			goto fail;
	}
	w->count++;
	return 0;
fail:
	w->failed = ret;
	return ret;
}

int img_writer_commit(struct img_writer *w, struct img_err *err)
{
	uint8_t tr[IMG_TRAILER_SIZE];
	int ret, fd;

	if (w->failed) {
		ret = img_fail(err, -w->failed, "%s: not committed: an earlier write failed",
			       w->name);
		img_writer_abort(w);
		return ret;
	}
	img_put_le32(tr, IMG_TRAILER_MAGIC);
	img_put_le32(tr + 4, w->count);
	w->crc = img_crc32c(w->crc, tr, 8);
	img_put_le32(tr + 8, w->crc);
	ret = put_raw(w, tr, sizeof(tr), err);
	if (!ret)
		ret = flush(w, err);
	if (ret) {
		img_writer_abort(w);
		return ret;
	}
	fd = w->fd;
	w->fd = -1;
	if (img_dir_is_sink(w->dir))
		ret = img_sink_send_fd(w->dir, fd, w->name, true, &w->size, &w->crc, err);
	else
		ret = img_commit_file(w->dirfd, fd, w->tmp, w->name, !w->dir->sync_later, err);
	if (!ret) /* a record file's manifest crc is its trailer's (img.h) */
		ret = img_dir_note(w->dir, w->name, w->size, w->crc, err);
	free(w);
	return ret;
}

void img_writer_abort(struct img_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0) {
		close(w->fd);
		if (!img_dir_is_sink(w->dir))
			unlinkat(w->dirfd, w->tmp, 0);
	}
	free(w);
}

int img_write_file(struct img_dir *d, enum img_kind kind, long id,
		   const ProtobufCMessage *const *msgs, size_t n, struct img_err *err)
{
	struct img_writer *w;
	int ret = img_writer_open(d, kind, id, &w, err);

	if (ret)
		return ret;
	for (size_t i = 0; !ret && i < n; i++)
		ret = img_write(w, msgs[i], err);
	if (ret) {
		img_writer_abort(w);
		return ret;
	}
	return img_writer_commit(w, err);
}
