/* sigmask00: the blocked signal mask, standard and real-time signals, survives
 * checkpoint/restore: rt_sigprocmask() and SigBlk in /proc/self/status show
 * the same 64 bits as before. The test waits by polling test_go() between
 * short sleeps, not in test_waitsig(): sigsuspend() there would swap the
 * mask during the checkpoint and put the saved copy back afterwards, which
 * would hide a mask the restore got wrong. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#define B(sig) (1ull << ((sig)-1))
/* SIGTERM is blocked by the test lib already */
static const int blocked[] = { SIGHUP, SIGUSR1, SIGPIPE, SIGCHLD, SIGWINCH, SIGSYS,
			       34,     40,	50,	 63,	  64 };

/* The kernel's mask of this thread, not glibc's view of it. */
static int kernel_mask(uint64_t *m)
{
	return (int)syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, m, sizeof(*m));
}

static int status_mask(uint64_t *m)
{
	size_t len;
	char *st = test_read_file("/proc/self/status", &len), *p;
	int ret = -1;

	if (!st)
		return -1;
	p = strstr(st, "\nSigBlk:");
	if (p && sscanf(p + 8, "%lx", m) == 1)
		ret = 0;
	free(st);
	return ret;
}

static void list(char *buf, size_t len, uint64_t m)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int sig = 1; sig <= 64 && n < len; sig++) {
		if (m & B(sig))
			n += (size_t)snprintf(buf + n, len - n, " %d", sig);
	}
}

static int check(const char *what, uint64_t seen, uint64_t exp)
{
	char extra[256], missing[256];

	if (seen == exp)
		return 0;
	list(extra, sizeof(extra), seen & ~exp);
	list(missing, sizeof(missing), exp & ~seen);
	fail("%s is %#018llx, expected %#018llx: blocked too:%s; not blocked:%s", what,
	     (unsigned long long)seen, (unsigned long long)exp, extra[0] ? extra : " none",
	     missing[0] ? missing : " none");
	return -1;
}

int main(int argc, char **argv)
{
	const struct timespec tick = { 0, 10 * 1000 * 1000 };
	uint64_t want = B(SIGTERM), seen;
	sigset_t set;

	if (test_init(argc, argv))
		return 1;
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(blocked) / sizeof(blocked[0]); i++) {
		sigaddset(&set, blocked[i]);
		want |= B(blocked[i]);
	}
	if (sigprocmask(SIG_BLOCK, &set, NULL) || kernel_mask(&seen)) {
		fail_errno("setup: sigprocmask");
		return 1;
	}
	if (check("setup: rt_sigprocmask", seen, want))
		return 1;
	if (test_daemon())
		return 1;
	while (test_go())
		nanosleep(&tick, NULL);

	if (kernel_mask(&seen)) {
		fail_errno("rt_sigprocmask(SIG_BLOCK, NULL)");
		return 1;
	}
	if (check("blocked mask (rt_sigprocmask)", seen, want))
		return 1;
	if (status_mask(&seen)) {
		fail_errno("SigBlk from /proc/self/status");
		return 1;
	}
	if (check("SigBlk in /proc/self/status", seen, want))
		return 1;
	pass();
	return 0;
}
