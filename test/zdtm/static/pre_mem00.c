/* pre_mem00: memory that keeps changing during pre-dumps (flavor pre) is restored as it was at
 * the final dump, not as any pre-dump saw it. Until SIGTERM, without pause:
 * - hot: 2048 private pages; each write gives page i version v (the pattern of seed i,v over the
 *   whole page, v in its first word) and then notes v in ver[] (private memory too): a page one
 *   version ahead of ver[] was caught between the two steps, one behind is stale (a page the
 *   final dump took from an older round);
 * - every 64 rounds 16 pages of hot are dropped with MADV_DONTNEED (ver[] says "dropping" first,
 *   then 0): they must read as zeros, or be written again after;
 * - cold: 2048 private pages written once before the first pre-dump and never again (the final
 *   dump leaves them in the parent images: tests.desc prestats=pages_in_parent);
 * - movers: two regions of 256 pages, each its own pattern, in two of three slots; every 128
 *   rounds they trade places with mremap (through the free slot), so that a slot comes to hold
 *   the other region's pages, which no write touched since they moved: a tracker that took them
 *   for unchanged would restore the slot's old contents. After the restore each pattern must be
 *   found whole in one slot (where they are is not noted: a freeze may fall between two moves);
 * - fresh: 64 pages mapped anew every 128 rounds (filled elsewhere, then moved over the old ones
 *   with mremap: generation g or g+1 of the noted g);
 * - shared: 256 pages of MAP_SHARED|MAP_ANONYMOUS written by a child with its own ver[] (it
 *   checks them itself when asked, and exits 0 or 1);
 * - a memfd of 256 pages written with pwrite() (not through a mapping) with a ver[] of its own,
 *   and read back through a mapping of it.
 * After SIGTERM every page is checked against its ver[]. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PG	   4096ul
#define MAX_BAD	   10
#define NHOT	   2048
#define NCOLD	   2048
#define NMOVE	   256
#define NFRESH	   64
#define NSHARED	   256
#define NMEMFD	   256
#define COLD_SEED  0xc01d000000000000ull
#define MOVE_SEED  0x3013000000000000ull
#define SLOT(k)	   (slots + (size_t)(k)*NMOVE * PG)
#define FRESH_SEED 0xf3e5000000000000ull

/* [p, p + len) is mapped, all of it */
static bool mapped(void *p, size_t len)
{
	return msync(p, len, MS_ASYNC) == 0 || errno != ENOMEM;
}

