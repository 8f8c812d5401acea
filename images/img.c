/* img: error messages, image directories and raw data files.
 *
 * An img_dir is an O_DIRECTORY fd plus its path; every image file is opened
 * relative to that fd. Raw files follow the same atomic rule as record files:
 * written as "<name>.tmp", then fsync, rename into place, fsync of the dir (or,
 * after img_dir_sync_later(), the fsyncs all at once in img_dir_sync()).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/img.h"
#include "images/img-priv.h"

int img_fail(struct img_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (code < 0)
		code = -code;
	if (code == 0)
		code = EINVAL;
	if (err) {
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -code;
}

int img_dir_open(const char *path, bool create, struct img_dir **out, struct img_err *err)
{
	struct img_dir *d;
	int fd;

	*out = NULL;
	if (create && mkdir(path, 0700) < 0 && errno != EEXIST)
		return img_fail(err, errno, "%s: cannot create image directory: %s", path,
				strerror(errno));
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return img_fail(err, errno, "%s: cannot open image directory: %s", path,
				strerror(errno));
	d = calloc(1, sizeof(*d));
	if (d)
		d->path = strdup(path);
	if (!d || !d->path) {
		free(d);
		close(fd);
		return img_fail(err, ENOMEM, "%s: out of memory", path);
	}
	d->fd = fd;
	*out = d;
	return 0;
}

void img_dir_close(struct img_dir *d)
{
	if (!d)
		return;
	if (d->fd >= 0)
		close(d->fd); /* and with it the lock (img_dir_lock) */
	for (size_t i = 0; i < d->nnotes; i++)
		free(d->notes[i].name);
	free(d->notes);
	free(d->path);
	free(d);
}

int img_dir_fd(const struct img_dir *d)
{
	return d->fd;
}

const char *img_dir_path(const struct img_dir *d)
{
	return d->path;
}

bool img_is_image_name(const char *name)
{
	size_t l = strlen(name);

	return (l > 4 && !strcmp(name + l - 4, ".img")) ||
	       (l > 8 && !strcmp(name + l - 8, ".img.tmp"));
}

/* For each image file of d: fn(d, dirfd, name, st); stops at the first error. */
static int img_dir_each(struct img_dir *d, struct img_err *err,
			int (*fn)(struct img_dir *d, int dfd, const char *name,
				  const struct stat *st, void *arg, struct img_err *err),
			void *arg)
{
	int dfd = openat(d->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *de;
	int ret = 0;

	if (!dir) {
		ret = img_fail(err, errno, "%s: cannot list: %s", d->path, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return ret;
	}
	while (!ret && (de = readdir(dir))) {
		struct stat st;

		if (!img_is_image_name(de->d_name))
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW))
			ret = img_fail(err, errno, "%s/%s: stat: %s", d->path, de->d_name,
				       strerror(errno));
		else if (S_ISREG(st.st_mode))
			ret = fn(d, dfd, de->d_name, &st, arg, err);
	}
	closedir(dir);
	return ret;
}

static int usage_one(struct img_dir *d, int dfd, const char *name, const struct stat *st, void *arg,
		     struct img_err *err)
{
	struct img_dir_usage *u = arg;

	(void)d;
	(void)dfd;
	(void)err;
	if (!u->files++ || !strcmp(name, "inventory.img"))
		snprintf(u->first, sizeof(u->first), "%s", name);
	u->bytes += (uint64_t)st->st_size;
	return 0;
}

int img_dir_usage(struct img_dir *d, struct img_dir_usage *u, struct img_err *err)
{
	memset(u, 0, sizeof(*u));
	if (d->sink) { /* what was sent */
		for (size_t i = 0; i < d->nnotes; i++) {
			u->bytes += d->notes[i].size;
			if (!u->files++ || !strcmp(d->notes[i].name, "inventory.img"))
				snprintf(u->first, sizeof(u->first), "%s", d->notes[i].name);
		}
		return 0;
	}
	return img_dir_each(d, err, usage_one, u);
}

static int clear_one(struct img_dir *d, int dfd, const char *name, const struct stat *st, void *arg,
		     struct img_err *err)
{
	(void)st;
	(void)arg;
	if (unlinkat(dfd, name, 0) && errno != ENOENT)
		return img_fail(err, errno, "%s/%s: cannot remove: %s", d->path, name,
				strerror(errno));
	return 0;
}

int img_dir_clear(struct img_dir *d, struct img_err *err)
{
	return img_dir_each(d, err, clear_one, NULL);
}

/* Flush fd, rename tmp to name in dirfd, then flush the directory entry (without sync: the
 * rename alone, img_dir_sync() flushes later). The fd is closed in every case; on failure the
 * temp file is removed. */
int img_commit_file(int dirfd, int fd, const char *tmp, const char *name, bool sync,
		    struct img_err *err)
{
	int ret = 0;

