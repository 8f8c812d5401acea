/* dumpcheck: what the h flavor checks around a dump that leaves the tree
 * running (--leave-running) or fails (CRIU_LITE_FAULT, expect=dumpfail).
 *
 * Contract: each check returns 0, or -1 with the reason written into why
 * (one line naming the pid or the path); nothing is printed. */
#ifndef ZDTM_DUMPCHECK_H
#define ZDTM_DUMPCHECK_H

#include <stddef.h>
#include <sys/types.h>

/* The tree of root runs free: root is alive (some thread of it is not a
 * zombie: its main thread may have exited), and no thread of root or of any
 * descendant is stopped (State t/T) or traced (TracerPid not 0, and not a
 * process of the tree itself: a test may trace its own children). Zombies
 * are fine: a test may keep them, and they can be neither. A task just
 * detached may take a moment to leave its stop: the check retries for up to
 * grace seconds. */
int tree_runs_free(pid_t root, double grace, char *why, size_t len);
/* dir holds no files (a failed dump must not leave images behind). */
int dir_empty(const char *dir, char *why, size_t len);

#endif
