/* restorefail: see restorefail.h; the damaged-image pass is in corrupt.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zdtm.h"
#include "desc.h"
#include "dumpcheck.h"
#include "fs.h"
#include "imgprint.h"
#include "proc.h"
#include "restorecheck.h"
#include "restorefail.h"
#include "testrun.h"

/* how long what a failed restore killed may take to be gone and reaped */
#define GONE_GRACE_S 2.0

/* What must hold after the restore failed: 0 or -1 with why. */
static int check_aftermath(struct test_run *t, const struct fail_req *r, const char *pidfile,
			   char *why, size_t len)
{
	struct img_print now;
	char diff[512];

	if (pid_gone(t->pid, GONE_GRACE_S, why, len) || no_children(GONE_GRACE_S, why, len))
		return -1;
	if (!access(pidfile, F_OK)) {
		snprintf(why, len, "it wrote the pidfile %s", pidfile);
		return -1;
	}
	if (img_print_take(r->images, &now, why, len))
		return -1;
	if (img_print_cmp(r->was, &now, diff, sizeof(diff))) {
		snprintf(why, len, "it changed the images in %s: %s", r->images, diff);
		img_print_free(&now);
		return -1;
	}
	img_print_free(&now);
	return 0;
}

int restore_must_fail(struct test_run *t, const struct fail_req *r)
{
	char *log = strf("%s/%s.log", t->dir, r->what);
	char *pidfile = strf("%s/%s.pid", t->dir, r->what);
	char *argv[11 + DESC_CRIU_ARGS] = { t->opts->criu, "restore", "-D", (char *)r->images,
					    "-d",	   "-o",      log,  "-v4",
					    "--pidfile",   pidfile,   NULL };
	struct spawn_req req = { .argv = argv, .cwd = t->dir, .out = log, .env = r->env };
	char why[768], st[64];
	int status = -1, ret;

	desc_criu_args(t->desc, argv, 10, false);
	unlink(pidfile);
	ret = run_cmd(&req, t->deadline, &status);
	status_str(status, st, sizeof(st));
	if (ret == -ETIMEDOUT) {
		run_why(t, "restore %s not done within the %ds limit (killed); see %s.log", r->how,
			t->timeout, r->what);
	} else if (ret) {
		run_why(t, "can't run %s restore: %s (errno %d)", t->opts->criu, strerror(-ret),
			-ret);
	} else if (status == 0) {
		run_why(t, "restore %s succeeded; it must fail; see %s.log", r->how, r->what);
		ret = -ECANCELED;
	} else if (!WIFEXITED(status)) {
		run_why(t, "restore %s died of %s instead of failing; see %s.log", r->how, st,
			r->what);
		ret = -ECANCELED;
	} else if (check_aftermath(t, r, pidfile, why, sizeof(why)) ||
		   log_no_sanitizer(log, why, sizeof(why))) {
		run_why(t, "after the restore %s failed (%s): %s; see %s.log", r->how, st, why,
			r->what);
		ret = -ECANCELED;
	}
	free(log);
	free(pidfile);
	return ret;
}

/* One restore that must fail at site, and say so in its log. */
static int restore_fault(struct test_run *t, const struct img_print *images, const char *site)
{
	char *env = strf("CRIU_LITE_FAULT=%s", site);
	char *what = strf("restore-fault-%s", site);
	char *how = strf("with %s", env);
	char *log = strf("%s/%s.log", t->dir, what);
	char *line = strf("fault injected at step '%s'", site);
	struct fail_req r = {
		.images = t->images, .was = images, .env = env, .what = what, .how = how
	};
	char why[512];
	int ret = restore_must_fail(t, &r);

	if (!ret && log_has_error(log, line, false, why, sizeof(why))) {
		run_why(t, "the restore %s failed, but not at that step: %s", how, why);
		ret = -ECANCELED;
	}
	free(env);
	free(what);
	free(how);
	free(log);
	free(line);
	return ret;
}

/* One restore -d that dies: SIGKILL at its site (KILL_AT_SITE), or by us after delay_ms >= 0
 * (then it may have finished first), or not at all (KILL_NONE: it must succeed). A tree it
 * restored is killed again. Nothing may be left: no task of the tree, no child of ours, the
 * images as they were. */
