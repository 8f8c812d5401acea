/* sigaction00: signal dispositions survive checkpoint/restore: sigaction()
 * of every signal returns what it returned before (handler, flags, restorer,
 * mask), and each handler still fires: with the right siginfo (SA_SIGINFO),
 * on the alternate stack (SA_ONSTACK), with its sa_mask and, unless
 * SA_NODEFER, its own signal blocked; SA_RESETHAND resets to SIG_DFL after
 * one delivery; an ignored SIGPIPE stays ignored. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"

#define NSIG_K	   64 /* the kernel's signals: 1..64 */
#define ALTSTACK   (64u << 10)
#define VALUE(sig) ((sig)*1000 + 7)

/* What a handler saw: only static storage is reachable from a handler. */
static struct hit {
	volatile sig_atomic_t n;
	int code, value, onstack;
	pid_t pid;
	uint64_t blocked;
} hits[NSIG_K + 1];

static struct {
	uintptr_t lo, hi;
} alt;

static uint64_t mask_bits(const sigset_t *s)
{
	uint64_t m = 0;

	for (int sig = 1; sig <= NSIG_K; sig++) {
		if (sigismember(s, sig) == 1)
			m |= 1ull << (sig - 1);
	}
	return m;
}

static void record(int sig, const siginfo_t *si)
{
	struct hit *h = &hits[sig];
	uintptr_t here = (uintptr_t)&h; /* an address in this frame */
	sigset_t cur;

	sigprocmask(SIG_BLOCK, NULL, &cur);
	h->blocked = mask_bits(&cur);
	h->onstack = here >= alt.lo && here < alt.hi;
	if (si) {
		h->code = si->si_code;
		h->pid = si->si_pid;
		h->value = si->si_value.sival_int;
	}
	h->n++;
}

static void on_info(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	record(sig, si);
}

static void on_plain(int sig)
{
	record(sig, NULL);
}

#define B(sig) (1ull << ((sig)-1))

/* The handlers the test installs; sa_mask as a bit mask of signals. */
static const struct setup {
	int sig;
	int flags;
	uint64_t mask;
} setups[] = {
	{ SIGUSR1, SA_SIGINFO | SA_RESTART, B(SIGUSR2) | B(37) },
	{ SIGUSR2, SA_ONSTACK, B(SIGHUP) },
	{ SIGHUP, SA_SIGINFO | SA_RESETHAND, 0 },
	{ SIGWINCH, SA_NODEFER, 0 },
	{ 36, SA_SIGINFO | SA_RESTART | SA_ONSTACK | SA_NODEFER, B(SIGUSR1) | B(64) },
	{ 64, SA_SIGINFO, ~0ull },
};

#define NSETUPS ((int)(sizeof(setups) / sizeof(setups[0])))

static int install(const struct setup *s)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	for (int sig = 1; sig <= NSIG_K; sig++) {
		if (s->mask & B(sig))
			sigaddset(&sa.sa_mask, sig);
	}
	sa.sa_flags = s->flags;
	if (s->flags & SA_SIGINFO)
		sa.sa_sigaction = on_info;
	else
		sa.sa_handler = on_plain;
	return sigaction(s->sig, &sa, NULL);
}

/* sigaction() of every signal; errno for those glibc refuses (32, 33). */
static void query_all(struct sigaction *acts, int *errs)
{
	for (int sig = 1; sig <= NSIG_K; sig++) {
		memset(&acts[sig], 0, sizeof(acts[sig]));
		errs[sig] = sigaction(sig, NULL, &acts[sig]) ? errno : 0;
	}
}

static int compare_all(const struct sigaction *was, const int *was_err)
{
	struct sigaction now[NSIG_K + 1];
	int err[NSIG_K + 1], bad = 0;

	query_all(now, err);
	for (int sig = 1; sig <= NSIG_K; sig++) {
		const struct sigaction *a = &now[sig], *b = &was[sig];

		if (err[sig] != was_err[sig]) {
			fail("sigaction(%d) failed with errno %d, expected errno %d", sig, err[sig],
			     was_err[sig]);
			bad++;
		} else if (a->sa_handler != b->sa_handler || a->sa_flags != b->sa_flags ||
			   a->sa_restorer != b->sa_restorer ||
			   mask_bits(&a->sa_mask) != mask_bits(&b->sa_mask)) {
			fail("signal %d (%s): handler %p flags %#x restorer %p mask %#llx, "
			     "expected handler %p flags %#x restorer %p mask %#llx",
			     sig, strsignal(sig), (void *)a->sa_handler, (unsigned)a->sa_flags,
			     (void *)a->sa_restorer, (unsigned long long)mask_bits(&a->sa_mask),
			     (void *)b->sa_handler, (unsigned)b->sa_flags, (void *)b->sa_restorer,
			     (unsigned long long)mask_bits(&b->sa_mask));
			bad++;
		}
	}
	return bad;
}

