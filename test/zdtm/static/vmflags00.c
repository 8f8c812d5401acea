/* vmflags00: every VMA flag a program can set survives checkpoint/restore: the VmFlags of every
 * mapping of the process in /proc/self/smaps are the same before and after (see
 * test_read_vmflags()), for mappings given MADV_DONTFORK/DOFORK, DONTDUMP/DODUMP,
 * WIPEONFORK/KEEPONFORK, HUGEPAGE/NOHUGEPAGE, MERGEABLE/UNMERGEABLE, SEQUENTIAL/RANDOM/NORMAL,
 * mlock, mlock2(MLOCK_ONFAULT), MAP_LOCKED, munlock, MAP_NORESERVE, MAP_GROWSDOWN,
 * MAP_DROPPABLE and mseal (where the kernel has them), private and shared, anonymous and file,
 * read-only ones that were and were not writable once (VM_ACCOUNT: kept by a VMA that has had
 * a page, even once the page is gone), with their contents. And
 * the flags still act: a child forked after the restore lacks the MADV_DONTFORK mappings and
 * sees zeros in the MADV_WIPEONFORK ones, but keeps those advised back (DOFORK, KEEPONFORK);
 * the sealed mapping can't be unmapped or mprotect()ed (EPERM). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PG    4096u
#define NPG   4 /* pages per region */
#define SEED  0x7f1a9000u
#define FNAME "vmflags00.file"

#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08
#endif
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif
#ifndef SYS_mseal
#define SYS_mseal 462
#endif

enum fork_view { F_KEEP, F_GONE, F_ZERO }; /* what a child forked later sees */

struct region {
	const char *what;
	int mflags, prot;     /* mmap flags (MAP_ANONYMOUS implied unless file) */
	int file;	      /* a MAP_PRIVATE/MAP_SHARED mapping of FNAME */
	int advice[3];	      /* madvise() in order, 0-terminated (no MADV_NORMAL here) */
	int normal;	      /* then MADV_NORMAL */
	int lock;	      /* 1 mlock, 2 mlock2(MLOCK_ONFAULT), 3 mlock + munlock */
	int final_prot;	      /* then mprotect() to this (0: leave; never PROT_NONE here) */
	int seal;	      /* then mseal() */
	enum fork_view child; /* in a child forked after the restore */
	int untouched;	      /* never written */
	int dropped;	      /* written, then MADV_DONTNEED: no page left, zeros */
	int poke;	      /* written through /proc/self/mem as a debugger does */
	unsigned char *p;     /* NULL: the kernel lacks it, left out */
};

#define ANON_P (MAP_PRIVATE | MAP_ANONYMOUS)
#define RW     (PROT_READ | PROT_WRITE)

#define A(...) .advice = { __VA_ARGS__ }
#define R(w, f, pr, ...)                                        \
	{                                                       \
		.what = w, .mflags = f, .prot = pr, __VA_ARGS__ \
	}

static struct region regions[] = {
	R("dontfork", ANON_P, RW, A(MADV_DONTFORK), .child = F_GONE),
	R("dontfork+dofork", ANON_P, RW, A(MADV_DONTFORK, MADV_DOFORK)),
	R("dontdump", ANON_P, RW, A(MADV_DONTDUMP)),
	R("dontdump+dodump", ANON_P, RW, A(MADV_DONTDUMP, MADV_DODUMP)),
	R("wipeonfork", ANON_P, RW, A(MADV_WIPEONFORK), .child = F_ZERO),
	R("wipeonfork+keeponfork", ANON_P, RW, A(MADV_WIPEONFORK, MADV_KEEPONFORK)),
	R("hugepage", ANON_P, RW, A(MADV_HUGEPAGE)),
	R("nohugepage", ANON_P, RW, A(MADV_NOHUGEPAGE)),
	R("mergeable", ANON_P, RW, A(MADV_MERGEABLE)),
	R("mergeable+unmergeable", ANON_P, RW, A(MADV_MERGEABLE, MADV_UNMERGEABLE)),
	R("sequential", ANON_P, RW, A(MADV_SEQUENTIAL)),
	R("random", ANON_P, RW, A(MADV_RANDOM)),
	R("random+normal", ANON_P, RW, A(MADV_RANDOM), .normal = 1),
	R("mlock", ANON_P, RW, .lock = 1),
	R("mlock2 onfault", ANON_P, RW, .lock = 2),
	R("MAP_LOCKED", ANON_P | MAP_LOCKED, RW),
	R("mlock+munlock", ANON_P, RW, .lock = 3),
	R("mlock, read-only", ANON_P, RW, .lock = 1, .final_prot = PROT_READ),
	R("MAP_NORESERVE", ANON_P | MAP_NORESERVE, RW),
	R("MAP_GROWSDOWN", ANON_P | MAP_GROWSDOWN, RW),
	R("MAP_DROPPABLE", MAP_DROPPABLE | MAP_ANONYMOUS, RW, .child = F_ZERO),
	R("sealed", ANON_P, RW, A(MADV_DONTDUMP), .final_prot = PROT_READ, .seal = 1),
	R("written, then read-only", ANON_P, RW, .final_prot = PROT_READ),
	R("writable, untouched, then read-only", ANON_P, RW, .final_prot = PROT_READ,
	  .untouched = 1),
	R("read-only, never writable", ANON_P, PROT_READ),
	R("written, emptied, then read-only", ANON_P, RW, .final_prot = PROT_READ, .dropped = 1),
	R("all at once", ANON_P, RW, A(MADV_DONTFORK, MADV_DONTDUMP, MADV_HUGEPAGE), .lock = 1,
	  .final_prot = PROT_READ, .child = F_GONE),
	R("shared anon dontfork", MAP_SHARED | MAP_ANONYMOUS, RW, A(MADV_DONTFORK, MADV_RANDOM),
	  .child = F_GONE),
	R("shared anon noreserve", MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, RW, A(MADV_DONTDUMP),
	  .lock = 2),
	R("private file sequential", MAP_PRIVATE, RW, A(MADV_SEQUENTIAL, MADV_DONTFORK), .file = 1,
	  .final_prot = PROT_READ, .child = F_GONE),
	R("private file read-only", MAP_PRIVATE, PROT_READ, A(MADV_RANDOM), .file = 1, .lock = 1),
	R("private file read-only, written by a debugger", MAP_PRIVATE, PROT_READ | PROT_EXEC,
	  .file = 1, .poke = 1),
	R("shared file", MAP_SHARED, RW, A(MADV_DONTDUMP, MADV_RANDOM), .file = 1, .lock = 1),
};

