/* report: the runner's output lines.
 *
 * Contract: one line per finished test or unit binary,
 * "PASS  nocr/static/env00 (0.1s)" with ": <why>" for failures, skips and
 * expected failures; for a failure, the kept work dir and the tails of its
 * logs are printed right after it. */
#ifndef ZDTM_REPORT_H
#define ZDTM_REPORT_H

#include "zdtm.h"

void report_line(enum result r, const char *label, double secs, const char *why);
/* "kept: DIR" and the tails of those of the files (names in dir) that exist;
 * the list ends with NULL. Nothing if DIR does not exist. */
void report_kept(const char *dir, const char *const *files);
/* Counts r; a failure's label (when not NULL) is also kept for totals_print_failed(). */
void totals_add(struct totals *tot, enum result r, const char *label);
/* "failed: LABEL ..." (nothing when none failed), then frees the labels. */
void totals_print_failed(struct totals *tot);

#endif
