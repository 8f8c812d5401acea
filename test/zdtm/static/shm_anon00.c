/* shm_anon00: one MAP_SHARED|MAP_ANONYMOUS object of 16 pages, cut into
 * pieces by munmap() and mprotect() and mapped a second time through
 * /proc/self/map_files at another address, survives checkpoint/restore as
 * one object: every VMA keeps its range, protection and file offset, each
 * page shows the object page its offset says (per-page patterns), the pages
 * no VMA shows any more (4-5) are still in the object (read through
 * map_files), both mappings are still backed by one object (a write through
 * one is seen through the other, one inode) and its size is unchanged.
 *
 *   main:  [0-3 rw] (4-5 unmapped) [6-7 rw] [8-10 r--] [11-15 rw]
 *   alias: [12-15 rw] at another address (pgoff 12)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PG	4096ul
#define NPAGES	16
#define SEED(i) (0x5a40a000ull + (uint64_t)(i))

struct piece {
	int first, npages; /* object pages */
	const char *perms;
};

static const struct piece pieces[] = {
	{ 0, 4, "rw-s" },
	{ 6, 2, "rw-s" },
	{ 8, 3, "r--s" },
	{ 11, 5, "rw-s" },
};
#define NPIECES	 ((int)(sizeof(pieces) / sizeof(pieces[0])))
#define ALIAS_PG 12 /* the alias maps object pages 12-15 */

/* The maps line of the VMA starting at addr: end, perms, offset, inode, path. */
struct vma_line {
	unsigned long end, ino;
	unsigned long long off;
	char perms[8], path[128];
};

static int find_vma(unsigned long addr, struct vma_line *v)
{
	size_t len;
	char *maps = test_read_file("/proc/self/maps", &len), *save, *line;
	int ret = -1;

	if (!maps)
		return -1;
	for (line = strtok_r(maps, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long s;
		char dev[16];
		int n = 0;

		if (sscanf(line, "%lx-%lx %7s %llx %15s %lu %n", &s, &v->end, v->perms, &v->off,
			   dev, &v->ino, &n) != 6 ||
		    s != addr)
			continue;
		snprintf(v->path, sizeof(v->path), "%s", n ? line + n : "");
		ret = 0;
		break;
	}
	free(maps);
	return ret;
}

/* Each VMA as laid out above, all on one inode (returned in *ino). */
static int check_vmas(const char *when, char *base, char *alias, unsigned long *ino)
{
	struct vma_line v;

	*ino = 0;
	for (int i = 0; i <= NPIECES; i++) {
		bool is_alias = i == NPIECES;
		int first = is_alias ? ALIAS_PG : pieces[i].first;
		int npages = is_alias ? NPAGES - ALIAS_PG : pieces[i].npages;
		const char *perms = is_alias ? "rw-s" : pieces[i].perms;
		unsigned long s = (unsigned long)(is_alias ? alias : base + first * PG);

		if (find_vma(s, &v)) {
			fail("%s: no VMA starts at %#lx (object pages %d-%d)", when, s, first,
			     first + npages - 1);
			return -1;
		}
		if (v.end != s + npages * PG || strcmp(v.perms, perms) ||
		    v.off != (unsigned long long)first * PG ||
		    strcmp(v.path, "/dev/zero (deleted)")) {
			fail("%s: VMA %#lx-%#lx %s offset %#llx '%s', expected %#lx-%#lx %s offset "
			     "%#lx '/dev/zero (deleted)'",
			     when, s, v.end, v.perms, v.off, v.path, s, s + npages * PG, perms,
			     first * PG);
			return -1;
		}
		if (*ino && v.ino != *ino) {
			fail("%s: VMA %#lx is on inode %lu, the others on %lu: not one object",
			     when, s, v.ino, *ino);
			return -1;
		}
		*ino = v.ino;
	}
	/* nothing is mapped where pages 4-5 were */
	if (!find_vma((unsigned long)(base + 4 * PG), &v)) {
		fail("%s: a VMA starts at %p, where pages 4-5 were unmapped", when,
		     (void *)(base + 4 * PG));
		return -1;
	}
	return 0;
}

static int check_page(const char *when, const char *addr, int objpg)
{
	ssize_t bad = test_check_pattern(addr, PG, SEED(objpg));

	if (bad >= 0) {
		fail("%s: object page %d at %p differs at byte %zd (0x%02x)", when, objpg,
		     (const void *)addr, bad, (unsigned char)addr[bad]);
		return -1;
	}
	return 0;
}

/* The object through map_files: size, inode, and the pages no VMA shows. */
static int check_object(const char *when, char *base, unsigned long ino)
{
	char path[96], buf[PG];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)base,
		 (unsigned long)(base + 4 * PG));
	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st)) {
		fail_errno("%s: open/fstat %s", when, path);
		return -1;
	}
	if (st.st_size != (off_t)(NPAGES * PG) || st.st_ino != ino) {
		fail("%s: object is %lld bytes on inode %lu, expected %lu bytes on inode %lu", when,
		     (long long)st.st_size, (unsigned long)st.st_ino, NPAGES * PG, ino);
		close(fd);
		return -1;
	}
	for (int pg = 4; pg <= 5; pg++) {
		if (pread(fd, buf, PG, (off_t)(pg * PG)) != (ssize_t)PG) {
			fail_errno("%s: pread of object page %d through %s", when, pg, path);
			close(fd);
			return -1;
		}
		if (check_page(when, buf, pg)) {
			close(fd);
			return -1;
		}
	}
	close(fd);
	return 0;
}

