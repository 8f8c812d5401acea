/* mem_matrix00: every page of {private, shared} x {anon, memfd, tmpfs, regular file, deleted
 * file} mappings survives checkpoint/restore, in every state a page can be in:
 *   page 0 untouched, 1 read, 2 written, 3 partly written (one byte), 4 untouched, 5 written,
 *   6 read, 7 written
 * and, for the four file kinds, once more with the file truncated underneath to 5 pages after
 * the pages were touched (pages 5-7 then lie beyond the end of the file: a private mapping keeps
 * its copied-on-write pages 5 and 7, page 6 and every shared page there give SIGBUS).
 * Every file-backed kind comes with its fd kept open and with only the mapping left (the fd
 * closed; the file is then checked through /proc/self/map_files), and with a file full of data
 * or a sparse one (all holes: a read maps no data of the file).
 * Besides: two regions of one deleted file at different offsets, and a private memfd region
 * with a hole punched by munmap in its middle.
 * After the restore: the CRC-32C of each page is what it was (or it still gives SIGBUS), the
 * files hold what they held (shared writes in, private writes not), and /proc/self/maps is the
 * same (test_read_maps()). */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PG	  4096u
#define NPG	  8
#define TRUNC_PG  5 /* the truncated files keep this many pages */
#define MAX_BAD	  10
#define FILE_SEED 0x6d6d0000u
#define FILE_PG	  (NPG + 2) /* mappings start at file page 0, 1 or 2 */

enum kind { K_ANON, K_MEMFD, K_TMPFS, K_FILE, K_DELETED, NKINDS };
static const char *const kind_name[NKINDS] = { "anon", "memfd", "tmpfs", "file", "deleted" };

struct region {
	char name[48];
	unsigned char *p;
	size_t npg;
	int fd;	   /* the backing file (-1 for anon) */
	off_t off; /* of the mapping in the file */
	bool shared;
	uint32_t crc[NPG]; /* per page; SIGBUS_CRC when the page gives SIGBUS */
};

#define SIGBUS_CRC 0xb05b05b0u
#define MAX_REG	   (2 * NKINDS * 8 + 4)

static struct region reg[MAX_REG];
static int nreg;
static char dir[] = "mem_matrix00.XXXXXX";
static char shm_path[64];

static sigjmp_buf bus_jmp;
static volatile sig_atomic_t probing;

static void on_bus(int sig)
{
	(void)sig;
	if (probing)
		siglongjmp(bus_jmp, 1);
	_exit(99);
}

/* CRC-32C of one page, or SIGBUS_CRC when reading it gives SIGBUS. */
static uint32_t page_crc(const unsigned char *p)
{
	uint32_t c;

	if (sigsetjmp(bus_jmp, 1)) {
		probing = 0;
		return SIGBUS_CRC;
	}
	probing = 1;
	c = test_crc32c(p, PG);
	probing = 0;
	return c;
}

static void crcs(const struct region *r, uint32_t *out)
{
	for (size_t i = 0; i < r->npg; i++)
		out[i] = page_crc(r->p + i * PG);
}

/* A file of kind k holding NPG pages of pattern (seed), open O_RDWR: its fd, or -1. */
static int make_file(enum kind k, uint64_t seed, int idx, bool sparse)
{
	unsigned char *buf = malloc(FILE_PG * PG);
	char path[96];
	int fd = -1;

	if (!buf)
		return -1;
	test_fill_pattern(buf, FILE_PG * PG, seed);
	switch (k) {
	case K_MEMFD:
		fd = memfd_create("mem_matrix00", 0);
		break;
	case K_TMPFS:
		snprintf(path, sizeof(path), "%s.%d", shm_path, idx);
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		break;
	case K_FILE:
	case K_DELETED:
		snprintf(path, sizeof(path), "%s/f%d", dir, idx);
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		break;
	default:
		break;
	}
	if (fd >= 0 && sparse && ftruncate(fd, FILE_PG * PG)) {
		close(fd);
		fd = -1;
	}
	if (fd >= 0 && !sparse && write(fd, buf, FILE_PG * PG) != (ssize_t)(FILE_PG * PG)) {
		close(fd);
		fd = -1;
	}
	free(buf);
	return fd;
}

