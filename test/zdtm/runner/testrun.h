/* testrun: one test under one flavor, from start to verdict.
 *
 * Contract: run_one() creates the work dir OUT/<flavor>/<test>/, starts the
 * test, waits for it to be ready, lets the flavor checkpoint and restore it,
 * sends SIGTERM, waits for the exit and judges the outfile against the
 * expectation in tests.desc, all within the test's time limit. It prints one
 * result line, deletes the work dir unless the test failed (then it prints
 * where it is and the tails of its logs), kills whatever the test left, and
 * returns the result. */
#ifndef ZDTM_TESTRUN_H
#define ZDTM_TESTRUN_H

#include <stdbool.h>
#include <sys/types.h>

#include "zdtm.h"
#include "hosts.h"

struct test_desc;

struct test_run {
	const struct zdtm_opts *opts;
	const struct test_desc *desc;
	const struct flavor *flavor;
	char *bin;	/* ROOT/build/zdtm/<name> */
	char *dir;	/* OUT/<flavor>/<name> */
	char *images;	/* dir/images */
	char *pidfile;	/* dir/pidfile, written by test_daemon() */
	char *outfile;	/* dir/test.out: verdict, messages, the test's stdout/stderr */
	pid_t pid;	/* the test's root process (after a restore: the restored one) */
	pid_t restorer; /* a restore command that waits for the test (restore-wait), 0: none */
	pid_t lazyd;	/* the lazy flavor's lazy-pages server, 0: none (or reaped) */
	/* ps-lazy, remote-lazy, remote: the hosts, the server (ps-lazy: in A, remote: in B; 0:
	 * none), what B holds, the key */
	struct hosts hosts;
	pid_t psd;    /* ps-lazy: the page server; remote-lazy: the source's dump */
	pid_t srcpid; /* remote-lazy: the source tree's root, gone once the migration is */
	char *rimages, *keyfile;
	const char *restore_netns; /* remote: the restore runs in B (hosts.h), NULL: here */
	bool over;		/* the flavor's restore hook saw the run to its end and passed it */
	const char *status_src; /* where the test's exit status came from, NULL: waitpid */
	int timeout;		/* seconds, for the whole run */
	double deadline;
	char why[1024]; /* the first reason given for the result */
};

enum result run_one(const struct zdtm_opts *o, const struct test_desc *d, const struct flavor *f);
/* Give the reason for the result; the first one given stands. */
void run_why(struct test_run *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
