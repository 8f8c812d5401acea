/* proc-auxv: /proc/PID/auxv (binary) -> (type, value) words. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define LOG_PREFIX "proc: "
#include "criu-lite/log.h"
#include "criu-lite/proc/proc-util.h"
#include "criu-lite/proc/proc.h"

/* The kernel shows the saved auxv up to and including the first AT_NULL pair. */
int proc_parse_auxv_buf(const char *name, const void *buf, size_t len, uint64_t *pairs, size_t max,
			size_t *n)
{
	const size_t pair = 2 * sizeof(uint64_t);
	size_t words = len / sizeof(uint64_t);

	*n = 0;
	if (len == 0 || len % pair) {
		pr_err("%s: size %zu is not a whole number of (type, value) pairs\n", name, len);
		return -EINVAL;
	}
	if (words > max) {
		pr_err("%s: %zu words do not fit in %zu\n", name, words, max);
		return -E2BIG;
	}
	memcpy(pairs, buf, len);
	for (size_t i = 0; i < words; i += 2) {
		if (pairs[i] == 0 && i + 2 != words) {
			pr_err("%s: AT_NULL at pair %zu of %zu\n", name, i / 2, words / 2);
			return -EINVAL;
		}
	}
	if (pairs[words - 2] != 0) {
		pr_err("%s: does not end with AT_NULL\n", name);
		return -EINVAL;
	}
	*n = words;
	return 0;
}

struct auxv_out {
	uint64_t *pairs;
	size_t max, *n;
};

static int parse_auxv(const char *name, const char *buf, size_t len, void *out)
{
	struct auxv_out *a = out;

	return proc_parse_auxv_buf(name, buf, len, a->pairs, a->max, a->n);
}

int proc_read_auxv(pid_t pid, uint64_t *pairs, size_t max, size_t *n)
{
	struct auxv_out a = { .pairs = pairs, .max = max, .n = n };
	char path[64];

	*n = 0;
	snprintf(path, sizeof(path), "/proc/%d/auxv", pid);
	return proc_read_parse(path, parse_auxv, &a);
}
