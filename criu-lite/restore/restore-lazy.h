/* restore-lazy: `restore --lazy-pages` (docs/lazy.md): the tree starts before its private
 * anonymous memory and its shared memory objects are in, and `criu-lite lazy-pages`
 * (listening on the images directory) copies them in on faults and in the background.
 *
 * Contract:
 * - restore_lazy_connect() (before the images are read): connects to the server and waits
 *   until it takes this restore (LAZY_READY). When it says its pages come from a page server
 *   (lazy-pages --page-server), the directory need not hold the pages files: restore_lazy_remote()
 *   is then true, and restore_lazy_pages_open() gives readers of the pagemaps alone whose pages
 *   (the ones restore fills itself) are asked for on a channel of their own (LAZY_FETCH) and
 *   checked chunk by chunk like any. Without it, restore_lazy_pages_open() opens the pages
 *   files, checked as they are used (lazily) or whole (eagerly).
 * - restore_lazy_start() (before any task exists): forks the
 *   guardian (lazy-guardian.h), which from then on holds a copy of every uffd and kills the
 *   restore, or later the tree, if the server dies, gives up or goes silent: a task never
 *   runs on a zero page where its memory should be.
 * - restore_lazy_plan() (every task's mm prepared): which VMAs are lazy (t->lazy[i]): private
 *   anonymous, writable at some time, not locked, not droppable, without guard regions, not
 *   shared copy-on-write with a parent or child (restore-cow.c: those are the parent's pages
 *   when the child forks), with pages in the image. Each thread's stack top (LAZY_STACK_PAGES
 *   below and above its sp) is filled eagerly: the tasks resume on it. Which shared memory
 *   objects are lazy (c->shmem_lazy[i]): those only mappings reach (no memfd a task holds
 *   open), all of them shared, none locked or guarded or holding a stack top, not sealed
 *   against writes, on a kernel with MINOR faults on shmem; a VMA mapping one is lazy too.
 * - restore_lazy_shmem() (restore_shmem_fill(), the object's placeholders made): hands the
 *   object's fd to the server (LAZY_SHMEM).
 * - restore_lazy_skip(): the ranges pagefill leaves out (lazy VMAs minus the stack tops).
 * - restore_lazy_register() (restore_mm, after pagefill, before the final protections): a
 *   userfaultfd made in the task (privileged: the kernel's own accesses to lazy pages fault
 *   too), taken out with pidfd_getfd and closed there, UFFDIO_API with the FORK, REMAP,
 *   REMOVE and UNMAP events (and MINOR_SHMEM), every lazy VMA registered MISSING, and MINOR
 *   too where it maps a shared object (with the object and offset); the uffd goes to the server
 *   (LAZY_TASK) and to the guardian.
 * - restore_lazy_finish(): after the tree runs (ok) the guardian gets the pids and the server
 *   LAZY_END; after a failure the guardian is told to go. Either way the restorer's ends of
 *   both connections are closed.
 * Each returns 0 or -errno, logged once. Nothing happens without --lazy-pages. */
#ifndef CRIU_LITE_RESTORE_LAZY_H
#define CRIU_LITE_RESTORE_LAZY_H

#include "criu-lite/restore/pagefill.h"
#include "criu-lite/restore/restore.h"

#define LAZY_STACK_PAGES 4

int restore_lazy_connect(struct restore_ctx *c);
bool restore_lazy_remote(const struct restore_ctx *c);
int restore_lazy_pages_open(struct restore_ctx *c, enum img_kind kind, long id,
			    struct page_reader **out);
int restore_lazy_start(struct restore_ctx *c);
int restore_lazy_plan(struct restore_ctx *c);
int restore_lazy_shmem(struct restore_ctx *c, const ShmemEntry *e, int fd);
/* The ranges of t that pagefill skips; free(skip->range) after. */
int restore_lazy_skip(const struct restore_task *t, struct pagefill_direct *skip);
int restore_lazy_register(struct restore_ctx *c, struct restore_task *t);
void restore_lazy_finish(struct restore_ctx *c, bool ok);

#endif
