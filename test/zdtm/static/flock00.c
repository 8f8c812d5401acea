/* flock00: flock() locks survive checkpoint/restore, held by the restored task's own open file
 * descriptions.
 *
 * The test holds LOCK_EX on file A and LOCK_SH on file B (through two fds of one description,
 * dup()ed, which must give one lock, not two). After SIGTERM a helper process (a fresh child,
 * with its own open()s) must find: A locked against LOCK_SH and LOCK_EX, B open to another
 * LOCK_SH but locked against LOCK_EX (all with LOCK_NB). fdinfo of each fd must show one FLOCK
 * line of the right type. Then the test unlocks A and B through its own fds, and the helper
 * must now get LOCK_EX on both: the locks were the test's (a lock left with any other process,
 * the restorer for one, would still block it). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "zdtmtst.h"

#define FILE_A "flock00.a"
#define FILE_B "flock00.b"

/* In a child: try op on a fresh open of path; 0 if it succeeded, else errno. */
static int try_flock(const char *path, int op)
{
	int fd = open(path, O_RDWR | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return errno;
	if (flock(fd, op | LOCK_NB))
		ret = errno;
	close(fd);
	return ret;
}

struct probe {
	const char *path;
	int op;
	int want; /* 0: must succeed; EWOULDBLOCK: must be refused */
};

struct probes {
	const struct probe *p;
	size_t n;
};

/* In the helper: every probe, up to the first that goes wrong. */
static void probe_each(void *arg, char *msg, size_t len)
{
	const struct probes *ps = arg;

	for (size_t i = 0; i < ps->n; i++) {
		const struct probe *p = &ps->p[i];
		int r = try_flock(p->path, p->op);

		if (r != p->want) {
			snprintf(msg, len,
				 "a helper's flock(%s, %s|LOCK_NB) gave \"%s\", expected \"%s\"",
				 p->path, p->op == LOCK_EX ? "LOCK_EX" : "LOCK_SH", strerror(r),
				 strerror(p->want));
			break;
		}
	}
}

/* Run every probe in a helper process; 0, or -1 after fail(). */
static int probe_all(const char *when, const struct probe *p, size_t n)
{
	struct probes ps = { p, n };

	return test_in_helper(when, probe_each, &ps);
}

/* The fdinfo of fd must hold exactly one FLOCK lock line of type type. */
static int check_fdinfo(int fd, const char *type)
{
	char path[64], want[32], *txt, *p;
	size_t len;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	txt = test_read_file(path, &len);
	if (!txt) {
		fail_errno("read %s", path);
		return -1;
	}
	snprintf(want, sizeof(want), "FLOCK  ADVISORY  %s ", type);
	for (p = txt; (p = strstr(p, "\nlock:")); p++)
		n++;
	if (n != 1 || !strstr(txt, want)) {
		fail("%s: expected one lock line with \"%s\", found %d: %s", path, want, n, txt);
		free(txt);
		return -1;
	}
	free(txt);
	return 0;
}

int main(int argc, char **argv)
{
	const struct probe held[] = {
		{ FILE_A, LOCK_SH, EWOULDBLOCK },
		{ FILE_A, LOCK_EX, EWOULDBLOCK },
		{ FILE_B, LOCK_SH, 0 },
		{ FILE_B, LOCK_EX, EWOULDBLOCK },
	};
	const struct probe released[] = {
		{ FILE_A, LOCK_EX, 0 },
		{ FILE_B, LOCK_EX, 0 },
	};
	int a, b, b2;

	if (test_init(argc, argv))
		return 1;
	a = open(FILE_A, O_RDWR | O_CREAT | O_TRUNC, 0644);
	b = open(FILE_B, O_RDWR | O_CREAT | O_TRUNC, 0644);
	b2 = b < 0 ? -1 : dup(b);
	if (a < 0 || b2 < 0 || flock(a, LOCK_EX | LOCK_NB) || flock(b, LOCK_SH | LOCK_NB)) {
		fail_errno("setup: open and lock %s, %s", FILE_A, FILE_B);
		return 1;
	}
	if (probe_all("before the checkpoint", held, 4))
		return 1;
	if (test_daemon())
		return 1;
	test_waitsig();

	if (check_fdinfo(a, "WRITE") || check_fdinfo(b, "READ") || check_fdinfo(b2, "READ"))
		return 1;
	if (probe_all("after restore", held, 4))
		return 1;
	if (flock(a, LOCK_UN) || flock(b2, LOCK_UN)) {
		fail_errno("unlock through the restored fds");
		return 1;
	}
	if (probe_all("after the test unlocked", released, 2))
		return 1;
	unlink(FILE_A);
	unlink(FILE_B);
	pass();
	return 0;
}