/* Touch the pages of r as the layout above says. */
static void touch(struct region *r, uint64_t seed)
{
	volatile unsigned char sink;

	sink = r->p[1 * PG + 17];
	sink = r->p[6 * PG + 33];
	(void)sink;
	test_fill_pattern(r->p + 2 * PG, PG, seed + 2);
	r->p[3 * PG + 100] ^= 0x5a;
	test_fill_pattern(r->p + 5 * PG, PG, seed + 5);
	test_fill_pattern(r->p + 7 * PG, PG, seed + 7);
}

static int add_region(enum kind k, bool shared, bool truncate, bool close_fd, bool sparse)
{
	struct region *r = &reg[nreg];
	uint64_t seed = FILE_SEED + (uint64_t)nreg * 64;

	snprintf(r->name, sizeof(r->name), "%s %s%s%s%s", shared ? "shared" : "private",
		 sparse ? "sparse " : "", kind_name[k], truncate ? " truncated" : "",
		 close_fd ? ", fd closed" : "");
	r->npg = NPG;
	r->off = k == K_ANON ? 0 : (off_t)(nreg % 3) * PG;
	r->fd = k == K_ANON ? -1 : make_file(k, seed, nreg, sparse);
	if (k != K_ANON && r->fd < 0)
		return -1;
	r->shared = shared;
	r->p = mmap(NULL, NPG * PG, PROT_READ | PROT_WRITE,
		    (shared ? MAP_SHARED : MAP_PRIVATE) | (k == K_ANON ? MAP_ANONYMOUS : 0), r->fd,
		    r->off);
	if (r->p == MAP_FAILED)
		return -1;
	touch(r, seed + 32);
	if (truncate && ftruncate(r->fd, r->off + TRUNC_PG * PG))
		return -1;
	if (k == K_DELETED) {
		char path[96];

		snprintf(path, sizeof(path), "%s/f%d", dir, nreg);
		if (unlink(path))
			return -1;
	}
	if (close_fd && close(r->fd))
		return -1;
	if (close_fd)
		r->fd = -2; /* read through map_files */
	nreg++;
	return 0;
}

/* Two regions of one deleted file, pages 2-5 and 4-7 (they overlap in the file), and a private
 * memfd region with its pages 3-4 unmapped (two VMAs of one mapping). */
static int add_specials(void)
{
	struct region *a = &reg[nreg], *b = &reg[nreg + 1], *c = &reg[nreg + 2],
		      *d = &reg[nreg + 3];
	char path[96];
	int fd = make_file(K_DELETED, FILE_SEED + 0x9000, 90, false), mfd;

	snprintf(path, sizeof(path), "%s/f90", dir);
	if (fd < 0 || unlink(path))
		return -1;
	*a = (struct region){ .npg = 4, .fd = fd, .off = 2 * PG, .shared = false };
	*b = (struct region){ .npg = 4, .fd = fd, .off = 4 * PG, .shared = true };
	snprintf(a->name, sizeof(a->name), "deleted twice, private @2");
	snprintf(b->name, sizeof(b->name), "deleted twice, shared @4");
	a->p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, a->off);
	b->p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, b->off);
	if (a->p == MAP_FAILED || b->p == MAP_FAILED)
		return -1;
	test_fill_pattern(a->p + PG, PG, 0x1111);     /* file page 3, private copy */
	test_fill_pattern(b->p + 2 * PG, PG, 0x2222); /* file page 6, in the file */
	a->p[3 * PG] ^= 1;			      /* file page 5: also mapped shared */

	mfd = make_file(K_MEMFD, FILE_SEED + 0xa000, 91, false);
	if (mfd < 0)
		return -1;
	*c = (struct region){ .npg = 3, .fd = mfd, .off = 0, .shared = false };
	c->p = mmap(NULL, NPG * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, mfd, 0);
	if (c->p == MAP_FAILED)
		return -1;
	test_fill_pattern(c->p + PG, PG, 0x3333);
	test_fill_pattern(c->p + 6 * PG, PG, 0x4444);
	if (munmap(c->p + 3 * PG, 2 * PG))
		return -1;
	*d = *c;
	d->p = c->p + 5 * PG;
	d->off = 5 * PG;
	snprintf(c->name, sizeof(c->name), "private memfd, pages 0-2");
	snprintf(d->name, sizeof(d->name), "private memfd, pages 5-7");
	nreg += 4;
	return 0;
}

