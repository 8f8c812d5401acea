/* session00: sessions survive checkpoint/restore. Besides the root's
 * session, two more: one made by a child of the root, with a process group
 * of its own inside it, and one made two levels down, under a task that
 * stayed in the root's session. Every task checks getsid(0), getpgrp() and
 * /proc/self/stat against the pids of the tasks that lead its session and
 * group (and the test lib's tree checks its pid and parent pid).
 *
 *   task  parent  does              session of  group of
 *   0     -       (lib: setsid)     0           0
 *   1     0       setsid()          1           1
 *   2     1       -                 1           1
 *   3     1       setpgid(0, 0)     1           3
 *   4     3       -                 1           3
 *   5     0       -                 0           0
 *   6     5       setsid()          6           6
 *   7     6       -                 6           6
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"

#define NTASKS 8

enum act { NONE, SETSID, OWN_GROUP };

static const int parent[NTASKS] = { -1, 0, 1, 1, 3, 0, 5, 6 };
static const enum act act[NTASKS] = { NONE, SETSID, NONE, OWN_GROUP, NONE, NONE, SETSID, NONE };
static const int sid_of[NTASKS] = { 0, 1, 1, 1, 1, 0, 6, 6 };
static const int pgrp_of[NTASKS] = { 0, 1, 1, 3, 3, 0, 6, 6 };

/* The task's session and group are those of sid_of[] and pgrp_of[]. */
static int check_ids(struct test_tree *tr, int idx, char *why, size_t len)
{
	return test_tree_ids_are(tr, sid_of[idx], pgrp_of[idx], why, len);
}

static int setup(struct test_tree *tr, int idx, char *why, size_t len)
{
	if (act[idx] == SETSID && setsid() < 0) {
		snprintf(why, len, "setsid(): %s", strerror(errno));
		return -1;
	}
	if (act[idx] == OWN_GROUP && setpgid(0, 0)) {
		snprintf(why, len, "setpgid(0, 0): %s", strerror(errno));
		return -1;
	}
	return check_ids(tr, idx, why, len);
}

int main(int argc, char **argv)
{
	static struct test_tree tr = {
		.n = NTASKS, .parent = parent, .setup = setup, .check = check_ids
	};

	if (test_init(argc, argv))
		return 1;
	if (test_tree_run(&tr))
		return 1;
	pass();
	return 0;
}
