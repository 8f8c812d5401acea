/* pagemap_shmem_swap: does /proc/PID/pagemap report swapped-out shmem pages?
 *
 * The selftest of criu-lite's kernel patch (kernel/patches/). It turns on a
 * zram swap (zram_swap.c), fills shared anonymous, memfd, tmpfs, MAP_PRIVATE
 * tmpfs, uffd-wp protected memfd and private anonymous regions, pushes them
 * out with MADV_PAGEOUT, and checks every page's pagemap entry against smaps
 * (Swap), against SEEK_DATA on the shmem object, against the same object
 * mapped where no page table exists, and as seen by an unprivileged reader.
 * The private anonymous region is the control: the stock kernel gets it
 * right, so a failure there means the test itself is broken.
 *
 * Output is TAP ("ok N - ...", "not ok N - ..."), one line per check.
 * Exit: 0 every check passed, 1 a check failed (a stock kernel: swapped shmem
 * reads as never touched), 4 (kselftest's skip) the test could not run: not
 * root, no swap, or pages that would not go to swap.
 *
 * Build: gcc -static -O2 -Wall -Wextra -o pagemap_shmem_swap pagemap_shmem_swap.c zram_swap.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/userfaultfd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zram_swap.h"

#define PG	    4096UL
#define NPAGES	    32
#define KSFT_SKIP   4
#define PAGEOUT_TRY 10
#define SWAP_BYTES  (64UL << 20)
#define HUGE_ALIGN  (2UL << 20)

#define PM_PRESENT     (1ULL << 63)
#define PM_SWAP	       (1ULL << 62)
#define PM_FILE	       (1ULL << 61)
#define PM_UFFD_WP     (1ULL << 57)
#define PM_SOFT_DIRTY  (1ULL << 55)
#define PM_FRAME       ((1ULL << 55) - 1)
#define PM_SWP_TYPE(e) ((unsigned)((e)&0x1f))
#define PM_SWP_OFF(e)  (((e)&PM_FRAME) >> 5)

enum kind {
	K_SHMEM,     /* MAP_SHARED of a shmem object */
	K_ANON,	     /* MAP_PRIVATE|MAP_ANONYMOUS: the control */
	K_PRIV_FILE, /* MAP_PRIVATE of a tmpfs file, even pages copied on write */
};

enum reg {
	R_SHANON,
	R_MEMFD,
	R_TMPFS,
	R_TMPFS_PRIV,
	R_ANON,
	R_UFFD,
	R_NOPTE,  /* R_MEMFD's object mapped again, where there is no page table */
	R_CACHED, /* a memfd written with pwrite, mapped and never touched */
	NREG,
};

struct region {
	const char *name;
	enum kind kind;
	char *addr;
	int objfd; /* the shmem object (for SEEK_DATA), -1 for private anon */
	bool used;
	uint64_t pm[NPAGES];  /* as root */
	uint64_t upm[NPAGES]; /* as an unprivileged reader (a forked child) */
	unsigned long swap_kb;
};

struct test {
	int pm_fd, ntest, nfail;
	bool soft_dirty, uffd;
	char tmpdir[32];
	bool tmp_mounted;
	struct zram_swap swap;
	struct region r[NREG];
};

