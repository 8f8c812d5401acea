/* stats: see stats.h. JSON through json-c (already the image dumper's library). */
#include <fcntl.h>
#include <stdbool.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_PREFIX "stats: "
#include "criu-lite/log.h"
#include "criu-lite/stats.h"

double stats_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int stats_slot(struct stats *s, const char *key)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->f[i].key, key))
			return i;
	if (s->n == STATS_MAX) { /* a figure more than the table holds: a bug, never dropped */
		fprintf(stderr, "criu-lite: more than %d figures, \"%s\" among them\n", STATS_MAX,
			key);
		abort();
	}
	s->f[s->n].key = key;
	return s->n++;
}

void stats_count(struct stats *s, const char *key, uint64_t v)
{
	int i = stats_slot(s, key);

	if (i >= 0) {
		s->f[i].is_secs = 0;
		s->f[i].count = v;
	}
}

void stats_lap(double *acc, double *t)
{
	double now = stats_now();

	*acc += now - *t;
	*t = now;
}

int stats_phases(struct stats *s, const char *const *names, const char *const *keys,
		 const double *ph, int n, char *buf, size_t len)
{
	int longest = 0;
	size_t pl = 0;

	if (len)
		buf[0] = '\0';
	for (int p = 0; p < n; p++) {
		stats_secs(s, keys[p], ph[p]);
		if (ph[p] > ph[longest])
			longest = p;
		if (pl < len)
			pl += (size_t)snprintf(buf + pl, len - pl, "%s%s %.1f ms", p ? ", " : "",
					       names[p], ph[p] * 1e3);
	}
	return longest;
}

void stats_secs(struct stats *s, const char *key, double v)
{
	int i = stats_slot(s, key);

	if (i >= 0) {
		s->f[i].is_secs = 1;
		s->f[i].secs = v;
	}
}

int stats_write(const struct stats *s, const char *path)
{
	struct json_object *j = json_object_new_object();
	char tmp[4096];
	const char *txt;
	int fd, ret = 0;
	size_t len;

	if (!j)
		return -ENOMEM;
	for (int i = 0; i < s->n; i++)
		json_object_object_add(j, s->f[i].key,
				       s->f[i].is_secs ? json_object_new_double(s->f[i].secs)
						       : json_object_new_uint64(s->f[i].count));
	txt = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED);
	len = strlen(txt);
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		pr_err("--stats-file %s: name too long\n", path);
		json_object_put(j);
		return -ENAMETOOLONG;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		pr_perror("can't create the stats file %s", tmp);
	} else {
		bool ok = write(fd, txt, len) == (ssize_t)len && write(fd, "\n", 1) == 1;
		int e = errno;

		if (close(fd) && ok) {
			ok = false;
			e = errno;
		}
		if (ok && rename(tmp, path)) {
			ok = false;
			e = errno;
		}
		if (!ok) {
			errno = e;
			pr_perror("can't write the stats file %s", path);
			unlink(tmp);
			ret = -e;
		}
	}
	json_object_put(j);
	return ret;
}

void stats_bytes_str(uint64_t b, char *buf, int len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, (size_t)len, "%llu B", (unsigned long long)b);
	else
		snprintf(buf, (size_t)len, "%.1f %s", v, unit[u]);
}
