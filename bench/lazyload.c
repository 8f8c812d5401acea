/* lazyload: the workload and the floor of bench/lazybench.
 *
 *   lazyload MB OUT      fills MB MiB of private anonymous memory with a pattern, writes
 *                        "ready" to OUT and waits; on SIGUSR1 (after a lazy restore) it reads
 *                        one byte of up to 4000 random pages that mincore() says are not in yet,
 *                        timing each read (a fault served by lazy-pages), checks every page of
 *                        the region against the pattern, and writes "faults N p50_us X p99_us Y
 *                        ok|BAD" to OUT, then exits.
 *   lazyload MB OUT hot  the same, but until SIGUSR1 it reads 2000 scattered pages (a hot set,
 *                        always the same) round and round, so a restored task touches them at
 *                        once; on SIGUSR1 it checks every page and writes "ok" or "BAD".
 *   lazyload --floor MB  prints the seconds UFFDIO_COPY takes to fill MB MiB in 16-page
 *                        batches from a buffer, in this process (the floor of "all pages in"):
 *                        the faster of two passes.
 *   lazyload --rtt       prints the median microseconds of a bare fault round trip in this
 *                        process (the floor of the fault latency timed in a task): a thread
 *                        reads 4000 random pages of a registered region, timing each, while
 *                        another spins on the userfaultfd and copies in each faulting page. */
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PG    4096UL
#define BATCH 16

static volatile sig_atomic_t go;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_usr1(int s)
{
	(void)s;
	go = 1;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One pass: a fresh registered region filled with UFFDIO_COPY in 16-page batches; seconds. */
static double floor_pass(const char *src, size_t len)
{
	struct uffdio_api api = { .api = UFFD_API };
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	char *dst = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct uffdio_register reg = { .range = { (uintptr_t)dst, len },
				       .mode = UFFDIO_REGISTER_MODE_MISSING };
	double t0, t;

	if (dst == MAP_FAILED || fd < 0 || ioctl(fd, UFFDIO_API, &api) ||
	    ioctl(fd, UFFDIO_REGISTER, &reg))
		return perror("floor setup"), -1;
	t0 = now();
	for (size_t off = 0; off < len; off += BATCH * PG) {
		struct uffdio_copy c = { .dst = (uintptr_t)dst + off,
					 .src = (uintptr_t)src + off,
					 .len = BATCH * PG };

		if (ioctl(fd, UFFDIO_COPY, &c))
			return perror("UFFDIO_COPY"), -1;
	}
	t = now() - t0;
	munmap(dst, len);
	close(fd);
	return t;
}

/* The faster of two passes: in a VM the first touch of memory the host took back costs a host
 * fault per page, which the second pass (on the pages the first one freed) does not pay. */
static int floor_mode(size_t mb)
{
	size_t len = mb << 20;
	char *src = malloc(len);
	double a, b;

	if (!src)
		return perror("malloc"), 1;
	memset(src, 0x5a, len);
	a = floor_pass(src, len);
	b = floor_pass(src, len);
	if (a < 0 || b < 0)
		return 1;
	printf("%.6f\n", a < b ? a : b);
	return 0;
}

struct rtt {
	int fd;
	char *base;
	const char *src;
	volatile int stop;
};

/* The handler of --rtt: spins on the uffd (no sleep: the floor), one page per fault. */
static void *rtt_handler(void *arg)
{
	struct rtt *h = arg;

	while (!h->stop) {
		struct uffd_msg m;
		struct uffdio_copy c;

		if (read(h->fd, &m, sizeof(m)) != sizeof(m) || m.event != UFFD_EVENT_PAGEFAULT)
			continue;
		c = (struct uffdio_copy){ .dst = m.arg.pagefault.address & ~(PG - 1), .len = PG };
		c.src = (uintptr_t)h->src + (c.dst - (uintptr_t)h->base);
		if (ioctl(h->fd, UFFDIO_COPY, &c))
			perror("UFFDIO_COPY");
	}
	return NULL;
}

static int rtt_mode(void)
{
	const size_t len = 64UL << 20, npg = len / PG, nlat = 4000;
	struct uffdio_api api = { .api = UFFD_API };
	struct rtt h = { .fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK) };
	double *lat = calloc(nlat, sizeof(*lat));
	char *src = malloc(len), *seen = calloc(npg, 1);
	struct uffdio_register reg;
	unsigned seed = 1;
	pthread_t t;

	h.base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	reg = (struct uffdio_register){ .range = { (uintptr_t)h.base, len },
					.mode = UFFDIO_REGISTER_MODE_MISSING };
	if (!lat || !src || !seen || h.base == MAP_FAILED || h.fd < 0 ||
	    ioctl(h.fd, UFFDIO_API, &api) || ioctl(h.fd, UFFDIO_REGISTER, &reg))
		return perror("rtt setup"), 1;
	memset(src, 0x5a, len);
	h.src = src;
	if (pthread_create(&t, NULL, rtt_handler, &h))
		return perror("pthread_create"), 1;
	for (size_t k = 0; k < nlat;) {
		size_t pg = (size_t)rand_r(&seed) % npg;
		volatile char *p = h.base + pg * PG;
		double t0;

		if (seen[pg])
			continue;
		seen[pg] = 1;
		t0 = now();
		(void)*p;
		lat[k++] = now() - t0;
	}
	h.stop = 1;
	pthread_join(t, NULL);
	qsort(lat, nlat, sizeof(*lat), cmp);
	printf("%.1f\n", lat[nlat / 2] * 1e6);
	return 0;
}

