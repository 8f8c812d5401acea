/* util_fs: file helpers for the unit tests (linked into every unit binary).
 *
 * Contract: temporary directories live under /tmp and are removed with their
 * contents by utest_tmpdir_remove(); file helpers work relative to a dir path
 * and return 0 / a negative errno without printing.
 */
#ifndef CRIU_LITE_TEST_UTIL_FS_H
#define CRIU_LITE_TEST_UTIL_FS_H

#include <stdbool.h>
#include <stddef.h>

/* mkdtemp("/tmp/criu-lite-<tag>-XXXXXX"); returns a malloc'ed path or NULL. */
char *utest_tmpdir_make(const char *tag);
/* rm -rf the directory and free path (safe on NULL). */
void utest_tmpdir_remove(char *path);
/* Read dir/name whole into a malloc'ed buffer. */
int utest_read_file(const char *dir, const char *name, void **buf, size_t *len);
/* Create or replace dir/name with exactly these bytes. */
int utest_write_file(const char *dir, const char *name, const void *buf, size_t len);
bool utest_file_exists(const char *dir, const char *name);
/* Number of entries in dir (without "." and ".."), or a negative errno. */
int utest_dir_entries(const char *dir);
/* Whether the (log) file at path holds s anywhere; false if it can't be read. */
bool utest_log_has(const char *path, const char *s);

#endif
