/* tree: tests made of several tasks (see zdtmtst.h). Every task but the root
 * talks to the root through one pipe created before the first fork, in
 * records of 256 bytes (under PIPE_BUF, so each write is atomic whoever
 * writes): READY once its setup is done, SETUPFAIL instead if it failed,
 * and after SIGTERM one verdict, PASS or FAIL with the reason. The root
 * closes its write end once its own children are forked, so the pipe ends
 * (EOF) only when every other task has gone. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

enum rec_kind { REC_READY = 1, REC_SETUPFAIL, REC_PASS, REC_FAIL };

struct rec {
	int32_t idx;
	int32_t kind;
	int32_t pid;
	char msg[244];
};

_Static_assert(sizeof(struct rec) == 256, "one record is 256 bytes");

static void send_rec(const struct test_tree *tr, int idx, enum rec_kind kind, const char *msg)
{
	struct rec r = { .idx = idx, .kind = kind, .pid = getpid() };
	ssize_t n;

	snprintf(r.msg, sizeof(r.msg), "%s", msg ? msg : "");
	do {
		n = write(tr->wfd, &r, sizeof(r));
	} while (n < 0 && errno == EINTR);
	/* if the root is gone there is nobody left to tell */
}

static void appendf(char *why, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void appendf(char *why, size_t len, const char *fmt, ...)
{
	size_t n = strlen(why);
	va_list ap;

	if (n && n + 2 < len) {
		memcpy(why + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(why + n, len - n, fmt, ap);
	va_end(ap);
}

static void term_children(const struct test_tree *tr, int idx)
{
	for (int c = idx + 1; c < tr->n; c++) {
		if (tr->parent[c] == idx && tr->pid[c] > 0)
			kill(tr->pid[c], SIGTERM);
	}
}

/* Reap every child of idx; a child that did not exit 0 is a failure. */
static void reap_children(const struct test_tree *tr, int idx, char *why, size_t len)
{
	for (int c = idx + 1; c < tr->n; c++) {
		int status;

		if (tr->parent[c] != idx || tr->pid[c] <= 0)
			continue;
		while (waitpid(tr->pid[c], &status, 0) < 0) {
			if (errno != EINTR) {
				appendf(why, len, "waitpid(task %d, pid %d): %s", c, tr->pid[c],
					strerror(errno));
				status = 0;
				break;
			}
		}
		if (WIFEXITED(status) && WEXITSTATUS(status))
			appendf(why, len, "task %d (pid %d) exited with %d", c, tr->pid[c],
				WEXITSTATUS(status));
		else if (WIFSIGNALED(status))
			appendf(why, len, "task %d (pid %d) was killed by signal %d", c, tr->pid[c],
				WTERMSIG(status));
	}
}

/* The built-in check: the task has the pid and the parent it had. */
static int check_ids(const struct test_tree *tr, int idx, char *why, size_t len)
{
	pid_t want_ppid = idx ? tr->pid[tr->parent[idx]] : 0;
	struct test_stat st;

	if (getpid() != tr->pid[idx]) {
		snprintf(why, len, "getpid() is %d, was %d", getpid(), tr->pid[idx]);
		return -1;
	}
	if (!idx)
		return 0; /* the root's parent is the runner's business */
	if (getppid() != want_ppid) {
		snprintf(why, len, "getppid() is %d, expected %d (task %d)", getppid(), want_ppid,
			 tr->parent[idx]);
		return -1;
	}
	if (test_read_stat("/proc/self/stat", &st)) {
		snprintf(why, len, "can't read /proc/self/stat: %s", strerror(errno));
		return -1;
	}
	if (st.ppid != want_ppid) {
		snprintf(why, len, "/proc/self/stat says ppid %d, expected %d (task %d)", st.ppid,
			 want_ppid, tr->parent[idx]);
		return -1;
	}
	return 0;
}

static void task_main(struct test_tree *tr, int idx) __attribute__((noreturn));

/* Fork the children of idx in index order. 0, or -1 with why. */
static int fork_children(struct test_tree *tr, int idx, char *why, size_t len)
{
	for (int c = idx + 1; c < tr->n; c++) {
		pid_t pid;

		if (tr->parent[c] != idx)
			continue;
		pid = fork();
		if (pid < 0) {
			snprintf(why, len, "fork of task %d: %s", c, strerror(errno));
			return -1;
		}
		if (pid == 0)
			task_main(tr, c);
		tr->pid[c] = pid;
		if (tr->forked && tr->forked(tr, c, why, len))
			return -1;
	}
	return 0;
}

static void task_main(struct test_tree *tr, int idx)
{
	char why[sizeof(((struct rec *)0)->msg)] = "";
	int ret;

	close(tr->rfd);
	tr->pid[idx] = getpid();
	if ((tr->setup && tr->setup(tr, idx, why, sizeof(why))) ||
	    fork_children(tr, idx, why, sizeof(why))) {
		send_rec(tr, idx, REC_SETUPFAIL, why);
		term_children(tr, idx); /* the ones forked: they end as after a test */
		_exit(1);
	}
	send_rec(tr, idx, REC_READY, NULL);
	test_waitsig();
	term_children(tr, idx);
	ret = check_ids(tr, idx, why, sizeof(why));
	if (!ret && tr->check)
		ret = tr->check(tr, idx, why, sizeof(why));
	reap_children(tr, idx, why, sizeof(why));
	send_rec(tr, idx, why[0] ? REC_FAIL : REC_PASS, why);
	_exit(0);
}

/* Read one record, however long it takes: how soon a task of a loaded machine gets to answer is
 * the scheduler's business, and the runner's time limit of the test catches one that never does.
 * 1, 0 at EOF (every other task has gone), -1 with errno. */
static int read_rec(const struct test_tree *tr, struct rec *r)
{
	ssize_t n;

	do {
		n = read(tr->rfd, r, sizeof(*r));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if (n == 0)
		return 0;
	if (n != (ssize_t)sizeof(*r) || r->idx <= 0 || r->idx >= tr->n) {
		errno = EPROTO;
		return -1;
	}
	r->msg[sizeof(r->msg) - 1] = '\0';
	return 1;
}

/* Gather one record of kind want (or a failure) from every other task; with
 * first_bad, stop at the first failure (its subtree may never answer).
 * Returns the number of tasks that failed or did not answer, each fail()ed;
 * *silent: some did not answer. */
static int gather(struct test_tree *tr, enum rec_kind want, const char *when, bool first_bad,
		  bool *silent)
{
	bool seen[TEST_TREE_MAX] = { false };
	int got = 0, bad = 0, ret = 1;
	struct rec r;

	while (got < tr->n - 1 && (ret = read_rec(tr, &r)) > 0) {
		if (seen[r.idx])
			continue;
		seen[r.idx] = true;
		got++;
		if (r.kind == (int32_t)want)
			continue;
		bad++;
		fail("%s: task %d (pid %d, parent task %d): %s", when, r.idx, r.pid,
		     tr->parent[r.idx], r.msg[0] ? r.msg : "failed without a reason");
		if (first_bad)
			return bad;
	}
	*silent = got < tr->n - 1;
	if (!*silent)
		return bad;
	for (int i = 1; i < tr->n; i++) {
		if (seen[i])
			continue;
		bad++;
		if (ret < 0)
			fail_errno("%s: task %d (parent task %d) did not answer: read of the "
				   "verdict pipe",
				   when, i, tr->parent[i]);
		else
			fail("%s: task %d (parent task %d) did not answer: every task has gone "
			     "(the verdict pipe ended)",
			     when, i, tr->parent[i]);
		break; /* one line is enough: the others are most likely its subtree */
	}
	return bad;
}

int test_tree_start(struct test_tree *tr)
{
	char why[sizeof(((struct rec *)0)->msg)] = "";
	bool silent;
	int p[2];

	if (tr->n < 1 || tr->n > TEST_TREE_MAX || tr->parent[0] != -1) {
		fail("test_tree_start: %d tasks: must be 1..%d with parent[0] = -1", tr->n,
		     TEST_TREE_MAX);
		return -1;
	}
	for (int i = 1; i < tr->n; i++) {
		if (tr->parent[i] < 0 || tr->parent[i] >= i) {
			fail("test_tree_start: task %d has parent %d: must be 0..%d", i,
			     tr->parent[i], i - 1);
			return -1;
		}
	}
	if (pipe2(p, O_CLOEXEC)) {
		fail_errno("test_tree_start: pipe2");
		return -1;
	}
	tr->rfd = p[0];
	tr->wfd = p[1];
	memset(tr->pid, 0, sizeof(tr->pid));
	tr->pid[0] = getpid();
	if ((tr->setup && tr->setup(tr, 0, why, sizeof(why))) ||
	    fork_children(tr, 0, why, sizeof(why))) {
		fail("setup of the root task (pid %d): %s", getpid(), why);
		close(tr->wfd);
		term_children(tr, 0);
		return -1;
	}
	close(tr->wfd);
	tr->wfd = -1;
	if (gather(tr, REC_READY, "setup", true, &silent)) {
		term_children(tr, 0);
		return -1;
	}
	return 0;
}

int test_tree_finish(struct test_tree *tr)
{
	char why[sizeof(((struct rec *)0)->msg)] = "";
	bool silent;
	int bad = 0;

	term_children(tr, 0);
	if (check_ids(tr, 0, why, sizeof(why)) ||
	    (tr->check && tr->check(tr, 0, why, sizeof(why)))) {
		fail("root task (pid %d): %s", getpid(), why);
		why[0] = '\0';
		bad++;
	}
	bad += gather(tr, REC_PASS, "after SIGTERM", false, &silent);
	if (silent) {
		/* children that did not answer may hang: do not wait for them */
		for (int c = 1; c < tr->n; c++) {
			if (tr->parent[c] == 0 && tr->pid[c] > 0)
				kill(tr->pid[c], SIGKILL);
		}
	}
	reap_children(tr, 0, why, sizeof(why));
	if (why[0]) {
		fail("root task (pid %d): %s", getpid(), why);
		bad++;
	}
	close(tr->rfd);
	return bad ? -1 : 0;
}

int test_tree_run(struct test_tree *tr)
{
	if (test_tree_start(tr))
		return -1;
	if (test_daemon())
		return -1;
	test_waitsig();
	return test_tree_finish(tr);
}

int test_tree_ids_are(const struct test_tree *tr, int sid_task, int pgrp_task, char *why,
		      size_t len)
{
	pid_t sid = tr->pid[sid_task], pgrp = tr->pid[pgrp_task];
	struct test_stat st;

	if (getsid(0) != sid) {
		snprintf(why, len, "getsid(0) is %d, expected %d (task %d)", getsid(0), sid,
			 sid_task);
		return -1;
	}
	if (getpgrp() != pgrp) {
		snprintf(why, len, "getpgrp() is %d, expected %d (task %d)", getpgrp(), pgrp,
			 pgrp_task);
		return -1;
	}
	if (test_read_stat("/proc/self/stat", &st)) {
		snprintf(why, len, "can't read /proc/self/stat: %s", strerror(errno));
		return -1;
	}
	if (st.sid != sid || st.pgrp != pgrp) {
		snprintf(why, len, "/proc/self/stat says session %d, group %d; expected %d, %d",
			 st.sid, st.pgrp, sid, pgrp);
		return -1;
	}
	return 0;
}
