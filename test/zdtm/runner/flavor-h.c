/* flavor h: checkpoint and restore on the host, in the runner's namespaces;
 * the restored tree must get the pids it had.
 *
 * tests.desc faults=SITE,... and expect=dumpfail: dumps that must fail and
 * leave the whole tree running free (dumpfail.h).
 * opts=leave-running: the dump gets --leave-running; the test must still run
 * free after it, and is then killed, so that the restore starts from the
 * images alone.
 * rfaults=SITE,... and corrupt=1: before the real restore, restores that must
 * fail (restorefail.h), each leaving no process and the images untouched.
 * opts=restore-wait: the restore runs without -d and stays the test's parent;
 * after SIGTERM its own exit status must be the test's (tests.desc exit=).
 * opts=tcp-established: every dump and restore gets --tcp-established (desc_criu_args()). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zdtm.h"
#include "flavor.h"
#include "flavor-h.h"
#include "fs.h"
#include "desc.h"
#include "dumpcheck.h"
#include "dumpfail.h"
#include "imgprint.h"
#include "proc.h"
#include "ptree.h"
#include "restorefail.h"
#include "testrun.h"

/* how long a task just released by a dump may take to leave its stop */
#define FREE_GRACE_S 1.0
/* how long a waiting restore command may take to exit after its task did */
#define RESTORER_GRACE_S 5.0
#define POLL_NS		 (10 * 1000 * 1000)

int h_prepare(struct test_run *t)
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
int h_run_criu(struct test_run *t, const char *what, char **argv, const char *env)
{
	return h_run_criu_in(t, what, argv, env, NULL);
}

