/* flavor-precopy: the checkpoint of flavor pre-remote (flavor-lazy.c has the rest): pre-copy +
 * post-copy migration between two hosts (network namespaces). The test runs as pid 1 of a PID
 * namespace of its own on host A (as in remote-lazy). It is pre-dumped PRE_ROUNDS times while it
 * runs, each round sent to a `criu-lite page-server` on host B that receives it into B's b/preK (a
 * server per round, each stopped with SIGTERM after its round and required to exit 0), with A
 * keeping only the round's index in preK (-D: every file but the pages), the second and later
 * rounds with --prev-images-dir ../preK-1; after each round the tree must run free, untraced. Then
 * the final step is remote-lazy's lazy migration with --prev-images-dir ../preN: dump --lazy-pages
 * in A writes the rest of the state and serves only what was written since the last round; B's
 * directory b/images sits beside the chain it received, the restore there puts the chain's pages in
 * eagerly and lazy-pages fetches the rest from A (the pre-lazy check: it served no more private
 * pages than the final dump copied), then the source must end with its tree killed. tests.desc
 * opts= apply to every round. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "zdtm.h"
#include "desc.h"
#include "dumpcheck.h"
#include "flavor.h"
#include "flavor-h.h"
#include "flavor-precopy.h"
#include "flavor-remote.h"
#include "fs.h"
#include "hosts.h"
#include "proc.h"
#include "testrun.h"

#define PRE_ROUNDS   3
#define FREE_GRACE_S 1.0

/* The page server of round k must stop on SIGTERM, exit 0. */
static int server_stop(struct test_run *t, int k)
{
	int status = -1, ret = kill(t->psd, SIGTERM) ? -errno : 0;
	char st[64];

	if (!ret)
		ret = wait_deadline(t->psd, t->deadline, &status);
	if (!ret)
		t->psd = 0;
	if (ret || status != 0) {
		status_str(status, st, sizeof(st));
		run_why(t, "the page server of round %d %s on SIGTERM; see page-server.log", k,
			ret ? "did not stop" : st);
		return ret ? ret : -ECANCELED;
	}
	return 0;
}

static int round_k(struct test_run *t, int k)
{
	char *pid = strf("%d", t->pid), *bdir = strf("%s/b/pre%d", t->dir, k);
	char *adir = strf("%s/pre%d", t->dir, k), *log = strf("%s/pre%d.log", t->dir, k);
	char *stats = strf("%s/pre%d.json", t->dir, k), *prev = strf("../pre%d", k - 1);
	char *what = strf("pre-dump%d", k);
	char *argv[24 + DESC_CRIU_ARGS] = {
		t->opts->criu, "pre-dump",     "-t",	 pid,
		"-D",	       adir,	       "-o",	 log,
		"-v4",	       "--stats-file", stats,	 "--page-server",
		"--address",   HOST_B_ADDR,    "--port", REMOTE_PORT,
		"--auth-key",  t->keyfile,     NULL
	};
	char ns[96], why[512];
	int n = 18, ret;

	if (k > 1) {
		argv[n++] = "--prev-images-dir";
		argv[n++] = prev;
	}
	desc_criu_args(t->desc, argv, n, true);
	hosts_path(&t->hosts, false, ns, sizeof(ns));
	ret = mkdir_p(bdir) ?: remote_page_server(t, bdir, true);
	if (!ret)
		ret = h_run_criu_in(t, what, argv, NULL, ns);
	if (!ret && tree_runs_free(t->pid, FREE_GRACE_S, why, sizeof(why))) {
		run_why(t, "after pre-dump %d: %s; see %s.log", k, why, what);
		ret = -ECANCELED;
	}
	if (t->psd > 0)
		ret = server_stop(t, k) ?: ret;
	free(pid);
	free(bdir);
	free(adir);
	free(log);
	free(stats);
	free(prev);
	free(what);
	return ret;
}

int precopy_checkpoint(struct test_run *t)
{
	char *prev = strf("../pre%d", PRE_ROUNDS);
	int ret = 0;

	for (int k = 1; k <= PRE_ROUNDS && !ret; k++)
		ret = round_k(t, k);
	if (!ret)
		ret = remote_migrate_from(t, prev);
	free(prev);
	return ret;
}
