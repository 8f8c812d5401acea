/* flavor: how a test is started, checkpointed and restored (h: host, same
 * pids; pidns: as pid 1 of a new pid namespace, restored into a new one;
 * nocr: not at all). A flavor is a table of hooks the test run calls in order:
 *
 *   prepare -> start [test starts, is ready] -> checkpoint -> [runner waits until
 *   the tree is gone] -> restore -> [SIGTERM, the test exits] -> exit_status
 *   -> [verdict] -> cleanup
 *
 * Contract: any hook may be NULL; checkpoint and restore come in pairs.
 * prepare/start/checkpoint/restore/exit_status return 0 or -errno and, on
 * error, say why once with run_why(); restore sets t->pid to the restored root.
 * start, if set, replaces the runner's way of starting the test (run it, wait
 * for its starter to exit, read the pidfile): with 0 it either set t->pid to
 * the ready test and *status to 0, or *status to the wait status of a test
 * that ended before it was ready.
 * exit_status gets the wait status the runner saw (-1: the test was not its
 * child) and may check it or put the one it knows in its place (with
 * t->status_src saying where it comes from). New flavors are added to the
 * registry in flavor.c. */
#ifndef ZDTM_FLAVOR_H
#define ZDTM_FLAVOR_H

#include <stdbool.h>

struct test_run;
struct spawn_req;

struct flavor {
	const char *name;
	const char *help;
	int (*prepare)(struct test_run *t);
	int (*start)(struct test_run *t, const struct spawn_req *req, int *status);
	int (*checkpoint)(struct test_run *t);
	int (*restore)(struct test_run *t);
	int (*exit_status)(struct test_run *t, int *status);
	void (*cleanup)(struct test_run *t);
	/* the checkpoint leaves the tree frozen until its restore has it all (a lazy
	 * migration): the runner does not wait for it to be gone before the restore; the
	 * flavor's own hooks check that it goes */
	bool migrates;
};

extern const struct flavor flavor_h;
extern const struct flavor flavor_pidns;
extern const struct flavor flavor_lazy;
extern const struct flavor flavor_remote_lazy;
extern const struct flavor flavor_ps_lazy;
extern const struct flavor flavor_remote;
extern const struct flavor flavor_pre_remote;
extern const struct flavor flavor_pre;
extern const struct flavor flavor_pre_lazy;
extern const struct flavor flavor_snapshot;

const struct flavor *flavor_find(const char *name);
/* The i-th registered flavor, NULL past the last; the index is its bit in a mask. */
const struct flavor *flavor_at(int i);
int flavor_index(const struct flavor *f);

#endif
