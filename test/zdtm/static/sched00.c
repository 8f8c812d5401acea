/* sched00: the scheduling policy, its parameters and the CPU affinity of every thread survive
 * checkpoint/restore (all of them are per thread in Linux). Each thread sets its own with
 * sched_setattr() and sched_setaffinity(), then waits:
 *
 *   thread  policy          parameters                            CPUs (2 or more online)
 *   main    SCHED_OTHER     nice 4, a 3 ms time slice of its own  the first
 *   1       SCHED_BATCH     nice -3                               the second
 *   2       SCHED_IDLE      -                                     all
 *   3       SCHED_FIFO      priority 7                            all
 *   4       SCHED_RR        priority 3, SCHED_FLAG_RESET_ON_FORK  all
 *   5       SCHED_DEADLINE  runtime 1 ms, deadline 8 ms, period 10 ms (left out, with a message,
 *                           where the kernel refuses it)
 *
 * and a child process in SCHED_BATCH with nice 9. Before the dump the test reads every thread's
 * sched_getattr() and sched_getaffinity() back; after the restore each must be the same, field by
 * field. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

struct sattr {
	uint32_t size, sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime, sched_deadline, sched_period;
	uint32_t sched_util_min, sched_util_max;
};

#define SCHED_DL   6
#define FLAG_RESET 0x01
#define NTHREADS   6
#define MS	   1000000ULL

struct want {
	const char *name;
	struct sattr a;
	int cpu; /* -1: all */
};

static struct want want[NTHREADS] = {
	{ "main", { .sched_policy = SCHED_OTHER, .sched_nice = 4, .sched_runtime = 3 * MS }, 0 },
	{ "batch", { .sched_policy = SCHED_BATCH, .sched_nice = -3 }, 1 },
	{ "idle", { .sched_policy = SCHED_IDLE }, -1 },
	{ "fifo", { .sched_policy = SCHED_FIFO, .sched_priority = 7 }, -1 },
	{ "rr", { .sched_policy = SCHED_RR, .sched_priority = 3, .sched_flags = FLAG_RESET }, -1 },
	{ "deadline",
	  { .sched_policy = SCHED_DL,
	    .sched_runtime = 1 * MS,
	    .sched_deadline = 8 * MS,
	    .sched_period = 10 * MS },
	  -1 },
};

struct seen {
	pid_t tid;
	int err; /* errno of the setup in the thread, 0 if set */
	struct sattr a;
	cpu_set_t cpus;
};

static struct seen seen[NTHREADS];
static int ncpus;
static int ready_pipe[2];

static int apply(int i)
{
	struct sattr a = want[i].a;
	cpu_set_t cpus;

	a.size = sizeof(a);
	if (want[i].cpu >= 0 && ncpus >= 2) {
		CPU_ZERO(&cpus);
		CPU_SET(want[i].cpu, &cpus);
		if (sched_setaffinity(0, sizeof(cpus), &cpus))
			return errno;
	}
	if (syscall(SYS_sched_setattr, 0, &a, 0))
		return errno;
	return 0;
}

static void *thread_main(void *arg)
{
	int i = (int)(intptr_t)arg;

	seen[i].tid = (pid_t)syscall(SYS_gettid);
	seen[i].err = apply(i);
	if (write(ready_pipe[1], "r", 1) != 1)
		seen[i].err = EIO;
	for (;;)
		pause();
	return NULL;
}

static int read_back(pid_t tid, struct sattr *a, cpu_set_t *cpus)
{
	memset(a, 0, sizeof(*a));
	if (syscall(SYS_sched_getattr, tid, a, sizeof(*a), 0))
		return -1;
	return sched_getaffinity(tid, sizeof(*cpus), cpus);
}

