/* memfd00: a memfd reached only through its mappings (its fd is closed)
 * survives checkpoint/restore: its name, its size (5 pages + 123 bytes, not
 * page aligned), its mode and its seals (F_SEAL_SHRINK | F_SEAL_GROW, still
 * enforced: ftruncate and a write past the end fail with EPERM), the
 * contents of a MAP_SHARED mapping of the whole file, and a MAP_PRIVATE
 * mapping of pages 1-3 of the same memfd: page 2 was written (a private
 * copy that keeps its own contents), pages 1 and 3 were not (they show the
 * file, so a write through the shared mapping after the restore shows up
 * there: both mappings are on one object). */
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
#define NAME	"zdtm-memfd00"
#define SIZE	(5 * PG + 123)
#define NPAGES	6 /* mapped: the size rounded up */
#define SEED	0x3e3fd000ull
#define PSEED	0x3e3fe000ull /* the private copy of page 2 */
#define SEALS	(F_SEAL_SHRINK | F_SEAL_GROW)
#define MAPNAME "/memfd:" NAME " (deleted)"

struct state {
	char *shared, *priv; /* priv maps file pages 1-3 */
	char *ref;	     /* the file's expected contents, SIZE bytes */
	mode_t mode;
};

static int check_name(const char *when, const char *addr)
{
	size_t len;
	char *maps = test_read_file("/proc/self/maps", &len), *save, *line;
	char want[32];
	int found = 0;

	if (!maps) {
		fail_errno("%s: read /proc/self/maps", when);
		return -1;
	}
	snprintf(want, sizeof(want), "%lx-", (unsigned long)addr);
	for (line = strtok_r(maps, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, want, strlen(want)))
			continue;
		found = 1;
		if (!strstr(line, " " MAPNAME)) {
			fail("%s: the mapping at %p is '%s', expected the name %s", when,
			     (const void *)addr, line, MAPNAME);
			free(maps);
			return -1;
		}
	}
	free(maps);
	if (!found)
		fail("%s: no mapping starts at %p", when, (const void *)addr);
	return found ? 0 : -1;
}

/* The file behind the shared mapping: size, mode, seals, and seals enforced. */
static int check_file(const char *when, struct state *s)
{
	char path[96];
	struct stat st;
	int fd, seals, ret = -1;

	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)s->shared,
		 (unsigned long)(s->shared + NPAGES * PG));
	fd = open(path, O_RDWR);
	if (fd < 0 || fstat(fd, &st)) {
		fail_errno("%s: open/fstat %s", when, path);
		goto out;
	}
	if (st.st_size != (off_t)SIZE || (st.st_mode & 07777) != s->mode) {
		fail("%s: memfd is %lld bytes, mode %04o; expected %lu bytes, mode %04o", when,
		     (long long)st.st_size, (unsigned)(st.st_mode & 07777), SIZE,
		     (unsigned)s->mode);
		goto out;
	}
	seals = fcntl(fd, F_GET_SEALS);
	if (seals != SEALS) {
		fail("%s: seals %#x, expected %#x (F_SEAL_SHRINK|F_SEAL_GROW)", when, seals, SEALS);
		goto out;
	}
	if (ftruncate(fd, 4 * PG) != -1 || errno != EPERM) {
		fail("%s: ftruncate to 4 pages despite F_SEAL_SHRINK: %s", when, strerror(errno));
		goto out;
	}
	if (pwrite(fd, "x", 1, SIZE) != -1 || errno != EPERM) {
		fail("%s: a write past the end despite F_SEAL_GROW: %s", when, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

static int check_contents(const char *when, struct state *s)
{
	ssize_t bad;

	for (size_t i = 0; i < SIZE; i++)
		if (s->shared[i] != s->ref[i]) {
			fail("%s: shared mapping differs at byte %zu (page %zu): 0x%02x, expected "
			     "0x%02x",
			     when, i, i / PG, (unsigned char)s->shared[i],
			     (unsigned char)s->ref[i]);
			return -1;
		}
	for (size_t i = SIZE; i < NPAGES * PG; i++)
		if (s->shared[i]) {
			fail("%s: byte %zu past the end of the file is 0x%02x, expected 0", when, i,
			     (unsigned char)s->shared[i]);
			return -1;
		}
	if (memcmp(s->priv, s->ref + PG, PG) || memcmp(s->priv + 2 * PG, s->ref + 3 * PG, PG)) {
		fail("%s: private mapping pages 1/3 do not show the file", when);
		return -1;
	}
	bad = test_check_pattern(s->priv + PG, PG, PSEED);
	if (bad >= 0) {
		fail("%s: the private copy of page 2 differs at byte %zd", when, bad);
		return -1;
	}
	return 0;
}

/* Both mappings are on one object: a shared write shows in an unwritten private page,
 * not in the private copy. */
static int check_one_object(struct state *s)
{
	s->shared[PG + 7] ^= 0x5a;
	s->ref[PG + 7] ^= 0x5a;
	s->shared[2 * PG + 7] ^= 0x5a;
	s->ref[2 * PG + 7] ^= 0x5a;
	if (s->priv[7] != s->shared[PG + 7]) {
		fail("a write through the shared mapping at file page 1 is not seen through the "
		     "private mapping (0x%02x, expected 0x%02x): two objects",
		     (unsigned char)s->priv[7], (unsigned char)s->shared[PG + 7]);
		return -1;
	}
	if (test_check_pattern(s->priv + PG, PG, PSEED) >= 0) {
		fail("a write through the shared mapping changed the private copy of page 2");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct state s;
	struct stat st;
	int fd;

	if (test_init(argc, argv))
		return 1;
	s.ref = malloc(SIZE);
	fd = memfd_create(NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (!s.ref || fd < 0) {
		fail_errno("setup: memfd_create");
		return 1;
	}
	test_fill_pattern(s.ref, SIZE, SEED);
	if (write(fd, s.ref, SIZE) != (ssize_t)SIZE || fstat(fd, &st)) {
		fail_errno("setup: write of %lu bytes", SIZE);
		return 1;
	}
	s.mode = st.st_mode & 07777;
	s.shared = mmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	s.priv = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, PG);
	if (s.shared == MAP_FAILED || s.priv == MAP_FAILED) {
		fail_errno("setup: mmap");
		return 1;
	}
	test_fill_pattern(s.priv + PG, PG, PSEED);
	if (fcntl(fd, F_ADD_SEALS, SEALS)) {
		fail_errno("setup: F_ADD_SEALS");
		return 1;
	}
	close(fd);
	if (check_name("setup", s.shared) || check_name("setup", s.priv) ||
	    check_file("setup", &s) || check_contents("setup", &s))
		return 1;
	if (test_daemon())
		return 1;
	test_waitsig();

	if (check_name("after restore", s.shared) || check_name("after restore", s.priv) ||
	    check_file("after restore", &s) || check_contents("after restore", &s) ||
	    check_one_object(&s) || check_contents("after a write", &s))
		return 1;
	pass();
	return 0;
}
