/* img-read: opening and verifying a record file, then handing out records.
 *
 * The whole file is read into memory and checked before anything is handed
 * out: size, header (magic, version, owner, dump id), trailer magic, crc32c, every
 * record length, the record count, and every record unpacks as its message
 * type. The unpacked messages are kept; img_read() passes them on one by one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/img.h"
#include "images/img-priv.h"

/* A record file bigger than this is refused rather than read into memory. */
#define IMG_FILE_MAX (1ull << 30)

struct img_reader {
	const struct img_kind_desc *kind;
	unsigned count;
	unsigned next;
	uint32_t dump_id;
	ProtobufCMessage **msgs;
};

static void free_msgs(ProtobufCMessage **msgs, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (msgs[i])
			protobuf_c_message_free_unpacked(msgs[i], NULL);
	free(msgs);
}

/* The id a file's name gives (core-42.img: 42), -1 if none: its basename is parsed. */
static long id_of_name(const char *name, const struct img_kind_desc *k)
{
	const char *base = strrchr(name, '/');
	const struct img_kind_desc *nk;
	long id = -1;

	nk = img_kind_by_filename(base ? base + 1 : name, &id);
	return nk == k ? id : -1;
}

/* want: the kind the caller expects (NULL: any); id: the id of a per-id kind's file (-1: the
 * one its name gives, if any). */
static int check_header(const char *name, const uint8_t *buf, size_t len,
			const struct img_kind_desc *want, long id,
			const struct img_kind_desc **kind, uint32_t *dump_id, struct img_err *err)
{
	uint32_t magic, version, flags, reserved;
	const struct img_kind_desc *k;

	if (len < IMG_HEADER_SIZE + IMG_TRAILER_SIZE)
		return img_fail(err, EBADMSG, "%s: truncated (%zu bytes, an image has at least %u)",
				name, len, IMG_HEADER_SIZE + IMG_TRAILER_SIZE);
	magic = img_get_le32(buf);
	version = img_get_le32(buf + 4);
	flags = img_get_le32(buf + 8);
	reserved = img_get_le32(buf + 12);

	k = img_kind_by_magic(magic);
	if (want && magic != want->magic) {
		if (k)
			return img_fail(
			    err, EBADMSG,
			    "%s: bad magic 0x%08x (expected %s 0x%08x, found a %s image)", name,
			    magic, want->name, want->magic, k->name);
		return img_fail(err, EBADMSG, "%s: bad magic 0x%08x (expected %s 0x%08x)", name,
				magic, want->name, want->magic);
	}
	if (!k)
		return img_fail(err, EBADMSG, "%s: bad magic 0x%08x (not a criu-lite image)", name,
				magic);
	if (version > IMG_VERSION)
		return img_fail(err, ENOTSUP, "%s: newer version %u, this criu-lite reads up to %u",
				name, version, IMG_VERSION);
	if (version == 0)
		return img_fail(err, EBADMSG, "%s: bad version 0", name);
	if (version == 1 && flags != 0)
		return img_fail(err, EBADMSG, "%s: unknown header flags 0x%x", name, flags);
	if (id < 0 && k->per_id)
		id = id_of_name(name, k);
	/* version 2: the owner word, the id of a per-id kind's file (a task's pid) */
	if (version >= 2 && !k->per_id && flags != 0)
		return img_fail(err, EBADMSG, "%s: header names id %u; a %s image has none", name,
				flags, k->name);
	if (version >= 2 && k->per_id && id >= 0 && flags != (uint64_t)id)
		return img_fail(err, EBADMSG,
				"%s: holds the %s image of id %u (its header), not of %ld: renamed "
				"or swapped",
				name, k->name, flags, id);
	if (version == 1 && reserved != 0)
		return img_fail(err, EBADMSG, "%s: reserved header field is 0x%x, expected 0", name,
				reserved);
	*kind = k;
	*dump_id = reserved; /* version 2: the dump id */
	return 0;
}

