/* devshm00: a file in /dev/shm (tmpfs) mapped MAP_SHARED, with its fd
 * closed, survives checkpoint/restore as that same file: the restored
 * mapping is on the same device and inode, at the same offset (pages 1-6 of
 * an 8-page file), shows the file's contents, and is the file itself, not a
 * copy: a write through the mapping after the restore is read back with
 * pread() on the file opened by its name, and a pwrite() shows in the
 * mapping. The file's size and mtime are what they were. The file is
 * /dev/shm/zdtm-devshm00.XXXXXX (mkstemp: runs under several flavors at
 * once, pid 1 in each PID namespace, never collide), removed when the test
 * ends; files of earlier runs that were killed (older than an hour: a run
 * takes seconds) are removed at setup. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PG	4096l
#define NPAGES	8
#define MAP_OFF 1 /* the mapping: file pages 1-6 */
#define MAP_PGS 6
#define SEED	0xde45400ull
#define PREFIX	"zdtm-devshm00."
#define STALE_S 3600

struct state {
	char path[64];
	char *map;
	struct stat st; /* at setup */
};

/* Remove the files of earlier runs that were killed before their cleanup. */
static void remove_stale(void)
{
	DIR *d = opendir("/dev/shm");
	time_t now = time(NULL);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[300];
		struct stat st;

		if (strncmp(de->d_name, PREFIX, strlen(PREFIX)))
			continue;
		snprintf(path, sizeof(path), "/dev/shm/%s", de->d_name);
		if (lstat(path, &st) || !S_ISREG(st.st_mode) || now - st.st_mtime < STALE_S)
			continue;
		if (!unlink(path))
			test_msg("removed %s, left by an earlier run", path);
	}
	closedir(d);
}

static int check_vma(const char *when, const struct state *s)
{
	size_t len;
	char *maps = test_read_file("/proc/self/maps", &len), *save, *line, want[32];
	int ret = -1;

	if (!maps) {
		fail_errno("%s: read /proc/self/maps", when);
		return -1;
	}
	snprintf(want, sizeof(want), "%lx-", (unsigned long)s->map);
	for (line = strtok_r(maps, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long st, end, ino;
		unsigned long long off;
		unsigned maj, min;
		char perms[8];
		int n = 0;

		if (strncmp(line, want, strlen(want)))
			continue;
		if (sscanf(line, "%lx-%lx %7s %llx %x:%x %lu %n", &st, &end, perms, &off, &maj,
			   &min, &ino, &n) != 7 ||
		    !n) {
			fail("%s: can't parse maps line '%s'", when, line);
			break;
		}
		if (end - st != MAP_PGS * PG || strcmp(perms, "rw-s") || off != MAP_OFF * PG ||
		    makedev(maj, min) != s->st.st_dev || ino != s->st.st_ino ||
		    strcmp(line + n, s->path)) {
			fail("%s: mapping is '%s', expected %d pages rw-s at offset %#lx of %s "
			     "(dev %u:%u inode %lu)",
			     when, line, MAP_PGS, MAP_OFF * PG, s->path, major(s->st.st_dev),
			     minor(s->st.st_dev), (unsigned long)s->st.st_ino);
			break;
		}
		ret = 0;
		break;
	}
	if (ret && !line)
		fail("%s: no mapping at %p", when, (void *)s->map);
	free(maps);
	return ret;
}

static int check_contents(const char *when, const struct state *s)
{
	for (int pg = 0; pg < MAP_PGS; pg++) {
		ssize_t bad = test_check_pattern(s->map + pg * PG, PG, SEED + MAP_OFF + pg);

		if (bad >= 0) {
			fail("%s: file page %d differs at byte %zd (0x%02x)", when, MAP_OFF + pg,
			     bad, (unsigned char)s->map[pg * PG + bad]);
			return -1;
		}
	}
	return 0;
}

/* The mapping is the file: writes cross both ways. Also size and mtime. */
static int check_file(const struct state *s)
{
	struct stat st;
	char c = 0;
	int fd = open(s->path, O_RDWR | O_CLOEXEC), ret = -1;

	if (fd < 0 || fstat(fd, &st)) {
		fail_errno("open/fstat %s", s->path);
		goto out;
	}
	if (st.st_size != s->st.st_size || st.st_mtim.tv_sec != s->st.st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != s->st.st_mtim.tv_nsec || st.st_ino != s->st.st_ino) {
		fail("%s: size %lld, mtime %lld.%09ld, inode %lu; expected %lld, %lld.%09ld, %lu",
		     s->path, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
		     st.st_mtim.tv_nsec, (unsigned long)st.st_ino, (long long)s->st.st_size,
		     (long long)s->st.st_mtim.tv_sec, s->st.st_mtim.tv_nsec,
		     (unsigned long)s->st.st_ino);
		goto out;
	}
	s->map[2 * PG + 5] = 'M';
	if (pread(fd, &c, 1, (MAP_OFF + 2) * PG + 5) != 1 || c != 'M') {
		fail(
		    "a write through the mapping is not in %s (read 0x%02x): the mapping is a copy",
		    s->path, (unsigned char)c);
		goto out;
	}
	if (pwrite(fd, "F", 1, (MAP_OFF + 3) * PG + 9) != 1 || s->map[3 * PG + 9] != 'F') {
		fail("a pwrite() to %s is not seen in the mapping (0x%02x)", s->path,
		     (unsigned char)s->map[3 * PG + 9]);
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

int main(int argc, char **argv)
{
	static struct state s;
	char *buf = malloc(NPAGES * PG);
	int fd, ret = 1;

	if (test_init(argc, argv))
		return 1;
	remove_stale();
	snprintf(s.path, sizeof(s.path), "/dev/shm/" PREFIX "XXXXXX");
	fd = mkostemp(s.path, O_CLOEXEC);
	if (!buf || fd < 0) {
		fail_errno("setup: create %s", s.path);
		return 1;
	}
	for (int pg = 0; pg < NPAGES; pg++)
		test_fill_pattern(buf + pg * PG, PG, SEED + pg);
	if (write(fd, buf, NPAGES * PG) != NPAGES * PG) {
		fail_errno("setup: write %s", s.path);
		goto out;
	}
	s.map = mmap(NULL, MAP_PGS * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, MAP_OFF * PG);
	if (s.map == MAP_FAILED || fstat(fd, &s.st)) {
		fail_errno("setup: mmap/fstat %s", s.path);
		goto out;
	}
	close(fd);
	fd = -1;
	if (check_vma("setup", &s) || check_contents("setup", &s))
		goto out;
	if (test_daemon())
		goto out;
	test_waitsig();

	if (!check_vma("after restore", &s) && !check_contents("after restore", &s) &&
	    !check_file(&s)) {
		pass();
		ret = 0;
	}
out:
	if (fd >= 0)
		close(fd);
	unlink(s.path);
	free(buf);
	return ret;
}
