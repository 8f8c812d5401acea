/* init: argument parsing, daemonizing and the "ready" handshake.
 *
 * With --pidfile the process forks: the child becomes the test (a session
 * leader, so it is the root of the tree to checkpoint) and the parent, the
 * starter, waits on a pipe. test_daemon() writes the pidfile and one byte to
 * the pipe: the starter exits 0. If the child exits or dies first, the pipe
 * reaches EOF and the starter exits 1, so whoever ran the test knows setup
 * is over once the starter has exited, and how it went (the starter watches
 * the test's exit too: tasks it forked hold the pipe open).
 *
 * A test started as pid 1 (the init of a new PID namespace: the runner's
 * pidns flavor) must not fork: its namespace ends with it. It only becomes a
 * session leader and stays the test; the pidfile (saying "1") is then the
 * only ready signal, and a failed setup is its own exit status. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"
#include "lib.h"

#define READY_BYTE 'R'

/* The only state of this file; see lib.h for why it is process-wide. */
static struct {
	const char *pidfile; /* NULL: foreground, nobody to tell */
	int ready_fd;	     /* write end of the starter's pipe; -1 once used */
	bool nofork;	     /* init of a PID namespace: no starter, the pidfile says ready */
} ready = { NULL, -1, false };

/* Wait until the ready pipe can be read or the test has exited, whichever
 * comes first: true if the test exited with nothing in the pipe. The pipe's
 * EOF alone is not enough: tasks the test forked hold its write end too. */
static bool exited_first(int rfd, pid_t child)
{
	int pidfd = (int)syscall(SYS_pidfd_open, child, 0);
	struct pollfd fds[2] = { { .fd = rfd, .events = POLLIN },
				 { .fd = pidfd, .events = POLLIN } };
	int n;

	if (pidfd < 0)
		return false; /* the read alone then */
	do {
		n = poll(fds, 2, -1);
	} while (n < 0 && errno == EINTR);
	close(pidfd);
	return n > 0 && !(fds[0].revents & (POLLIN | POLLHUP)) && fds[1].revents;
}

/* The starter: wait for the ready byte or for the test to end. Never returns. */
static void starter_wait(int rfd, pid_t child)
{
	ssize_t n = 0;
	char c = 0;
	int status;

	if (!exited_first(rfd, child)) {
		do {
			n = read(rfd, &c, 1);
		} while (n < 0 && errno == EINTR);
	}
	if (n == 1 && c == READY_BYTE)
		_exit(0);
	if (n < 0)
		test_perror("test_init: starter: read of the ready pipe");

	while (waitpid(child, &status, 0) < 0) {
		if (errno != EINTR) {
			test_perror("test_init: starter: waitpid(%d)", child);
			_exit(1);
		}
	}
	if (WIFSIGNALED(status))
		fail("setup: test %d was killed by signal %d (%s) before test_daemon()", child,
		     WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		test_msg("test_init: test %d exited with %d before test_daemon()", child,
			 WEXITSTATUS(status));
	_exit(1);
}

static int open_outfile(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0) {
		int e = errno;

		fail_errno("test_init: can't open outfile %s", path);
		return -e;
	}
	zdtm_out_set(fd);
	return 0;
}

/* pid 1 of a PID namespace: no fork, no starter; only a session of its own. */
static int become_init_test(const char *pidfile)
{
	if (setsid() < 0) {
		int e = errno;

		fail_errno("test_init: setsid (as pid 1 of a pid namespace)");
		return -e;
	}
	ready.pidfile = pidfile;
	ready.nofork = true;
	return 0;
}

static int daemonize(const char *pidfile)
{
	int p[2];
	pid_t pid;

	if (getpid() == 1)
		return become_init_test(pidfile);
	if (pipe2(p, O_CLOEXEC)) {
		int e = errno;

		fail_errno("test_init: pipe2");
		return -e;
	}
	fflush(NULL); /* nothing buffered may be written twice */
	pid = fork();
	if (pid < 0) {
		int e = errno;

		fail_errno("test_init: fork");
		close(p[0]);
		close(p[1]);
		return -e;
	}
	if (pid > 0) {
		close(p[1]);
		starter_wait(p[0], pid);
	}
	close(p[0]);
	if (setsid() < 0) {
		int e = errno;

		fail_errno("test_init: setsid");
		close(p[1]);
		return -e;
	}
	ready.pidfile = pidfile;
	ready.ready_fd = p[1];
	return 0;
}

int test_init(int argc, char **argv)
{
	const char *pidfile = NULL, *outfile = NULL;
	int ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strncmp(argv[i], "--pidfile=", 10) && argv[i][10]) {
			pidfile = argv[i] + 10;
		} else if (!strncmp(argv[i], "--outfile=", 10) && argv[i][10]) {
			outfile = argv[i] + 10;
		} else {
			fail("test_init: unknown argument '%s' (takes --pidfile=F --outfile=F, "
			     "then the test's own after --)",
			     argv[i]);
			return -EINVAL;
		}
	}
	if (outfile) {
		ret = open_outfile(outfile);
		if (ret)
			return ret;
	}
	ret = zdtm_sig_setup();
	if (ret)
		return ret;
	return pidfile ? daemonize(pidfile) : 0;
}

static int write_pidfile(const char *path)
{
	char tmp[PATH_MAX];
	int fd, e;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		fail("test_daemon: pidfile path too long: %s", path);
		return -ENAMETOOLONG;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		e = errno;
		fail_errno("test_daemon: can't create %s", tmp);
		return -e;
	}
	if (dprintf(fd, "%d\n", getpid()) < 0) {
		e = errno;
		fail_errno("test_daemon: can't write %s", tmp);
		close(fd);
		return -e;
	}
	if (close(fd) || rename(tmp, path)) {
		e = errno;
		fail_errno("test_daemon: can't finish pidfile %s", path);
		return -e;
	}
	return 0;
}

int test_daemon(void)
{
	const char c = READY_BYTE;
	ssize_t n;
	int ret;

	if (!ready.pidfile) {
		test_msg("ready: pid %d (foreground); send it SIGTERM to check and finish",
			 getpid());
		return 0;
	}
	if (ready.ready_fd < 0 && !ready.nofork) {
		fail("test_daemon() called twice");
		return -EINVAL;
	}
	ret = write_pidfile(ready.pidfile);
	if (ret)
		return ret;
	if (ready.nofork) {
		ready.nofork = false; /* a second call is an error, as with a starter */
		return 0;
	}
	do {
		n = write(ready.ready_fd, &c, 1);
	} while (n < 0 && errno == EINTR);
	if (n != 1) {
		int e = n < 0 ? errno : EIO;

		errno = e;
		fail_errno("test_daemon: can't tell the starter (ready pipe fd %d)",
			   ready.ready_fd);
		return -e;
	}
	close(ready.ready_fd);
	ready.ready_fd = -1;
	return 0;
}
