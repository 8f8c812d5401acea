/* unit: the cmocka unit-test binaries, run before the zdtm tests.
 *
 * Contract: each binary runs with cmocka's standard output (its stdout and
 * stderr in OUT/unit/<name>.log); its "[  PASSED  ] N test(s)." ,
 * "[  FAILED  ] N test(s)" and "[  SKIPPED ] N test(s)" summary lines are
 * added to the totals. A binary that crashes, times out or exits non-zero
 * without reporting a failed test counts as one failure. One result line per
 * binary; the log is kept (and its tail printed) only when it failed.
 * Returns false if any binary failed. */
#ifndef ZDTM_UNIT_H
#define ZDTM_UNIT_H

#include <stdbool.h>

#include "zdtm.h"

bool unit_run(const struct zdtm_opts *o, const char *bin, struct totals *tot);

#endif
