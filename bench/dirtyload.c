/* dirtyload: the workloads of bench/predumpbench.
 *
 *   dirtyload MB OUT         fills MB MiB of private anonymous memory (each page: the number
 *                            of the last write in its first word, its own pattern after it),
 *                            writes "ready" to OUT, then writes 1% of its pages (random ones)
 *                            every 100 ms, noting each write's number in a table too. On
 *                            SIGUSR1 (after a restore) it checks every page against the table
 *                            (a page older than its note came from an older pre-dump round) and
 *                            writes "ok" or "BAD page N" to OUT, then exits.
 *   dirtyload --shared MB OUT  the same in shared anonymous memory (MAP_SHARED|MAP_ANONYMOUS).
 *   Both time every write: SIGUSR2 writes "writes N p50_ns A p99_ns B max_ns C" of the writes
 *   since the last SIGUSR2 to OUT.lat (bench/snapbench: the writes during a live snapshot).
 *   dirtyload --cost MB OUT  fills MB MiB, times one write to each page (every page present: no
 *                            fault) and 4000 single writes, writes "ready" to OUT and waits for
 *                            SIGUSR1 (sent once a pre-dump armed dirty tracking), then does the
 *                            same again (each first write now takes a write-protect fault) and
 *                            writes "base_ns X tracked_ns Y base_p50_ns A base_p99_ns B
 *                            first_p50_ns C first_p99_ns D touch_ns E" (per page; E: the
 *                            first touch of a fresh page, a plain fault: the floor) to OUT. */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PG	 4096UL
#define NSAMPLES 4000

static volatile sig_atomic_t go, lat_ask;
#define NLAT (1u << 20)
static uint32_t lat[NLAT]; /* ns of the writes since the last report */
static size_t nlat;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void on_usr2(int sig)
{
	(void)sig;
	lat_ask = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void say(const char *out, const char *msg)
{
	int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd >= 0) {
		if (write(fd, msg, strlen(msg)) < 0)
			perror("write");
		close(fd);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* One pass of one write per page: ns per page. Then NSAMPLES single writes to random pages,
 * each timed, into s (sorted). */
static double pass(volatile unsigned char *p, size_t n, uint64_t *s, unsigned char v)
{
	uint64_t t0;
	size_t half = n / 2;

	for (size_t k = 0; k < NSAMPLES; k++) { /* the second half: sampled one by one */
		size_t i = half + (size_t)random() % (n - half);
		uint64_t a = now_ns();

		p[i * PG + 1] = v;
		s[k] = now_ns() - a;
	}
	qsort(s, NSAMPLES, sizeof(*s), cmp_u64);
	t0 = now_ns();
	for (size_t i = 0; i < half; i++) /* the first half: timed as a whole */
		p[i * PG + 2] = v;
	return (double)(now_ns() - t0) / (double)half;
}

static int cost(size_t n, const char *out)
{
	unsigned char *p =
	    mmap(NULL, n * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	static uint64_t s0[NSAMPLES], s1[NSAMPLES];
	double base, tracked, touch;
	uint64_t t0;
	char msg[320];

	if (p == MAP_FAILED)
		return 1;
	madvise(p, n * PG, MADV_NOHUGEPAGE); /* one fault per page, as tracking sees them */
	t0 = now_ns();
	for (size_t i = 0; i < n; i++) /* the floor: a first touch, one plain fault per page */
		p[i * PG] = 1;
	touch = (double)(now_ns() - t0) / (double)n;
	memset(p, 1, n * PG);
	base = pass(p, n, s0, 2);
	say(out, "ready\n");
	while (!go)
		pause();
	tracked = pass(p, n, s1, 3);
	snprintf(msg, sizeof(msg),
		 "base_ns %.0f tracked_ns %.0f base_p50_ns %llu base_p99_ns %llu first_p50_ns %llu "
		 "first_p99_ns %llu touch_ns %.0f\n",
		 base, tracked, (unsigned long long)s0[NSAMPLES / 2],
		 (unsigned long long)s0[NSAMPLES * 99 / 100], (unsigned long long)s1[NSAMPLES / 2],
		 (unsigned long long)s1[NSAMPLES * 99 / 100], touch);
	say(out, msg);
	return 0;
}

static void fill_page(unsigned char *pg, size_t i)
{
	for (size_t k = 8; k < PG; k++)
		pg[k] = (unsigned char)(i * 131 + k * 7);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The writes timed since the last report, to OUT.lat; then a new count. */
static void report_lat(const char *out)
{
	char path[4096], msg[160];

	qsort(lat, nlat, sizeof(lat[0]), cmp_u32);
	snprintf(path, sizeof(path), "%s.lat", out);
	snprintf(msg, sizeof(msg), "writes %zu p50_ns %u p99_ns %u max_ns %u\n", nlat,
		 nlat ? lat[nlat / 2] : 0, nlat ? lat[nlat * 99 / 100] : 0,
		 nlat ? lat[nlat - 1] : 0);
	say(path, msg);
	nlat = 0;
}

static int dirty(size_t n, const char *out, bool shared)
{
	unsigned char *p = mmap(NULL, n * PG, PROT_READ | PROT_WRITE,
				(shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS, -1, 0);
	uint64_t *note = calloc(n, sizeof(*note)), w = 0;
	char msg[64];

	if (p == MAP_FAILED || !note)
		return 1;
	for (size_t i = 0; i < n; i++)
		fill_page(p + i * PG, i);
	say(out, "ready\n");
	while (!go) {
		for (size_t k = 0; k < n / 100; k++) {
			size_t i = (size_t)random() % n;

			uint64_t t0 = now_ns(), d;

			w++;
			memcpy(p + i * PG, &w, sizeof(w));
			note[i] = w;
			d = now_ns() - t0;
			if (nlat < NLAT)
				lat[nlat++] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
		}
		if (lat_ask) {
			report_lat(out);
			lat_ask = 0;
		}
		usleep(100000);
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t v;
		unsigned char exp[PG];

		memcpy(&v, p + i * PG, sizeof(v));
		fill_page(exp, i);
		/* a write and its note may straddle the freeze: the page one write ahead */
		if (v < note[i] || v > w || memcmp(exp + 8, p + i * PG + 8, PG - 8)) {
			snprintf(msg, sizeof(msg), "BAD page %zu\n", i);
			say(out, msg);
			return 1;
		}
	}
	say(out, "ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	bool c = argc > 1 && !strcmp(argv[1], "--cost");
	bool sh = argc > 1 && !strcmp(argv[1], "--shared");
	struct sigaction sa = { .sa_handler = on_usr1 };

	if (argc != (c || sh ? 4 : 3)) {
		fprintf(stderr, "usage: dirtyload [--cost|--shared] MB OUT\n");
		return 2;
	}
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_usr2;
	sigaction(SIGUSR2, &sa, NULL);
	return c ? cost((size_t)atol(argv[2]) << 8, argv[3])
		 : dirty((size_t)atol(argv[1 + sh]) << 8, argv[2 + sh], sh);
}
