/* fown00: owners and I/O signals of open file descriptions survive checkpoint/restore:
 *
 *   pipe A, O_ASYNC, owner thread T (F_OWNER_TID), signal SIGRTMIN+1 (F_SETSIG)
 *   pipe B, O_ASYNC, owner this process (F_OWNER_PID), SIGIO
 *   socket pair C, no O_ASYNC, owner this process group (F_OWNER_PGRP: SIGURG goes there)
 *
 * After the restore: F_GETFL shows O_ASYNC on A and B only, F_GETOWN_EX and F_GETSIG read as
 * set; and they act: a write into A makes T receive SIGRTMIN+1 with si_fd = A's read end and
 * POLL_IN; a write into B brings this process a SIGIO.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

static int a[2], tgo[2], tdone[2];
static volatile sig_atomic_t sigios;
static pid_t ttid;
static char twhy[160];

static void on_sigio(int sig)
{
	(void)sig;
	sigios++;
}

static void *t_main(void *arg)
{
	siginfo_t si;
	sigset_t s;
	char c;

	(void)arg;
	ttid = (pid_t)syscall(SYS_gettid);
	sigemptyset(&s);
	sigaddset(&s, SIGRTMIN + 1);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	if (write(tdone[1], "r", 1) != 1)
		return NULL;
	while (read(tgo[0], &c, 1) < 0 && errno == EINTR)
		;
	if (sigwaitinfo(&s, &si) != SIGRTMIN + 1)
		snprintf(twhy, sizeof(twhy), "T got no SIGRTMIN+1 after a write into pipe A");
	else if (si.si_fd != a[0] || si.si_code != POLL_IN)
		snprintf(twhy, sizeof(twhy), "T's SIGRTMIN+1: si_fd %d (want %d), si_code %d",
			 si.si_fd, a[0], si.si_code);
	if (write(tdone[1], "d", 1) != 1)
		return NULL;
	return NULL;
}

static int check(int fd, const char *what, bool async, int type, pid_t pid, int sig)
{
	struct f_owner_ex o = { 0 };
	int fl = fcntl(fd, F_GETFL), s = fcntl(fd, F_GETSIG);

	if (fl < 0 || s < 0 || fcntl(fd, F_GETOWN_EX, &o) || !!(fl & O_ASYNC) != async ||
	    (int)o.type != type || o.pid != pid || s != sig) {
		fail("%s: O_ASYNC %d, owner type %d pid %d, signal %d; want %d, %d %d, %d", what,
		     !!(fl & O_ASYNC), o.type, o.pid, s, async, type, pid, sig);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int b[2], sp[2];
	struct f_owner_ex ot, op = { F_OWNER_PID, 0 }, og = { F_OWNER_PGRP, 0 };
	pthread_t th;
	char c;

	if (test_init(argc, argv))
		return 1;
	signal(SIGIO, on_sigio);
	if (pipe(a) || pipe(b) || socketpair(AF_UNIX, SOCK_STREAM, 0, sp) || pipe(tgo) ||
	    pipe(tdone) || pthread_create(&th, NULL, t_main, NULL) || read(tdone[0], &c, 1) != 1)
		fail_errno("setup");
	ot = (struct f_owner_ex){ F_OWNER_TID, ttid };
	op.pid = getpid();
	og.pid = getpgrp();
	if (fcntl(a[0], F_SETOWN_EX, &ot) || fcntl(a[0], F_SETSIG, SIGRTMIN + 1) ||
	    fcntl(a[0], F_SETFL, O_ASYNC) || fcntl(b[0], F_SETOWN_EX, &op) ||
	    fcntl(b[0], F_SETFL, O_ASYNC) || fcntl(sp[0], F_SETOWN_EX, &og))
		fail_errno("setup: owners");

	if (test_daemon())
		return 1;
	test_waitsig();

	if (check(a[0], "pipe A", true, F_OWNER_TID, ttid, SIGRTMIN + 1) ||
	    check(b[0], "pipe B", true, F_OWNER_PID, getpid(), 0) ||
	    check(sp[0], "socket C", false, F_OWNER_PGRP, getpgrp(), 0))
		return 0;
	if (write(tgo[1], "g", 1) != 1 || write(a[1], "x", 1) != 1 || read(tdone[0], &c, 1) != 1)
		fail("T did not check");
	else if (twhy[0])
		fail("%s", twhy);
	sigios = 0;
	if (write(b[1], "y", 1) != 1)
		fail_errno("write into pipe B");
	while (!sigios) /* none: the runner's time limit fails the test */
		usleep(1000);
	pass();
	return 0;
}
