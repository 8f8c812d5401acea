/* swap00: pages that are out in swap at the dump are not lost. With a zram
 * swap on, the test fills five regions with per-page patterns and pushes
 * them out with MADV_PAGEOUT:
 *   anon    MAP_SHARED|MAP_ANONYMOUS
 *   memfd   a memfd mapped MAP_SHARED (its fd kept too)
 *   memfdfd a memfd held only as an fd (mapped just to push it out)
 *   devshm  a /dev/shm file mapped MAP_SHARED (fd closed)
 *   private private anonymous memory
 * Before it says ready it checks that each region is in swap (smaps Swap, or
 * for memfdfd while it was still mapped) and that pagemap shows the swapped
 * shared pages as absent (entry 0, like a page never touched: only SEEK_DATA
 * on the object finds them) and the private ones as PM_SWAP. After the
 * restore every page of every region must hold its pattern.
 *
 * Swap setup, as kernel-facts.md §1b, on a zram device of its own
 * (/sys/class/zram-control/hot_add: never zram0, which criu-lite's kerndat
 * probe and people use; two runs never share one): lzo-rle, disksize 1G, a
 * swap header, swapon with priority 100.
 *
 * Teardown (swapoff, zram reset, hot_remove) must happen whatever becomes of
 * the test, but the runner SIGKILLs every process it leaves behind, and the
 * dump itself kills the test (a restore that then fails leaves no process to
 * clean up). So the guard is the kernel's: the test joins a cgroup of its own,
 * /zram<N>, in a named cgroup-v1 hierarchy "zdtm-swap00" with
 * notify_on_release=1, whose release_agent is this binary. When the cgroup
 * empties (the dump killed the test, the test exited or was killed, or it left
 * the cgroup at its end), the kernel runs `swap00 /zram<N>` (argv[1] is the
 * cgroup), which tears down zram<N> and removes the cgroup; it logs to
 * /dev/kmsg. Swap is needed only until the dump has read the pages, so it is
 * off again right after the dump. A restored test is in /zram<N> again
 * (restore puts a task back into its cgroups, and makes /zram<N> anew, without
 * notify_on_release, when the agent had removed it); it leaves it at the end
 * like a test that was never dumped (nocr). Either way the test then waits for
 * zram<N> to be gone and fails if the guard did not do it (tearing down itself
 * then): the agent removes the cgroup after its teardown, so a cgroup gone with
 * zram<N> still there is a teardown that failed. Last, the test removes the
 * cgroup if it is still there (restore's, which has no agent to remove it). How soon the kernel
 * runs the agent is the scheduler's business on a loaded machine: the wait has no limit of its own,
 * and an agent that never runs is caught by the runner's time limit (leaving
 * zram<N> behind, as the FAIL says). The
 * hierarchy is unmounted again at once (it lives on while it has the cgroup;
 * the agent's unmount after the rmdir ends it). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PG	    4096l
#define NPAGES	    64
#define FD_PAGES    32
#define SEED(r, pg) (0x5a0e0000ull + (uint64_t)(r)*0x1000 + (uint64_t)(pg))
#define PAGEOUT_TRY 20
#define HIER	    "zdtm-swap00"
#define SHM_PREFIX  "zdtm-swap00."
#define STALE_S	    3600
#define PM_PRESENT  (1ull << 63)
#define PM_SWAP	    (1ull << 62)

enum { R_ANON, R_MEMFD, R_MEMFDFD, R_DEVSHM, R_PRIVATE, NR_REGIONS };
static const char *const rname[NR_REGIONS] = { "anon", "memfd", "memfdfd", "devshm", "private" };

struct state {
	unsigned zram;	       /* zram<N> */
	char *map[NR_REGIONS]; /* NULL for memfdfd after setup */
	int npages[NR_REGIONS];
	int memfd_fd, memfdfd_fd; /* kept open */
	char shm_path[64];
};

/* ---- small file helpers ---------------------------------------------- */

static int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		ret = -errno;
	close(fd);
	return ret;
}

static void kmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void kmsg(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), "zdtm swap00 guard: ");
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	write_str("/dev/kmsg", buf);
}

/* ---- zram swap ----------------------------------------------------------- */

static bool zram_exists(unsigned n)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/block/zram%u", n);
	return access(path, F_OK) == 0;
}

