/* proc: see proc.h. pidfds give waits with a deadline without signals. */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zdtm.h"
#include "proc.h"

#define KILL_GRACE_S 5.0
#define MAX_STRAYS   256

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int become_subreaper(void)
{
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) {
		int e = errno;

		zperror("prctl(PR_SET_CHILD_SUBREAPER)");
		return -e;
	}
	return 0;
}

void spawn_exec(const struct spawn_req *r)
{
	int fd = open("/dev/null", O_RDONLY);

	if (fd < 0 || dup2(fd, STDIN_FILENO) < 0) {
		zperror("child: /dev/null as stdin");
		_exit(127);
	}
	if (r->out) {
		fd = open(r->out, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0) {
			zperror("child: can't redirect output to %s", r->out);
			_exit(127);
		}
	}
	close_range(3, ~0U, 0);
	if (r->cwd && chdir(r->cwd)) {
		zperror("child: chdir %s", r->cwd);
		_exit(127);
	}
	if (r->netns) {
		fd = open(r->netns, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET)) {
			zperror("child: can't enter network namespace %s", r->netns);
			_exit(127);
		}
		close(fd);
	}
	if (r->env && putenv((char *)r->env)) {
		zperror("child: putenv %s", r->env);
		_exit(127);
	}
	execv(r->argv[0], r->argv);
	zperror("can't exec %s", r->argv[0]);
	_exit(127);
}

pid_t spawn(const struct spawn_req *r)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		int e = errno;

		zperror("fork for %s", r->argv[0]);
		return -e;
	}
	if (pid == 0)
		spawn_exec(r);
	return pid;
}

static int reap(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == ECHILD) {
			*status = -1; /* not ours: it exited, its status is not ours to see */
			return 0;
		}
		int e = errno;

		zperror("waitpid(%d)", pid);
		return -e;
	}
	return 0;
}

int wait_deadline(pid_t pid, double deadline, int *status)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	int ret;

	if (fd < 0) {
		int e = errno;

		if (e == ESRCH)
			return -ESRCH;
		zperror("pidfd_open(%d)", pid);
		return -e;
	}
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		double left = deadline - now_s();
		int n;

		if (left <= 0) {
			ret = -ETIMEDOUT;
			break;
		}
		n = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			zperror("poll on the pidfd of %d", pid);
			break;
		}
		if (n > 0) {
			ret = reap(pid, status);
			break;
		}
	}
	close(fd);
	return ret;
}

int kill_wait(pid_t pid, int *status)
{
	if (kill(pid, SIGKILL) && errno != ESRCH) {
		int e = errno;

		zperror("kill(%d, SIGKILL)", pid);
		return -e;
	}
	return wait_deadline(pid, now_s() + KILL_GRACE_S, status);
}

int run_cmd(const struct spawn_req *r, double deadline, int *status)
{
	pid_t pid = spawn(r);
	int ret;

	if (pid < 0)
		return pid;
	ret = wait_deadline(pid, deadline, status);
	if (ret == -ETIMEDOUT) {
		kill_wait(pid, status);
		return -ETIMEDOUT;
	}
	return ret;
}

int wait_gone(pid_t pid, double deadline)
{
	char path[32];
	int status;
	int ret = wait_deadline(pid, deadline, &status);

	if (ret && ret != -ESRCH)
		return ret;
	snprintf(path, sizeof(path), "/proc/%d", pid);
	while (access(path, F_OK) == 0) {
		if (now_s() >= deadline)
			return -ETIMEDOUT;
		usleep(10 * 1000);
		/* a zombie whose parent died meanwhile is ours now (subreaper) */
		waitpid(pid, &status, WNOHANG);
	}
	return 0;
}

pid_t parent_of(pid_t pid)
{
	char path[64], line[256];
	pid_t ppid = -ESRCH;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "PPid: %d", &ppid) == 1)
			break;
	}
	fclose(f);
	return ppid;
}

int list_children(pid_t *kids, int max)
{
	char path[64];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children", getpid());
	f = fopen(path, "re");
	if (!f) {
		zperror("can't open %s", path);
		return -1;
	}
	while (n < max && fscanf(f, "%d", &kids[n]) == 1)
		n++;
	fclose(f);
	return n;
}

/* PF_EXITING in /proc/PID/stat's flags: in exit(), past closing its files perhaps. */
static bool exiting(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long flags = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return true;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	/* after ") ": state ppid pgrp session tty_nr tpgid flags */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
		return false;
	return flags & 0x4; /* PF_EXITING */
}

/* Already on its way out: a zombie, in exit() (PF_EXITING), or SIGKILL pending (a test killed its
 * grandchild, which became ours when its parent exited first). Such a process is not left running.
 */
static bool dying(pid_t pid)
{
	char path[64], line[256];
	unsigned long long pnd;
	bool dead = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return true;
	while (!dead && fgets(line, sizeof(line), f)) {
		char st;

		if (sscanf(line, "State: %c", &st) == 1)
			dead = st == 'Z' || st == 'X';
		else if (!strncmp(line, "Threads:", 8))
			dead = dead || exiting(pid);
		else if (sscanf(line, "SigPnd: %llx", &pnd) == 1 ||
			 sscanf(line, "ShdPnd: %llx", &pnd) == 1)
			dead = pnd & (1ULL << (SIGKILL - 1));
	}
	fclose(f);
	return dead;
}

unsigned kill_strays(char *what, size_t len)
{
	pid_t kids[MAX_STRAYS];
	unsigned killed = 0;
	int status;

	/* killing a child can orphan grandchildren onto us: repeat until none */
	for (int round = 0; round < 64; round++) {
		int n;

		while (waitpid(-1, &status, WNOHANG) > 0)
			;
		n = list_children(kids, MAX_STRAYS);
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			bool was_dying = dying(kids[i]);

			if (!was_dying && !killed && what && len) {
				char path[64], comm[32] = "?";
				FILE *f;

				snprintf(path, sizeof(path), "/proc/%d/comm", kids[i]);
				f = fopen(path, "re");
				if (f && fgets(comm, sizeof(comm), f))
					comm[strcspn(comm, "\n")] = '\0';
				if (f)
					fclose(f);
				snprintf(what, len, "pid %d (%s)", kids[i], comm);
			}
			kill_wait(kids[i], &status);
			killed += !was_dying;
		}
	}
	return killed;
}

void reap_orphans(pid_t keep)
{
	pid_t kids[MAX_STRAYS];
	int status, n = list_children(kids, MAX_STRAYS);

	for (int i = 0; i < n; i++)
		if (kids[i] != keep && dying(kids[i]))
			waitpid(kids[i], &status, WNOHANG);
}

void status_str(int status, char *buf, size_t len)
{
	if (status == -1)
		snprintf(buf, len, "status unknown");
	else if (WIFEXITED(status))
		snprintf(buf, len, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "wait status %#x", status);
}
