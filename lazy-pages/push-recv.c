/* push-recv: see push-recv.h.
 *
 * One file is open at a time: its temp name, the end of what was written, and its manifest
 * crc32c summed as the data came while it came in order (struct lag: the last 4 bytes are held
 * back, since a record file's manifest crc leaves out its trailer's crc field, and where the file
 * ends is known only at FILE_END); data out of order (a sender's writers, or a hole) falls back
 * to reading the file back at FILE_END. A name received twice is found by the rename, which never
 * replaces a file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/img.h"
#include "inventory.pb-c.h"
#include "lazy-pages/push-recv.h"

/* a manifest crc32c summed as bytes come, 4 of them held back */
struct lag {
	uint32_t crc;
	uint8_t tail[4];
	size_t n;
	uint64_t total;
};

static void lag_add(struct lag *l, const uint8_t *p, size_t len)
{
	size_t k, from_tail, from_p;
	uint8_t nt[4];

	l->total += len;
	if (l->n + len <= 4) {
		memcpy(l->tail + l->n, p, len);
		l->n += len;
		return;
	}
	k = l->n + len - 4; /* summed now: all but the last 4 bytes of tail and p */
	from_tail = k < l->n ? k : l->n;
	from_p = k - from_tail;
	l->crc = img_crc32c(l->crc, l->tail, from_tail);
	l->crc = img_crc32c(l->crc, p, from_p);
	memcpy(nt, l->tail + from_tail, l->n - from_tail);
	memcpy(nt + (l->n - from_tail), p + from_p, len - from_p);
	memcpy(l->tail, nt, 4);
	l->n = 4;
}

/* what img_file_crc() says of the bytes added: a record file's leaves its last 4 out */
static uint32_t lag_end(const struct lag *l, bool record)
{
	return record && l->total >= 4 ? l->crc : img_crc32c(l->crc, l->tail, l->n);
}

struct rfile {
	char *name;
	uint64_t size;
	uint32_t crc;
};

struct recv {
	struct img_dir *d;
	int dfd;
	const char *peer;
	uint8_t *payload;
	struct rfile *v; /* in place, in the order they came */
	size_t n, cap;
	uint64_t bytes;
	/* the open file, fd -1: none */
	int fd;
	char name[XFER_MAX_NAME + 1];
	char tmp[XFER_MAX_NAME + 8];
	uint64_t end; /* past the last byte written */
	bool in_order;
	struct lag sum;
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t l = strlen(s), k = strlen(suffix);

	return l > k && !strcmp(s + l - k, suffix);
}

static int file_begin(struct recv *r, const char *name, struct img_err *err)
{
	if (r->fd >= 0)
		return img_fail(err, EPROTO, "%s: %s begins before %s ended", r->peer, name,
				r->name);
	if (!ends_with(name, ".img"))
		return img_fail(err, EBADMSG, "%s: \"%s\" is not the name of an image file",
				r->peer, name);
	if (r->n >= PUSH_MAX_FILES)
		return img_fail(err, EFBIG, "%s: more than %u files in one push", r->peer,
				PUSH_MAX_FILES);
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->tmp, sizeof(r->tmp), "%s.tmp", name);
	r->fd = openat(r->dfd, r->tmp, PUSH_OPEN_FLAGS, 0600);
	if (r->fd < 0)
		return img_fail(err, errno, "%s/%s: cannot create: %s", img_dir_path(r->d), r->tmp,
				strerror(errno));
	r->end = 0;
	r->in_order = true;
	r->sum = (struct lag){ 0 };
	return 0;
}

static int file_data(struct recv *r, uint64_t off, const uint8_t *p, size_t len,
		     struct img_err *err)
{
	uint64_t at = off;

	if (r->fd < 0)
		return img_fail(err, EPROTO, "%s: file data with no file begun", r->peer);
	if (off > PUSH_MAX_FILE || len > PUSH_MAX_FILE - off)
		return img_fail(err, EFBIG, "%s: %s: data at %llu..%llu, past %llu bytes", r->peer,
				r->name, (unsigned long long)off, (unsigned long long)(off + len),
				PUSH_MAX_FILE);
	if (r->in_order && off == r->sum.total)
		lag_add(&r->sum, p, len);
	else
		r->in_order = false;
	while (len) {
		ssize_t n = pwrite(r->fd, p, len, (off_t)at);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return img_fail(err, n ? errno : EIO, "%s/%s: write: %s",
					img_dir_path(r->d), r->tmp,
					n ? strerror(errno) : "wrote nothing");
		p += n;
		at += (uint64_t)n;
		len -= (size_t)n;
	}
	if (at > r->end)
		r->end = at;
	return 0;
}