static void check(struct test *t, bool ok, const char *fmt, ...)
{
	va_list ap;

	t->ntest++;
	t->nfail += !ok;
	printf("%sok %d - ", ok ? "" : "not ", t->ntest);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static unsigned char pattern(enum reg r, int page, bool copied)
{
	return (unsigned char)(0x21 + r * 17 + page * 3 + (copied ? 0x80 : 0));
}

static int pagemap_read(int fd, const char *addr, uint64_t *ent)
{
	off_t off = (off_t)((uintptr_t)addr / PG * sizeof(uint64_t));
	ssize_t n = pread(fd, ent, NPAGES * sizeof(uint64_t), off);

	return n == (ssize_t)(NPAGES * sizeof(uint64_t)) ? 0 : -1;
}

/* "Swap:" (kB) of the VMA at addr in /proc/self/smaps; VmFlags in flags */
static long smaps_swap(const char *addr, char *flags, size_t flen)
{
	char line[512];
	long swap = -1;
	bool in = false;
	FILE *f = fopen("/proc/self/smaps", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e, v;

		if (sscanf(line, "%lx-%lx ", &s, &e) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = (uintptr_t)addr >= s && (uintptr_t)addr < e;
			continue;
		}
		if (in && sscanf(line, "Swap: %lu kB", &v) == 1)
			swap = (long)v;
		if (in && flags && !strncmp(line, "VmFlags:", 8))
			snprintf(flags, flen, "%.*s", (int)flen - 1, line + 8);
	}
	fclose(f);
	return swap;
}

static void fill(struct region *r, enum reg id)
{
	for (int i = 0; i < NPAGES; i++)
		memset(r->addr + i * PG, pattern(id, i, false), PG);
}

static char *map_obj(int fd, int flags, void *at)
{
	char *p =
	    mmap(at, NPAGES * PG, PROT_READ | PROT_WRITE, flags | (at ? MAP_FIXED : 0), fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

static int new_memfd(const char *name)
{
	int fd = (int)syscall(SYS_memfd_create, name, 1U /* MFD_CLOEXEC */);

	if (fd >= 0 && ftruncate(fd, NPAGES * PG)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int tmpfs_file(struct test *t, const char *name)
{
	char path[96];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", t->tmpdir, name);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		unlink(path);
		if (ftruncate(fd, NPAGES * PG)) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

/* userfaultfd write-protection of a shmem range (6.1: WP_HUGETLBFS_SHMEM) */
static bool uffd_protect(char *addr)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_WP_HUGETLBFS_SHMEM };
	struct uffdio_register reg = { .range = { (uintptr_t)addr, NPAGES * PG },
				       .mode = UFFDIO_REGISTER_MODE_WP };
	struct uffdio_writeprotect wp = { .range = { (uintptr_t)addr, NPAGES * PG },
					  .mode = UFFDIO_WRITEPROTECT_MODE_WP };
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		printf("# userfaultfd: %s\n", strerror(errno));
		return false;
	}
	if (ioctl(fd, UFFDIO_API, &api) || ioctl(fd, UFFDIO_REGISTER, &reg) ||
	    ioctl(fd, UFFDIO_WRITEPROTECT, &wp)) {
		printf("# uffd-wp on shmem: %s\n", strerror(errno));
		close(fd);
		return false;
	}
	return true; /* the fd stays open: closing it would drop the protection */
}

/* Set up every region but R_NOPTE and R_CACHED; 0 or -1 (reason printed). */
static int setup(struct test *t)
{
	struct region *r = t->r;
	int fd;

	snprintf(t->tmpdir, sizeof(t->tmpdir), "/tmp/pmss.XXXXXX");
	if (!mkdtemp(t->tmpdir)) {
		printf("# mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	if (mount("pmss", t->tmpdir, "tmpfs", 0, "size=16m")) {
		printf("# mount tmpfs on %s: %s\n", t->tmpdir, strerror(errno));
		return -1;
	}
	t->tmp_mounted = true;

	r[R_SHANON].addr = map_obj(-1, MAP_SHARED | MAP_ANONYMOUS, NULL);
	if (r[R_SHANON].addr) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx",
			 (unsigned long)r[R_SHANON].addr,
			 (unsigned long)r[R_SHANON].addr + NPAGES * PG);
		r[R_SHANON].objfd = open(path, O_RDONLY | O_CLOEXEC);
	}
	r[R_MEMFD].objfd = new_memfd("pmss-memfd");
	r[R_MEMFD].addr = map_obj(r[R_MEMFD].objfd, MAP_SHARED, NULL);
	r[R_TMPFS].objfd = tmpfs_file(t, "shared");
	r[R_TMPFS].addr = map_obj(r[R_TMPFS].objfd, MAP_SHARED, NULL);
	r[R_ANON].addr = map_obj(-1, MAP_PRIVATE | MAP_ANONYMOUS, NULL);
	r[R_UFFD].objfd = new_memfd("pmss-uffd");
	r[R_UFFD].addr = map_obj(r[R_UFFD].objfd, MAP_SHARED, NULL);

	/* MAP_PRIVATE tmpfs: file contents by pwrite, even pages then copied */
	fd = r[R_TMPFS_PRIV].objfd = tmpfs_file(t, "private");
	for (int i = 0; fd >= 0 && i < NPAGES; i++) {
		char page[PG];

		memset(page, pattern(R_TMPFS_PRIV, i, false), PG);
		if (pwrite(fd, page, PG, (off_t)(i * PG)) != (ssize_t)PG)
			return -1;
	}
	r[R_TMPFS_PRIV].addr = map_obj(fd, MAP_PRIVATE, NULL);

	for (int k = 0; k <= R_UFFD; k++) {
		if (!r[k].addr || (r[k].kind != K_ANON && r[k].objfd < 0)) {
			printf("# setting up %s: %s\n", r[k].name, strerror(errno));
			return -1;
		}
		r[k].used = true;
	}
	for (int k = 0; k <= R_UFFD; k++) {
		if (k != R_TMPFS_PRIV) {
			fill(&r[k], (enum reg)k);
			continue;
		}
		for (int i = 0; i < NPAGES; i++) {
			volatile char *p = r[k].addr + i * PG;

			if (i % 2 == 0)
				memset(r[k].addr + i * PG, pattern(R_TMPFS_PRIV, i, true), PG);
			else
				(void)*p; /* maps the object's page */
		}
	}
	return 0;
}

/* clear_refs before the page-out when the kernel has soft-dirty */
static void soft_dirty_setup(struct test *t)
{
	char flags[256] = "";
	int fd;

	smaps_swap(t->r[R_ANON].addr, flags, sizeof(flags));
	t->soft_dirty = strstr(flags, " sd") != NULL;
	if (!t->soft_dirty)
		return;
	fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "4", 1) != 1) {
		printf("# clear_refs: %s; soft-dirty checks skipped\n", strerror(errno));
		t->soft_dirty = false;
	}
	if (fd >= 0)
		close(fd);
}