	if (sync && fsync(fd) < 0)
		ret = img_fail(err, errno, "%s: fsync: %s", tmp, strerror(errno));
	if (close(fd) < 0 && !ret)
		ret = img_fail(err, errno, "%s: close: %s", tmp, strerror(errno));
	if (!ret && renameat(dirfd, tmp, dirfd, name) < 0)
		ret = img_fail(err, errno, "%s: rename to %s: %s", tmp, name, strerror(errno));
	if (ret) {
		unlinkat(dirfd, tmp, 0);
		return ret;
	}
	if (sync && fsync(dirfd) < 0) {
		ret = img_fail(err, errno, "%s: fsync of the image directory: %s", name,
			       strerror(errno));
		unlinkat(dirfd, name, 0); /* not durable: leave nothing behind */
		return ret;
	}
	return 0;
}

int img_create_tmp(int dirfd, const char *tmp, struct img_err *err)
{
	int fd = openat(dirfd, tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return img_fail(err, errno, "%s: cannot create: %s", tmp, strerror(errno));
	return fd;
}

int raw_file_create(struct img_dir *d, const char *name, struct raw_file *rf, struct img_err *err)
{
	int fd;

	rf->fd = -1;
	rf->dirfd = d->fd;
	rf->dir = d;
	rf->streamed = false;
	if (!name[0] || strchr(name, '/') || strlen(name) >= sizeof(rf->name))
		return img_fail(err, EINVAL, "%s: bad raw image file name", name);
	snprintf(rf->name, sizeof(rf->name), "%s", name);
	snprintf(rf->tmp, sizeof(rf->tmp), "%s.tmp", name);
	fd = img_tmp_open(d, rf->tmp, err);
	if (fd < 0)
		return fd;
	rf->fd = fd;
	return 0;
}

int raw_file_commit_noted(struct raw_file *rf, uint64_t size, uint32_t crc, struct img_err *err)
{
	int fd = rf->fd, ret;

	if (rf->streamed) {
		rf->streamed = false;
		ret = img_sink_end_stream(rf->dir, rf->name, size, crc, err);
		return ret ? ret : img_dir_note(rf->dir, rf->name, size, crc, err);
	}
	if (fd < 0)
		return img_fail(err, EBADF, "%s: raw file is not open", rf->name);
	rf->fd = -1;
	ret = img_commit_file(rf->dirfd, fd, rf->tmp, rf->name, !rf->dir->sync_later, err);
	return ret ? ret : img_dir_note(rf->dir, rf->name, size, crc, err);
}

/* Small raw files (pipe and socket data, deleted files): their size and crc32c are read back
 * from the temp file, for the manifest. */
int raw_file_commit(struct raw_file *rf, struct img_err *err)
{
	uint64_t size = 0;
	uint32_t crc = 0;
	uint8_t buf[64 << 10];
	ssize_t n;

	if (rf->fd < 0)
		return img_fail(err, EBADF, "%s: raw file is not open", rf->name);
	if (rf->dir->sink) { /* read back once: summed as it goes */
		int fd = rf->fd, ret;

		rf->fd = -1;
		ret = img_sink_send_fd(rf->dir, fd, rf->name, false, &size, &crc, err);
		return ret ? ret : img_dir_note(rf->dir, rf->name, size, crc, err);
	}
	while ((n = pread(rf->fd, buf, sizeof(buf), (off_t)size)) > 0) {
		crc = img_crc32c(crc, buf, (size_t)n);
		size += (uint64_t)n;
	}
	if (n < 0) {
		int e = errno;

		raw_file_abort(rf);
		return img_fail(err, e, "%s: read back: %s", rf->tmp, strerror(e));
	}
	return raw_file_commit_noted(rf, size, crc, err);
}

int raw_file_put(struct img_dir *d, const char *name, const void *buf, size_t len,
		 struct img_err *err)
{
	struct raw_file rf;
	size_t done = 0;
	int ret = raw_file_create(d, name, &rf, err);

	if (ret)
		return ret;
	while (done < len) {
		ssize_t n = write(rf.fd, (const char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			raw_file_abort(&rf);
			return img_fail(err, e, "%s: write: %s", rf.tmp, strerror(e));
		}
		done += (size_t)n;
	}
	if (d->sink) /* a sink sums what it sends itself */
		return raw_file_commit(&rf, err);
	return raw_file_commit_noted(&rf, len, img_crc32c(0, buf, len), err);
}

void raw_file_abort(struct raw_file *rf)
{
	if (rf && rf->streamed) { /* part of it went: the sink's set is lost */
		rf->streamed = false;
		img_sink_abandon(rf->dir, rf->name);
	}
	if (!rf || rf->fd < 0)
		return;
	close(rf->fd);
	rf->fd = -1;
	if (!rf->dir->sink)
		unlinkat(rf->dirfd, rf->tmp, 0);
}
