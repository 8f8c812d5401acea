/* dump-cow: the private pages a task shares copy-on-write with other tasks, found from pagemap
 * (as root it shows PFNs), for two reasons:
 *  - a page the task shares with its parent in the tree (a forked worker that has not written
 *    it) is marked so, and restore shares it again instead of making a copy per task;
 *  - a page that is shared at all (PM_MMAP_EXCLUSIVE clear) must not be read with
 *    process_vm_readv: that pins it (FOLL_PIN), and pinning a possibly shared anonymous page
 *    makes the kernel unshare it first, giving the task a copy of its own (measured on this
 *    6.18 kernel). A dump would then change the tree it leaves running (every forked worker's
 *    memory doubled) and hide the sharing from the dump of its children. Such pages are read
 *    through /proc/PID/mem, which does not pin.
 *
 * Contract: cow_open() prepares for task c: its /proc/PID/pagemap, and its parent's when the
 * parent is a live task of the dump. cow_vma_ok() says whether VMA
 * v of c may hold shared pages: the parent has a VMA with the same bounds, protection, kind,
 * VmFlags and advice (so the child's inherits it whole at restore), private and anonymous,
 * and not VM_DONTCOPY or VM_WIPEONFORK (those are not inherited as they are). cow_split()
 * cuts a run of present or swapped pages of c into pieces, in address order, through cb:
 * COW_PARENT (with_parent, for a VMA cow_vma_ok() accepted: the same PFN or swap entry as the
 * parent's at that address, one physical page), COW_SHARED (mapped by more than one task, or
 * swapped: read it through /proc/PID/mem) and COW_OWN (exclusive: process_vm_readv). Nothing is
 * ever marked shared that is not the parent's page at the same address at this moment: both
 * tasks are frozen. A parent's page that only looks alike (a separate copy) stays the child's
 * own. Sharing with a grandparent that the parent no longer has is not seen (restored as a
 * copy; docs/design.md). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define LOG_PREFIX "mm: "
#include "criu-lite/dump/dump-cow.h"
#include "criu-lite/kcompat.h"
#include "criu-lite/log.h"

#define PG	4096ULL
#define CHUNK	4096	    /* pagemap entries per read */
#define VMF_KEY (~(VMF_AC)) /* every VmFlags bit but accounting must match */

static int open_pagemap(pid_t pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		pr_perror("can't open %s", path);
	return fd;
}

int cow_open(struct dump_ctx *c, struct cow *cw)
{
	*cw = (struct cow){ .child_fd = -1, .parent_fd = -1 };
	cw->child_fd = open_pagemap(c->pid);
	if (cw->child_fd < 0)
		return -errno;
	if (c->parent && !c->parent->zombie) {
		cw->parent = c->parent;
		cw->parent_fd = open_pagemap(c->parent->pid);
		if (cw->parent_fd < 0) {
			cow_close(cw);
			return -errno;
		}
	}
	cw->buf = malloc(2 * CHUNK * sizeof(uint64_t));
	if (!cw->buf) {
		cow_close(cw);
		return -ENOMEM;
	}
	return 0;
}

void cow_close(struct cow *cw)
{
	if (cw->child_fd >= 0)
		close(cw->child_fd);
	if (cw->parent_fd >= 0)
		close(cw->parent_fd);
	free(cw->buf);
	*cw = (struct cow){ .child_fd = -1, .parent_fd = -1 };
}

bool cow_vma_ok(const struct cow *cw, const struct vma *v)
{
	const struct vma_list *pl;

	if (!cw->parent || v->shared ||
	    (v->kind != VMA_ANON && v->kind != VMA_ANON_NAMED && v->kind != VMA_HEAP &&
	     v->kind != VMA_STACK))
		return false;
	if (v->flags & (VMF_DC | VMF_WF))
		return false;
	pl = &cw->parent->vmas;
	for (size_t i = 0; i < pl->n; i++) {
		const struct vma *pv = &pl->v[i];

		if (pv->start < v->start)
			continue;
		return pv->start == v->start && pv->end == v->end && pv->prot == v->prot &&
		       pv->kind == v->kind && !pv->shared &&
		       (pv->flags & VMF_KEY) == (v->flags & VMF_KEY);
	}
	return false;
}

/* One physical page mapped by both at this address: the same PFN, or the same swap entry. */
static bool same_page(uint64_t a, uint64_t b)
{
	if ((a & PM_PRESENT) && (b & PM_PRESENT))
		return (a & PM_PFRAME_MASK) && (a & PM_PFRAME_MASK) == (b & PM_PFRAME_MASK);
	if ((a & PM_SWAP) && (b & PM_SWAP) && PM_SWAP_TYPE(a) != PM_SWAP_TYPE_MARKER)
		return (a & PM_PFRAME_MASK) == (b & PM_PFRAME_MASK);
	return false;
}

/* How page entry e of the task (and pe of its parent, when with_parent) is to be dumped. */
static enum cow_class classify_page(uint64_t e, uint64_t pe, bool with_parent)
{
	if (with_parent && same_page(e, pe))
		return COW_PARENT;
	if ((e & PM_PRESENT) && (e & PM_MMAP_EXCLUSIVE))
		return COW_OWN;
	return COW_SHARED;
}

int cow_split(struct cow *cw, pid_t pid, uint64_t start, uint64_t end, bool with_parent, cow_cb cb,
	      void *arg)
{
	uint64_t run = start;
	enum cow_class run_cls = COW_OWN;

	with_parent = with_parent && cw->parent_fd >= 0;
	while (start < end) {
		size_t n = (end - start) / PG > CHUNK ? CHUNK : (size_t)((end - start) / PG);
		uint64_t *ce = cw->buf, *pe = cw->buf + CHUNK;
		off_t off = (off_t)(start / PG * 8);
		ssize_t got = pread(cw->child_fd, ce, n * 8, off);

		if (got == (ssize_t)(n * 8) && with_parent)
			got = pread(cw->parent_fd, pe, n * 8, off);
		if (got != (ssize_t)(n * 8)) {
			pr_perror("pid %d: can't read the pagemaps of it and its parent at %#llx",
				  pid, (unsigned long long)start);
			return got < 0 ? -errno : -EIO;
		}
		for (size_t i = 0; i < n; i++, start += PG) {
			enum cow_class cls =
			    classify_page(ce[i], with_parent ? pe[i] : 0, with_parent);
			int ret;

			if (cls == run_cls || start == run) {
				run_cls = cls;
				continue;
			}
			if ((ret = cb(arg, run, start, run_cls)))
				return ret;
			run = start;
			run_cls = cls;
		}
	}
	return run < end ? cb(arg, run, end, run_cls) : 0;
}
