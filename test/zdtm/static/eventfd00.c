/* eventfd00: eventfds survive checkpoint/restore with their counter, EFD_SEMAPHORE,
 * O_NONBLOCK and FD_CLOEXEC, and fds that shared one open file description still share it.
 * "big": nonblocking, a counter above 2^32, dup'ed to fd DUP_FD and inherited by a child
 * task; "sem": a semaphore holding 5, blocking, close-on-exec; "zero": a counter of 0;
 * "full": the largest counter an eventfd holds (2^64 - 2). After the restore: fdinfo shows
 * each counter and semaphore flag, F_GETFL / F_GETFD are as set up, the child's "big" and
 * the parent's are one file (kcmp) and the child's own eventfd kept its counter; then a
 * read of "big" returns its whole counter and the next one EAGAIN, "sem" can be read
 * exactly 5 times (1 each), "zero" is not readable, "full" is not writable, and a write
 * through DUP_FD is read back through "big". */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kcmp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

#define DUP_FD	   60
#define BIG_COUNT  0x123456789abULL
#define FULL_COUNT 0xfffffffffffffffeULL
#define CHILD_CNT  0x5151ULL

struct tefd {
	const char *name;
	uint64_t count;
	int efd_flags; /* EFD_* */
	int fd;
};

static struct tefd efds[] = {
	{ "big", BIG_COUNT, EFD_NONBLOCK, -1 },
	{ "sem", 5, EFD_SEMAPHORE | EFD_CLOEXEC, -1 },
	{ "zero", 0, 0, -1 },
	{ "full", FULL_COUNT, EFD_NONBLOCK, -1 },
};

#define NEFD ((int)(sizeof(efds) / sizeof(efds[0])))

static int child_fd = -1; /* the child's own eventfd */

/* eventfd-count and eventfd-semaphore as fdinfo shows them. */
static int counter_of(int fd, uint64_t *count, int *sem, char *why, size_t len)
{
	char c[64], s[16];

	if (test_fdinfo_get(fd, "eventfd-count", c, sizeof(c)) ||
	    test_fdinfo_get(fd, "eventfd-semaphore", s, sizeof(s))) {
		snprintf(why, len, "fd %d: no eventfd-count/eventfd-semaphore in its fdinfo", fd);
		return -1;
	}
	*count = strtoull(c, NULL, 16);
	*sem = atoi(s);
	return 0;
}

