/* proc: starting programs and waiting for processes, always with a deadline.
 *
 * Contract: the runner is a child subreaper, so a daemonized or restored test
 * becomes its child and can be waited for and reaped at once. Deadlines are
 * CLOCK_MONOTONIC seconds (now_s()). Functions return 0 or -errno; spawn()
 * and the waits report their own system-call failures, but never a timeout
 * (-ETIMEDOUT) or a vanished process (-ESRCH): the caller knows what they mean. */
#ifndef ZDTM_PROC_H
#define ZDTM_PROC_H

#include <stddef.h>
#include <sys/types.h>

struct spawn_req {
	char *const *argv; /* argv[0] is the program path */
	const char *cwd;   /* NULL: the runner's */
	const char *out;   /* stdout+stderr appended here; NULL: the runner's */
	const char *env;   /* one extra "NAME=VALUE", or NULL */
	const char *netns; /* a network namespace file to enter first (/run/netns/X), or NULL */
};

double now_s(void);
int become_subreaper(void);
/* The child's pid, or -errno. stdin is /dev/null, no other fd is inherited;
 * a failed exec is told in the out file and gives exit status 127. */
pid_t spawn(const struct spawn_req *r);
/* What spawn() runs in the child: never returns. */
void spawn_exec(const struct spawn_req *r) __attribute__((noreturn));
/* Wait for pid to exit and reap it if it is our child. 0: exited, *status
 * is its wait status or -1 when it was not our child; -ETIMEDOUT; -ESRCH: no
 * such process (already reaped). */
int wait_deadline(pid_t pid, double deadline, int *status);
/* SIGKILL and reap (within 5 s). */
int kill_wait(pid_t pid, int *status);
/* spawn() + wait_deadline(); on timeout the program is killed: -ETIMEDOUT. */
int run_cmd(const struct spawn_req *r, double deadline, int *status);
/* Until pid is reaped (when ours) and /proc/PID is absent: 0 or -ETIMEDOUT. */
int wait_gone(pid_t pid, double deadline);
/* The parent pid of pid from /proc/PID/status, or -errno. */
pid_t parent_of(pid_t pid);
/* The runner's children (it is single-threaded), at most max: their number, or -1 (reported). */
int list_children(pid_t *kids, int max);
/* SIGKILL and reap every child the runner still has; returns how many were still running (not
 * already dying: a zombie, in exit(), or SIGKILL pending), the first named in what
 * ("pid N (comm)", when what is not NULL). */
unsigned kill_strays(char *what, size_t len);
/* Reap every child of the runner that has exited, but keep: orphans of a command's trees
 * (reparented to the runner, a subreaper) must not stay zombies meanwhile: a zombie holds its
 * pid, and its session and group ids, which a restore inside that command may need. */
void reap_orphans(pid_t keep);
/* "exit 3", "signal 9 (Killed)", "status unknown" */
void status_str(int status, char *buf, size_t len);

#endif
