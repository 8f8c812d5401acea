/* imgprint: a fingerprint of an image directory, to prove that a restore
 * left the images as they were: the list of entries and, for each one, its
 * name, type and mode, size, inode, mtime and the crc32c of its bytes (so a
 * file rewritten in place or replaced by a rename is seen even with the same
 * bytes).
 *
 * Contract: img_print_take() and img_print_cmp() return 0, or -1 with the
 * reason written into why (one line naming the directory or the file);
 * nothing is printed. Entries are sorted by name. */
#ifndef ZDTM_IMGPRINT_H
#define ZDTM_IMGPRINT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct img_file_print {
	char *name;
	mode_t mode; /* type and permissions */
	off_t size;
	ino_t ino;
	struct timespec mtime;
	uint32_t crc; /* crc32c of the bytes of a regular file, 0 for anything else */
};

struct img_print {
	struct img_file_print *files;
	size_t n;
};

int img_print_take(const char *dir, struct img_print *p, char *why, size_t len);
/* 0 when now is was; else why names the differences (first few). */
int img_print_cmp(const struct img_print *was, const struct img_print *now, char *why, size_t len);
void img_print_free(struct img_print *p);

#endif
