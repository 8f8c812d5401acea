/* shmem_workload: the process criu-lite checkpoints in the kernel test guest.
 *
 * Usage: shmem_workload DIR
 * Maps three shared memory objects and a private region, writes a pattern
 * into every page, pushes them all out to swap with MADV_PAGEOUT, and writes
 * DIR/ready ("pid=N swapped_kb=K" on one line). Then it sleeps, polling for
 * DIR/go; when that appears (after dump and restore), it checks every page
 * and writes DIR/result: "PASS" or "FAIL: what", and exits 0 or 1.
 *
 * Shared memory objects (what the images must hold, one line each in ready):
 *   shared-anon  MAP_SHARED|MAP_ANONYMOUS, 64 pages, all written
 *   memfd-whole  a memfd of 64 pages mapped whole
 *   memfd-split  a memfd of 128 pages; object pages 64-95 and 96-127 are
 *                mapped by two separate VMAs (vm_pgoff 64 and 96), pages
 *                0-63 are never touched (holes): object offsets are not
 *                VMA offsets, and one object is behind two VMAs
 * The memfd descriptors are closed once mapped: the mappings keep them.
 *
 * Build: gcc -static -O2 -Wall -Wextra -o shmem_workload shmem_workload.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PG	    4096UL
#define NP	    64
#define PAGEOUT_TRY 10

struct area {
	const char *name;
	char *addr;
	unsigned long npages;
	unsigned long objoff; /* object page of addr */
	int seed;
};

struct workload {
	const char *dir;
	struct area a[5];
	int n;
};

static unsigned char pattern(const struct area *a, unsigned long page)
{
	return (unsigned char)(0x11 + a->seed * 29 + (a->objoff + page) * 7);
}

static int write_file(const struct workload *w, const char *name, const char *text)
{
	char path[256], tmp[270];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", w->dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fputs(text, f);
	if (fclose(f))
		return -errno;
	return rename(tmp, path) ? -errno : 0;
}

static bool exists(const struct workload *w, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", w->dir, name);
	return access(path, F_OK) == 0;
}

static char *map(int fd, unsigned long npages, unsigned long objoff)
{
	int flags = fd < 0 ? MAP_SHARED | MAP_ANONYMOUS : MAP_SHARED;
	char *p = mmap(NULL, npages * PG, PROT_READ | PROT_WRITE, flags, fd, (off_t)(objoff * PG));

	return p == MAP_FAILED ? NULL : p;
}

static int add(struct workload *w, const char *name, char *addr, unsigned long npages,
	       unsigned long objoff)
{
	struct area *a = &w->a[w->n];

	if (!addr) {
		fprintf(stderr, "shmem_workload: mapping %s: %s\n", name, strerror(errno));
		return -1;
	}
	*a = (struct area){ name, addr, npages, objoff, w->n };
	w->n++;
	for (unsigned long i = 0; i < npages; i++)
		memset(addr + i * PG, pattern(a, i), PG);
	return 0;
}

static int setup(struct workload *w)
{
	int whole = (int)syscall(SYS_memfd_create, "kt-whole", 0);
	int split = (int)syscall(SYS_memfd_create, "kt-split", 0);
	char *gap;
	int ret;

	if (whole < 0 || split < 0 || ftruncate(whole, NP * PG) || ftruncate(split, 2 * NP * PG)) {
		fprintf(stderr, "shmem_workload: memfd: %s\n", strerror(errno));
		return -1;
	}
	ret = add(w, "shared-anon", map(-1, NP, 0), NP, 0);
	ret = ret ?: add(w, "memfd-whole", map(whole, NP, 0), NP, 0);
	ret = ret ?: add(w, "memfd-split-a", map(split, NP / 2, NP), NP / 2, NP);
	/* keep the two VMAs of memfd-split apart */
	gap = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ret = ret ?: add(w, "memfd-split-b", map(split, NP / 2, NP + NP / 2), NP / 2, NP + NP / 2);
	ret = ret
		  ?: add(w, "private-anon",
			 mmap(NULL, NP * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			      -1, 0),
			 NP, 0);
	(void)gap;
	close(whole);
	close(split);
	return ret;
}

static long smaps_swap_kb(void)
{
	char line[256];
	long total = 0, v;
	FILE *f = fopen("/proc/self/smaps", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Swap: %ld kB", &v) == 1)
			total += v;
	fclose(f);
	return total;
}

static long push_out(struct workload *w)
{
	long want = 0, got = 0;

	for (int k = 0; k < w->n; k++)
		want += (long)(w->a[k].npages * PG / 1024);
	for (int t = 0; t < PAGEOUT_TRY && got < want; t++) {
		for (int k = 0; k < w->n; k++)
			madvise(w->a[k].addr, w->a[k].npages * PG, MADV_PAGEOUT);
		got = smaps_swap_kb();
		usleep(50000);
	}
	return got;
}

static int verify(struct workload *w, char *why, size_t len)
{
	for (int k = 0; k < w->n; k++) {
		const struct area *a = &w->a[k];

		for (unsigned long i = 0; i < a->npages; i++) {
			const unsigned char *p = (const unsigned char *)a->addr + i * PG;

			for (unsigned long j = 0; j < PG; j++)
				if (p[j] != pattern(a, i)) {
					snprintf(why, len,
						 "FAIL: %s page %lu byte %lu is %#x, want %#x\n",
						 a->name, i, j, p[j], pattern(a, i));
					return -1;
				}
		}
	}
	snprintf(why, len, "PASS\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct workload w = { .dir = argc > 1 ? argv[1] : "." };
	struct timespec nap = { 0, 50 * 1000 * 1000 };
	char text[256];
	long swapped;

	if (setup(&w))
		return 2;
	swapped = push_out(&w);
	snprintf(text, sizeof(text), "pid=%d swapped_kb=%ld\n", getpid(), swapped);
	if (write_file(&w, "ready", text)) {
		fprintf(stderr, "shmem_workload: writing %s/ready: %s\n", w.dir, strerror(errno));
		return 2;
	}
	while (!exists(&w, "go"))
		nanosleep(&nap, NULL);
	verify(&w, text, sizeof(text));
	if (write_file(&w, "result", text))
		return 2;
	return text[0] == 'P' ? 0 : 1;
}
