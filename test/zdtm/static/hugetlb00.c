/* hugetlb00: private anonymous hugetlb memory (MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, 2 MiB
 * pages) survives checkpoint/restore exactly:
 *
 *   region   pages           made                                  checked after the restore
 *   rw       3 huge pages    page 0 filled, page 1 one 4 KiB page  the contents; 2 huge pages
 *                            written, page 2 never touched         present, not 3 (smaps
 *                                                                  Private_Hugetlb); writable
 *   ro       1 huge page     filled, then PROT_READ                the contents, read-only
 *
 * and both are hugetlb VMAs again (VmFlags ht, KernelPageSize 2048 kB) at their addresses. The
 * pages come from the hugetlb pool: when it has too few free, the test lets the kernel take
 * surplus pages (vm.nr_overcommit_hugepages raised for the test, set back at its end: surplus
 * pages go back to the system when freed, so an interrupted test leaves no memory behind).
 * Skipped where the kernel has no 2 MiB hugetlb pages or can't allocate them. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"

#define HP	(2UL << 20)
#define SEED_RW 0x4a6e7e00u
#define SEED_RO 0x4a6e7e01u
/* surplus pages allowed: this test's 4, twice (a lazy migration holds the source's while the
 * destination restores), and room */
#define WANT 16

struct smaps_of {
	uint64_t hugetlb, kps; /* Private_Hugetlb and KernelPageSize, bytes */
	bool ht;
};

/* The smaps lines of the VMA starting at addr. */
static int smaps_of(const void *addr, struct smaps_of *s)
{
	size_t len;
	char *text = test_read_file("/proc/self/smaps", &len), head[32], *p, *end;

	memset(s, 0, sizeof(*s));
	if (!text)
		return -1;
	snprintf(head, sizeof(head), "%" PRIxPTR "-", (uintptr_t)addr);
	p = strstr(text, head);
	if (!p || (p != text && p[-1] != '\n')) {
		free(text);
		return -1;
	}
	end = strstr(p + 1, "VmFlags:");
	if (end) {
		char *nl = strchr(end, '\n');

		s->ht = nl ? memmem(end, (size_t)(nl - end), " ht", 3) != NULL : false;
	}
	if ((p = strstr(p, "KernelPageSize:")))
		s->kps = strtoull(p + 15, NULL, 10) << 10;
	if (p && (p = strstr(p, "Private_Hugetlb:")))
		s->hugetlb = strtoull(p + 16, NULL, 10) << 10;
	free(text);
	return 0;
}

static int check_region(const char *what, unsigned char *p, size_t pages, uint64_t present,
			const struct smaps_of *before)
{
	struct smaps_of s;

	if (smaps_of(p, &s)) {
		fail("%s: no VMA at %p in smaps", what, p);
		return -1;
	}
	if (!s.ht || s.kps != HP || s.hugetlb != present || s.hugetlb != before->hugetlb) {
		fail("%s: ht %d, page size %" PRIu64 ", %" PRIu64 " bytes of hugetlb memory "
		     "present (before: %" PRIu64 "; expected %" PRIu64 ")",
		     what, s.ht, s.kps, s.hugetlb, before->hugetlb, present);
		return -1;
	}
	(void)pages;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned char *rw, *ro;
	struct smaps_of a, b;
	long old = -1;
	ssize_t bad;
	int ret = 1;

	if (test_init(argc, argv))
		return 1;
	if (access("/sys/kernel/mm/hugepages/hugepages-2048kB", F_OK)) {
		skip("the kernel has no 2 MiB hugetlb pages");
		return 0;
	}
	old = test_hugetlb_allow(WANT);
	if (old < 0) {
		skip("can't allow surplus huge pages (vm.nr_overcommit_hugepages): %s",
		     strerror(errno));
		return 0;
	}
	rw = mmap(NULL, 3 * HP, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB,
		  -1, 0);
	ro = mmap(NULL, HP, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1,
		  0);
	if (rw == MAP_FAILED || ro == MAP_FAILED) {
		skip("no huge pages could be had: %s", strerror(errno));
		goto out_skip;
	}
	test_fill_pattern(rw, HP, SEED_RW);
	memset(rw + HP + 8192, 0x6b, 4096);
	test_fill_pattern(ro, HP, SEED_RO);
	if (mprotect(ro, HP, PROT_READ) || smaps_of(rw, &a) || smaps_of(ro, &b) ||
	    check_region("setup: rw", rw, 3, 2 * HP, &a) ||
	    check_region("setup: ro", ro, 1, HP, &b))
		goto out;

	test_daemon();
	test_waitsig();

	if (check_region("rw", rw, 3, 2 * HP, &a) || check_region("ro", ro, 1, HP, &b))
		goto out;
	if ((bad = test_check_pattern(rw, HP, SEED_RW)) >= 0 ||
	    (bad = test_check_pattern(ro, HP, SEED_RO)) >= 0) {
		fail("hugetlb memory differs at byte %zd", bad);
		goto out;
	}
	for (size_t i = 0; i < HP; i++) {
		unsigned char want = i >= 8192 && i < 8192 + 4096 ? 0x6b : 0;

		if (rw[HP + i] != want || rw[2 * HP + i]) {
			fail("the second or third huge page differs at byte %zu", i);
			goto out;
		}
	}
	rw[2 * HP] = 1; /* still writable: a third page comes */
	pass();
	ret = 0;
out:
	munmap(rw, 3 * HP);
	munmap(ro, HP);
out_skip:
	test_hugetlb_reset(old, WANT);
	return ret == 1 ? 1 : 0;
}