static void compare(int i, const struct sattr *b, const cpu_set_t *cb)
{
	const struct sattr *a = &seen[i].a;

	if (a->sched_policy != b->sched_policy || a->sched_flags != b->sched_flags ||
	    a->sched_nice != b->sched_nice || a->sched_priority != b->sched_priority ||
	    a->sched_runtime != b->sched_runtime || a->sched_deadline != b->sched_deadline ||
	    a->sched_period != b->sched_period || a->sched_util_min != b->sched_util_min ||
	    a->sched_util_max != b->sched_util_max)
		fail("thread %s (%d): sched_getattr policy %u flags %#llx nice %d prio %u runtime "
		     "%llu deadline %llu period %llu; before the dump policy %u flags %#llx nice "
		     "%d prio %u runtime %llu deadline %llu period %llu",
		     want[i].name, seen[i].tid, b->sched_policy, (unsigned long long)b->sched_flags,
		     b->sched_nice, b->sched_priority, (unsigned long long)b->sched_runtime,
		     (unsigned long long)b->sched_deadline, (unsigned long long)b->sched_period,
		     a->sched_policy, (unsigned long long)a->sched_flags, a->sched_nice,
		     a->sched_priority, (unsigned long long)a->sched_runtime,
		     (unsigned long long)a->sched_deadline, (unsigned long long)a->sched_period);
	if (!CPU_EQUAL(&seen[i].cpus, cb))
		fail("thread %s (%d): CPU affinity of %d CPU(s) (CPU 0: %d), before the dump %d "
		     "(CPU 0: %d)",
		     want[i].name, seen[i].tid, CPU_COUNT(cb), CPU_ISSET(0, cb),
		     CPU_COUNT(&seen[i].cpus), CPU_ISSET(0, &seen[i].cpus));
}

static pid_t child_start(struct sattr *before)
{
	struct sattr a = { .size = sizeof(a), .sched_policy = SCHED_BATCH, .sched_nice = 9 };
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		if (syscall(SYS_sched_setattr, 0, &a, 0))
			_exit(1);
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (pid < 0 || read(p[0], &c, 1) != 1) {
		close(p[0]);
		return -1;
	}
	close(p[0]);
	memset(before, 0, sizeof(*before));
	if (syscall(SYS_sched_getattr, pid, before, sizeof(*before), 0))
		return -1;
	return pid;
}

int main(int argc, char **argv)
{
	struct sattr child_before, b;
	pthread_t th;
	cpu_set_t cb;
	pid_t child;
	int status;
	char c;

	if (test_init(argc, argv))
		return 1;
	ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (pipe(ready_pipe)) {
		fail_errno("setup: pipe");
		return 1;
	}
	seen[0].tid = getpid();
	for (int i = 1; i < NTHREADS; i++) {
		if (pthread_create(&th, NULL, thread_main, (void *)(intptr_t)i) ||
		    read(ready_pipe[0], &c, 1) != 1) {
			fail("setup: thread %s did not start", want[i].name);
			return 1;
		}
		if (seen[i].err && i == NTHREADS - 1) {
			test_msg("setup: SCHED_DEADLINE refused here (%s): left out\n",
				 strerror(seen[i].err));
		} else if (seen[i].err) {
			errno = seen[i].err;
			fail_errno("setup: thread %s: its scheduling", want[i].name);
			return 1;
		}
	}
	seen[0].err = apply(0);
	if (seen[0].err) {
		errno = seen[0].err;
		fail_errno("setup: the main thread's scheduling");
		return 1;
	}
	for (int i = 0; i < NTHREADS; i++)
		if (read_back(seen[i].tid, &seen[i].a, &seen[i].cpus)) {
			fail_errno("setup: read back thread %s", want[i].name);
			return 1;
		}
	child = child_start(&child_before);
	if (child < 0) {
		fail_errno("setup: the child");
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	for (int i = 0; i < NTHREADS; i++) {
		if (read_back(seen[i].tid, &b, &cb)) {
			fail_errno("thread %s (%d): sched_getattr/sched_getaffinity", want[i].name,
				   seen[i].tid);
			continue;
		}
		compare(i, &b, &cb);
	}
	memset(&b, 0, sizeof(b));
	if (syscall(SYS_sched_getattr, child, &b, sizeof(b), 0))
		fail_errno("child %d: sched_getattr", child);
	else if (b.sched_policy != child_before.sched_policy ||
		 b.sched_nice != child_before.sched_nice)
		fail("child %d: policy %u nice %d, before the dump %u nice %d", child,
		     b.sched_policy, b.sched_nice, child_before.sched_policy,
		     child_before.sched_nice);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	pass();
	return 0;
}
