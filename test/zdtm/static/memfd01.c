/* memfd01: a memfd held only through fds (never mapped) survives
 * checkpoint/restore with its name, size, mode, seals (F_SEAL_SHRINK), its
 * contents and its holes (data in pages 0-3 and 8, nothing between: SEEK_DATA
 * and SEEK_HOLE find the same ranges), and with each fd's own open file
 * description: offset, access mode and status flags, FD_CLOEXEC. Two tasks:
 *   root: A (O_RDWR, offset 1234), B = dup(A) (same description: an lseek on
 *         one moves the other), C = a reopen of A through /proc/self/fd
 *         (O_RDONLY, offset 4321: a description of its own), all forked into
 *         the child, A and C with FD_CLOEXEC;
 *   child: A and C are still the root's descriptions (kcmp), D is its own
 *         reopen (O_WRONLY | O_APPEND, offset 77).
 * Every fd is on the one memfd (one inode, that of fd A). */
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PG	 4096l
#define NAME	 "zdtm-memfd01"
#define LINK	 "/memfd:" NAME " (deleted)"
#define HEAD_LEN (3 * PG + 77) /* data at [0, HEAD_LEN) */
#define TAIL_OFF (8 * PG)      /* and at [TAIL_OFF, SIZE) */
#define SIZE	 (8 * PG + 500)
#define SEED	 0x3e3f0100ull
#define FD_A	 40
#define FD_B	 41
#define FD_C	 42
#define FD_D	 43
#define POS_A	 1234
#define POS_C	 4321
#define POS_D	 77

static const int parent[2] = { -1, 0 };

struct fdspec {
	int fd, acc, flags; /* acc: O_ACCMODE; flags: other status flags checked */
	bool cloexec;
	long pos;
};

static const struct fdspec root_fds[] = {
	{ FD_A, O_RDWR, 0, true, POS_A },
	{ FD_B, O_RDWR, 0, false, POS_A },
	{ FD_C, O_RDONLY, 0, true, POS_C },
};
static const struct fdspec child_fds[] = {
	{ FD_A, O_RDWR, 0, true, POS_A },
	{ FD_C, O_RDONLY, 0, true, POS_C },
	{ FD_D, O_WRONLY, O_APPEND, false, POS_D },
};

struct state {
	char *ref; /* SIZE bytes: the file's expected contents */
	mode_t mode;
	ino_t ino;
};

static int kcmp_file(pid_t p1, int fd1, pid_t p2, int fd2)
{
	return (int)syscall(SYS_kcmp, p1, p2, KCMP_FILE, fd1, fd2);
}

static int check_fd(const struct state *s, const struct fdspec *f, char *why, size_t len)
{
	char path[64], link[128];
	struct stat st;
	ssize_t n;
	int fl, fdfl;
	off_t pos;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", f->fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0 || fstat(f->fd, &st)) {
		snprintf(why, len, "fd %d: readlink/fstat: %s", f->fd, strerror(errno));
		return -1;
	}
	link[n] = '\0';
	if (strcmp(link, LINK) || st.st_ino != s->ino || st.st_size != SIZE ||
	    (st.st_mode & 07777) != s->mode) {
		snprintf(why, len,
			 "fd %d: '%s' inode %lu, %lld bytes, mode %04o; expected '%s' inode %lu, "
			 "%ld bytes, mode %04o",
			 f->fd, link, (unsigned long)st.st_ino, (long long)st.st_size,
			 (unsigned)(st.st_mode & 07777), LINK, (unsigned long)s->ino, SIZE,
			 (unsigned)s->mode);
		return -1;
	}
	fl = fcntl(f->fd, F_GETFL);
	fdfl = fcntl(f->fd, F_GETFD);
	pos = lseek(f->fd, 0, SEEK_CUR);
	if ((fl & O_ACCMODE) != f->acc || (fl & (O_APPEND | O_NONBLOCK)) != f->flags ||
	    !!(fdfl & FD_CLOEXEC) != f->cloexec || pos != f->pos) {
		snprintf(why, len,
			 "fd %d: access %d, flags %#x, cloexec %d, offset %lld; expected %d, %#x, "
			 "%d, %ld",
			 f->fd, fl & O_ACCMODE, fl & (O_APPEND | O_NONBLOCK), !!(fdfl & FD_CLOEXEC),
			 (long long)pos, f->acc, f->flags, f->cloexec, f->pos);
		return -1;
	}
	return 0;
}

