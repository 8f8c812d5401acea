/* pre_shm00: shared memory that keeps changing during pre-dumps (flavor pre) is restored as it was
 * at the final dump, and what did not change since a pre-dump is left in the chain (tests.desc
 * prestats=shmem_pages_parent). Until SIGTERM, without pause, in one MAP_SHARED|MAP_ANONYMOUS
 * object of 512 pages and two memfds:
 * - hot (pages 0-127): written by the test, a version per page noted in vers[] (shared memory
 *   too: a page one version ahead of its note was caught between the two steps, one behind is
 *   stale, a page the final dump took from an older round); every 64 rounds 8 of them are
 *   punched out with MADV_REMOVE (noted "dropping", then 0): zeros, or written again after;
 * - child (128-255): written by a child that lives through the test, with its own notes (it
 *   checks them itself when asked, and exits 0 or 1);
 * - transient (256-383): every 16 rounds a child is forked that writes 4 of these pages, notes
 *   them and exits before the test goes on: a write through a mapping that may come and go
 *   between two pre-dumps, which no page table of the tree shows at the next one;
 * - cold (384-511): written once before the first pre-dump, never again;
 * - a memfd of 128 pages written only with pwrite() (no mapping writes it), read back through a
 *   read-only mapping;
 * - a memfd that grows by 8 pages every 32 rounds (ftruncate, then the new pages written with
 *   pwrite) up to 256 pages: its size is the noted one, or the next when the freeze fell between.
 * After SIGTERM every page is checked against its note. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PG	  4096ul
#define MAX_BAD	  10
#define NOBJ	  512
#define HOT	  0
#define CHILD	  128
#define TRANS	  256
#define COLD	  384
#define NAREA	  128
#define NMEMFD	  128
#define GROW_STEP 8
#define GROW_MAX  256

enum area { A_HOT, A_CHILD, A_TRANS, A_COLD, A_MEMFD, A_GROW };

/* The long-lived child: writes its pages until asked (a byte on pipe go), then checks them. */
static int child(unsigned char *obj, int go)
{
	uint32_t ver[NAREA] = { 0 };
	int bad = 0;
	char c;

	fcntl(go, F_SETFL, O_NONBLOCK);
	while (read(go, &c, 1) != 1) {
		size_t i = (size_t)random() % NAREA;

		test_verpage_put(obj + (CHILD + i) * PG, A_CHILD, i, ver[i] + 1);
		ver[i]++;
	}
	for (size_t i = 0; i < NAREA; i++)
		test_verpage_check("child", obj + (CHILD + i) * PG, A_CHILD, i, ver[i], &bad);
	return bad ? 1 : 0;
}

/* A transient child: 4 pages of the transient area written and noted, then gone. */
static int transient(unsigned char *obj, uint32_t *tver, unsigned long r)
{
	pid_t pid = fork();
	int status;

	if (pid < 0) {
		fail_errno("fork of a transient writer");
		return -1;
	}
	if (pid == 0) {
		srandom((unsigned)r);
		for (int k = 0; k < 4; k++) {
			size_t i = (size_t)random() % NAREA;

			test_verpage_put(obj + (TRANS + i) * PG, A_TRANS, i, tver[i] + 1);
			tver[i]++;
		}
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail_errno("transient writer %d (status %#x)", pid, status);
		return -1;
	}
	return 0;
}

static int pwrite_page(int fd, const unsigned char *page, size_t i)
{
	if (pwrite(fd, page, PG, (off_t)(i * PG)) == (ssize_t)PG)
		return 0;
	fail_errno("pwrite to a memfd at page %zu", i);
	return -1;
}

