/* flavor remote: a dump pushed to a page server on another host, restored there. Per test, the
 * hosts A and B (hosts.h) and a key (flavor-remote.h); `criu-lite page-server` runs in B on an
 * empty directory (t->rimages, -d, its pid in page-server.pid, its log in page-server.log, its
 * figures in page-server.json). The test runs in A's network namespace (its unix sockets are
 * where the dump looks for them), and is dumped there with `dump --page-server --address B`
 * (no -D: nothing is written in A). Before that, faults= (tests.desc): one such dump per site
 * with CRIU_LITE_FAULT=SITE, which must fail, leave the tree running free and B's directory
 * empty (the server discarded what it got: the dump waits for it to say so). After the dump
 * (and opts=leave-running's check, as in h), the server is stopped with SIGTERM and must exit
 * 0 having received one dump (and as many failed ones as faults= has sites); the test is then
 * restored eagerly from B's directory, in B's network namespace, with the pids it had (as h
 * does). h's other dumps and restores that must fail (kills=, rfaults=, corrupt=) are h's:
 * the dump and the restore are the same code. Every dump and the restore have the options of
 * tests.desc opts= (desc_criu_args(): --tcp-established). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtm.h"
#include "desc.h"
#include "dumpcheck.h"
#include "flavor.h"
#include "flavor-h.h"
#include "flavor-remote.h"
#include "fs.h"
#include "hosts.h"
#include "proc.h"
#include "testrun.h"

#define FREE_GRACE_S 1.0 /* a tree a failed dump released may take that long to run again */

/* B's empty directory, and the page server on it */
static int push_prepare(struct test_run *t)
{
	int ret = remote_prepare(t);

	t->rimages = strf("%s/remote-images", t->dir);
	if (!ret && mkdir(t->rimages, 0700)) {
		run_why(t, "can't make %s: %s", t->rimages, strerror(errno));
		ret = -EIO;
	}
	return ret ? ret : remote_page_server(t, t->rimages, true);
}

/* The test runs in host A, its starter as the runner's own would. */
static int push_start(struct test_run *t, const struct spawn_req *req, int *status)
{
	struct spawn_req on_a = *req;
	char ns[96];
	int ret;

	hosts_path(&t->hosts, false, ns, sizeof(ns));
	on_a.netns = ns;
	ret = run_cmd(&on_a, t->deadline, status);
	if (!ret && *status == 0 && (ret = read_pid(t->pidfile, &t->pid)))
		run_why(t, "the starter exited 0 but pidfile %s is unusable: %s (errno %d)",
			t->pidfile, strerror(-ret), -ret);
	return ret;
}

/* `criu-lite dump --page-server` of the test in A: its log in what.log, env NULL or one
 * CRIU_LITE_FAULT=...; 0 and *status, or -errno after run_why(). */
static int push_dump(struct test_run *t, const char *what, const char *env, int *status)
{
	char *pid = strf("%d", t->pid), *log = strf("%s/%s.log", t->dir, what);
	char *argv[16 + DESC_CRIU_ARGS] = { t->opts->criu, "dump",	"-t",	  pid,
					    "-o",	   log,		"-v4",	  "--page-server",
					    "--address",   HOST_B_ADDR, "--port", REMOTE_PORT,
					    "--auth-key",  t->keyfile,	NULL };
	struct spawn_req req = { .argv = argv, .cwd = t->dir, .out = log, .env = env };
	char ns[96];
	int ret, n = 14;

	if (t->desc->leave_running && !env)
		argv[n++] = "--leave-running";
	desc_criu_args(t->desc, argv, n, true);
	hosts_path(&t->hosts, false, ns, sizeof(ns));
	req.netns = ns;
	ret = run_cmd(&req, t->deadline, status);
	if (ret == -ETIMEDOUT)
		run_why(t, "%s of pid %d not done within the %ds limit (killed); see %s.log", what,
			t->pid, t->timeout, what);
	else if (ret)
		run_why(t, "can't run %s dump: %s (errno %d)", t->opts->criu, strerror(-ret), -ret);
	free(pid);
	free(log);
	return ret;
}

