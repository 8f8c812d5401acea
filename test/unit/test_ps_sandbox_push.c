/* test_ps_sandbox_push: the calls the page server's sandbox (lazy-pages/ps-sandbox.h) allows a
 * server that may receive a dump (push-recv.h), relative to its directory's fd only, and what
 * it refuses; each in a child of its own that enters the sandbox (sandbox_fixture.h).
 * - push_allowed: in the directory (dirfd): a temp file made with PUSH_OPEN_FLAGS, written,
 *   read back, fsync'd, renamed into place (RENAME_NOREPLACE: a rename over a file fails, as
 *   O_EXCL over one does), removed; the directory fsync'd and its lock made shared; a qsort()
 *   of 64 KiB (glibc's asks sysinfo() for the memory size).
 * - push_refused: killed by SIGSYS, with dirfd: an open of it with O_TRUNC, or without
 *   O_NOFOLLOW, an open with PUSH_OPEN_FLAGS elsewhere, renameat2 without RENAME_NOREPLACE or
 *   into another directory, renameat, unlinkat of a directory or elsewhere, flock LOCK_EX,
 *   ftruncate; and without dirfd (a server that serves a dump it found) every call of that
 *   list. Nothing is made or removed. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <cmocka.h>

#include "lazy-pages/push-recv.h"
#include "sandbox_fixture.h"
#include "util_fs.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* qsort() of 64 KiB (glibc asks sysinfo() for the memory size past 1 KiB) */
static bool sorted(void)
{
	static uint64_t v[8192];

	for (size_t i = 0; i < 8192; i++)
		v[i] = (i * 2654435761u) % 8192;
	qsort(v, 8192, sizeof(v[0]), cmp_u64);
	for (size_t i = 0; i < 8192; i++)
		if (v[i] != i)
			return false;
	return true;
}

/* exit 10 + the step that failed */
static int push_calls(void *arg)
{
	int d = sandbox_dirfd, fd, fd2;
	struct sysinfo si;

	(void)arg;
	fd = openat(d, "a.img.tmp", PUSH_OPEN_FLAGS, 0600);
	if (fd < 0)
		return 10;
	if (pwrite(fd, "abc", 3, 4096) != 3 || pread(fd, (char[3]){ 0 }, 3, 4096) != 3)
		return 11;
	if (fsync(fd) || close(fd) || fsync(d))
		return 12;
	if (renameat2(d, "a.img.tmp", d, "a.img", RENAME_NOREPLACE))
		return 13;
	fd2 = openat(d, "b.img.tmp", PUSH_OPEN_FLAGS, 0600);
	if (fd2 < 0 || close(fd2) || !renameat2(d, "b.img.tmp", d, "a.img", RENAME_NOREPLACE) ||
	    errno != EEXIST)
		return 14;
	if (openat(d, "a.img", PUSH_OPEN_FLAGS, 0600) != -1 || errno != EEXIST)
		return 15;
	if (unlinkat(d, "a.img", 0) || unlinkat(d, "b.img.tmp", 0))
		return 16;
	if (flock(d, LOCK_SH | LOCK_NB))
		return 17;
	if (sysinfo(&si) || !sorted())
		return 18;
	return 0;
}

