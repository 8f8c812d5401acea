/* zdtmtst: the API of a zdtm test program (see test/zdtm/README.md).
 *
 * Contract: a test calls test_init() first (it parses --pidfile=F --outfile=F,
 * and with a pidfile daemonizes: the process that ran the test exits 0 once the
 * daemon calls test_daemon(), or 1 if the daemon dies or fails before that),
 * sets up its state, calls test_daemon() (writes the pidfile: "ready"), then
 * test_waitsig() (returns once SIGTERM arrived; the runner sends it after the
 * checkpoint/restore), checks its state and reports exactly one verdict with
 * pass(), fail() or skip(). Verdicts and messages are single lines in the
 * outfile: "PASS", "FAIL: <why>", "SKIP: <why>", or free text (test_msg).
 * Without --pidfile the test runs in the foreground and writes to stderr
 * (for debugging by hand). Arguments after "--" are left to the test.
 * SIGTERM stays blocked outside test_waitsig(), so threads created after
 * test_init() never take it; test_go() polls for it instead. */
#ifndef ZDTM_ZDTMTST_H
#define ZDTM_ZDTMTST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* 0 in the test (daemon); <0 (-errno) after reporting why. Never returns in
 * the starter process, which exits with the daemon's setup result. */
int test_init(int argc, char **argv);
/* Setup done: write the pidfile and release the starter. 0 or -errno (reported). */
int test_daemon(void);
/* Block until SIGTERM arrived (at once if it already has). */
void test_waitsig(void);
/* true until SIGTERM arrived: for tests that keep working until told to stop. */
bool test_go(void);

/* Verdicts. pass() is ignored after a fail() (the failure stands). */
void pass(void);
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* fail() with ": <strerror> (errno N)" of the current errno appended. */
void fail_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Free-form log lines; test_perror appends the errno like fail_errno. */
void test_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void test_perror(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The whole file (NUL-terminated after *len bytes; malloc'd), or NULL with
 * errno set. For /proc files, which stat() calls empty. */
char *test_read_file(const char *path, size_t *len);

/* /proc/self/maps, one line per mapping as "start-end perms offset dev inode
 * path", with neighbours the kernel could equally show as one VMA merged and
 * the inode only of files that still have a name (see lib/maps.c): what a
 * faithful restore reproduces. malloc'd, NULL with errno set. */
char *test_read_maps(size_t *len);
/* 0 if two test_read_maps() texts are equal; else fail()s naming each
 * mapping found in only one of them (the first few) and returns -1. */
int test_maps_same(const char *what, const char *before, const char *after);

/* Memory helpers. The pattern depends on the seed and on each byte's offset,
 * so a region moved, truncated or mixed with another is detected. */
void test_fill_pattern(void *buf, size_t len, uint64_t seed);
/* -1 if buf holds the pattern, else the offset of the first wrong byte. */
ssize_t test_check_pattern(const void *buf, size_t len, uint64_t seed);
/* CRC-32C (Castagnoli), as iSCSI/ext4 use it: "123456789" -> 0xe3069283. */
uint32_t test_crc32c(const void *buf, size_t len);

#endif
