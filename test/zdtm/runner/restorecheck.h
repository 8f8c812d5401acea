/* restorecheck: what the h flavor checks after a restore that must fail (a
 * fault injected at a restore step, or a damaged image): that nothing it
 * created outlived it, and what its log says.
 *
 * Contract: each check returns 0, or -1 with the reason written into why
 * (one line naming the pid or the log); nothing is printed. The runner is a
 * child subreaper, so whatever a restore command leaves behind is the
 * runner's child once the command has exited; the checks reap zombies. */
#ifndef ZDTM_RESTORECHECK_H
#define ZDTM_RESTORECHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* No process has pid, not even a zombie: a zombie child of the runner is
 * reaped; a process still there is given up to grace seconds to go. */
int pid_gone(pid_t pid, double grace, char *why, size_t len);
/* The runner has no child left (zombies are reaped) within grace seconds;
 * else why names them. */
int no_children(double grace, char *why, size_t len);
/* Some "Error: " line of the log contains text; with as_name, text must stand
 * there as a whole file name, not as a part of a longer name. */
int log_has_error(const char *log, const char *text, bool as_name, char *why, size_t len);
/* No line of the log comes from a module that creates a task or works on one
 * (skeleton, seize, rsys): the restore stopped before it created any. */
int log_no_task_work(const char *log, char *why, size_t len);
/* No sanitizer report in the log (the restore command's stderr goes there):
 * under make SAN=1, a failure path must not leak or misbehave either. */
int log_no_sanitizer(const char *log, char *why, size_t len);

#endif
