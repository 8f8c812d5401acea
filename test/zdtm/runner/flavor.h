/* flavor: how a test is checkpointed and restored (h: host, same pids; nocr:
 * not at all). A flavor is a table of hooks the test run calls in order:
 *
 *   prepare -> [test starts, is ready] -> checkpoint -> [runner waits until
 *   the tree is gone] -> restore -> [SIGTERM, verdict] -> cleanup
 *
 * Contract: any hook may be NULL; checkpoint and restore come in pairs.
 * prepare/checkpoint/restore return 0 or -errno and, on error, say why once
 * with run_why(); restore sets t->pid to the restored root. New flavors are
 * added to the registry in flavor.c. */
#ifndef ZDTM_FLAVOR_H
#define ZDTM_FLAVOR_H

struct test_run;

struct flavor {
	const char *name;
	const char *help;
	int (*prepare)(struct test_run *t);
	int (*checkpoint)(struct test_run *t);
	int (*restore)(struct test_run *t);
	void (*cleanup)(struct test_run *t);
};

extern const struct flavor flavor_h;

const struct flavor *flavor_find(const char *name);
/* The i-th registered flavor, NULL past the last; the index is its bit in a mask. */
const struct flavor *flavor_at(int i);
int flavor_index(const struct flavor *f);

#endif
