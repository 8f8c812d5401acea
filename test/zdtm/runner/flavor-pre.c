/* flavor pre: iterative dumps. The test runs on the host as in h; it is pre-dumped
 * PRE_ROUNDS times while it runs (`criu-lite pre-dump`, each into OUT/pre/test/preK, the
 * second and later with --prev-images-dir ../preK-1, relative to -D as CRIU has it), and after
 * each pre-dump it must run free, untraced; then the final dump --prev-images-dir ../preN
 * into the images directory writes only what changed since, the rest in the parent images;
 * the restore follows that chain and the test must find every bit of its state. Each pre-dump
 * has --stats-file preK.json, the dump dump.json, whose keys of tests.desc prestats= must be
 * above 0. tests.desc opts= apply (desc_criu_args(): --tcp-established;
 * leave-running: as in h). faults=, kills=, rfaults= and corrupt= are h's (the same dump and
 * restore code without a chain); expect=dumpfail tests are not run here (their dump is h's). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zdtm.h"
#include "desc.h"
#include "dumpcheck.h"
#include "flavor.h"
#include "flavor-h.h"
#include "flavor-pre.h"
#include "fs.h"
#include "statskeys.h"
#include "testrun.h"

#define PRE_ROUNDS   3
#define FREE_GRACE_S 1.0 /* how long a task just released by a pre-dump may take to run again */

static int pre_dump(struct test_run *t, int k)
{
	char *pid = strf("%d", t->pid), *dir = strf("%s/pre%d", t->dir, k);
	char *log = strf("%s/pre%d.log", t->dir, k), *what = strf("pre-dump%d", k);
	char *stats = strf("%s/pre%d.json", t->dir, k), *prev = strf("../pre%d", k - 1);
	char *argv[16] = { t->opts->criu, "pre-dump", "-t",	      pid,   "-D", dir, "-o",
			   log,		  "-v4",      "--stats-file", stats, NULL };
	char why[512];
	int ret, n = 11;

	if (k > 1) {
		argv[n++] = "--prev-images-dir";
		argv[n++] = prev;
	}
	ret = mkdir_p(dir) ?: h_run_criu(t, what, argv, NULL);
	if (!ret && tree_runs_free(t->pid, FREE_GRACE_S, why, sizeof(why))) {
		run_why(t, "after pre-dump %d: %s; see %s.log", k, why, what);
		ret = -ECANCELED;
	}
	free(pid);
	free(dir);
	free(log);
	free(what);
	free(stats);
	free(prev);
	return ret;
}

int pre_checkpoint(struct test_run *t)
{
	char *pid = strf("%d", t->pid), *log = strf("%s/dump.log", t->dir);
	char *prev = strf("../pre%d", PRE_ROUNDS), *stats = strf("%s/dump.json", t->dir);
	char *argv[16 + DESC_CRIU_ARGS] = {
		t->opts->criu, "dump",	       "-t", pid,   "-D",
		t->images,     "-o",	       log,  "-v4", "--prev-images-dir",
		prev,	       "--stats-file", stats
	};
	int ret = 0, n = 13;

	for (int k = 1; k <= PRE_ROUNDS && !ret; k++)
		ret = pre_dump(t, k);
	if (t->desc->leave_running)
		argv[n++] = "--leave-running";
	desc_criu_args(t->desc, argv, n, true);
	if (!ret)
		ret = h_run_criu(t, "dump", argv, NULL);
	if (!ret) /* prestats=: the dump left pages in the chain */
		ret = stats_keys_positive(t, "dump.json", t->desc->prestats);
	if (!ret && t->desc->leave_running)
		ret = h_left_running(t);
	free(pid);
	free(log);
	free(prev);
	free(stats);
	return ret;
}

static int pre_restore(struct test_run *t)
{
	return h_restore_with(t, NULL);
}

const struct flavor flavor_pre = {
	.name = "pre",
	.help = "host: 3 pre-dumps while the test runs, a dump against the last, a restore "
		"that follows the chain (same pids)",
	.prepare = h_prepare,
	.checkpoint = pre_checkpoint,
	.restore = pre_restore,
	.exit_status = h_exit_status,
	.cleanup = h_cleanup,
};
