/* restore-stop: stopped tasks come back stopped (see restore-stop.c).
 *
 * Contract: restore_stop_check() runs when the images are read and refuses, naming the task, a
 * stop the restore can't make again. restore_stop_task() runs in restore-tree.c once every task
 * exists and is in its group, on a seized skeleton with rsys open (reopened on return): it puts
 * the task into a group stop with the dumped signal, before any signal of the image is queued
 * and before any task runs; it fails, naming the task, when the kernel discards that signal.
 * restore_stop_report() then makes the parent's wait report what it was at dump (through the
 * parent's rsys session). The SIGCHLD the stop sent the parent is the caller's to take back. */
#ifndef CRIU_LITE_RESTORE_STOP_H
#define CRIU_LITE_RESTORE_STOP_H

#include <stdbool.h>

#include "criu-lite/restore/restore.h"

bool restore_task_stopped(const struct restore_task *t);
int restore_stop_check(const struct restore_task *t);
int restore_stop_task(struct restore_task *t);
int restore_stop_report(struct restore_task *t);

#endif
