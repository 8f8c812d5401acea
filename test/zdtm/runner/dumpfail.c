/* dumpfail: see dumpfail.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "zdtm.h"
#include "desc.h"
#include "dumpcheck.h"
#include "dumpfail.h"
#include "fs.h"
#include "proc.h"
#include "restorecheck.h"
#include "testrun.h"

/* how long the tasks just released by a failed dump may take to leave their stop */
#define FREE_GRACE_S 1.0

struct dump_req {
	const char *env;  /* "CRIU_LITE_FAULT=SITE", or NULL */
	const char *what; /* its log is <work dir>/<what>.log */
	const char *how;  /* in messages: "with CRIU_LITE_FAULT=mm" */
	const char *text; /* an error line of the log must contain it; NULL: any log */
};

/* One `criu-lite dump` that must fail, and the checks after it. */
static int dump_must_fail(struct test_run *t, const struct dump_req *r)
{
	char *pid = strf("%d", t->pid);
	char *log = strf("%s/%s.log", t->dir, r->what);
	char *argv[] = {
		t->opts->criu, "dump", "-t", pid, "-D", t->images, "-o", log, "-v4", NULL
	};
	struct spawn_req req = { .argv = argv, .cwd = t->dir, .out = log, .env = r->env };
	char why[768], st[64];
	int status = -1, ret;

	ret = run_cmd(&req, t->deadline, &status);
	status_str(status, st, sizeof(st));
	if (ret == -ETIMEDOUT) {
		run_why(t, "dump of pid %d %s not done within the %ds limit (killed); see %s.log",
			t->pid, r->how, t->timeout, r->what);
	} else if (ret) {
		run_why(t, "can't run %s dump: %s (errno %d)", t->opts->criu, strerror(-ret), -ret);
	} else if (status == 0) {
		run_why(t, "dump of pid %d %s succeeded; it must fail; see %s.log", t->pid, r->how,
			r->what);
		ret = -ECANCELED;
	} else if (!WIFEXITED(status)) {
		run_why(t, "dump of pid %d %s died of %s instead of failing; see %s.log", t->pid,
			r->how, st, r->what);
		ret = -ECANCELED;
	} else if (tree_runs_free(t->pid, FREE_GRACE_S, why, sizeof(why)) ||
		   dir_empty(t->images, why, sizeof(why)) ||
		   (r->text && log_has_error(log, r->text, false, why, sizeof(why)))) {
		run_why(t, "after the dump of pid %d %s failed (%s): %s; see %s.log", t->pid,
			r->how, st, why, r->what);
		ret = -ECANCELED;
	}
	free(pid);
	free(log);
	return ret;
}

int dump_faults(struct test_run *t)
{
	char *sites = strf("%s", t->desc->faults), *save, *site;
	int ret = 0;

	for (site = strtok_r(sites, ",", &save); site && !ret; site = strtok_r(NULL, ",", &save)) {
		char *env = strf("CRIU_LITE_FAULT=%s", site);
		char *what = strf("dump-fault-%s", site);
		char *how = strf("with %s", env);
		struct dump_req r = { .env = env, .what = what, .how = how };

		ret = dump_must_fail(t, &r);
		free(env);
		free(what);
		free(how);
	}
	free(sites);
	return ret;
}

int dump_refused(struct test_run *t)
{
	struct dump_req r = { .what = "dump",
			      .how = "(tests.desc: expect=dumpfail)",
			      .text = t->desc->dumpmsg };

	return dump_must_fail(t, &r);
}
