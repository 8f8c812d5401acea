/* dump-track: dirty-page tracking and the pre-dump chain inside a dump or pre-dump (track.h,
 * kinds/chain.h, docs/predump.md).
 *
 * Contract:
 * - dump_track_begin(): once every task is seized with its rsys session open, before any fd
 *   table or memory is read. With --prev-images-dir the parent set is opened and checked
 *   (chain_open_parent). Each task is tracked when this is a pre-dump, or --prev-images-dir or
 *   --track-mem was given, or an earlier round left a tracker in it (then it is disarmed here
 *   at the end, so that nothing of ours stays in the tree); the `uw` VmFlags that are our
 *   registrations are taken out of the task's VMA list (they are not the task's state). No
 *   backend, or --track naming one the kernel lacks: refused with the reason.
 * - dump_track_fd(): fd of task c is a tracker (left out of the task's fd table).
 * - dump_track_vma() before the runs of VMA i, then dump_track_split() for each run of data
 *   pages [s, e): fn(arg, start, end, in_parent) in address order; in_parent: not written since
 *   the parent round and held by the parent image at that address (the caller writes
 *   PE_PARENT), else the pages are to be copied. When dump_track_vma() says so (*scan: a last
 *   uffd-wp round, which protects nothing again), the tracker has not walked the VMA: the
 *   caller's data scan returns the written bit of each run (pagescan want_written) and
 *   dump_track_split() takes it as written (the run's written) instead of the tracker's runs.
 * - dump_track_end(ok): before the rsys sessions close. ok: the round is committed to each
 *   tracker, which stays armed (pre-dump, dump --track-mem) or is disarmed; !ok: disarmed, the
 *   tree goes on as before, untracked.
 * - dump_track_free(): after the tasks are released. */
#ifndef CRIU_LITE_DUMP_TRACK_H
#define CRIU_LITE_DUMP_TRACK_H

#include <stdbool.h>
#include <stdint.h>

struct dump_shared;
struct dump_ctx;
struct dump_tree_list;
struct InventoryEntry;

int dump_track_begin(struct dump_shared *sh, struct dump_tree_list *tl, bool pre_dump);
bool dump_track_fd(const struct dump_ctx *c, int fd);
int dump_track_vma(struct dump_ctx *c, size_t i, bool *scan);
typedef int (*dump_track_fn)(void *arg, uint64_t start, uint64_t end, bool in_parent);
int dump_track_split(struct dump_ctx *c, uint64_t s, uint64_t e, bool written, dump_track_fn fn,
		     void *arg);
int dump_track_end(struct dump_shared *sh, struct dump_tree_list *tl, bool ok);
/* What inventory.img says of the chain and the tracking. */
void dump_track_inventory(const struct dump_shared *sh, struct InventoryEntry *inv);
/* The parent set (--prev-images-dir: its pagemaps and sums are read, dump-shmem-chain.h), or
 * NULL; whether this round may itself be a parent (pre-dump, --track-mem). */
struct img_dir *dump_track_parent_dir(const struct dump_shared *sh);
bool dump_track_keeps(const struct dump_shared *sh);
/* Figures: pages left in the parent, pages copied whole because they could not be told. */
uint64_t dump_track_pages_parent(const struct dump_shared *sh);
uint64_t dump_track_pages_untracked(const struct dump_shared *sh);
void dump_track_free(struct dump_shared *sh);

#endif
