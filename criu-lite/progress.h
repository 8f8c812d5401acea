/* progress: one line about long work, kept up to date on a terminal.
 *
 * Contract: progress_init() turns it on only when stderr is a terminal and the verbosity shows
 * the summary line (not -v0), and the log does not go to stderr's terminal as well (a -o log
 * file, or a level below info: the log's own lines would break the line). progress_show() at
 * most every PROGRESS_EVERY_S seconds rewrites the line: what, done of total in bytes, the
 * share, the rate since the start, an estimate of the time left, and the caller's extra text;
 * progress_end() clears it before the command's summary line. Nothing here fails. */
#ifndef CRIU_LITE_PROGRESS_H
#define CRIU_LITE_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "criu-lite/cli.h"

#define PROGRESS_EVERY_S 0.25

struct progress {
	bool on, shown;
	double t0, last;
	const char *what;
};

void progress_init(struct progress *p, const struct opts *o, const char *what);
void progress_show(struct progress *p, uint64_t done, uint64_t total, const char *extra);
void progress_end(struct progress *p);

#endif
