/* files_fixture: what test_files.c (dump side) and files_restore.c (restore side) share.
 *
 * Contract: struct fx is the per-test fixture (a work dir with "reg" holding REG_TEXT, an image
 * dir, a log file at debug level, the child under test); spawn() forks a child that runs a
 * child_fn, keeps only the fds it opened and waits; the helpers fail the running cmocka test on
 * any error.
 */
#ifndef TEST_FILES_FIXTURE_H
#define TEST_FILES_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "criu-lite/dump/dump.h"
#include "files.pb-c.h"

#define PATTERN_LEN 100000 /* the deleted file's contents */
#define GONE_POS    1234
#define REG_TEXT    "hello world"
#define READY_FD    500 /* the child's end of the ready pipe while it sets up */

struct fx {
	char *dir; /* files the children open */
	char *imgpath;
	struct img_dir *img;
	char log[64];
	pid_t child;
	int variant; /* which refusal child to build */
	int ptm;     /* a pty master held by the test (-1: none) */
	char pts[64];
	struct opts o;
	struct dump_shared sh;
	struct dump_ctx dc;
};

typedef void (*child_fn)(const struct fx *f);

#define NEED_ROOT()                                                                          \
	do {                                                                                 \
		if (geteuid() != 0) {                                                        \
			print_message("skipped: needs root (ptrace, chroot, other uids)\n"); \
			skip();                                                              \
		}                                                                            \
	} while (0)

unsigned char pattern_byte(size_t i);
/* f->dir/name, malloc'ed */
char *path_in(const struct fx *f, const char *name);
bool log_has(const struct fx *f, const char *s);
void truncate_log(const struct fx *f);

/* fds 0-2 /dev/null; 3 "reg" O_RDWR|O_CLOEXEC at 5, 4 its dup, 5 "reg" O_RDONLY; 6 "gone"
 * (PATTERN_LEN bytes, deleted) at GONE_POS, 7 its dup; 8 f->dir; 9 /dev/zero O_NONBLOCK;
 * cwd f->dir, umask 027 */
void child_fds(const struct fx *f);
void spawn(struct fx *f, child_fn fn);
void kill_child(struct fx *f);

/* A fresh dump_ctx for f->child (status and VMAs parsed) */
void dump_init(struct fx *f);
/* dump_files() + dump_files_commit() */
void dump_all(struct fx *f);
size_t read_msgs(struct fx *f, enum img_kind kind, long id, ProtobufCMessage ***out);
void free_msgs(ProtobufCMessage **v, size_t n);

void test_restore_fds(void **state);
void test_restore_chroot(void **state);
void test_restore_changed(void **state);
void test_restore_tty(void **state);

#endif
