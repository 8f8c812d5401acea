/* test_core_regs: restore_core_regs() end to end, by moving a thread's CPU state from one child
 * into another.
 *
 * Two children A and B are forked from the same call site, so their code, stack addresses and
 * stack layout are identical; they differ only in the values they loaded (registers, sleep
 * length). A is dumped with dump_core() and killed; A's core is then restored into B with
 * restore_core_regs() and B released: from then on B runs on A's registers, so what B reports
 * is A's state, kept across the move.
 * - xstate: A and B load different patterns into zmm0-31 and k1-7 and block in read(); after
 *   the move B stores its vector registers: they must be A's pattern (and the dumped xstate
 *   must hold it at the offsets CPUID gives).
 * - sleep: A sleeps 2 s, B 100 s, in nanosleep or a relative clock_nanosleep (directly, or in
 *   restart_syscall after a first interruption). A's remaining time is copied into B's rem
 *   buffer (what restore-mm does); B must then return 0 after that remaining time, not after its
 *   own 100 s, and not at once with EINTR. Also: less than 20 ms left (returns 0 at once), no
 *   rem buffer and poll() (both return EINTR).
 * Needs root.
 */
#include <cpuid.h>
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "criu-lite/kinds/core.h"
#include "criu-lite/log.h"
#include "criu-lite/restore/restore.h"
#include "criu-lite/rsys.h"

#include "core_fixture.h"

#define KID_FD	   100 /* both children read from this fd number */
#define NSEC	   1000000000L
#define A_SLEEP_NS (2 * NSEC)
#define B_SLEEP_NS (100 * NSEC)
#define ZMM_BYTES  (32 * 64)

enum sleep_mode { M_NANOSLEEP, M_CLOCK, M_NULL, M_POLL };

/* MAP_SHARED between the test and its children */
struct shared {
	uint8_t src[2][ZMM_BYTES + 8 * 8]; /* zmm0-31, then k0-7 (k0 unused) */
	uint8_t dst[ZMM_BYTES + 8 * 8];
	volatile pid_t pid; /* who wrote the results */
	volatile long ret;
	volatile int err;
	volatile long end_ns; /* CLOCK_MONOTONIC when the sleep returned */
};

static struct shared *sh;

static long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC + ts.tv_nsec;
}

/* ---- children ------------------------------------------------------------------------------ */

#define LD(i)  "vmovdqu64 " #i "*64(%[src]), %%zmm" #i "\n\t"
#define ST(i)  "vmovdqu64 %%zmm" #i ", " #i "*64(%[dst])\n\t"
#define LDK(i) "kmovq " #i "*8+2048(%[src]), %%k" #i "\n\t"
#define STK(i) "kmovq %%k" #i ", " #i "*8+2048(%[dst])\n\t"

/* Every vector register holds src's pattern across a read(KID_FD) and is then stored to dst. */
static __attribute__((noinline, target("avx512f,avx512bw"))) void vector_kid(const uint8_t *src,
									     uint8_t *dst)
{
	long rax = SYS_read;
	char c;

	/* clang-format off */
	__asm__ volatile(
		LD(0) LD(1) LD(2) LD(3) LD(4) LD(5) LD(6) LD(7)
		LD(8) LD(9) LD(10) LD(11) LD(12) LD(13) LD(14) LD(15)
		LD(16) LD(17) LD(18) LD(19) LD(20) LD(21) LD(22) LD(23)
		LD(24) LD(25) LD(26) LD(27) LD(28) LD(29) LD(30) LD(31)
		LDK(1) LDK(2) LDK(3) LDK(4) LDK(5) LDK(6) LDK(7)
		"syscall\n\t"
		ST(0) ST(1) ST(2) ST(3) ST(4) ST(5) ST(6) ST(7)
		ST(8) ST(9) ST(10) ST(11) ST(12) ST(13) ST(14) ST(15)
		ST(16) ST(17) ST(18) ST(19) ST(20) ST(21) ST(22) ST(23)
		ST(24) ST(25) ST(26) ST(27) ST(28) ST(29) ST(30) ST(31)
		STK(1) STK(2) STK(3) STK(4) STK(5) STK(6) STK(7)
		: "+a"(rax)
		: [src] "r"(src), [dst] "r"(dst), "D"((long)KID_FD), "S"(&c), "d"(1L)
		: "rcx", "r11", "memory",
		  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
		  "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15",
		  "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23",
		  "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31",
		  "k1", "k2", "k3", "k4", "k5", "k6", "k7");
	/* clang-format on */
	sh->pid = getpid();
	_exit(rax == 1 ? 0 : 3);
}

