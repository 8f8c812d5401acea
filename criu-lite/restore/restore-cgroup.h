/* restore-cgroup: every task back in its cgroups (see restore-cgroup.c).
 *
 * Contract: restore_cgroups() runs from the restorer on a task's host pid once the task exists
 * (restore-tree.c, right after it is created, before its memory is filled and before its
 * children are born); it moves the whole
 * process, creating missing directories; 0, or -errno logged once naming task, hierarchy and
 * path. A pstree entry without cgroups (an older dump) leaves the task where it was born. */
#ifndef CRIU_LITE_RESTORE_CGROUP_H
#define CRIU_LITE_RESTORE_CGROUP_H

#include "criu-lite/restore/restore.h"

int restore_cgroups(struct restore_task *t);

#endif
