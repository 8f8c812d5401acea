/* dumpfail: dumps that must fail, run by the flavors that checkpoint (h,
 * pidns) while the test is ready:
 *   faults=SITE,...   before the real dump, one dump per site with
 *                     CRIU_LITE_FAULT=SITE (log dump-fault-SITE.log);
 *   expect=dumpfail   the dump itself (log dump.log) must be refused; with
 *                     dumpmsg=TEXT an "Error: " line of dump.log must contain
 *                     TEXT. The test is then told to check, without a restore.
 * Each must exit non-zero (not die of a signal) and leave the tree as it was:
 * every task of it running free (dumpcheck.h) and nothing in images/.
 *
 * Contract: functions return 0, or a negative errno with the reason given
 * once through run_why(). */
#ifndef ZDTM_DUMPFAIL_H
#define ZDTM_DUMPFAIL_H

struct test_run;

/* faults=: every site in turn. */
int dump_faults(struct test_run *t);
/* expect=dumpfail */
int dump_refused(struct test_run *t);

#endif
