/* cgroup: where a task's cgroup (a line of /proc/PID/cgroup) is in this machine's filesystem,
 * for dump-cgroup.c and restore-cgroup.c (pstree.proto cgroup_entry).
 *
 * Contract: a hierarchy is named as /proc/PID/cgroup names it: "" for cgroup v2, the
 * comma-separated controllers (or "name=NAME") for a v1 one; its id differs from host to host
 * and is not used. cgroup_dir() finds a mount of that hierarchy (mountinfo: cgroup2, or a cgroup
 * mount whose options hold every controller) whose root is the path or one of its ancestors, and
 * gives the directory: the mount point plus the rest of the path. Pure but for its arguments. */
#ifndef CRIU_LITE_CGROUP_H
#define CRIU_LITE_CGROUP_H

#include <stddef.h>

#include "criu-lite/proc/proc.h"

/* 0 with the directory in dir; -ENOENT when the hierarchy is not mounted, -EXDEV when no mount
 * of it shows that path, -ENAMETOOLONG. */
int cgroup_dir(const struct cgroup_mount_list *mounts, const char *controllers, const char *path,
	       char *dir, size_t len);
/* "cgroup v2" or "the cgroup v1 hierarchy memory", for messages. */
const char *cgroup_hierarchy_name(const char *controllers, char *buf, size_t len);

#endif