int main(int argc, char **argv)
{
	unsigned char *obj, *mfm, page[PG];
	uint32_t *vers, *hver, *tver, mver[NMEMFD] = { 0 };
	volatile uint64_t gsize = 0, gnext = 0;
	int pipefd[2], mfd, gfd, status, bad = 0;
	struct stat st;
	pid_t pid;

	if (test_init(argc, argv))
		return 1;
	obj = mmap(NULL, NOBJ * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	vers = mmap(NULL, 2 * NAREA * sizeof(*vers), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	mfd = memfd_create("pre_shm00", MFD_CLOEXEC);
	gfd = memfd_create("pre_shm00.grow", MFD_CLOEXEC);
	if (obj == MAP_FAILED || vers == MAP_FAILED || mfd < 0 || gfd < 0 ||
	    ftruncate(mfd, NMEMFD * PG) || pipe(pipefd)) {
		fail_errno("setup");
		return 1;
	}
	hver = vers;
	tver = vers + NAREA;
	mfm = mmap(NULL, NMEMFD * PG, PROT_READ, MAP_SHARED, mfd, 0);
	if (mfm == MAP_FAILED) {
		fail_errno("setup: mmap of the memfd");
		return 1;
	}
	for (size_t i = 0; i < NAREA; i++)
		test_verpage_put(obj + (COLD + i) * PG, A_COLD, i, 1);
	pid = fork();
	if (pid < 0) {
		fail_errno("fork");
		return 1;
	}
	if (pid == 0) {
		close(pipefd[1]);
		_exit(child(obj, pipefd[0]));
	}
	close(pipefd[0]);
	if (test_daemon())
		return 1;
	for (unsigned long r = 0; test_go(); r++) {
		for (int k = 0; k < 8; k++) {
			size_t i = (size_t)random() % NAREA, m = (size_t)random() % NMEMFD;

			test_verpage_put(obj + (HOT + i) * PG, A_HOT, i, hver[i] + 1);
			hver[i]++;
			test_verpage_put(page, A_MEMFD, m, mver[m] + 1);
			if (pwrite_page(mfd, page, m))
				return 1;
			mver[m]++;
		}
		if (r % 16 == 15 && transient(obj, tver, r))
			return 1;
		if (r % 64 == 63) {
			size_t i = (size_t)random() % (NAREA - 8);

			for (size_t k = 0; k < 8; k++)
				hver[i + k] = TEST_VERPAGE_DROPPING;
			if (madvise(obj + (HOT + i) * PG, 8 * PG, MADV_REMOVE)) {
				fail_errno("MADV_REMOVE of hot pages %zu-%zu", i, i + 7);
				return 1;
			}
			for (size_t k = 0; k < 8; k++)
				hver[i + k] = 0;
		}
		if (r % 32 == 0 && gsize < GROW_MAX * PG) {
			gnext = gsize + GROW_STEP * PG;
			if (ftruncate(gfd, (off_t)gnext)) {
				fail_errno("ftruncate of the growing memfd");
				return 1;
			}
			for (size_t i = gsize / PG; i < gnext / PG; i++) {
				test_verpage_put(page, A_GROW, i, 1);
				if (pwrite_page(gfd, page, i))
					return 1;
			}
			gsize = gnext;
		}
	}
	if (write(pipefd[1], "x", 1) != 1 || waitpid(pid, &status, 0) != pid) {
		fail_errno("stopping the child");
		return 1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail("the child found its shared pages wrong (status %#x: see its messages)",
		     status);
	for (size_t i = 0; i < NAREA; i++) {
		test_verpage_check("hot", obj + (HOT + i) * PG, A_HOT, i, hver[i], &bad);
		test_verpage_check("transient", obj + (TRANS + i) * PG, A_TRANS, i, tver[i], &bad);
		test_verpage_check("cold", obj + (COLD + i) * PG, A_COLD, i, 1, &bad);
	}
	for (size_t i = 0; i < NMEMFD; i++)
		test_verpage_check("memfd", mfm + i * PG, A_MEMFD, i, mver[i], &bad);
	if (fstat(gfd, &st)) {
		fail_errno("fstat of the growing memfd");
		return 1;
	}
	if ((uint64_t)st.st_size != gsize && (uint64_t)st.st_size != gnext && bad++ < MAX_BAD)
		fail("the growing memfd has %lld bytes, noted %llu (next %llu)",
		     (long long)st.st_size, (unsigned long long)gsize, (unsigned long long)gnext);
	for (size_t i = 0; i < (uint64_t)st.st_size / PG; i++) {
		if (pread(gfd, page, PG, (off_t)(i * PG)) != (ssize_t)PG) {
			fail_errno("pread of the growing memfd at page %zu", i);
			return 1;
		}
		/* past the noted size: a freeze between ftruncate and the writes */
		test_verpage_check("grow", page, A_GROW, i, i < gsize / PG ? 1 : 0, &bad);
	}
	if (!bad)
		pass();
	return 0;
}
