/* pidfd00: pidfds survive checkpoint/restore and refer to the same processes:
 *
 *   fd     made by                             refers to          checked after the restore
 *   pa     pidfd_open(A)                       child A (sleeps)   its Pid; A not ended yet;
 *   pa2    dup(pa), FD_CLOEXEC cleared         the same           the same description (kcmp),
 *                                                                 no FD_CLOEXEC; pidfd_send_signal
 *                                                                 SIGKILL kills A, poll() says so,
 *                                                                 waitid(P_PIDFD) reaps it
 *   pb     clone3(CLONE_PIDFD)                 child B            B ends when told; waitid
 *                                                                 (P_PIDFD) gives its status 3
 *   ps     pidfd_open(self, PIDFD_NONBLOCK)    itself             its Pid, O_NONBLOCK
 *   pt     pidfd_open(self, PIDFD_THREAD)      its main thread    its Pid, O_EXCL (PIDFD_THREAD)
 *   pz     pidfd_open(Z), Z exited, not reaped zombie Z           poll() ready; waitid gives 9
 *   pc     pidfd_open(C), C exited 5, reaped   nothing            Pid -1, pidfd_send_signal
 *                                                                 ESRCH, PIDFD_GET_INFO status 5
 *   pd     pidfd_open(D), D killed by SIGUSR1  nothing            the same, status SIGUSR1
 *   (E)    child E inherits pa                                    E's fd and ours are one
 *                                                                 description (kcmp KCMP_FILE)
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kcmp.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

struct pidfd_info { /* uapi linux/pidfd.h, 6.13+; the exit status 6.15+ */
	uint64_t mask, cgroupid;
	uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
	int32_t exit_code;
};
#define PIDFD_INFO_EXIT (1ULL << 3)
#define PIDFD_GET_INFO	_IOWR(0xFF, 11, struct pidfd_info)

static int pidfd_open(pid_t pid, unsigned int flags)
{
	return (int)syscall(SYS_pidfd_open, pid, flags);
}

static long fd_pid(int fd)
{
	return test_fdinfo_num(0, fd, "Pid", 10);
}

static int fd_flags(int fd)
{
	long v = test_fdinfo_num(0, fd, "flags", 8);

	return v == LONG_MIN ? -1 : (int)v;
}

/* The exit status the kernel keeps for a reaped process's pidfd: 0 and *st, 1 when the kernel
 * does not keep it, -1 on error. */
static int exit_info(int fd, int *st)
{
	struct pidfd_info i = { .mask = PIDFD_INFO_EXIT };

	if (ioctl(fd, PIDFD_GET_INFO, &i))
		return errno == ENOTTY || errno == EINVAL ? 1 : -1;
	if (!(i.mask & PIDFD_INFO_EXIT))
		return 1;
	*st = i.exit_code;
	return 0;
}

