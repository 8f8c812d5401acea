/* unit: see unit.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "zdtm.h"
#include "fs.h"
#include "proc.h"
#include "report.h"
#include "unit.h"

/* A unit binary gets more time than one zdtm test: it holds many tests. */
#define UNIT_TIMEOUT_S 600

struct unit_counts {
	unsigned passed, failed, skipped;
	bool summary; /* at least one summary line was seen */
};

/* "[  PASSED  ] 12 test(s)." -> 12 into *n; the per-test lines
 * "[  FAILED  ] test_name" have no number and do not match. */
static bool summary_line(const char *line, const char *tag, unsigned *n)
{
	size_t len = strlen(tag);
	char *end;

	if (strncmp(line, tag, len) || line[len] < '0' || line[len] > '9')
		return false;
	unsigned long v = strtoul(line + len, &end, 10);

	if (strncmp(end, " test(s)", 8))
		return false;
	*n += (unsigned)v;
	return true;
}

static int parse_log(const char *path, struct unit_counts *c)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;

	if (!f) {
		int e = errno;

		zperror("can't read %s", path);
		return -e;
	}
	while (getline(&line, &cap, f) >= 0) {
		if (summary_line(line, "[  PASSED  ] ", &c->passed) ||
		    summary_line(line, "[  FAILED  ] ", &c->failed) ||
		    summary_line(line, "[  SKIPPED ] ", &c->skipped))
			c->summary = true;
	}
	free(line);
	fclose(f);
	return 0;
}

bool unit_run(const struct zdtm_opts *o, const char *bin, struct totals *tot)
{
	const char *base = strrchr(bin, '/') ? strrchr(bin, '/') + 1 : bin;
	char *dir = strf("%s/unit", o->out_dir);
	char *log = strf("%s/%s.log", dir, base);
	char *label = strf("unit/%s", base);
	char *argv[] = { (char *)bin, NULL };
	struct spawn_req req = { .argv = argv, .out = log, .env = "CMOCKA_MESSAGE_OUTPUT=STDOUT" };
	struct unit_counts c = { 0 };
	double start = now_s();
	char why[256] = "", st[64];
	int status = -1, ret;

	ret = mkdir_p(dir);
	if (!ret)
		ret = rm_rf(log);
	if (!ret)
		ret = run_cmd(&req, start + UNIT_TIMEOUT_S, &status);
	if (!ret)
		ret = parse_log(log, &c);
	status_str(status, st, sizeof(st));
	if (ret == -ETIMEDOUT)
		snprintf(why, sizeof(why), "killed at the %ds limit", UNIT_TIMEOUT_S);
	else if (ret)
		snprintf(why, sizeof(why), "could not run it or read its log: %s", strerror(-ret));
	else if (WIFSIGNALED(status))
		snprintf(why, sizeof(why), "crashed: %s", st);
	else if (!c.summary)
		snprintf(why, sizeof(why), "ended with %s without a cmocka summary", st);
	else if (status != 0 && !c.failed)
		snprintf(why, sizeof(why), "ended with %s without a FAILED summary", st);
	if (why[0]) /* the binary itself failed, beyond any test it reported */
		c.failed++;
	else if (c.failed)
		snprintf(why, sizeof(why), "%u failed, %u passed, %u skipped (%s)", c.failed,
			 c.passed, c.skipped, st);
	else
		snprintf(why, sizeof(why), "%u passed, %u skipped", c.passed, c.skipped);

	tot->passed += c.passed;
	tot->skipped += c.skipped;
	for (unsigned i = 0; i < c.failed; i++) /* each failed test counts; the label once */
		totals_add(tot, RES_FAIL, i ? NULL : label);
	report_line(c.failed   ? RES_FAIL
		    : c.passed ? RES_PASS
			       : RES_SKIP,
		    label, now_s() - start, why);
	if (c.failed) {
		printf("      kept: %s\n", log);
		print_tail(log, 20, "      ");
	} else {
		rm_rf(log);
	}
	free(dir);
	free(log);
	free(label);
	return !c.failed;
}
