/* flavor lazy: dumped as in h, restored with --lazy-pages from a `criu-lite lazy-pages` the
 * runner starts on the images (after the failing restores of rfaults=, rkills= and corrupt=,
 * which are h's plain ones) (-d, its pid in lazy-pages.pid, its figures in
 * lazy-pages.json, its log in lazy-pages.log). tests.desc lazy= says how (desc.h):
 * - prefetch (default): the server must bring every page in and exit 0 before the test gets
 *   SIGTERM, so the test checks its whole state with every page in place;
 * - faults: the server holds its prefetch (CRIU_LITE_FAULT=lazy-prefetch) until the test has
 *   exited: what the test touches after SIGTERM comes in through faults; then SIGUSR1, and
 *   the server must finish and exit 0;
 * - kill / stall: right after the restore the server is SIGKILLed / SIGSTOPped (the restore
 *   gets --lazy-timeout 2): the guardian must kill the whole tree, the test must die of
 *   SIGKILL without having written a verdict (a wrong page it saw would be a FAIL line), and
 *   restore.log must say why. The run ends there. For kill the guardian is held stopped until
 *   a thread of the test waits in a fault the dead server can't serve (wchan
 *   handle_userfault): so the uffd copies it holds are what keeps the test from zero pages,
 *   not the speed of its kill.
 * lazystats=a,b: those figures of lazy-pages.json must not be 0 (faults, forks, ...).
 * flavors ps-lazy and remote-lazy are the same across two hosts (flavor-remote.h): lazy-pages
 * runs on B with --page-server, its pages come from a page server on A (ps-lazy) or from the
 * source of a lazy migration (remote-lazy: dump --lazy-pages). */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "zdtm.h"
#include "desc.h"
#include "flavor.h"
#include "flavor-h.h"
#include "flavor-precopy.h"
#include "flavor-pre.h"
#include "flavor-pidns.h"
#include "flavor-remote.h"
#include "fs.h"
#include "proc.h"
#include "statskeys.h"
#include "testrun.h"
#include "verdict.h"

/* ps-lazy and remote-lazy: lazy-pages on host B, its pages from host A */
static bool remote(const struct test_run *t)
{
	return t->flavor == &flavor_ps_lazy || t->flavor->migrates;
}

static bool migrating(const struct test_run *t)
{
	return t->flavor->migrates;
}

static int start_server(struct test_run *t)
{
	char *pidf = strf("%s/lazy-pages.pid", t->dir);
	char *stats = strf("%s/lazy-pages.json", t->dir);
	char *log = strf("%s/lazy-pages.log", t->dir);
	char *argv[24] = { t->opts->criu, "lazy-pages", "-D", remote(t) ? t->rimages : t->images,
			   "-d",	  "--pidfile",	pidf, "--stats-file",
			   stats,	  "-o",		log,  "-v4",
			   NULL };
	char ns[96];
	int ret;

	if (remote(t)) {
		remote_lazy_args(t, argv + 12);
		hosts_path(&t->hosts, true, ns, sizeof(ns));
	}
	ret = h_run_criu_in(t, "lazy-pages-start", argv,
			    t->desc->lazy == LAZY_PREFETCH ? NULL : "CRIU_LITE_FAULT=lazy-prefetch",
			    remote(t) ? ns : NULL);

	if (!ret && (ret = read_pid(pidf, &t->lazyd)))
		run_why(t, "lazy-pages -d succeeded, but %s is unusable: %s (errno %d)", pidf,
			strerror(-ret), -ret);
	free(pidf);
	free(stats);
	free(log);
	return ret;
}

/* Every key of lazystats= must be in lazy-pages.json with a value above 0. */
static int check_stats(struct test_run *t)
{
	return stats_keys_positive(t, "lazy-pages.json", t->desc->lazystats);
}

/* pre-lazy: lazy-pages served the final dump's pages, never one the chain holds (those were put
 * in eagerly): the private pages it copied in are no more than the dump copied, once per task
 * that holds them (each fork at restore of a task whose pages were still coming), and the pages
 * it wrote into shared memory objects no more than the dump copied of those. */
