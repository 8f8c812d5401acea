/* lazy-mm: which pages of one lazily restored address space are still to be copied in.
 *
 * Contract: a lazy_mm is a sorted list of disjoint spans [start, end), each with the image
 * address its first page came from (src: a span moved by mremap keeps its source) and a bitmap
 * of the pages still pending, i.e. with contents in the image that are not in the task yet.
 * A shared span maps a shared memory object instead (src: the object offset); the object keeps
 * what is pending there, so its bitmap stays empty, but it is cut, moved and cloned alike.
 * Pages outside every span, and pages of a span whose bit is clear, are not ours to fill: a
 * fault there gets a zero page (fresh memory, a page the task dropped with MADV_DONTNEED) or
 * a wake-up (a page that arrived meanwhile). The operations follow the userfaultfd events:
 * clear (a copy, or REMOVE), cut (UNMAP, and the source of REMAP), move (REMAP), clone (FORK).
 * All return 0 or -ENOMEM; nothing here touches a task. */
#ifndef CRIU_LITE_LAZY_MM_H
#define CRIU_LITE_LAZY_MM_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#define LAZY_PG 4096ULL

struct lazy_span {
	uint64_t start, end, src;
	/* a mapping of shared object obj (lazy-shm.h): src is the object offset of start, and
	 * no page is ever pending here (the object keeps its own) */
	bool shared;
	uint32_t obj;
	uint64_t *pending; /* bit i: page start + i * LAZY_PG */
	uint64_t left;	   /* bits set */
};

struct lazy_mm {
	struct lazy_span *v;
	size_t n, cap;
	uint64_t left; /* over all spans */
};

/* A span, none of it pending yet (start < end, page aligned, not overlapping another). */
int lazy_mm_add(struct lazy_mm *m, uint64_t start, uint64_t end);
/* A span mapping shared object obj from byte offset off (nothing pending in it, ever). */
int lazy_mm_add_shared(struct lazy_mm *m, uint64_t start, uint64_t end, uint32_t obj, uint64_t off);
/* Mark [start, end) pending where it lies in a span of private memory. */
void lazy_mm_set(struct lazy_mm *m, uint64_t start, uint64_t end);
/* Clear [start, end) (copied in, or dropped by the task); returns how many were pending. */
uint64_t lazy_mm_clear(struct lazy_mm *m, uint64_t start, uint64_t end);
bool lazy_mm_pending(const struct lazy_mm *m, uint64_t addr);
/* The span holding addr, or NULL. */
const struct lazy_span *lazy_mm_find(const struct lazy_mm *m, uint64_t addr);
/* Forget [start, end): the spans there are cut out (split where it ends inside one). */
int lazy_mm_cut(struct lazy_mm *m, uint64_t start, uint64_t end);
/* mremap: what was at [from, from + len) is now at [to, to + len), still from its sources. */
int lazy_mm_move(struct lazy_mm *m, uint64_t from, uint64_t to, uint64_t len);
int lazy_mm_clone(struct lazy_mm *dst, const struct lazy_mm *src);
/* The first pending run at or after addr (wrapping around once), at most max pages long and
 * inside one span: its start in *at and length in pages; 0 when nothing is pending. */
uint64_t lazy_mm_next(const struct lazy_mm *m, uint64_t addr, uint64_t max, uint64_t *at);
/* The pending pages of [start, end) that are contiguous from start (0 if start is not). */
uint64_t lazy_mm_run_at(const struct lazy_mm *m, uint64_t start, uint64_t end);
void lazy_mm_free(struct lazy_mm *m);

#endif
