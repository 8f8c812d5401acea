/* pidfd_thread00: PIDFD_THREAD pidfds of threads other than the leader survive
 * checkpoint/restore and refer to the same threads:
 *
 *   fd     made by                                   refers to      checked after the restore
 *   p1     pidfd_open(T1, PIDFD_THREAD)              thread T1      Pid T1, O_EXCL; a signal sent
 *                                                                   through it lands on T1 alone
 *   p1b    dup(p1)                                   the same       one description with p1 (kcmp)
 *   p2     pidfd_open(T2, PIDFD_THREAD|NONBLOCK)     thread T2      Pid T2, O_EXCL|O_NONBLOCK; not
 *                                                                   ready while T2 runs, ready once
 *                                                                   T2 has exited
 *   p3     pidfd_open(T3, PIDFD_THREAD), T3 exited   nothing        Pid -1, O_EXCL, ready, a signal
 *                                                                   through it gets ESRCH
 *   (C)    child C inherits p1 and opens cq =        T1, T2         C's p1 and ours are one
 *          pidfd_open(T2, PIDFD_THREAD)                             description; C's cq has Pid T2
 *
 * The child's pidfd of its parent's thread is made at restore once the parent's threads exist
 * (the parent is restored first); our own, once our threads do. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kcmp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif
#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif

static volatile pid_t tids[3];
static volatile pid_t got_on; /* the thread the SIGUSR1 handler ran on */
static volatile int quit[3];  /* thread i exits when set (T1 never does) */

static void on_usr1(int s)
{
	(void)s;
	got_on = (pid_t)syscall(SYS_gettid);
}

static void *worker(void *arg)
{
	long i = (long)arg;
	sigset_t m;

	if (i == 0) { /* T1 alone takes SIGUSR1 */
		sigemptyset(&m);
		sigaddset(&m, SIGUSR1);
		pthread_sigmask(SIG_UNBLOCK, &m, NULL);
	}
	tids[i] = (pid_t)syscall(SYS_gettid);
	while (!quit[i])
		usleep(1000);
	return NULL;
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

static bool ready(int fd, int timeout)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, timeout) == 1 && (p.revents & POLLIN);
}

/* Every pidfd as it should be; 0, or -1 with the first difference failed. */
static int check(const char *when, pid_t c, int p1, int p1b, int p2, int p3, int cq)
{
	long cp;

	if (fd_pid(p1) != tids[0] || fd_pid(p1b) != tids[0] || fd_pid(p2) != tids[1]) {
		fail("%s: the pidfds refer to %ld, %ld, %ld, not T1 %d, T1, T2 %d", when,
		     fd_pid(p1), fd_pid(p1b), fd_pid(p2), tids[0], tids[1]);
		return -1;
	}
	if (!(fd_flags(p1) & PIDFD_THREAD) || (fd_flags(p1) & O_NONBLOCK) ||
	    (fd_flags(p2) & (PIDFD_THREAD | O_NONBLOCK)) != (PIDFD_THREAD | O_NONBLOCK)) {
		fail("%s: flags 0%o and 0%o, expected PIDFD_THREAD and PIDFD_THREAD|NONBLOCK", when,
		     fd_flags(p1), fd_flags(p2));
		return -1;
	}
	if (syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, p1, p1b) ||
	    syscall(SYS_kcmp, getpid(), c, KCMP_FILE, p1, p1)) {
		fail("%s: p1, its dup and the child's p1 are not one open file description", when);
		return -1;
	}
	cp = test_fdinfo_num(c, cq, "Pid", 10);
	if (cp != tids[1]) {
		fail("%s: the child's pidfd of T2 refers to %ld, not %d", when, cp, tids[1]);
		return -1;
	}
	if (ready(p2, 0)) {
		fail("%s: T2's pidfd says it ended while it runs", when);
		return -1;
	}
	if (fd_pid(p3) != -1 || !(fd_flags(p3) & PIDFD_THREAD) || !ready(p3, 0) ||
	    !syscall(SYS_pidfd_send_signal, p3, 0, NULL, 0) || errno != ESRCH) {
		fail("%s: the pidfd of the exited T3: Pid %ld, flags 0%o, %s, signal %s", when,
		     fd_pid(p3), fd_flags(p3), ready(p3, 0) ? "ready" : "not ready",
		     strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int p1, p1b, p2, p3, cq, st, go[2];
	pthread_t th[3];
	sigset_t m;
	pid_t c;
	char b;

	if (test_init(argc, argv))
		return 1;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	signal(SIGUSR1, on_usr1);
	pthread_sigmask(SIG_BLOCK, &m, NULL); /* the main thread and T2 never take it */
	for (long i = 0; i < 3; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)i)) {
			fail("setup: pthread_create");
			return 1;
		}
	while (!tids[0] || !tids[1] || !tids[2])
		usleep(1000);
	p3 = (int)syscall(SYS_pidfd_open, tids[2], PIDFD_THREAD);
	quit[2] = 1;
	p1 = (int)syscall(SYS_pidfd_open, tids[0], PIDFD_THREAD);
	p1b = dup(p1);
	p2 = (int)syscall(SYS_pidfd_open, tids[1], PIDFD_THREAD | PIDFD_NONBLOCK);
	if (p1 < 0 || p1b < 0 || p2 < 0 || p3 < 0 || pthread_join(th[2], NULL) || !ready(p3, -1) ||
	    pipe(go)) {
		if (errno == EINVAL)
			skip("the kernel has no PIDFD_THREAD (6.9+)");
		else
			fail_errno("setup: pidfd_open of the threads");
		return errno == EINVAL ? 0 : 1;
	}
	cq = 100; /* the child's own pidfd of T2 lands here */
	c = fork();
	if (c == 0) {
		int q = (int)syscall(SYS_pidfd_open, tids[1], PIDFD_THREAD);

		if (q >= 0 && q != cq)
			q = dup2(q, cq);
		close(go[1]);
		while (read(go[0], &b, 1) < 0 && errno == EINTR)
			;
		_exit(q == cq ? 0 : 1);
	}
	close(go[0]);
	/* the child has opened its pidfd when its fdinfo shows it */
	{
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", c, cq);
		while (access(path, F_OK) && !waitpid(c, &st, WNOHANG))
			usleep(1000);
	}
	if (c < 0 || check("setup", c, p1, p1b, p2, p3, cq))
		return 1;
	if (test_daemon())
		return 1;
	test_waitsig();

	if (check("after restore", c, p1, p1b, p2, p3, cq))
		return 1;
	if (syscall(SYS_pidfd_send_signal, p1, SIGUSR1, NULL, 0)) {
		fail_errno("pidfd_send_signal through T1's pidfd");
		return 1;
	}
	while (!got_on)
		usleep(1000);
	if (got_on != tids[0]) {
		fail("the signal sent through T1's pidfd ran on thread %d, not T1 %d", got_on,
		     tids[0]);
		return 1;
	}
	quit[1] = 1;
	if (pthread_join(th[1], NULL) || !ready(p2, -1)) {
		fail("T2's pidfd is not ready after T2 exited");
		return 1;
	}
	if (close(go[1]) || waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fail("the child ended with status %#x", st);
		return 1;
	}
	pass();
	return 0;
}
