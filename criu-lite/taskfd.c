/* taskfd: see taskfd.h. */
#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "criu-lite/taskfd.h"

#define TASKFD_PIDFD_THREAD O_EXCL /* uapi PIDFD_THREAD */

int taskfd_copy(pid_t tid, int fd)
{
	int pidfd = (int)syscall(SYS_pidfd_open, tid, TASKFD_PIDFD_THREAD), copy = -1, e;

	if (pidfd < 0 && errno == EINVAL)
		pidfd = (int)syscall(SYS_pidfd_open, tid, 0);
	if (pidfd >= 0)
		copy = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	e = errno;
	if (pidfd >= 0)
		close(pidfd);
	return copy >= 0 ? copy : -e;
}