static __attribute__((noinline)) void sleep_kid(enum sleep_mode mode, long req_ns)
{
	struct timespec req = { req_ns / NSEC, req_ns % NSEC }, rem = { 0, 0 };
	long r = -1;

	switch (mode) {
	case M_NANOSLEEP:
		r = syscall(SYS_nanosleep, &req, &rem);
		break;
	case M_CLOCK:
		r = syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &req, &rem);
		break;
	case M_NULL:
		r = syscall(SYS_nanosleep, &req, NULL);
		break;
	case M_POLL:
		r = syscall(SYS_poll, NULL, 0, (int)(req_ns / 1000000));
		break;
	}
	sh->err = errno;
	sh->end_ns = now_ns();
	sh->ret = r;
	sh->pid = getpid();
	_exit(0);
}

/* Both children of a test are forked here, from the same stack depth. */
static __attribute__((noinline)) pid_t spawn(struct core_fx *f, int which, enum sleep_mode mode,
					     long req_ns, int *pipe_w)
{
	int p[2] = { -1, -1 };
	pid_t pid;

	if (pipe_w)
		assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (pipe_w) {
			if (dup2(p[0], KID_FD) != KID_FD)
				_exit(2);
			vector_kid(sh->src[which], sh->dst);
		}
		sleep_kid(mode, req_ns);
	}
	cfx_track(f, pid);
	if (pipe_w) {
		close(p[0]);
		*pipe_w = p[1];
	}
	return pid;
}

/* Its wait status; fails the test if it has not exited within timeout_ms. */
static int reap(pid_t pid, long timeout_ms)
{
	int status = -1;

	for (long end = cfx_now_ms() + timeout_ms; cfx_now_ms() < end; usleep(1000)) {
		pid_t r = waitpid(pid, &status, __WALL | WNOHANG);

		assert_true(r >= 0);
		if (r == pid)
			return status;
	}
	fail_msg("pid %d still runs after %ld ms", pid, timeout_ms);
	return -1;
}

/* Restore A's core into the seized B (leaving it seized) and time it. */
static void move_into(struct core_fx *f, CoreEntry *core, pid_t b, struct seized_task *st)
{
	struct restore_ctx rc = { .o = &f->o };
	struct restore_task t = { 0 };
	pid_t tids[1] = { b };

	rc.kd = f->kd;
	t.pid = t.vpid = b;
	t.sk.pid = b;
	t.core = core;
	t.st = *st;
	t.tids = tids; /* restore_core() records them when it makes the threads */
	assert_int_equal(restore_core_regs(&rc, &t), 0);
}

/* ---- xstate -------------------------------------------------------------------------------- */

static uint32_t xsave_offset(int feature)
{
	unsigned int a, b, c, d;

	__cpuid_count(0xd, feature, a, b, c, d);
	return b;
}

/* zmm i as the dumped standard-format XSAVE image holds it. */
static void zmm_from_xstate(const uint8_t *xs, int i, uint8_t out[64])
{
	if (i < 16) {
		memcpy(out, xs + 160 + 16 * i, 16);		     /* SSE: legacy area */
		memcpy(out + 16, xs + xsave_offset(2) + 16 * i, 16); /* AVX: ymm upper */
		memcpy(out + 32, xs + xsave_offset(6) + 32 * i, 32); /* ZMM_Hi256 */
	} else {
		memcpy(out, xs + xsave_offset(7) + 64 * (i - 16), 64); /* Hi16_ZMM */
	}
}

