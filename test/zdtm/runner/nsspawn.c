/* nsspawn: see nsspawn.h. clone() and clone3() without a new stack behave as
 * fork(): the runner is single-threaded, and the children only mount and
 * exec, or pause. */
#include <errno.h>
#include <linux/sched.h>
#include <stdint.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtm.h"
#include "nsspawn.h"
#include "proc.h"

/* In the child, pid 1 of its namespace: make /proc its own. */
static void ns_child(const struct spawn_req *r)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL)) {
		zperror("pidns child: can't make / a recursive slave mount");
		_exit(127);
	}
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)) {
		zperror("pidns child: can't mount a proc of the new pid namespace on /proc");
		_exit(127);
	}
	spawn_exec(r);
}

pid_t ns_spawn(const struct spawn_req *r)
{
	pid_t pid;

	fflush(NULL);
	pid = (pid_t)syscall(SYS_clone, CLONE_NEWPID | CLONE_NEWNS | SIGCHLD, NULL, NULL, NULL, 0);
	if (pid < 0) {
		int e = errno;

		zperror("clone(CLONE_NEWPID | CLONE_NEWNS) for %s", r->argv[0]);
		return -e;
	}
	if (pid == 0)
		ns_child(r);
	return pid;
}

pid_t ns_hold_pid(pid_t pid)
{
	struct clone_args args = { .exit_signal = SIGCHLD,
				   .set_tid = (uint64_t)(uintptr_t)&pid,
				   .set_tid_size = 1 };
	long ret;

	fflush(NULL);
	ret = syscall(SYS_clone3, &args, sizeof(args));
	if (ret == 0) {
		for (;;)
			pause();
	}
	if (ret < 0 && errno == EEXIST)
		return 0;
	if (ret < 0) {
		int e = errno;

		zperror("clone3 with set_tid [%d] (to hold the pid)", pid);
		return -e;
	}
	return (pid_t)ret;
}