/* MADV_PAGEOUT until smaps counts the whole region as swapped; 0 or -1 */
static int push_out(struct region *r)
{
	for (int i = 0; i < PAGEOUT_TRY; i++) {
		if (madvise(r->addr, NPAGES * PG, MADV_PAGEOUT)) {
			printf("# madvise(MADV_PAGEOUT) on %s: %s\n", r->name, strerror(errno));
			return -1;
		}
		r->swap_kb = (unsigned long)smaps_swap(r->addr, NULL, 0);
		if (r->swap_kb >= NPAGES * PG / 1024)
			return 0;
		usleep(50000);
	}
	printf("# %s: only %lu kB went to swap\n", r->name, r->swap_kb);
	return r->swap_kb ? 0 : -1;
}

/* R_NOPTE: R_MEMFD's object again, alone in a 2 MiB-aligned range */
static char *map_nopte(int fd)
{
	char *resv = mmap(NULL, 2 * HUGE_ALIGN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t al;

	if (resv == MAP_FAILED)
		return NULL;
	al = ((uintptr_t)resv + HUGE_ALIGN - 1) & ~(HUGE_ALIGN - 1);
	return map_obj(fd, MAP_SHARED, (void *)al);
}

/* R_CACHED: first half written with pwrite, second half a hole, never touched */
static int map_cached(struct region *r)
{
	char page[PG];

	r->objfd = new_memfd("pmss-cached");
	if (r->objfd < 0)
		return -1;
	for (int i = 0; i < NPAGES / 2; i++) {
		memset(page, pattern(R_CACHED, i, false), PG);
		if (pwrite(r->objfd, page, PG, (off_t)(i * PG)) != (ssize_t)PG)
			return -1;
	}
	r->addr = map_obj(r->objfd, MAP_SHARED, NULL);
	return r->addr ? 0 : -1;
}

/* A forked child that drops root reads every region's entries into upm. */
static int read_unprivileged(struct test *t)
{
	int p[2], st;
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd;

		close(p[0]);
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534) || prctl(PR_SET_DUMPABLE, 1))
			_exit(2);
		fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			_exit(3);
		for (int k = 0; k < NREG; k++) {
			uint64_t ent[NPAGES];

			if (pagemap_read(fd, t->r[k].addr, ent) ||
			    write(p[1], ent, sizeof(ent)) != (ssize_t)sizeof(ent))
				_exit(4);
		}
		_exit(0);
	}
	close(p[1]);
	for (int k = 0; k < NREG; k++)
		if (read(p[0], t->r[k].upm, sizeof(t->r[k].upm)) != (ssize_t)sizeof(t->r[k].upm))
			break;
	close(p[0]);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
		printf("# unprivileged reader failed (status 0x%x)\n", st);
		return -1;
	}
	return 0;
}

