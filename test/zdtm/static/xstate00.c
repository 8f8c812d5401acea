/* xstate00: the extended register state survives checkpoint/restore: the
 * x87 stack (8 distinct 80-bit values), the x87 control and status words,
 * MXCSR, zmm0-31 (so xmm and ymm too) and the mask registers k0-7.
 *
 * One asm block loads every register with its own pattern, waits for
 * SIGTERM with raw rt_sigsuspend() syscalls (no libc: libc would clobber
 * vector registers; the kernel saves and restores the interrupted context
 * around the SIGTERM handler), then stores every register and puts the
 * caller's control words back. A dry run without the wait first proves the
 * asm itself round-trips. Assumption: the runner checkpoints after the
 * pidfile appears; test_daemon() is the last call before the asm block, so
 * the registers are loaded microseconds after that, long before a dump can
 * seize the task. AVX-512 code is only in regs_wait() (target attribute),
 * so the test skips cleanly on a CPU without it. */
#include <signal.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "zdtmtst.h"

#define SEED	 0x0a5e0000u
#define TEST_FCW 0x0a7f /* all exceptions masked, double precision, round up */
/* FTZ, round up, all exceptions masked, DAZ, sticky PE and IE flags set */
#define TEST_MXCSR 0xdfe1u

struct xregs {
	uint8_t zmm[32][64];   /* 0 */
	uint64_t k[8];	       /* 2048 */
	uint8_t st[8][16];     /* 2112: st(i) in the low 10 bytes */
	uint16_t fcw;	       /* 2240 */
	uint16_t fsw;	       /* 2242: status word after the loads (in) / after the wait (out) */
	uint32_t mxcsr;	       /* 2244 */
	uint16_t caller_fcw;   /* 2248 */
	uint16_t fsw_loaded;   /* 2250: status word right after the loads */
	uint32_t caller_mxcsr; /* 2252 */
} __attribute__((aligned(64)));

_Static_assert(offsetof(struct xregs, k) == 2048, "k");
_Static_assert(offsetof(struct xregs, st) == 2112, "st");
_Static_assert(offsetof(struct xregs, fcw) == 2240, "fcw");
_Static_assert(offsetof(struct xregs, mxcsr) == 2244, "mxcsr");
_Static_assert(offsetof(struct xregs, caller_fcw) == 2248, "caller_fcw");
_Static_assert(offsetof(struct xregs, caller_mxcsr) == 2252, "caller_mxcsr");

/* Set by the SIGTERM handler; the asm loop polls it. */
static volatile sig_atomic_t got_term;

static void on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

#define LZ(n)	  "vmovdqu64 " #n "*64(%[in]), %%zmm" #n "\n\t"
#define SZ(n)	  "vmovdqu64 %%zmm" #n ", " #n "*64(%[out])\n\t"
#define LK(n)	  "kmovq 2048+" #n "*8(%[in]), %%k" #n "\n\t"
#define SK(n)	  "kmovq %%k" #n ", 2048+" #n "*8(%[out])\n\t"
#define LST(n)	  "fldt 2112+" #n "*16(%[in])\n\t"
#define SST(n)	  "fstpt 2112+" #n "*16(%[out])\n\t"
#define X8(M, b)  M(b##0) M(b##1) M(b##2) M(b##3) M(b##4) M(b##5) M(b##6) M(b##7)
#define X10(M, b) X8(M, b) M(b##8) M(b##9)
#define ALL32(M)  X10(M, ) X10(M, 1) X10(M, 2) M(30) M(31)
#define CLOB8(r)  r "0", r "1", r "2", r "3", r "4", r "5", r "6", r "7"
#define CLOB10(r) CLOB8(r), r "8", r "9"

