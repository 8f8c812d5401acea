/* zdtmtst: the API of a zdtm test program (see test/zdtm/README.md).
 *
 * Contract: a test calls test_init() first (it parses --pidfile=F --outfile=F,
 * and with a pidfile daemonizes: the process that ran the test exits 0 once the
 * daemon calls test_daemon(), or 1 if the daemon dies or fails before that),
 * sets up its state, calls test_daemon() (writes the pidfile: "ready"), then
 * test_waitsig() (returns once SIGTERM arrived; the runner sends it after the
 * checkpoint/restore), checks its state and reports exactly one verdict with
 * pass(), fail() or skip(). Verdicts and messages are single lines in the
 * outfile: "PASS", "FAIL: <why>", "SKIP: <why>", or free text (test_msg).
 * Without --pidfile the test runs in the foreground and writes to stderr
 * (for debugging by hand). Arguments after "--" are left to the test.
 * SIGTERM stays blocked outside test_waitsig(), so threads created after
 * test_init() never take it; test_go() polls for it instead. */
#ifndef ZDTM_ZDTMTST_H
#define ZDTM_ZDTMTST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* 0 in the test (daemon); <0 (-errno) after reporting why. Never returns in
 * the starter process, which exits with the daemon's setup result. */
int test_init(int argc, char **argv);
/* Setup done: write the pidfile and release the starter. 0 or -errno (reported). */
int test_daemon(void);
/* Block until SIGTERM arrived (at once if it already has). */
void test_waitsig(void);
/* true until SIGTERM arrived: for tests that keep working until told to stop. */
bool test_go(void);

