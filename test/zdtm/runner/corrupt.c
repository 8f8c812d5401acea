/* corrupt: flavor h's corrupt=1 pass (see restorefail.h). The images are
 * copied to <work dir>/images-corrupt; then, one file at a time, that copy
 * is damaged, a restore from it must fail before it creates any task, with
 * an error line naming the file, and the file is put back:
 *   - every file, record or raw (pages, ghosts, pipe data, shmem pages), gets
 *     the byte in its middle flipped;
 *   - the largest record file is also cut to half its size.
 * At most CORRUPT_MAX_FLIPS files are flipped: one of each kind of file first
 * (core-N.img and core-M.img are one kind), then the others in name order. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtm.h"
#include "fs.h"
#include "imgprint.h"
#include "restorecheck.h"
#include "restorefail.h"
#include "testrun.h"

#define CORRUPT_MAX_FLIPS 19 /* and one truncation: at most 20 restores a test */
#define COPY_CHUNK	  (1u << 20)
/* images/img.h: a record file ends with a 12-byte trailer that starts with
 * IMG_TRAILER_MAGIC (u32 LE); raw data files have no such thing */
#define IMG_TRAILER_MAGIC 0x454e4421u
#define IMG_TRAILER_SIZE  12

enum damage { FLIP, TRUNCATE };

/* Copy a file: 0 or -errno (reported). */
static int copy_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY | O_CLOEXEC);
	int out = in < 0 ? -1 : open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	char *buf = malloc(COPY_CHUNK);
	ssize_t n = -1;
	int ret = 0;

	if (in < 0 || out < 0 || !buf) {
		ret = -errno;
		zperror("can't copy %s to %s", from, to);
		goto out;
	}
	while ((n = read(in, buf, COPY_CHUNK)) > 0) {
		if (write(out, buf, (size_t)n) != n) {
			n = -1;
			break;
		}
	}
	if (n < 0) {
		ret = errno ? -errno : -EIO;
		zperror("can't copy %s to %s", from, to);
	}
out:
	free(buf);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return ret;
}

static bool is_record_file(const char *path, off_t size)
{
	unsigned char b[4];
	int fd;
	bool yes;

	if (size < IMG_TRAILER_SIZE)
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	yes = pread(fd, b, 4, size - IMG_TRAILER_SIZE) == 4 &&
	      ((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24) == IMG_TRAILER_MAGIC;
	close(fd);
	return yes;
}

/* "pages-shmem-3.img" -> "pages-shmem-#.img" */
static void kind_of(const char *name, char *buf, size_t len)
{
	size_t n = 0;

	for (const char *p = name; *p && n + 1 < len; p++) {
		if (*p >= '0' && *p <= '9') {
			while (p[1] >= '0' && p[1] <= '9')
				p++;
			buf[n++] = '#';
		} else {
			buf[n++] = *p;
		}
	}
	buf[n] = '\0';
}

/* The files to flip, at most max: one of each kind first, then the rest. */
static size_t pick_files(const struct img_print *p, const struct img_file_print **out, size_t max)
{
	bool *taken = calloc(p->n ? p->n : 1, sizeof(*taken));
	size_t n = 0;

	if (!taken)
		return 0;
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < p->n && n < max; i++) {
			char kind[256], other[256];
			bool seen = false;

			if (taken[i] || !S_ISREG(p->files[i].mode) || !p->files[i].size)
				continue;
			kind_of(p->files[i].name, kind, sizeof(kind));
			for (size_t k = 0; round == 0 && k < n && !seen; k++) {
				kind_of(out[k]->name, other, sizeof(other));
				seen = !strcmp(kind, other);
			}
			if (seen)
				continue;
			taken[i] = true;
			out[n++] = &p->files[i];
		}
	}
	free(taken);
	return n;
}

/* Damage path: 0 or -errno (reported). */
static int damage_file(const char *path, off_t size, enum damage how)
{
	off_t mid = size / 2;
	unsigned char c;
	int fd, e;

	if (how == TRUNCATE) {
		if (!truncate(path, mid))
			return 0;
		zperror("can't truncate %s", path);
		return -errno;
	}
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0 && pread(fd, &c, 1, mid) == 1) {
		c ^= 0xff;
		if (pwrite(fd, &c, 1, mid) == 1) {
			close(fd);
			return 0;
		}
	}
	e = errno ? errno : EIO;
	zperror("can't flip the byte at %jd of %s", (intmax_t)mid, path);
	if (fd >= 0)
		close(fd);
	return -e;
}