/* Trailer and crc, then every record length; returns the record count. */
static int check_body(const char *name, const uint8_t *buf, size_t len, unsigned *count,
		      struct img_err *err)
{
	const uint8_t *tr = buf + len - IMG_TRAILER_SIZE;
	uint32_t tmagic = img_get_le32(tr), tcount = img_get_le32(tr + 4);
	uint32_t stored = img_get_le32(tr + 8), crc;
	size_t off = IMG_HEADER_SIZE, end = len - IMG_TRAILER_SIZE;
	unsigned n = 0;

	if (tmagic != IMG_TRAILER_MAGIC)
		return img_fail(
		    err, EBADMSG,
		    "%s: bad trailer magic 0x%08x (expected 0x%08x): truncated or incomplete", name,
		    tmagic, IMG_TRAILER_MAGIC);
	crc = img_crc32c(0, buf, len - 4);
	if (crc != stored)
		return img_fail(err, EBADMSG,
				"%s: checksum mismatch (stored 0x%08x, computed 0x%08x)", name,
				stored, crc);
	while (off < end) {
		size_t left = end - off;
		uint32_t rlen;

		if (left < 4)
			return img_fail(err, EBADMSG,
					"%s: record %u: truncated length field (%zu bytes left)",
					name, n, left);
		rlen = img_get_le32(buf + off);
		left -= 4;
		if (rlen > IMG_MAX_RECORD)
			return img_fail(err, EBADMSG,
					"%s: record %u: length %u is over the %u byte limit", name,
					n, rlen, IMG_MAX_RECORD);
		if (rlen > left)
			return img_fail(err, EBADMSG,
					"%s: record %u: truncated (length %u, %zu bytes left)",
					name, n, rlen, left);
		off += 4 + rlen;
		n++;
	}
	if (n != tcount)
		return img_fail(err, EBADMSG,
				"%s: record count mismatch (trailer says %u, found %u)", name,
				tcount, n);
	*count = n;
	return 0;
}

static int unpack_all(const char *name, const uint8_t *buf, struct img_reader *r,
		      struct img_err *err)
{
	size_t off = IMG_HEADER_SIZE;

	r->msgs = calloc(r->count ? r->count : 1, sizeof(*r->msgs));
	if (!r->msgs)
		return img_fail(err, ENOMEM, "%s: out of memory for %u records", name, r->count);
	for (unsigned i = 0; i < r->count; i++) {
		const ProtobufCMessageDescriptor *desc = r->kind->desc;
		uint32_t rlen = img_get_le32(buf + off);

		if (i == 0 && r->kind->first_desc)
			desc = r->kind->first_desc;
		r->msgs[i] = protobuf_c_message_unpack(desc, NULL, rlen, buf + off + 4);
		if (!r->msgs[i])
			return img_fail(err, EBADMSG, "%s: record %u: cannot unpack %s (%u bytes)",
					name, i, desc->name, rlen);
		off += 4 + rlen;
	}
	return 0;
}

static int verify(const char *name, const uint8_t *buf, size_t len,
		  const struct img_kind_desc *want, long id, struct img_reader **out,
		  struct img_err *err)
{
	const struct img_kind_desc *k = NULL;
	struct img_reader *r;
	unsigned count = 0;
	uint32_t dump_id = 0;
	int ret;

	*out = NULL;
	ret = check_header(name, buf, len, want, id, &k, &dump_id, err);
	if (!ret)
		ret = check_body(name, buf, len, &count, err);
	if (ret)
		return ret;
	r = calloc(1, sizeof(*r));
	if (!r)
		return img_fail(err, ENOMEM, "%s: out of memory", name);
	r->kind = k;
	r->count = count;
	r->dump_id = dump_id;
	ret = unpack_all(name, buf, r, err);
	if (ret) {
		img_reader_close(r);
		return ret;
	}
	*out = r;
	return 0;
}