static void test_xstate(void **state)
{
	struct core_fx *f = *state;
	struct seized_task sa, sb;
	CoreEntry *core;
	uint8_t zmm[64];
	int wa, wb, status;
	pid_t a, b;

	cfx_need_root();
	if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") ||
	    (f->kd.xcr0 & 0xe0) != 0xe0) {
		print_message("skipped: the CPU has no AVX-512 (F, BW, and its xstate)\n");
		skip();
	}
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < sizeof(sh->src[k]); i++)
			sh->src[k][i] = (uint8_t)(i * 13 + 7 + k * 101);
	a = spawn(f, 0, 0, 0, &wa);
	b = spawn(f, 1, 0, 0, &wb);
	assert_true(cfx_wait_syscall(a, SYS_read, 5000));
	assert_true(cfx_wait_syscall(b, SYS_read, 5000));

	assert_int_equal(seize_task(a, 0, &sa), 0);
	assert_int_equal(cfx_dump(f, &sa, &core), 0);
	cfx_kill(&sa, a);
	for (int i = 0; i < 32; i++) {
		zmm_from_xstate(core->threads[0]->xstate.data, i, zmm);
		assert_memory_equal(zmm, sh->src[0] + 64 * i, 64);
	}

	assert_int_equal(seize_task(b, 0, &sb), 0);
	move_into(f, core, b, &sb);
	assert_int_equal(seize_release(&sb, RELEASE_RESUME), 0);
	assert_int_equal(write(wb, "x", 1), 1); /* read() restarted in B returns */
	status = reap(b, 5000);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(sh->pid, b);
	assert_memory_equal(sh->dst, sh->src[0], ZMM_BYTES);
	assert_memory_equal(sh->dst + ZMM_BYTES + 8, sh->src[0] + ZMM_BYTES + 8, 7 * 8); /* k1-7 */
	close(wa);
	close(wb);
	core_entry__free_unpacked(core, NULL);
}

/* ---- sleeps -------------------------------------------------------------------------------- */

struct sleep_case {
	enum sleep_mode mode;
	bool restart_first; /* interrupt A once before the dump: it sleeps in restart_syscall */
	long left_ns;	    /* > 0: put this remaining time into B instead of A's */
	bool want_eintr;
};

static long sleep_nr(enum sleep_mode m)
{
	return m == M_CLOCK ? SYS_clock_nanosleep : m == M_POLL ? SYS_poll : SYS_nanosleep;
}

static void run_sleep(struct core_fx *f, const struct sleep_case *sc)
{
	struct seized_task sa, sb;
	struct timespec left = { 0, 0 };
	const ThreadCoreEntry *te;
	CoreEntry *core;
	uint64_t rem;
	long t0, slept;
	pid_t a, b;

	cfx_need_root();
	assert_int_equal(log_init(f->log, LOG_INFO), 0);
	sh->pid = 0;
	a = spawn(f, 0, sc->mode, A_SLEEP_NS, NULL);
	b = spawn(f, 1, sc->mode, B_SLEEP_NS, NULL);
	assert_true(cfx_wait_syscall(a, sleep_nr(sc->mode), 5000));
	assert_true(cfx_wait_syscall(b, sleep_nr(sc->mode), 5000));
	if (sc->restart_first) {
		assert_int_equal(seize_task(a, 0, &sa), 0);
		assert_int_equal(seize_release(&sa, RELEASE_RESUME), 0);
		assert_true(cfx_wait_syscall(a, CORE_NR_RESTART_SYSCALL, 5000));
	}
	usleep(300000);
	assert_int_equal(seize_task(a, 0, &sa), 0);
	assert_int_equal(cfx_dump(f, &sa, &core), 0);
	te = core->threads[0];
	assert_int_equal((int64_t)te->regs->ax, -RSYS_ERESTART_RESTARTBLOCK);
	if (sc->restart_first) {
		assert_int_equal(te->syscall_nr, CORE_NR_RESTART_SYSCALL);
		assert_true(te->has_restart_nr);
		assert_int_equal(te->restart_nr, sleep_nr(sc->mode));
	} else {
		assert_int_equal(te->syscall_nr, sleep_nr(sc->mode));
	}
	rem = sc->mode == M_CLOCK ? te->regs->r10 : te->regs->si;
	if (sc->mode == M_NANOSLEEP || sc->mode == M_CLOCK)
		assert_int_equal(core_peek(a, rem, &left, sizeof(left)), 0);
	cfx_kill(&sa, a);

	/* B gets A's memory where it matters: the remaining time (B's rem is at the same place) */
	assert_int_equal(seize_task(b, 0, &sb), 0);
	if (sc->left_ns) {
		left.tv_sec = sc->left_ns / NSEC;
		left.tv_nsec = sc->left_ns % NSEC;
	}
	if (rem) {
		struct iovec l = { &left, sizeof(left) },
			     r = { (void *)(uintptr_t)rem, sizeof(left) };

		assert_int_equal(process_vm_writev(b, &l, 1, &r, 1, 0), sizeof(left));
	}
	t0 = now_ns();
	move_into(f, core, b, &sb);
	assert_int_equal(seize_release(&sb, RELEASE_RESUME), 0);
	assert_int_equal(reap(b, A_SLEEP_NS / 1000000 + 2000), 0);
	assert_int_equal(sh->pid, b);
	slept = sh->end_ns - t0;
	print_message("mode %d%s: %ld ms were left, B returned %ld (errno %d) after %ld ms\n",
		      sc->mode, sc->restart_first ? " (in restart_syscall)" : "",
		      (long)(left.tv_sec * 1000 + left.tv_nsec / 1000000), sh->ret, sh->err,
		      slept / 1000000);
	if (sc->want_eintr) {
		assert_int_equal(sh->ret, -1);
		assert_int_equal(sh->err, EINTR);
		assert_true(slept < 200 * 1000000L);
	} else {
		long want = left.tv_sec * NSEC + left.tv_nsec;

		assert_int_equal(sh->ret, 0);
		assert_true(want > 0);
		assert_true(slept >= want - 1000000L); /* the deadline: restore time + remaining */
		assert_true(slept < want + 300 * 1000000L);
	}
	core_entry__free_unpacked(core, NULL);
}

