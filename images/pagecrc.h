/* pagecrc: the crc32c of each PAGECRC_CHUNK bytes of a pages file (pagemap_head.chunk_crc32c),
 * so that a reader can check the pages it uses as it uses them (a lazy restore serves a page long
 * before it could have read the whole file), and the crc32c of the whole file made from them (the
 * one the manifest and pagemap_head.pages_crc32c keep), so that every byte is summed once.
 *
 * Contract, writer side: pagecrc_add() takes the file's bytes in order, in pieces of any size;
 * pagecrc_finish() closes the last, short chunk; then v[0..n) are the chunks' sums and whole the
 * file's. Reader side: pagecrc_load() takes a head's chunk sums after checking that there is one
 * per chunk of size bytes and that together they make the file's sum (so a damaged list is
 * refused before anything is read); pagecrc_verify() sums the chunks that overlap a range and
 * were not verified yet, and refuses the first that differs, naming the file, the chunk and its
 * bytes. A head without chunk sums (an older dump) leaves nchunks 0: pagecrc_verify() then sums
 * the whole file once. Errors go to err (images/img.h); -ENOMEM or -EBADMSG. */
#ifndef CRIU_LITE_PAGECRC_H
#define CRIU_LITE_PAGECRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "images/img.h"

#define PAGECRC_SHIFT 15 /* 32 KiB chunks: 128 KiB of sums per GiB of pages */
#define PAGECRC_CHUNK (1ULL << PAGECRC_SHIFT)

struct pagecrc {
	uint32_t *v;
	size_t n, cap;
	uint32_t cur;  /* the chunk being summed */
	uint64_t fill; /* its bytes so far */
	uint32_t whole;
	uint32_t shift; /* img_crc32c_shift(PAGECRC_CHUNK) */
};

void pagecrc_init(struct pagecrc *c);
int pagecrc_add(struct pagecrc *c, const void *data, uint64_t len);
int pagecrc_finish(struct pagecrc *c);
void pagecrc_free(struct pagecrc *c);

struct pagecrc_check {
	uint32_t *v; /* NULL: no chunk sums */
	size_t n;
	uint64_t *ok; /* bit i: chunk i verified */
	uint32_t whole;
	bool all; /* every byte verified */
};

int pagecrc_load(struct pagecrc_check *k, const uint32_t *v, size_t n, uint32_t shift,
		 uint64_t size, uint32_t whole, const char *name, struct img_err *err);
int pagecrc_verify(struct pagecrc_check *k, const void *data, uint64_t size, uint64_t off,
		   uint64_t len, const char *name, struct img_err *err);
/* The chunk holding byte off is verified (or everything is). */
bool pagecrc_verified(const struct pagecrc_check *k, uint64_t off);
/* The chunk holding byte off is to be checked again when it next comes (its bytes were used
 * and not kept). */
void pagecrc_forget(struct pagecrc_check *k, uint64_t off);
/* Verify the chunks that lie wholly in buf, which holds bytes [a, a + len) of the file. */
int pagecrc_verify_buf(struct pagecrc_check *k, const void *buf, uint64_t a, uint64_t len,
		       uint64_t size, const char *name, struct img_err *err);
void pagecrc_check_free(struct pagecrc_check *k);

#endif