#define KILL_AT_SITE (-1)
#define KILL_NONE    (-2)
static int restore_killed(struct test_run *t, const struct img_print *images, const char *what,
			  const char *env, int delay_ms)
{
	char *log = strf("%s/%s.log", t->dir, what);
	char *pidfile = strf("%s/%s.pid", t->dir, what);
	char *argv[11 + DESC_CRIU_ARGS] = { t->opts->criu, "restore", "-D", t->images,
					    "-d",	   "-o",      log,  "-v4",
					    "--pidfile",   pidfile,   NULL };
	struct spawn_req req = { .argv = argv, .cwd = t->dir, .out = log, .env = env };
	struct fail_req r = { .images = t->images, .was = images, .what = what, .how = what };
	char why[768], st[64];
	int status = -1, ret;
	pid_t p, root = 0; /* the restored root (its host pid, under pidns a new one) */

	desc_criu_args(t->desc, argv, 10, false);
	unlink(pidfile);
	p = spawn(&req);
	if (p < 0) {
		run_why(t, "can't run %s restore: %s (errno %d)", t->opts->criu, strerror(-p), -p);
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
		run_why(t, "restore (%s) not done within the time limit; see %s.log", what, what);
	} else if (delay_ms != KILL_AT_SITE &&
		   ((WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
		    (!read_pid(pidfile, &root) && !tree_runs_free(root, 1.0, why, sizeof(why))))) {
		/* it finished (a kill may come after the tree was released and the pidfile
		 * written, before it exited): its tree runs, children of ours (a subreaper); end
		 * it again */
		for (int i = 0; i < 100 && kill_strays(NULL, 0); i++)
			;
		unlink(pidfile);
		if (no_children(GONE_GRACE_S, why, sizeof(why))) {
			run_why(t, "after the restore (%s) finished: %s", what, why);
			ret = -ECANCELED;
		}
	} else if (delay_ms == KILL_NONE) {
		run_why(t, "restore (%s) failed (%s); see %s.log", what, st, what);
		ret = -ECANCELED;
	} else if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) {
		run_why(t, "restore (%s) ended with %s, not by SIGKILL; see %s.log", what, st,
			what);
		ret = -ECANCELED;
	} else if (check_aftermath(t, &r, pidfile, why, sizeof(why))) {
		run_why(t, "after the restore was killed (%s): %s; see %s.log", what, why, what);
		ret = -ECANCELED;
	}
out:
	free(log);
	free(pidfile);
	return ret;
}

int restore_kills(struct test_run *t, const struct img_print *images)
{
	char *sites = t->desc->rkills ? strf("%s", t->desc->rkills) : NULL, *save = NULL, *site;
	unsigned int seed = (unsigned int)time(NULL) ^ (unsigned int)getpid();
	double t0, whole_ms;
	int ret = 0;

	for (site = sites ? strtok_r(sites, ",", &save) : NULL; site && !ret;
	     site = strtok_r(NULL, ",", &save)) {
		char *env = strf("CRIU_LITE_FAULT=%s:kill", site);
		char *what = strf("restore-kill-%s", site);

		ret = restore_killed(t, images, what, env, KILL_AT_SITE);
		free(env);
		free(what);
	}
	free(sites);
	if (ret || !t->desc->rkillrand)
		return ret;
	/* the random kills fall inside the time a whole restore takes */
	t0 = now_s();
	ret = restore_killed(t, images, "restore-killrand-whole", NULL, KILL_NONE);
	whole_ms = (now_s() - t0) * 1000;
	for (int i = 0; !ret && i < t->desc->rkillrand; i++) {
		int delay = (int)(rand_r(&seed) % ((unsigned int)whole_ms + 1));
		char *what = strf("restore-killrand-%d-%u", i, seed);

		ret = restore_killed(t, images, what, NULL, delay);
		free(what);
	}
	return ret;
}

int restore_faults(struct test_run *t, const struct img_print *images)
{
	char *sites = strf("%s", t->desc->rfaults), *save, *site;
	int ret = 0;

	for (site = strtok_r(sites, ",", &save); site && !ret; site = strtok_r(NULL, ",", &save))
		ret = restore_fault(t, images, site);
	free(sites);
	return ret;
}
