/* futex_prctl00: per-address-space and per-process prctl state survives checkpoint/restore: MDWE
 * (PR_SET_MDWE: no memory both writable and executable), KSM for every VMA
 * (PR_SET_MEMORY_MERGE), the size of the process's private futex hash (PR_FUTEX_HASH, set to 64
 * slots once a thread exists) and /proc/PID/coredump_filter (0x7b here; a child forked before
 * keeps what it set, 0x21). Each is read back before the dump and must read the same after the
 * restore; MDWE is also tried (mmap of writable executable memory must fail with EACCES). What
 * this kernel lacks is left out with a message. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PR_SET_MDWE_	      65
#define PR_GET_MDWE_	      66
#define MDWE_REFUSE_EXEC_GAIN 1
#define PR_SET_MEMORY_MERGE_  67
#define PR_GET_MEMORY_MERGE_  68
#define PR_FUTEX_HASH_	      78
#define FUTEX_HASH_SET_SLOTS  1
#define FUTEX_HASH_GET_SLOTS  2

static long filter(pid_t pid)
{
	char path[64];
	size_t len;
	char *buf;
	long v;

	snprintf(path, sizeof(path), "/proc/%d/coredump_filter", pid);
	buf = test_read_file(path, &len);
	if (!buf)
		return -1;
	v = strtol(buf, NULL, 16);
	free(buf);
	return v;
}

static int set_filter(const char *v)
{
	FILE *f = fopen("/proc/self/coredump_filter", "w");
	int ret;

	if (!f)
		return -1;
	ret = fputs(v, f) < 0 ? -1 : 0;
	return fclose(f) ? -1 : ret;
}

static void *idle_thread(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	long mdwe, merge, slots, core, child_core, v;
	int p[2], status;
	pthread_t th;
	pid_t child;
	char c;

	if (test_init(argc, argv))
		return 1;
	if (pipe(p)) {
		fail_errno("setup: pipe");
		return 1;
	}
	child = fork();
	if (child == 0) {
		if (set_filter("0x21") || write(p[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	if (child < 0 || read(p[0], &c, 1) != 1) {
		fail("setup: child");
		return 1;
	}
	if (set_filter("0x7b")) {
		fail_errno("setup: coredump_filter");
		return 1;
	}
	if (pthread_create(&th, NULL, idle_thread, NULL)) {
		fail("setup: thread");
		return 1;
	}
	if (prctl(PR_FUTEX_HASH_, FUTEX_HASH_SET_SLOTS, 64, 0, 0))
		test_msg("PR_FUTEX_HASH: %s: left out\n", strerror(errno));
	if (prctl(PR_SET_MEMORY_MERGE_, 1, 0, 0, 0))
		test_msg("PR_SET_MEMORY_MERGE: %s: left out\n", strerror(errno));
	if (prctl(PR_SET_MDWE_, MDWE_REFUSE_EXEC_GAIN, 0, 0, 0))
		test_msg("PR_SET_MDWE: %s: left out\n", strerror(errno));
	mdwe = prctl(PR_GET_MDWE_, 0, 0, 0, 0);
	merge = prctl(PR_GET_MEMORY_MERGE_, 0, 0, 0, 0);
	slots = prctl(PR_FUTEX_HASH_, FUTEX_HASH_GET_SLOTS, 0, 0, 0);
	core = filter(getpid());
	child_core = filter(child);
	if (test_daemon())
		return 1;
	test_waitsig();

	if ((v = prctl(PR_GET_MDWE_, 0, 0, 0, 0)) != mdwe)
		fail("PR_GET_MDWE: %ld, expected %ld", v, mdwe);
	if (mdwe > 0 && mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != MAP_FAILED)
		fail("MDWE: a writable executable mapping was made");
	if ((v = prctl(PR_GET_MEMORY_MERGE_, 0, 0, 0, 0)) != merge)
		fail("PR_GET_MEMORY_MERGE: %ld, expected %ld", v, merge);
	if ((v = prctl(PR_FUTEX_HASH_, FUTEX_HASH_GET_SLOTS, 0, 0, 0)) != slots)
		fail("PR_FUTEX_HASH_GET_SLOTS: %ld, expected %ld", v, slots);
	if ((v = filter(getpid())) != core)
		fail("coredump_filter: %#lx, expected %#lx", v, core);
	if ((v = filter(child)) != child_core)
		fail("the child's coredump_filter: %#lx, expected %#lx", v, child_core);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	pass();
	return 0;
}