static bool ended(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* A child that waits for a byte on r, then exits with code. */
static pid_t waiter(int r, int code)
{
	pid_t pid = fork();
	char c;

	if (pid == 0) {
		while (read(r, &c, 1) < 0 && errno == EINTR)
			;
		_exit(code);
	}
	return pid;
}

int main(int argc, char **argv)
{
	int ga[2], gb[2], ge[2], re[2], pa, pa2, pb = -1, ps, pt, pz, pc, pd, st, stc = -1,
						 std = -1;
	struct clone_args ca = { .flags = CLONE_PIDFD, .exit_signal = SIGCHLD };
	pid_t a, b, z, cp, d, e;
	siginfo_t si;
	char c;

	if (test_init(argc, argv))
		return 1;
	if (pipe(ga) || pipe(gb) || pipe(ge) || pipe(re))
		fail_errno("setup: pipe");
	a = waiter(ga[0], 0);
	ca.pidfd = (uint64_t)(uintptr_t)&pb;
	b = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
	if (b == 0) {
		while (read(gb[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(3);
	}
	z = fork();
	if (z == 0)
		_exit(9);
	cp = fork();
	if (cp == 0)
		_exit(5);
	d = waiter(ga[0], 0);
	pa = pidfd_open(a, 0);
	pz = pidfd_open(z, 0);
	pc = pidfd_open(cp, 0);
	pd = pidfd_open(d, 0);
	ps = pidfd_open(getpid(), PIDFD_NONBLOCK);
	pt = pidfd_open(getpid(), PIDFD_THREAD);
	pa2 = dup(pa);
	if (a < 0 || b < 0 || z < 0 || cp < 0 || d < 0 || pa < 0 || pb < 0 || pz < 0 || pc < 0 ||
	    pd < 0 || ps < 0 || pt < 0 || pa2 < 0)
		fail_errno("setup: children or pidfds");
	kill(d, SIGUSR1);
	if (waitpid(cp, &st, 0) != cp || waitpid(d, &st, 0) != d)
		fail_errno("setup: reaping C and D");
	if (exit_info(pc, &stc) < 0 || exit_info(pd, &std) < 0)
		fail_errno("setup: PIDFD_GET_INFO");
	while (!ended(pz)) /* until Z has exited (no time assumed: the runner's limit holds) */
		usleep(1000);
	e = fork();
	if (e == 0) { /* after the restore: is our pa the parent's? */
		char r;

		while (read(ge[0], &c, 1) < 0 && errno == EINTR)
			;
		r = syscall(SYS_kcmp, getpid(), getppid(), KCMP_FILE, pa, pa) == 0 ? 'y' : 'n';
		_exit(write(re[1], &r, 1) == 1 ? 0 : 2);
	}
	if (e < 0 || fcntl(pa2, F_SETFD, 0))
		fail_errno("setup: child E, FD_CLOEXEC");
	if (fd_pid(pa) != a || fd_pid(pb) != b || fd_pid(ps) != getpid() ||
	    fd_pid(pt) != getpid() || fd_pid(pz) != z || fd_pid(pc) != -1 || fd_pid(pd) != -1)
		fail("setup: the pidfds' fdinfo shows unexpected pids");

	if (test_daemon())
		return 1;
	test_waitsig();

	if (fd_pid(pa) != a || fd_pid(pa2) != a || fd_pid(pb) != b || fd_pid(ps) != getpid() ||
	    fd_pid(pt) != getpid() || fd_pid(pz) != z || fd_pid(pc) != -1 || fd_pid(pd) != -1)
		fail(
		    "pids of the pidfds: %ld %ld %ld %ld %ld %ld %ld %ld, want %d %d %d %d %d %d -1 "
		    "-1",
		    fd_pid(pa), fd_pid(pa2), fd_pid(pb), fd_pid(ps), fd_pid(pt), fd_pid(pz),
		    fd_pid(pc), fd_pid(pd), a, a, b, getpid(), getpid(), z);
	if (!(fd_flags(ps) & O_NONBLOCK) || (fd_flags(pa) & O_NONBLOCK) ||
	    !(fd_flags(pt) & PIDFD_THREAD) || (fd_flags(ps) & PIDFD_THREAD))
		fail("pidfd flags: ps %#o pa %#o pt %#o", fd_flags(ps), fd_flags(pa), fd_flags(pt));
	if (syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, pa, pa2) != 0)
		fail("pa and pa2 are no longer one open file description");
	if (fcntl(pa2, F_GETFD) != 0 || fcntl(pa, F_GETFD) != FD_CLOEXEC)
		fail("FD_CLOEXEC: pa %d pa2 %d", fcntl(pa, F_GETFD), fcntl(pa2, F_GETFD));
	if (write(ge[1], "g", 1) != 1 || read(re[0], &c, 1) != 1 || c != 'y')
		fail("child E's pa is not the same open file description as ours");
	if (waitpid(e, &st, 0) != e || !WIFEXITED(st) || WEXITSTATUS(st))
		fail("child E ended with status %#x", st);

	/* the live ones act on the restored processes */
	if (ended(pa) || ended(pb))
		fail("A or B reads as ended");
	if (syscall(SYS_pidfd_send_signal, pa, SIGKILL, NULL, 0))
		fail_errno("pidfd_send_signal(pa, SIGKILL)");
	memset(&si, 0, sizeof(si));
	if (waitid(P_PIDFD, pa, &si, WEXITED) || !ended(pa2) || si.si_pid != a ||
	    si.si_code != CLD_KILLED || si.si_status != SIGKILL)
		fail("A did not end of SIGKILL through pa (code %d status %d)", si.si_code,
		     si.si_status);
	memset(&si, 0, sizeof(si));
	if (write(gb[1], "g", 1) != 1 || waitid(P_PIDFD, pb, &si, WEXITED) || si.si_pid != b ||
	    si.si_code != CLD_EXITED || si.si_status != 3)
		fail("B through pb: code %d status %d", si.si_code, si.si_status);
	memset(&si, 0, sizeof(si));
	if (!ended(pz) || waitid(P_PIDFD, pz, &si, WEXITED) || si.si_pid != z || si.si_status != 9)
		fail("zombie Z through pz: code %d status %d", si.si_code, si.si_status);

	/* the dead ones refer to nothing, and keep the status */
	if (syscall(SYS_pidfd_send_signal, pc, SIGKILL, NULL, 0) != -1 || errno != ESRCH ||
	    !ended(pc) || !ended(pd))
		fail("pc or pd does not read as a reaped process");
	if (stc >= 0 || std >= 0) {
		int nc = -1, nd = -1;

		exit_info(pc, &nc);
		exit_info(pd, &nd);
		if (nc != stc || nd != std || stc != 5 << 8 || std != SIGUSR1)
			fail("exit status through pc %#x, pd %#x; before the dump %#x, %#x", nc, nd,
			     stc, std);
	} else {
		test_msg("this kernel keeps no exit status for pidfds: not checked\n");
	}
	pass();
	return 0;
}
