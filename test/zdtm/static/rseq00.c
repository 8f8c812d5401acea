/* rseq00: the thread's rseq registration (made by glibc at start) survives
 * checkpoint/restore. The kernel's answer to registering the same area
 * again proves it: EBUSY means registered with this area, length and
 * signature; EINVAL another area or length; EPERM another signature; 0 means
 * it was not registered at all. The area is still where glibc put it
 * (thread pointer + __rseq_offset) and its cpu_id matches getcpu(), both
 * read while the thread is pinned to the CPU it is on (so that it can't move
 * between the two reads: no number of tries decides it). */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

#define ORIG_RSEQ_SIZE 32u /* the kernel's minimum rseq_len */

/* The length glibc registered: __rseq_size is the size of the features in
 * use (20 in glibc 2.35-2.39), but the registration is at least 32 bytes. */
static unsigned rseq_len(void)
{
	return __rseq_size < ORIG_RSEQ_SIZE ? ORIG_RSEQ_SIZE : __rseq_size;
}

static struct rseq *area(void)
{
	return (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
}

/* Register the area again; the kernel's errno tells the state. */
static int registered(struct rseq *rs)
{
	long r = syscall(SYS_rseq, rs, rseq_len(), 0, RSEQ_SIG);
	int e = errno;

	if (r == -1 && e == EBUSY)
		return 0;
	if (r == 0) {
		fail("rseq area %p was not registered: registering it again succeeded", (void *)rs);
		syscall(SYS_rseq, rs, rseq_len(), RSEQ_FLAG_UNREGISTER, RSEQ_SIG);
	} else if (e == EINVAL) {
		fail("rseq: another area or length than %p/%u is registered (EINVAL)", (void *)rs,
		     rseq_len());
	} else if (e == EPERM) {
		fail("rseq: area %p is registered with a signature other than %#x (EPERM)",
		     (void *)rs, RSEQ_SIG);
	} else {
		errno = e;
		fail_errno("rseq(%p, %u, 0, %#x): expected EBUSY", (void *)rs, rseq_len(),
			   RSEQ_SIG);
	}
	return -1;
}

static int cpu_matches(const struct rseq *rs)
{
	unsigned pinned = 0, cpu = 0;
	cpu_set_t old, one;
	int seen, ret = 0;

	if (sched_getaffinity(0, sizeof(old), &old) || syscall(SYS_getcpu, &pinned, NULL, NULL)) {
		fail_errno("sched_getaffinity/getcpu");
		return -1;
	}
	CPU_ZERO(&one);
	CPU_SET(pinned, &one);
	if (sched_setaffinity(0, sizeof(one), &one)) {
		fail_errno("sched_setaffinity(cpu %u)", pinned);
		return -1;
	}
	/* on that CPU from here on; the kernel updated cpu_id on the way back to user space */
	seen = (int)rs->cpu_id;
	if (syscall(SYS_getcpu, &cpu, NULL, NULL)) {
		fail_errno("getcpu");
		ret = -1;
	} else if (seen < 0 || (unsigned)seen != cpu || cpu != pinned) {
		fail("rseq cpu_id is %d, getcpu() says %u, the thread is pinned to cpu %u", seen,
		     cpu, pinned);
		ret = -1;
	}
	if (sched_setaffinity(0, sizeof(old), &old) && !ret) {
		fail_errno("sched_setaffinity back to the old mask");
		ret = -1;
	}
	return ret;
}

int main(int argc, char **argv)
{
	struct rseq *rs = area();

	if (test_init(argc, argv))
		return 1;
	if (__rseq_size == 0) {
		skip("glibc did not register rseq (glibc.pthread.rseq=0 or no kernel support)");
		return 0;
	}
	if (registered(rs) || cpu_matches(rs))
		return 1; /* the test's own premise */
	if (test_daemon())
		return 1;
	test_waitsig();

	if (area() != rs) {
		fail("the rseq area moved: %p, was %p (thread pointer changed?)", (void *)area(),
		     (void *)rs);
		return 1;
	}
	if (registered(rs) || cpu_matches(rs))
		return 1;
	pass();
	return 0;
}
