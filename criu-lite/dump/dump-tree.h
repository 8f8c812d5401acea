/* dump-tree: find and freeze the tree, name its tasks, write pstree.img.
 *
 * Contract: dump_tree_seize() seizes the root, then lists the children of
 * every thread of every seized task and seizes them in turn (top-down, so a
 * frozen parent can fork no more); zombies are recorded, not seized. Tasks
 * come out parents first, the root at [0]. It refuses clearly what it can't
 * dump: a task waiting for a vfork()ed child, tasks sharing an address space
 * without being threads, nested PID namespaces. dump_tree_ids() computes each
 * task's pid, ppid, pgid and sid as seen inside the tree's own PID namespace
 * (when the root is its init) and checks every group and session the tree
 * uses can be rebuilt from its own tasks. On error, what was seized stays in
 * the list for the caller to release. */
#ifndef CRIU_LITE_DUMP_TREE_H
#define CRIU_LITE_DUMP_TREE_H

#include "criu-lite/dump/dump.h"

struct dump_tree_list {
	struct dump_ctx *t;
	size_t n, cap;
};

int dump_tree_seize(struct dump_shared *sh, struct dump_tree_list *tl);
int dump_tree_ids(struct dump_shared *sh, struct dump_tree_list *tl);

#endif
