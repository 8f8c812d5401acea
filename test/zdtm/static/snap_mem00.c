/* snap_mem00: memory written without pause, from several threads and two tasks, while a live
 * snapshot copies it (flavor snapshot) is restored exactly as it was at the freeze. Each writer
 * keeps a note of every page's version (in memory too, so the note and the pages are of one
 * instant) and, before each write, checks that the page still holds the version its note says
 * (or the next one, when the freeze fell between the write and the note): a page the snapshot
 * took after the freeze holds a newer version than its note and fails that check as soon as it
 * is written again, or in the sweep after SIGTERM.
 * - 3 threads, each with 128 private pages of its own;
 * - a child task with 128 private pages;
 * - 64 pages of MAP_SHARED|MAP_ANONYMOUS memory written by one of the threads;
 * - every 64 writes, at most every 50 ms and 32 times in all, a thread forks a child that writes
 *   its copy of the thread's pages (a fork during the copy: the parent's pages stay its own), then
 *   waits until the end. It does not exit while the test runs: a task of the tree that exits
 *   during a snapshot's copy fails the snapshot (docs/snapshot.md), and a child forked just
 *   before the freeze would make that a matter of timing.
 * Without a checkpoint (nocr, h) it checks the same notes. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PG	 4096ul
#define NPAGES	 128
#define NSHARED	 64
#define NTHREADS 3
#define NONE	 UINT32_MAX

struct writer {
	unsigned area;
	unsigned char *mem; /* npages pages */
	size_t npages;
	uint32_t note[NPAGES];	   /* version of each page */
	volatile uint32_t pending; /* the page being written (its note not yet raised), or NONE */
	int bad;
	unsigned seed;
};

static volatile int stop;

/* One write to a random page of w, after checking the page holds what its note says. */
static int step(struct writer *w)
{
	size_t i = (size_t)rand_r(&w->seed) % w->npages;
	uint32_t noted = w->note[i];

	if (test_verpage_check(w->area == 9 ? "shared" : "private", w->mem + i * PG, w->area, i,
			       noted, &w->bad))
		return -1;
	w->pending = (uint32_t)i;
	test_verpage_put(w->mem + i * PG, w->area, i, noted + 1);
	w->note[i] = noted + 1;
	w->pending = NONE;
	return 0;
}

static int sweep(struct writer *w)
{
	for (size_t i = 0; i < w->npages; i++)
		test_verpage_check(w->area == 9 ? "shared" : "private", w->mem + i * PG, w->area, i,
				   w->note[i], &w->bad);
	return w->bad ? -1 : 0;
}

#define NFORKS 32
static pid_t forked[NFORKS]; /* thread 1's children, which wait for the end */
static unsigned nforked;

/* A child forked now writes its copy of w's pages and waits to be killed at the end: w's own
 * must not change. At most every 50 ms, NFORKS in all. */
static int fork_writer(struct writer *w)
{
	static int64_t last;
	int64_t now = test_now_ns(CLOCK_MONOTONIC);
	pid_t pid;

	if (nforked == NFORKS || now - last < 50000000)
		return 0;
	last = now;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		for (size_t i = 0; i < w->npages; i++)
			memset(w->mem + i * PG, 0xee, 64);
		for (;;)
			pause();
	}
	forked[nforked++] = pid;
	return 0;
}

/* The forked children: each must be alive until now, and die of the SIGKILL sent here. */
static int end_forked(void)
{
	int bad = 0, status;

	for (unsigned i = 0; i < nforked; i++) {
		if (kill(forked[i], SIGKILL) || waitpid(forked[i], &status, 0) != forked[i] ||
		    !WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
			fail("forked child %d ended otherwise than killed (status %#x)", forked[i],
			     status);
			bad = 1;
		}
	}
	return bad;
}

static void *thread_main(void *arg)
{
	struct writer *w = arg;

	for (unsigned long n = 0; !stop && !w->bad; n++)
		if (step(w) || (n % 64 == 63 && w->area == 1 && fork_writer(w)))
			break;
	return NULL;
}

static struct writer *new_writer(unsigned area, size_t npages, int flags)
{
	struct writer *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->area = area;
	w->npages = npages;
	w->pending = NONE;
	w->seed = area * 7919u;
	w->mem = mmap(NULL, npages * PG, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);
	return w->mem == MAP_FAILED ? NULL : w;
}

/* The child task: writes its own pages until SIGTERM, then sweeps them. */
static int child_main(void)
{
	struct writer *w = new_writer(5, NPAGES, MAP_PRIVATE);

	if (!w)
		return 2;
	while (test_go() && !w->bad) /* SIGTERM stays blocked: seen pending */
		step(w);
	sweep(w);
	return w->bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct writer *w[NTHREADS + 1];
	pthread_t tid[NTHREADS];
	int status, bad = 0;
	pid_t child;

	if (test_init(argc, argv))
		return 1;
	for (unsigned k = 0; k < NTHREADS; k++)
		w[k] = new_writer(k + 1, NPAGES, MAP_PRIVATE);
	w[NTHREADS] = new_writer(9, NSHARED, MAP_SHARED);
	for (unsigned k = 0; k <= NTHREADS; k++)
		if (!w[k]) {
			fail_errno("setup");
			return 1;
		}
	child = fork();
	if (child < 0) {
		fail_errno("fork");
		return 1;
	}
	if (child == 0)
		_exit(child_main());
	if (test_daemon())
		return 1;
	for (unsigned k = 0; k < NTHREADS; k++)
		if (pthread_create(&tid[k], NULL, thread_main, w[k])) {
			fail("pthread_create");
			return 1;
		}
	while (test_go() && !w[NTHREADS]->bad)
		step(w[NTHREADS]);
	stop = 1;
	for (unsigned k = 0; k < NTHREADS; k++)
		pthread_join(tid[k], NULL);
	bad |= end_forked();
	kill(child, SIGTERM);
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the child task found its pages wrong (status %#x)", status);
		bad = 1;
	}
	for (unsigned k = 0; k <= NTHREADS; k++)
		bad |= sweep(w[k]) != 0;
	if (!bad)
		pass();
	return 0;
}
