/* maps00: mappings of every kind (private/shared anonymous, private/shared
 * file) with every protection (none, r, rw, rx, rwx) survive checkpoint/restore:
 * each page's contents (CRC-32C; PROT_NONE regions are read through a
 * temporary mprotect), shared file mappings agree with the file, and the
 * mappings in /proc/self/maps (addresses, perms, offset, device, path; the
 * inode of named files; see test_read_maps()) are the same as before. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"

#define NPAGES	  4 /* per region; page 2 of anonymous regions is never written */
#define NKINDS	  4
#define NPROTS	  5
#define MAX_BAD	  8 /* FAIL lines at most, then a count */
#define PG	  4096u
#define FILE_SEED 0x3a950000u
#define FILE_LEN  (2 * NPROTS * NPAGES * PG) /* the two file kinds */

enum kind { PRIV_ANON, SHARED_ANON, PRIV_FILE, SHARED_FILE };

static const char *const kind_name[NKINDS] = { "private anon", "shared anon", "private file",
					       "shared file" };
static const int prots[NPROTS] = { PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE,
				   PROT_READ | PROT_EXEC, PROT_READ | PROT_WRITE | PROT_EXEC };
static const char *const prot_name[NPROTS] = { "---", "r--", "rw-", "r-x", "rwx" };

struct region {
	enum kind kind;
	int pi; /* index in prots[] */
	unsigned char *p;
	off_t off; /* in the file, for file kinds */
	uint32_t crc[NPAGES];
};

static uint64_t seed_of(const struct region *r)
{
	return 0x3a950100u + (uint64_t)r->kind * 16 + (uint64_t)r->pi;
}

/* Per-page CRCs; a PROT_NONE region is made readable for the time of it. */
static int page_crcs(struct region *r, uint32_t *crc)
{
	if (!prots[r->pi] && mprotect(r->p, NPAGES * PG, PROT_READ))
		return -1;
	for (int i = 0; i < NPAGES; i++)
		crc[i] = test_crc32c(r->p + (size_t)i * PG, PG);
	if (!prots[r->pi] && mprotect(r->p, NPAGES * PG, PROT_NONE))
		return -1;
	return 0;
}

static int map_region(struct region *r, int fd)
{
	int prot = prots[r->pi];
	int writable = prot & PROT_WRITE;

	switch (r->kind) {
	case PRIV_ANON:
	case SHARED_ANON:
		r->p =
		    mmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE,
			 (r->kind == PRIV_ANON ? MAP_PRIVATE : MAP_SHARED) | MAP_ANONYMOUS, -1, 0);
		if (r->p == MAP_FAILED)
			return -1;
		test_fill_pattern(r->p, 2 * PG, seed_of(r));
		test_fill_pattern(r->p + 3 * PG, PG, seed_of(r) + 3);
		return mprotect(r->p, NPAGES * PG, prot);
	default:
		r->p = mmap(NULL, NPAGES * PG, prot,
			    r->kind == PRIV_FILE ? MAP_PRIVATE : MAP_SHARED, fd, r->off);
		if (r->p == MAP_FAILED)
			return -1;
		/* private: a COW copy; shared: written through to the file */
		if (writable)
			test_fill_pattern(r->p + PG, PG, seed_of(r));
		return 0;
	}
}

static int check_region(struct region *r, int fd, int *bad)
{
	unsigned char file[NPAGES * PG];
	uint32_t crc[NPAGES];

	if (page_crcs(r, crc)) {
		fail_errno("%s %s at %p: mprotect to read it", kind_name[r->kind], prot_name[r->pi],
			   (void *)r->p);
		return -1;
	}
	for (int i = 0; i < NPAGES; i++) {
		if (crc[i] != r->crc[i] && (*bad)++ < MAX_BAD)
			fail("%s %s region at %p page %d: crc32c %#x, expected %#x",
			     kind_name[r->kind], prot_name[r->pi], (void *)r->p, i, crc[i],
			     r->crc[i]);
	}
	if (r->kind != SHARED_FILE || !prots[r->pi])
		return 0;
	if (pread(fd, file, sizeof(file), r->off) != (ssize_t)sizeof(file)) {
		fail_errno("pread of the mapped file at offset %jd", (intmax_t)r->off);
		return -1;
	}
	for (size_t i = 0; i < sizeof(file); i++) {
		if (file[i] != r->p[i]) {
			if ((*bad)++ < MAX_BAD)
				fail("shared file %s region at %p: byte %zu is 0x%02x in memory, "
				     "0x%02x in the file at offset %jd",
				     prot_name[r->pi], (void *)r->p, i, r->p[i], file[i],
				     (intmax_t)(r->off + (off_t)i));
			break;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	char dir[] = "maps00.XXXXXX", path[64];
	struct region reg[NKINDS * NPROTS];
	unsigned char *fbuf;
	char *before, *after;
	size_t blen, alen;
	int fd, bad = 0, maps_bad;

	if (test_init(argc, argv))
		return 1;
	if (!mkdtemp(dir)) {
		fail_errno("setup: mkdtemp %s", dir);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/file", dir);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	fbuf = malloc(FILE_LEN);
	if (fd < 0 || !fbuf) {
		fail_errno("setup: create %s", path);
		return 1;
	}
	test_fill_pattern(fbuf, FILE_LEN, FILE_SEED);
	if (write(fd, fbuf, FILE_LEN) != (ssize_t)FILE_LEN) {
		fail_errno("setup: write %s", path);
		return 1;
	}
	free(fbuf);
	for (int i = 0; i < NKINDS * NPROTS; i++) {
		struct region *r = &reg[i];

		r->kind = (enum kind)(i / NPROTS);
		r->pi = i % NPROTS;
		r->off = r->kind >= PRIV_FILE ? (off_t)(i - 2 * NPROTS) * NPAGES * PG : 0;
		if (map_region(r, fd) || page_crcs(r, r->crc)) {
			fail_errno("setup: %s %s region", kind_name[r->kind], prot_name[r->pi]);
			return 1;
		}
	}
	free(test_read_maps(&blen)); /* let malloc settle first */
	before = test_read_maps(&blen);
	if (!before) {
		fail_errno("setup: read /proc/self/maps");
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	after = test_read_maps(&alen);
	if (!after) {
		fail_errno("read /proc/self/maps after SIGTERM");
		return 1;
	}
	/* first: page_crcs() moves protections around */
	maps_bad = test_maps_same("/proc/self/maps", before, after);
	for (int i = 0; i < NKINDS * NPROTS; i++) {
		if (check_region(&reg[i], fd, &bad))
			return 1;
	}
	if (bad > MAX_BAD)
		fail("%d pages differ in all", bad);
	if (bad || maps_bad)
		return 1;
	close(fd);
	unlink(path);
	rmdir(dir);
	pass();
	return 0;
}