/* faults=: each dump fails, the tree runs free, B's directory stays empty. */
static int push_faults(struct test_run *t)
{
	char *sites = strf("%s", t->desc->faults), *save, *site;
	int ret = 0;

	for (site = strtok_r(sites, ",", &save); site && !ret; site = strtok_r(NULL, ",", &save)) {
		char *env = strf("CRIU_LITE_FAULT=%s", site), *what = strf("dump-fault-%s", site);
		char why[768], st[64];
		int status = -1;

		ret = push_dump(t, what, env, &status);
		status_str(status, st, sizeof(st));
		if (!ret && !(WIFEXITED(status) && WEXITSTATUS(status))) {
			run_why(t,
				"dump --page-server of pid %d with %s ended with %s; it must fail; "
				"see %s.log",
				t->pid, env, st, what);
			ret = -ECANCELED;
		} else if (!ret && (tree_runs_free(t->pid, FREE_GRACE_S, why, sizeof(why)) ||
				    dir_empty(t->rimages, why, sizeof(why)))) {
			run_why(t, "after the dump --page-server with %s failed: %s; see %s.log",
				env, why, what);
			ret = -ECANCELED;
		}
		free(env);
		free(what);
	}
	free(sites);
	return ret;
}

/* The server stops on SIGTERM, exit 0, with one dump received (and the failed ones). */
static int stop_server(struct test_run *t)
{
	char *path = strf("%s/page-server.json", t->dir), *json = NULL;
	int status = -1, ret = 0, failed = 0;
	char st[64];
	size_t len;

	for (const char *p = t->desc->faults; p && *p; p++)
		failed += p == t->desc->faults || *p == ',';
	if (kill(t->psd, SIGTERM)) {
		run_why(t, "kill(%d, SIGTERM) (page-server): %s", t->psd, strerror(errno));
		ret = -errno;
	}
	if (!ret && !(ret = wait_deadline(t->psd, t->deadline, &status)))
		t->psd = 0;
	status_str(status, st, sizeof(st));
	if (!ret && status != 0) {
		run_why(t, "page-server ended with %s on SIGTERM; see page-server.log", st);
		ret = -ECANCELED;
	} else if (ret && !t->why[0]) {
		run_why(t, "page-server did not stop on SIGTERM; see page-server.log");
	}
	if (!ret && (!(json = read_file(path, &len)) || remote_json_num(json, "pushes") != 1 ||
		     remote_json_num(json, "pushes_failed") != failed)) {
		run_why(t, "page-server.json: pushes %.0f, pushes_failed %.0f; expected 1 and %d",
			remote_json_num(json, "pushes"), remote_json_num(json, "pushes_failed"),
			failed);
		ret = -ECANCELED;
	}
	free(json);
	free(path);
	return ret;
}

static int push_checkpoint(struct test_run *t)
{
	int status = -1, ret = t->desc->faults ? push_faults(t) : 0;
	char st[64];

	if (!ret)
		ret = push_dump(t, "dump", NULL, &status);
	status_str(status, st, sizeof(st));
	if (!ret && status != 0) {
		run_why(t, "dump --page-server of pid %d failed (%s); see dump.log", t->pid, st);
		ret = -ECANCELED;
	}
	if (!ret && t->desc->leave_running)
		ret = h_left_running(t);
	return ret ? ret : stop_server(t);
}

/* From B's directory, in B; the pids must be the test's (h_restore_with checks). */
static int push_restore(struct test_run *t)
{
	char ns[96], *images = t->images;
	int ret;

	hosts_path(&t->hosts, true, ns, sizeof(ns));
	t->images = t->rimages;
	t->restore_netns = ns;
	ret = h_restore_with(t, NULL);
	t->restore_netns = NULL;
	t->images = images;
	return ret;
}

static void push_cleanup(struct test_run *t)
{
	remote_cleanup(t); /* the page server if it still runs, the hosts */
	h_cleanup(t);
}

const struct flavor flavor_remote = {
	.name = "remote",
	.help = "run on host A (a network namespace), dumped with dump --page-server into a "
		"`criu-lite page-server` on host B over TLS, restored eagerly from B's directory "
		"in B, with the same pids",
	.prepare = push_prepare,
	.start = push_start,
	.checkpoint = push_checkpoint,
	.restore = push_restore,
	.exit_status = h_exit_status,
	.cleanup = push_cleanup,
};
