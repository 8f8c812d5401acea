/* pgrp00: process groups survive checkpoint/restore, in one session (the
 * root's): groups led by a child and by a grandchild, a task in its
 * sibling's group, a task in its grandparent's group (not its parent's), and
 * tasks that inherited their group. Every task checks getpgrp(), getsid(0)
 * and /proc/self/stat against the pids of the tasks leading its group and
 * session (and the test lib's tree checks its pid and parent pid). A task
 * joins its group twice, in itself and in its parent right after the fork,
 * so that its group exists before a later sibling joins it.
 *
 *   task  parent  joins the group of
 *   0     -       (lib: its own)
 *   1     0       1 (its own)
 *   2     0       1 (its sibling's)
 *   3     1       - (inherited: 1)
 *   4     1       0 (its grandparent's)
 *   5     2       5 (its own)
 *   6     5       - (inherited: 5)
 *   7     2       5 (its sibling's)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"

#define NTASKS 8
#define KEEP   (-1)

static const int parent[NTASKS] = { -1, 0, 0, 1, 1, 2, 5, 2 };
static const int join[NTASKS] = { KEEP, 1, 1, KEEP, 0, 5, KEEP, 5 };
static const int pgrp_of[NTASKS] = { 0, 1, 1, 1, 0, 5, 5, 5 };

/* The task's session is the root's and its group that of pgrp_of[]. */
static int check_ids(struct test_tree *tr, int idx, char *why, size_t len)
{
	return test_tree_ids_are(tr, 0, pgrp_of[idx], why, len);
}

static int join_group(struct test_tree *tr, int idx, pid_t who, char *why, size_t len)
{
	if (join[idx] == KEEP || !setpgid(who, tr->pid[join[idx]]))
		return 0;
	snprintf(why, len, "setpgid(%d, %d) for task %d: %s", who, tr->pid[join[idx]], idx,
		 strerror(errno));
	return -1;
}

static int forked(struct test_tree *tr, int idx, char *why, size_t len)
{
	return join_group(tr, idx, tr->pid[idx], why, len);
}

static int setup(struct test_tree *tr, int idx, char *why, size_t len)
{
	if (idx && join_group(tr, idx, 0, why, len))
		return -1;
	return check_ids(tr, idx, why, len);
}

int main(int argc, char **argv)
{
	static struct test_tree tr = {
		.n = NTASKS, .parent = parent, .setup = setup, .forked = forked, .check = check_ids
	};

	if (test_init(argc, argv))
		return 1;
	if (test_tree_run(&tr))
		return 1;
	pass();
	return 0;
}