/* One damaged copy: the restore must be refused before any task exists. */
static int corrupt_one(struct test_run *t, const char *scratch, const struct img_file_print *f,
		       enum damage how)
{
	char *orig = strf("%s/%s", t->images, f->name);
	char *copy = strf("%s/%s", scratch, f->name);
	size_t stem = strlen(f->name);
	char *what;
	char *log;
	char *hows = how == FLIP ? strf("with the byte at %jd of %s flipped",
					(intmax_t)(f->size / 2), f->name)
				 : strf("with %s cut to %jd of %jd bytes", f->name,
					(intmax_t)(f->size / 2), (intmax_t)f->size);
	struct fail_req r = { .images = scratch, .how = hows };
	struct img_print damaged = { 0 };
	char why[512];
	int ret;

	if (stem > 4 && !strcmp(f->name + stem - 4, ".img"))
		stem -= 4; /* its log: restore-corrupt-core-42.log */
	what = strf("restore-%s-%.*s", how == FLIP ? "corrupt" : "truncated", (int)stem, f->name);
	log = strf("%s/%s.log", t->dir, what);
	r.what = what;
	ret = damage_file(copy, f->size, how);

	if (ret)
		run_why(t, "can't damage %s: %s (errno %d)", copy, strerror(-ret), -ret);
	else if (img_print_take(scratch, &damaged, why, sizeof(why))) {
		run_why(t, "%s", why);
		ret = -EIO;
	}
	if (!ret) {
		r.was = &damaged;
		ret = restore_must_fail(t, &r);
	}
	if (!ret && (log_has_error(log, f->name, true, why, sizeof(why)) ||
		     log_no_task_work(log, why, sizeof(why)))) {
		run_why(t, "the restore %s was refused, but: %s", hows, why);
		ret = -ECANCELED;
	}
	if (!ret && (ret = copy_file(orig, copy)))
		run_why(t, "can't put %s back into %s", f->name, scratch);
	img_print_free(&damaged);
	free(orig);
	free(copy);
	free(what);
	free(log);
	free(hows);
	return ret;
}

/* A fresh copy of every regular file of the images into scratch. */
static int copy_images(struct test_run *t, const struct img_print *images, const char *scratch)
{
	int ret = rm_rf(scratch);

	if (!ret)
		ret = mkdir_p(scratch);
	for (size_t i = 0; !ret && i < images->n; i++) {
		char *from, *to;

		if (!S_ISREG(images->files[i].mode))
			continue;
		from = strf("%s/%s", t->images, images->files[i].name);
		to = strf("%s/%s", scratch, images->files[i].name);
		ret = copy_file(from, to);
		free(from);
		free(to);
	}
	if (ret)
		run_why(t, "can't copy the images to %s: %s (errno %d)", scratch, strerror(-ret),
			-ret);
	return ret;
}

int restore_corrupt(struct test_run *t, const struct img_print *images)
{
	const struct img_file_print *flip[CORRUPT_MAX_FLIPS], *cut = NULL;
	char *scratch = strf("%s/images-corrupt", t->dir);
	size_t n = pick_files(images, flip, CORRUPT_MAX_FLIPS);
	int ret = copy_images(t, images, scratch);

	if (!ret && !n) {
		run_why(t, "corrupt=1, but %s has no file to damage", t->images);
		ret = -ENOENT;
	}
	for (size_t i = 0; !ret && i < images->n; i++) {
		const struct img_file_print *f = &images->files[i];
		char *path = strf("%s/%s", t->images, f->name);

		if (S_ISREG(f->mode) && (!cut || f->size > cut->size) &&
		    is_record_file(path, f->size))
			cut = f;
		free(path);
	}
	for (size_t i = 0; !ret && i < n; i++)
		ret = corrupt_one(t, scratch, flip[i], FLIP);
	if (!ret && !cut) {
		run_why(t, "corrupt=1, but %s has no record file to truncate", t->images);
		ret = -ENOENT;
	}
	if (!ret)
		ret = corrupt_one(t, scratch, cut, TRUNCATE);
	if (!ret)
		ret = rm_rf(scratch);
	free(scratch);
	return ret;
}
