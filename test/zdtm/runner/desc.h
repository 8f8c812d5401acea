/* desc: the test table, test/zdtm/tests.desc. One test a line:
 *
 *   NAME  FLAVORS  [expect=fail|timeout|setupfail|dumpfail] [timeout=SEC] [needs=a,b]
 *                  [opts=leave-running,restore-wait,tcp-established] [faults=SITE,SITE...]
 *                  [rfaults=SITE,SITE...] [corrupt=1] [exit=N] [dumpmsg=TEXT]
 *                  [kills=SITE,SITE...] [killrand=N] [rkills=SITE,SITE...] [rkillrand=N]
 *                  [lazy=faults|kill|stall] [lazystats=KEY,KEY...]
 *                  [prestats=KEY,KEY...]
 *
 * NAME is the path under build/zdtm/ (static/env00); FLAVORS is "all" or a
 * comma list of flavor names; '#' starts a comment. Contract: desc_load()
 * accepts only known flavors, options and needs, and reports the first bad
 * line with its number; the table is read-only afterwards. A test named on
 * the command line but absent from the table gets desc_default(). */
#ifndef ZDTM_DESC_H
#define ZDTM_DESC_H

#include <stdbool.h>
#include <stddef.h>

/* How the lazy flavor runs a test (flavor-lazy.c). */
enum lazy_mode {
	LAZY_PREFETCH, /* normal: every page in (faults and prefetch) before SIGTERM */
	LAZY_FAULTS,   /* prefetch held until the test has exited: its checks fault pages in */
	LAZY_KILL,     /* lazy-pages is SIGKILLed after the restore: the guardian must kill */
	LAZY_STALL,    /* lazy-pages is SIGSTOPped: the guardian's timeout must kill */
};

enum expect {
	EXPECT_PASS,	  /* PASS after SIGTERM */
	EXPECT_FAIL,	  /* FAIL: after SIGTERM (the runner must see failures) */
	EXPECT_TIMEOUT,	  /* still running at its time limit, killed */
	EXPECT_SETUPFAIL, /* fails before test_daemon(), with a FAIL: message */
	EXPECT_DUMPFAIL,  /* the dump is refused, the tree runs on; then PASS after SIGTERM */
};

#define DESC_EXTERNAL_MAX 2

struct test_desc {
	char *name;
	unsigned flavors; /* bit flavor_index(f) */
	enum expect expect;
	int timeout; /* seconds; 0: the runner's --timeout */
	unsigned needs;
	bool leave_running; /* opts=leave-running: the dump leaves the task running */
	bool
	    restore_wait; /* opts=restore-wait: restore without -d, its exit status is the test's */
	char *faults;	  /* faults=a,b: dump sites to fail in turn first; NULL: none */
	char *rfaults;	  /* rfaults=a,b: restore sites to fail in turn first; NULL: none */
	char *kills;	  /* kills=a,b: dump sites where criu-lite is SIGKILLed first; NULL: none */
	int killrand;	  /* killrand=N: N more dumps SIGKILLed after a random delay */
	char *rkills;	  /* rkills=a,b: restore sites where criu-lite is SIGKILLed; NULL: none */
	int rkillrand;	  /* rkillrand=N: N restores SIGKILLed after a random delay */
	bool corrupt;	  /* corrupt=1: restores from damaged copies of the images must fail */
	int exit_code;	  /* exit=N: the exit status of a passing test (default 0) */
	char *dumpmsg;	  /* dumpmsg=TEXT: expect=dumpfail's error line has it; NULL: any */
	enum lazy_mode lazy; /* lazy=: see enum lazy_mode */
	char *lazystats;     /* lazystats=a,b: lazy-pages' figures that must not be 0 */
	char *prestats;	     /* prestats=a,b: the pre flavor's final dump's figures, not 0 */
	/* opts=tcp-established: every dump and restore gets --tcp-established */
	bool tcp_established;
	/* external=KEY[,KEY]: every dump (and pre-dump) gets --external KEY for each */
	char *external[DESC_EXTERNAL_MAX];
	int nr_external;
};

struct desc_table {
	struct test_desc *tests;
	size_t n;
};

int desc_load(const char *path, struct desc_table *tab);
void desc_free(struct desc_table *tab);
/* By full name (static/env00) or by its last component (env00). */
const struct test_desc *desc_find(const struct desc_table *tab, const char *name);
/* name as given if it has a '/', else static/NAME; all flavors. Free with
 * desc_fini(). -EINVAL (not reported) for a name that is not a plain relative path. */
int desc_default(struct test_desc *d, const char *name);
void desc_fini(struct test_desc *d);
const char *expect_name(enum expect e);

/* What opts= and external= add to the command line of every criu-lite dump (dump true: and
 * pre-dump) or restore of a test, in every flavor (the ones that must fail too: they must fail
 * for their own reason): opts=tcp-established gives --tcp-established to both (established TCP
 * connections are dumped, and restored, through TCP_REPAIR; without it the dump refuses them);
 * external=KEY a dump's --external KEY. desc_criu_args() puts them into argv from index n on
 * and a NULL after them: the index of that NULL. argv needs room for DESC_CRIU_ARGS more
 * entries than it has without them. */
#define DESC_CRIU_ARGS (1 + 2 * DESC_EXTERNAL_MAX)
int desc_criu_args(const struct test_desc *d, char **argv, int n, bool dump);

#endif
