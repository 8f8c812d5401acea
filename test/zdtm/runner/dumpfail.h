/* dumpfail: dumps that must fail, run by the flavors that checkpoint (h,
 * pidns) while the test is ready:
 *   faults=SITE,...   before the real dump, one dump per site with
 *                     CRIU_LITE_FAULT=SITE (log dump-fault-SITE.log);
 *   expect=dumpfail   the dump itself (log dump.log) must be refused; with
 *                     dumpmsg=TEXT an "Error: " line of dump.log must contain
 *                     TEXT. The test is then told to check, without a restore.
 *   kills=SITE,...    one dump per site with CRIU_LITE_FAULT=SITE:kill, which
 *                     makes criu-lite SIGKILL itself there (log dump-kill-SITE.log);
 *   killrand=N        N dumps SIGKILLed by the runner after a random delay of up
 *                     to the time a whole dump of this test took (the seed is in
 *                     the log name: dump-killrand-I-SEED.log).
 * Each must exit non-zero (not die of a signal; a killed one: die of SIGKILL, or
 * finish before the kill) and leave the tree as it was: every task of it running
 * free (dumpcheck.h); a failed dump leaves nothing in images/, a killed one's
 * files are removed before the next. Each has the options of tests.desc opts=
 * (desc_criu_args()), as the real dump has: it must fail for its own reason.
 *
 * Contract: functions return 0, or a negative errno with the reason given
 * once through run_why(). */
#ifndef ZDTM_DUMPFAIL_H
#define ZDTM_DUMPFAIL_H

struct test_run;

/* faults=: every site in turn. */
int dump_faults(struct test_run *t);
/* kills= and killrand=: criu-lite dies in the middle; the tree must not notice. */
int dump_kills(struct test_run *t);
/* expect=dumpfail */
int dump_refused(struct test_run *t);

#endif
