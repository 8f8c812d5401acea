/* flavor h: checkpoint and restore on the host, in the runner's namespaces;
 * the restored tree must get the pids it had. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zdtm.h"
#include "flavor.h"
#include "fs.h"
#include "proc.h"
#include "testrun.h"

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

static int h_checkpoint(struct test_run *t)
{
	char *pid = strf("%d", t->pid);
	char *log = strf("%s/dump.log", t->dir);
	char *argv[] = {
		t->opts->criu, "dump", "-t", pid, "-D", t->images, "-o", log, "-v4", NULL
	};
	int ret = run_criu(t, "dump", argv);

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
