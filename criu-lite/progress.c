/* progress: see progress.h. */
#include <stdio.h>
#include <unistd.h>

#include "criu-lite/log.h"
#include "criu-lite/progress.h"
#include "criu-lite/stats.h"

void progress_init(struct progress *p, const struct opts *o, const char *what)
{
	*p = (struct progress){
		.on =
		    isatty(STDERR_FILENO) && o->verbosity > 0 && (o->log_file || o->verbosity < 3),
		.t0 = stats_now(),
		.what = what,
	};
}

void progress_show(struct progress *p, uint64_t done, uint64_t total, const char *extra)
{
	double now = stats_now(), secs = now - p->t0, rate = secs > 0 ? done / secs : 0;
	char d[32], t[32], r[32];

	if (!p->on || now - p->last < PROGRESS_EVERY_S)
		return;
	p->last = now;
	p->shown = true;
	stats_bytes_str(done, d, sizeof(d));
	stats_bytes_str(total, t, sizeof(t));
	stats_bytes_str((uint64_t)rate, r, sizeof(r));
	fprintf(stderr, "\r%s: %s of %s (%.0f%%), %s/s", p->what, d, t,
		total ? 100.0 * (double)done / (double)total : 100.0, r);
	if (rate > 0 && total > done)
		fprintf(stderr, ", %.1f s left", (double)(total - done) / rate);
	fprintf(stderr, "%s%s\033[K", extra && *extra ? ", " : "", extra ? extra : "");
	fflush(stderr);
}

void progress_end(struct progress *p)
{
	if (p->shown)
		fprintf(stderr, "\r\033[K");
	p->shown = false;
}
