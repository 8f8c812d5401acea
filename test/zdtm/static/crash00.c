/* crash00: a dump that dies in the middle leaves the tree exactly as it was (tests.desc kills=
 * and killrand=: the runner SIGKILLs criu-lite at every dump step and at random moments, then
 * dumps and restores it for real). What the test holds, and checks after SIGTERM:
 *  - a reader thread blocked in read() on a pipe, with a pattern in ymm0-15 around the call
 *    (test_ymm_syscall): the read must return exactly the bytes written after SIGTERM, never
 *    an error or a number an injected syscall left in rax, and the ymm registers must be intact;
 *  - a signal mask of its own (SIGUSR2 and SIGHUP blocked) in both threads, read back with
 *    sigprocmask / pthread_sigmask;
 *  - a SIGUSR1 handler: a SIGUSR1 sent after SIGTERM must run it (nothing left blocked);
 *  - a timer slack of its own in both threads (the dump resets it for a moment to read the
 *    default), read back with PR_GET_TIMERSLACK;
 *  - 4 MiB of patterned memory, and /proc/self/maps as it was (no mapping left behind: the
 *    dump maps a probe page for a moment). */
#include <errno.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

#define MSG	     "crash00: written after SIGTERM"
#define MEM	     (4 << 20)
#define SEED	     0xc4a5400ull
#define SLACK_MAIN   123457ul
#define SLACK_READER 234567ul

static int p[2];
static volatile sig_atomic_t usr1;
static uint8_t ymm_in[16 * 32], ymm_out[16 * 32];
static char got[64];
static long got_n;
static sigset_t want_mask;
static int reader_mask_ok = -1;
static volatile pid_t reader_tid;
static long reader_slack = -1;

static void on_usr1(int sig)
{
	(void)sig;
	usr1++;
}

static void *reader(void *arg)
{
	sigset_t now;

	(void)arg;
	if (prctl(PR_SET_TIMERSLACK, SLACK_READER, 0, 0, 0))
		return NULL;
	reader_tid = (pid_t)syscall(SYS_gettid);
	got_n = test_ymm_syscall(ymm_in, ymm_out, SYS_read, p[0], (long)got, sizeof(got), 0);
	reader_mask_ok = !pthread_sigmask(SIG_BLOCK, NULL, &now) && sigismember(&now, SIGUSR2) &&
			 sigismember(&now, SIGHUP) && !sigismember(&now, SIGUSR1);
	reader_slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	char *before, *after, dir[64];
	size_t blen, alen;
	pthread_t th;
	sigset_t now;
	uint8_t *mem;
	ssize_t off;

	if (test_init(argc, argv))
		return 1;
	if (!__builtin_cpu_supports("avx")) {
		skip("no AVX: the ymm registers around the read can't be checked");
		return 0;
	}
	sigemptyset(&want_mask);
	sigaddset(&want_mask, SIGUSR2);
	sigaddset(&want_mask, SIGHUP);
	for (int i = 0; i < (int)sizeof(ymm_in); i++)
		ymm_in[i] = (uint8_t)(i * 7 + 3);
	mem = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED || pipe(p) || sigaction(SIGUSR1, &sa, NULL) ||
	    prctl(PR_SET_TIMERSLACK, SLACK_MAIN, 0, 0, 0) ||
	    sigprocmask(SIG_BLOCK, &want_mask, NULL)) {
		fail_errno("setup");
		return 1;
	}
	test_fill_pattern(mem, MEM, SEED);
	if (pthread_create(&th, NULL, reader, NULL)) {
		fail_errno("setup: the reader thread");
		return 1;
	}
	while (!reader_tid)
		usleep(1000);
	snprintf(dir, sizeof(dir), "/proc/self/task/%d", (int)reader_tid);
	if (test_wait_syscall(dir, SYS_read, -1)) { /* no limit but the runner's */
		fail_errno("setup: the reader never reached read()");
		return 1;
	}
	free(test_read_maps(&blen));
	before = test_read_maps(&blen);
	if (!before) {
		fail_errno("setup: read /proc/self/maps");
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	after = test_read_maps(&alen);
	if (!after || test_maps_same("/proc/self/maps", before, after))
		return 1;
	if (sigprocmask(SIG_BLOCK, NULL, &now) || !sigismember(&now, SIGUSR2) ||
	    !sigismember(&now, SIGHUP) || sigismember(&now, SIGUSR1)) {
		fail("the main thread's signal mask changed");
		return 1;
	}
	if (prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0) != (int)SLACK_MAIN) {
		fail("the main thread's timer slack is %d ns, expected %lu",
		     prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0), SLACK_MAIN);
		return 1;
	}
	if (kill(getpid(), SIGUSR1)) {
		fail_errno("kill SIGUSR1");
		return 1;
	}
	while (!usr1) /* delivered at the latest on the return of a syscall */
		usleep(1000);
	if (write(p[1], MSG, sizeof(MSG)) != (ssize_t)sizeof(MSG) || pthread_join(th, NULL)) {
		fail_errno("write to the reader, or join it");
		return 1;
	}
	if (got_n != (long)sizeof(MSG) || memcmp(got, MSG, sizeof(MSG))) {
		fail("the reader's read() returned %ld (\"%.*s\"), expected %zu bytes of \"%s\"",
		     got_n, got_n > 0 && got_n < (long)sizeof(got) ? (int)got_n : 0, got,
		     sizeof(MSG), MSG);
		return 1;
	}
	if (memcmp(ymm_in, ymm_out, sizeof(ymm_in))) {
		fail("the reader's ymm registers changed across its read()");
		return 1;
	}
	if (reader_slack != (long)SLACK_READER) {
		fail("the reader's timer slack is %ld ns, expected %lu", reader_slack,
		     SLACK_READER);
		return 1;
	}
	if (reader_mask_ok != 1) {
		fail("the reader's signal mask changed");
		return 1;
	}
	off = test_check_pattern(mem, MEM, SEED);
	if (off >= 0) {
		fail("memory differs at byte %zd", off);
		return 1;
	}
	pass();
	return 0;
}
