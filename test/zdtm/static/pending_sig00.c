/* pending_sig00: blocked signals pending at the checkpoint, process-wide and for the thread,
 * are still pending after the restore, in their queues, with their siginfo, and are delivered.
 *
 * Pending before test_daemon() (all blocked):
 *   process-wide  SIGRTMIN+5 twice by sigqueue() (values 41, 42: a real-time signal queues every
 *                 instance, in order), SIGUSR1 by kill()
 *   thread        SIGRTMIN+6 by rt_tgsigqueueinfo() with si_code SI_QUEUE, a made-up si_pid and
 *                 si_uid and value 77, SIGUSR2 by tgkill()
 * After SIGTERM: SigPnd (thread) and ShdPnd (process) of /proc/self/status must show exactly
 * these signals; sigtimedwait() must then return every instance, each with the si_code,
 * si_value, si_pid and si_uid it was sent with, real-time ones in order, and nothing more. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

#define FAKE_PID 4242
#define FAKE_UID 4343
#define ANY_KILL 1 /* si_code SI_USER or SI_TKILL: kernels differ for tgkill() */

struct want {
	int signo;
	int code;
	int value; /* si_value.sival_int; -1: not checked (kill, tgkill) */
	pid_t pid; /* 0: the test's own pid */
	uid_t uid;
};

#define B(sig) (1ull << ((sig)-1))

static uint64_t status_mask(const char *key)
{
	size_t len;
	char *st = test_read_file("/proc/self/status", &len), *p;
	unsigned long long m = ~0ull;

	if (!st)
		return m;
	p = strstr(st, key);
	if (p)
		sscanf(p + strlen(key), "%llx", &m);
	free(st);
	return m;
}

static int send_all(void)
{
	union sigval v = { .sival_int = 41 };
	siginfo_t si;

	if (sigqueue(getpid(), SIGRTMIN + 5, v))
		return -1;
	v.sival_int = 42;
	if (sigqueue(getpid(), SIGRTMIN + 5, v) || kill(getpid(), SIGUSR1))
		return -1;
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGRTMIN + 6;
	si.si_code = SI_QUEUE;
	si.si_pid = FAKE_PID;
	si.si_uid = FAKE_UID;
	si.si_value.sival_int = 77;
	if (syscall(SYS_rt_tgsigqueueinfo, getpid(), syscall(SYS_gettid), SIGRTMIN + 6, &si))
		return -1;
	return (int)syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR2);
}

static int check_one(const sigset_t *set, const struct want *w)
{
	const struct timespec none = { 0, 0 };
	pid_t pid = w->pid ? w->pid : getpid();
	siginfo_t si;
	int sig;

	memset(&si, 0, sizeof(si));
	sig = sigtimedwait(set, &si, &none);
	if (sig != w->signo) {
		fail("expected pending signal %d next, sigtimedwait gave %d", w->signo, sig);
		return -1;
	}
	if ((w->code == ANY_KILL ? si.si_code != SI_USER && si.si_code != SI_TKILL
				 : si.si_code != w->code) ||
	    si.si_pid != pid || si.si_uid != w->uid ||
	    (w->value >= 0 && si.si_value.sival_int != w->value)) {
		fail("signal %d: si_code %d si_pid %d si_uid %u si_value %d, expected %d %d %u %d",
		     sig, si.si_code, si.si_pid, si.si_uid, si.si_value.sival_int, w->code, pid,
		     w->uid, w->value);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct timespec none = { 0, 0 };
	uint64_t shd, thr, want_shd, want_thr;
	sigset_t set;
	siginfo_t si;
	uid_t uid;

	if (test_init(argc, argv))
		return 1;
	uid = getuid();
	const struct want order[] = {
		/* the kernel dequeues the thread's own signals first, then the process-wide
		 * ones; in each, the lowest number first, a real-time queue oldest first */
		{ SIGUSR2, ANY_KILL, -1, 0, uid },
		{ SIGRTMIN + 6, SI_QUEUE, 77, FAKE_PID, FAKE_UID },
		{ SIGUSR1, SI_USER, -1, 0, uid },
		{ SIGRTMIN + 5, SI_QUEUE, 41, 0, uid },
		{ SIGRTMIN + 5, SI_QUEUE, 42, 0, uid },
	};

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGRTMIN + 5);
	sigaddset(&set, SIGRTMIN + 6);
	want_shd = B(SIGUSR1) | B(SIGRTMIN + 5);
	want_thr = B(SIGUSR2) | B(SIGRTMIN + 6);
	if (sigprocmask(SIG_BLOCK, &set, NULL) || send_all()) {
		fail_errno("setup: block and send the signals");
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	shd = status_mask("\nShdPnd:");
	thr = status_mask("\nSigPnd:");
	if (shd != want_shd || thr != want_thr) {
		fail("pending: ShdPnd %#llx SigPnd %#llx, expected %#llx %#llx",
		     (unsigned long long)shd, (unsigned long long)thr, (unsigned long long)want_shd,
		     (unsigned long long)want_thr);
		return 1;
	}
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (check_one(&set, &order[i]))
			return 1;
	if (sigtimedwait(&set, &si, &none) > 0) {
		fail("one more pending signal %d (si_code %d) than sent", si.si_signo, si.si_code);
		return 1;
	}
	pass();
	return 0;
}
