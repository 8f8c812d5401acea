/* threads00: four threads, each caught in a different state by the
 * checkpoint, resume correctly after the restore, each with its own state:
 *   spin   loops incrementing a counter in a MAP_SHARED page (it must still
 *          advance after the restore), until the main thread stops it;
 *   futex  waits in FUTEX_WAIT until the main thread stores FUTEX_VAL and
 *          wakes it after SIGTERM (it must see FUTEX_VAL);
 *   read   is blocked in read() on an empty pipe, and must get the message
 *          the main thread writes after SIGTERM;
 *   sleep  sleeps in rounds of SLEEP_S seconds in clock_nanosleep(CLOCK_MONOTONIC)
 *          until the main thread stops it; each round must complete its full
 *          time (EINTR only with a sane remainder), so the checkpoint finds the
 *          thread in a sleep whenever it comes (but for the few instructions
 *          between two rounds).
 * Each thread has its own signal mask, name (PR_SET_NAME), TLS word and fs
 * base, and keeps its own pattern in ymm0-15 across its wait (loaded and
 * stored by one asm block around the syscall or loop, so that no libc code
 * runs in between); after the wait it checks its TID, mask (rt_sigprocmask
 * and SigBlk), name (PR_GET_NAME and comm), TLS word, fs base and registers.
 * The main thread checks that /proc/self/task lists exactly the five TIDs.
 * The test is ready once every thread is inside its syscall (seen in
 * /proc/self/task/TID/syscall) or its counter moves. No wait has a limit of
 * its own (a loaded machine may not run a thread for a long while): a thread
 * that never gets into its wait, or a spinner that never moves again after
 * the restore, is caught by the runner's time limit. */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <asm/prctl.h>

#include "zdtmtst.h"

#define NTHR	   4
#define SEED	   0x7d000000ull
#define FUTEX_VAL  0x600dcafe
#define SLEEP_S	   2
#define MSG	   "threads00: written after the restore"
#define TLS_VAL(k) (0x71500000deadull + (uint64_t)(k))

enum kind { SPIN, FUTEX, READ, SLEEP };

struct thr {
	enum kind kind;
	const char *name;
	int sig; /* blocked in this thread only (SIGTERM is blocked in all) */
	pthread_t th;
	volatile pid_t tid; /* set before the wait; 0 until then */
	uint64_t fsbase, mask;
	uint8_t in[16][32] __attribute__((aligned(32)));
	uint8_t out[16][32] __attribute__((aligned(32)));
	char why[512]; /* the thread's failure, empty if none */
};

/* What the threads share with the main thread. */
struct shared {
	volatile uint64_t *counter; /* in a MAP_SHARED page */
	volatile int stop;
	volatile uint32_t futex_word;
	int pipe[2];
	pthread_barrier_t done; /* the threads wait here until main has listed them */
};

static struct shared sh;
static __thread uint64_t tls_word;

static uint64_t kernel_mask(void)
{
	uint64_t m = 0;

	syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &m, sizeof(m));
	return m;
}

static uint64_t fs_base(void)
{
	uint64_t v = 0;

	syscall(SYS_arch_prctl, ARCH_GET_FS, &v);
	return v;
}

/* The registers: 0, or -1 with why naming the first ymm that differs. */
static int regs_check(struct thr *t, const char *when)
{
	for (int r = 0; r < 16; r++) {
		for (int b = 0; b < 32; b++) {
			if (t->out[r][b] == t->in[r][b])
				continue;
			snprintf(t->why, sizeof(t->why),
				 "%s: ymm%d byte %d is %#x, expected %#x (tid %d)", when, r, b,
				 t->out[r][b], t->in[r][b], t->tid);
			return -1;
		}
	}
	return 0;
}

/* The wait of each kind; 0, or -1 with why. */
static int wait_spin(struct thr *t)
{
	test_ymm_spin(t->in, t->out, sh.counter, &sh.stop);
	return regs_check(t, "spin");
}

static int wait_futex(struct thr *t)
{
	while (sh.futex_word != FUTEX_VAL) {
		long r = test_ymm_syscall(t->in, t->out, SYS_futex, (long)&sh.futex_word,
					  FUTEX_WAIT_PRIVATE, 0, 0);

		if (regs_check(t, "futex wait"))
			return -1;
		if (r && r != -EAGAIN && r != -EINTR) {
			snprintf(t->why, sizeof(t->why), "futex(FUTEX_WAIT) failed: %s",
				 strerror((int)-r));
			return -1;
		}
	}
	return 0;
}

