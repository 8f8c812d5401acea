/* test_ps_landlock: the page server's Landlock confinement (lazy-pages/ps-landlock.h). Each case
 * runs in a child that confines itself (cmocka's process never does) and reports through its exit
 * status which check failed (0: all held). Where the kernel has no Landlock, ps_landlock_enter()
 * must say 1 and the cases are skipped, saying why.
 * - serving (push false): a file beneath the directory is read, the directory listed; a file
 *   elsewhere (outside the directory, a sibling of it) can't be opened (EACCES); nothing can be
 *   created, written, truncated or removed in the directory; a file opened before stays readable;
 *   /sys/devices/system/cpu/online is read (glibc's malloc); a TCP connect is refused where the
 *   kernel's Landlock knows it (ABI 4).
 * - receiving (push true): the same, and beneath the directory a new file is created, written,
 *   truncated, renamed (never over a file) and removed; "../" out of it still can't create. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lazy-pages/ps-landlock.h"

#define SKIPPED 99

struct fx {
	char top[64], dir[96], other[96];
	int listen_port;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char path[160];
	int fd;

	if (!f)
		return -1;
	snprintf(f->top, sizeof(f->top), "/tmp/test-landlock-XXXXXX");
	if (!mkdtemp(f->top))
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/images", f->top);
	snprintf(f->other, sizeof(f->other), "%s/other", f->top);
	if (mkdir(f->dir, 0700) || mkdir(f->other, 0700))
		return -1;
	snprintf(path, sizeof(path), "%s/a.img", f->dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	if (fd < 0 || write(fd, "in", 2) != 2 || close(fd))
		return -1;
	snprintf(path, sizeof(path), "%s/secret", f->other);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	if (fd < 0 || write(fd, "out", 3) != 3 || close(fd))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->top);
	if (system(cmd))
		return -1;
	free(f);
	return 0;
}

/* In the child: the checks, in order; the number of the first that fails, 0 if none. */
static int confined(const struct fx *f, bool push)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(9),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int dirfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char path[160], buf[8];
	struct img_err err = { 0 };
	int before, fd, sk, ret;

	snprintf(path, sizeof(path), "%s/secret", f->other);
	before = open(path, O_RDONLY);
	if (dirfd < 0 || before < 0)
		return 1;
	ret = ps_landlock_enter(dirfd, push, &err);
	if (ret == 1)
		return SKIPPED;
	if (ret)
		return 2;
	if ((fd = openat(dirfd, "a.img", O_RDONLY)) < 0 || read(fd, buf, 2) != 2 || close(fd))
		return 3;
	if ((fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY)) < 0 ||
	    syscall(SYS_getdents64, fd, buf, 0) != -1 || close(fd))
		return 4; /* listed: getdents64 with no room says EINVAL, not EACCES */
	if (open(path, O_RDONLY) >= 0 || errno != EACCES)
		return 5; /* a file elsewhere */
	if (open("/etc/hostname", O_RDONLY) >= 0 || errno != EACCES)
		return 6;
	if (pread(before, buf, 3, 0) != 3)
		return 7; /* opened before: still read */
	if ((fd = open("/sys/devices/system/cpu/online", O_RDONLY)) < 0 || close(fd))
		return 8;
	fd = openat(dirfd, "new.img.tmp", O_RDWR | O_CREAT | O_EXCL, 0600);
	if (!push) {
		if (fd >= 0 || errno != EACCES)
			return 9;
		if (unlinkat(dirfd, "a.img", 0) == 0 || errno != EACCES)
			return 10;
		if ((fd = openat(dirfd, "a.img", O_WRONLY)) >= 0 || errno != EACCES)
			return 11;
	} else {
		if (fd < 0 || write(fd, "x", 1) != 1 || ftruncate(fd, 0) || close(fd))
			return 12;
		if (renameat2(dirfd, "new.img.tmp", dirfd, "new.img", RENAME_NOREPLACE))
			return 13;
		if (unlinkat(dirfd, "new.img", 0))
			return 14;
	}
	if (openat(dirfd, "../other/escape", O_WRONLY | O_CREAT, 0600) >= 0 || errno != EACCES)
		return 15;
	sk = socket(AF_INET, SOCK_STREAM, 0);
	if (sk < 0)
		return 16;
	if (syscall(SYS_landlock_create_ruleset, NULL, 0, 1) >= 4 &&
	    (connect(sk, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno != EACCES))
		return 17;
	return 0;
}

static void run(struct fx *f, bool push)
{
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (!pid)
		_exit(confined(f, push));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == SKIPPED) {
		print_message("skipped: the kernel has no Landlock\n");
		skip();
	}
	if (WEXITSTATUS(st))
		print_message("check %d failed\n", WEXITSTATUS(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_serving(void **state)
{
	run(*state, false);
}

static void test_receiving(void **state)
{
	run(*state, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_serving, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receiving, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