#define NREG ((int)(sizeof(regions) / sizeof(regions[0])))

static uint64_t seed_of(int i)
{
	return SEED + (uint64_t)i;
}

/* Copy-on-write pages in a mapping that was never writable, as a debugger's breakpoints make
 * them (the kernel does not count the VMA as writable memory: no VmFlags ac). */
static int poke(void *p, size_t len, uint64_t seed)
{
	unsigned char buf[NPG * PG];
	int fd = open("/proc/self/mem", O_RDWR);
	ssize_t n;

	if (fd < 0)
		return -1;
	test_fill_pattern(buf, len, seed);
	n = pwrite(fd, buf, len, (off_t)(uintptr_t)p);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

/* The setup of region i in its slot; 1 when this kernel lacks what it needs (left out), -1 on
 * failure. Each slot of the PROT_NONE reservation has a gap page on either side, so no region
 * merges with another VMA and each one's flags are its own (VM_ACCOUNT on a read-only VMA,
 * for one, depends on whether that VMA has had pages). */
static int setup_region(int i, int fd, unsigned char *slot)
{
	struct region *r = &regions[i];
	size_t len = NPG * PG;
	int flags = (r->file ? r->mflags : r->mflags | MAP_ANONYMOUS) | MAP_FIXED;
	unsigned char *p;

	p = mmap(slot, len, r->prot, flags, r->file ? fd : -1, r->file ? (off_t)i * len : 0);
	if (p == MAP_FAILED) {
		if (errno == EINVAL && (r->mflags & MAP_DROPPABLE)) {
			test_msg("%s: this kernel has no MAP_DROPPABLE: left out", r->what);
			return 1;
		}
		fail_errno("%s: mmap", r->what);
		return -1;
	}
	if ((r->prot & PROT_WRITE) && !r->untouched)
		test_fill_pattern(p, len, seed_of(i));
	if (r->poke && poke(p, len, seed_of(i))) {
		fail_errno("%s: write through /proc/self/mem", r->what);
		return -1;
	}
	for (int k = 0; k < 3 && r->advice[k]; k++)
		if (madvise(p, len, r->advice[k])) {
			fail_errno("%s: madvise(%d)", r->what, r->advice[k]);
			return -1;
		}
	if (r->normal && madvise(p, len, MADV_NORMAL)) {
		fail_errno("%s: madvise(MADV_NORMAL)", r->what);
		return -1;
	}
	if ((r->lock == 1 || r->lock == 3) && mlock(p, len)) {
		fail_errno("%s: mlock", r->what);
		return -1;
	}
	if (r->lock == 2) {
		if (syscall(SYS_mlock2, p, len, MLOCK_ONFAULT)) {
			fail_errno("%s: mlock2(MLOCK_ONFAULT)", r->what);
			return -1;
		}
	}
	if (r->lock == 3 && munlock(p, len)) {
		fail_errno("%s: munlock", r->what);
		return -1;
	}
	if (r->dropped && madvise(p, len, MADV_DONTNEED)) {
		fail_errno("%s: madvise(MADV_DONTNEED)", r->what);
		return -1;
	}
	if (r->final_prot && mprotect(p, len, r->final_prot)) {
		fail_errno("%s: mprotect", r->what);
		return -1;
	}
	r->p = p;
	if (r->seal && syscall(SYS_mseal, p, len, 0)) {
		if (errno == ENOSYS) {
			test_msg("%s: this kernel has no mseal(): left unsealed", r->what);
			r->seal = 0;
			return 0;
		}
		fail_errno("%s: mseal", r->what);
		return -1;
	}
	return 0;
}

static int check_contents(void)
{
	int ret = 0;

	for (int i = 0; i < NREG; i++) {
		const struct region *r = &regions[i];
		ssize_t bad;

		if (!r->p || (!(r->prot & PROT_WRITE) && !r->poke) || r->untouched ||
		    (r->mflags & MAP_DROPPABLE))
			continue; /* droppable pages may go at any time */
		if (r->dropped) {
			for (size_t k = 0; k < NPG * PG; k++)
				if (r->p[k]) {
					fail("%s: byte %zu is %#x after restore, expected 0",
					     r->what, k, r->p[k]);
					ret = -1;
					break;
				}
			continue;
		}
		bad = test_check_pattern(r->p, NPG * PG, seed_of(i));
		if (bad >= 0) {
			fail("%s: byte %zd of the mapping at %p is wrong after restore", r->what,
			     bad, (void *)r->p);
			ret = -1;
		}
	}
	return ret;
}

/* In a child forked after the restore: each region as its advice says. */
static void fork_view(void *arg, char *msg, size_t len)
{
	unsigned char vec[NPG];

	(void)arg;
	for (int i = 0; i < NREG; i++) {
		const struct region *r = &regions[i];
		int mapped = !mincore(r->p, NPG * PG, vec);
		ssize_t bad;

		if (!r->p)
			continue;
		if (r->child == F_GONE) {
			if (mapped || errno != ENOMEM) {
				snprintf(msg, len, "%s (MADV_DONTFORK): mapped in the child at %p",
					 r->what, (void *)r->p);
				return;
			}
			continue;
		}
		if (!mapped) {
			snprintf(msg, len, "%s: not mapped in the child at %p: %s", r->what,
				 (void *)r->p, strerror(errno));
			return;
		}
		if (!(r->prot & PROT_READ) || (r->final_prot && !(r->final_prot & PROT_READ)))
			continue;
		if (r->child == F_ZERO) {
			for (size_t k = 0; k < NPG * PG; k++)
				if (r->p[k]) {
					snprintf(msg, len,
						 "%s (wipe on fork): byte %zu is %#x in the child, "
						 "expected 0",
						 r->what, k, r->p[k]);
					return;
				}
			continue;
		}
		if ((!(r->prot & PROT_WRITE) && !r->poke) || r->untouched || r->dropped)
			continue;
		bad = test_check_pattern(r->p, NPG * PG, seed_of(i));
		if (bad >= 0) {
			snprintf(msg, len, "%s: byte %zd is wrong in the child", r->what, bad);
			return;
		}
	}
}

static int check_sealed(void)
{
	for (int i = 0; i < NREG; i++) {
		const struct region *r = &regions[i];

		if (!r->p || !r->seal)
			continue;
		errno = 0;
		if (!mprotect(r->p, PG, PROT_READ | PROT_WRITE) || errno != EPERM) {
			fail("%s: mprotect of the sealed mapping at %p: %s, expected EPERM",
			     r->what, (void *)r->p, errno ? strerror(errno) : "succeeded");
			return -1;
		}
		errno = 0;
		if (!munmap(r->p, PG) || errno != EPERM) {
			fail("%s: munmap of the sealed mapping at %p: %s, expected EPERM", r->what,
			     (void *)r->p, errno ? strerror(errno) : "succeeded");
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	char *before, *after;
	unsigned char *resv;
	size_t len;
	int fd, ret = 0;

	if (test_init(argc, argv))
		return 1;
	test_heap_steady(); /* the heap is one of the VMAs compared */
	fd = open(FNAME, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)NREG * NPG * PG)) {
		fail_errno("create %s", FNAME);
		return 1;
	}
	resv = mmap(NULL, (size_t)NREG * (NPG + 1) * PG + PG, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (resv == MAP_FAILED) {
		fail_errno("reserve the address space");
		return 1;
	}
	for (int i = 0; i < NREG; i++)
		if (setup_region(i, fd, resv + PG + (size_t)i * (NPG + 1) * PG) < 0)
			return 1;
	close(fd);
	before = test_read_vmflags(&len);
	if (!before) {
		fail_errno("read /proc/self/smaps");
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	after = test_read_vmflags(&len);
	if (!after) {
		fail_errno("read /proc/self/smaps after restore");
		return 1;
	}
	if (test_maps_same("VmFlags", before, after))
		ret = -1;
	if (check_contents())
		ret = -1;
	if (test_in_helper("a child forked after restore", fork_view, NULL))
		ret = -1;
	if (check_sealed())
		ret = -1;
	unlink(FNAME);
	if (!ret)
		pass();
	return 0;
}
