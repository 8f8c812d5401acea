/* fs: the file chores of the runner: paths, work dirs, small files, log tails.
 *
 * Contract: functions return 0 or -errno and report their failure naming the
 * path, except where a missing file is an answer (read_pid, print_tail).
 * strf() formats into a new string and exits the runner when out of memory. */
#ifndef ZDTM_FS_H
#define ZDTM_FS_H

#include <stddef.h>
#include <sys/types.h>

char *strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int mkdir_p(const char *path);
/* Remove a tree; a missing path is fine. Refuses "/" and relative paths. */
int rm_rf(const char *path);
/* rmdir every empty directory under (and including) path; errors ignored. */
void prune_empty_dirs(const char *path);
/* A positive pid from the first line of path: 0 or -errno (not reported). */
int read_pid(const char *path, pid_t *pid);
/* The whole file, NUL-terminated (its length in *len), or NULL (errno set, not reported). */
char *read_file(const char *path, size_t *len);
/* Print the last lines of path, each after indent; nothing if it is absent or empty. */
void print_tail(const char *path, unsigned lines, const char *indent);

#endif
