/* log: levelled, timestamped messages to stderr or the -o log file.
 *
 * Contract: levels follow CRIU (-v0 quiet .. -v4 debug; default 2). Every
 * failure is reported exactly once, where it is handled: the function that
 * sees the errno names the object (pid, address, fd, file) and the errno,
 * then returns an error; callers pass the error up without logging again.
 * A file may define LOG_PREFIX ("mem: ") before including this header. */
#ifndef CRIU_LITE_LOG_H
#define CRIU_LITE_LOG_H

#include <errno.h>
#include <string.h>

enum log_level {
	LOG_MSG = 0, /* always printed (user-facing output) */
	LOG_ERROR = 1,
	LOG_WARN = 2,
	LOG_INFO = 3,
	LOG_DEBUG = 4,
};

#ifndef LOG_PREFIX
#define LOG_PREFIX ""
#endif

/* Set from the parsed options before anything is logged. */
int log_init(const char *path, int level);
void log_fini(void);
int log_level(void);
void log_print(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The one summary line of a command: on stderr, and in the -o log file too; -v0 silences it. */
void log_summary(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define pr_msg(fmt, ...)   log_print(LOG_MSG, fmt, ##__VA_ARGS__)
#define pr_err(fmt, ...)   log_print(LOG_ERROR, "Error: " LOG_PREFIX fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...)  log_print(LOG_WARN, "Warn: " LOG_PREFIX fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...)  log_print(LOG_INFO, LOG_PREFIX fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) log_print(LOG_DEBUG, LOG_PREFIX fmt, ##__VA_ARGS__)
/* errno-carrying error: appends ": <strerror> (errno N)" */
#define pr_perror(fmt, ...)                                                                       \
	do {                                                                                      \
		int __e = errno;                                                                  \
		log_print(LOG_ERROR, "Error: " LOG_PREFIX fmt ": %s (errno %d)\n", ##__VA_ARGS__, \
			  strerror(__e), __e);                                                    \
		errno = __e;                                                                      \
	} while (0)

#endif
