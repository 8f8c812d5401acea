/* testrun: see testrun.h. The phases, in order: start_test (until the
 * starter exits: ready or setup failed), checkpoint_restore (the flavor's
 * hooks), finish_test (SIGTERM, exit, verdict). */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtm.h"
#include "desc.h"
#include "flavor.h"
#include "fs.h"
#include "needs.h"
#include "proc.h"
#include "ptree.h"
#include "report.h"
#include "testrun.h"
#include "verdict.h"

void run_why(struct test_run *t, const char *fmt, ...)
{
	va_list ap;

	if (t->why[0])
		return;
	va_start(ap, fmt);
	vsnprintf(t->why, sizeof(t->why), fmt, ap);
	va_end(ap);
}

/* The outfile's verdict; a read error is a failure of the run. */
static int read_verdict(struct test_run *t, struct verdict *v)
{
	int ret = verdict_read(t->outfile, v);

	if (ret)
		run_why(t, "can't read %s: %s (errno %d)", t->outfile, strerror(-ret), -ret);
	return ret;
}

/* Ready: *go_on is set and RES_PASS returned. Otherwise the final result. */
static enum result start_test(struct test_run *t, bool *go_on)
{
	char *pidarg = strf("--pidfile=%s", t->pidfile);
	char *outarg = strf("--outfile=%s", t->outfile);
	char *argv[] = { t->bin, pidarg, outarg, NULL };
	struct spawn_req req = { .argv = argv, .cwd = t->dir, .out = t->outfile };
	enum expect expect = t->desc->expect;
	struct verdict v;
	char st[64];
	int status, ret;
	pid_t ppid;

	*go_on = false;
	if (t->flavor->start)
		ret = t->flavor->start(t, &req, &status);
	else
		ret = run_cmd(&req, t->deadline, &status);
	free(pidarg);
	free(outarg);
	if (ret == -ETIMEDOUT) {
		run_why(t, "timeout: setup not done within %ds", t->timeout);
		return RES_FAIL;
	}
	if (ret) {
		run_why(t, "can't run %s: %s (errno %d)", t->bin, strerror(-ret), -ret);
		return RES_FAIL;
	}
	if (read_verdict(t, &v))
		return RES_FAIL;
	status_str(status, st, sizeof(st));

	if (status != 0) {
		if (v.kind == V_SKIP) {
			run_why(t, "%s", v.msg);
			return RES_SKIP;
		}
		if (expect == EXPECT_SETUPFAIL && v.kind == V_FAIL) {
			run_why(t, "setup failed as expected: %s", v.msg);
			return RES_PASS;
		}
		run_why(t, "setup failed (starter %s): %s", st,
			v.kind == V_FAIL ? v.msg : "no FAIL: line in test.out");
		return RES_FAIL;
	}
	ret = t->flavor->start ? 0 : read_pid(t->pidfile, &t->pid);
	if (ret) {
		run_why(t, "the starter exited 0 but pidfile %s is unusable: %s (errno %d)",
			t->pidfile, strerror(-ret), -ret);
		return RES_FAIL;
	}
	if (expect == EXPECT_SETUPFAIL) {
		run_why(t, "setup succeeded (pid %d), but tests.desc expects it to fail", t->pid);
		return RES_FAIL;
	}
	ppid = parent_of(t->pid);
	if (ppid != getpid()) {
		run_why(t,
			"test pid %d is not the runner's child (parent %d): is the runner a "
			"subreaper?",
			t->pid, ppid);
		return RES_FAIL;
	}
	*go_on = true;
	return RES_PASS;
}

static enum result checkpoint_restore(struct test_run *t)
{
	const struct flavor *f = t->flavor;
	pid_t tree[PTREE_MAX];
	int n;

	if (!f->checkpoint)
		return RES_PASS;
	/* every process of the tree must be gone (and reaped) before the restore */
	n = ptree_procs(t->pid, tree, PTREE_MAX);
	if (n < 0) {
		run_why(t, "pid %d is gone before the checkpoint: %s (errno %d)", t->pid,
			strerror(-n), -n);
		return RES_FAIL;
	}
	if (f->checkpoint(t))
		return RES_FAIL;
	if (t->desc->expect == EXPECT_DUMPFAIL)
		return RES_PASS; /* refused as expected: the tree runs on and checks */
	for (int i = 0; i < n && !f->migrates; i++) {
		if (wait_gone(tree[i], t->deadline)) {
			run_why(t,
				"pid %d%s is still there after the checkpoint (until the time "
				"limit)",
				tree[i], i ? " of the test's tree" : "");
			return RES_FAIL;
		}
	}
	/* children of the tree born after it was listed above (a zombie of a killed task is
	 * ours then, a child it forked just before is still alive): killed and reaped, so that
	 * no pid they hold (their process group: the test's pid, from its setsid()) stands in
	 * the restore's way */
	while (!f->migrates && kill(-t->pid, 0) == 0 && now_s() < t->deadline) {
		kill(-t->pid, SIGKILL);
		reap_orphans(0);
		usleep(10 * 1000);
	}
	if (!f->migrates)
		reap_orphans(0);
	if (f->restore(t))
		return RES_FAIL;
	return RES_PASS;
}

/* The test has exited with status (-1: not known); judge what it said. */
static enum result judge(struct test_run *t, int status)
{
	enum expect expect = t->desc->expect;
	struct verdict v;
	char st[64];

