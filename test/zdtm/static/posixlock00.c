/* posixlock00: POSIX record locks (fcntl F_SETLK) and OFD locks (F_OFD_SETLK) survive
 * checkpoint/restore with their ranges, types and owner.
 *
 * File P: the test holds POSIX locks WRITE 0..99, READ 200..299 and WRITE 1000..EOF.
 * File O: OFD locks WRITE 10..19 and READ 30..EOF through one open file description.
 * After SIGTERM a helper process (a fresh child) asks F_GETLK (F_OFD_GETLK on O) about every
 * range and the gaps between them: a write request on a locked range must report exactly that
 * lock (type, start, length) and its owner (l_pid: the test's pid for POSIX, -1 for OFD); a read
 * request on a read-locked range and any request on a gap must be free. Then the test unlocks
 * everything through its own fds and the helper must find every range free: the locks were the
 * test's. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"

#define FILE_P "posixlock00.p"
#define FILE_O "posixlock00.o"

struct query {
	const char *path;
	bool ofd;
	short ask;	  /* F_RDLCK or F_WRLCK over [start, start+len) */
	off_t start, len; /* len 0: to EOF */
	short type;	  /* the answer: F_UNLCK, or the conflicting lock's */
	off_t lstart, llen;
};

static const struct query held[] = {
	{ FILE_P, false, F_WRLCK, 0, 100, F_WRLCK, 0, 100 },
	{ FILE_P, false, F_RDLCK, 50, 1, F_WRLCK, 0, 100 },
	{ FILE_P, false, F_WRLCK, 100, 100, F_UNLCK, 0, 0 },
	{ FILE_P, false, F_WRLCK, 200, 100, F_RDLCK, 200, 100 },
	{ FILE_P, false, F_RDLCK, 200, 100, F_UNLCK, 0, 0 },
	{ FILE_P, false, F_WRLCK, 300, 700, F_UNLCK, 0, 0 },
	{ FILE_P, false, F_RDLCK, 5000, 1, F_WRLCK, 1000, 0 },
	{ FILE_O, true, F_WRLCK, 0, 10, F_UNLCK, 0, 0 },
	{ FILE_O, true, F_RDLCK, 10, 10, F_WRLCK, 10, 10 },
	{ FILE_O, true, F_WRLCK, 20, 10, F_UNLCK, 0, 0 },
	{ FILE_O, true, F_WRLCK, 1 << 20, 1, F_RDLCK, 30, 0 },
};

static const struct query released[] = {
	{ FILE_P, false, F_WRLCK, 0, 0, F_UNLCK, 0, 0 },
	{ FILE_O, true, F_WRLCK, 0, 0, F_UNLCK, 0, 0 },
};

static const char *tname(short t)
{
	return t == F_RDLCK ? "READ" : t == F_WRLCK ? "WRITE" : t == F_UNLCK ? "UNLCK" : "?";
}

/* In the helper: one query; "" or what was wrong into msg. */
static void ask(const struct query *q, pid_t owner, char *msg, size_t len)
{
	struct flock fl = {
		.l_type = q->ask, .l_whence = SEEK_SET, .l_start = q->start, .l_len = q->len
	};
	int fd = open(q->path, O_RDWR | O_CLOEXEC);
	pid_t want_pid = q->ofd ? -1 : owner;

	if (fd < 0 || fcntl(fd, q->ofd ? F_OFD_GETLK : F_GETLK, &fl)) {
		snprintf(msg, len, "%s: F_%sGETLK: %s", q->path, q->ofd ? "OFD_" : "",
			 strerror(errno));
		return;
	}
	close(fd);
	if (fl.l_type != q->type ||
	    (q->type != F_UNLCK &&
	     (fl.l_start != q->lstart || fl.l_len != q->llen || fl.l_pid != want_pid)))
		snprintf(msg, len,
			 "%s: a %s request on %lld+%lld found %s %lld+%lld pid %d, expected %s "
			 "%lld+%lld pid %d",
			 q->path, tname(q->ask), (long long)q->start, (long long)q->len,
			 tname(fl.l_type), (long long)fl.l_start, (long long)fl.l_len, fl.l_pid,
			 tname(q->type), (long long)q->lstart, (long long)q->llen,
			 q->type == F_UNLCK ? 0 : want_pid);
}

struct queries {
	const struct query *q;
	size_t n;
	pid_t owner; /* the test */
};

/* In the helper: every query, up to the first that goes wrong. */
static void ask_each(void *arg, char *msg, size_t len)
{
	const struct queries *qs = arg;

	for (size_t i = 0; i < qs->n && !msg[0]; i++)
		ask(&qs->q[i], qs->owner, msg, len);
}

/* Every query from a helper process; 0, or -1 after fail(). */
static int probe_all(const char *when, const struct query *q, size_t n)
{
	struct queries qs = { q, n, getpid() };

	return test_in_helper(when, ask_each, &qs);
}

static int lock(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };

	if (fcntl(fd, cmd, &fl)) {
		fail_errno("fcntl(%s, %s %lld+%lld)", cmd == F_SETLK ? "F_SETLK" : "F_OFD_SETLK",
			   tname(type), (long long)start, (long long)len);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int p, o;

	if (test_init(argc, argv))
		return 1;
	p = open(FILE_P, O_RDWR | O_CREAT | O_TRUNC, 0644);
	o = open(FILE_O, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (p < 0 || o < 0) {
		fail_errno("setup: open");
		return 1;
	}
	if (lock(p, F_SETLK, F_WRLCK, 0, 100) || lock(p, F_SETLK, F_RDLCK, 200, 100) ||
	    lock(p, F_SETLK, F_WRLCK, 1000, 0) || lock(o, F_OFD_SETLK, F_WRLCK, 10, 10) ||
	    lock(o, F_OFD_SETLK, F_RDLCK, 30, 0))
		return 1;
	if (probe_all("before the checkpoint", held, sizeof(held) / sizeof(held[0])))
		return 1;
	if (test_daemon())
		return 1;
	test_waitsig();

	if (probe_all("after restore", held, sizeof(held) / sizeof(held[0])))
		return 1;
	if (lock(p, F_SETLK, F_UNLCK, 0, 0) || lock(o, F_OFD_SETLK, F_UNLCK, 0, 0))
		return 1;
	if (probe_all("after the test unlocked", released, 2))
		return 1;
	unlink(FILE_P);
	unlink(FILE_O);
	pass();
	return 0;
}
