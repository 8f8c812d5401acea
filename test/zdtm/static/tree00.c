/* tree00: a 3-level tree of 7 tasks keeps every pid and parent pid across
 * checkpoint/restore (getpid(), getppid() and /proc/self/stat of every task:
 * the test lib's tree checks), and the memory each task shares copy-on-write
 * with its parent: every task writes its own page of a global array after the
 * fork and must find that page, and the pages it inherited, intact.
 *
 *            0 (root)
 *          /          \
 *         1            2
 *       /   \        /   \
 *      3     4      5     6
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "zdtmtst.h"

#define NTASKS	7
#define PAGE	4096
#define SEED(i) (0x7ee00000ull + (uint64_t)(i))

static const int parent[NTASKS] = { -1, 0, 0, 1, 1, 2, 2 };

/* page i is written by task i, before it forks its children */
static uint8_t pages[NTASKS][PAGE] __attribute__((aligned(PAGE)));

static bool is_ancestor_or_self(int a, int i)
{
	for (; i >= 0; i = parent[i]) {
		if (i == a)
			return true;
	}
	return false;
}

static int setup(struct test_tree *tr, int idx, char *why, size_t len)
{
	(void)tr;
	(void)why;
	(void)len;
	test_fill_pattern(pages[idx], PAGE, SEED(idx));
	return 0;
}

/* Pages written by this task or an ancestor hold their pattern; the others
 * are still the zeroes of the bss. */
static int check(struct test_tree *tr, int idx, char *why, size_t len)
{
	(void)tr;
	for (int i = 0; i < NTASKS; i++) {
		ssize_t off;

		if (is_ancestor_or_self(i, idx)) {
			off = test_check_pattern(pages[i], PAGE, SEED(i));
			if (off >= 0) {
				snprintf(why, len,
					 "page of task %d differs at byte %zd (seed %#llx)", i, off,
					 (unsigned long long)SEED(i));
				return -1;
			}
			continue;
		}
		for (size_t b = 0; b < PAGE; b++) {
			if (pages[i][b]) {
				snprintf(why, len,
					 "page of task %d (not an ancestor) has byte %zu "
					 "= %#x, expected 0",
					 i, b, pages[i][b]);
				return -1;
			}
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct test_tree tr = {
		.n = NTASKS, .parent = parent, .setup = setup, .check = check
	};

	if (test_init(argc, argv))
		return 1;
	if (test_tree_run(&tr))
		return 1;
	pass();
	return 0;
}
