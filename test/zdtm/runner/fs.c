/* fs: see fs.h. */
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtm.h"
#include "fs.h"

#define TAIL_MAX_LINES 64

char *strf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		zerr("out of memory");
		exit(2);
	}
	return s;
}

int mkdir_p(const char *path)
{
	char *p = strf("%s", path);
	int ret = 0;

	for (char *s = p + 1;; s++) {
		char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) && errno != EEXIST) {
			ret = -errno;
			zperror("mkdir %s", p);
			break;
		}
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return ret;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if ((type == FTW_DP ? rmdir(path) : unlink(path)) && errno != ENOENT) {
		int e = errno;

		zperror("can't remove %s", path);
		return e;
	}
	return 0;
}

int rm_rf(const char *path)
{
	int ret;

	if (path[0] != '/' || !strcmp(path, "/")) {
		zerr("refusing to remove '%s'", path);
		return -EINVAL;
	}
	if (access(path, F_OK) && errno == ENOENT)
		return 0;
	ret = nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	if (ret < 0) {
		ret = -errno;
		zperror("can't walk %s", path);
	}
	return ret > 0 ? -ret : ret;
}

static int rmdir_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		rmdir(path); /* fails on non-empty dirs: that is the point */
	return 0;
}

void prune_empty_dirs(const char *path)
{
	nftw(path, rmdir_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

int read_pid(const char *path, pid_t *pid)
{
	FILE *f = fopen(path, "re");
	long v;
	int n;

	if (!f)
		return -errno;
	n = fscanf(f, "%ld", &v);
	fclose(f);
	if (n != 1 || v <= 0 || v > 0x3fffffff)
		return -EINVAL;
	*pid = (pid_t)v;
	return 0;
}

void print_tail(const char *path, unsigned lines, const char *indent)
{
	char *ring[TAIL_MAX_LINES] = { NULL };
	size_t cap = 0;
	char *line = NULL;
	unsigned n = 0;
	FILE *f;

	if (!lines)
		return;
	if (lines > TAIL_MAX_LINES)
		lines = TAIL_MAX_LINES;
	f = fopen(path, "re");
	if (!f)
		return;
	while (getline(&line, &cap, f) >= 0) {
		free(ring[n % lines]);
		ring[n % lines] = line;
		line = NULL;
		cap = 0;
		n++;
	}
	free(line);
	fclose(f);
	if (!n)
		return;
	printf("%s--- %s%s ---\n", indent, path, n > lines ? " (last lines)" : "");
	for (unsigned i = n > lines ? n - lines : 0; i < n; i++) {
		char *l = ring[i % lines];
		size_t len = strlen(l);

		printf("%s%.*s\n", indent, (int)(len && l[len - 1] == '\n' ? len - 1 : len), l);
	}
	for (unsigned i = 0; i < lines; i++)
		free(ring[i]);
}

char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			char *nb = realloc(buf, cap = cap ? cap * 2 : 8192);

			if (!nb) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);

		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}
