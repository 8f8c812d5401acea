/* lazy01: eight threads touch a lazily restored region in random order at once.
 *
 * 32 MiB hold a pattern; after SIGTERM eight threads each read every page in an order of its
 * own (a random permutation, its own seed), comparing each page with the pattern, so faults
 * on neighbouring and on the same pages race each other and the server's fault-around. Under
 * the lazy flavor (lazy=faults) every page comes in through a fault or its fault-around, and
 * tests.desc asks lazy-pages' figures for both. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "zdtmtst.h"

#define SZ	(32UL << 20)
#define PG	4096UL
#define NPG	(SZ / PG)
#define THREADS 8
#define SEED	0x1a21ULL

static uint8_t *mem;
static uint8_t *want; /* one page of the pattern per page index: built from the seed */
static pthread_barrier_t go;
static char err[THREADS][160];

static void *toucher(void *arg)
{
	long k = (long)arg;
	unsigned int seed = (unsigned int)(k * 7919 + 1);
	uint32_t *order = malloc(NPG * sizeof(*order));

	if (!order) {
		snprintf(err[k], sizeof(err[k]), "thread %ld: out of memory", k);
		return NULL;
	}
	for (uint32_t i = 0; i < NPG; i++)
		order[i] = i;
	for (uint32_t i = NPG - 1; i > 0; i--) {
		uint32_t j = (uint32_t)rand_r(&seed) % (i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	pthread_barrier_wait(&go);
	for (uint32_t i = 0; i < NPG; i++) {
		size_t pg = order[i];

		if (memcmp(mem + pg * PG, want + pg * PG, PG)) {
			snprintf(err[k], sizeof(err[k]), "thread %ld: page %zu differs", k, pg);
			break;
		}
	}
	free(order);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[THREADS];

	if (test_init(argc, argv))
		return 1;
	mem = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED || pthread_barrier_init(&go, NULL, THREADS)) {
		fail_errno("setup");
		return 1;
	}
	test_fill_pattern(mem, SZ, SEED);
	if (test_daemon())
		return 1;
	test_waitsig();

	/* the reference, made after the restore: the restored region is what is checked */
	want = malloc(SZ);
	if (!want) {
		fail("out of memory");
		return 1;
	}
	test_fill_pattern(want, SZ, SEED);
	for (long k = 0; k < THREADS; k++)
		if (pthread_create(&th[k], NULL, toucher, (void *)k)) {
			fail("pthread_create");
			return 1;
		}
	for (int k = 0; k < THREADS; k++)
		pthread_join(th[k], NULL);
	for (int k = 0; k < THREADS; k++)
		if (err[k][0]) {
			fail("%s", err[k]);
			return 1;
		}
	pass();
	return 0;
}
