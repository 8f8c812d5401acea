/* report: see report.h. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "zdtm.h"
#include "fs.h"
#include "report.h"

#define TAIL_LINES 15
#define INDENT	   "      "

void report_line(enum result r, const char *label, double secs, const char *why)
{
	static const char *const word[] = {
		[RES_PASS] = "PASS", [RES_FAIL] = "FAIL", [RES_SKIP] = "SKIP"
	};

	printf("%s  %s (%.1fs)%s%s\n", word[r], label, secs, why && *why ? ": " : "",
	       why ? why : "");
}

void report_kept(const char *dir, const char *const *files)
{
	if (access(dir, F_OK))
		return; /* it failed before it had one */
	printf(INDENT "kept: %s\n", dir);
	for (; *files; files++) {
		char *path = strf("%s/%s", dir, *files);

		print_tail(path, TAIL_LINES, INDENT);
		free(path);
	}
}

void totals_add(struct totals *tot, enum result r, const char *label)
{
	if (r == RES_PASS)
		tot->passed++;
	else if (r == RES_FAIL)
		tot->failed++;
	else
		tot->skipped++;
	if (r == RES_FAIL && label) {
		char *l = strf("%s%s%s", tot->failed_labels ? tot->failed_labels : "",
			       tot->failed_labels ? " " : "", label);

		free(tot->failed_labels);
		tot->failed_labels = l;
	}
}

void totals_print_failed(struct totals *tot)
{
	if (tot->failed_labels)
		printf("failed: %s\n", tot->failed_labels);
	free(tot->failed_labels);
	tot->failed_labels = NULL;
}