static bool expect_file(const struct region *r, int i)
{
	return r->kind == K_SHMEM || (r->kind == K_PRIV_FILE && i % 2);
}

/* swap entries of region k: flags and frames (root's view) */
static void check_swap_entries(struct test *t, int k, uint64_t *seen, int *nseen)
{
	struct region *r = &t->r[k];
	int nswap = 0, bad = -1;

	for (int i = 0; i < NPAGES; i++) {
		uint64_t e = r->pm[i];
		bool ok;

		if (!(e & PM_SWAP))
			continue;
		nswap++;
		/* not a PTE marker (a top swap type, 30 here, offset 1): our device's type */
		ok = (t->swap.type < 0 || PM_SWP_TYPE(e) == (unsigned)t->swap.type) &&
		     PM_SWP_OFF(e) != 0 && !!(e & PM_FILE) == expect_file(r, i);
		for (int j = 0; ok && seen && j < *nseen; j++)
			ok = seen[j] != (e & PM_FRAME);
		if (ok && seen)
			seen[(*nseen)++] = e & PM_FRAME;
		if (!ok && bad < 0)
			bad = i;
	}
	if (bad < 0)
		check(t, true, "%s: %d swap entries with real type/offset, PM_FILE as expected",
		      r->name, nswap);
	else
		check(t, false, "%s: page %d: bad swap entry 0x%016" PRIx64 " (type %u off %#llx)",
		      r->name, bad, r->pm[bad], PM_SWP_TYPE(r->pm[bad]),
		      (unsigned long long)PM_SWP_OFF(r->pm[bad]));
}

/* per page: the entry shows a page iff SEEK_DATA finds data at its offset */
static void check_seek_data(struct test *t, int k)
{
	struct region *r = &t->r[k];

	for (int i = 0; i < NPAGES; i++) {
		off_t off = (off_t)(i * PG), d = lseek(r->objfd, off, SEEK_DATA);
		bool data = d == off, shown = r->pm[i] & (PM_PRESENT | PM_SWAP | PM_FILE);

		if (data != shown) {
			check(t, false, "%s: page %d: entry 0x%016" PRIx64 " but SEEK_DATA says %s",
			      r->name, i, r->pm[i], data ? "data" : "hole");
			return;
		}
	}
	check(t, true, "%s: every page agrees with SEEK_DATA on the object", r->name);
}

static void check_region(struct test *t, int k, uint64_t *seen, int *nseen)
{
	struct region *r = &t->r[k];
	int nswap = 0, nshown = 0;

	for (int i = 0; i < NPAGES; i++) {
		nswap += !!(r->pm[i] & PM_SWAP);
		nshown += !!(r->pm[i] & (PM_PRESENT | PM_SWAP | PM_FILE));
	}
	check(t, (unsigned long)nswap * PG / 1024 == r->swap_kb,
	      "%s: PM_SWAP pages match smaps Swap (%d pages, smaps %lu kB)", r->name, nswap,
	      r->swap_kb);
	check(t, nshown == NPAGES, "%s: every written page is present, swapped or cached (%d/%d)",
	      r->name, nshown, NPAGES);
	check_swap_entries(t, k, seen, nseen);
	if (r->kind == K_SHMEM)
		check_seek_data(t, k);
}

