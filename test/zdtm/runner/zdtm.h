/* zdtm: what the parts of the runner share: its read-only options, the result
 * of one test, the running totals, and the runner's error reporting.
 *
 * Contract: every error is printed once, where it is handled, to stderr with
 * the object it concerns and the errno; the runner's own stdout carries the
 * per-test lines and, last, the closing "N passed, N failed, N skipped". */
#ifndef ZDTM_RUNNER_H
#define ZDTM_RUNNER_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define ZDTM_MAX_FLAVORS 16

struct flavor;

struct zdtm_opts {
	char *root;	  /* the source tree: test/zdtm/, build/zdtm/ are under it */
	char *criu;	  /* --criu: the criu-lite binary */
	char *out_dir;	  /* --out: work dirs go to OUT/<flavor>/<test>/ */
	char *desc_path;  /* --desc: the test table (test/zdtm/tests.desc) */
	int timeout;	  /* --timeout: per-test limit in seconds, unless tests.desc says */
	bool keep_going;  /* --keep-going: do not stop at the first failure */
	bool all;	  /* --all: every test of the table */
	const char *unit; /* --unit: cmocka binaries, separated by blanks */
	char **tests;	  /* tests named on the command line */
	int ntests;
	const struct flavor *flavors[ZDTM_MAX_FLAVORS];
	int nflavors;

	const char **cmds; /* --cmd NAME=COMMAND (cmdtest.h), in order */
	int ncmds;
};

enum result { RES_PASS, RES_FAIL, RES_SKIP };

struct totals {
	unsigned passed, failed, skipped;
	char *failed_labels; /* "nocr/static/x unit/test_y ...", for the closing lines */
};

#define zerr(fmt, ...) fprintf(stderr, "zdtm: error: " fmt "\n", ##__VA_ARGS__)
#define zperror(fmt, ...)                                                               \
	do {                                                                            \
		int __e = errno;                                                        \
		fprintf(stderr, "zdtm: error: " fmt ": %s (errno %d)\n", ##__VA_ARGS__, \
			strerror(__e), __e);                                            \
		errno = __e;                                                            \
	} while (0)

#endif
