/* ptree: the tasks of a test's tree as the runner sees them in /proc (host
 * pids): its processes (the root and every descendant, found through the
 * children files of all their threads) and the threads of each.
 *
 * Contract: the lists are snapshots; a task that vanishes while being walked
 * is left out. Functions return how many they listed (at most max: a bigger
 * tree is cut, which callers treat as an error) or -errno; nothing is printed. */
#ifndef ZDTM_PTREE_H
#define ZDTM_PTREE_H

#include <sys/types.h>

#define PTREE_MAX 1024

/* root first, then breadth-first; -ESRCH if root itself is gone */
int ptree_procs(pid_t root, pid_t *pids, int max);
/* the threads of pid, from /proc/PID/task */
int ptree_threads(pid_t pid, pid_t *tids, int max);

#endif