static void check_special(struct test *t)
{
	struct region *m = &t->r[R_MEMFD], *n = &t->r[R_NOPTE], *c = &t->r[R_CACHED];
	int bad = -1;

	for (int i = 0; i < NPAGES && bad < 0; i++)
		if ((m->pm[i] & PM_SWAP) != (n->pm[i] & PM_SWAP) ||
		    ((m->pm[i] & PM_SWAP) && (m->pm[i] & PM_FRAME) != (n->pm[i] & PM_FRAME)))
			bad = i;
	check(t, bad < 0, "%s: same swap entries as %s without page tables%s", n->name, m->name,
	      bad < 0 ? "" : " (a page differs)");

	bad = -1;
	for (int i = 0; i < NPAGES && bad < 0; i++) {
		uint64_t want = i < NPAGES / 2 ? PM_FILE : 0;

		if ((c->pm[i] & (PM_PRESENT | PM_SWAP | PM_FILE | PM_FRAME)) != want)
			bad = i;
	}
	if (bad < 0)
		check(t, true, "%s: unmapped cached pages read PM_FILE alone, holes nothing",
		      c->name);
	else
		check(t, false, "%s: page %d reads 0x%016" PRIx64, c->name, bad, c->pm[bad]);

	if (t->uffd) {
		struct region *u = &t->r[R_UFFD];

		bad = -1;
		for (int i = 0; i < NPAGES && bad < 0; i++)
			if (!(u->pm[i] & PM_UFFD_WP))
				bad = i;
		check(t, bad < 0, "%s: every page keeps PM_UFFD_WP", u->name);
	} else {
		printf("ok %d - # SKIP uffd-wp on shmem not available\n", ++t->ntest);
	}
}

static void check_unprivileged(struct test *t)
{
	for (int k = 0; k < NREG; k++) {
		struct region *r = &t->r[k];

		for (int i = 0; i < NPAGES; i++) {
			uint64_t e = r->pm[i], u = r->upm[i];
			/* the child has no PTEs for shared mappings: present reads as cached */
			bool file = r->kind == K_SHMEM ? !!(e & (PM_PRESENT | PM_SWAP | PM_FILE))
						       : !!(e & PM_FILE);

			if ((u & PM_FRAME) || (u & PM_SWAP) != (e & PM_SWAP) ||
			    !!(u & PM_FILE) != file) {
				check(t, false,
				      "unprivileged reader: %s page %d reads 0x%016" PRIx64
				      " (root 0x%016" PRIx64 ")",
				      r->name, i, u, e);
				return;
			}
		}
	}
	check(t, true, "unprivileged reader: same swap/file bits, frames hidden");
}

static void check_soft_dirty(struct test *t)
{
	static const int shm[] = { R_SHANON, R_MEMFD, R_TMPFS };
	int bad_shm = -1, bad_anon = -1;

	if (!t->soft_dirty) {
		printf("ok %d - # SKIP no soft-dirty in this kernel\n", ++t->ntest);
		return;
	}
	for (size_t s = 0; s < sizeof(shm) / sizeof(shm[0]); s++)
		for (int i = 0; i < NPAGES; i++)
			if ((t->r[shm[s]].pm[i] & PM_SWAP) && !(t->r[shm[s]].pm[i] & PM_SOFT_DIRTY))
				bad_shm = shm[s];
	for (int i = 0; i < NPAGES; i++)
		if ((t->r[R_ANON].pm[i] & PM_SWAP) && (t->r[R_ANON].pm[i] & PM_SOFT_DIRTY))
			bad_anon = i;
	check(t, bad_shm < 0, "soft-dirty: swapped shmem pages are soft-dirty after clear_refs%s%s",
	      bad_shm < 0 ? "" : ": not in ", bad_shm < 0 ? "" : t->r[bad_shm].name);
	check(t, bad_anon < 0, "soft-dirty: swapped private pages keep their own (clear) bit");
}

static void check_data(struct test *t)
{
	for (int k = 0; k < NREG; k++) {
		struct region *r = &t->r[k];
		int npages = k == R_CACHED ? NPAGES / 2 : NPAGES;

		for (int i = 0; i < npages; i++) {
			unsigned char want = pattern(k == R_NOPTE ? R_MEMFD : (enum reg)k, i,
						     k == R_TMPFS_PRIV && i % 2 == 0);
			const unsigned char *p = (const unsigned char *)r->addr + i * PG;

			for (unsigned long j = 0; j < PG; j++)
				if (p[j] != want) {
					check(t, false, "%s: page %d byte %lu is %#x, want %#x",
					      r->name, i, j, p[j], want);
					return;
				}
		}
	}
	check(t, true, "data intact after swap-in");
}

