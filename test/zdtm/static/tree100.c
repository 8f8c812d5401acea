/* tree100: a tree of 100 tasks of mixed depths (a ternary tree of 90 tasks,
 * 4 levels under the root, with a chain of 10 more hanging 10 levels deeper)
 * keeps every pid and parent pid across checkpoint/restore (the test lib's
 * tree checks), and each task its own memory: two private anonymous pages
 * filled after the fork with a pattern seeded by the task's index, and one
 * word of the data segment (copy-on-write shared with its parent until the
 * task writes it). Sized for restore-time measurements: the memory is small
 * so that the time is the tree's. */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>

#include "zdtmtst.h"

#define NTASKS	 100
#define NCHAIN	 10 /* the last tasks: each the child of the one before */
#define PAGE	 4096
#define NPAGES	 2
#define SEED(i)	 (0x7e100000ull + (uint64_t)(i))
#define STAMP(i) (0x5eed0000abcd0000ull | (uint64_t)(i))

static int parent[NTASKS];
/* in task i: its own pages, and its stamp in the data segment */
static uint8_t *mem;
static uint64_t stamp = 1;

static int setup(struct test_tree *tr, int idx, char *why, size_t len)
{
	(void)tr;
	mem = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		snprintf(why, len, "mmap of %d pages failed", NPAGES);
		return -1;
	}
	test_fill_pattern(mem, NPAGES * PAGE, SEED(idx));
	stamp = STAMP(idx);
	return 0;
}

static int check(struct test_tree *tr, int idx, char *why, size_t len)
{
	ssize_t off = test_check_pattern(mem, NPAGES * PAGE, SEED(idx));

	(void)tr;
	if (off >= 0) {
		snprintf(why, len, "its pages at %p differ at byte %zd (seed %#llx)", (void *)mem,
			 off, (unsigned long long)SEED(idx));
		return -1;
	}
	if (stamp != STAMP(idx)) {
		snprintf(why, len, "its stamp is %#llx, expected %#llx", (unsigned long long)stamp,
			 (unsigned long long)STAMP(idx));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct test_tree tr = {
		.n = NTASKS, .parent = parent, .setup = setup, .check = check
	};

	parent[0] = -1;
	for (int i = 1; i < NTASKS; i++)
		parent[i] = i >= NTASKS - NCHAIN ? i - 1 : (i - 1) / 3;
	if (test_init(argc, argv))
		return 1;
	if (test_tree_run(&tr))
		return 1;
	pass();
	return 0;
}
