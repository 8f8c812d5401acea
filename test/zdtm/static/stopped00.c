/* stopped00: stopped tasks stay stopped across checkpoint/restore, with what their parent can
 * still learn about the stop. The root has five children, each blocked in a system call:
 *
 *   child  stopped by            its parent's wait report    blocked in
 *   0      SIGSTOP               reaped (waitid WSTOPPED)    read(); SIGUSR1 pending
 *   1      SIGTSTP (own group)   still there (seen WNOWAIT)  read() of a pipe
 *   2      SIGSTOP, 2 threads    reaped                      read(); the thread in pause()
 *   3      SIGTTOU (own group)   still there                 nanosleep(1000 s)
 *   4      - (a running control) -                           read() of a pipe
 *
 * A stop signal other than SIGSTOP is ignored in an orphaned process group, so children 1 and 3
 * lead groups of their own, whose parent (the root) is in the same session. SIGCHLD is blocked
 * in the root and drained before the dump, so none is pending then.
 * After the restore: every thread of children 0-3 is in state T and child 4 is not; waitid
 * (WSTOPPED|WNOHANG|WNOWAIT) finds the reports of 1 (SIGTSTP) and 3 (SIGTTOU) and none of 0 and 2;
 * no SIGCHLD is pending. Then each stopped child gets SIGCONT, the root waits for its
 * WCONTINUED report, writes a byte to its pipe, and the child, whose read() restarted, exits 0
 * once it has read that byte (child 3 goes on sleeping until killed); child 0 must also have run
 * its SIGUSR1 handler, for the signal sent while it was stopped. */
#include <errno.h>
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#define NCHILD 5

struct child {
	int stop_sig;	/* 0: left running */
	bool own_group; /* leads a process group of its own */
	bool reaped;	/* the root reaps the stop report */
	bool thread;	/* has a second thread */
	bool sleeper;	/* sleeps instead of reading */
	bool usr1;	/* gets SIGUSR1 while stopped (its SA_RESTART handler runs after SIGCONT) */
	pid_t pid;
	int pipe[2];
	int ready[2]; /* the child writes a byte once its thread runs */
};

static struct child kids[NCHILD] = {
	{ .stop_sig = SIGSTOP, .reaped = true, .usr1 = true },
	{ .stop_sig = SIGTSTP, .own_group = true },
	{ .stop_sig = SIGSTOP, .reaped = true, .thread = true },
	{ .stop_sig = SIGTTOU, .own_group = true, .sleeper = true },
	{ .stop_sig = 0 },
};

static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

static void *pause_thread(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/* The child: read one byte and exit 0 if it is 'x' (the read restarts after a stop). */
static void child_main(struct child *k)
{
	struct timespec ts = { 1000, 0 };
	pthread_t th;
	char c = 0;
	ssize_t n;

	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };

	close(k->pipe[1]);
	close(k->ready[0]);
	if (k->usr1 && sigaction(SIGUSR1, &sa, NULL))
		_exit(2);
	if (k->thread && pthread_create(&th, NULL, pause_thread, NULL))
		_exit(2);
	if (write(k->ready[1], "r", 1) != 1)
		_exit(2);
	close(k->ready[1]);
	if (k->sleeper) {
		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
		_exit(3);
	}
	do
		n = read(k->pipe[0], &c, 1);
	while (n < 0 && errno == EINTR);
	if (k->usr1 && !got_usr1)
		_exit(5);
	_exit(n == 1 && c == 'x' ? 0 : 4);
}

/* State letter of every thread of pid; all must be want (or, for want 0, none may be T). */
static int check_threads_state(const struct child *k, int idx)
{
	char path[64], tpath[384];
	struct dirent *de;
	int seen = 0, ret = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", k->pid);
	d = opendir(path);
	if (!d) {
		fail_errno("child %d (pid %d): can't open %s", idx, k->pid, path);
		return -1;
	}
	while ((de = readdir(d))) {
		struct test_stat st;

		if (de->d_name[0] == '.')
			continue;
		snprintf(tpath, sizeof(tpath), "%s/%s/stat", path, de->d_name);
		if (test_read_stat(tpath, &st)) {
			fail_errno("child %d: can't read %s", idx, tpath);
			ret = -1;
			continue;
		}
		seen++;
		if (k->stop_sig && st.state != 'T') {
			fail("child %d (pid %d) thread %s: state %c, expected T (stopped by signal "
			     "%d at dump)",
			     idx, k->pid, de->d_name, st.state, k->stop_sig);
			ret = -1;
		} else if (!k->stop_sig && st.state == 'T') {
			fail("child %d (pid %d) thread %s: state T, but it was running at dump",
			     idx, k->pid, de->d_name);
			ret = -1;
		}
	}
	closedir(d);
	if (seen != (k->thread ? 2 : 1)) {
		fail("child %d (pid %d): %d thread(s), expected %d", idx, k->pid, seen,
		     k->thread ? 2 : 1);
		ret = -1;
	}
	return ret;
}

/* The stop report the root can still collect for child k: its signal, 0 for none. */
static int peek_report(const struct child *k, int idx)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)k->pid, &si, WSTOPPED | WNOHANG | WNOWAIT)) {
		fail_errno("child %d: waitid(WSTOPPED|WNOHANG|WNOWAIT)", idx);
		return -1;
	}
	if (si.si_pid != k->pid)
		return 0;
	if (si.si_code != CLD_STOPPED) {
		fail("child %d: waitid(WSTOPPED) reports si_code %d, expected CLD_STOPPED", idx,
		     si.si_code);
		return -1;
	}
	return si.si_status;
}

