/* sigaltstack00: the alternate signal stack survives checkpoint/restore, even
 * while in use: the test is checkpointed inside a SA_ONSTACK handler running
 * on it. There, after the restore, sigaltstack() still says SS_ONSTACK with
 * the same base and size and the handler's frame data is intact; once the
 * handler returns (sigreturn from the frame on the alternate stack), the
 * stack is armed again (flags 0) and a second SA_ONSTACK signal runs on it.
 * The handler is entered by raise(), synchronously, so calling test_daemon()
 * and test_waitsig() from it is safe. */
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "zdtmtst.h"

#define ALTSTACK (128u << 10)
#define FRAME	 1024
#define SEED	 0xa175ac00u

/* What the handlers report back to main; handlers reach only static storage. */
static struct {
	stack_t ss;    /* the alternate stack as set up */
	int failed;    /* the waiting handler reported a failure */
	int second_on; /* the second handler ran on the alternate stack */
	int second_ran;
} st;

static int on_alt(const void *addr)
{
	uintptr_t a = (uintptr_t)addr, lo = (uintptr_t)st.ss.ss_sp;

	return a >= lo && a < lo + st.ss.ss_size;
}

/* sigaltstack() must report the stack as set up, with these flags. */
static int check_ss(const char *when, int flags)
{
	stack_t cur;

	if (sigaltstack(NULL, &cur)) {
		fail_errno("%s: sigaltstack(NULL)", when);
		return -1;
	}
	if (cur.ss_sp != st.ss.ss_sp || cur.ss_size != st.ss.ss_size || cur.ss_flags != flags) {
		fail("%s: sigaltstack is sp %p size %zu flags %#x, expected %p %zu %#x", when,
		     cur.ss_sp, cur.ss_size, (unsigned)cur.ss_flags, st.ss.ss_sp, st.ss.ss_size,
		     (unsigned)flags);
		return -1;
	}
	return 0;
}

/* SIGUSR1: runs on the alternate stack and waits there for SIGTERM. */
static void on_usr1(int sig)
{
	unsigned char data[FRAME];
	ssize_t bad;

	(void)sig;
	test_fill_pattern(data, FRAME, SEED);
	if (!on_alt(data)) {
		fail("setup: the SA_ONSTACK handler's frame %p is not on the alternate stack %p",
		     (void *)data, st.ss.ss_sp);
		st.failed = 1;
		return;
	}
	if (check_ss("setup, in the handler", SS_ONSTACK) || test_daemon()) {
		st.failed = 1;
		return;
	}
	test_waitsig();

	if (check_ss("in the handler", SS_ONSTACK)) {
		st.failed = 1;
		return;
	}
	bad = test_check_pattern(data, FRAME, SEED);
	if (bad >= 0) {
		fail("handler frame data at %p (alternate stack) differs at byte %zd: 0x%02x",
		     (void *)data, bad, data[bad]);
		st.failed = 1;
	}
}

static void on_usr2(int sig)
{
	int here;

	(void)sig;
	st.second_on = on_alt(&here);
	st.second_ran = 1;
}

static int install(int sig, void (*fn)(int))
{
	struct sigaction sa = { .sa_handler = fn, .sa_flags = SA_ONSTACK };

	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}

int main(int argc, char **argv)
{
	if (test_init(argc, argv))
		return 1;
	st.ss.ss_size = ALTSTACK;
	st.ss.ss_sp =
	    mmap(NULL, ALTSTACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (st.ss.ss_sp == MAP_FAILED || sigaltstack(&st.ss, NULL) || install(SIGUSR1, on_usr1) ||
	    install(SIGUSR2, on_usr2)) {
		fail_errno("setup: alternate stack and handlers");
		return 1;
	}
	if (check_ss("setup", 0))
		return 1;
	raise(SIGUSR1); /* returns after SIGTERM, once the handler has checked */
	if (st.failed)
		return 1;

	if (check_ss("after the handler returned", 0))
		return 1;
	raise(SIGUSR2);
	if (!st.second_ran || !st.second_on) {
		fail("a SA_ONSTACK handler after the restore %s",
		     st.second_ran ? "ran off the alternate stack" : "did not run");
		return 1;
	}
	pass();
	return 0;
}
