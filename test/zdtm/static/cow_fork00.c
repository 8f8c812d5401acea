/* cow_fork00: pages a forked task still shares copy-on-write with its parent are shared again
 * after checkpoint/restore, not copied (a forked worker pool must not double its memory).
 *
 * The root maps NPG private anonymous pages, fills them, and forks three workers:
 *   worker 1 writes pages [0, 64) after the fork,
 *   worker 2 only reads every page,
 *   worker 3 writes every fourth page;
 * once all three exist the root writes pages [128, 160). After the restore every task finds
 * the contents it had (its own writes, the root's pattern elsewhere, the root's later writes
 * only in the root), and, read from pagemap (as root: PFNs are shown), each worker maps
 * exactly the pages that neither it nor the root wrote after the fork at the same PFN as the
 * root, not exclusively (PM_MMAP_EXCLUSIVE clear), and every other page at a PFN of its own.
 * Sharing between workers alone (the root's pages [128, 160) before it wrote them) is not
 * asserted: it is restored as a copy per worker (docs/design.md). */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"

#define NTASKS 4
#define NPG    256
#define PG     4096
#define SEED   0xc0f0000ull

static const int parent[NTASKS] = { -1, 0, 0, 0 };
static uint8_t *mem;

/* Who last wrote page pg as task idx sees it: its pattern's seed. */
static uint64_t seed_of(int idx, int pg)
{
	if (idx == 1 && pg < 64)
		return SEED + 0x1000 + (uint64_t)pg;
	if (idx == 3 && pg % 4 == 0)
		return SEED + 0x3000 + (uint64_t)pg;
	if (idx == 0 && pg >= 128 && pg < 160)
		return SEED + 0x9000 + (uint64_t)pg;
	return SEED + (uint64_t)pg;
}

/* Shared with the root: neither the task nor the root wrote it after the fork. */
static bool shared_with_root(int idx, int pg)
{
	return seed_of(idx, pg) == SEED + (uint64_t)pg && seed_of(0, pg) == SEED + (uint64_t)pg;
}

static void write_own(int idx)
{
	for (int pg = 0; pg < NPG; pg++)
		if (seed_of(idx, pg) != SEED + (uint64_t)pg)
			test_fill_pattern(mem + (size_t)pg * PG, PG, seed_of(idx, pg));
}

static int setup(struct test_tree *tr, int idx, char *why, size_t len)
{
	volatile uint8_t sink = 0;

	(void)tr;
	if (idx == 0) {
		mem = mmap(NULL, (size_t)NPG * PG, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (mem == MAP_FAILED) {
			snprintf(why, len, "mmap of %d pages failed", NPG);
			return -1;
		}
		madvise(mem, (size_t)NPG * PG, MADV_NOHUGEPAGE); /* one PFN per page */
		for (int pg = 0; pg < NPG; pg++)
			test_fill_pattern(mem + (size_t)pg * PG, PG, SEED + (uint64_t)pg);
		return 0;
	}
	for (int pg = 0; pg < NPG; pg++)
		sink ^= mem[(size_t)pg * PG];
	(void)sink;
	write_own(idx);
	return 0;
}

/* The root writes its pages once the last worker exists. */
static int forked(struct test_tree *tr, int idx, char *why, size_t len)
{
	(void)tr;
	(void)why;
	(void)len;
	if (idx == NTASKS - 1)
		write_own(0);
	return 0;
}

/* pagemap entries of pid for mem's pages into e. */
static int read_pagemap(pid_t pid, uint64_t *e, char *why, size_t len)
{
	char path[64];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		snprintf(why, len, "open %s failed", path);
		return -1;
	}
	n = pread(fd, e, NPG * 8, (off_t)((uintptr_t)mem / PG * 8));
	close(fd);
	if (n != NPG * 8) {
		snprintf(why, len, "read of %s failed", path);
		return -1;
	}
	return 0;
}

#define PFN(e)	  ((e) & ((1ULL << 55) - 1))
#define PRESENT	  (1ULL << 63)
#define EXCLUSIVE (1ULL << 56)

static int check(struct test_tree *tr, int idx, char *why, size_t len)
{
	static uint64_t mine[NPG], root[NPG];
	int shared = 0;

	(void)tr;
	for (int pg = 0; pg < NPG; pg++) {
		ssize_t off = test_check_pattern(mem + (size_t)pg * PG, PG, seed_of(idx, pg));

		if (off >= 0) {
			snprintf(why, len, "page %d differs at byte %zd (seed %#llx)", pg, off,
				 (unsigned long long)seed_of(idx, pg));
			return -1;
		}
	}
	if (idx == 0)
		return 0;
	if (read_pagemap(getpid(), mine, why, len) || read_pagemap(getppid(), root, why, len))
		return -1;
	for (int pg = 0; pg < NPG; pg++) {
		bool same = (mine[pg] & PRESENT) && (root[pg] & PRESENT) && PFN(mine[pg]) &&
			    PFN(mine[pg]) == PFN(root[pg]);

		if (!PFN(mine[pg]) && (mine[pg] & PRESENT)) {
			snprintf(why, len, "pagemap shows no PFN: not run as root?");
			return -1;
		}
		if (same != shared_with_root(idx, pg)) {
			snprintf(why, len,
				 "page %d: %s the root's page (pfn %#llx, the root's %#llx), "
				 "expected %s",
				 pg, same ? "is" : "is not", (unsigned long long)PFN(mine[pg]),
				 (unsigned long long)PFN(root[pg]),
				 shared_with_root(idx, pg) ? "shared" : "a page of its own");
			return -1;
		}
		if (same && (mine[pg] & EXCLUSIVE)) {
			snprintf(why, len, "page %d: shared with the root but mapped exclusively",
				 pg);
			return -1;
		}
		shared += same;
	}
	test_msg("worker %d shares %d of %d pages with the root\n", idx, shared, NPG);
	return 0;
}

int main(int argc, char **argv)
{
	static struct test_tree tr = {
		.n = NTASKS, .parent = parent, .setup = setup, .forked = forked, .check = check
	};

	if (test_init(argc, argv))
		return 1;
	if (test_tree_run(&tr))
		return 1;
	pass();
	return 0;
}