/* Read the whole of an open file; closes fd. */
static int slurp(const char *name, int fd, uint8_t **bufp, size_t *lenp, struct img_err *err)
{
	struct stat st;
	uint8_t *buf;
	size_t len = 0, size;
	int ret = 0;

	if (fstat(fd, &st) < 0) {
		ret = img_fail(err, errno, "%s: stat: %s", name, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = img_fail(err, EINVAL, "%s: not a regular file", name);
		goto out;
	}
	if ((unsigned long long)st.st_size > IMG_FILE_MAX) {
		ret = img_fail(err, EFBIG, "%s: %lld bytes, over the %llu byte limit", name,
			       (long long)st.st_size, IMG_FILE_MAX);
		goto out;
	}
	size = (size_t)st.st_size;
	buf = malloc(size ? size : 1);
	if (!buf) {
		ret = img_fail(err, ENOMEM, "%s: out of memory (%zu bytes)", name, size);
		goto out;
	}
	while (len < size) {
		ssize_t n = read(fd, buf + len, size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = img_fail(err, errno, "%s: read: %s", name, strerror(errno));
			free(buf);
			goto out;
		}
		if (n == 0)
			break; /* shrank under us: verification will refuse it */
		len += (size_t)n;
	}
	*bufp = buf;
	*lenp = len;
out:
	close(fd);
	return ret;
}

static int open_fd(const char *name, int fd, const struct img_kind_desc *want, long id,
		   struct img_reader **out, struct img_err *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;

	ret = slurp(name, fd, &buf, &len, err);
	if (ret)
		return ret;
	ret = verify(name, buf, len, want, id, out, err);
	free(buf);
	return ret;
}

int img_reader_open(struct img_dir *d, enum img_kind kind, long id, struct img_reader **out,
		    struct img_err *err)
{
	const struct img_kind_desc *k = img_kind(kind);
	char name[IMG_NAME_MAX];
	int fd, ret;

	*out = NULL;
	if (!k)
		return img_fail(err, EINVAL, "image kind %d is unknown", (int)kind);
	if (k->per_id && id < 0)
		return img_fail(err, EINVAL, "%s image: bad id %ld", k->name, id);
	img_filename(name, sizeof(name), kind, id);
	fd = openat(img_dir_fd(d), name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return img_fail(err, errno, "%s: cannot open in %s: %s", name, img_dir_path(d),
				strerror(errno));
	ret = open_fd(name, fd, k, k->per_id ? id : -1, out, err);
	if (!ret && d->expect_id && (*out)->dump_id != d->expect_id) {
		ret =
		    img_fail(err, EBADMSG,
			     "%s: belongs to another dump (dump id %08x; inventory.img says %08x)",
			     name, (*out)->dump_id, d->expect_id);
		img_reader_close(*out);
		*out = NULL;
	}
	return ret;
}

int img_reader_open_path(const char *path, struct img_reader **out, struct img_err *err)
{
	int fd;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return img_fail(err, errno, "%s: cannot open: %s", path, strerror(errno));
	return open_fd(path, fd, NULL, -1, out, err);
}

int img_reader_open_buf(const char *name, const void *buf, size_t len, struct img_reader **out,
			struct img_err *err)
{
	return verify(name, buf, len, NULL, -1, out, err);
}

const struct img_kind_desc *img_reader_kind(const struct img_reader *r)
{
	return r->kind;
}

unsigned img_reader_count(const struct img_reader *r)
{
	return r->count;
}

uint32_t img_reader_dump_id(const struct img_reader *r)
{
	return r->dump_id;
}

int img_read(struct img_reader *r, ProtobufCMessage **msg, struct img_err *err)
{
	(void)err; /* every record was verified and unpacked at open time */
	*msg = NULL;
	if (r->next >= r->count)
		return 0;
	*msg = r->msgs[r->next];
	r->msgs[r->next] = NULL;
	r->next++;
	return 1;
}

int img_read_one(struct img_dir *d, enum img_kind kind, long id, ProtobufCMessage **msg,
		 struct img_err *err)
{
	struct img_reader *r;
	char name[IMG_NAME_MAX];
	int ret;

	*msg = NULL;
	ret = img_reader_open(d, kind, id, &r, err);
	if (ret)
		return ret;
	img_filename(name, sizeof(name), kind, id);
	if (r->count != 1) {
		ret = img_fail(err, EBADMSG, "%s: expected exactly 1 record, found %u", name,
			       r->count);
	} else {
		ret = img_read(r, msg, err) == 1 ? 0 : img_fail(err, EIO, "%s: no record", name);
	}
	img_reader_close(r);
	return ret;
}

void img_reader_close(struct img_reader *r)
{
	if (!r)
		return;
	if (r->msgs)
		free_msgs(r->msgs, r->count);
	free(r);
}
