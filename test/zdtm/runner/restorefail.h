/* restorefail: restores that must fail, run by flavor h once the dumped task
 * is gone and before the real restore:
 *   rfaults=SITE,...  one restore per site with CRIU_LITE_FAULT=SITE;
 *   corrupt=1         restores from copies of the images, each with one file
 *                     damaged (corrupt.c);
 *   rkills=SITE,...   one restore per site with CRIU_LITE_FAULT=SITE:kill (criu-lite
 *                     SIGKILLs itself there), rkillrand=N: N restores SIGKILLed by
 *                     the runner at a random moment of a whole restore's time.
 * Each must exit non-zero and leave nothing behind: no process with the
 * dumped pid (not even a zombie), no other child of the runner, no pidfile,
 * and the image directory it read exactly as it was (imgprint.h). Its log
 * must give the reason: the fault's site, or the damaged file's name, and for
 * a damaged image no sign that a task was created. Each has the options of tests.desc opts=
 * (desc_criu_args()), as the real restore has: it must fail for its own reason.
 *
 * Contract: functions return 0, or a negative errno with the reason given
 * once through run_why(). */
#ifndef ZDTM_RESTOREFAIL_H
#define ZDTM_RESTOREFAIL_H

struct test_run;
struct img_print;

struct fail_req {
	const char *images;	     /* restore from here */
	const struct img_print *was; /* images as they must stay */
	const char *env;	     /* "CRIU_LITE_FAULT=SITE", or NULL */
	const char *what;	     /* its log is <work dir>/<what>.log */
	const char *how;	     /* in messages: "with CRIU_LITE_FAULT=mm" */
};

/* One `criu-lite restore -d` that must fail, and the checks after it. */
int restore_must_fail(struct test_run *t, const struct fail_req *r);
/* rkills= and rkillrand=: restores killed at a site or at a random moment; nothing they made
 * may be left (no orphan skeleton holding a pid), the images as they were. */
int restore_kills(struct test_run *t, const struct img_print *images);
/* rfaults=: every site in turn; images is the print of t->images. */
int restore_faults(struct test_run *t, const struct img_print *images);
/* corrupt=1: see corrupt.c. */
int restore_corrupt(struct test_run *t, const struct img_print *images);

#endif
