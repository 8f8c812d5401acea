/* timers: interval timers and POSIX timers of a task, at dump and at restore (docs/timers.md).
 *
 * Contract, dump (dump-timers.c): dump_timers() fills core_entry.itimers (remote getitimer of
 * ITIMER_REAL, VIRTUAL and PROF; only armed ones) and core_entry.posix_timers (/proc/PID/timers
 * for ids, clock, notification, signal and sigev_value; remote timer_gettime and
 * timer_getoverrun for the times and the overrun), through the task's open rsys session. It only
 * reads: a failed dump leaves every timer as it was. Timers on the CPU clock of another process
 * are refused.
 * Contract, restore (restore-timers.c): restore_timers_check() refuses any core_entry of the tree
 * whose timers cannot be recreated, before any task exists. restore_timers() runs in the skeleton
 * after the signal state (actions, pending signals) is back: it recreates every POSIX timer with
 * its dumped id (prctl PR_TIMER_CREATE_RESTORE_IDS where the kernel has it, else by taking ids in
 * sequence), clock and sigevent, arms it with its remaining time and period, then arms the interval
 * timers. Time stands still between dump and restore. A timer whose expiry is already queued as a
 * pending signal is not fired a second time. The overrun count cannot be set (it restarts at 0).
 */
#ifndef CRIU_LITE_TIMERS_H
#define CRIU_LITE_TIMERS_H

#include <stdbool.h>
#include <stddef.h>

#include "core.pb-c.h"

struct dump_ctx;
struct restore_ctx;
struct restore_task;

/* PR_TIMER_CREATE_RESTORE_IDS (Linux 6.15, <linux/prctl.h>): with it on, timer_create() takes the
 * id found in *timerid (EBUSY when taken) instead of allocating one. */
#define TIMERS_PR_RESTORE_IDS	  77
#define TIMERS_PR_RESTORE_IDS_OFF 0
#define TIMERS_PR_RESTORE_IDS_ON  1
#define TIMERS_PR_RESTORE_IDS_GET 2

/* At most this many timers are created and deleted again to reach an id without the prctl. */
#define TIMERS_MAX_FILLERS 65536

int dump_timers(struct dump_ctx *c, CoreEntry *ce);

int restore_timers_check(struct restore_ctx *c);
int restore_timers(struct restore_ctx *c, struct restore_task *t);

/* How timers are created and deleted in the task being restored (rsys in the skeleton; the
 * unit test runs them in a process of its own). create() makes the timer of e with *id preset to
 * the wanted id and returns 0 with the id the kernel gave in *id, or -errno (logged). */
struct timer_ops {
	int (*create)(void *arg, const PosixTimerEntry *e, int *id);
	int (*remove)(void *arg, int id);
	void *arg;
	const char *who; /* "pid 42" for messages */
};

/* Create the n timers of v (ids strictly ascending) with their own ids. by_id: the kernel takes
 * the id asked for (PR_TIMER_CREATE_RESTORE_IDS is on). Otherwise ids come in sequence: timers
 * that would get an id below the next wanted one are deleted again (at most TIMERS_MAX_FILLERS),
 * and an id already passed is refused with -EEXIST. 0 or -errno, logged once. */
int timers_create_ids(const struct timer_ops *ops, PosixTimerEntry *const *v, size_t n, bool by_id);

#endif
