/* zombie_pgrp00: a zombie keeps its process group and session across checkpoint/restore (it is
 * made to exit again during the restore, once every task is in its group). The root (a session
 * leader) has these children, each a zombie except "member" and "keeper":
 *
 *   child    its group                                      session
 *   lead     its own, which "member" (alive) joined         the root's
 *   own      its own, alone                                 the root's
 *   sib      that of "keeper", a live sibling               the root's
 *   inherit  the root's (inherited)                         the root's
 *   zled     that of "lead", itself a zombie now            the root's
 *   sess     its own                                        its own (setsid)
 *   zgone    that of "gone", reaped before the dump         the root's
 *   lgone    the same (alive)                               the root's
 *
 * "gone" led a group and exited, and the root reaped it: the group lives on without a leader
 * (the restore needs a task with its pid for a moment to make that group again).
 * Before the dump and after the restore the root reads every child's state, group and session
 * from /proc/PID/stat; they must be the same, and waitpid() then reaps each zombie. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

enum { LEAD, MEMBER, OWN, KEEPER, SIB, INHERIT, ZLED, SESS, GONE, ZGONE, LGONE, NKIDS };

static const char *const names[NKIDS] = { "lead", "member", "own",  "keeper", "sib",  "inherit",
					  "zled", "sess",   "gone", "zgone",  "lgone" };
static const bool alive[NKIDS] = { [MEMBER] = true, [KEEPER] = true, [LGONE] = true };

static pid_t pid[NKIDS];
static struct test_stat before[NKIDS];

/* The group child i joins (0: keeps the root's), and whether it starts a session. */
static pid_t group_of(int i)
{
	switch (i) {
	case LEAD:
	case OWN:
	case KEEPER:
	case GONE:
		return -1; /* its own */
	case ZGONE:
	case LGONE:
		return pid[GONE];
	case MEMBER:
	case ZLED:
		return pid[LEAD];
	case SIB:
		return pid[KEEPER];
	default:
		return 0;
	}
}

static int start(int i)
{
	pid_t g = group_of(i);
	int p[2];
	char c;

	if (pipe(p))
		return -1;
	pid[i] = fork();
	if (pid[i] == 0) {
		close(p[0]);
		if (i == SESS ? setsid() < 0 : g && setpgid(0, g < 0 ? 0 : g))
			_exit(100);
		if (write(p[1], "r", 1) != 1)
			_exit(101);
		if (!alive[i])
			_exit(i + 1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (pid[i] < 0 || read(p[0], &c, 1) != 1) {
		close(p[0]);
		return -1;
	}
	close(p[0]);
	return 0;
}

static int wait_zombie(pid_t p)
{
	siginfo_t si;

	while (waitid(P_PID, (id_t)p, &si, WEXITED | WNOWAIT))
		if (errno != EINTR)
			return -1;
	return 0;
}

static int read_stat(int i, struct test_stat *st)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/stat", pid[i]);
	return test_read_stat(path, st);
}

int main(int argc, char **argv)
{
	struct test_stat st;
	int status;

	if (test_init(argc, argv))
		return 1;
	/* the groups zombies join must exist when they join: lead, keeper first */
	for (int i = 0; i < NKIDS; i++) {
		if (start(i)) {
			fail_errno("setup: child %s", names[i]);
			return 1;
		}
	}
	/* the group of "gone" outlives it */
	if (waitpid(pid[GONE], &status, 0) != pid[GONE]) {
		fail_errno("setup: reap gone");
		return 1;
	}
	for (int i = 0; i < NKIDS; i++) {
		if (i == GONE)
			continue;
		if (!alive[i] && wait_zombie(pid[i])) {
			fail_errno("setup: %s did not end", names[i]);
			return 1;
		}
		if (read_stat(i, &before[i])) {
			fail_errno("setup: %s: /proc/%d/stat", names[i], pid[i]);
			return 1;
		}
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	for (int i = 0; i < NKIDS; i++) {
		if (i == GONE)
			continue;
		if (read_stat(i, &st)) {
			fail_errno("%s (pid %d): /proc stat", names[i], pid[i]);
			continue;
		}
		if (st.state != before[i].state && (!alive[i] || st.state == 'Z'))
			fail("%s (pid %d): state %c, expected %c", names[i], pid[i], st.state,
			     before[i].state);
		if (st.pgrp != before[i].pgrp || st.sid != before[i].sid)
			fail("%s (pid %d, %s): group %d session %d, expected group %d session %d",
			     names[i], pid[i], alive[i] ? "alive" : "a zombie", st.pgrp, st.sid,
			     before[i].pgrp, before[i].sid);
	}
	for (int i = 0; i < NKIDS; i++) {
		if (i == GONE)
			continue;
		if (alive[i])
			kill(pid[i], SIGKILL);
		if (waitpid(pid[i], &status, 0) != pid[i])
			fail_errno("%s: waitpid", names[i]);
		else if (!alive[i] && (!WIFEXITED(status) || WEXITSTATUS(status) != i + 1))
			fail("%s: status %#x, expected exit %d", names[i], status, i + 1);
	}
	pass();
	return 0;
}
