/* restore-core: the parts of the task-state restore that live in their own files.
 *
 * Contract (internal to restore-core.c, restore-creds.c, restore-regs.c, restore-restart.c):
 * - restore_creds() runs inside the seized skeleton through t->rs and t->sk.scratch; it changes
 *   only what differs from the skeleton's credentials, verifies the result from
 *   /proc/PID/status, and is the last thing restore_core() does that needs privileges.
 * - restore_sleep_restart() runs after rsys_close(), with the thread in a signal-path stop. It
 *   fills *final with the registers the thread must leave its stop with: the dumped ones, or, for a
 *   sleep whose restart state the kernel keeps internally (-ERESTART_RESTARTBLOCK), registers
 *   that restart a sleep it set up afresh in the thread (see restore-restart.c). The thread's
 *   signal mask is left blocking everything; the caller sets the dumped one afterwards.
 * Every failure is logged once, naming the pid, the item and the errno.
 */
#ifndef CRIU_LITE_RESTORE_CORE_H
#define CRIU_LITE_RESTORE_CORE_H

#include <sys/types.h>
#include <sys/user.h>

#include "criu-lite/restore.h"

int restore_creds(struct restore_task *t);

int restore_sleep_restart(struct restore_task *t, pid_t tid, const ThreadCoreEntry *te,
			  const struct user_regs_struct *dumped, struct user_regs_struct *final);

#endif
