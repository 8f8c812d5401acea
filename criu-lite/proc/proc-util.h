/* proc-util: helpers shared by the /proc parsers (proc-*.c only; not a public API).
 *
 * Contract: a struct ptext walks a text buffer line by line and never reads past its end; a span
 * scanner (sp_*) reads only [*p, end) and advances *p past what it consumed; pt_fail() logs
 * "NAME:LINE: message" once and returns -EINVAL. proc_read_file() reads a whole file into a
 * growing buffer and logs one error naming the file and the errno when it fails;
 * proc_read_parse() hands such a file to a parser of proc.h's pure layer. proc_walk_dir() walks
 * a directory of numbered entries (/proc/PID/fd, /proc/PID/task) and logs its own errors.
 */
#ifndef CRIU_LITE_PROC_UTIL_H
#define CRIU_LITE_PROC_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct ptext {
	const char *name;	/* file name for messages */
	const char *p, *end;	/* the unread rest of the buffer */
	const char *line, *eol; /* the current line, '\n' excluded */
	unsigned int lineno;	/* 1-based number of the current line */
};

void pt_init(struct ptext *t, const char *name, const char *buf, size_t len);
/* 1 with the next line in [line, eol), 0 at the end, -EINVAL (logged) for a NUL byte in the
 * line or a last line without '\n' (a truncated file). */
int pt_next_line(struct ptext *t);
int pt_fail(const struct ptext *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One or more digits of base 8, 10 or 16 without overflow. */
bool sp_u64(const char **p, const char *end, int base, uint64_t *v);
/* Decimal with an optional '-', within int64_t. */
bool sp_s64(const char **p, const char *end, int64_t *v);
/* Skip characters of set; returns how many. */
size_t sp_skip(const char **p, const char *end, const char *set);
/* Consume lit when the span starts with it. */
bool sp_lit(const char **p, const char *end, const char *lit);
/* sp_u64 / sp_s64 whose value must also lie within the bounds. */
bool sp_u64_range(const char **p, const char *end, int base, uint64_t hi, uint64_t *v);
bool sp_s64_range(const char **p, const char *end, int64_t lo, int64_t hi, int64_t *v);

/* Grow *arr (elements of elem bytes, capacity *cap) to hold at least need; -ENOMEM (logged). */
int proc_grow(void *arr, size_t *cap, size_t need, size_t elem);

struct proc_buf {
	char *data; /* NUL-terminated for convenience; parsers use len */
	size_t len;
};

/* Read all of path. -errno (logged with the path) on failure. */
int proc_read_file(const char *path, struct proc_buf *b);
void proc_buf_free(struct proc_buf *b);

/* The pure layer of a parser (proc_parse_X_buf(), see proc.h) behind a void pointer. */
typedef int proc_parse_fn(const char *name, const char *buf, size_t len, void *out);
/* Read all of path and parse it: parse(path, data, len, out); the data is freed before this
 * returns. -errno (logged with the path) when path can't be read, else what parse returned. */
int proc_read_parse(const char *path, proc_parse_fn *parse, void *out);

/* One entry of a directory of numbered entries, as proc_walk_dir() hands it out. */
struct proc_dirent {
	const char *dir;  /* the directory's path, for messages */
	int dirfd;	  /* the open directory, for *at() calls on the entry */
	const char *name; /* the entry's name */
	int num;	  /* its number */
};
/* fn(arg, entry) for each entry of the directory path but "." and "..", in readdir order;
 * every one must be a decimal number from lo to INT_MAX, without sign, else -EINVAL
 * ("unexpected entry", logged). Stops at the first nonzero return of fn and returns it;
 * -errno (logged with the path) when the directory can't be opened or read. */
int proc_walk_dir(const char *path, int lo, int (*fn)(void *arg, const struct proc_dirent *e),
		  void *arg);

#endif
