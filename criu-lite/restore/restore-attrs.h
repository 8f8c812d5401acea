/* restore-attrs: scheduling and prctl attributes of a task and its threads (restore-attrs.c,
 * restore-sched.c; core.proto task_attrs_entry, thread_attrs_entry).
 *
 * Contract, in the order of a restore:
 * - restore_attrs_creator_slack() runs in the creator (through its rsys session) right before it
 *   clones the thread or process child describes: the child inherits its timer slack as its
 *   default one. The root's creator is the restorer itself (restore_attrs_own_slack()).
 * - restore_attrs_prepare() runs in the leader from restore_core_prepare(): before restore-files
 *   changes its root and before its threads exist (loginuid; the LSM label is compared).
 * - restore_thread_attrs() runs in each thread through its session (restore_thread_state()).
 * - restore_task_attrs() runs in restore_core() once the threads exist, before the credentials
 *   change.
 * - restore_sched() runs from outside after restore_core_regs(), on every thread (t->tids).
 * Every value is read back; a failure is logged once, naming the task, thread and item. A
 * task or thread without attrs in its image (an older dump) is left as the skeleton has it. */
#ifndef CRIU_LITE_RESTORE_ATTRS_H
#define CRIU_LITE_RESTORE_ATTRS_H

#include "criu-lite/restore/restore.h"

struct restore_thread;

/* The leader's thread entry, NULL for a zombie or a leader that had exited. */
const ThreadCoreEntry *restore_leader_entry(const struct restore_task *t);
int restore_attrs_creator_slack(struct rsys *creator, const ThreadCoreEntry *child);
/* The restorer's own timer slack, before it creates the root (*saved: what to put back). */
int restore_attrs_own_slack(const ThreadCoreEntry *root, long *saved);
int restore_attrs_prepare(struct restore_task *t);
int restore_thread_attrs(const struct restore_thread *th);
int restore_task_attrs(struct restore_ctx *c, struct restore_task *t);
int restore_sched(struct restore_task *t);

#endif
