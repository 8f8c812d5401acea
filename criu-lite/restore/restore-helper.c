/* restore-helper: a short-lived process of the restorer in the tree's PID namespace, for objects
 * that must refer to a process that ended: a pidfd of a reaped process (restore-pidfd.c) and
 * /proc files of a process that is gone (restore-procgone.c).
 *
 * Contract: restore_helper_start() forks a child of the restorer in the PID namespace of the
 * tree's root (setns() there for the fork, and back), with pid want in that namespace when want
 * is not 0 (clone3 set_tid: it must be free there; -EEXIST otherwise); the child waits until the
 * write end w[1] is closed, then ends with wait status st (an exit code, or death by a signal).
 * It returns the child's host pid and the pipe, or -errno (nothing left behind). The caller
 * closes w[1] and reaps the child. restore_helper_vpid() is a host pid's pid in its own
 * namespace (the last NSpid), 0 on error. */
#define LOG_PREFIX "restore: "

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "criu-lite/log.h"
#include "criu-lite/proc/proc.h"
#include "criu-lite/restore/restore.h"

pid_t restore_helper_vpid(pid_t pid)
{
	struct proc_status st = { 0 };
	pid_t v = 0;

	if (!proc_parse_status(pid, &st) && st.ns_levels)
		v = st.ns_pid[st.ns_levels - 1];
	proc_status_free(&st);
	return v;
}

/* The helper's life: wait for the end of the pipe, then end with st. */
static void __attribute__((noreturn)) helper_run(int r, int32_t st)
{
	sigset_t sig;
	char b;

	while (read(r, &b, 1) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(st)) {
		signal(WTERMSIG(st), SIG_DFL);
		sigemptyset(&sig);
		sigaddset(&sig, WTERMSIG(st));
		sigprocmask(SIG_UNBLOCK, &sig, NULL);
		kill(getpid(), WTERMSIG(st));
	}
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 127);
}

/* fork(), or clone3() with pid want in the child's namespace. */
static pid_t fork_as(pid_t want)
{
	struct clone_args a = { .exit_signal = SIGCHLD };
	pid_t tid = want;

	if (!want)
		return fork();
	a.set_tid = (uint64_t)(uintptr_t)&tid;
	a.set_tid_size = 1;
	return (pid_t)syscall(SYS_clone3, &a, sizeof(a));
}

pid_t restore_helper_start(const struct restore_ctx *c, int32_t st, pid_t want, int w[2])
{
	char ns[64];
	int nsfd, self;
	pid_t pid;

	if (pipe2(w, O_CLOEXEC))
		return -errno;
	snprintf(ns, sizeof(ns), "/proc/%d/ns/pid", c->tasks[0].pid);
	nsfd = open(ns, O_RDONLY | O_CLOEXEC);
	self = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	if (nsfd < 0 || self < 0 || setns(nsfd, CLONE_NEWPID)) {
		pid = -errno;
		goto out;
	}
	pid = fork_as(want);
	if (pid == 0) {
		close(w[1]);
		helper_run(w[0], st);
	}
	if (pid < 0)
		pid = -errno;
	if (setns(self, CLONE_NEWPID)) {
		int err = -errno;

		pr_perror("can't go back to criu-lite's own PID namespace for children");
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		pid = err;
	}
out:
	if (nsfd >= 0)
		close(nsfd);
	if (self >= 0)
		close(self);
	if (pid < 0) {
		close(w[0]);
		close(w[1]);
	}
	return pid;
}