static int chain_served(struct test_run *t)
{
	static const char *const keys[] = { "pages_fault", "pages_around", "pages_prefetch" };
	long served = 0, copied = stats_key(t, "dump.json", "pages_written");
	long forks = stats_key(t, "lazy-pages.json", "forks");

	for (size_t i = 0; i < 3 && served >= 0; i++) {
		long v = stats_key(t, "lazy-pages.json", keys[i]);

		served = v < 0 ? -1 : served + v;
	}
	if (served < 0 || copied < 0 || forks < 0 || served > copied * (forks + 1)) {
		run_why(
		    t,
		    "lazy-pages served %ld private pages, the final dump copied %ld, %ld fork(s) "
		    "(the rest is in the chain: put in eagerly, never served); see "
		    "lazy-pages.json and dump.json",
		    served, copied, forks);
		return -ECANCELED;
	}
	/* shared memory: each object's pages are written into it once, whoever faults */
	served = stats_key(t, "lazy-pages.json", "shm_pages_fault");
	copied = stats_key(t, "lazy-pages.json", "shm_pages_prefetch");
	served = served < 0 || copied < 0 ? -1 : served + copied;
	copied = stats_key(t, "dump.json", "shmem_pages_written");
	if (served < 0 || copied < 0 || served > copied) {
		run_why(t,
			"lazy-pages wrote %ld pages into shared memory objects, the final dump "
			"copied %ld of them (the rest is in the chain: put in eagerly); see "
			"lazy-pages.json and dump.json",
			served, copied);
		return -ECANCELED;
	}
	return 0;
}

/* The server must exit 0 (within the test's time limit). */
static int server_done(struct test_run *t)
{
	int status, ret = wait_deadline(t->lazyd, t->deadline, &status);
	char st[64];

	if (ret == -ETIMEDOUT) {
		run_why(t, "lazy-pages (pid %d) still runs at the time limit; see lazy-pages.log",
			t->lazyd);
		return ret;
	}
	t->lazyd = 0;
	if (ret || status != 0) {
		status_str(status, st, sizeof(st));
		run_why(t, "lazy-pages ended with %s; see lazy-pages.log", ret ? "?" : st);
		return -ECANCELED;
	}
	ret = check_stats(t);
	if (!ret && remote(t)) /* a migration's source writes dump.json once it ended */
		ret = remote_check(t);
	if (!ret && (t->flavor == &flavor_pre_lazy || t->flavor == &flavor_pre_remote))
		ret = chain_served(t);
	if (!ret && t->flavor == &flavor_pre_remote) /* prestats=: the chain was used */
		ret = stats_keys_positive(t, "dump.json", t->desc->prestats);
	return ret;
}

/* kill / stall: the guardian (pid g) must kill the tree before the test saw a wrong page,
 * then exit 1 itself. */
