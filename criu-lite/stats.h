/* stats: the figures of one run (dump, restore, ...), for the summary line and --stats-file.
 *
 * Contract: a struct stats holds up to STATS_MAX named figures in the order they were added (one
 * more is a bug: it aborts, rather than drop a figure):
 * counts (stats_count) and durations in seconds (stats_secs, whose key must end in "_s").
 * stats_write() writes them as one flat JSON object to the file, atomically (a temporary
 * name in the same directory, then rename): 0, or -errno after one message naming the
 * file. stats_now() is CLOCK_MONOTONIC in seconds, for the durations. */
#ifndef CRIU_LITE_STATS_H
#define CRIU_LITE_STATS_H

#include <stddef.h>
#include <stdint.h>

#define STATS_MAX 48

struct stats {
	int n;
	struct {
		const char *key;
		int is_secs;
		uint64_t count;
		double secs;
	} f[STATS_MAX];
};

double stats_now(void);
void stats_count(struct stats *s, const char *key, uint64_t v);
void stats_secs(struct stats *s, const char *key, double v);
int stats_write(const struct stats *s, const char *path);
/* Phases of a run: stats_lap() adds the time since *t to *acc and moves *t to now;
 * stats_phases() adds each of the n phases' seconds ph[i] as keys[i] (kept, not copied: static
 * strings), writes "name 1.2 ms, ..." into buf and returns the index of the longest. */
void stats_lap(double *acc, double *t);
int stats_phases(struct stats *s, const char *const *names, const char *const *keys,
		 const double *ph, int n, char *buf, size_t len);
/* "1.5 GiB", "12.0 MiB", "512 KiB", "100 B" */
void stats_bytes_str(uint64_t bytes, char *buf, int len);

#endif
