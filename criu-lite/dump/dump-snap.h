/* dump-snap: a live snapshot (dump --leave-running --snapshot; docs/snapshot.md).
 *
 * The tree is frozen only while everything but its private anonymous memory is dumped and that
 * memory is write-protected; then it runs again while criu-lite copies the memory into the
 * images. A write to a page not copied yet waits until the page is (userfaultfd write-protect in
 * synchronous mode), so the images hold the memory as it was at the freeze. The userfaultfd is
 * made in each task (rsys), taken with pidfd_getfd and closed there: criu-lite holds the only
 * copy, and its exit, however it comes, unregisters every range and lets every waiting writer
 * go on. Every page read is checked afterwards to be still present and still write-protected:
 * one the tree discarded meanwhile (munmap, MADV_DONTNEED, mremap) before it was copied fails
 * the snapshot, naming it; no snapshot holds a page that is not the freeze's.
 *
 * Contract (dump.c, dump-mm.c):
 * - dump_snap_begin(): before the tasks are dumped (every task seized, rsys sessions open);
 *   refuses what a snapshot can't do yet. c->snap of each live task set.
 * - dump_snap_vma(): the pages of VMA v are copied after the freeze (private anonymous memory:
 *   the only kind synchronous write-protection takes); dump-mm passes their data runs to
 *   dump_snap_defer() (their places kept in c's page writer) instead of reading them, and
 *   hands the writer over with dump_snap_keep() instead of committing it.
 * - dump_snap_uffd(): after every other remote call of the dump, while the rsys sessions are
 *   open: the userfaultfds made, taken and closed in the tasks.
 * - dump_snap_protect(): after the rsys sessions are closed (they write into the tasks'
 *   memory), before the tree is released: the VMAs registered, the deferred runs protected.
 * - dump_snap_copy(): once the tree runs: write faults first, the rest in address order, each
 *   page checked, until every deferred page is in its place; then the userfaultfds closed.
 * - dump_snap_commit(): the page writers committed (their pagemaps, the files summed).
 * - dump_snap_free(): what is left closed (the tree runs on unprotected), writers aborted.
 * All return 0 or -errno, logged here. */
#ifndef CRIU_LITE_DUMP_SNAP_H
#define CRIU_LITE_DUMP_SNAP_H

#include <stdbool.h>
#include <stdint.h>

struct dump_ctx;
struct dump_shared;
struct dump_tree_list;
struct page_writer;
struct vma;
struct stats;

int dump_snap_begin(struct dump_shared *sh, struct dump_tree_list *tl);
bool dump_snap_vma(const struct dump_ctx *c, const struct vma *v);
int dump_snap_defer(struct dump_ctx *c, struct page_writer *pw, uint64_t start, uint64_t end);
void dump_snap_keep(struct dump_ctx *c, struct page_writer *pw);
int dump_snap_uffd(struct dump_shared *sh, struct dump_tree_list *tl);
int dump_snap_protect(struct dump_shared *sh);
int dump_snap_copy(struct dump_shared *sh);
int dump_snap_commit(struct dump_shared *sh);
/* Figures for --stats-file. */
void dump_snap_stats(const struct dump_shared *sh, struct stats *st);
void dump_snap_free(struct dump_shared *sh);

#endif
