/* working-set: the order in which the tasks of a lazy restore faulted their pages in, kept in
 * the image directory so that the next lazy restore of the same images prefetches those pages
 * before any other.
 *
 * Contract: the file is LAZY_WS_FILE ("working-set.lazy": a hint next to the images, not one
 * of them: the manifest does not list it, and a dump with --overwrite removes it with the rest).
 * It holds a header {magic, version, count, crc32c of the entries} and count entries {image
 * id, image address}, at most LAZY_WS_MAX, in fault order, each page once. lazy_ws_load()
 * returns 0 with an empty set when there is no file, and refuses one whose size, magic,
 * version, count or crc is wrong (-EBADMSG, logged as a warning by the caller: only a hint is
 * lost). lazy_ws_save() writes a temporary file and renames it. lazy_ws_add() appends (no-op
 * once full); lazy_ws_for() gives the entries of one image id, in order (an array the set
 * keeps). */
#ifndef CRIU_LITE_WORKING_SET_H
#define CRIU_LITE_WORKING_SET_H

#include <stddef.h>
#include <stdint.h>

#define LAZY_WS_FILE "working-set.lazy"
#define LAZY_WS_MAX  (1U << 22)

struct lazy_ws_entry {
	uint32_t id, pad;
	uint64_t addr;
};

struct lazy_ws {
	struct lazy_ws_entry *v;
	size_t n, cap;
};

int lazy_ws_load(int dirfd, struct lazy_ws *ws);
int lazy_ws_save(int dirfd, const struct lazy_ws *ws);
int lazy_ws_add(struct lazy_ws *ws, uint32_t id, uint64_t addr);
/* The addresses of image id, in order: a new array in *out (free it), their number. */
size_t lazy_ws_for(const struct lazy_ws *ws, uint32_t id, uint64_t **out);
void lazy_ws_free(struct lazy_ws *ws);

#endif