static void init_regions(struct test *t)
{
	static const struct {
		const char *name;
		enum kind kind;
	} def[NREG] = {
		[R_SHANON] = { "shared-anon", K_SHMEM },
		[R_MEMFD] = { "memfd", K_SHMEM },
		[R_TMPFS] = { "tmpfs", K_SHMEM },
		[R_TMPFS_PRIV] = { "tmpfs-private", K_PRIV_FILE },
		[R_ANON] = { "private-anon", K_ANON },
		[R_UFFD] = { "uffd-wp-memfd", K_SHMEM },
		[R_NOPTE] = { "memfd-nopte", K_SHMEM },
		[R_CACHED] = { "memfd-cached", K_SHMEM },
	};

	for (int k = 0; k < NREG; k++) {
		t->r[k].name = def[k].name;
		t->r[k].kind = def[k].kind;
		t->r[k].objfd = -1;
	}
}

static void teardown(struct test *t)
{
	for (int k = 0; k < NREG; k++) {
		if (t->r[k].addr)
			munmap(t->r[k].addr, NPAGES * PG);
		if (t->r[k].objfd >= 0 && k != R_NOPTE)
			close(t->r[k].objfd);
	}
	if (t->tmp_mounted)
		umount(t->tmpdir);
	if (t->tmpdir[0])
		rmdir(t->tmpdir);
	zram_swap_off(&t->swap); /* frees no slot still in use: the mappings are gone */
}

/* 0: ran (t->nfail says how it went); -1: could not run (reason printed) */
static int run(struct test *t)
{
	uint64_t seen[NREG * NPAGES];
	int nseen = 0;

	if (setup(t))
		return -1;
	soft_dirty_setup(t);
	t->uffd = uffd_protect(t->r[R_UFFD].addr);
	for (int k = 0; k <= R_UFFD; k++)
		if (push_out(&t->r[k]))
			return -1;
	t->r[R_NOPTE].addr = map_nopte(t->r[R_MEMFD].objfd);
	t->r[R_NOPTE].objfd = t->r[R_MEMFD].objfd;
	if (!t->r[R_NOPTE].addr || map_cached(&t->r[R_CACHED])) {
		printf("# mapping the memfd again: %s\n", strerror(errno));
		return -1;
	}
	for (int k = 0; k < NREG; k++) {
		if (pagemap_read(t->pm_fd, t->r[k].addr, t->r[k].pm)) {
			printf("# reading pagemap of %s: %s\n", t->r[k].name, strerror(errno));
			return -1;
		}
		t->r[k].swap_kb = (unsigned long)smaps_swap(t->r[k].addr, NULL, 0);
	}
	if (read_unprivileged(t))
		return -1;

	for (int k = 0; k <= R_NOPTE; k++)
		check_region(t, k, k == R_NOPTE ? NULL : seen, &nseen);
	check_special(t);
	check_unprivileged(t);
	check_soft_dirty(t);
	check_data(t);
	return 0;
}

int main(void)
{
	struct test t = { .pm_fd = -1 };
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");
	init_regions(&t);
	if (geteuid()) {
		printf("1..0 # SKIP needs root (swapon, tmpfs, frames in pagemap)\n");
		return KSFT_SKIP;
	}
	t.pm_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (t.pm_fd < 0 || zram_swap_on(&t.swap, SWAP_BYTES)) {
		printf("1..0 # SKIP no pagemap or no swap\n");
		return KSFT_SKIP;
	}
	printf("# swap %s, type %d\n", t.swap.dev, t.swap.type);
	ret = run(&t);
	teardown(&t);
	if (ret) {
		printf("Bail out! the test could not run (see above)\n");
		return KSFT_SKIP;
	}
	printf("1..%d\n", t.ntest);
	printf("# Totals: pass:%d fail:%d\n", t.ntest - t.nfail, t.nfail);
	printf("# %s\n",
	       t.nfail ? "FAIL: pagemap does not report swapped shmem pages as swapped" : "PASS");
	return t.nfail ? 1 : 0;
}
