/* proc-fd: /proc/PID/fdinfo/N -> struct proc_fdinfo, /proc/PID/fd -> struct proc_fd_list. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_PREFIX "proc: "
#include "criu-lite/log.h"
#include "criu-lite/proc/proc-util.h"
#include "criu-lite/proc/proc.h"

void proc_fdinfo_free(struct proc_fdinfo *fi)
{
	free(fi->lines);
	free(fi->text);
	fi->lines = NULL;
	fi->text = NULL;
	fi->n_lines = 0;
}

/* "KEY:\tNUMBER" with the key and the base the kernel prints it in */
static int parse_common(struct ptext *t, const char *key, int base, bool sign, int64_t lo,
			int64_t hi, uint64_t *u, int64_t *s)
{
	int ret = pt_next_line(t);
	const char *p = t->line, *e = t->eol;

	if (ret <= 0)
		return ret ? ret : pt_fail(t, "no %s line", key);
	if (!sp_lit(&p, e, key) || !sp_lit(&p, e, ":\t"))
		return pt_fail(t, "expected the %s line", key);
	if (sign ? !sp_s64_range(&p, e, lo, hi, s) : !sp_u64_range(&p, e, base, (uint64_t)hi, u))
		return pt_fail(t, "bad %s", key);
	if (p != e)
		return pt_fail(t, "junk after %s", key);
	return 0;
}

static int parse_lines(struct ptext *t, struct proc_fdinfo *out)
{
	size_t cap = 0, rest = t->end - t->p;
	char *s;
	int ret;

	out->text = malloc(rest + 1);
	if (!out->text) {
		pr_err("out of memory for %zu bytes of %s\n", rest, t->name);
		return -ENOMEM;
	}
	s = out->text;
	while ((ret = pt_next_line(t)) > 0) {
		size_t n = t->eol - t->line;
		char *colon;

		memcpy(s, t->line, n);
		s[n] = '\0';
		colon = memchr(s, ':', n);
		if (!colon || colon == s)
			return pt_fail(t, "not a 'key: value' line");
		*colon = '\0';
		ret = proc_grow(&out->lines, &cap, out->n_lines + 1, sizeof(*out->lines));
		if (ret)
			return ret;
		out->lines[out->n_lines].key = s;
		out->lines[out->n_lines].value = colon + 1 + strspn(colon + 1, " \t");
		out->n_lines++;
		s += n + 1;
	}
	return ret;
}

int proc_parse_fdinfo_buf(const char *name, const char *buf, size_t len, struct proc_fdinfo *out)
{
	struct ptext t;
	uint64_t u;
	int64_t s;
	int ret;

	memset(out, 0, sizeof(*out));
	pt_init(&t, name, buf, len);
	ret = parse_common(&t, "pos", 10, true, INT64_MIN, INT64_MAX, NULL, &out->pos);
	if (!ret)
		ret = parse_common(&t, "flags", 8, false, 0, UINT32_MAX, &u, NULL);
	if (!ret) {
		out->flags = (uint32_t)u;
		ret = parse_common(&t, "mnt_id", 10, true, INT_MIN, INT_MAX, NULL, &s);
	}
	if (!ret) {
		out->mnt_id = (int)s;
		ret = parse_common(&t, "ino", 10, false, 0, INT64_MAX, &out->ino, NULL);
	}
	if (!ret)
		ret = parse_lines(&t, out);
	if (ret)
		proc_fdinfo_free(out);
	return ret;
}

static int parse_fdinfo(const char *name, const char *buf, size_t len, void *out)
{
	return proc_parse_fdinfo_buf(name, buf, len, out);
}

int proc_parse_fdinfo(pid_t pid, int fd, struct proc_fdinfo *out)
{
	char path[64];

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	return proc_read_parse(path, parse_fdinfo, out);
}

const char *proc_fdinfo_value(const struct proc_fdinfo *fi, const char *key, size_t nth)
{
	for (size_t i = 0; i < fi->n_lines; i++)
		if (strcmp(fi->lines[i].key, key) == 0 && nth-- == 0)
			return fi->lines[i].value;
	return NULL;
}

size_t proc_fdinfo_count(const struct proc_fdinfo *fi, const char *key)
{
	size_t n = 0;

	for (size_t i = 0; i < fi->n_lines; i++)
		n += strcmp(fi->lines[i].key, key) == 0;
	return n;
}

void proc_fd_list_free(struct proc_fd_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].target);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

/* readlinkat with a buffer grown until the target fits. 1 when the link is gone. */
static int read_link(int dirfd, const char *dname, const char *dpath, char **target)
{
	size_t size = 256;
	char *buf = NULL;

	for (;;) {
		char *nb = realloc(buf, size);
		ssize_t n;

		if (!nb) {
			free(buf);
			pr_err("out of memory reading the link %s/%s\n", dpath, dname);
			return -ENOMEM;
		}
		buf = nb;
		n = readlinkat(dirfd, dname, buf, size);
		if (n < 0) {
			int e = errno;

			free(buf);
			if (e == ENOENT)
				return 1;
			errno = e;
			pr_perror("can't read the link %s/%s", dpath, dname);
			return -e;
		}
		if ((size_t)n < size) {
			buf[n] = '\0';
			*target = buf;
			return 0;
		}
		size *= 2;
	}
}

static int cmp_fd(const void *a, const void *b)
{
	const struct proc_fd *x = a, *y = b;

	return (x->fd > y->fd) - (x->fd < y->fd);
}

/* One fd of /proc/PID/fd into the list; one closed meanwhile is skipped. */
static int add_fd(void *arg, const struct proc_dirent *e)
{
	struct proc_fd_list *out = arg;
	struct proc_fd f = { .fd = e->num };
	int ret;

	ret = read_link(e->dirfd, e->name, e->dir, &f.target);
	if (ret == 1)
		return 0; /* closed meanwhile */
	if (!ret)
		ret = proc_grow(&out->v, &out->cap, out->n + 1, sizeof(*out->v));
	if (ret) {
		free(f.target);
		return ret;
	}
	out->v[out->n++] = f;
	return 0;
}

int proc_list_fds(pid_t pid, struct proc_fd_list *out)
{
	char path[64];
	int ret;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	ret = proc_walk_dir(path, 0, add_fd, out);
	if (ret) {
		proc_fd_list_free(out);
		return ret;
	}
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), cmp_fd);
	return 0;
}