/* swapoff, reset and hot_remove of zram<n>; what failed in why. 0 if it is gone. */
static int zram_teardown(unsigned n, char *why, size_t len)
{
	char dev[32], path[64], num[16];
	int r;

	why[0] = '\0';
	snprintf(dev, sizeof(dev), "/dev/zram%u", n);
	if (swapoff(dev) && errno != EINVAL) /* EINVAL: not a swap (any more) */
		snprintf(why, len, "swapoff %s: %s; ", dev, strerror(errno));
	snprintf(path, sizeof(path), "/sys/block/zram%u/reset", n);
	if ((r = write_str(path, "1")) && r != -ENOENT)
		snprintf(why + strlen(why), len - strlen(why), "reset: %s; ", strerror(-r));
	snprintf(num, sizeof(num), "%u", n);
	if ((r = write_str("/sys/class/zram-control/hot_remove", num)) && zram_exists(n))
		snprintf(why + strlen(why), len - strlen(why), "hot_remove: %s", strerror(-r));
	return zram_exists(n) ? -1 : 0;
}

static int zram_add(unsigned *n)
{
	char buf[16] = "";
	int fd = open("/sys/class/zram-control/hot_add", O_RDONLY | O_CLOEXEC);
	ssize_t r = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	if (r <= 0 || sscanf(buf, "%u", n) != 1) {
		fail_errno("setup: read /sys/class/zram-control/hot_add");
		return -1;
	}
	return 0;
}

