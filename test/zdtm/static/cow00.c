/* cow00: a file-backed MAP_PRIVATE mapping written after mmap survives
 * checkpoint/restore as a mix of private (copied-on-write) pages and file
 * pages: the written pages hold what was written, the file does not, the
 * untouched pages equal the file, and they are still the file's pages: a
 * write to the file after the restore shows through them. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PG	  4096u
#define NPAGES	  16
#define LEN	  (NPAGES * PG)
#define FILE_SEED 0xc0e00000u
#define COW_SEED  0xc0e00001u
#define NEW_SEED  0xc0e00002u

/* Which pages the test writes: every third page entirely, page 7 in one byte. */
static int cow_page(int i)
{
	return i % 3 == 0 || i == 7;
}

static void write_cow(unsigned char *p)
{
	for (int i = 0; i < NPAGES; i++) {
		if (i % 3 == 0)
			test_fill_pattern(p + (size_t)i * PG, PG, COW_SEED + (uint64_t)i);
	}
	p[7 * PG + 100] ^= 0xff;
}

/* The file's contents: page i holds the pattern of seed + i. */
static void fill_file(unsigned char *buf, uint64_t seed)
{
	for (int i = 0; i < NPAGES; i++)
		test_fill_pattern(buf + (size_t)i * PG, PG, seed + (uint64_t)i);
}

/* What page i of the mapping must hold when the file holds file_seed's
 * pages: a written page is a copy of the file as it was at the write
 * (FILE_SEED), modified; an untouched page is the file as it is now. */
static void expected_page(unsigned char *exp, int i, uint64_t file_seed)
{
	test_fill_pattern(exp, PG, (cow_page(i) ? FILE_SEED : file_seed) + (uint64_t)i);
	if (i % 3 == 0)
		test_fill_pattern(exp, PG, COW_SEED + (uint64_t)i);
	if (i == 7)
		exp[100] ^= 0xff;
}

/* The mapping against the model, when the file holds file_seed's pages. */
static int check_map(const char *what, const unsigned char *map, uint64_t file_seed)
{
	unsigned char exp[PG];

	for (int i = 0; i < NPAGES; i++) {
		const unsigned char *seen = map + (size_t)i * PG;

		expected_page(exp, i, file_seed);
		for (size_t k = 0; k < PG; k++) {
			if (seen[k] != exp[k]) {
				fail("%s page %d (%s): byte %zu is 0x%02x, expected 0x%02x", what,
				     i,
				     cow_page(i) ? "written: a private copy"
						 : "untouched: a file page",
				     k, seen[k], exp[k]);
				return -1;
			}
		}
	}
	return 0;
}

/* The file must not have seen the private writes. */
static int check_file(int fd, unsigned char *buf)
{
	if (pread(fd, buf, LEN, 0) != (ssize_t)LEN) {
		fail_errno("pread of the file");
		return -1;
	}
	for (int i = 0; i < NPAGES; i++) {
		ssize_t bad = test_check_pattern(buf + (size_t)i * PG, PG, FILE_SEED + (uint64_t)i);

		if (bad >= 0) {
			fail("the file changed at page %d offset %zd: private writes reached it", i,
			     bad);
			return -1;
		}
	}
	return 0;
}

/* Rewrite the file: untouched pages must follow, private copies must not. */
static int check_still_file_pages(int fd, const unsigned char *map, unsigned char *buf)
{
	fill_file(buf, NEW_SEED);
	if (pwrite(fd, buf, LEN, 0) != (ssize_t)LEN) {
		fail_errno("pwrite of the file");
		return -1;
	}
	return check_map("after rewriting the file, mapping", map, NEW_SEED);
}

int main(int argc, char **argv)
{
	char dir[] = "cow00.XXXXXX", path[64];
	unsigned char *file, *map;
	int fd;

	if (test_init(argc, argv))
		return 1;
	if (!mkdtemp(dir)) {
		fail_errno("setup: mkdtemp %s", dir);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/file", dir);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	file = malloc(LEN);
	if (fd < 0 || !file) {
		fail_errno("setup: create %s", path);
		return 1;
	}
	fill_file(file, FILE_SEED);
	if (write(fd, file, LEN) != (ssize_t)LEN) {
		fail_errno("setup: write %s", path);
		return 1;
	}
	map = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		fail_errno("setup: mmap %s", path);
		return 1;
	}
	/* fault the untouched pages in too: they must stay the file's */
	if (test_crc32c(map, LEN) != test_crc32c(file, LEN)) {
		fail("setup: a fresh private mapping differs from its file");
		return 1;
	}
	write_cow(map);
	if (check_file(fd, file) || check_map("setup: mapping", map, FILE_SEED))
		return 1; /* the test itself is wrong */
	if (test_daemon())
		return 1;
	test_waitsig();

	if (check_file(fd, file) || check_map("mapping", map, FILE_SEED) ||
	    check_still_file_pages(fd, map, file))
		return 1;
	munmap(map, LEN);
	close(fd);
	unlink(path);
	rmdir(dir);
	free(file);
	pass();
	return 0;
}
