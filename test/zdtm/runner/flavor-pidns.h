/* flavor-pidns: the hooks of flavor pidns that flavor remote-lazy (a migration: the test runs
 * as pid 1 of a PID namespace of its own, so that its restore on the same machine, in a new
 * one, does not need the pids its frozen source still holds) reuses. */
#ifndef ZDTM_FLAVOR_PIDNS_H
#define ZDTM_FLAVOR_PIDNS_H

#include <sys/types.h>

struct test_run;
struct spawn_req;

/* flavor pidns's start hook */
int pidns_start(struct test_run *t, const struct spawn_req *req, int *status);
/* pid must be pid 1 of a PID namespace other than the runner's, with its /proc; when says
 * when ("restored (was host pid 12)"): 0 or -errno after run_why(). */
int pidns_check_init(struct test_run *t, pid_t pid, const char *when);

#endif
