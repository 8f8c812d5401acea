/* guard00: guard regions (madvise MADV_GUARD_INSTALL) survive checkpoint/restore, in private
 * and shared anonymous memory, a memfd mapped shared and privately, a read-only VMA and one
 * locked after its guards went in: after the restore, pagemap shows the guard bit (58) on
 * exactly the guard pages, a read of and a write into every guard page fault (SIGSEGV with
 * the page's address) while every other page holds its data and takes writes, a VMA whose
 * guards were all removed again keeps its VmFlags `gu`, and the VmFlags of every mapping of the
 * process are the same as before (test_read_vmflags(); each region sits between PROT_NONE gap
 * pages: see setup_region()). Skips on a kernel without guard
 * regions (< 6.13) or that can't show them in pagemap (< 6.15). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#define MADV_GUARD_REMOVE  103
#endif

#define PG		4096u
#define NPG		8
#define SEED		0x9a4d0000u
#define PM_GUARD_REGION (1ULL << 58)

struct region {
	const char *what;
	int flags; /* MAP_SHARED or MAP_PRIVATE, with MAP_ANONYMOUS unless memfd */
	int memfd;
	unsigned guards;  /* bit i: page i is a guard */
	unsigned removed; /* bit i: page i was a guard, removed again */
	int final_prot;	  /* 0: stays read-write */
	int lock;	  /* mlock() once the guards are in */
	unsigned char *p;
};

#define ANON(f) ((f) | MAP_ANONYMOUS)

static struct region regions[] = {
	{ "private anon", ANON(MAP_PRIVATE), 0, 0x62, 0, 0, 0, NULL },
	{ "private anon, all guards removed", ANON(MAP_PRIVATE), 0, 0, 0x0c, 0, 0, NULL },
	{ "private anon, some removed", ANON(MAP_PRIVATE), 0, 0x81, 0x18, 0, 0, NULL },
	{ "shared anon", ANON(MAP_SHARED), 0, 0x04, 0, 0, 0, NULL },
	{ "memfd shared", MAP_SHARED, 1, 0x11, 0, 0, 0, NULL },
	{ "memfd private", MAP_PRIVATE, 1, 0x06, 0, 0, 0, NULL },
	{ "read-only private anon", ANON(MAP_PRIVATE), 0, 0x08, 0, PROT_READ, 0, NULL },
	{ "locked after its guards", ANON(MAP_PRIVATE), 0, 0x20, 0, 0, 1, NULL },
};

#define NREG ((int)(sizeof(regions) / sizeof(regions[0])))

static sigjmp_buf jb;
static void *volatile fault_addr;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	fault_addr = si->si_addr;
	siglongjmp(jb, 1);
}

static uint64_t seed_of(int r, int pg)
{
	return SEED + (uint64_t)r * 64 + (uint64_t)pg;
}

/* 1 when the access faulted at addr, 0 when it went through, -1 on a fault elsewhere */
static int faults(volatile unsigned char *addr, int write)
{
	fault_addr = NULL;
	if (sigsetjmp(jb, 1))
		return fault_addr == (void *)addr ? 1 : -1;
	if (write)
		*addr = 0x5a;
	else
		(void)*addr;
	return 0;
}

/* Each region in its own slot of a PROT_NONE reservation, a gap page on either side: the
 * kernel marks a whole VMA with guards `gu` and keeps it across merges, so a region that
 * merged with a neighbour could make the neighbour show `gu` after a restore. */
static int setup_region(int i, int memfd, unsigned char *slot)
{
	struct region *r = &regions[i];
	size_t len = NPG * PG;
	unsigned char *p;

	p = mmap(slot, len, PROT_READ | PROT_WRITE, r->flags | MAP_FIXED, r->memfd ? memfd : -1,
		 r->memfd ? (off_t)i * len : 0);
	if (p == MAP_FAILED) {
		fail_errno("%s: mmap", r->what);
		return -1;
	}
	for (int k = 0; k < NPG; k++)
		test_fill_pattern(p + (size_t)k * PG, PG, seed_of(i, k));
	for (int k = 0; k < NPG; k++) {
		if (!((r->guards | r->removed) >> k & 1))
			continue;
		if (madvise(p + (size_t)k * PG, PG, MADV_GUARD_INSTALL)) {
			if (errno == EINVAL && i == 0) {
				munmap(p, len);
				return 1;
			}
			fail_errno("%s: MADV_GUARD_INSTALL on page %d", r->what, k);
			return -1;
		}
	}
	for (int k = 0; k < NPG; k++) {
		if (!(r->removed >> k & 1))
			continue;
		if (madvise(p + (size_t)k * PG, PG, MADV_GUARD_REMOVE)) {
			fail_errno("%s: MADV_GUARD_REMOVE on page %d", r->what, k);
			return -1;
		}
		/* an installed guard dropped the page: give it data again */
		test_fill_pattern(p + (size_t)k * PG, PG, seed_of(i, k));
	}
	if (r->final_prot && mprotect(p, len, r->final_prot)) {
		fail_errno("%s: mprotect", r->what);
		return -1;
	}
	/* the kernel locks the VMA, then stops faulting pages in at the first guard */
	if (r->lock && mlock(p, len) && errno != ENOMEM) {
		fail_errno("%s: mlock", r->what);
		return -1;
	}
	r->p = p;
	return 0;
}