/* A version-1 swap header over the whole device (what mkswap writes). */
static int mkswap(const char *dev, uint64_t bytes)
{
	static char page[PG];
	uint32_t *info = (uint32_t *)(page + 1024); /* version, last_page, nr_badpages */
	int fd = open(dev, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -1;
	memset(page, 0, sizeof(page));
	info[0] = 1;
	info[1] = (uint32_t)(bytes / PG - 1);
	info[2] = 0;
	if (getrandom(page + 1024 + 12, 16, 0) != 16) /* uuid */
		memset(page + 1024 + 12, 0x5a, 16);
	memcpy(page + PG - 10, "SWAPSPACE2", 10);
	if (pwrite(fd, page, PG, 0) != PG || fsync(fd))
		ret = -1;
	close(fd);
	return ret;
}

static int swap_on(unsigned n)
{
	char path[64], dev[32];
	int r;

	snprintf(path, sizeof(path), "/sys/block/zram%u/comp_algorithm", n);
	if ((r = write_str(path, "lzo-rle")))
		test_msg("zram%u: lzo-rle not taken (%s): default compression", n, strerror(-r));
	snprintf(path, sizeof(path), "/sys/block/zram%u/disksize", n);
	snprintf(dev, sizeof(dev), "/dev/zram%u", n);
	if ((r = write_str(path, "1G"))) {
		errno = -r;
		fail_errno("setup: %s = 1G", path);
		return -1;
	}
	if (mkswap(dev, 1ull << 30) ||
	    swapon(dev, SWAP_FLAG_PREFER | ((100 << SWAP_FLAG_PRIO_SHIFT) & SWAP_FLAG_PRIO_MASK))) {
		fail_errno("setup: mkswap/swapon %s", dev);
		return -1;
	}
	test_msg("swap on %s (1G zram, priority 100)", dev);
	return 0;
}

/* ---- the guard: a cgroup whose release agent tears the swap down --------- */

/* Mount the hierarchy on a fresh directory (in *dir); 0 or -1 (errno). */
static int hier_mount(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/zdtm-swap00-cg.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	if (mount("cgroup", dir, "cgroup", MS_NOSUID | MS_NODEV | MS_NOEXEC, "none,name=" HIER)) {
		int e = errno;

		rmdir(dir);
		errno = e;
		return -1;
	}
	return 0;
}

static void hier_umount(const char *dir)
{
	umount2(dir, MNT_DETACH);
	rmdir(dir);
}

/* The release agent: argv[1] is the emptied cgroup, "/zram<N>". */
static int guard_agent(const char *cg)
{
	char why[256], dir[64], path[128], tail;
	unsigned n;

	if (sscanf(cg, "/zram%u%c", &n, &tail) != 1 || !n)
		return 1; /* not one of ours */
	if (zram_teardown(n, why, sizeof(why)))
		kmsg("zram%u not torn down: %s\n", n, why);
	else
		kmsg("zram%u: swap off, device removed%s%s\n", n, why[0] ? "; " : "", why);
	if (hier_mount(dir, sizeof(dir)))
		return 1;
	snprintf(path, sizeof(path), "%s%s", dir, cg);
	rmdir(path);
	usleep(200 * 1000); /* the cgroup goes offline asynchronously */
	hier_umount(dir);   /* the last cgroup gone: the hierarchy ends */
	return 0;
}

static bool in_guard(unsigned n)
{
	size_t len;
	char *cg = test_read_file("/proc/self/cgroup", &len), want[64];
	bool in;

	snprintf(want, sizeof(want), ":name=" HIER ":/zram%u\n", n);
	in = cg && strstr(cg, want);
	free(cg);
	return in;
}

/* Join /zram<n> (notify_on_release) with this binary as the release agent. */
static int guard_arm(unsigned n)
{
	char dir[64], path[160], exe[256];
	ssize_t l = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int r = 0;

	if (l <= 0 || hier_mount(dir, sizeof(dir))) {
		fail_errno("setup: the guard: readlink /proc/self/exe / mount of cgroup " HIER);
		return -1;
	}
	exe[l] = '\0';
	snprintf(path, sizeof(path), "%s/release_agent", dir);
	r = write_str(path, exe);
	snprintf(path, sizeof(path), "%s/zram%u", dir, n);
	if (!r && mkdir(path, 0755) && errno != EEXIST)
		r = -errno;
	snprintf(path, sizeof(path), "%s/zram%u/notify_on_release", dir, n);
	if (!r)
		r = write_str(path, "1");
	snprintf(path, sizeof(path), "%s/zram%u/cgroup.procs", dir, n);
	if (!r)
		r = write_str(path, "0");
	hier_umount(dir);
	if (r || !in_guard(n)) {
		errno = r ? -r : ENOENT;
		fail_errno("setup: the guard: joining cgroup /zram%u of " HIER, n);
		return -1;
	}
	return 0;
}

/* Leave the cgroup: it empties and the kernel runs the agent. */
static int guard_leave(unsigned n)
{
	char dir[64], path[96];
	int r;

	if (hier_mount(dir, sizeof(dir))) {
		fail_errno("leaving the guard cgroup: mount of " HIER);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	r = write_str(path, "0");
	hier_umount(dir);
	if (r || in_guard(n)) {
		errno = r ? -r : EBUSY;
		fail_errno("leaving the guard cgroup /zram%u", n);
		return -1;
	}
	return 0;
}

/* Whether the guard cgroup /zram<n> is still there: 1, 0, or -1 with errno. */
static int guard_there(unsigned n)
{
	char dir[64], path[96];
	struct stat st;
	int there;

	if (hier_mount(dir, sizeof(dir)))
		return -1;
	snprintf(path, sizeof(path), "%s/zram%u", dir, n);
	there = !stat(path, &st);
	hier_umount(dir);
	return there;
}

/* The cgroup /zram<n>, if it is still there: restore's has no agent to remove it. */
static void guard_remove(unsigned n)
{
	char dir[64], path[96];

	if (hier_mount(dir, sizeof(dir))) {
		test_perror("removing the guard cgroup /zram%u: mount of " HIER, n);
		return;
	}
	snprintf(path, sizeof(path), "%s/zram%u", dir, n);
	if (rmdir(path) && errno != ENOENT)
		test_perror("removing the guard cgroup /zram%u", n);
	hier_umount(dir);
}

/* After the verdict on the pages: the guard must have removed zram<n>. It removes the cgroup
 * after its teardown, so once the cgroup is gone zram<n> must be too. */
static int wait_torn_down(unsigned n)
{
	char why[256];
	int there;

	for (;;) {
		if (!zram_exists(n))
			return 0;
		there = guard_there(n);
		if (there < 0) {
			fail_errno("waiting for the guard to remove zram%u: mount of " HIER, n);
			break;
		}
		if (!there && zram_exists(n)) {
			fail(
			    "zram%u still exists after the release agent removed the guard cgroup: "
			    "it did not tear the swap down",
			    n);
			break;
		}
		usleep(100 * 1000);
	}
	if (zram_teardown(n, why, sizeof(why)))
		fail("tearing down zram%u here failed too: %s", n, why);
	return -1;
}

/* ---- the regions ------------------------------------------------------- */

/* smaps Swap of the VMA starting at p, in pages; -1 if not found. */
static long smaps_swap(const char *p)
{
	size_t len;
	char *sm = test_read_file("/proc/self/smaps", &len), head[32], *at, *sw;
	long kb = -1;

	if (!sm)
		return -1;
	snprintf(head, sizeof(head), "\n%lx-", (unsigned long)p);
	at = strstr(sm, head);
	if (at && (sw = strstr(at, "\nSwap:")))
		kb = strtol(sw + 6, NULL, 10);
	free(sm);
	return kb < 0 ? -1 : kb * 1024 / PG;
}

/* Push the mapping out until all of it is in swap (or tries run out). */
static long page_out(const char *what, char *p, int npages)
{
	long sw = 0;

	for (int i = 0; i < PAGEOUT_TRY && sw < npages; i++) {
		if (madvise(p, (size_t)npages * PG, MADV_PAGEOUT)) {
			fail_errno("setup: %s: MADV_PAGEOUT", what);
			return -1;
		}
		sw = smaps_swap(p);
		if (sw < npages)
			usleep(20 * 1000);
	}
	if (sw <= 0) {
		fail("setup: %s: smaps shows no page in swap after %d MADV_PAGEOUTs (Swap %ld)",
		     what, PAGEOUT_TRY, sw);
		return -1;
	}
	return sw;
}

/* Pagemap of the mapping: shared pages out in swap must read 0 (absent: this is
 * why the dump must find them with SEEK_DATA), private ones PM_SWAP. */
static int check_pagemap(const char *what, const char *p, int npages, bool shared, long swapped)
{
	uint64_t *e = calloc((size_t)npages, sizeof(*e));
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC), absent = 0, swap = 0;
	ssize_t want = (ssize_t)npages * 8;

	if (!e || fd < 0 || pread(fd, e, (size_t)want, (off_t)((uintptr_t)p / PG * 8)) != want) {
		fail_errno("setup: %s: read /proc/self/pagemap", what);
		free(e);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	for (int i = 0; i < npages; i++) {
		absent += e[i] == 0;
		swap += !!(e[i] & PM_SWAP) && !(e[i] & PM_PRESENT);
	}
	free(e);
	test_msg("%s: %ld of %d pages in swap (smaps); pagemap: %d entries 0, %d PM_SWAP", what,
		 swapped, npages, absent, swap);
	if (shared && absent < swapped) {
		fail("setup: %s: %ld pages in swap but only %d pagemap entries read 0", what,
		     swapped, absent);
		return -1;
	}
	if (!shared && swap < swapped) {
		fail("setup: %s: %ld pages in swap but only %d pagemap entries have PM_SWAP", what,
		     swapped, swap);
		return -1;
	}
	return 0;
}

static void fill(char *p, int r, int npages)
{
	for (int pg = 0; pg < npages; pg++)
		test_fill_pattern(p + pg * PG, PG, SEED(r, pg));
}

static int check_pages(const char *when, const char *p, int r, int npages)
{
	for (int pg = 0; pg < npages; pg++) {
		ssize_t bad = test_check_pattern(p + pg * PG, PG, SEED(r, pg));

		if (bad >= 0) {
			fail("%s: %s: page %d of %d differs at byte %zd (0x%02x)", when, rname[r],
			     pg, npages, bad, (unsigned char)p[pg * PG + bad]);
			return -1;
		}
	}
	return 0;
}

static void remove_stale_shm(void)
{
	DIR *d = opendir("/dev/shm");
	time_t now = time(NULL);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		char path[300];
		struct stat st;

		if (strncmp(de->d_name, SHM_PREFIX, strlen(SHM_PREFIX)))
			continue;
		snprintf(path, sizeof(path), "/dev/shm/%s", de->d_name);
		if (!lstat(path, &st) && S_ISREG(st.st_mode) && now - st.st_mtime >= STALE_S)
			unlink(path);
	}
	if (d)
		closedir(d);
}

/* A file of npages pages (memfd or /dev/shm), filled through write(). */
static int make_file(struct state *s, int r, int npages)
{
	char *buf = malloc((size_t)npages * PG);
	int fd;

	if (r == R_DEVSHM) {
		snprintf(s->shm_path, sizeof(s->shm_path), "/dev/shm/" SHM_PREFIX "XXXXXX");
		fd = mkostemp(s->shm_path, O_CLOEXEC);
	} else {
		fd = memfd_create(r == R_MEMFD ? "zdtm-swap00" : "zdtm-swap00-fd", MFD_CLOEXEC);
	}
	if (!buf || fd < 0) {
		fail_errno("setup: %s: create", rname[r]);
		free(buf);
		return -1;
	}
	fill(buf, r, npages);
	if (write(fd, buf, (size_t)npages * PG) != (ssize_t)npages * PG) {
		fail_errno("setup: %s: write", rname[r]);
		close(fd);
		fd = -1;
	}
	free(buf);
	return fd;
}

static int setup_region(struct state *s, int r)
{
	int npages = r == R_MEMFDFD ? FD_PAGES : NPAGES, fd = -1;
	int flags = r == R_PRIVATE ? MAP_PRIVATE | MAP_ANONYMOUS : MAP_SHARED;
	long sw;
	char *p;

	s->npages[r] = npages;
	if (r == R_ANON)
		flags |= MAP_ANONYMOUS;
	if (r == R_MEMFD || r == R_MEMFDFD || r == R_DEVSHM) {
		fd = make_file(s, r, npages);
		if (fd < 0)
			return -1;
	}
	p = mmap(NULL, (size_t)npages * PG, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (p == MAP_FAILED) {
		fail_errno("setup: %s: mmap", rname[r]);
		return -1;
	}
	if (r == R_ANON || r == R_PRIVATE)
		fill(p, r, npages);
	else /* written through write(): map every page, MADV_PAGEOUT walks the page table */
		for (int pg = 0; pg < npages; pg++)
			(void)*(volatile char *)(p + pg * PG);
	sw = page_out(rname[r], p, npages);
	if (sw < 0 || check_pagemap(rname[r], p, npages, r != R_PRIVATE, sw))
		return -1;
	s->map[r] = p;
	if (r == R_MEMFD)
		s->memfd_fd = fd;
	else if (r == R_MEMFDFD)
		s->memfdfd_fd = fd;
	else if (fd >= 0)
		close(fd);
	if (r == R_MEMFDFD) { /* held only as an fd from now on; its pages stay in swap */
		munmap(p, (size_t)npages * PG);
		s->map[r] = NULL;
	}
	return 0;
}

static int check_regions(const char *when, struct state *s)
{
	char *buf = malloc(FD_PAGES * PG);
	int ret = 0;

	for (int r = 0; r < NR_REGIONS && !ret; r++) {
		if (r != R_MEMFDFD) {
			ret = check_pages(when, s->map[r], r, s->npages[r]);
			continue;
		}
		if (!buf || pread(s->memfdfd_fd, buf, FD_PAGES * PG, 0) != FD_PAGES * PG) {
			fail_errno("%s: memfdfd: pread of fd %d", when, s->memfdfd_fd);
			ret = -1;
		} else {
			ret = check_pages(when, buf, r, FD_PAGES);
		}
	}
	free(buf);
	return ret;
}

int main(int argc, char **argv)
{
	static struct state s = { .memfd_fd = -1, .memfdfd_fd = -1 };
	char why[256];
	int ret = 1;

	if (argc == 2 && argv[1][0] == '/')
		return guard_agent(argv[1]); /* run by the kernel as the release agent */
	if (test_init(argc, argv))
		return 1;
	if (geteuid()) {
		skip("needs root (zram, swapon, cgroup mount)");
		return 0;
	}
	if (access("/sys/class/zram-control/hot_add", W_OK)) {
		skip("no zram (/sys/class/zram-control/hot_add: %s)", strerror(errno));
		return 0;
	}
	remove_stale_shm();
	if (zram_add(&s.zram))
		return 1;
	if (guard_arm(s.zram)) {
		zram_teardown(s.zram, why, sizeof(why));
		return 1;
	}
	/* from here on the guard removes zram<N> when this task goes, however it goes */
	if (swap_on(s.zram))
		goto out;
	for (int r = 0; r < NR_REGIONS; r++)
		if (setup_region(&s, r))
			goto out;
	if (test_daemon())
		goto out;
	test_waitsig();

	if (!check_regions("after restore", &s))
		ret = 0;
out:
	if (s.shm_path[0])
		unlink(s.shm_path);
	if (in_guard(s.zram) && guard_leave(s.zram))
		ret = 1;
	if (wait_torn_down(s.zram))
		ret = 1;
	guard_remove(s.zram);
	if (!ret)
		pass();
	return ret;
}