/* Load in, wait until *flag (sleeping in rt_sigsuspend(mask)), store out. */
static __attribute__((target("avx512f,avx512bw"), noinline)) void
regs_wait(const struct xregs *in, struct xregs *out, volatile sig_atomic_t *flag, uint64_t *mask)
{
	/* one instruction a line: */
	/* clang-format off */
	asm volatile(
		/* the caller's control words, to put back at the end */
		"fnstcw 2248(%[out])\n\t"
		"stmxcsr 2252(%[out])\n\t"
		ALL32(LZ) X8(LK, )
		/* st(7) first: st(0) ends up holding slot 0 */
		LST(7) LST(6) LST(5) LST(4) LST(3) LST(2) LST(1) LST(0)
		"fldcw 2240(%[in])\n\t"
		"ldmxcsr 2244(%[in])\n\t"
		"fnstsw 2250(%[out])\n\t"
		"1:\n\t"
		"cmpl $0, (%[flag])\n\t"
		"jne 2f\n\t"
		"movl $130, %%eax\n\t" /* __NR_rt_sigsuspend(mask, 8) */
		"syscall\n\t"
		"jmp 1b\n\t"
		"2:\n\t"
		"fnstsw 2242(%[out])\n\t"
		"fnstcw 2240(%[out])\n\t"
		"stmxcsr 2244(%[out])\n\t"
		SST(0) SST(1) SST(2) SST(3) SST(4) SST(5) SST(6) SST(7)
		ALL32(SZ) X8(SK, )
		"fldcw 2248(%[out])\n\t"
		"ldmxcsr 2252(%[out])\n\t"
		"vzeroupper\n\t"
		:
		: [in] "r"(in), [out] "r"(out), [flag] "r"(flag), "D"(mask), "S"(8ul)
		: "rax", "rcx", "r11", "memory", "cc", CLOB10("xmm"), CLOB10("xmm1"),
		  CLOB10("xmm2"), "xmm30", "xmm31", CLOB8("k"));
	/* clang-format on */
}

static void fill_in(struct xregs *in)
{
	memset(in, 0, sizeof(*in));
	test_fill_pattern(in->zmm, sizeof(in->zmm), SEED);
	test_fill_pattern(in->k, sizeof(in->k), SEED + 1);
	for (int i = 0; i < 8; i++) {
		long double v = (long double)(i + 1) * 1.000000123456789L + 1.0L / (i + 3);

		memcpy(in->st[i], &v, 10);
	}
	in->fcw = TEST_FCW;
	in->mxcsr = TEST_MXCSR;
}

static int differs(const char *what, const void *seen, const void *exp, size_t len)
{
	const uint8_t *s = seen, *e = exp;

	for (size_t off = 0; off < len; off += 8) {
		uint64_t sw = 0, ew = 0;
		size_t n = len - off < 8 ? len - off : 8;

		memcpy(&sw, s + off, n);
		memcpy(&ew, e + off, n);
		if (sw != ew) {
			fail("%s bytes %zu..%zu: 0x%016llx, expected 0x%016llx", what, off,
			     off + n - 1, (unsigned long long)sw, (unsigned long long)ew);
			return 1;
		}
	}
	return 0;
}

/* Every register of out against in; returns how many differ. */
static int compare(const char *when, const struct xregs *in, const struct xregs *out)
{
	char what[64];
	int bad = 0;

	for (int i = 0; i < 32; i++) {
		snprintf(what, sizeof(what), "%szmm%d", when, i);
		bad += differs(what, out->zmm[i], in->zmm[i], 64);
	}
	for (int i = 0; i < 8; i++) {
		snprintf(what, sizeof(what), "%sk%d", when, i);
		bad += differs(what, &out->k[i], &in->k[i], 8);
		snprintf(what, sizeof(what), "%sst(%d)", when, i);
		bad += differs(what, out->st[i], in->st[i], 10);
	}
	snprintf(what, sizeof(what), "%sx87 control word", when);
	bad += differs(what, &out->fcw, &in->fcw, 2);
	snprintf(what, sizeof(what), "%sx87 status word", when);
	bad += differs(what, &out->fsw, &out->fsw_loaded, 2);
	snprintf(what, sizeof(what), "%sMXCSR", when);
	bad += differs(what, &out->mxcsr, &in->mxcsr, 4);
	return bad;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_term };
	static struct xregs in, out; /* static: 4.5 KiB, aligned, zeroed */
	uint64_t mask = 0;
	sigset_t set;
	int bad;

	if (test_init(argc, argv))
		return 1;
	if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw")) {
		skip("needs AVX-512F and AVX-512BW (zmm0-31, 64-bit k0-7) in the CPU and XCR0");
		return 0;
	}
	fill_in(&in);
	/* dry run: the flag is already set, so no wait */
	got_term = 1;
	regs_wait(&in, &out, &got_term, &mask);
	if (compare("setup (no wait): ", &in, &out))
		return 1;
	memset(&out, 0, sizeof(out));
	got_term = 0;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) || sigprocmask(SIG_BLOCK, NULL, &set)) {
		fail_errno("setup: sigaction/sigprocmask");
		return 1;
	}
	sigdelset(&set, SIGTERM);
	memcpy(&mask, &set, sizeof(mask)); /* the kernel's 64-bit sigset */
	if (test_daemon())
		return 1;
	regs_wait(&in, &out, &got_term, &mask);

	bad = compare("", &in, &out);
	if (bad) {
		fail("%d registers differ after the wait", bad);
		return 1;
	}
	pass();
	return 0;
}
