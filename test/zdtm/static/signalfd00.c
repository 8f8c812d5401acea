/* signalfd00: signalfds survive checkpoint/restore with their masks and flags, and the
 * signals pending at the dump are read through them afterwards. SIGUSR1, SIGUSR2 and
 * SIGRTMIN+3 are blocked; "one" (nonblocking) is on SIGUSR1 and SIGRTMIN+3, "two"
 * (blocking, close-on-exec) on SIGUSR2. Before the dump SIGUSR1 is raised once and
 * SIGRTMIN+3 queued twice with the values 0x5eed0 and 0x5eed1. After the restore: fdinfo
 * shows each mask, F_GETFL / F_GETFD are as set up; "one" reads SIGUSR1, then SIGRTMIN+3
 * with 0x5eed0 and with 0x5eed1 (SI_QUEUE, sent by this pid), then EAGAIN; "two" is not
 * readable until SIGUSR2 is raised, and then reads it. The test waits by polling
 * test_go(), so the mask it set up is the one dumped. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#define B(sig) (1ull << ((sig)-1))

static int check_fd(const char *name, int fd, uint64_t mask, bool nonblock, bool cloexec)
{
	int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);
	char buf[64];
	uint64_t seen;

	if (test_fdinfo_get(fd, "sigmask", buf, sizeof(buf))) {
		fail("\"%s\" fd %d: no sigmask line in its fdinfo", name, fd);
		return -1;
	}
	seen = strtoull(buf, NULL, 16);
	if (seen != mask) {
		fail("\"%s\" fd %d: sigmask %016" PRIx64 ", expected %016" PRIx64, name, fd, seen,
		     mask);
		return -1;
	}
	if (fl < 0 || fdfl < 0 || !(fl & O_NONBLOCK) != !nonblock ||
	    !(fdfl & FD_CLOEXEC) != !cloexec) {
		fail("\"%s\" fd %d: F_GETFL %#o F_GETFD %d, expected %s and %s", name, fd, fl, fdfl,
		     nonblock ? "O_NONBLOCK" : "no O_NONBLOCK",
		     cloexec ? "FD_CLOEXEC" : "no FD_CLOEXEC");
		return -1;
	}
	return 0;
}

/* One signal from fd: its number, and for a queued one the value and sender. */
static int expect(const char *name, int fd, int signo, int code, int value)
{
	struct signalfd_siginfo si;
	ssize_t n = read(fd, &si, sizeof(si));

	if (n != (ssize_t)sizeof(si)) {
		fail_errno("\"%s\": reading signal %d gave %zd", name, signo, n);
		return -1;
	}
	if ((int)si.ssi_signo != signo || si.ssi_code != code || (int)si.ssi_pid != getpid() ||
	    (code == SI_QUEUE && si.ssi_int != value)) {
		fail("\"%s\": read signal %u code %d pid %u value %#x, expected %d code %d pid %d "
		     "value %#x",
		     name, si.ssi_signo, si.ssi_code, si.ssi_pid, si.ssi_int, signo, code, getpid(),
		     code == SI_QUEUE ? value : si.ssi_int);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const int rt = SIGRTMIN + 3;
	const uint64_t m1 = B(SIGUSR1) | B(rt), m2 = B(SIGUSR2);
	struct timespec tick = { 0, 20 * 1000 * 1000 };
	struct signalfd_siginfo si;
	struct pollfd p;
	sigset_t s1, s2, all;
	int one, two;

	if (test_init(argc, argv))
		return 1;
	sigemptyset(&s1);
	sigaddset(&s1, SIGUSR1);
	sigaddset(&s1, rt);
	sigemptyset(&s2);
	sigaddset(&s2, SIGUSR2);
	all = s1;
	sigaddset(&all, SIGUSR2);
	if (sigprocmask(SIG_BLOCK, &all, NULL)) {
		fail_errno("setup: sigprocmask");
		return 1;
	}
	one = signalfd(-1, &s1, SFD_NONBLOCK);
	two = signalfd(-1, &s2, SFD_CLOEXEC);
	if (one < 0 || two < 0) {
		fail_errno("setup: signalfd");
		return 1;
	}
	if (kill(getpid(), SIGUSR1) ||
	    sigqueue(getpid(), rt, (union sigval){ .sival_int = 0x5eed0 }) ||
	    sigqueue(getpid(), rt, (union sigval){ .sival_int = 0x5eed1 })) {
		fail_errno("setup: raising the signals");
		return 1;
	}
	if (test_daemon())
		return 1;
	while (test_go())
		nanosleep(&tick, NULL);

	if (check_fd("one", one, m1, true, false) || check_fd("two", two, m2, false, true))
		return 1;
	if (expect("one", one, SIGUSR1, SI_USER, 0) || expect("one", one, rt, SI_QUEUE, 0x5eed0) ||
	    expect("one", one, rt, SI_QUEUE, 0x5eed1))
		return 1;
	errno = 0;
	if (read(one, &si, sizeof(si)) != -1 || errno != EAGAIN) {
		fail("\"one\": a read after the three signals did not fail with EAGAIN (errno %d)",
		     errno);
		return 1;
	}
	p = (struct pollfd){ .fd = two, .events = POLLIN };
	if (poll(&p, 1, 0) != 0) {
		fail("\"two\": readable (revents %#x) with no SIGUSR2 pending", p.revents);
		return 1;
	}
	/* a signal sent to oneself is pending before kill() returns: the 1 s of poll() never
	 * decides anything, however loaded the machine */
	if (kill(getpid(), SIGUSR2) || poll(&p, 1, 1000) != 1 ||
	    expect("two", two, SIGUSR2, SI_USER, 0))
		return 1;
	pass();
	return 0;
}
