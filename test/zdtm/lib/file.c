/* file: reading a whole (small, /proc) file, for tests that compare what the
 * kernel shows before and after a checkpoint, one line of an fdinfo file, and
 * the /proc/self/fd link of an fd. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"

char *test_read_file(const char *path, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	int fd, e;

	if (!buf)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto err;
	for (;;) {
		ssize_t r = read(fd, buf + n, cap - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto err;
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == cap) {
			char *grown = realloc(buf, 2 * cap + 1);

			if (!grown)
				goto err;
			buf = grown;
			cap *= 2;
		}
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
err:
	e = errno;
	if (fd >= 0)
		close(fd);
	free(buf);
	errno = e;
	return NULL;
}

/* test_fdinfo_get() of the fdinfo file at path. */
static int fdinfo_get(const char *path, const char *key, char *buf, size_t len)
{
	char *text, *p;
	size_t klen = strlen(key), n;
	int ret = -1;

	text = test_read_file(path, &n);
	for (p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, key, klen) || p[klen] != ':')
			continue;
		p += klen + 1;
		p += strspn(p, " \t");
		snprintf(buf, len, "%.*s", (int)strcspn(p, "\n"), p);
		ret = 0;
		break;
	}
	free(text);
	return ret;
}

int test_fdinfo_get(int fd, const char *key, char *buf, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	return fdinfo_get(path, key, buf, len);
}

long test_fdinfo_num(pid_t pid, int fd, const char *key, int base)
{
	char path[64], v[64], *end;
	long n;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	else
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if (fdinfo_get(path, key, v, sizeof(v)))
		return LONG_MIN;
	n = strtol(v, &end, base);
	return end == v ? LONG_MIN : n;
}

int test_fd_link(int fd, char *buf, size_t len)
{
	char proc[64];
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, buf, len - 1);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}