static int wait_read(struct thr *t)
{
	char buf[sizeof(MSG) + 16];
	long r;

	do {
		r = test_ymm_syscall(t->in, t->out, SYS_read, sh.pipe[0], (long)buf, sizeof(buf),
				     0);
		if (regs_check(t, "read"))
			return -1;
	} while (r == -EINTR);
	if (r != (long)sizeof(MSG) || memcmp(buf, MSG, sizeof(MSG))) {
		snprintf(t->why, sizeof(t->why), "read() gave %ld ('%.*s'), expected %zu ('%s')", r,
			 r > 0 ? (int)r : 0, buf, sizeof(MSG), MSG);
		return -1;
	}
	return 0;
}

/* One round of SLEEP_S seconds. */
static int sleep_round(struct thr *t)
{
	struct timespec req = { SLEEP_S, 0 }, rem, t0, t1;
	long long slept;
	long r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		rem.tv_sec = -1;
		r = test_ymm_syscall(t->in, t->out, SYS_clock_nanosleep, CLOCK_MONOTONIC, 0,
				     (long)&req, (long)&rem);
		if (regs_check(t, "clock_nanosleep"))
			return -1;
		if (r != -EINTR)
			break;
		if (rem.tv_sec < 0 || rem.tv_sec > req.tv_sec || rem.tv_nsec >= 1000000000L) {
			snprintf(t->why, sizeof(t->why),
				 "clock_nanosleep: EINTR with remaining %lld.%09ld s, asked %lld s",
				 (long long)rem.tv_sec, rem.tv_nsec, (long long)req.tv_sec);
			return -1;
		}
		req = rem;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	slept = (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
	if (r || slept < SLEEP_S * 1000000000LL) {
		snprintf(t->why, sizeof(t->why),
			 "clock_nanosleep returned %ld after %lld ns, expected 0 after >= %d s", r,
			 slept, SLEEP_S);
		return -1;
	}
	return 0;
}

static int wait_sleep(struct thr *t)
{
	do {
		if (sleep_round(t))
			return -1;
	} while (!sh.stop);
	return 0;
}

/* After the wait: TID, mask, name, TLS and fs base as before it. */
static int state_check(struct thr *t)
{
	char path[96], *comm, name[17] = "";
	uint64_t m = kernel_mask(), sigblk = 0;
	size_t len;

	if (gettid() != t->tid) {
		snprintf(t->why, sizeof(t->why), "gettid() is %d, was %d", gettid(), t->tid);
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", t->tid);
	comm = test_read_file(path, &len);
	if (comm && strstr(comm, "\nSigBlk:"))
		sigblk = strtoull(strstr(comm, "\nSigBlk:") + 8, NULL, 16);
	free(comm);
	if (m != t->mask || sigblk != t->mask) {
		snprintf(t->why, sizeof(t->why),
			 "signal mask is %#llx (SigBlk %#llx), expected %#llx (tid %d)",
			 (unsigned long long)m, (unsigned long long)sigblk,
			 (unsigned long long)t->mask, t->tid);
		return -1;
	}
	prctl(PR_GET_NAME, name);
	snprintf(path, sizeof(path), "/proc/self/task/%d/comm", t->tid);
	comm = test_read_file(path, &len);
	if (strcmp(name, t->name) || !comm || strncmp(comm, t->name, strlen(t->name)) ||
	    comm[strlen(t->name)] != '\n') {
		snprintf(t->why, sizeof(t->why), "name is '%s' (comm '%.16s'), expected '%s'", name,
			 comm ? comm : "?", t->name);
		free(comm);
		return -1;
	}
	free(comm);
	if (tls_word != TLS_VAL(t->kind) || fs_base() != t->fsbase) {
		snprintf(t->why, sizeof(t->why),
			 "TLS word %#llx at fs base %#llx, expected %#llx at %#llx",
			 (unsigned long long)tls_word, (unsigned long long)fs_base(),
			 (unsigned long long)TLS_VAL(t->kind), (unsigned long long)t->fsbase);
		return -1;
	}
	return 0;
}

static void *thread_main(void *arg)
{
	static int (*const waits[])(struct thr *) = { wait_spin, wait_futex, wait_read,
						      wait_sleep };
	struct thr *t = arg;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, t->sig);
	if (pthread_sigmask(SIG_SETMASK, &set, NULL) || prctl(PR_SET_NAME, t->name)) {
		snprintf(t->why, sizeof(t->why), "setup: pthread_sigmask/PR_SET_NAME: %s",
			 strerror(errno));
		t->tid = -1;
		return NULL;
	}
	tls_word = TLS_VAL(t->kind);
	t->fsbase = fs_base();
	t->mask = kernel_mask();
	test_fill_pattern(t->in, sizeof(t->in), SEED + t->kind);
	t->tid = gettid();
	if (!waits[t->kind](t))
		state_check(t);
	pthread_barrier_wait(&sh.done);
	return NULL;
}

/* Setup: wait until thread t is really in its wait. 0, or -1 after fail(). */
static int wait_ready(struct thr *t)
{
	static const long nr[] = { -1, SYS_futex, SYS_read, SYS_clock_nanosleep };
	char dir[64];

	while (!t->tid || (t->kind == SPIN && !*sh.counter)) {
		if (t->tid < 0) {
			fail("setup: thread '%s' did not start its wait: %s", t->name, t->why);
			return -1;
		}
		usleep(1000);
	}
	if (t->kind == SPIN)
		return 0;
	snprintf(dir, sizeof(dir), "/proc/self/task/%d", t->tid);
	if (test_wait_syscall(dir, nr[t->kind], -1)) {
		fail_errno("setup: thread '%s' (tid %d) is not in syscall %ld", t->name, t->tid,
			   nr[t->kind]);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct thr thr[NTHR] = {
		{ .kind = SPIN, .name = "thr-spin", .sig = SIGUSR1 },
		{ .kind = FUTEX, .name = "thr-futex", .sig = SIGUSR2 },
		{ .kind = READ, .name = "thr-read", .sig = 40 },
		{ .kind = SLEEP, .name = "thr-sleep", .sig = 50 },
	};
	pid_t tids[NTHR + 1];
	uint64_t c1, c2;
	int bad = 0;

	if (test_init(argc, argv))
		return 1;
	if (!__builtin_cpu_supports("avx")) {
		skip("needs AVX (ymm0-15) in the CPU and XCR0");
		return 0;
	}
	sh.counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh.counter == MAP_FAILED || pipe(sh.pipe) ||
	    pthread_barrier_init(&sh.done, NULL, NTHR + 1)) {
		fail_errno("setup: mmap/pipe/pthread_barrier_init");
		return 1;
	}
	for (int i = 0; i < NTHR; i++) {
		errno = pthread_create(&thr[i].th, NULL, thread_main, &thr[i]);
		if (errno) {
			fail_errno("setup: pthread_create of '%s'", thr[i].name);
			return 1;
		}
	}
	for (int i = 0; i < NTHR; i++) {
		if (wait_ready(&thr[i]))
			return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	if (gettid() != getpid()) {
		fail("main thread: gettid() %d is not getpid() %d", gettid(), getpid());
		bad++;
	}
	for (int i = 0; i < NTHR; i++)
		tids[i] = thr[i].tid;
	tids[NTHR] = getpid();
	bad += test_threads_are(tids, NTHR + 1) ? 1 : 0;
	/* a busy machine may not run the spinner for a long while: wait as long as it takes
	 * (a spinner lost by the restore is caught by the time limit) */
	c1 = *sh.counter;
	while ((c2 = *sh.counter) == c1)
		usleep(10000);
	test_msg("the spinner's counter moved from %llu to %llu after SIGTERM\n",
		 (unsigned long long)c1, (unsigned long long)c2);
	sh.futex_word = FUTEX_VAL;
	syscall(SYS_futex, &sh.futex_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	if (write(sh.pipe[1], MSG, sizeof(MSG)) != (ssize_t)sizeof(MSG)) {
		fail_errno("write of the message to the reading thread");
		bad++;
	}
	sh.stop = 1;
	pthread_barrier_wait(&sh.done);
	for (int i = 0; i < NTHR; i++) {
		pthread_join(thr[i].th, NULL);
		if (thr[i].why[0]) {
			fail("thread '%s': %s", thr[i].name, thr[i].why);
			bad++;
		}
	}
	if (bad)
		return 1;
	pass();
	return 0;
}