int main(int argc, char **argv)
{
	size_t mb, n;
	uint64_t *mem;
	double *lat;
	int nlat = 0, bad = 0;
	unsigned seed = 1;
	FILE *f;

	if (argc == 2 && !strcmp(argv[1], "--rtt"))
		return rtt_mode();
	if (argc == 3 && !strcmp(argv[1], "--floor"))
		return floor_mode(strtoul(argv[2], NULL, 0));
	if (argc != 3 && !(argc == 4 && !strcmp(argv[3], "hot")))
		return fprintf(stderr, "usage: lazyload MB OUT [hot] | --floor MB | --rtt\n"), 2;
	mb = strtoul(argv[1], NULL, 0);
	n = (mb << 20) / 8;
	mem = mmap(NULL, mb << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	lat = calloc(4000, sizeof(*lat));
	if (mem == MAP_FAILED || !lat)
		return 1;
	syscall(SYS_close_range, 3, ~0U, 0);
	for (size_t i = 0; i < n; i++)
		mem[i] = i * 0x9e3779b97f4a7c15ULL;
	signal(SIGUSR1, on_usr1);
	f = fopen(argv[2], "w");
	if (!f || fprintf(f, "ready\n") < 0 || fclose(f))
		return 1;
	if (argc == 4) { /* the hot set, until SIGUSR1 */
		size_t hot[2000];
		unsigned hs = 7;
		volatile uint64_t sink = 0;

		for (int i = 0; i < 2000; i++)
			hot[i] = (size_t)rand_r(&hs) % ((mb << 20) / PG);
		while (!go)
			for (int i = 0; i < 2000 && !go; i++)
				sink += mem[hot[i] * (PG / 8)];
		for (size_t i = 0; i < n; i++)
			bad |= mem[i] != i * 0x9e3779b97f4a7c15ULL;
		f = fopen(argv[2], "w");
		if (!f)
			return 1;
		fprintf(f, "hot %s\n", bad ? "BAD" : "ok");
		return fclose(f) ? 1 : 0;
	}
	while (!go)
		pause();
	for (int k = 0; k < 40000 && nlat < 4000; k++) {
		size_t pg = (size_t)rand_r(&seed) % ((mb << 20) / PG);
		volatile uint64_t *p = mem + pg * (PG / 8);
		unsigned char in;
		double t0;

		if (mincore((void *)((uintptr_t)p), PG, &in) || (in & 1))
			continue;
		t0 = now();
		(void)*p;
		lat[nlat++] = now() - t0;
	}
	for (size_t i = 0; i < n; i++)
		bad |= mem[i] != i * 0x9e3779b97f4a7c15ULL;
	qsort(lat, (size_t)nlat, sizeof(*lat), cmp);
	f = fopen(argv[2], "w");
	if (!f)
		return 1;
	fprintf(f, "faults %d p50_us %.1f p99_us %.1f %s\n", nlat, nlat ? lat[nlat / 2] * 1e6 : 0.0,
		nlat ? lat[(nlat * 99) / 100] * 1e6 : 0.0, bad ? "BAD" : "ok");
	fclose(f);
	return 0;
}
