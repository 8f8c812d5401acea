/* msg: verdicts and log lines, one write() of one line each, to the outfile.
 * A message never spans lines (embedded newlines become spaces), so the
 * runner can trust that a line starting with "FAIL: " is a verdict. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"
#include "lib.h"

/* The only state of this file; see lib.h for why it is process-wide. */
static struct {
	int fd;	     /* outfile; stderr before test_init() opened it */
	bool failed; /* fail() was called: pass() must not cover it up */
	bool passed;
} out = { .fd = STDERR_FILENO };

void zdtm_out_set(int fd)
{
	out.fd = fd;
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* nowhere left to report it */
		buf += n;
		len -= (size_t)n;
	}
}

/* Format "<prefix><message>[: <strerror> (errno N)]\n" and write it at once.
 * err is the errno to append, 0 for none. errno is preserved. */
static void out_vline(const char *prefix, int err, const char *fmt, va_list ap)
{
	char buf[2048];
	size_t max = sizeof(buf) - 1; /* room for the '\n' */
	size_t n;
	int saved = errno;
	int r;

	n = strlen(prefix) < max ? strlen(prefix) : max;
	memcpy(buf, prefix, n);
	r = vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	if (r > 0)
		n = n + (size_t)r < max ? n + (size_t)r : max;
	if (err && n < max) {
		r = snprintf(buf + n, sizeof(buf) - n, ": %s (errno %d)", strerror(err), err);
		if (r > 0)
			n = n + (size_t)r < max ? n + (size_t)r : max;
	}
	while (n && buf[n - 1] == '\n')
		n--;
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n' || buf[i] == '\r')
			buf[i] = ' ';
	}
	buf[n++] = '\n';
	write_all(out.fd, buf, n);
	errno = saved;
}

void pass(void)
{
	if (out.failed || out.passed)
		return;
	out.passed = true;
	write_all(out.fd, "PASS\n", 5);
}

void fail(const char *fmt, ...)
{
	va_list ap;

	out.failed = true;
	va_start(ap, fmt);
	out_vline("FAIL: ", 0, fmt, ap);
	va_end(ap);
}

void fail_errno(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	out.failed = true;
	va_start(ap, fmt);
	out_vline("FAIL: ", err, fmt, ap);
	va_end(ap);
}

void skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	out_vline("SKIP: ", 0, fmt, ap);
	va_end(ap);
}

void test_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	out_vline("", 0, fmt, ap);
	va_end(ap);
}

void test_perror(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	out_vline("", err, fmt, ap);
	va_end(ap);
}
