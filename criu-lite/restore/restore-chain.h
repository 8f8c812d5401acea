/* restore-chain: the pages a dump left in the parent images of its pre-dump chain
 * (PE_PARENT runs; kinds/chain.h, docs/predump.md).
 *
 * Contract:
 * - restore_chain_open(): after inventory.img and the manifest are checked; with a parent_dir,
 *   every level of the chain is opened and checked (a complete pre-dump set, the dump id the
 *   child names, the same root pid; at most CHAIN_MAX_DEPTH levels), else nothing.
 * - restore_chain_task(): at read time, before anything is created: for each level, the task's
 *   pagemap there, its pages file summed and compared with that level's manifest, and every
 *   page the level above leaves to it held (present, or again left to its own parent). A
 *   broken chain is refused naming the directory and the address.
 * - restore_chain_fill(): in restore_mm, where pagefill() runs: copies those pages in, from
 *   each level (direct: as pagefill's).
 * - restore_chain_shmem(): the same for object i of shmem.img, after restore_shmem_read(): at
 *   each level the object of the same device, inode and kind at dump time (each round compared
 *   its pages by contents: dump-shmem-chain.h). restore_chain_shmem_any(): it has such pages.
 * - restore_chain_shmem_fill(): put(arg, offset, data, len) for each run of them, read from each
 *   level's pages file in pieces and checked as they are read (before any task exists).
 * - restore_chain_task_free(), restore_chain_close() (the objects' parts too). */
#ifndef CRIU_LITE_RESTORE_CHAIN_H
#define CRIU_LITE_RESTORE_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "criu-lite/restore/pagefill.h"

struct restore_ctx;
struct restore_task;

int restore_chain_open(struct restore_ctx *c);
int restore_chain_task(struct restore_ctx *c, struct restore_task *t);
int restore_chain_fill(struct restore_ctx *c, struct restore_task *t,
		       const struct pagefill_direct *direct);
int restore_chain_shmem(struct restore_ctx *c, size_t i);
bool restore_chain_shmem_any(const struct restore_ctx *c, size_t i);
typedef int (*chain_put_fn)(void *arg, uint64_t off, const void *data, uint64_t len);
int restore_chain_shmem_fill(struct restore_ctx *c, size_t i, chain_put_fn put, void *arg);
void restore_chain_task_free(struct restore_task *t);
void restore_chain_close(struct restore_ctx *c);

#endif
