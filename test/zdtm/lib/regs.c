/* regs: vector registers held across a wait, for tests that check a restore
 * gives each thread back its own extended state. One asm block loads
 * ymm0-15, waits (one raw syscall, or a spin loop), and stores ymm0-15, so
 * no libc code runs between the load and the store. AVX code lives only in
 * these functions (target attribute): callers check for AVX first. */
#include <stdint.h>

#include "zdtmtst.h"

#define LY(n)	 "vmovdqu " #n "*32(%[in]), %%ymm" #n "\n\t"
#define SY(n)	 "vmovdqu %%ymm" #n ", " #n "*32(%[out])\n\t"
#define X8(M, b) M(b##0) M(b##1) M(b##2) M(b##3) M(b##4) M(b##5) M(b##6) M(b##7)
#define ALL16(M) X8(M, ) M(8) M(9) M(10) M(11) M(12) M(13) M(14) M(15)
#define CLOB16                                                                                   \
	"xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", \
	    "xmm11", "xmm12", "xmm13", "xmm14", "xmm15"

__attribute__((target("avx"), noinline)) long test_ymm_syscall(const void *in, void *out, long nr,
							       long a1, long a2, long a3, long a4)
{
	register long r10 __asm__("r10") = a4;
	long ret = nr;

	/* clang-format off */
	asm volatile(ALL16(LY) "syscall\n\t" ALL16(SY) "vzeroupper\n\t"
		     : "+a"(ret)
		     : [in] "r"(in), [out] "r"(out), "D"(a1), "S"(a2), "d"(a3), "r"(r10)
		     : "rcx", "r11", "memory", CLOB16);
	/* clang-format on */
	return ret;
}

__attribute__((target("avx"), noinline)) void
test_ymm_spin(const void *in, void *out, volatile uint64_t *counter, volatile int *stop)
{
	/* clang-format off */
	asm volatile(ALL16(LY)
		     "1:\n\t"
		     "incq (%[ctr])\n\t"
		     "pause\n\t"
		     "cmpl $0, (%[stop])\n\t"
		     "je 1b\n\t"
		     ALL16(SY) "vzeroupper\n\t"
		     :
		     : [in] "r"(in), [out] "r"(out), [ctr] "r"(counter), [stop] "r"(stop)
		     : "memory", "cc", CLOB16);
	/* clang-format on */
}
