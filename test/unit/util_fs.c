/* util_fs: see util_fs.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util_fs.h"

char *utest_tmpdir_make(const char *tag)
{
	char *path;

	if (asprintf(&path, "/tmp/criu-lite-%s-XXXXXX", tag) < 0)
		return NULL;
	if (!mkdtemp(path)) {
		free(path);
		return NULL;
	}
	return path;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

void utest_tmpdir_remove(char *path)
{
	if (!path)
		return;
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(path);
}

static int open_at(const char *dir, const char *name, int flags)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return open(path, flags | O_CLOEXEC, 0600);
}

/* All of fd (its size at the start), into a malloc'ed buffer; fd is closed. */
static int read_whole(int fd, void **bufp, size_t *lenp)
{
	struct stat st;
	size_t len = 0;
	char *buf;

	if (fstat(fd, &st) < 0 || !(buf = malloc((size_t)st.st_size + 1))) {
		close(fd);
		return -ENOMEM;
	}
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	*bufp = buf;
	*lenp = len;
	return 0;
}

int utest_read_file(const char *dir, const char *name, void **bufp, size_t *lenp)
{
	int fd = open_at(dir, name, O_RDONLY);

	if (fd < 0)
		return -errno;
	return read_whole(fd, bufp, lenp);
}

bool utest_log_has(const char *path, const char *s)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	void *buf;
	size_t len;
	bool found;

	if (fd < 0 || read_whole(fd, &buf, &len))
		return false;
	found = memmem(buf, len, s, strlen(s)) != NULL;
	free(buf);
	return found;
}

int utest_write_file(const char *dir, const char *name, const void *buf, size_t len)
{
	const char *p = buf;
	int fd = open_at(dir, name, O_WRONLY | O_CREAT | O_TRUNC);

	if (fd < 0)
		return -errno;
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n <= 0) {
			close(fd);
			return -EIO;
		}
		p += n;
		len -= (size_t)n;
	}
	return close(fd) < 0 ? -errno : 0;
}

bool utest_file_exists(const char *dir, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

int utest_dir_entries(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}