static int child_setup(struct test_tree *tr, int idx, char *why, size_t len)
{
	(void)tr;
	if (idx == 0)
		return 0;
	child_fd = eventfd(0, 0);
	if (child_fd < 0 || eventfd_write(child_fd, CHILD_CNT)) {
		snprintf(why, len, "child eventfd: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* The child: its "big" is the parent's, and its own eventfd kept its counter. */
static int child_check(struct test_tree *tr, int idx, char *why, size_t len)
{
	uint64_t count;
	int sem;
	long r;

	(void)tr;
	if (idx == 0)
		return 0;
	r = syscall(SYS_kcmp, getppid(), getpid(), KCMP_FILE, efds[0].fd, efds[0].fd);
	if (r != 0) {
		snprintf(why, len,
			 "kcmp of the parent's and the child's \"big\" fd %d: %ld (%s), "
			 "expected 0 (one open file description)",
			 efds[0].fd, r, r < 0 ? strerror(errno) : "different files");
		return -1;
	}
	if (counter_of(child_fd, &count, &sem, why, len))
		return -1;
	if (count != CHILD_CNT || sem) {
		snprintf(why, len,
			 "child eventfd: count %#" PRIx64 " semaphore %d, expected %#llx "
			 "and 0",
			 count, sem, (unsigned long long)CHILD_CNT);
		return -1;
	}
	return 0;
}

static int setup(void)
{
	for (int i = 0; i < NEFD; i++) {
		struct tefd *e = &efds[i];

		e->fd = eventfd(0, e->efd_flags);
		if (e->fd < 0 || (e->count && eventfd_write(e->fd, e->count))) {
			fail_errno("setup: eventfd \"%s\"", e->name);
			return -1;
		}
	}
	if (dup2(efds[0].fd, DUP_FD) != DUP_FD) {
		fail_errno("setup: dup2 to %d", DUP_FD);
		return -1;
	}
	return 0;
}

/* fdinfo, flags: nothing is read yet. */
static int check_state(const struct tefd *e)
{
	int fl = fcntl(e->fd, F_GETFL), fdfl = fcntl(e->fd, F_GETFD), sem;
	bool nb = e->efd_flags & EFD_NONBLOCK, cx = e->efd_flags & EFD_CLOEXEC;
	char why[256];
	uint64_t count;

	if (counter_of(e->fd, &count, &sem, why, sizeof(why))) {
		fail("\"%s\": %s", e->name, why);
		return -1;
	}
	if (count != e->count || sem != !!(e->efd_flags & EFD_SEMAPHORE)) {
		fail("\"%s\" fd %d: count %#" PRIx64 " semaphore %d, expected %#" PRIx64 " and %d",
		     e->name, e->fd, count, sem, e->count, !!(e->efd_flags & EFD_SEMAPHORE));
		return -1;
	}
	if (fl < 0 || fdfl < 0 || !(fl & O_NONBLOCK) != !nb || !(fdfl & FD_CLOEXEC) != !cx ||
	    (fl & O_ACCMODE) != O_RDWR) {
		fail("\"%s\" fd %d: F_GETFL %#o F_GETFD %d, expected O_RDWR%s and %s", e->name,
		     e->fd, fl, fdfl, nb ? "|O_NONBLOCK" : "", cx ? "FD_CLOEXEC" : "no FD_CLOEXEC");
		return -1;
	}
	return 0;
}

static short revents(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };

	return poll(&p, 1, 0) == 1 ? p.revents : 0;
}

/* What reading and writing do. */
static int check_io(void)
{
	uint64_t v = 0;
	long r;

	/* big: one read takes the whole counter; shared with DUP_FD */
	if (read(efds[0].fd, &v, 8) != 8 || v != BIG_COUNT) {
		fail("\"big\": read gave %#" PRIx64 " (%s), expected %#llx", v, strerror(errno),
		     (unsigned long long)BIG_COUNT);
		return -1;
	}
	errno = 0;
	if (read(efds[0].fd, &v, 8) != -1 || errno != EAGAIN) {
		fail("\"big\": a second read did not fail with EAGAIN (errno %d)", errno);
		return -1;
	}
	r = syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, efds[0].fd, DUP_FD);
	if (r != 0 || eventfd_write(DUP_FD, 7) || read(efds[0].fd, &v, 8) != 8 || v != 7) {
		fail("fd %d is not \"big\" any more: kcmp %ld, wrote 7 through it, read %" PRIu64,
		     DUP_FD, r, v);
		return -1;
	}
	/* sem: 5 reads of 1, then nothing (polled: the fd blocks) */
	for (int i = 0; i < 5; i++) {
		v = 0;
		if (!(revents(efds[1].fd, POLLIN) & POLLIN) || read(efds[1].fd, &v, 8) != 8 ||
		    v != 1) {
			fail("\"sem\": read %d gave %" PRIu64
			     ", expected 1 (a semaphore holding %d)",
			     i + 1, v, 5 - i);
			return -1;
		}
	}
	if (revents(efds[1].fd, POLLIN) & POLLIN) {
		fail("\"sem\": still readable after 5 reads");
		return -1;
	}
	if (revents(efds[2].fd, POLLIN | POLLOUT) != POLLOUT) {
		fail("\"zero\": poll %#x, expected POLLOUT only",
		     revents(efds[2].fd, POLLIN | POLLOUT));
		return -1;
	}
	errno = 0;
	if (revents(efds[3].fd, POLLIN | POLLOUT) != POLLIN || eventfd_write(efds[3].fd, 1) != -1 ||
	    errno != EAGAIN) {
		fail("\"full\": poll %#x and a write of 1 (errno %d), expected POLLIN only and "
		     "EAGAIN",
		     revents(efds[3].fd, POLLIN | POLLOUT), errno);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const int parent[] = { -1, 0 };
	static struct test_tree tr = {
		.n = 2, .parent = parent, .setup = child_setup, .check = child_check
	};

	if (test_init(argc, argv))
		return 1;
	if (setup() || test_tree_run(&tr))
		return 1;
	for (int i = 0; i < NEFD; i++)
		if (check_state(&efds[i]))
			return 1;
	if (check_io())
		return 1;
	pass();
	return 0;
}