	if (read_verdict(t, &v))
		return RES_FAIL;
	status_str(status, st, sizeof(st));
	if (status != -1 && WIFSIGNALED(status)) {
		run_why(t, "the test died of %s%s%s", st, v.kind == V_FAIL ? " after FAIL: " : "",
			v.kind == V_FAIL ? v.msg : "");
		return RES_FAIL;
	}
	switch (v.kind) {
	case V_FAIL:
		if (expect == EXPECT_FAIL) {
			run_why(t, "reported FAIL as expected: %s", v.msg);
			return RES_PASS;
		}
		run_why(t, "%s", v.msg);
		return RES_FAIL;
	case V_SKIP:
		run_why(t, "%s", v.msg);
		return RES_SKIP;
	case V_PASS:
		if (expect == EXPECT_FAIL) {
			run_why(t, "reported PASS, but tests.desc expects FAIL");
			return RES_FAIL;
		}
		if (status != -1 &&
		    !(WIFEXITED(status) && WEXITSTATUS(status) == t->desc->exit_code)) {
			run_why(t, "reported PASS but ended with %s%s%s%s, expected exit %d", st,
				t->status_src ? " (" : "", t->status_src ? t->status_src : "",
				t->status_src ? ")" : "", t->desc->exit_code);
			return RES_FAIL;
		}
		return RES_PASS;
	case V_CONFLICT:
		run_why(t, "%s", v.msg);
		return RES_FAIL;
	default:
		run_why(t, "no verdict in test.out (the test ended with %s)", st);
		return RES_FAIL;
	}
}

static enum result finish_test(struct test_run *t)
{
	enum expect expect = t->desc->expect;
	int status = -1;
	char st[64];
	int ret;

	/* a test must still be there to be told to check: else it checked nothing */
	if (waitpid(t->pid, &status, WNOHANG) == t->pid) {
		struct verdict v;

		if (read_verdict(t, &v))
			return RES_FAIL;
		if (v.kind == V_SKIP) {
			run_why(t, "%s", v.msg);
			return RES_SKIP;
		}
		status_str(status, st, sizeof(st));
		run_why(t, "pid %d ended (%s) before SIGTERM%s%s", t->pid, st,
			v.kind == V_FAIL ? ": " : "", v.kind == V_FAIL ? v.msg : "");
		return RES_FAIL;
	}
	if (kill(t->pid, SIGTERM)) {
		run_why(t, "kill(%d, SIGTERM): %s (errno %d)", t->pid, strerror(errno), errno);
		return RES_FAIL;
	}
	ret = wait_deadline(t->pid, t->deadline, &status);
	if (ret == -ETIMEDOUT) {
		kill_wait(t->pid, &status);
		if (expect == EXPECT_TIMEOUT) {
			run_why(t, "still running at its %ds limit and killed, as expected",
				t->timeout);
			return RES_PASS;
		}
		run_why(t, "timeout: pid %d still running at the %ds limit after SIGTERM; killed",
			t->pid, t->timeout);
		return RES_FAIL;
	}
	if (ret == -ESRCH) {
		status = -1;
	} else if (ret) {
		run_why(t, "can't wait for pid %d: %s (errno %d)", t->pid, strerror(-ret), -ret);
		return RES_FAIL;
	}
	if (t->flavor->exit_status && t->flavor->exit_status(t, &status))
		return RES_FAIL;
	if (expect == EXPECT_TIMEOUT) {
		status_str(status, st, sizeof(st));
		run_why(t, "ended (%s) before its %ds limit, but tests.desc expects a timeout", st,
			t->timeout);
		return RES_FAIL;
	}
	return judge(t, status);
}

static enum result run_phases(struct test_run *t)
{
	char need[160];
	enum result res;
	bool go_on;

	if (needs_unmet(t->desc->needs, need, sizeof(need))) {
		run_why(t, "needs %s", need);
		return RES_SKIP;
	}
	if (access(t->bin, X_OK)) {
		run_why(t, "no test binary %s: %s (errno %d)", t->bin, strerror(errno), errno);
		return RES_FAIL;
	}
	if (rm_rf(t->dir) || mkdir_p(t->images)) {
		run_why(t, "can't prepare the work dir %s", t->dir);
		return RES_FAIL;
	}
	if (t->flavor->prepare && t->flavor->prepare(t))
		return RES_FAIL;
	res = start_test(t, &go_on);
	if (!go_on)
		return res;
	res = checkpoint_restore(t);
	if (res != RES_PASS || t->over)
		return res;
	return finish_test(t);
}

enum result run_one(const struct zdtm_opts *o, const struct test_desc *d, const struct flavor *f)
{
	static const char *const logs[] = { "test.out", "dump.log", "restore.log", NULL };
	struct test_run t = {
		.opts = o,
		.desc = d,
		.flavor = f,
		.timeout = d->timeout ? d->timeout : o->timeout,
	};
	double start = now_s();
	enum result res;
	unsigned strays;
	char *label;

	t.bin = strf("%s/build/zdtm/%s", o->root, d->name);
	t.dir = strf("%s/%s/%s", o->out_dir, f->name, d->name);
	t.images = strf("%s/images", t.dir);
	t.pidfile = strf("%s/pidfile", t.dir);
	t.outfile = strf("%s/test.out", t.dir);
	t.deadline = start + t.timeout;

	res = run_phases(&t);
	if (f->cleanup)
		f->cleanup(&t);
	char stray[96] = "";

	strays = kill_strays(stray, sizeof(stray));
	if (strays && res == RES_PASS) {
		res = RES_FAIL;
		t.why[0] = '\0';
		run_why(&t, "passed, but %u process(es) were left running (killed), %s first",
			strays, stray);
	}

	label = strf("%s/%s", f->name, d->name);
	report_line(res, label, now_s() - start, t.why);
	if (res == RES_FAIL)
		report_kept(t.dir, logs);
	else
		rm_rf(t.dir);
	free(label);
	free(t.bin);
	free(t.dir);
	free(t.images);
	free(t.rimages);
	free(t.keyfile);
	free(t.pidfile);
	free(t.outfile);
	return res;
}
