/* cmdtest: see cmdtest.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "zdtm.h"
#include "cmdtest.h"
#include "fs.h"
#include "proc.h"
#include "report.h"

bool cmdtest_valid(const char *spec)
{
	const char *eq = strchr(spec, '='), *colon;
	char *end;

	if (!eq || eq == spec || !eq[1] || memchr(spec, '/', (size_t)(eq - spec)))
		return false;
	colon = memchr(spec, ':', (size_t)(eq - spec));
	return !colon || (colon != spec && strtod(colon + 1, &end) > 0 && end == eq);
}

/* The last non-empty line of path into buf ("" if none). */
static void last_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	buf[0] = '\0';
	if (!f)
		return;
	while ((n = getline(&line, &cap, f)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n > 0)
			snprintf(buf, len, "%s", line);
	}
	free(line);
	fclose(f);
}

/* Echo the progress lines ("## ...") that the command wrote to its log since *off. */
static void echo_progress(const char *path, const char *label, long *off)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return;
	if (fseek(f, *off, SEEK_SET) == 0) {
		while ((n = getline(&line, &cap, f)) > 0 && line[n - 1] == '\n') {
			/* a line still being written (no newline yet) waits for next time */
			*off = ftell(f);
			if (!strncmp(line, "## ", 3))
				printf("      %s: %s", label, line + 3);
		}
	}
	free(line);
	fclose(f);
	fflush(stdout);
}

/* spawn() and wait, echoing the command's progress lines as they come (once a second) and
 * reaping the orphans of its trees (ten times a second: reap_orphans()). */
static int run_showing_progress(const struct spawn_req *req, const char *label, double deadline,
				int *status)
{
	pid_t pid = spawn(req);
	double shown = now_s();
	long off = 0;
	int ret;

	if (pid < 0)
		return pid;
	do {
		double step = now_s() + 0.1;

		ret = wait_deadline(pid, step < deadline ? step : deadline, status);
		reap_orphans(pid);
		if (now_s() - shown >= 1 || ret != -ETIMEDOUT) {
			echo_progress(req->out, label, &off);
			shown = now_s();
		}
	} while (ret == -ETIMEDOUT && now_s() < deadline);
	if (ret == -ETIMEDOUT)
		kill_wait(pid, status);
	return ret;
}

bool cmdtest_run(const struct zdtm_opts *o, const char *spec, struct totals *tot)
{
	const char *eq = strchr(spec, '='), *colon = memchr(spec, ':', (size_t)(eq - spec));
	char *name = strf("%.*s", (int)((colon ? colon : eq) - spec), spec);
	double limit = colon ? strtod(colon + 1, NULL) : CMDTEST_TIMEOUT_S;
	char *dir = strf("%s/cmd", o->out_dir);
	char *log = strf("%s/%s.log", dir, name);
	char *label = strf("cmd/%s", name);
	char *argv[] = { "/bin/sh", "-c", (char *)eq + 1, NULL };
	struct spawn_req req = { .argv = argv, .cwd = o->root, .out = log };
	double start = now_s();
	char why[512] = "", st[64], last[400];
	enum result r = RES_FAIL;
	int status = -1, ret;

	ret = mkdir_p(dir);
	if (!ret)
		ret = rm_rf(log);
	if (!ret)
		ret = run_showing_progress(&req, label, start + limit, &status);
	status_str(status, st, sizeof(st));
	last_line(log, last, sizeof(last));
	if (ret == -ETIMEDOUT)
		snprintf(why, sizeof(why), "killed at the %g s limit", limit);
	else if (ret)
		snprintf(why, sizeof(why), "could not run it: %s", strerror(-ret));
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		r = RES_PASS;
	else if (WIFEXITED(status) && WEXITSTATUS(status) == CMDTEST_SKIP)
		r = RES_SKIP;
	if (r != RES_PASS && !why[0])
		snprintf(why, sizeof(why), "%s%s%s", last[0] ? last : "no output",
			 r == RES_FAIL ? ", " : "", r == RES_FAIL ? st : "");
	report_line(r, label, now_s() - start, r == RES_PASS ? last : why);
	totals_add(tot, r, label);
	if (r == RES_PASS) {
		rm_rf(log);
	} else {
		printf("      kept: %s\n", log);
		if (r == RES_FAIL)
			print_tail(log, 30, "      ");
	}
	free(name);
	free(dir);
	free(log);
	free(label);
	return r != RES_FAIL;
}