static int killed_by_guardian(struct test_run *t, const char *cause, pid_t g)
{
	char *log = strf("%s/restore.log", t->dir);
	size_t len;
	char *text = NULL;
	struct verdict v;
	int status, ret = wait_deadline(t->pid, t->deadline, &status);
	char st[64];

	status_str(status, st, sizeof(st));
	if (ret) {
		run_why(t, "%s: pid %d was not killed by the guardian (%s); see restore.log", cause,
			t->pid, ret == -ETIMEDOUT ? "alive at the time limit" : strerror(-ret));
	} else if (status != -1 && !(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) {
		run_why(t, "%s: pid %d ended with %s, not SIGKILL from the guardian", cause, t->pid,
			st);
		ret = -ECANCELED;
	} else if (verdict_read(t->outfile, &v) || v.kind != V_NONE) {
		run_why(t, "%s: the test said %s before it was killed", cause,
			v.kind == V_FAIL ? v.msg : "something");
		ret = -ECANCELED;
	} else if (!(text = read_file(log, &len)) || !strstr(text, "killed the restored tree")) {
		run_why(t, "%s: restore.log does not say that the guardian killed the tree", cause);
		ret = -ECANCELED;
	} else if (wait_deadline(g, t->deadline, &status) || status == -1 || !WIFEXITED(status) ||
		   WEXITSTATUS(status) != 1) {
		run_why(t, "%s: the guardian (pid %d) did not exit 1 after it killed the tree",
			cause, g);
		ret = -ECANCELED;
	} else {
		run_why(t, "%s: the guardian killed the tree (%s) before it saw a wrong page",
			cause, st);
		t->over = true;
	}
	if (text)
		free(text);
	free(log);
	return ret;
}

/* The runner's child named lazy-guardian (the restore -d that made it has exited), or 0. */
static pid_t find_guardian(void)
{
	pid_t kids[64];
	int n = list_children(kids, 64);

	for (int i = 0; i < n; i++) {
		char path[64], comm[32] = "";
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/comm", kids[i]);
		f = fopen(path, "re");
		if (f && fgets(comm, sizeof(comm), f) && !strcmp(comm, "lazy-guardian\n")) {
			fclose(f);
			return kids[i];
		}
		if (f)
			fclose(f);
	}
	return 0;
}

/* Some thread of pid waits for a userfaultfd fault to be served. */
static bool in_uffd_fault(pid_t pid)
{
	char path[64];
	DIR *d;
	struct dirent *de;
	bool yes = false;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	while (d && !yes && (de = readdir(d))) {
		char wpath[320], w[64] = "";
		FILE *f;

		snprintf(wpath, sizeof(wpath), "/proc/%d/task/%s/wchan", pid, de->d_name);
		f = fopen(wpath, "re");
		if (f) {
			yes = fgets(w, sizeof(w), f) && !strcmp(w, "handle_userfault");
			fclose(f);
		}
	}
	if (d)
		closedir(d);
	return yes;
}

/* kill: with the guardian stopped, the server dies; the test must come to wait in a fault
 * (or, with zero pages under it, fail or crash: then it is gone); then the guardian goes on. */
static int kill_server(struct test_run *t)
{
	const struct timespec nap = { 0, 10 * 1000 * 1000 };
	pid_t g = find_guardian();
	int status;

	if (!g) {
		run_why(t, "no lazy-guardian among the runner's children after the restore");
		return -ESRCH;
	}
	kill(g, SIGSTOP);
	kill(t->lazyd, SIGKILL);
	wait_deadline(t->lazyd, t->deadline, &status);
	t->lazyd = 0;
	while (!in_uffd_fault(t->pid) && !kill(t->pid, 0) && now_s() < t->deadline) {
		if (waitpid(t->pid, &status, WNOHANG) == t->pid) {
			char st[64];

			status_str(status, st, sizeof(st));
			kill(g, SIGCONT);
			run_why(t,
				"lazy-pages SIGKILLed: pid %d ended (%s) while the guardian was "
				"stopped, not blocked in a fault; see test.out",
				t->pid, st);
			return -ECANCELED;
		}
		nanosleep(&nap, NULL);
	}
	kill(g, SIGCONT);
	return killed_by_guardian(t, "lazy-pages SIGKILLed", g);
}

static int lazy_restore(struct test_run *t)
{
	static const char *const plain[] = { "--lazy-pages", NULL };
	static const char *const stall[] = { "--lazy-pages", "--lazy-timeout", "2", NULL };
	/* remote: not the failing restores (h's own, eager: lazy runs them); restored from B's
	 * directory, which has no pages files (a migration's source made it, and serves) */
	int ret = migrating(t) ? 0 : remote(t) ? remote_setup(t) : h_failing_restores_first(t);
	char *images = t->images;

	if (!ret)
		ret = start_server(t);
	if (!ret) {
		if (remote(t))
			t->images = t->rimages;
		ret = h_restore_with(t, t->desc->lazy == LAZY_STALL ? stall : plain);
		t->images = images;
	}
	if (!ret && migrating(t)) {
		char when[64];

		snprintf(when, sizeof(when), "migrated (was host pid %d)", t->srcpid);
		ret = pidns_check_init(t, t->pid, when);
	}
	if (ret)
		return ret;
	switch (t->desc->lazy) {
	case LAZY_PREFETCH:
		return server_done(t);
	case LAZY_FAULTS:
		return 0;
	case LAZY_KILL:
		return kill_server(t);
	case LAZY_STALL: {
		pid_t g = find_guardian();

		if (!g) {
			run_why(t,
				"no lazy-guardian among the runner's children after the restore");
			return -ESRCH;
		}
		kill(t->lazyd, SIGSTOP);
		return killed_by_guardian(t, "lazy-pages SIGSTOPped", g);
	}
	}
	return 0;
}

static int lazy_exit_status(struct test_run *t, int *status)
{
	int ret = h_exit_status(t, status);

	if (ret || t->desc->lazy != LAZY_FAULTS || !t->lazyd)
		return ret;
	if (kill(t->lazyd, SIGUSR1)) {
		run_why(t, "kill(%d, SIGUSR1) (lazy-pages): %s", t->lazyd, strerror(errno));
		return -errno;
	}
	return server_done(t);
}

static void lazy_cleanup(struct test_run *t)
{
	int status;

	if (t->lazyd > 0) {
		kill(t->lazyd, SIGCONT);
		kill_wait(t->lazyd, &status);
		t->lazyd = 0;
	}
	if (remote(t))
		remote_cleanup(t);
	h_cleanup(t);
}

const struct flavor flavor_lazy = {
	.name = "lazy",
	.help = "as h, restored with --lazy-pages from a lazy-pages server on the images",
	.prepare = h_prepare,
	.checkpoint = h_checkpoint,
	.restore = lazy_restore,
	.exit_status = lazy_exit_status,
	.cleanup = lazy_cleanup,
};

const struct flavor flavor_ps_lazy = {
	.name = "ps-lazy",
	.help = "dumped on host A (a network namespace), restored with --lazy-pages on host B, "
		"every page from a `criu-lite page-server` in A over TLS",
	.prepare = remote_prepare,
	.checkpoint = h_checkpoint,
	.restore = lazy_restore,
	.exit_status = lazy_exit_status,
	.cleanup = lazy_cleanup,
};

/* pre-lazy: pre's pre-dumps and dump, then restored as lazy restores */
const struct flavor flavor_pre_lazy = {
	.name = "pre-lazy",
	.help = "as pre (3 pre-dumps, a dump against the last), restored with --lazy-pages: the "
		"chain's pages put in eagerly, the final dump's served by lazy-pages",
	.prepare = h_prepare,
	.checkpoint = pre_checkpoint,
	.restore = lazy_restore,
	.exit_status = lazy_exit_status,
	.cleanup = lazy_cleanup,
};

/* remote-lazy: the test runs on host A (its network namespace), as pid 1 of a PID namespace */
static int migrate_start(struct test_run *t, const struct spawn_req *req, int *status)
{
	struct spawn_req on_a = *req;
	char ns[96];

	hosts_path(&t->hosts, false, ns, sizeof(ns));
	on_a.netns = ns;
	return pidns_start(t, &on_a, status);
}

const struct flavor flavor_remote_lazy = {
	.name = "remote-lazy",
	.help = "a lazy migration: pid 1 of a PID namespace on host A (a network namespace), "
		"frozen there by dump --lazy-pages, which serves its memory to the restore on "
		"host B (a new PID namespace) over TLS, and kills it once B has every page",
	.prepare = remote_prepare,
	.start = migrate_start,
	.checkpoint = remote_migrate,
	.restore = lazy_restore,
	.exit_status = lazy_exit_status,
	.cleanup = lazy_cleanup,
	.migrates = true,
};

/* pre-remote: pre-copy + post-copy, remote-lazy's migration after pre-dumps sent to B */
const struct flavor flavor_pre_remote = {
	.name = "pre-remote",
	.help = "pre-copy + post-copy migration: pid 1 of a PID namespace on host A, 3 pre-dumps "
		"sent to page servers on host B, then dump --lazy-pages against the last; the "
		"restore on B takes the chain eagerly, the rest from A",
	.prepare = remote_prepare,
	.start = migrate_start,
	.checkpoint = precopy_checkpoint,
	.restore = lazy_restore,
	.exit_status = lazy_exit_status,
	.cleanup = lazy_cleanup,
	.migrates = true,
};
