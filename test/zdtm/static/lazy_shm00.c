/* lazy_shm00: shared memory restored lazily (MINOR faults and UFFDIO_CONTINUE under the lazy
 * flavor, with lazy=faults: nothing is prefetched until the test has exited), mapped by two
 * tasks that see each other's writes, and dropped in the two ways that differ for shared memory.
 *
 * Two tasks (root -> child) map two objects created by the root before the fork: A
 * (MAP_SHARED|MAP_ANONYMOUS, 8 MiB) and M (a memfd, 8 MiB, its fd closed: only the mappings
 * reach it). Each range below holds a pattern of its own. After SIGTERM, with none of their
 * pages touched yet, the root
 *   - drops M0 = M[0, 1 MiB) with MADV_DONTNEED: a shared mapping keeps its contents, so M0
 *     must read its pattern again (the page cache placeholder stays: a MINOR fault);
 *   - punches M1 = M[1, 2 MiB) out with MADV_REMOVE: M1 must read zeros, in both tasks (a
 *     MISSING fault: the server must not write the image's page there any more);
 *   - copies A1 = A[3 MiB, +64 KiB) into M3 = M[4 MiB, +64 KiB) through a pipe: the kernel
 *     reads and writes lazy shared pages (write() from A1, read() into M3);
 *   - writes a token page into A and waits for the child's.
 * The child writes its own token into A and waits for the root's (so it checks after the
 * root's changes). Both then check every byte of A and M: the patterns, M1 zero, M3 = A1's
 * pattern. Under lazy, tests.desc asks lazy-pages' figures for shared objects, MINOR faults,
 * CONTINUEs, shared pages written on faults, zero faults and REMOVE events. */
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"

#define KB   1024UL
#define MB   (1024 * KB)
#define PG   4096UL
#define A_SZ (8 * MB)
#define M_SZ (8 * MB)

/* [start, end) and the seed of its pattern (0: zeros after the restore) */
struct part {
	char obj;
	size_t start, end;
	uint64_t seed;
};

static const struct part parts[] = {
	{ 'A', 0, 3 * MB, 0xa0 },
	{ 'A', 3 * MB, 3 * MB + 64 * KB, 0xa1 },
	{ 'A', 3 * MB + 64 * KB, A_SZ - 2 * PG, 0xa2 }, /* then the two tokens */
	{ 'M', 0, 1 * MB, 0xb0 },			/* M0: MADV_DONTNEED */
	{ 'M', 1 * MB, 2 * MB, 0xb1 },			/* M1: MADV_REMOVE */
	{ 'M', 2 * MB, 4 * MB, 0xb2 },
	{ 'M', 4 * MB, 4 * MB + 64 * KB, 0xb3 }, /* M3: read() into it */
	{ 'M', 4 * MB + 64 * KB, M_SZ, 0xb4 },
};
#define NPARTS (sizeof(parts) / sizeof(parts[0]))

static uint8_t *a, *m;

static uint8_t *base(char obj)
{
	return obj == 'A' ? a : m;
}

static int setup(struct test_tree *tr, int idx, char *why, size_t len)
{
	int fd;

	(void)tr;
	if (idx)
		return 0;
	a = mmap(NULL, A_SZ, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	fd = memfd_create("lazy_shm00", MFD_CLOEXEC);
	if (a == MAP_FAILED || fd < 0 || ftruncate(fd, M_SZ)) {
		snprintf(why, len, "setup: mmap, memfd_create or ftruncate: %m");
		return -1;
	}
	m = mmap(NULL, M_SZ, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED) {
		snprintf(why, len, "setup: mmap of the memfd: %m");
		return -1;
	}
	for (size_t i = 0; i < NPARTS; i++)
		test_fill_pattern(base(parts[i].obj) + parts[i].start,
				  parts[i].end - parts[i].start, parts[i].seed);
	return 0;
}

/* The root's changes, before it says so with its token. */
static int change(char *why, size_t len)
{
	int p[2];

	if (madvise(m, 1 * MB, MADV_DONTNEED) || madvise(m + 1 * MB, 1 * MB, MADV_REMOVE)) {
		snprintf(why, len, "madvise(MADV_DONTNEED or MADV_REMOVE) on the memfd: %m");
		return -1;
	}
	if (pipe(p) || fcntl(p[1], F_SETPIPE_SZ, 64 * KB) < (int)(64 * KB) ||
	    write(p[1], a + 3 * MB, 64 * KB) != (ssize_t)(64 * KB) ||
	    read(p[0], m + 4 * MB, 64 * KB) != (ssize_t)(64 * KB)) {
		snprintf(why, len, "copying A1 to M3 through a pipe: %m");
		return -1;
	}
	close(p[0]);
	close(p[1]);
	return 0;
}

static int check_all(char *why, size_t len)
{
	for (size_t i = 0; i < NPARTS; i++) {
		const struct part *q = &parts[i];
		const uint8_t *b = base(q->obj) + q->start;
		size_t n = q->end - q->start;
		ssize_t bad;

		if (q->obj == 'M' && q->start == 1 * MB) { /* punched out */
			for (size_t k = 0; k < n; k++)
				if (b[k]) {
					snprintf(
					    why, len,
					    "M1 reads %#x at byte %zu after MADV_REMOVE, not 0",
					    b[k], k);
					return -1;
				}
			continue;
		}
		bad =
		    test_check_pattern(b, n, q->obj == 'M' && q->start == 4 * MB ? 0xa1 : q->seed);
		if (bad >= 0) {
			snprintf(why, len, "%c[%zu KiB, +%zu KiB) differs at byte %zd", q->obj,
				 q->start / KB, n / KB, bad);
			return -1;
		}
	}
	return 0;
}

static int check(struct test_tree *tr, int idx, char *why, size_t len)
{
	volatile uint8_t *mine = a + A_SZ - (idx ? 1 : 2) * PG;
	volatile uint8_t *theirs = a + A_SZ - (idx ? 2 : 1) * PG;

	(void)tr;
	if (!idx && change(why, len))
		return -1;
	mine[0] = (uint8_t)(0x70 + idx);
	while (theirs[0] != (uint8_t)(0x70 + !idx)) /* the runner's time limit is the limit */
		sched_yield();
	return check_all(why, len);
}

int main(int argc, char **argv)
{
	static const int parent[] = { -1, 0 };
	static struct test_tree tr = {
		.n = 2,
		.parent = parent,
		.setup = setup,
		.check = check,
	};

	if (test_init(argc, argv))
		return 1;
	if (test_tree_run(&tr))
		return 1;
	pass();
	return 0;
}