/* The manifest crc32c of the open file, read back. */
static int read_back(struct recv *r, uint32_t *crc, bool record, struct img_err *err)
{
	struct lag l = { 0 };
	ssize_t n;

	while (l.total < r->end) {
		uint64_t want = r->end - l.total;

		n = pread(r->fd, r->payload, want < XFER_MAX_PAYLOAD ? want : XFER_MAX_PAYLOAD,
			  (off_t)l.total);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return img_fail(err, n ? errno : EIO, "%s/%s: read back: %s",
					img_dir_path(r->d), r->tmp,
					n ? strerror(errno) : "shorter than written");
		lag_add(&l, r->payload, (size_t)n);
	}
	*crc = lag_end(&l, record);
	return 0;
}

static int file_end(struct recv *r, uint64_t size, uint32_t want, struct img_err *err)
{
	const char *dp = img_dir_path(r->d);
	long id;
	bool record = img_kind_by_filename(r->name, &id) != NULL;
	struct rfile *v;
	uint32_t crc = 0;
	int fd = r->fd, ret;

	if (fd < 0)
		return img_fail(err, EPROTO, "%s: a file ends with none begun", r->peer);
	if (r->end != size)
		return img_fail(err, EBADMSG, "%s: %s: %llu bytes came, its end says %llu", r->peer,
				r->name, (unsigned long long)r->end, (unsigned long long)size);
	if (r->in_order)
		crc = lag_end(&r->sum, record);
	else if ((ret = read_back(r, &crc, record, err)))
		return ret;
	if (crc != want)
		return img_fail(err, EBADMSG,
				"%s: %s: the bytes that came sum to crc32c %08x, its end says %08x",
				r->peer, r->name, crc, want);
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 64;

		if (!(v = realloc(r->v, cap * sizeof(*v))))
			return img_fail(err, ENOMEM, "out of memory for the files of a push");
		r->v = v;
		r->cap = cap;
	}
	if (!(r->v[r->n].name = strdup(r->name)))
		return img_fail(err, ENOMEM, "out of memory for the files of a push");
	r->fd = -1;
	if (fsync(fd)) {
		ret = img_fail(err, errno, "%s/%s: fsync: %s", dp, r->tmp, strerror(errno));
		close(fd);
		free(r->v[r->n].name);
		unlinkat(r->dfd, r->tmp, 0);
		return ret;
	}
	close(fd);
	if (renameat2(r->dfd, r->tmp, r->dfd, r->name, RENAME_NOREPLACE)) {
		ret = img_fail(err, errno, "%s/%s: rename to %s: %s", dp, r->tmp, r->name,
			       errno == EEXIST ? "it is there already (sent twice?)"
					       : strerror(errno));
		free(r->v[r->n].name);
		unlinkat(r->dfd, r->tmp, 0);
		return ret;
	}
	r->v[r->n].size = size;
	r->v[r->n++].crc = crc;
	r->bytes += size;
	if (fsync(r->dfd))
		return img_fail(err, errno, "%s: fsync: %s", dp, strerror(errno));
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp((*(const struct rfile *const *)a)->name,
		      (*(const struct rfile *const *)b)->name);
}