/* Verdicts. pass() is ignored after a fail() (the failure stands). */
void pass(void);
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* fail() with ": <strerror> (errno N)" of the current errno appended. */
void fail_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Free-form log lines; test_perror appends the errno like fail_errno. */
void test_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void test_perror(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The whole file (NUL-terminated after *len bytes; malloc'd), or NULL with
 * errno set. For /proc files, which stat() calls empty. */
char *test_read_file(const char *path, size_t *len);
/* The value of the first "key:" line of /proc/self/fdinfo/fd, without the blanks that lead
 * it, into buf (cut to len - 1 bytes): 0, or -1 when the file can't be read or has no such
 * line. */
/* Surplus huge pages for the test: vm.nr_overcommit_hugepages raised to want where it is lower
 * (surplus pages go back to the system when freed); its old value, or -1 when it can't be read or
 * set (errno). test_hugetlb_reset(old, want) puts it back. */
long test_hugetlb_allow(long want);
void test_hugetlb_reset(long old, long want);
int test_fdinfo_get(int fd, const char *key, char *buf, size_t len);
/* The number of that line (in base: 10 for "Pid", 8 for "flags") of /proc/PID/fdinfo/FD (pid
 * 0: our own); LONG_MIN when there is no such line or no number on it. */
long test_fdinfo_num(pid_t pid, int fd, const char *key, int base);
/* What /proc/self/fd/fd links to ("PATH (deleted)", "pipe:[N]"), into buf (cut to len - 1
 * bytes): 0, or -1 with errno set. */
int test_fd_link(int fd, char *buf, size_t len);

/* A path for a unix socket file named name, in a directory of the test's own under /tmp
 * (lib/sock.c): sun_path is short and the work dir may be deep. The directory is made on the
 * first call and removed with its files when the process that made it exits. 0, or -1 with
 * errno set (ENAMETOOLONG when out is too small). */
int test_sock_path(char *out, size_t len, const char *name);
/* Files in flight (lib/scm.c). test_send_fds(): one sendmsg of len bytes of buf with the n
 * (at most 16) fds attached as SCM_RIGHTS (none when n is 0): 0, or -1 with errno (a short
 * send: EMSGSIZE). test_recv_fds(): one recvmsg (MSG_DONTWAIT, MSG_CMSG_CLOEXEC) into buf:
 * its result; the fds it carried into fds (room for max), how many in *n; msg_flags in *flags. */
int test_send_fds(int sk, const void *buf, size_t len, const int *fds, size_t n);
ssize_t test_recv_fds(int sk, void *buf, size_t len, int *fds, size_t max, size_t *n, int *flags);

/* Nanoseconds (lib/time.c): of a timespec, of clock clk now, and back into a timespec. */
int64_t test_ts_ns(const struct timespec *t);
int64_t test_now_ns(clockid_t clk);
struct timespec test_ns_ts(int64_t ns);

/* /proc/self/maps, one line per mapping as "start-end perms offset dev inode
 * path", with neighbours the kernel could equally show as one VMA merged and
 * the inode only of files that still have a name (see lib/maps.c): what a
 * faithful restore reproduces. malloc'd, NULL with errno set. */
char *test_read_maps(size_t *len);
/* The same made from /proc/self/smaps, each line ending in " VmFlags: FLAGS" (as smaps shows
 * them); neighbours merge only when their flags are equal too. Compare with test_maps_same(). */
char *test_read_vmflags(size_t *len);
/* 0 if two test_read_maps() texts are equal; else fail()s naming each
 * mapping found in only one of them (the first few) and returns -1. */
int test_maps_same(const char *what, const char *before, const char *after);
/* The first line of /proc/self/maps that holds s (" [stack]"), without its newline, into
 * out: 0; -1 when there is none, or with errno set when maps can't be read. */
int test_maps_line(const char *s, char *out, size_t len);
/* For a test that compares the heap's VMA too: make malloc grow the heap once, now, by enough
 * for the rest of the test, and never shrink it, so that reading /proc files later does not
 * move its end. */
void test_heap_steady(void);

/* Memory helpers. The pattern depends on the seed and on each byte's offset,
 * so a region moved, truncated or mixed with another is detected. */
void test_fill_pattern(void *buf, size_t len, uint64_t seed);
/* -1 if buf holds the pattern, else the offset of the first wrong byte. */
ssize_t test_check_pattern(const void *buf, size_t len, uint64_t seed);
/* Pages with a version (lib/verpage.c): page p as version v of page i of area (a pattern, v in
 * its first word); the check passes when p holds version noted, or noted + 1 (written, not
 * noted yet: a freeze between the two steps), or zeros for noted 0; TEST_VERPAGE_DROPPING (a
 * page being dropped) passes zeros or any version. Else it fails naming what and i (the first
 * few), counts *bad and returns -1. */
#define TEST_VERPAGE_DROPPING UINT32_MAX
void test_verpage_put(unsigned char *p, unsigned area, size_t i, uint32_t v);
int test_verpage_check(const char *what, const unsigned char *p, unsigned area, size_t i,
		       uint32_t noted, int *bad);
/* CRC-32C (Castagnoli), as iSCSI/ext4 use it: "123456789" -> 0xe3069283. */
uint32_t test_crc32c(const void *buf, size_t len);

/* /proc/.../stat fields (lib/proc.c). path names the file: "/proc/self/stat",
 * "/proc/self/task/TID/stat", "/proc/PID/stat". 0, or -1 with errno set. */
struct test_stat {
	char state; /* R, S, D, T, t, Z, ... */
	pid_t ppid, pgrp, sid;
};
int test_read_stat(const char *path, struct test_stat *st);
/* Poll until the task whose /proc dir is dir ("/proc/self/task/TID") sits in
 * system call nr (its syscall file starts with nr): 0; -1 with errno
 * ETIMEDOUT after timeout_ms, or the errno of the read. A negative timeout_ms
 * means none: the wait ends only when the task is there (or its file can't be
 * read), and the runner's time limit of the test catches a task that never
 * gets there. Tests pass -1: how long a thread takes to reach its syscall on a
 * loaded machine is the scheduler's business, not a property of the restore. */
int test_wait_syscall(const char *dir, long nr, int timeout_ms);

/* Look at the test from another process (lib/helper.c): check(arg, msg, len) runs in a
 * child, which leaves msg empty when all is well and else says what is wrong. 0, or -1 after
 * fail() naming when and that, or how the child failed. */
int test_in_helper(const char *when, void (*check)(void *arg, char *msg, size_t len), void *arg);

/* /proc/self/task lists exactly these n threads, in any order: 0, or -1
 * after fail() naming the first one too many or saying how many there are. */
int test_threads_are(const pid_t *tids, int n);

/* ymm0-15 across a wait (lib/regs.c); AVX only: check
 * __builtin_cpu_supports("avx") first. in and out are 16 x 32 bytes: one
 * asm block loads ymm0-15 from in, waits, and stores them to out, with no
 * other code in between. test_ymm_syscall() waits in one raw system call
 * (returns its result or -errno); test_ymm_spin() increments *counter until
 * *stop is set. */
long test_ymm_syscall(const void *in, void *out, long nr, long a1, long a2, long a3, long a4);
void test_ymm_spin(const void *in, void *out, volatile uint64_t *counter, volatile int *stop);

/* Tests made of several tasks (lib/tree.c). Task 0 is the root, the test
 * process itself; parent[i] < i is the index of task i's parent. In the
 * root, after test_init():
 *
 *   test_tree_start(&tr)   forks the tree (every task forks its own children
 *                          in index order) and returns once every task has
 *                          run setup() and waits for SIGTERM; in the other
 *                          tasks it never returns
 *   test_daemon(); test_waitsig();
 *   test_tree_finish(&tr)  SIGTERM goes down the tree, each task to its
 *                          children; every task checks that getpid(),
 *                          getppid() and /proc/self/stat are what they were,
 *                          runs check(), reaps its children, and sends its
 *                          verdict to the root through a pipe. The root
 *                          fail()s once for each task that failed (naming it)
 *                          or ended without answering, and returns 0 if all
 *                          passed. Neither waits with a limit of its own: a
 *                          task that never gets ready or never answers is
 *                          caught by the runner's time limit of the test.
 *
 * Callbacks return 0, or -1 with a one-line reason in why (never fail():
 * only the root writes verdicts). */
#define TEST_TREE_MAX 128
struct test_tree {
	int n;		   /* tasks, 1..TEST_TREE_MAX */
	const int *parent; /* n entries; parent[0] is -1 */
	/* in task idx before it forks its children (idx 0: the root, first) */
	int (*setup)(struct test_tree *tr, int idx, char *why, size_t len);
	/* in the parent of task idx, right after the fork (pid[idx] is set) */
	int (*forked)(struct test_tree *tr, int idx, char *why, size_t len);
	/* in task idx after SIGTERM, after the pid checks */
	int (*check)(struct test_tree *tr, int idx, char *why, size_t len);
	void *arg; /* for the callbacks */
	/* pid[i] as task i sees itself; in a task: known for itself, its
	 * ancestors and every task its ancestors forked before it */
	pid_t pid[TEST_TREE_MAX];
	int rfd, wfd; /* the lib's: the verdict pipe */
};
int test_tree_start(struct test_tree *tr);
int test_tree_finish(struct test_tree *tr);
/* The whole life of a tree test after test_init(): test_tree_start(), test_daemon(),
 * test_waitsig(), test_tree_finish(). 0 if all of them succeeded, else -1 (reported). */
int test_tree_run(struct test_tree *tr);
/* For a check callback: the calling task is in the session of task sid_task and the
 * process group of task pgrp_task (getsid(0), getpgrp() and /proc/self/stat). 0, or -1
 * with why. */
int test_tree_ids_are(const struct test_tree *tr, int sid_task, int pgrp_task, char *why,
		      size_t len);

#endif
