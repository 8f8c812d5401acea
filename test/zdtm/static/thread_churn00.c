/* thread_churn00: a process that keeps creating and ending threads while it is checkpointed
 * survives it: the dump must freeze a thread set that changes under it (threads that appear
 * while the others are being stopped, threads that exit while being seized), and every thread
 * caught alive, including one caught before its first instruction or inside its exit, must go
 * on after the restore. The main thread keeps up to MAX_LIVE short-lived detached workers
 * running, each of which adds its number to a sum and ends; after SIGTERM it stops creating
 * them and waits for every one: none may be missing (the made, started and finished counts
 * and the sums of their numbers must agree). The checkpoint comes while the main thread is
 * creating workers (it starts right after test_daemon()), which it goes on doing until SIGTERM.
 * The wait for the workers has no limit of its own (a loaded machine may not run them for a
 * long while); a lost one is told without any: a worker counts itself finished before it
 * ends, so once /proc/self/status says the main thread is the only one left, every worker
 * not counted as finished by then was lost. A worker that lives on but never finishes is
 * caught by the runner's time limit.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#define MAX_LIVE     32
#define MIN_PER_PASS 100 /* workers to create between two looks at the clock */

static atomic_long started, finished;

/* The Threads: line of /proc/self/status (the kernel's count of the live threads); -1 if it
 * can't be read. */
static long live_threads(void)
{
	size_t len;
	char *st = test_read_file("/proc/self/status", &len), *p;
	long n = -1;

	if (st && (p = strstr(st, "\nThreads:")))
		n = strtol(p + 9, NULL, 10);
	free(st);
	return n;
}
static atomic_ullong sum_started, sum_finished;

static void *worker(void *arg)
{
	uintptr_t n = (uintptr_t)arg;

	atomic_fetch_add(&started, 1);
	atomic_fetch_add(&sum_started, n);
	for (volatile int i = 0; i < (int)(n % 512) * 64; i++)
		;
	atomic_fetch_add(&sum_finished, n);
	atomic_fetch_add(&finished, 1);
	return NULL;
}

/* One more worker, when fewer than MAX_LIVE run: 0, or -1 after fail(). */
static int spawn(pthread_attr_t *at, uintptr_t n)
{
	pthread_t t;

	while (atomic_load(&started) - atomic_load(&finished) >= MAX_LIVE ||
	       (long)n - atomic_load(&started) >= MAX_LIVE)
		sched_yield();
	errno = pthread_create(&t, at, worker, (void *)n);
	if (errno == EAGAIN) {
		usleep(100);
		return 0;
	}
	if (errno) {
		fail_errno("pthread_create of worker %lu", (unsigned long)n);
		return -1;
	}
	return 1;
}

int main(int argc, char **argv)
{
	pthread_attr_t at;
	uintptr_t n = 1;
	long at_daemon, made, live;
	int r;

	if (test_init(argc, argv))
		return 1;
	if (pthread_attr_init(&at) || pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED)) {
		fail("setup: pthread_attr");
		return 1;
	}
	for (int i = 0; i < MIN_PER_PASS; i++) {
		if ((r = spawn(&at, n)) < 0)
			return 1;
		n += (uintptr_t)r;
	}
	at_daemon = (long)n - 1;
	if (test_daemon())
		return 1;
	while (test_go()) {
		for (int i = 0; i < MIN_PER_PASS; i++) {
			if ((r = spawn(&at, n)) < 0)
				return 1;
			n += (uintptr_t)r;
		}
	}
	made = (long)n - 1;
	while (atomic_load(&finished) < made) {
		/* the count of threads first: a worker still unfinished after it is lost */
		live = live_threads();
		if (live < 0) {
			fail_errno("Threads: of /proc/self/status");
			return 1;
		}
		if (live == 1 && atomic_load(&finished) < made) {
			fail("%ld workers made, %ld started, %ld finished, and no thread but the "
			     "main one is left: some were lost",
			     made, atomic_load(&started), atomic_load(&finished));
			return 1;
		}
		usleep(1000);
	}
	if (atomic_load(&started) != made ||
	    atomic_load(&sum_started) != (unsigned long long)made * (made + 1) / 2 ||
	    atomic_load(&sum_finished) != atomic_load(&sum_started)) {
		fail("workers: %ld made, %ld started, %ld finished; sums %llu started, %llu "
		     "finished, expected %llu",
		     made, atomic_load(&started), atomic_load(&finished), atomic_load(&sum_started),
		     atomic_load(&sum_finished), (unsigned long long)made * (made + 1) / 2);
		return 1;
	}
	test_msg("%ld workers made, %ld after setup\n", made, made - at_daemon);
	pass();
	return 0;
}
