/* deleted01: files deleted while open keep their holes across checkpoint/restore: for sparse
 * files with a hole at the end, at the start, everywhere, none, one 200 MiB long with 4 KiB of
 * data (its data, not its length, counts against --ghost-limit: it must be saved), and a sparse
 * tmpfs file (/dev/shm), the restored fd reaches a deleted file with the same size, the same
 * data extents (SEEK_DATA/SEEK_HOLE from every extent's start), the same st_blocks (the holes
 * take no space again), the same data in each extent, the same offset and the same
 * /proc/self/fd link. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define KB	1024L
#define MB	(1024 * KB)
#define MAX_EXT 8
#define SEED	0x5a4e0000u

struct piece {
	off_t off;
	size_t len;
};

struct sparse {
	const char *what;
	const char *dir; /* NULL: the work dir */
	off_t size;
	struct piece data[3];
	off_t pos;
	int fd;
	/* as the kernel showed it before the dump */
	struct stat st;
	struct piece ext[MAX_EXT];
	int n_ext;
	uint32_t crc[MAX_EXT];
	char link[PATH_MAX];
};

#define F(w, d, sz, p, ...)                                                        \
	{                                                                          \
		.what = w, .dir = d, .size = sz, .pos = p, .data = { __VA_ARGS__ } \
	}

static struct sparse files[] = {
	F("a hole at the end", NULL, 3 * MB + 100, 17, { 0, 4 * KB }, { 1 * MB, 8 * KB }),
	F("a hole at the start", NULL, 2 * MB, 2 * MB, { 2 * MB - 4 * KB, 4 * KB }),
	F("all hole", NULL, 1 * MB, 4096, { 0, 0 }),
	F("no hole", NULL, 20000, 19999, { 0, 20000 }),
	F("200 MiB long, 4 KiB of data", NULL, 200 * MB, 150 * MB + 1, { 150 * MB, 4 * KB }),
	F("on tmpfs", "/dev/shm", 1 * MB, 3, { 8 * KB, 4 * KB }, { 512 * KB, 12 * KB }),
};

#define NFILES ((int)(sizeof(files) / sizeof(files[0])))

/* The data extents as SEEK_DATA/SEEK_HOLE show them, and a crc of each. */
static int extents(struct sparse *f, struct piece *ext, int *n, uint32_t *crc)
{
	off_t off = 0;
	char *buf;

	*n = 0;
	while (off < f->size) {
		off_t d = lseek(f->fd, off, SEEK_DATA), h;

		if (d < 0 && errno == ENXIO)
			break;
		h = d < 0 ? -1 : lseek(f->fd, d, SEEK_HOLE);
		if (d < 0 || h < 0 || *n == MAX_EXT)
			return -1;
		ext[*n] = (struct piece){ d, (size_t)(h - d) };
		buf = malloc(ext[*n].len);
		if (!buf || pread(f->fd, buf, ext[*n].len, d) != (ssize_t)ext[*n].len) {
			free(buf);
			return -1;
		}
		crc[*n] = test_crc32c(buf, ext[*n].len);
		free(buf);
		(*n)++;
		off = h;
	}
	return lseek(f->fd, f->pos, SEEK_SET) == f->pos ? 0 : -1;
}

static int make(struct sparse *f, int i)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/deleted01.%d.%d", f->dir ? f->dir : ".", getpid(), i);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0640);
	if (fd < 0 || ftruncate(fd, f->size)) {
		fail_errno("%s: create %s", f->what, path);
		return -1;
	}
	for (int k = 0; k < 3 && f->data[k].len; k++) {
		char *buf = malloc(f->data[k].len);

		if (!buf)
			return -1;
		test_fill_pattern(buf, f->data[k].len, SEED + (uint64_t)i * 8 + (uint64_t)k);
		if (pwrite(fd, buf, f->data[k].len, f->data[k].off) != (ssize_t)f->data[k].len) {
			fail_errno("%s: write", f->what);
			free(buf);
			return -1;
		}
		free(buf);
	}
	if (unlink(path) || lseek(fd, f->pos, SEEK_SET) != f->pos) {
		fail_errno("%s: unlink/seek", f->what);
		return -1;
	}
	f->fd = fd;
	if (fstat(fd, &f->st) || test_fd_link(fd, f->link, sizeof(f->link)) ||
	    extents(f, f->ext, &f->n_ext, f->crc)) {
		fail_errno("%s: fstat/readlink/SEEK_DATA", f->what);
		return -1;
	}
	return 0;
}

static int check(struct sparse *f)
{
	struct piece ext[MAX_EXT];
	uint32_t crc[MAX_EXT];
	char link[PATH_MAX];
	struct stat st;
	off_t pos = lseek(f->fd, 0, SEEK_CUR);
	int n;

	if (fstat(f->fd, &st) || test_fd_link(f->fd, link, sizeof(link)) ||
	    extents(f, ext, &n, crc)) {
		fail_errno("%s: fstat/readlink/SEEK_DATA of fd %d after restore", f->what, f->fd);
		return -1;
	}
	if (st.st_nlink || st.st_size != f->st.st_size || st.st_blocks != f->st.st_blocks ||
	    st.st_dev != f->st.st_dev) {
		fail("%s: nlink %ju, size %jd, st_blocks %jd, dev %#jx after restore; before: 0, "
		     "%jd, %jd, %#jx",
		     f->what, (uintmax_t)st.st_nlink, (intmax_t)st.st_size, (intmax_t)st.st_blocks,
		     (uintmax_t)st.st_dev, (intmax_t)f->st.st_size, (intmax_t)f->st.st_blocks,
		     (uintmax_t)f->st.st_dev);
		return -1;
	}
	if (n != f->n_ext) {
		fail(
		    "%s: %d data extents after restore (the first at %jd), %d before (the first at "
		    "%jd)",
		    f->what, n, n ? (intmax_t)ext[0].off : -1, f->n_ext,
		    f->n_ext ? (intmax_t)f->ext[0].off : -1);
		return -1;
	}
	for (int k = 0; k < n; k++)
		if (ext[k].off != f->ext[k].off || ext[k].len != f->ext[k].len ||
		    crc[k] != f->crc[k]) {
			fail("%s: data extent %d is %zu bytes at %jd (crc %08x) after restore, %zu "
			     "at %jd (crc %08x) before",
			     f->what, k, ext[k].len, (intmax_t)ext[k].off, crc[k], f->ext[k].len,
			     (intmax_t)f->ext[k].off, f->crc[k]);
			return -1;
		}
	if (pos != f->pos || strcmp(link, f->link)) {
		fail("%s: offset %jd, link '%s' after restore; before %jd, '%s'", f->what,
		     (intmax_t)pos, link, (intmax_t)f->pos, f->link);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int ret = 0;

	if (test_init(argc, argv))
		return 1;
	for (int i = 0; i < NFILES; i++)
		if (make(&files[i], i))
			return 1;
	if (test_daemon())
		return 1;
	test_waitsig();
	for (int i = 0; i < NFILES; i++)
		if (check(&files[i]))
			ret = -1;
	if (!ret)
		pass();
	return 0;
}