/* The manifest in inventory.img (the last file) against what came. */
static int check_manifest(struct recv *r, uint32_t dump_id, struct img_err *err)
{
	struct rfile **idx = NULL;
	bool *seen = NULL;
	InventoryEntry *inv = NULL;
	size_t nf = r->n - 1;
	int ret;

	if (r->fd >= 0)
		return img_fail(err, EPROTO, "%s: done while %s is open", r->peer, r->name);
	if (!r->n || strcmp(r->v[r->n - 1].name, "inventory.img"))
		return img_fail(err, EBADMSG,
				"%s: done, but the last file was %s, not inventory.img", r->peer,
				r->n ? r->v[r->n - 1].name : "none");
	ret = img_read_one(r->d, IMG_INVENTORY, 0, (ProtobufCMessage **)&inv, err);
	if (ret)
		return ret;
	if (!inv->has_dump_id || inv->dump_id != dump_id) {
		ret =
		    img_fail(err, EBADMSG, "%s: inventory.img is of dump %08x, the push said %08x",
			     r->peer, inv->dump_id, dump_id);
		goto out;
	}
	if (inv->n_files != nf) {
		ret = img_fail(err, EBADMSG, "%s: the manifest lists %zu files, %zu came", r->peer,
			       inv->n_files, nf);
		goto out;
	}
	idx = malloc((nf ? nf : 1) * sizeof(*idx));
	seen = calloc(nf ? nf : 1, sizeof(*seen));
	if (!idx || !seen) {
		ret = img_fail(err, ENOMEM, "out of memory for the manifest of a push");
		goto out;
	}
	for (size_t i = 0; i < nf; i++)
		idx[i] = &r->v[i];
	qsort(idx, nf, sizeof(*idx), cmp_name);
	for (size_t i = 0; i < nf && !ret; i++) {
		const ManifestEntry *m = inv->files[i];
		struct rfile key = { .name = m->name }, *kp = &key, **hit;

		hit = bsearch(&kp, idx, nf, sizeof(*idx), cmp_name);
		if (!hit || seen[hit - idx])
			ret = img_fail(err, EBADMSG, "%s: the manifest lists %s %s", r->peer,
				       m->name, hit ? "twice" : "but it did not come");
		else if ((*hit)->size != m->size || (*hit)->crc != m->crc32c)
			ret = img_fail(err, EBADMSG,
				       "%s: %s came with %llu bytes, crc32c %08x; the manifest "
				       "says %llu, %08x",
				       r->peer, m->name, (unsigned long long)(*hit)->size,
				       (*hit)->crc, (unsigned long long)m->size, m->crc32c);
		else
			seen[hit - idx] = true;
	}
out:
	free(idx);
	free(seen);
	inventory_entry__free_unpacked(inv, NULL);
	return ret;
}

void push_files_discard(struct img_dir *d, const struct push_files *f)
{
	for (size_t i = f->n; i-- > 0;)
		unlinkat(img_dir_fd(d), f->names[i], 0);
	fsync(img_dir_fd(d));
}

void push_files_free(struct push_files *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->names[i]);
	free(f->names);
	*f = (struct push_files){ 0 };
}

/* Everything this push put in the directory goes, the last file (inventory.img) first. */
static void discard(struct recv *r)
{
	if (r->fd >= 0) {
		close(r->fd);
		unlinkat(r->dfd, r->tmp, 0);
		r->fd = -1;
	}
	for (size_t i = r->n; i-- > 0;) {
		unlinkat(r->dfd, r->v[i].name, 0);
		free(r->v[i].name);
	}
	if (r->n)
		fsync(r->dfd);
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

static int one_frame(struct recv *r, const struct xfer_frame *f, uint32_t dump_id,
		     struct img_err *err)
{
	const XferMsg *m = f->msg;

	switch (m->kind) {
	case XFER_KIND__XFER_FILE_BEGIN:
		return file_begin(r, m->name, err);
	case XFER_KIND__XFER_FILE_DATA:
		return file_data(r, m->offset, r->payload, f->payload_len, err);
	case XFER_KIND__XFER_FILE_END:
		return file_end(r, m->size, m->crc32c, err);
	case XFER_KIND__XFER_DONE:
		return check_manifest(r, dump_id, err) ?: 1;
	case XFER_KIND__XFER_ERROR:
		return img_fail(err, ECONNABORTED, "%s gave the push up: %s", r->peer, m->error);
	default:
		return img_fail(err, EPROTO, "%s: unexpected message %d in a push", r->peer,
				m->kind);
	}
}

int push_receive(xfer_read_fn rd, void *ctx, const char *peer, struct img_dir *d, uint32_t dump_id,
		 void *payload, struct push_files *out, struct img_err *err)
{
	struct recv r = {
		.d = d, .dfd = img_dir_fd(d), .peer = peer, .payload = payload, .fd = -1
	};
	int ret = 0;

	*out = (struct push_files){ 0 };
	while (!ret) {
		struct xfer_frame f;

		ret = xfer_recv(rd, ctx, payload, &f, peer, err);
		if (ret == -ENODATA || ret == -EPIPE)
			ret = img_fail(err, EPIPE,
				       "%s closed the connection in the middle of a push (%zu "
				       "file(s) in)",
				       peer, r.n);
		if (ret)
			break;
		ret = one_frame(&r, &f, dump_id, err);
		xfer_frame_free(&f);
	}
	if (ret < 0) {
		discard(&r);
		return ret;
	}
	out->names = malloc(r.n * sizeof(*out->names));
	if (!out->names) {
		discard(&r);
		return img_fail(err, ENOMEM, "out of memory for the files of a push");
	}
	for (size_t i = 0; i < r.n; i++)
		out->names[i] = r.v[i].name;
	out->n = r.n;
	out->bytes = r.bytes;
	free(r.v);
	return 0;
}
