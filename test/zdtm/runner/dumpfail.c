/* dumpfail: see dumpfail.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
	char *argv[10 + DESC_CRIU_ARGS] = { t->opts->criu, "dump", "-t", pid,	"-D",
					    t->images,	   "-o",   log,	 "-v4", NULL };
	struct spawn_req req = { .argv = argv, .cwd = t->dir, .out = log, .env = r->env };
	char why[768], st[64];
	int status = -1, ret;

	desc_criu_args(t->desc, argv, 9, true);
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

/* One --leave-running dump that dies: SIGKILL at its site (delay_ms KILL_AT_SITE), or by us
 * after delay_ms >= 0 (unless it finished first), or not at all (KILL_NONE: it must succeed);
 * the tree must run free after it. */
#define KILL_AT_SITE (-1)
#define KILL_NONE    (-2)
static int dump_killed(struct test_run *t, const char *what, const char *env, int delay_ms)
{
	char *pid = strf("%d", t->pid);
	char *log = strf("%s/%s.log", t->dir, what);
	char *argv[11 + DESC_CRIU_ARGS] = { t->opts->criu, "dump", "-t", pid,	"-D",
					    t->images,	   "-o",   log,	 "-v4", "--leave-running",
					    NULL };
	struct spawn_req req = { .argv = argv, .cwd = t->dir, .out = log, .env = env };
	char why[768], st[64];
	int status = -1, ret;
	pid_t p;

	desc_criu_args(t->desc, argv, 10, true);
	p = spawn(&req);
	if (p < 0) {
		run_why(t, "can't run %s dump: %s (errno %d)", t->opts->criu, strerror(-p), -p);
		ret = p;
		goto out;
	}
	if (delay_ms >= 0) {
		struct timespec d = { delay_ms / 1000, (delay_ms % 1000) * 1000000L };

		nanosleep(&d, NULL);
		kill(p, SIGKILL);
	}
	ret = wait_deadline(p, t->deadline, &status);
	if (ret == -ETIMEDOUT)
		kill_wait(p, &status);
	status_str(status, st, sizeof(st));
	if (ret) {
		run_why(t, "dump of pid %d (%s) not done within the time limit; see %s.log", t->pid,
			what, what);
	} else if (delay_ms == KILL_NONE
		       ? !(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		       : !(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) &&
			     !(delay_ms >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		run_why(t, "dump of pid %d (%s) ended with %s, not as it should; see %s.log",
			t->pid, what, st, what);
		ret = -ECANCELED;
	} else if (tree_runs_free(t->pid, FREE_GRACE_S, why, sizeof(why))) {
		run_why(t, "after the dump of pid %d was killed (%s): %s; see %s.log", t->pid, what,
			why, what);
		ret = -ECANCELED;
	}
	if (!ret)
		ret = rm_rf(t->images) ?: mkdir_p(t->images);
out:
	free(pid);
	free(log);
	return ret;
}

int dump_kills(struct test_run *t)
{
	char *sites = t->desc->kills ? strf("%s", t->desc->kills) : NULL, *save = NULL, *site;
	unsigned int seed = (unsigned int)time(NULL) ^ (unsigned int)getpid();
	double t0, whole_ms;
	int ret = 0;

	for (site = sites ? strtok_r(sites, ",", &save) : NULL; site && !ret;
	     site = strtok_r(NULL, ",", &save)) {
		char *env = strf("CRIU_LITE_FAULT=%s:kill", site);
		char *what = strf("dump-kill-%s", site);

		ret = dump_killed(t, what, env, KILL_AT_SITE);
		free(env);
		free(what);
	}
	free(sites);
	if (ret || !t->desc->killrand)
		return ret;
	/* how long a whole dump takes (left running): the random kills fall inside it */
	t0 = now_s();
	ret = dump_killed(t, "dump-killrand-whole", NULL, KILL_NONE);
	whole_ms = (now_s() - t0) * 1000;
	for (int i = 0; !ret && i < t->desc->killrand; i++) {
		int delay = (int)(rand_r(&seed) % ((unsigned int)whole_ms + 1));
		char *what = strf("dump-killrand-%d-%u", i, seed);

		ret = dump_killed(t, what, NULL, delay);
		free(what);
	}
	return ret;
}

int dump_refused(struct test_run *t)
{
	struct dump_req r = { .what = "dump",
			      .how = "(tests.desc: expect=dumpfail)",
			      .text = t->desc->dumpmsg };

	return dump_must_fail(t, &r);
}
