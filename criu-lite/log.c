/* log: see log.h. The level and the output fd are the parsed -v / -o options. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "criu-lite/log.h"

static int log_fd = STDERR_FILENO;
static int log_lvl = LOG_WARN;
static struct timespec log_start;

int log_init(const char *path, int level)
{
	clock_gettime(CLOCK_MONOTONIC, &log_start);
	log_lvl = level;
	if (path && strcmp(path, "-") != 0) {
		int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

		if (fd < 0) {
			int e = errno;

			fprintf(stderr, "Error: can't open log file %s: %s (errno %d)\n", path,
				strerror(e), e);
			return -e;
		}
		log_fd = fd;
	}
	return 0;
}

void log_fini(void)
{
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = STDERR_FILENO;
}

int log_level(void)
{
	return log_lvl;
}

void log_print(enum log_level lvl, const char *fmt, ...)
{
	char buf[4096];
	struct timespec now;
	va_list ap;
	int n = 0;

	if ((int)lvl > log_lvl)
		return;
	if (lvl != LOG_MSG) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		double t = (double)(now.tv_sec - log_start.tv_sec) +
			   (double)(now.tv_nsec - log_start.tv_nsec) / 1e9;
		n = snprintf(buf, sizeof(buf), "(%9.6f) ", t);
	}
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	/* messages go to stdout when no log file was asked for */
	int fd = (lvl == LOG_MSG && log_fd == STDERR_FILENO) ? STDOUT_FILENO : log_fd;
	(void)!write(fd, buf, n);
}

void log_summary(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	if (log_lvl < LOG_ERROR)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	(void)!write(STDERR_FILENO, buf, (size_t)n);
	if (log_fd != STDERR_FILENO)
		(void)!write(log_fd, buf, (size_t)n);
}
