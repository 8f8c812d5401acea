/* imgprint: see imgprint.h. The crc32c is a plain table-driven one: the
 * runner links nothing but libc, and image directories of tests are small. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtm.h"
#include "fs.h"
#include "imgprint.h"

#define CRC32C_POLY 0x82f63b78u /* Castagnoli, reflected */
#define READ_CHUNK  (1u << 20)
#define MAX_DIFFS   4

static void crc32c_table(uint32_t table[256])
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ CRC32C_POLY : c >> 1;
		table[i] = c;
	}
}

/* crc32c of the file dirfd/name: 0, or -errno. */
static int file_crc(int dirfd, const char *name, const uint32_t table[256], unsigned char *buf,
		    uint32_t *crc)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	uint32_t c = ~0u;
	ssize_t n;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, READ_CHUNK)) > 0) {
		for (ssize_t i = 0; i < n; i++)
			c = table[(c ^ buf[i]) & 0xff] ^ (c >> 8);
	}
	if (n < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	close(fd);
	*crc = ~c;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct img_file_print *)a)->name,
		      ((const struct img_file_print *)b)->name);
}

/* One entry into p (grown); 0 or -1 with why. */
static int add_entry(int dirfd, const char *dir, const char *name, const uint32_t table[256],
		     unsigned char *buf, struct img_print *p, char *why, size_t len)
{
	struct img_file_print *grown, *f;
	struct stat st;
	int ret;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW)) {
		snprintf(why, len, "can't stat %s/%s: %s (errno %d)", dir, name, strerror(errno),
			 errno);
		return -1;
	}
	grown = realloc(p->files, (p->n + 1) * sizeof(*grown));
	if (!grown) {
		snprintf(why, len, "out of memory listing %s", dir);
		return -1;
	}
	p->files = grown;
	f = &p->files[p->n];
	memset(f, 0, sizeof(*f));
	f->mode = st.st_mode;
	f->size = st.st_size;
	f->ino = st.st_ino;
	f->mtime = st.st_mtim;
	if (S_ISREG(st.st_mode)) {
		ret = file_crc(dirfd, name, table, buf, &f->crc);
		if (ret) {
			snprintf(why, len, "can't read %s/%s: %s (errno %d)", dir, name,
				 strerror(-ret), -ret);
			return -1;
		}
	}
	f->name = strf("%s", name);
	p->n++;
	return 0;
}

int img_print_take(const char *dir, struct img_print *p, char *why, size_t len)
{
	uint32_t table[256];
	unsigned char *buf = malloc(READ_CHUNK);
	DIR *d = opendir(dir);
	struct dirent *e;
	int ret = 0;

	memset(p, 0, sizeof(*p));
	if (!d || !buf) {
		snprintf(why, len, "can't open %s: %s (errno %d)", dir, strerror(errno), errno);
		if (d)
			closedir(d);
		free(buf);
		return -1;
	}
	crc32c_table(table);
	errno = 0;
	while (!ret && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			ret = add_entry(dirfd(d), dir, e->d_name, table, buf, p, why, len);
		errno = 0;
	}
	if (!ret && errno) {
		snprintf(why, len, "can't list %s: %s (errno %d)", dir, strerror(errno), errno);
		ret = -1;
	}
	closedir(d);
	free(buf);
	if (ret) {
		img_print_free(p);
		return -1;
	}
	qsort(p->files, p->n, sizeof(*p->files), by_name);
	return 0;
}

/* What differs between two prints of one name, into buf ("" if nothing). */
static void file_diff(const struct img_file_print *a, const struct img_file_print *b, char *buf,
		      size_t len)
{
	buf[0] = '\0';
	if (a->mode != b->mode)
		snprintf(buf, len, "mode %#o -> %#o", (unsigned)a->mode, (unsigned)b->mode);
	else if (a->size != b->size)
		snprintf(buf, len, "size %jd -> %jd", (intmax_t)a->size, (intmax_t)b->size);
	else if (a->crc != b->crc)
		snprintf(buf, len, "contents changed (crc32c %08x -> %08x)", a->crc, b->crc);
	else if (a->ino != b->ino)
		snprintf(buf, len, "replaced (inode %ju -> %ju)", (uintmax_t)a->ino,
			 (uintmax_t)b->ino);
	else if (a->mtime.tv_sec != b->mtime.tv_sec || a->mtime.tv_nsec != b->mtime.tv_nsec)
		snprintf(buf, len, "rewritten (mtime %jd.%09ld -> %jd.%09ld)",
			 (intmax_t)a->mtime.tv_sec, a->mtime.tv_nsec, (intmax_t)b->mtime.tv_sec,
			 b->mtime.tv_nsec);
}

int img_print_cmp(const struct img_print *was, const struct img_print *now, char *why, size_t len)
{
	size_t i = 0, k = 0, n = 0;
	unsigned diffs = 0;
	char what[160];

	why[0] = '\0';
	while (i < was->n || k < now->n) {
		int c = i == was->n   ? 1
			: k == now->n ? -1
				      : strcmp(was->files[i].name, now->files[k].name);
		const char *name;

		if (c < 0) {
			name = was->files[i++].name;
			snprintf(what, sizeof(what), "is gone");
		} else if (c > 0) {
			name = now->files[k++].name;
			snprintf(what, sizeof(what), "appeared");
		} else {
			name = was->files[i].name;
			file_diff(&was->files[i++], &now->files[k++], what, sizeof(what));
			if (!what[0])
				continue;
		}
		if (diffs++ < MAX_DIFFS && n < len)
			n += (size_t)snprintf(why + n, len - n, "%s%s %s", diffs > 1 ? "; " : "",
					      name, what);
	}
	if (diffs > MAX_DIFFS && n < len)
		snprintf(why + n, len - n, "; and %u more", diffs - MAX_DIFFS);
	return diffs ? -1 : 0;
}

void img_print_free(struct img_print *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->files[i].name);
	free(p->files);
	memset(p, 0, sizeof(*p));
}