static int check_through(const struct state *s, int fd, char *got, char *why, size_t len)
{
	off_t hole, data;
	ssize_t n;
	int seals;

	n = pread(fd, got, SIZE + 1, 0);
	if (n != SIZE || memcmp(got, s->ref, SIZE)) {
		size_t i = 0;

		while (n == SIZE && got[i] == s->ref[i])
			i++;
		snprintf(why, len,
			 "contents: read %zd bytes (expected %ld), first difference at %zu", n,
			 SIZE, i);
		return -1;
	}
	hole = lseek(fd, 0, SEEK_HOLE);
	data = lseek(fd, hole, SEEK_DATA);
	if (hole != 4 * PG || data != TAIL_OFF) {
		snprintf(why, len, "first hole at %lld, then data at %lld; expected %ld and %ld",
			 (long long)hole, (long long)data, 4 * PG, TAIL_OFF);
		return -1;
	}
	seals = fcntl(fd, F_GET_SEALS);
	if (seals != F_SEAL_SHRINK) {
		snprintf(why, len, "seals %#x, expected %#x (F_SEAL_SHRINK)", seals, F_SEAL_SHRINK);
		return -1;
	}
	if (ftruncate(fd, PG) != -1 || errno != EPERM) {
		snprintf(why, len, "ftruncate to one page despite F_SEAL_SHRINK: %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* Contents, holes and seals, through a description of our own on the memfd of
 * fd A (SEEK_HOLE moves its offset, the other task checks A's and C's). */
static int check_file(const struct state *s, char *why, size_t len)
{
	char *got = malloc(SIZE + 1), path[64];
	int fd, ret;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", FD_A);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (!got || fd < 0) {
		snprintf(why, len, "malloc/open %s: %s", path, strerror(errno));
		free(got);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ret = check_through(s, fd, got, why, len);
	free(got);
	close(fd);
	return ret;
}

static int check_fds(const struct state *s, const struct fdspec *fds, int n, char *why, size_t len)
{
	for (int i = 0; i < n; i++)
		if (check_fd(s, &fds[i], why, len))
			return -1;
	return 0;
}

static int setup(struct test_tree *tr, int idx, char *why, size_t len)
{
	struct state *s = tr->arg;
	char path[64];
	int fd;

	if (idx == 0)
		return 0; /* the root's fds are made in main() */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", FD_A);
	fd = open(path, O_WRONLY | O_APPEND);
	if (fd < 0 || dup2(fd, FD_D) != FD_D || close(fd) ||
	    lseek(FD_D, POS_D, SEEK_SET) != POS_D) {
		snprintf(why, len, "fd D: %s", strerror(errno));
		return -1;
	}
	return check_fds(s, child_fds, 3, why, len);
}

static int check(struct test_tree *tr, int idx, char *why, size_t len)
{
	struct state *s = tr->arg;
	pid_t me = getpid(), root = tr->pid[0];
	struct stat st;

	/* a memfd is a new object after a restore: all fds must be on the one of fd A */
	if (fstat(FD_A, &st)) {
		snprintf(why, len, "fstat fd %d: %s", FD_A, strerror(errno));
		return -1;
	}
	s->ino = st.st_ino;

	if (idx == 1) {
		if (check_fds(s, child_fds, 3, why, len))
			return -1;
		if (kcmp_file(root, FD_A, me, FD_A) || kcmp_file(root, FD_C, me, FD_C)) {
			snprintf(why, len,
				 "fds A and C are not the root's open file descriptions "
				 "any more (kcmp)");
			return -1;
		}
		if (kcmp_file(me, FD_D, root, FD_A) == 0 || kcmp_file(me, FD_D, me, FD_C) == 0) {
			snprintf(why, len, "fd D shares a description with A or C");
			return -1;
		}
		/* the root reads the file meanwhile, through pread: offsets stay */
		return 0;
	}
	if (check_fds(s, root_fds, 3, why, len) || check_file(s, why, len))
		return -1;
	if (kcmp_file(me, FD_A, me, FD_B) || kcmp_file(me, FD_A, me, FD_C) == 0) {
		snprintf(why, len, "A and B must share a description (kcmp %d), A and C not (%d)",
			 kcmp_file(me, FD_A, me, FD_B), kcmp_file(me, FD_A, me, FD_C));
		return -1;
	}
	return 0;
}

static int make_fds(struct state *s)
{
	char path[64];
	struct stat st;
	int fd = memfd_create(NAME, MFD_ALLOW_SEALING);

	if (fd < 0 || dup2(fd, FD_A) != FD_A || close(fd)) {
		fail_errno("setup: memfd_create");
		return -1;
	}
	if (pwrite(FD_A, s->ref, HEAD_LEN, 0) != HEAD_LEN ||
	    pwrite(FD_A, s->ref + TAIL_OFF, SIZE - TAIL_OFF, TAIL_OFF) != SIZE - TAIL_OFF ||
	    fcntl(FD_A, F_ADD_SEALS, F_SEAL_SHRINK) || fstat(FD_A, &st)) {
		fail_errno("setup: write/seal the memfd");
		return -1;
	}
	s->mode = st.st_mode & 07777;
	s->ino = st.st_ino;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", FD_A);
	fd = open(path, O_RDONLY);
	if (dup2(FD_A, FD_B) != FD_B || fd < 0 || dup2(fd, FD_C) != FD_C || close(fd) ||
	    fcntl(FD_A, F_SETFD, FD_CLOEXEC) || fcntl(FD_C, F_SETFD, FD_CLOEXEC) ||
	    lseek(FD_B, POS_A, SEEK_SET) != POS_A || lseek(FD_C, POS_C, SEEK_SET) != POS_C) {
		fail_errno("setup: fds B and C");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct state s;
	static struct test_tree tr = {
		.n = 2, .parent = parent, .setup = setup, .check = check, .arg = &s
	};
	char why[256] = "";

	if (test_init(argc, argv))
		return 1;
	s.ref = calloc(1, SIZE);
	if (!s.ref) {
		fail_errno("setup: calloc");
		return 1;
	}
	test_fill_pattern(s.ref, HEAD_LEN, SEED);
	test_fill_pattern(s.ref + TAIL_OFF, SIZE - TAIL_OFF, SEED + 1);
	if (make_fds(&s))
		return 1;
	if (check_fds(&s, root_fds, 3, why, sizeof(why)) || check_file(&s, why, sizeof(why))) {
		fail("setup: %s", why);
		return 1;
	}
	if (test_tree_run(&tr))
		return 1;
	pass();
	return 0;
}