/* The whole file of region r into buf (NPG pages, fewer when truncated): its length. */
static ssize_t file_bytes(const struct region *r, unsigned char *buf)
{
	char path[96];
	ssize_t n;
	int fd;

	if (r->fd >= 0)
		return pread(r->fd, buf, FILE_PG * PG, 0);
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)r->p,
		 (unsigned long)(r->p + r->npg * PG));
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = pread(fd, buf, FILE_PG * PG, 0);
	close(fd);
	return n;
}

int main(int argc, char **argv)
{
	static unsigned char fbefore[MAX_REG][FILE_PG * PG], fafter[FILE_PG * PG];
	static ssize_t flen[MAX_REG];
	struct sigaction sa = { .sa_handler = on_bus };
	char *before, *after;
	size_t blen, alen;
	int bad = 0;

	if (test_init(argc, argv))
		return 1;
	snprintf(shm_path, sizeof(shm_path), "/dev/shm/zdtm-mem_matrix00-%d", getpid());
	if (sigaction(SIGBUS, &sa, NULL) || !mkdtemp(dir)) {
		fail_errno("setup: sigaction or mkdtemp");
		return 1;
	}
	for (int k = 0; k < NKINDS; k++)
		for (int sh = 0; sh < 2; sh++)
			for (int v = 0; v < (k == K_ANON ? 1 : 8); v++)
				if (add_region((enum kind)k, sh, v & 1, v & 2, v & 4)) {
					fail_errno("setup: region %d", nreg);
					return 1;
				}
	if (add_specials()) {
		fail_errno("setup: the deleted file mapped twice, or the split memfd mapping");
		return 1;
	}
	for (int i = 0; i < nreg; i++) {
		crcs(&reg[i], reg[i].crc);
		flen[i] = reg[i].fd != -1 ? file_bytes(&reg[i], fbefore[i]) : 0;
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
	bad += test_maps_same("/proc/self/maps", before, after) ? 1 : 0;
	for (int i = 0; i < nreg; i++) {
		uint32_t now[NPG];
		ssize_t l;

		crcs(&reg[i], now);
		for (size_t pg = 0; pg < reg[i].npg; pg++)
			if (now[pg] != reg[i].crc[pg] && bad++ < MAX_BAD)
				fail(
				    "%s at %p page %zu: %s, expected %s (crc32c %#x, expected %#x)",
				    reg[i].name, (void *)reg[i].p, pg,
				    now[pg] == SIGBUS_CRC ? "SIGBUS" : "other data",
				    reg[i].crc[pg] == SIGBUS_CRC ? "SIGBUS" : "its data", now[pg],
				    reg[i].crc[pg]);
		if (reg[i].fd == -1)
			continue;
		l = file_bytes(&reg[i], fafter);
		if ((l != flen[i] || memcmp(fafter, fbefore[i], (size_t)l)) && bad++ < MAX_BAD)
			fail("%s: its file holds %zd bytes now, %zd before, or other data",
			     reg[i].name, l, flen[i]);
	}
	if (bad > MAX_BAD)
		fail("%d differences in all", bad);
	for (int i = 0; i < nreg; i++) {
		char path[96];

		snprintf(path, sizeof(path), "%s.%d", shm_path, i);
		unlink(path);
		snprintf(path, sizeof(path), "%s/f%d", dir, i);
		unlink(path);
	}
	rmdir(dir);
	if (bad)
		return 1;
	pass();
	return 0;
}
