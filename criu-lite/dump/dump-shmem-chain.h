/* dump-shmem-chain: shared memory objects in a pre-dump chain (docs/predump.md).
 *
 * A round that may be a chain's parent (pre-dump, dump --track-mem) writes, for each object, a
 * sum (crc64) of each page it holds (shmem-sums-<id>.img). A round against a parent finds the
 * object there (the same device, inode and kind at dump time) and copies only the pages the
 * parent does not hold or holds with another sum; the rest are PE_PARENT runs of
 * pagemap-shmem-<id>.img. Pages are compared by contents, not by write tracking: writes to a
 * shared object come through write()/fallocate(), through mappings of tasks outside the tree,
 * and through mappings that came and went between two rounds (a child forked after a round that
 * writes and exits before the next), none of which a task's page tables still show. Every page
 * of an object is read each round; only changed ones are written (or sent).
 *
 * Contract (dump-shmem.c, per object, while its pages are read in order of offset):
 * - shmem_chain_open(): before the object's pages; sc->active says whether pages go through
 *   shmem_chain_page(); sc->cmp whether a parent copy is compared against (else every page is
 *   copied). The parent's shmem.img is read once per dump (kept in sh->shmem_parent).
 * - shmem_chain_page(): page pg of the object holds data: true when the parent holds the same.
 *   Its sum is kept for this round's file.
 * - shmem_chain_scan(): the same for pages [pg, pg + n) read from the object's fd (sc->cmp
 *   only), over up to SHMEM_SCAN_THREADS threads when there are many; shmem_chain_same() then
 *   says it of each of them. Only the pages that differ need to be read again to be copied.
 * - shmem_chain_close(): ok: the sums file is written (a round that keeps them). Frees sc.
 * - shmem_chain_free_shared(): at the end of the dump. All return 0 or -errno, logged. */
#ifndef CRIU_LITE_DUMP_SHMEM_CHAIN_H
#define CRIU_LITE_DUMP_SHMEM_CHAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "shmem.pb-c.h"

struct dump_ctx;
struct dump_shared;

struct shmem_chain {
	bool active, cmp;
	bool whole; /* against a parent that lacks the object: copied whole */
	uint64_t npages;
	uint64_t *sums; /* this round's, per page (0: a hole), or NULL */
	uint64_t *same; /* bit per page: shmem_chain_scan() found the parent's sum (sc->cmp) */
	/* the parent's copy */
	uint64_t parent_npages;
	uint64_t *parent_sums;
	uint64_t *parent_held; /* bit per page */
	uint32_t parent_id;
};

int shmem_chain_open(struct dump_ctx *c, const ShmemEntry *e, struct shmem_chain *sc);
bool shmem_chain_page(struct shmem_chain *sc, uint64_t pg, const void *data);
#define SHMEM_SCAN_THREADS 4
int shmem_chain_scan(struct shmem_chain *sc, int fd, uint64_t size, uint64_t pg, uint64_t n);
bool shmem_chain_same(const struct shmem_chain *sc, uint64_t pg);
int shmem_chain_close(struct dump_ctx *c, const ShmemEntry *e, struct shmem_chain *sc, bool ok);
void shmem_chain_free_shared(struct dump_shared *sh);

#endif