/* Queue s->sig to ourselves and check what its handler saw; sa_mask is the
 * mask sigaction() reported before the checkpoint. */
static int fire(const struct setup *s, const sigset_t *sa_mask)
{
	const union sigval v = { .sival_int = VALUE(s->sig) };
	const struct hit *h = &hits[s->sig];
	uint64_t want = mask_bits(sa_mask) & ~(B(SIGKILL) | B(SIGSTOP));

	if (!(s->flags & SA_NODEFER))
		want |= B(s->sig);
	if (sigqueue(getpid(), s->sig, v)) {
		fail_errno("sigqueue(%d)", s->sig);
		return -1;
	}
	if (h->n != 1) {
		fail("signal %d: the handler ran %d times, expected once", s->sig, (int)h->n);
		return -1;
	}
	if ((s->flags & SA_SIGINFO) &&
	    (h->code != SI_QUEUE || h->pid != getpid() || h->value != VALUE(s->sig))) {
		fail("signal %d: si_code %d si_pid %d si_value %d, expected %d %d %d", s->sig,
		     h->code, h->pid, h->value, SI_QUEUE, getpid(), VALUE(s->sig));
		return -1;
	}
	if (h->onstack != !!(s->flags & SA_ONSTACK)) {
		fail("signal %d: the handler ran %s the alternate stack, expected %s", s->sig,
		     h->onstack ? "on" : "off", (s->flags & SA_ONSTACK) ? "on" : "off");
		return -1;
	}
	/* SIGTERM is blocked by the test lib all along; ignore it */
	if ((h->blocked & ~B(SIGTERM)) != (want & ~B(SIGTERM))) {
		fail("signal %d: blocked in the handler %#llx, expected %#llx", s->sig,
		     (unsigned long long)(h->blocked & ~B(SIGTERM)),
		     (unsigned long long)(want & ~B(SIGTERM)));
		return -1;
	}
	return 0;
}

static int check_after_fire(void)
{
	struct sigaction sa;

	if (sigaction(SIGHUP, NULL, &sa) || sa.sa_handler != SIG_DFL) {
		fail("SIGHUP (SA_RESETHAND) handler is %p after one delivery, expected SIG_DFL",
		     (void *)sa.sa_handler);
		return -1;
	}
	raise(SIGPIPE); /* ignored: we must still be alive */
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction was[NSIG_K + 1];
	int was_err[NSIG_K + 1], bad;
	stack_t ss = { .ss_size = ALTSTACK };

	if (test_init(argc, argv))
		return 1;
	ss.ss_sp = mmap(NULL, ALTSTACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ss.ss_sp == MAP_FAILED || sigaltstack(&ss, NULL)) {
		fail_errno("setup: alternate stack");
		return 1;
	}
	alt.lo = (uintptr_t)ss.ss_sp;
	alt.hi = alt.lo + ALTSTACK;
	for (int i = 0; i < NSETUPS; i++) {
		if (install(&setups[i])) {
			fail_errno("setup: sigaction(%d)", setups[i].sig);
			return 1;
		}
	}
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		fail_errno("setup: ignore SIGPIPE");
		return 1;
	}
	query_all(was, was_err);
	for (int i = 0; i < NSETUPS; i++) { /* the test's own premise */
		const struct sigaction *a = &was[setups[i].sig];

		if ((a->sa_flags & setups[i].flags) != setups[i].flags ||
		    (mask_bits(&a->sa_mask) & setups[i].mask) != mask_bits(&a->sa_mask)) {
			fail("setup: signal %d reads back flags %#x mask %#llx, set %#x %#llx",
			     setups[i].sig, (unsigned)a->sa_flags,
			     (unsigned long long)mask_bits(&a->sa_mask), (unsigned)setups[i].flags,
			     (unsigned long long)setups[i].mask);
			return 1;
		}
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	bad = compare_all(was, was_err);
	if (bad) {
		fail("%d signal dispositions differ", bad);
		return 1;
	}
	for (int i = 0; i < NSETUPS; i++) {
		if (fire(&setups[i], &was[setups[i].sig].sa_mask))
			return 1;
	}
	if (check_after_fire())
		return 1;
	pass();
	return 0;
}
