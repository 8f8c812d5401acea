/* lazy00: a lazily restored task forks, mremaps and drops (MADV_DONTNEED) its memory right
 * away, from four threads at once, while its pages still come in through faults (under the
 * lazy flavor with lazy=faults: nothing is prefetched until the test has exited).
 *
 * Before the dump: region A (8 MiB), B (4 MiB) and C (4 MiB) hold a pattern of their own.
 * After SIGTERM four threads start together:
 *   fork:     forks a child that checks all of A (its pages come through the uffd the FORK
 *             event gave the server) and exits 0 when exact;
 *   mremap:   moves B elsewhere (MREMAP_MAYMOVE|MREMAP_FIXED) and checks it there;
 *   dontneed: drops the first half of C, then checks that half reads zero and the rest is C;
 *   reader:   checks A in the parent.
 * Every check is of every byte. Under lazy, tests.desc asks lazy-pages' figures for faults,
 * a fork, a REMAP and a REMOVE event. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define MB   (1UL << 20)
#define A_SZ (8 * MB)
#define B_SZ (4 * MB)
#define C_SZ (4 * MB)

static uint8_t *a, *b, *c, *b_to;
static pthread_barrier_t go;
static char err[4][256];

static void *t_fork(void *arg)
{
	int status;
	pid_t p;

	(void)arg;
	pthread_barrier_wait(&go);
	p = fork();
	if (p == 0)
		_exit(test_check_pattern(a, A_SZ, 0xa) < 0 ? 0 : 1);
	if (p < 0 || waitpid(p, &status, 0) != p || status != 0)
		snprintf(err[0], sizeof(err[0]), "the child's region A is not exact (status %#x)",
			 p < 0 ? -1 : status);
	return NULL;
}

static void *t_mremap(void *arg)
{
	ssize_t bad;
	void *r;

	(void)arg;
	pthread_barrier_wait(&go);
	r = mremap(b, B_SZ, B_SZ, MREMAP_MAYMOVE | MREMAP_FIXED, b_to);
	if (r != b_to) {
		snprintf(err[1], sizeof(err[1]), "mremap: %m");
		return NULL;
	}
	bad = test_check_pattern(b_to, B_SZ, 0xb);
	if (bad >= 0)
		snprintf(err[1], sizeof(err[1]), "region B moved by mremap differs at byte %zd",
			 bad);
	return NULL;
}

static void *t_dontneed(void *arg)
{
	ssize_t bad;

	(void)arg;
	pthread_barrier_wait(&go);
	if (madvise(c, C_SZ / 2, MADV_DONTNEED)) {
		snprintf(err[2], sizeof(err[2]), "madvise(MADV_DONTNEED): %m");
		return NULL;
	}
	for (size_t i = 0; i < C_SZ / 2; i++)
		if (c[i]) {
			snprintf(err[2], sizeof(err[2]),
				 "byte %zu of region C reads %#x after MADV_DONTNEED, not 0", i,
				 c[i]);
			return NULL;
		}
	bad = test_check_pattern(c + C_SZ / 2, C_SZ / 2, 0xc2);
	if (bad >= 0)
		snprintf(err[2], sizeof(err[2]), "the kept half of region C differs at byte %zd",
			 bad);
	return NULL;
}

static void *t_reader(void *arg)
{
	ssize_t bad;

	(void)arg;
	pthread_barrier_wait(&go);
	bad = test_check_pattern(a, A_SZ, 0xa);
	if (bad >= 0)
		snprintf(err[3], sizeof(err[3]), "region A differs at byte %zd", bad);
	return NULL;
}

int main(int argc, char **argv)
{
	void *(*fn[4])(void *) = { t_fork, t_mremap, t_dontneed, t_reader };
	pthread_t th[4];

	if (test_init(argc, argv))
		return 1;
	a = mmap(NULL, A_SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	b = mmap(NULL, B_SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	c = mmap(NULL, C_SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* where B goes: reserved now, so nothing else takes it */
	b_to = mmap(NULL, B_SZ, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED || b == MAP_FAILED || c == MAP_FAILED || b_to == MAP_FAILED) {
		fail_errno("setup: mmap");
		return 1;
	}
	test_fill_pattern(a, A_SZ, 0xa);
	test_fill_pattern(b, B_SZ, 0xb);
	test_fill_pattern(c, C_SZ / 2, 0xc1);
	test_fill_pattern(c + C_SZ / 2, C_SZ / 2, 0xc2);
	if (pthread_barrier_init(&go, NULL, 4)) {
		fail("setup: pthread_barrier_init");
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	for (int i = 0; i < 4; i++)
		if (pthread_create(&th[i], NULL, fn[i], NULL)) {
			fail("pthread_create");
			return 1;
		}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 4; i++)
		if (err[i][0]) {
			fail("%s", err[i]);
			return 1;
		}
	pass();
	return 0;
}
