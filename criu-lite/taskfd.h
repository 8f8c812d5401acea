/* taskfd: a copy of another task's file descriptor in ours.
 *
 * Contract: taskfd_copy() returns an O_CLOEXEC fd of ours on the same open
 * file description as fd of task `tid` (pidfd_open + pidfd_getfd), or -errno
 * without logging (the caller names the object). tid may be any live thread
 * of the task: a pidfd of that thread (PIDFD_THREAD, 6.9+) still reaches the
 * fd table when the thread-group leader has exited; older kernels fall back
 * to a process pidfd. */
#ifndef CRIU_LITE_TASKFD_H
#define CRIU_LITE_TASKFD_H

#include <sys/types.h>

int taskfd_copy(pid_t tid, int fd);

#endif