static void test_push_allowed(void **state)
{
	(void)state;
	sandbox_dirfd = open(ld.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(sandbox_dirfd >= 0);
	expect_exit(in_sandbox(push_calls, NULL), 0, "a receiving server's calls");
	assert_int_equal(utest_dir_entries(ld.dir), 1); /* the log: nothing left */
	close(sandbox_dirfd);
	sandbox_dirfd = -1;
}

enum push_call {
	P_OPEN_TRUNC,
	P_OPEN_FOLLOW,
	P_OPEN_ELSEWHERE,
	P_RENAME_REPLACE,
	P_RENAME_OLD,
	P_RENAME_OUT,
	P_UNLINK_DIR,
	P_UNLINK_ELSEWHERE,
	P_FLOCK_EX,
	P_FTRUNCATE,
	P_OPEN, /* from here: the calls a server that serves a dump it found may not make */
	P_PWRITE,
	P_FSYNC,
	P_RENAME,
	P_UNLINK,
	P_FLOCK_SH,
	P_NR
};

static const char *const push_what[P_NR] = {
	"openat O_TRUNC in the directory",
	"openat without O_NOFOLLOW",
	"openat PUSH_OPEN_FLAGS elsewhere",
	"renameat2 without RENAME_NOREPLACE",
	"renameat",
	"renameat2 out of the directory",
	"unlinkat AT_REMOVEDIR",
	"unlinkat elsewhere",
	"flock LOCK_EX",
	"ftruncate",
	"openat PUSH_OPEN_FLAGS, not receiving",
	"pwrite64, not receiving",
	"fsync, not receiving",
	"renameat2 RENAME_NOREPLACE, not receiving",
	"unlinkat, not receiving",
	"flock LOCK_SH, not receiving",
};

static int r_push(void *arg)
{
	int d = sandbox_dirfd >= 0 ? sandbox_dirfd : mark_fd, fd = mark_fd;

	mark(); /* the next call is the one that must kill */
	switch ((enum push_call)(uintptr_t)arg) {
	case P_OPEN_TRUNC:
		openat(d, "x.img.tmp", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		break;
	case P_OPEN_FOLLOW:
		openat(d, "x.img.tmp", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		break;
	case P_OPEN_ELSEWHERE:
		openat(AT_FDCWD, refused_path, PUSH_OPEN_FLAGS, 0600);
		break;
	case P_RENAME_REPLACE:
		renameat2(d, "x", d, "y", 0);
		break;
	case P_RENAME_OLD:
		renameat(d, "x", d, "y");
		break;
	case P_RENAME_OUT:
		renameat2(d, "x", AT_FDCWD, "y", RENAME_NOREPLACE);
		break;
	case P_UNLINK_DIR:
		unlinkat(d, "x", AT_REMOVEDIR);
		break;
	case P_UNLINK_ELSEWHERE:
		unlinkat(AT_FDCWD, refused_path, 0);
		break;
	case P_FLOCK_EX:
		flock(d, LOCK_EX | LOCK_NB);
		break;
	case P_FTRUNCATE:
		ftruncate(fd, 0);
		break;
	case P_OPEN:
		openat(d, "x.img.tmp", PUSH_OPEN_FLAGS, 0600);
		break;
	case P_PWRITE:
		(void)!pwrite(fd, "m", 1, 0);
		break;
	case P_FSYNC:
		fsync(fd);
		break;
	case P_RENAME:
		renameat2(d, "x", d, "y", RENAME_NOREPLACE);
		break;
	case P_UNLINK:
		unlinkat(d, "x", 0);
		break;
	case P_FLOCK_SH:
	case P_NR:
		flock(d, LOCK_SH | LOCK_NB);
		break;
	}
	return GOT_BACK;
}

static void test_push_refused(void **state)
{
	int marks[2], dirfd = open(ld.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char c;

	(void)state;
	assert_true(dirfd >= 0);
	snprintf(refused_path, sizeof(refused_path), "%s/refused.txt", ld.dir);
	assert_int_equal(utest_write_file(ld.dir, "refused.txt", "keep", 4), 0);
	assert_int_equal(pipe2(marks, O_CLOEXEC | O_NONBLOCK), 0);
	mark_fd = marks[1];
	for (int i = 0; i < P_NR; i++) {
		sandbox_dirfd = i < P_OPEN ? dirfd : -1;
		expect_signal(in_sandbox(r_push, (void *)(uintptr_t)i), SIGSYS, push_what[i]);
		if (read(marks[0], &c, 1) != 1)
			fail_msg("%s: killed before it got to the call", push_what[i]);
	}
	sandbox_dirfd = -1;
	close(marks[0]);
	close(marks[1]);
	close(dirfd);
	assert_int_equal(utest_dir_entries(ld.dir), 2); /* the log, refused.txt: nothing made */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_push_allowed, sbx_setup, sbx_teardown),
		cmocka_unit_test_setup_teardown(test_push_refused, sbx_setup, sbx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
