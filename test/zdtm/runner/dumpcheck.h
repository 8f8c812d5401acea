/* dumpcheck: what the h flavor checks around a dump that leaves the task
 * running (--leave-running) or fails on purpose (CRIU_LITE_FAULT).
 *
 * Contract: each check returns 0, or -1 with the reason written into why
 * (one line naming the pid or the path); nothing is printed. */
#ifndef ZDTM_DUMPCHECK_H
#define ZDTM_DUMPCHECK_H

#include <stddef.h>
#include <sys/types.h>

/* pid is alive and running free: not a zombie, not stopped (State t/T), not
 * traced (TracerPid 0). A task just detached may take a moment to leave
 * its stop: the check retries for up to grace seconds. */
int task_runs_free(pid_t pid, double grace, char *why, size_t len);
/* dir holds no files (a failed dump must not leave images behind). */
int dir_empty(const char *dir, char *why, size_t len);

#endif