/* pagemap's guard bit is set on exactly the guard pages; 0 or -1 after fail() */
static int check_pagemap(int pm, const char *when)
{
	for (int i = 0; i < NREG; i++) {
		const struct region *r = &regions[i];
		uint64_t e[NPG];

		if (pread(pm, e, sizeof(e), (off_t)((uintptr_t)r->p / PG * 8)) != sizeof(e)) {
			fail_errno("%s: read pagemap of %s", when, r->what);
			return -1;
		}
		for (int k = 0; k < NPG; k++) {
			int want = r->guards >> k & 1, got = !!(e[k] & PM_GUARD_REGION);

			if (want != got) {
				fail("%s: %s: page %d at %p is %sa guard page (pagemap %#llx), "
				     "expected %s",
				     when, r->what, k, (void *)(r->p + (size_t)k * PG),
				     got ? "" : "not ", (unsigned long long)e[k],
				     want ? "a guard" : "data");
				return -1;
			}
		}
	}
	return 0;
}

/* The guard bit on page 1 of the first region, a guard page. */
static int pagemap_shows_guards(int pm)
{
	uint64_t e = 0;

	return pread(pm, &e, sizeof(e), (off_t)((uintptr_t)regions[0].p / PG * 8 + 8)) ==
		   sizeof(e) &&
	       (e & PM_GUARD_REGION);
}

static int check_access(void)
{
	for (int i = 0; i < NREG; i++) {
		struct region *r = &regions[i];

		for (int k = 0; k < NPG; k++) {
			unsigned char *pg = r->p + (size_t)k * PG;
			int guard = r->guards >> k & 1, rf, wf;
			ssize_t bad;

			if (guard) {
				rf = faults(pg, 0);
				wf = faults(pg + 17, 1);
				if (rf != 1 || wf != 1) {
					fail(
					    "%s: guard page %d at %p: a read %s, a write %s; expected "
					    "SIGSEGV at the address",
					    r->what, k, (void *)pg,
					    rf == 1 ? "faulted"
					    : rf    ? "faulted elsewhere"
						    : "went through",
					    wf == 1 ? "faulted"
					    : wf    ? "faulted elsewhere"
						    : "went through");
					return -1;
				}
				continue;
			}
			bad = test_check_pattern(pg, PG, seed_of(i, k));
			if (bad >= 0) {
				fail("%s: page %d at %p: byte %zd is wrong after restore", r->what,
				     k, (void *)pg, bad);
				return -1;
			}
			if (r->final_prot & PROT_WRITE || !r->final_prot) {
				wf = faults(pg + 5, 1);
				if (wf) {
					fail("%s: a write into data page %d at %p faulted", r->what,
					     k, (void *)pg);
					return -1;
				}
			}
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO | SA_NODEFER };
	char *before, *after;
	unsigned char *resv;
	size_t len;
	int memfd, pm, ret;

	if (test_init(argc, argv))
		return 1;
	test_heap_steady(); /* the heap is one of the VMAs compared */
	memfd = memfd_create("guard00", 0);
	resv = mmap(NULL, (size_t)NREG * (NPG + 1) * PG + PG, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (memfd < 0 || ftruncate(memfd, (off_t)NREG * NPG * PG) || resv == MAP_FAILED ||
	    sigaction(SIGSEGV, &sa, NULL)) {
		fail_errno("setup: memfd, reservation, SIGSEGV handler");
		return 1;
	}
	for (int i = 0; i < NREG; i++) {
		ret = setup_region(i, memfd, resv + PG + (size_t)i * (NPG + 1) * PG);
		if (ret > 0) {
			skip("this kernel has no guard regions (MADV_GUARD_INSTALL: EINVAL)");
			return 0;
		}
		if (ret < 0)
			return 1;
	}
	pm = open("/proc/self/pagemap", O_RDONLY);
	if (pm < 0) {
		fail_errno("open /proc/self/pagemap");
		return 1;
	}
	if (!pagemap_shows_guards(pm)) {
		skip("this kernel shows no guard regions in pagemap (< 6.15)");
		return 0;
	}
	if (check_pagemap(pm, "before"))
		return 1;
	close(pm); /* a /proc file of the task itself: not kept across a checkpoint */
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
	ret = test_maps_same("VmFlags", before, after);
	pm = open("/proc/self/pagemap", O_RDONLY);
	if (pm < 0 || check_pagemap(pm, "after restore"))
		ret = -1;
	if (pm < 0)
		fail_errno("open /proc/self/pagemap after restore");
	if (check_access())
		ret = -1;
	if (!ret)
		pass();
	return 0;
}
