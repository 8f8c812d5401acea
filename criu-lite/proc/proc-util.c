/* proc-util: see proc-util.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_PREFIX "proc: "
#include "criu-lite/log.h"
#include "criu-lite/proc/proc-util.h"

void pt_init(struct ptext *t, const char *name, const char *buf, size_t len)
{
	t->name = name;
	t->p = buf;
	t->end = buf + len;
	t->line = t->eol = buf;
	t->lineno = 0;
}

int pt_next_line(struct ptext *t)
{
	const char *nl;

	if (t->p >= t->end)
		return 0;
	t->lineno++;
	t->line = t->p;
	nl = memchr(t->p, '\n', t->end - t->p);
	t->eol = nl ? nl : t->end;
	t->p = nl ? nl + 1 : t->end;
	if (memchr(t->line, '\0', t->eol - t->line))
		return pt_fail(t, "NUL byte in the line");
	if (!nl)
		return pt_fail(t, "no newline at the end of the last line (truncated?)");
	return 1;
}

int pt_fail(const struct ptext *t, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pr_err("%s:%u: %s\n", t->name, t->lineno, msg);
	return -EINVAL;
}

static int digit_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;
}

bool sp_u64(const char **p, const char *end, int base, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0;
	int d;

	while (s < end && (d = digit_val(*s)) < base) {
		if (x > (UINT64_MAX - d) / base)
			return false;
		x = x * base + d;
		s++;
	}
	if (s == *p)
		return false;
	*p = s;
	*v = x;
	return true;
}

bool sp_s64(const char **p, const char *end, int64_t *v)
{
	const char *s = *p;
	bool neg = false;
	uint64_t x;

	if (s < end && *s == '-') {
		neg = true;
		s++;
	}
	if (!sp_u64(&s, end, 10, &x))
		return false;
	if (neg ? x > (uint64_t)INT64_MAX + 1 : x > (uint64_t)INT64_MAX)
		return false;
	*v = neg ? (int64_t)(0 - x) : (int64_t)x;
	*p = s;
	return true;
}

bool sp_u64_range(const char **p, const char *end, int base, uint64_t hi, uint64_t *v)
{
	const char *s = *p;
	uint64_t x;

	if (!sp_u64(&s, end, base, &x) || x > hi)
		return false;
	*p = s;
	*v = x;
	return true;
}

bool sp_s64_range(const char **p, const char *end, int64_t lo, int64_t hi, int64_t *v)
{
	const char *s = *p;
	int64_t x;

	if (!sp_s64(&s, end, &x) || x < lo || x > hi)
		return false;
	*p = s;
	*v = x;
	return true;
}

size_t sp_skip(const char **p, const char *end, const char *set)
{
	const char *s = *p;

	while (s < end && *s && strchr(set, *s))
		s++;
	size_t n = s - *p;
	*p = s;
	return n;
}

bool sp_lit(const char **p, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0)
		return false;
	*p += n;
	return true;
}

int proc_grow(void *arr, size_t *cap, size_t need, size_t elem)
{
	void **a = arr;
	size_t ncap = *cap ? *cap : 16;
	void *n;

	if (need <= *cap)
		return 0;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			goto nomem;
		ncap *= 2;
	}
	if (ncap > SIZE_MAX / elem)
		goto nomem;
	n = realloc(*a, ncap * elem);
	if (!n)
		goto nomem;
	*a = n;
	*cap = ncap;
	return 0;
nomem:
	pr_err("out of memory growing a list to %zu entries\n", need);
	return -ENOMEM;
}

int proc_read_file(const char *path, struct proc_buf *b)
{
	size_t cap = 4096, len = 0;
	char *data = NULL;
	int fd, ret = 0;

	b->data = NULL;
	b->len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pr_perror("can't open %s", path);
		return ret;
	}
	for (;;) {
		ssize_t n;

		if (!data || len + 1 >= cap) {
			char *nd;

			if (data)
				cap *= 2;
			nd = realloc(data, cap);
			if (!nd) {
				pr_err("out of memory reading %s (%zu bytes)\n", path, cap);
				ret = -ENOMEM;
				break;
			}
			data = nd;
		}
		n = read(fd, data + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			pr_perror("can't read %s", path);
			break;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	if (ret) {
		free(data);
		return ret;
	}
	data[len] = '\0';
	b->data = data;
	b->len = len;
	return 0;
}

void proc_buf_free(struct proc_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
}

int proc_read_parse(const char *path, proc_parse_fn *parse, void *out)
{
	struct proc_buf b;
	int ret;

	ret = proc_read_file(path, &b);
	if (ret)
		return ret;
	ret = parse(path, b.data, b.len, out);
	proc_buf_free(&b);
	return ret;
}

/* A whole entry name: digits only, from lo to INT_MAX. */
static bool dir_number(const char *s, int lo, int *v)
{
	const char *p = s, *e = s + strlen(s);
	int64_t x;

	if (*s == '-' || !sp_s64_range(&p, e, lo, INT_MAX, &x) || p != e)
		return false;
	*v = (int)x;
	return true;
}

int proc_walk_dir(const char *path, int lo, int (*fn)(void *arg, const struct proc_dirent *e),
		  void *arg)
{
	struct dirent *de;
	int ret = 0;
	DIR *d;

	d = opendir(path);
	if (!d) {
		ret = -errno;
		pr_perror("can't open %s", path);
		return ret;
	}
	for (;;) {
		struct proc_dirent e = { .dir = path, .dirfd = dirfd(d) };

		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno) {
				ret = -errno;
				pr_perror("can't read %s", path);
			}
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		e.name = de->d_name;
		if (!dir_number(de->d_name, lo, &e.num)) {
			pr_err("unexpected entry '%s' in %s\n", de->d_name, path);
			ret = -EINVAL;
			break;
		}
		ret = fn(arg, &e);
		if (ret)
			break;
	}
	closedir(d);
	return ret;
}

void proc_unescape(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
}
