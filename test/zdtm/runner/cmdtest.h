/* cmdtest: tests that are a shell command (--cmd NAME=COMMAND), e.g. the
 * kernel patch test (make kernel-test), counted with the zdtm tests.
 *
 * Contract: COMMAND runs under /bin/sh -c from the source tree, stdout and
 * stderr in OUT/cmd/NAME.log, within CMDTEST_TIMEOUT_S, or SECS seconds with --cmd
 * NAME:SECS=COMMAND (then it is killed, and whatever it left with it). Exit 0 passes, exit
 * 77 skips (the log's last line is the reason), anything else fails. Lines
 * of its output that start with "## " are progress: echoed as they come (a
 * long command is not silent for minutes). One result line; the log is kept, and its tail printed,
 * unless it passed. Returns false if it failed. */
#ifndef ZDTM_CMDTEST_H
#define ZDTM_CMDTEST_H

#include <stdbool.h>

#include "zdtm.h"

#define CMDTEST_TIMEOUT_S 3600
#define CMDTEST_SKIP	  77

/* spec is "NAME=COMMAND" or "NAME:SECS=COMMAND" (checked by cmdtest_valid()). */
bool cmdtest_run(const struct zdtm_opts *o, const char *spec, struct totals *tot);
/* NAME is non-empty, without '/', and COMMAND is non-empty. */
bool cmdtest_valid(const char *spec);

#endif