/* The child: writes shared pages until asked (a byte on pipe go), then checks them. */
static int child(unsigned char *sh, int go)
{
	uint32_t *ver = calloc(NSHARED, sizeof(*ver));
	int bad = 0;
	char c;

	if (!ver)
		return 1;
	fcntl(go, F_SETFL, O_NONBLOCK);
	for (unsigned long r = 0; read(go, &c, 1) != 1; r++) {
		size_t i = (size_t)random() % NSHARED;

		test_verpage_put(sh + i * PG, 4, i, ver[i] + 1);
		ver[i]++;
	}
	for (size_t i = 0; i < NSHARED; i++)
		test_verpage_check("shared", sh + i * PG, 4, i, ver[i], &bad);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	unsigned char *hot, *cold, *slots, *fresh, *sh, *mfm, *page;
	uint32_t *ver, *mver;
	volatile uint32_t gen = 0;
	int pipefd[2], mfd, status, bad = 0;
	pid_t pid;

	if (test_init(argc, argv))
		return 1;
	hot = mmap(NULL, NHOT * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cold = mmap(NULL, NCOLD * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	slots = mmap(NULL, 3 * NMOVE * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fresh = mmap(NULL, NFRESH * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	sh = mmap(NULL, NSHARED * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	mfd = memfd_create("pre_mem00", MFD_CLOEXEC);
	ver = calloc(NHOT, sizeof(*ver));
	mver = calloc(NMEMFD, sizeof(*mver));
	page = malloc(PG);
	if (hot == MAP_FAILED || cold == MAP_FAILED || slots == MAP_FAILED || fresh == MAP_FAILED ||
	    sh == MAP_FAILED || mfd < 0 || !ver || !mver || !page || ftruncate(mfd, NMEMFD * PG) ||
	    pipe(pipefd)) {
		fail_errno("setup");
		return 1;
	}
	mfm = mmap(NULL, NMEMFD * PG, PROT_READ, MAP_SHARED, mfd, 0);
	for (int k = 0; k < 2 && mfm != MAP_FAILED; k++)
		if (mmap(SLOT(k), NMOVE * PG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != SLOT(k))
			mfm = MAP_FAILED;
	if (mfm == MAP_FAILED) {
		fail_errno("setup: mmap");
		return 1;
	}
	for (size_t i = 0; i < NCOLD; i++)
		test_verpage_put(cold + i * PG, 1, i, 1);
	for (int k = 0; k < 2; k++)
		test_fill_pattern(SLOT(k), NMOVE * PG, MOVE_SEED + (unsigned)k);
	munmap(SLOT(2), NMOVE * PG); /* the free slot */
	test_fill_pattern(fresh, NFRESH * PG, FRESH_SEED);
	pid = fork();
	if (pid < 0) {
		fail_errno("fork");
		return 1;
	}
	if (pid == 0) {
		close(pipefd[1]);
		_exit(child(sh, pipefd[0]));
	}
	close(pipefd[0]);
	if (test_daemon())
		return 1;
	for (unsigned long r = 0; test_go(); r++) {
		for (int k = 0; k < 8; k++) {
			size_t i = (size_t)random() % NHOT, m = (size_t)random() % NMEMFD;

			test_verpage_put(hot + i * PG, 0, i, ver[i] + 1);
			ver[i]++;
			test_verpage_put(page, 5, m, mver[m] + 1);
			if (pwrite(mfd, page, PG, (off_t)(m * PG)) != (ssize_t)PG) {
				fail_errno("pwrite to the memfd");
				return 1;
			}
			mver[m]++;
		}
		if (r % 64 == 63) {
			size_t i = (size_t)random() % (NHOT - 16);

			for (size_t k = 0; k < 16; k++)
				ver[i + k] = TEST_VERPAGE_DROPPING;
			madvise(hot + i * PG, 16 * PG, MADV_DONTNEED);
			for (size_t k = 0; k < 16; k++)
				ver[i + k] = 0;
		}
		if (r % 128 == 0) {
			unsigned char *n;
			int f = 0;

			/* the movers trade places through the free slot (the one not wholly mapped:
			 * found again each time, as a freeze may fall between two moves) */
			while (f < 3 && mapped(SLOT(f), NMOVE * PG))
				f++;
			for (int k = 1; k <= 2 && f < 3; k++) {
				int from = (f + k) % 3, to = (f + k - 1) % 3;

				if (mremap(SLOT(from), NMOVE * PG, NMOVE * PG,
					   MREMAP_MAYMOVE | MREMAP_FIXED, SLOT(to)) != SLOT(to)) {
					fail_errno("mremap of the mover in slot %d", from);
					return 1;
				}
			}
			if (f == 3) {
				fail("no free slot among the movers' three");
				return 1;
			}
			n = mmap(NULL, NFRESH * PG, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (n == MAP_FAILED) {
				fail_errno("mmap");
				return 1;
			}
			test_fill_pattern(n, NFRESH * PG, FRESH_SEED + gen + 1);
			if (mremap(n, NFRESH * PG, NFRESH * PG, MREMAP_MAYMOVE | MREMAP_FIXED,
				   fresh) != fresh) {
				fail_errno("mremap over fresh");
				return 1;
			}
			gen++;
		}
	}
	if (write(pipefd[1], "x", 1) != 1 || waitpid(pid, &status, 0) != pid) {
		fail_errno("stopping the child");
		return 1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail("the child found its shared pages wrong (status %#x: see its messages)",
		     status);
	for (size_t i = 0; i < NHOT; i++)
		test_verpage_check("hot", hot + i * PG, 0, i, ver[i], &bad);
	for (size_t i = 0; i < NCOLD; i++)
		test_verpage_check("cold", cold + i * PG, 1, i, 1, &bad);
	for (size_t i = 0; i < NMEMFD; i++)
		test_verpage_check("memfd", mfm + i * PG, 5, i, mver[i], &bad);
	for (unsigned k = 0; k < 2; k++) {
		int found = 0;

		for (int s = 0; s < 3; s++)
			found += mapped(SLOT(s), NMOVE * PG) &&
				 test_check_pattern(SLOT(s), NMOVE * PG, MOVE_SEED + k) < 0;
		if (found != 1 && bad++ < MAX_BAD)
			fail("mover %u (moved with mremap) is whole in %d slots, not 1", k, found);
	}
	if (test_check_pattern(fresh, NFRESH * PG, FRESH_SEED + gen) >= 0 &&
	    test_check_pattern(fresh, NFRESH * PG, FRESH_SEED + gen + 1) >= 0 && bad++ < MAX_BAD)
		fail("the region mapped anew (generation %u) holds neither generation", gen);
	if (!bad)
		pass();
	return 0;
}
