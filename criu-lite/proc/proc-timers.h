/* proc-timers: parser of /proc/PID/timers (CONFIG_CHECKPOINT_RESTORE).
 *
 * Contract: a pure text parser (plus one file read) with no protobuf dependency, so the fuzz and
 * unit builds can take it alone. Malformed input is refused with -EINVAL after one message naming
 * the file and line; the output list is empty on failure. The file lists each POSIX timer of the
 * process in four lines, newest first: "ID: N", "signal: SIGNO/SIVAL" (sigev_value in hex),
 * "notify: KIND/pid.N" or "KIND/tid.N" (KIND signal or none; tid for SIGEV_THREAD_ID; N as the
 * /proc mount's PID namespace sees it), "ClockID: N". The list comes out ids ascending.
 */
#ifndef CRIU_LITE_PROC_TIMERS_H
#define CRIU_LITE_PROC_TIMERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct proc_timer {
	int id;
	int signo;
	uint64_t sival;
	int notify;   /* SIGEV_SIGNAL, SIGEV_NONE, or SIGEV_SIGNAL | SIGEV_THREAD_ID */
	pid_t target; /* the pid or tid of the notify line */
	int clock;    /* as given to timer_create */
};

struct proc_timer_list {
	struct proc_timer *v; /* ids ascending */
	size_t n, cap;
};

void proc_timer_list_free(struct proc_timer_list *l);
int proc_parse_timers_buf(const char *name, const char *buf, size_t len,
			  struct proc_timer_list *out);
int proc_parse_timers(pid_t pid, struct proc_timer_list *out);

#endif
