/* flavor h: checkpoint and restore on the host, in the runner's namespaces;
 * the restored tree must get the pids it had.
 *
 * tests.desc faults=SITE,...: before the real dump, one dump per site with
 * CRIU_LITE_FAULT=SITE in its environment; each must fail and leave the test
 * running free (not stopped, not traced) with no files in images/.
 * opts=leave-running: the dump gets --leave-running; the test must still run
 * free after it, and is then killed, so that the restore starts from the
 * images alone. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zdtm.h"
#include "flavor.h"
#include "fs.h"
#include "desc.h"
#include "dumpcheck.h"
#include "proc.h"
#include "testrun.h"

/* how long a task just released by a dump may take to leave its stop */
#define FREE_GRACE_S 1.0

static int h_prepare(struct test_run *t)
{
	if (access(t->opts->criu, X_OK)) {
		int e = errno;

		run_why(t,
			"criu-lite is not executable at %s: %s (errno %d); build it or pass --criu",
			t->opts->criu, strerror(e), e);
		return -e;
	}
	return 0;
}

/* Run "criu-lite <what> ..." with its output in dir/<what>.log. */
static int run_criu(struct test_run *t, const char *what, char **argv)
{
	char *log = strf("%s/%s.log", t->dir, what);
	struct spawn_req req = { .argv = argv, .cwd = t->dir, .out = log };
	char st[64];
	int status = -1, ret;

	ret = run_cmd(&req, t->deadline, &status);
	status_str(status, st, sizeof(st));
	if (ret == -ETIMEDOUT)
		run_why(t, "%s of pid %d not done within the %ds limit (killed); see %s.log", what,
			t->pid, t->timeout, what);
	else if (ret)
		run_why(t, "can't run %s %s: %s (errno %d)", t->opts->criu, what, strerror(-ret),
			-ret);
	else if (status != 0)
		run_why(t, "%s of pid %d failed (%s); see %s.log", what, t->pid, st, what);
	free(log);
	return ret ? ret : status ? -ECANCELED : 0;
}

/* One dump that must fail at site, and leave the test as it was. */
static int h_fault_dump(struct test_run *t, const char *site)
{
	char *pid = strf("%d", t->pid);
	char *what = strf("dump-fault-%s", site);
	char *log = strf("%s/%s.log", t->dir, what);
	char *env = strf("CRIU_LITE_FAULT=%s", site);
	char *argv[] = {
		t->opts->criu, "dump", "-t", pid, "-D", t->images, "-o", log, "-v4", NULL
	};
	struct spawn_req req = { .argv = argv, .cwd = t->dir, .out = log, .env = env };
	char why[512], st[64];
	int status = -1, ret;

	ret = run_cmd(&req, t->deadline, &status);
	status_str(status, st, sizeof(st));
	if (ret == -ETIMEDOUT) {
		run_why(t,
			"dump of pid %d with %s not done within the %ds limit (killed); see %s.log",
			t->pid, env, t->timeout, what);
	} else if (ret) {
		run_why(t, "can't run %s dump: %s (errno %d)", t->opts->criu, strerror(-ret), -ret);
	} else if (status == 0) {
		run_why(t, "dump of pid %d with %s succeeded; it must fail; see %s.log", t->pid,
			env, what);
		ret = -ECANCELED;
	} else if (task_runs_free(t->pid, FREE_GRACE_S, why, sizeof(why)) ||
		   dir_empty(t->images, why, sizeof(why))) {
		run_why(t, "after the dump with %s failed (%s): %s; see %s.log", env, st, why,
			what);
		ret = -ECANCELED;
	}
	free(pid);
	free(what);
	free(log);
	free(env);
	return ret;
}

static int h_fault_dumps(struct test_run *t)
{
	char *sites = strf("%s", t->desc->faults), *save, *site;
	int ret = 0;

	for (site = strtok_r(sites, ",", &save); site && !ret; site = strtok_r(NULL, ",", &save))
		ret = h_fault_dump(t, site);
	free(sites);
	return ret;
}

/* After a --leave-running dump: the test must run free; then it goes. */
static int h_left_running(struct test_run *t)
{
	char why[512];
	int status, ret;

	if (task_runs_free(t->pid, FREE_GRACE_S, why, sizeof(why))) {
		run_why(t, "after dump --leave-running: %s; see dump.log", why);
		return -ECANCELED;
	}
	ret = kill_wait(t->pid, &status);
	if (ret)
		run_why(t, "can't kill pid %d after dump --leave-running: %s (errno %d)", t->pid,
			strerror(-ret), -ret);
	return ret;
}

static int h_checkpoint(struct test_run *t)
{
	char *pid = strf("%d", t->pid);
	char *log = strf("%s/dump.log", t->dir);
	char *argv[11] = { t->opts->criu, "dump", "-t", pid, "-D", t->images, "-o", log, "-v4" };
	int ret = 0;

	if (t->desc->leave_running)
		argv[9] = "--leave-running";
	if (t->desc->faults)
		ret = h_fault_dumps(t);
	if (!ret)
		ret = run_criu(t, "dump", argv);
	if (!ret && t->desc->leave_running)
		ret = h_left_running(t);
	free(pid);
	free(log);
	return ret;
}

static int h_restore(struct test_run *t)
{
	char *log = strf("%s/restore.log", t->dir);
	char *pidfile = strf("%s/restored.pid", t->dir);
	char *argv[] = {
		t->opts->criu, "restore", "-D",	       t->images, "-d", "-o",
		log,	       "-v4",	  "--pidfile", pidfile,	  NULL,
	};
	pid_t pid = 0;
	int ret = run_criu(t, "restore", argv);

	if (!ret) {
		ret = read_pid(pidfile, &pid);
		if (ret)
			run_why(t, "restore succeeded, but %s is unusable: %s (errno %d)", pidfile,
				strerror(-ret), -ret);
	}
	if (!ret && pid != t->pid) {
		run_why(t, "restored as pid %d, not as pid %d", pid, t->pid);
		ret = -ESRCH;
	}
	if (pid > 0)
		t->pid = pid;
	free(log);
	free(pidfile);
	return ret;
}

const struct flavor flavor_h = {
	.name = "h",
	.help = "host: criu-lite dump, then restore with the same pids",
	.prepare = h_prepare,
	.checkpoint = h_checkpoint,
	.restore = h_restore,
};
