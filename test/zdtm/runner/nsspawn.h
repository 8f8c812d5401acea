/* nsspawn: the processes the pidns flavor makes: the test, started as the
 * init (pid 1) of a new PID namespace, in a new mount namespace whose /proc
 * shows that PID namespace; and a placeholder that takes a given host pid.
 *
 * Contract: ns_spawn() is spawn() (proc.h) in new namespaces: it returns the
 * program's pid as the runner sees it (its host pid; the runner is its
 * parent) or -errno, reported. In the child, before the exec, every mount
 * becomes a slave of the runner's (mounts propagate in, never out) and a new
 * proc is mounted on /proc; a failure there is reported on the runner's
 * stderr and gives exit status 127, as a failed exec does. */
#ifndef ZDTM_NSSPAWN_H
#define ZDTM_NSSPAWN_H

#include <sys/types.h>

struct spawn_req;

pid_t ns_spawn(const struct spawn_req *r);
/* A child of the runner with host pid pid (clone3 set_tid) that only waits to
 * be killed: its pid, 0 if pid is taken already, or -errno (reported). */
pid_t ns_hold_pid(pid_t pid);

#endif
