/* restore-tree: the tasks of the tree as seized skeletons.
 *
 * Contract: restore_tree_create() makes the root with the restorer's clone3
 * (in a new PID + mount namespace, with its own /proc, when the tree had its
 * own PID namespace), then every other task with clone3 + set_tid run inside
 * its parent's skeleton, parents first, so every task gets its pid and its
 * parent; a session leader calls setsid() before its children are born, and
 * process groups are joined once every task exists. Each live task is left
 * seized with rsys open at the shared trampoline; zombies are made to exit
 * the way they did (exit code or signal) and are left to their parents.
 * On error, what was created is in c->tasks for the caller to kill. */
#ifndef CRIU_LITE_RESTORE_TREE_H
#define CRIU_LITE_RESTORE_TREE_H

#include "criu-lite/restore/restore.h"

int restore_tree_create(struct restore_ctx *c);
/* Dequeue every pending signal of set from the task t (seized, rsys open, scratch page) with
 * rt_sigtimedwait and a zero timeout; *taken: those it found. 0 or -errno (logged). */
int restore_take_signals(struct restore_task *t, uint64_t set, uint64_t *taken);
struct restore_task *restore_task_by_vpid(struct restore_ctx *c, pid_t vpid);

#endif