static int check_all(const char *when, char *base, char *alias)
{
	unsigned long ino;

	if (check_vmas(when, base, alias, &ino))
		return -1;
	for (int i = 0; i < NPIECES; i++)
		for (int k = 0; k < pieces[i].npages; k++) {
			int pg = pieces[i].first + k;

			if (check_page(when, base + pg * PG, pg))
				return -1;
		}
	for (int pg = ALIAS_PG; pg < NPAGES; pg++)
		if (check_page(when, alias + (pg - ALIAS_PG) * PG, pg))
			return -1;
	return check_object(when, base, ino);
}

/* A write through one mapping is seen through the other, both ways. */
static int check_shared(char *base, char *alias)
{
	char *a = base + 13 * PG + 100, *b = alias + (13 - ALIAS_PG) * PG + 100;

	*a = 'A';
	if (*b != 'A') {
		fail("write of 'A' at %p (object page 13) is not seen at %p (the alias): 0x%02x",
		     (void *)a, (void *)b, (unsigned char)*b);
		return -1;
	}
	*b = 'B';
	if (*a != 'B') {
		fail("write of 'B' through the alias at %p is not seen at %p: 0x%02x", (void *)b,
		     (void *)a, (unsigned char)*a);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char path[96], *base, *alias;
	int fd;

	if (test_init(argc, argv))
		return 1;
	base = mmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED) {
		fail_errno("setup: mmap shared anonymous");
		return 1;
	}
	for (int pg = 0; pg < NPAGES; pg++)
		test_fill_pattern(base + pg * PG, PG, SEED(pg));
	/* the alias, through the object's file */
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)base,
		 (unsigned long)(base + NPAGES * PG));
	fd = open(path, O_RDWR);
	if (fd < 0) {
		fail_errno("setup: open %s", path);
		return 1;
	}
	alias = mmap(NULL, (NPAGES - ALIAS_PG) * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		     ALIAS_PG * PG);
	close(fd);
	if (alias == MAP_FAILED) {
		fail_errno("setup: mmap of the alias");
		return 1;
	}
	if (munmap(base + 4 * PG, 2 * PG) || mprotect(base + 8 * PG, 3 * PG, PROT_READ)) {
		fail_errno("setup: munmap/mprotect");
		return 1;
	}
	if (check_all("setup", base, alias) || check_shared(base, alias))
		return 1;
	/* page 13 back to its pattern */
	test_fill_pattern(base + 13 * PG, PG, SEED(13));
	if (test_daemon())
		return 1;
	test_waitsig();

	if (check_all("after restore", base, alias) || check_shared(base, alias))
		return 1;
	pass();
	return 0;
}