int h_run_criu_in(struct test_run *t, const char *what, char **argv, const char *env,
		  const char *netns)
{
	char *log = strf("%s/%s.log", t->dir, what);
	struct spawn_req req = {
		.argv = argv, .cwd = t->dir, .out = log, .env = env, .netns = netns
	};
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

/* After a --leave-running dump: the test's tree must run free; then it goes
 * (the runner then waits until every process of it is gone). */
int h_left_running(struct test_run *t)
{
	pid_t tree[PTREE_MAX];
	char why[512];
	int status, ret, n;

	if (tree_runs_free(t->pid, FREE_GRACE_S, why, sizeof(why))) {
		run_why(t, "after dump --leave-running: %s; see dump.log", why);
		return -ECANCELED;
	}
	n = ptree_procs(t->pid, tree, PTREE_MAX);
	for (int i = 1; i < n; i++)
		kill(tree[i], SIGKILL);
	ret = kill_wait(t->pid, &status);
	if (ret)
		run_why(t, "can't kill pid %d after dump --leave-running: %s (errno %d)", t->pid,
			strerror(-ret), -ret);
	return ret;
}

int h_checkpoint(struct test_run *t)
{
	char *pid = strf("%d", t->pid);
	char *log = strf("%s/dump.log", t->dir);
	char *argv[11 + DESC_CRIU_ARGS] = { t->opts->criu, "dump", "-t", pid,  "-D",
					    t->images,	   "-o",   log,	 "-v4" };
	int ret = 0, n = 9;

	if (t->desc->leave_running)
		argv[n++] = "--leave-running";
	desc_criu_args(t->desc, argv, n, true);
	if (t->desc->faults)
		ret = dump_faults(t);
	if (!ret && (t->desc->kills || t->desc->killrand))
		ret = dump_kills(t);
	if (!ret && t->desc->expect == EXPECT_DUMPFAIL) {
		ret = dump_refused(t);
		free(pid);
		free(log);
		return ret;
	}
	if (!ret)
		ret = h_run_criu(t, "dump", argv, NULL);
	if (!ret && t->desc->leave_running)
		ret = h_left_running(t);
	free(pid);
	free(log);
	return ret;
}

/* rfaults= and corrupt=: the restores that must fail, on the images of the dump. */
static int h_failing_restores(struct test_run *t)
{
	struct img_print was, now;
	char why[512];
	int ret = 0;

	if (img_print_take(t->images, &was, why, sizeof(why))) {
		run_why(t, "%s", why);
		return -EIO;
	}
	if (t->desc->rfaults)
		ret = restore_faults(t, &was);
	if (!ret && (t->desc->rkills || t->desc->rkillrand))
		ret = restore_kills(t, &was);
	if (!ret && t->desc->corrupt)
		ret = restore_corrupt(t, &was);
	if (!ret && img_print_take(t->images, &now, why, sizeof(why))) {
		run_why(t, "%s", why);
		ret = -EIO;
	} else if (!ret) {
		if (img_print_cmp(&was, &now, why, sizeof(why))) {
			run_why(t, "the failed restores changed the images: %s", why);
			ret = -ECANCELED;
		}
		img_print_free(&now);
	}
	img_print_free(&was);
	return ret;
}

/* restore-wait: start the restore without -d; it stays the restored task's
 * parent. Its pid is in t->restorer once the pidfile names the task. */
static int h_restore_wait(struct test_run *t, char **argv, const char *pidfile, pid_t *pid)
{
	const struct timespec nap = { 0, POLL_NS };
	char *log = strf("%s/restore.log", t->dir);
	struct spawn_req req = {
		.argv = argv, .cwd = t->dir, .out = log, .netns = t->restore_netns
	};
	int status, ret = 0;
	char st[64];

	t->restorer = spawn(&req);
	free(log);
	if (t->restorer < 0) {
		ret = t->restorer;
		t->restorer = 0;
		run_why(t, "can't run %s restore: %s (errno %d)", t->opts->criu, strerror(-ret),
			-ret);
		return ret;
	}
	while (read_pid(pidfile, pid)) {
		if (waitpid(t->restorer, &status, WNOHANG) == t->restorer) {
			status_str(status, st, sizeof(st));
			run_why(t,
				"restore of pid %d (without -d) ended (%s) before it wrote %s; "
				"see restore.log",
				t->pid, st, pidfile);
			t->restorer = 0;
			return -ECANCELED;
		}
		if (now_s() >= t->deadline) {
			run_why(t,
				"restore of pid %d (without -d) wrote no pidfile within the %ds "
				"limit; see restore.log",
				t->pid, t->timeout);
			return -ETIMEDOUT;
		}
		nanosleep(&nap, NULL);
	}
	if (parent_of(*pid) != t->restorer) {
		run_why(t,
			"restored pid %d has parent %d, not the restore command (pid %d) that "
			"must wait for it",
			*pid, parent_of(*pid), t->restorer);
		ret = -ECANCELED;
	}
	return ret;
}

int h_restore_with(struct test_run *t, const char *const *extra)
{
	char *log = strf("%s/restore.log", t->dir);
	char *pidfile = strf("%s/restored.pid", t->dir);
	char *argv[16 + DESC_CRIU_ARGS] = {
		t->opts->criu, "restore",   "-D",    t->images, "-o", log,
		"-v4",	       "--pidfile", pidfile, "-d",	NULL,
	};
	pid_t pid = 0;
	int ret = 0, n = 10;

	for (int i = 0; extra && extra[i] && i < 5; i++)
		argv[n++] = (char *)extra[i];
	desc_criu_args(t->desc, argv, n, false);

	if (t->desc->restore_wait) {
		for (int i = 9; argv[i]; i++) /* no -d */
			argv[i] = argv[i + 1];
		ret = h_restore_wait(t, argv, pidfile, &pid);
	} else {
		ret = h_run_criu_in(t, "restore", argv, NULL, t->restore_netns);
		if (!ret) {
			ret = read_pid(pidfile, &pid);
			if (ret)
				run_why(t, "restore succeeded, but %s is unusable: %s (errno %d)",
					pidfile, strerror(-ret), -ret);
		}
	}
	/* flavors that borrow this hook check the restored pid their own way */
	if (!ret &&
	    (t->flavor == &flavor_h || t->flavor == &flavor_lazy || t->flavor == &flavor_ps_lazy ||
	     t->flavor == &flavor_remote || t->flavor == &flavor_pre ||
	     t->flavor == &flavor_pre_lazy) &&
	    pid != t->pid) {
		run_why(t, "restored as pid %d, not as pid %d", pid, t->pid);
		ret = -ESRCH;
	}
	if (pid > 0)
		t->pid = pid;
	free(log);
	free(pidfile);
	return ret;
}

int h_failing_restores_first(struct test_run *t)
{
	if (t->desc->rfaults || t->desc->corrupt || t->desc->rkills || t->desc->rkillrand)
		return h_failing_restores(t);
	return 0;
}

static int h_restore(struct test_run *t)
{
	int ret = h_failing_restores_first(t);

	return ret ? ret : h_restore_with(t, NULL);
}

/* restore-wait: the test has exited; the restore command must follow it with
 * the test's exit status as its own (128+N for death by signal N). */
int h_exit_status(struct test_run *t, int *status)
{
	int rst, ret, code;
	char st[64];

	if (!t->restorer)
		return 0;
	if (*status != -1) {
		run_why(t,
			"pid %d was reparented to the runner before it exited: the restore "
			"command (pid %d) did not wait for it; see restore.log",
			t->pid, t->restorer);
		return -ECANCELED;
	}
	ret = wait_deadline(t->restorer, now_s() + RESTORER_GRACE_S, &rst);
	if (ret) {
		if (ret == -ETIMEDOUT)
			run_why(t,
				"the restore command (pid %d) still runs %.0fs after pid %d "
				"exited; see restore.log",
				t->restorer, RESTORER_GRACE_S, t->pid);
		else
			run_why(t, "can't wait for the restore command (pid %d): %s (errno %d)",
				t->restorer, strerror(-ret), -ret);
		return ret;
	}
	t->restorer = 0;
	status_str(rst, st, sizeof(st));
	if (rst == -1 || !WIFEXITED(rst)) {
		run_why(t,
			"the restore command that waited for pid %d ended with %s, not with "
			"an exit status; see restore.log",
			t->pid, st);
		return -ECANCELED;
	}
	code = WEXITSTATUS(rst);
	*status = code > 128 && code < 128 + NSIG ? W_EXITCODE(0, code - 128) : W_EXITCODE(code, 0);
	t->status_src = "the exit status of the restore command that waited for it";
	return 0;
}

void h_cleanup(struct test_run *t)
{
	int status;

	if (t->restorer > 0)
		kill_wait(t->restorer, &status);
	t->restorer = 0;
}

const struct flavor flavor_h = {
	.name = "h",
	.help = "host: criu-lite dump, then restore with the same pids",
	.prepare = h_prepare,
	.checkpoint = h_checkpoint,
	.restore = h_restore,
	.exit_status = h_exit_status,
	.cleanup = h_cleanup,
};
