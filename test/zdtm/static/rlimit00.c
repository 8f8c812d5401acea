/* rlimit00: resource limits survive checkpoint/restore: every resource's soft
 * and hard limit (getrlimit of all RLIM_NLIMITS) is what it was. The test
 * first gives each resource it can a distinct soft limit below its hard one,
 * and lowers some hard limits too (irreversible without CAP_SYS_RESOURCE,
 * which root lacks here), so a mix-up between resources shows. */
#include <stdint.h>
#include <sys/resource.h>

#include "zdtmtst.h"

static const char *const names[RLIM_NLIMITS] = {
	"CPU",	   "FSIZE", "DATA",  "STACK",	   "CORE",     "RSS",  "NPROC",	 "NOFILE",
	"MEMLOCK", "AS",    "LOCKS", "SIGPENDING", "MSGQUEUE", "NICE", "RTPRIO", "RTTIME",
};

/* A soft limit for resource r no lower than what the test itself needs. */
static rlim_t soft_for(int r)
{
	switch (r) {
	case RLIMIT_CPU:
	case RLIMIT_RTTIME:
		return 3600 + (rlim_t)r; /* seconds / microseconds: never reached */
	case RLIMIT_NOFILE:
		return 200 + (rlim_t)r;
	case RLIMIT_NPROC:
	case RLIMIT_SIGPENDING:
	case RLIMIT_LOCKS:
		return 1000 + (rlim_t)r;
	case RLIMIT_NICE:
	case RLIMIT_RTPRIO:
		return 0;
	default: /* sizes in bytes */
		return ((rlim_t)16 << 30) + (rlim_t)r * 4096;
	}
}

static int lower(int r, struct rlimit *rl)
{
	rlim_t soft = soft_for(r);

	if (rl->rlim_max != RLIM_INFINITY && soft >= rl->rlim_max)
		soft = rl->rlim_max > (rlim_t)r ? rl->rlim_max - (rlim_t)r - 1 : rl->rlim_max;
	rl->rlim_cur = soft;
	/* a finite hard limit, lowered too, on a few resources */
	if (r == RLIMIT_CORE || r == RLIMIT_MSGQUEUE || r == RLIMIT_FSIZE)
		rl->rlim_max = rl->rlim_max == RLIM_INFINITY ? soft + ((rlim_t)4 << 20)
							     : soft + (rl->rlim_max - soft) / 2;
	return setrlimit(r, rl);
}

int main(int argc, char **argv)
{
	struct rlimit was[RLIM_NLIMITS], now;
	int bad = 0;

	if (test_init(argc, argv))
		return 1;
	for (int r = 0; r < RLIM_NLIMITS; r++) {
		if (getrlimit(r, &was[r])) {
			fail_errno("setup: getrlimit(%s)", names[r]);
			return 1;
		}
		if (was[r].rlim_max == 0)
			continue; /* nothing below 0 */
		if (lower(r, &was[r]) || getrlimit(r, &was[r])) {
			fail_errno("setup: setrlimit(RLIMIT_%s, %ju/%ju)", names[r],
				   (uintmax_t)was[r].rlim_cur, (uintmax_t)was[r].rlim_max);
			return 1;
		}
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	for (int r = 0; r < RLIM_NLIMITS; r++) {
		if (getrlimit(r, &now)) {
			fail_errno("getrlimit(RLIMIT_%s)", names[r]);
			return 1;
		}
		if (now.rlim_cur != was[r].rlim_cur || now.rlim_max != was[r].rlim_max) {
			fail("RLIMIT_%s is %jd/%jd (soft/hard; -1: unlimited), expected %jd/%jd",
			     names[r], (intmax_t)now.rlim_cur, (intmax_t)now.rlim_max,
			     (intmax_t)was[r].rlim_cur, (intmax_t)was[r].rlim_max);
			bad++;
		}
	}
	if (bad) {
		fail("%d of %d resource limits differ", bad, RLIM_NLIMITS);
		return 1;
	}
	pass();
	return 0;
}
