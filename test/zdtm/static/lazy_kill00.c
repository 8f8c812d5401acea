/* lazy_kill00: a lazily restored task whose lazy-pages server dies (lazy=kill) or stops
 * answering (lazy=stall, lazy_stall00) must be killed, never go on with zero pages where its
 * memory was.
 *
 * A thread reads a 64 MiB pattern page by page, round and round, from before the dump on; any
 * page that is not the pattern is a FAIL line at once. Under lazy=kill / lazy=stall (no
 * prefetch: the pages come only through faults) the runner SIGKILLs / SIGSTOPs the server
 * right after the restore; the reader's next fault can't be served: with the guardian holding
 * the uffds it blocks until the guardian kills the tree (a server that died with the only uffd
 * would have left zero pages, which the reader reports). Elsewhere it is a plain test: after
 * SIGTERM, no wrong page seen in all its rounds. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "zdtmtst.h"

#define SZ   (64UL << 20)
#define PG   4096UL
#define SEED 0x1a2c00ULL

static uint8_t *mem, *want;
static atomic_int stop;
static atomic_long rounds;

static void *reader(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		for (size_t pg = 0; pg < SZ / PG && !atomic_load(&stop); pg++)
			if (memcmp(mem + pg * PG, want + pg * PG, PG)) {
				fail("page %zu is not what the task wrote (round %ld)", pg,
				     atomic_load(&rounds));
				exit(1);
			}
		atomic_fetch_add(&rounds, 1);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th;

	if (test_init(argc, argv))
		return 1;
	mem = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	want = malloc(SZ); /* the reference: lazy memory too, compared page by page */
	if (mem == MAP_FAILED || !want) {
		fail_errno("setup");
		return 1;
	}
	test_fill_pattern(mem, SZ, SEED);
	memcpy(want, mem, SZ);
	if (pthread_create(&th, NULL, reader, NULL)) {
		fail("setup: pthread_create");
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();
	atomic_store(&stop, 1);
	pthread_join(th, NULL);
	if (memcmp(mem, want, SZ)) {
		fail("the region is not what the task wrote");
		return 1;
	}
	pass();
	return 0;
}