static void test_nanosleep(void **state)
{
	const struct sleep_case sc = { .mode = M_NANOSLEEP };

	run_sleep(*state, &sc);
	assert_true(cfx_log_has(((struct core_fx *)*state)->log, "goes on for the"));
}

static void test_clock_nanosleep(void **state)
{
	const struct sleep_case sc = { .mode = M_CLOCK };

	run_sleep(*state, &sc);
}

static void test_nanosleep_restarted(void **state)
{
	const struct sleep_case sc = { .mode = M_NANOSLEEP, .restart_first = true };

	run_sleep(*state, &sc);
}

static void test_clock_nanosleep_restarted(void **state)
{
	const struct sleep_case sc = { .mode = M_CLOCK, .restart_first = true };

	run_sleep(*state, &sc);
}

static void test_short_sleep(void **state)
{
	const struct sleep_case sc = { .mode = M_NANOSLEEP, .left_ns = 5000000L };

	run_sleep(*state, &sc);
	assert_true(cfx_log_has(((struct core_fx *)*state)->log, "slept here, it returns 0"));
}

static void test_no_rem(void **state)
{
	const struct sleep_case sc = { .mode = M_NULL, .want_eintr = true };

	run_sleep(*state, &sc);
	assert_true(cfx_log_has(((struct core_fx *)*state)->log,
				"has no buffer for the remaining time: it returns EINTR"));
}

static void test_poll(void **state)
{
	const struct sleep_case sc = { .mode = M_POLL, .want_eintr = true };

	run_sleep(*state, &sc);
	assert_true(
	    cfx_log_has(((struct core_fx *)*state)->log,
			"was interrupted in poll, whose restart state is kept in the kernel"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_xstate, core_fx_setup, core_fx_teardown),
		cmocka_unit_test_setup_teardown(test_nanosleep, core_fx_setup, core_fx_teardown),
		cmocka_unit_test_setup_teardown(test_clock_nanosleep, core_fx_setup,
						core_fx_teardown),
		cmocka_unit_test_setup_teardown(test_nanosleep_restarted, core_fx_setup,
						core_fx_teardown),
		cmocka_unit_test_setup_teardown(test_clock_nanosleep_restarted, core_fx_setup,
						core_fx_teardown),
		cmocka_unit_test_setup_teardown(test_short_sleep, core_fx_setup, core_fx_teardown),
		cmocka_unit_test_setup_teardown(test_no_rem, core_fx_setup, core_fx_teardown),
		cmocka_unit_test_setup_teardown(test_poll, core_fx_setup, core_fx_teardown),
	};
	int ret;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	log_init(NULL, getenv("TEST_CORE_DEBUG") ? LOG_DEBUG : LOG_WARN);
	alarm(120); /* a hung ptrace wait must not hang the suite */
	ret = cmocka_run_group_tests_name("core_regs", tests, NULL, NULL);
	munmap(sh, sizeof(*sh));
	return ret;
}
