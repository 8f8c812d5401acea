/* lazy02: system calls read from and write into lazily restored memory: the kernel's own
 * accesses (copy_from_user, copy_to_user) must fault and be served like the task's, never fail
 * with EFAULT or see a page that is not there yet (the uffd is a privileged one).
 *
 * A 4 MiB region holds a pattern. After SIGTERM (under lazy=faults nothing is prefetched):
 *   write() to a pipe from 8 KiB of the region, unaligned: the pipe must give back the pattern;
 *   pread() of 3000 bytes of a file into the region at an unaligned offset: those bytes must be
 *   the file's, and the bytes of the same pages around them still the pattern;
 *   getrandom() of 64 bytes into another page: the bytes around them keep the pattern. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include "zdtmtst.h"

#define MB   (1UL << 20)
#define SZ   (4 * MB)
#define SEED 0x1a202ULL

static uint8_t *r, *want;

/* [from, to) of the region must be the pattern. */
static int same(size_t from, size_t to, const char *what)
{
	for (size_t i = from; i < to; i++)
		if (r[i] != want[i]) {
			fail("%s: byte %zu of the region is %#x, not the pattern's %#x", what, i,
			     r[i], want[i]);
			return -1;
		}
	return 0;
}

int main(int argc, char **argv)
{
	const size_t w_off = 1 * MB + 100, w_len = 8192, r_off = 2 * MB + 1000, r_len = 3000;
	const size_t g_off = 3 * MB + 16;
	uint8_t pipebuf[8192], filebuf[3000];
	int p[2], fd;

	if (test_init(argc, argv))
		return 1;
	r = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED) {
		fail_errno("setup: mmap");
		return 1;
	}
	test_fill_pattern(r, SZ, SEED);
	if (test_daemon())
		return 1;
	test_waitsig();

	want = malloc(SZ);
	if (!want || pipe(p)) {
		fail_errno("malloc or pipe");
		return 1;
	}
	test_fill_pattern(want, SZ, SEED);
	/* the kernel reads the region */
	if (write(p[1], r + w_off, w_len) != (ssize_t)w_len ||
	    read(p[0], pipebuf, w_len) != (ssize_t)w_len) {
		fail_errno("write from the region into a pipe");
		return 1;
	}
	if (memcmp(pipebuf, want + w_off, w_len)) {
		fail("the pipe gave back other bytes than the region's pattern");
		return 1;
	}
	/* the kernel writes into the region */
	for (size_t i = 0; i < r_len; i++)
		filebuf[i] = (uint8_t)(i * 7 + 3);
	fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 || pwrite(fd, filebuf, r_len, 0) != (ssize_t)r_len ||
	    pread(fd, r + r_off, r_len, 0) != (ssize_t)r_len) {
		fail_errno("pread from a file into the region");
		return 1;
	}
	close(fd);
	if (memcmp(r + r_off, filebuf, r_len)) {
		fail("pread put other bytes into the region than the file's");
		return 1;
	}
	if (same(r_off & ~4095UL, r_off, "before the pread") ||
	    same(r_off + r_len, (r_off + r_len + 4095) & ~4095UL, "after the pread"))
		return 1;
	if (getrandom(r + g_off, 64, 0) != 64) {
		fail_errno("getrandom into the region");
		return 1;
	}
	if (same(g_off & ~4095UL, g_off, "before getrandom's bytes") ||
	    same(g_off + 64, (g_off + 4095) & ~4095UL, "after getrandom's bytes"))
		return 1;
	pass();
	return 0;
}