/* Until the child sits in system call nr (no deadline: the time limit catches a hang). */
static int wait_in_syscall(const struct child *k, long nr)
{
	const struct timespec nap = { 0, 1000000 };
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/syscall", k->pid);
	for (;;) {
		size_t len;
		char *buf = test_read_file(path, &len);
		long seen;

		if (!buf) {
			fail_errno("setup: can't read %s", path);
			return -1;
		}
		seen = strtol(buf, NULL, 10);
		free(buf);
		if (seen == nr)
			return 0;
		nanosleep(&nap, NULL);
	}
}

static int setup_child(int idx)
{
	struct child *k = &kids[idx];
	siginfo_t si;

	char c;

	if (pipe(k->pipe) || pipe(k->ready)) {
		fail_errno("setup: pipe");
		return -1;
	}
	k->pid = fork();
	if (k->pid < 0) {
		fail_errno("setup: fork");
		return -1;
	}
	if (k->pid == 0) {
		if (k->own_group)
			setpgid(0, 0);
		child_main(k);
	}
	close(k->pipe[0]);
	close(k->ready[1]);
	if (read(k->ready[0], &c, 1) != 1) {
		fail("setup: child %d did not start", idx);
		return -1;
	}
	close(k->ready[0]);
	if (k->own_group && setpgid(k->pid, k->pid) && errno != EACCES) {
		fail_errno("setup: setpgid(%d)", k->pid);
		return -1;
	}
	/* stopped inside its system call, which then restarts after SIGCONT */
	if (wait_in_syscall(k, k->sleeper ? SYS_clock_nanosleep : SYS_read))
		return -1;
	if (!k->stop_sig)
		return 0;
	if (kill(k->pid, k->stop_sig)) {
		fail_errno("setup: kill(%d, %d)", k->pid, k->stop_sig);
		return -1;
	}
	while (waitid(P_PID, (id_t)k->pid, &si, WSTOPPED | (k->reaped ? 0 : WNOWAIT))) {
		if (errno != EINTR) {
			fail_errno("setup: waitid(%d, WSTOPPED)", k->pid);
			return -1;
		}
	}
	if (si.si_code != CLD_STOPPED || si.si_status != k->stop_sig) {
		fail("setup: child %d: si_code %d status %d, expected a stop by %d", idx,
		     si.si_code, si.si_status, k->stop_sig);
		return -1;
	}
	if (k->usr1 && kill(k->pid, SIGUSR1)) {
		fail_errno("setup: kill(%d, SIGUSR1)", k->pid);
		return -1;
	}
	return 0;
}

static void drain_sigchld(void)
{
	const struct timespec zero = { 0, 0 };
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGCHLD);
	while (sigtimedwait(&s, NULL, &zero) == SIGCHLD)
		;
}

/* SIGCONT; the root sees it continued; a byte for its read(); it exits 0. */
static void resume_and_reap(int idx)
{
	struct child *k = &kids[idx];
	siginfo_t si;
	int status;

	if (k->stop_sig) {
		if (kill(k->pid, SIGCONT)) {
			fail_errno("child %d: kill(SIGCONT)", idx);
			return;
		}
		memset(&si, 0, sizeof(si));
		while (waitid(P_PID, (id_t)k->pid, &si, WCONTINUED))
			if (errno != EINTR) {
				fail_errno("child %d: waitid(WCONTINUED)", idx);
				return;
			}
		if (si.si_code != CLD_CONTINUED)
			fail("child %d: waitid(WCONTINUED): si_code %d, expected CLD_CONTINUED",
			     idx, si.si_code);
	}
	if (k->sleeper) {
		/* still asleep once it runs again: kill it */
		kill(k->pid, SIGKILL);
		if (waitpid(k->pid, &status, 0) != k->pid || !WIFSIGNALED(status) ||
		    WTERMSIG(status) != SIGKILL)
			fail("child %d: status %#x, expected killed by SIGKILL while asleep", idx,
			     status);
		return;
	}
	if (write(k->pipe[1], "x", 1) != 1) {
		fail_errno("child %d: write to its pipe", idx);
		return;
	}
	if (waitpid(k->pid, &status, 0) != k->pid) {
		fail_errno("child %d: waitpid", idx);
		return;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail("child %d: status %#x, expected exit 0 (its read got 'x'%s)", idx, status,
		     k->usr1 ? " and its SIGUSR1 handler ran: exit 5 if not" : "");
}

int main(int argc, char **argv)
{
	bool all_stopped = true;
	sigset_t s;

	if (test_init(argc, argv))
		return 1;
	sigemptyset(&s);
	sigaddset(&s, SIGCHLD);
	sigprocmask(SIG_BLOCK, &s, NULL);
	for (int i = 0; i < NCHILD; i++)
		if (setup_child(i))
			return 1;
	drain_sigchld();
	if (test_daemon())
		return 1;
	test_waitsig();

	for (int i = 0; i < NCHILD; i++) {
		int r, want = kids[i].reaped ? 0 : kids[i].stop_sig;

		if (check_threads_state(&kids[i], i))
			all_stopped = false;
		r = peek_report(&kids[i], i);
		if (r >= 0 && r != want)
			fail("child %d: the root can collect a stop report of signal %d, expected "
			     "%d",
			     i, r, want);
	}
	if (sigpending(&s) == 0 && sigismember(&s, SIGCHLD))
		fail("a SIGCHLD is pending in the root; none was at dump");
	if (!all_stopped) {
		/* SIGCONT to a running child sends no report: waiting for one would hang */
		for (int i = 0; i < NCHILD; i++)
			kill(kids[i].pid, SIGKILL);
		return 1;
	}
	for (int i = 0; i < NCHILD; i++)
		resume_and_reap(i);
	pass();
	return 0;
}
