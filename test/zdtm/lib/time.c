/* time: nanosecond arithmetic for tests that check timers against the clocks. */
#include <time.h>

#include "zdtmtst.h"

#define NSEC ((int64_t)1000000000)

int64_t test_ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * NSEC + t->tv_nsec;
}

int64_t test_now_ns(clockid_t clk)
{
	struct timespec t;

	clock_gettime(clk, &t);
	return test_ts_ns(&t);
}

struct timespec test_ns_ts(int64_t ns)
{
	return (struct timespec){ ns / NSEC, ns % NSEC };
}
