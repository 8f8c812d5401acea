/* mprotect00: one anonymous mapping cut into seven VMAs by mprotect()
 * (r--, ---, rw-, r-x, rwx, rw- after a round trip through r--, r--)
 * survives checkpoint/restore: the same VMAs in /proc/self/maps, the same
 * contents, and the protections are enforced: the kernel refuses to write
 * into the read-only pages and to read from the PROT_NONE one (EFAULT from
 * read()/write(), no signal), and writes into the writable ones. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PG     4096u
#define NPAGES 12
#define SEED   0x3b07ec70u

#define R   PROT_READ
#define RW  (PROT_READ | PROT_WRITE)
#define RX  (PROT_READ | PROT_EXEC)
#define RWX (PROT_READ | PROT_WRITE | PROT_EXEC)

static const struct vma {
	int first, npages, prot;
	const char *perms;
} vmas[] = {
	{ 0, 2, R, "r--p" },  { 2, 1, PROT_NONE, "---p" }, { 3, 2, RW, "rw-p" },
	{ 5, 1, RX, "r-xp" }, { 6, 2, RWX, "rwxp" },	   { 8, 2, RW, "rw-p" },
	{ 10, 2, R, "r--p" },
};

#define NVMAS ((int)(sizeof(vmas) / sizeof(vmas[0])))

/* The maps lines inside [base, base + NPAGES pages) match vmas[]. */
static int check_maps(const unsigned char *base, const char *when)
{
	unsigned long lo = (unsigned long)base, hi = lo + NPAGES * PG, s, e, xs, xe;
	size_t len;
	char *maps = test_read_file("/proc/self/maps", &len), *save, *line;
	char perms[8];
	int n = 0, ret = 0;

	if (!maps) {
		fail_errno("%s: read /proc/self/maps", when);
		return -1;
	}
	for (line = strtok_r(maps, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%lx-%lx %7s", &s, &e, perms) != 3 || e <= lo || s >= hi)
			continue;
		if (n >= NVMAS) {
			fail("%s: extra VMA '%s' in the mapping at %#lx", when, line, lo);
			ret = -1;
			break;
		}
		xs = lo + (unsigned long)vmas[n].first * PG;
		xe = xs + (unsigned long)vmas[n].npages * PG;
		if (s != xs || e != xe || strcmp(perms, vmas[n].perms)) {
			fail("%s: VMA %d is %lx-%lx %s, expected %lx-%lx %s", when, n, s, e, perms,
			     xs, xe, vmas[n].perms);
			ret = -1;
		}
		n++;
	}
	if (!ret && n != NVMAS) {
		fail("%s: %d VMAs in the mapping at %#lx, expected %d", when, n, lo, NVMAS);
		ret = -1;
	}
	free(maps);
	return ret;
}

static int check_contents(unsigned char *p)
{
	ssize_t bad;

	if (mprotect(p + 2 * PG, PG, PROT_READ)) { /* the PROT_NONE page */
		fail_errno("mprotect(%p, PROT_READ)", (void *)(p + 2 * PG));
		return -1;
	}
	bad = test_check_pattern(p, NPAGES * PG, SEED);
	if (mprotect(p + 2 * PG, PG, PROT_NONE)) {
		fail_errno("mprotect(%p, PROT_NONE)", (void *)(p + 2 * PG));
		return -1;
	}
	if (bad >= 0) {
		fail("contents differ first at page %zd offset %zd (0x%02x)", bad / PG, bad % PG,
		     p[bad]);
		return -1;
	}
	return 0;
}

/* Does the kernel let a syscall write into / read from each page as its
 * protection says? Run after check_contents(): it changes one byte a page. */
static int check_enforced(unsigned char *p)
{
	int zero = open("/dev/zero", O_RDONLY | O_CLOEXEC), pfd[2], ret = 0;
	char c;

	if (zero < 0 || pipe2(pfd, O_CLOEXEC)) {
		fail_errno("open /dev/zero / pipe2");
		return -1;
	}
	for (int v = 0; v < NVMAS; v++) {
		unsigned char *page = p + (size_t)vmas[v].first * PG;
		ssize_t r = read(zero, page, 1);
		int werr = r < 0 ? errno : 0;

		if ((vmas[v].prot & PROT_WRITE) ? r != 1 : (r != -1 || werr != EFAULT)) {
			fail("read() into %s page %p: %zd (errno %d), expected %s", vmas[v].perms,
			     (void *)page, r, werr, (vmas[v].prot & PROT_WRITE) ? "1" : "EFAULT");
			ret = -1;
		}
		r = write(pfd[1], page, 1);
		werr = r < 0 ? errno : 0;
		if (vmas[v].prot ? r != 1 : (r != -1 || werr != EFAULT)) {
			fail("write() from %s page %p: %zd (errno %d), expected %s", vmas[v].perms,
			     (void *)page, r, werr, vmas[v].prot ? "1" : "EFAULT");
			ret = -1;
		}
		if (r == 1 && read(pfd[0], &c, 1) != 1)
			ret = -1;
	}
	close(zero);
	close(pfd[0]);
	close(pfd[1]);
	return ret;
}

int main(int argc, char **argv)
{
	unsigned char *area, *p;

	if (test_init(argc, argv))
		return 1;
	/* PROT_NONE guard pages on both sides keep neighbours from merging in */
	area = mmap(NULL, (NPAGES + 2) * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED) {
		fail_errno("setup: mmap");
		return 1;
	}
	p = area + PG;
	if (mprotect(p, NPAGES * PG, RW)) {
		fail_errno("setup: mprotect rw");
		return 1;
	}
	test_fill_pattern(p, NPAGES * PG, SEED);
	if (mprotect(p + 8 * PG, 2 * PG, R)) { /* the round trip of pages 8-9 */
		fail_errno("setup: mprotect r");
		return 1;
	}
	for (int v = 0; v < NVMAS; v++) {
		if (mprotect(p + (size_t)vmas[v].first * PG, (size_t)vmas[v].npages * PG,
			     vmas[v].prot)) {
			fail_errno("setup: mprotect VMA %d to %s", v, vmas[v].perms);
			return 1;
		}
	}
	if (check_maps(p, "setup") || check_contents(p))
		return 1;
	if (test_daemon())
		return 1;
	test_waitsig();

	if (check_maps(p, "after SIGTERM") || check_contents(p) || check_enforced(p))
		return 1;
	pass();
	return 0;
}
