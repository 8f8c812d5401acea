/* counter: the demo workload. Fills MB MiB (argv[1], default 64) of
 * anonymous memory with a pattern, then every 200 ms prints a counter and
 * the checksum of that memory; a line "BAD" means the memory changed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static uint64_t sum(const uint64_t *p, size_t n)
{
	uint64_t s = 0;

	for (size_t i = 0; i < n; i++)
		s = s * 31 + p[i];
	return s;
}

int main(int argc, char **argv)
{
	size_t mb = argc > 1 ? strtoul(argv[1], NULL, 0) : 64;
	size_t n = mb << 17; /* 8-byte words */
	uint64_t *mem =
	    mmap(NULL, n * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct timespec ts = { 0, 200 * 1000 * 1000 };
	uint64_t want;

	if (mem == MAP_FAILED)
		return 1;
	/* only stdio: whatever else the caller leaked is not part of the workload */
	syscall(SYS_close_range, 3, ~0U, 0);
	for (size_t i = 0; i < n; i++)
		mem[i] = i * 0x9e3779b97f4a7c15ULL;
	want = sum(mem, n);
	for (unsigned long i = 0;; i++) {
		uint64_t s = i % 5 == 0 ? sum(mem, n) : want;

		printf("%lu %s\n", i, s == want ? "ok" : "BAD");
		fflush(stdout);
		nanosleep(&ts, NULL);
	}
}
