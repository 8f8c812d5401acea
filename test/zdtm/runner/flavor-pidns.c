/* flavor pidns: the test runs as the init (pid 1) of a new PID namespace, in
 * a new mount namespace whose /proc shows that PID namespace (nsspawn.h). It
 * is dumped and restored as in h, with h's hooks (faults=, expect=dumpfail,
 * opts=, rfaults=, corrupt= included), but the restore must give it a PID
 * namespace of its own again, in which it is pid 1: its host pid changes
 * (the original one may even still be taken), only the pids inside the
 * namespace are kept.
 *
 * start: the lib sees getpid() == 1 and does not daemonize (its namespace
 * would die with it); the pidfile, which must say 1, is the ready signal,
 * and an exit before it ends the test there (a skip, or a failed setup: its
 * status is the test's own, exit 0 counting as 1 as with a starter).
 * After the start and after the restore, the root (the host pid from clone()
 * or from restore's --pidfile) must be pid 1 in its namespace (the last
 * NSpid of /proc/PID/status), in another PID namespace than the runner's,
 * and its /proc must show that namespace (its /proc/1 is itself). During
 * the restore a placeholder holds the root's original host pid. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "zdtm.h"
#include "desc.h"
#include "flavor.h"
#include "flavor-pidns.h"
#include "fs.h"
#include "nsspawn.h"
#include "proc.h"
#include "ptree.h"
#include "testrun.h"

#define POLL_NS (10 * 1000 * 1000)

/* The NSpid line of /proc/PID/status ("12345\t1") into buf: 0 or -errno. */
static int nspid_line(pid_t pid, char *buf, size_t len)
{
	char *path = strf("/proc/%d/status", pid), line[256];
	FILE *f = fopen(path, "re");
	int ret = -ENOENT;

	free(path);
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "NSpid:", 6))
			continue;
		snprintf(buf, len, "%s", line + 6 + strspn(line + 6, " \t"));
		buf[strcspn(buf, "\n")] = '\0';
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

/* Field 22 of a /proc stat file, the start time in clock ticks since boot:
 * 0 or -errno. Two processes started at the same tick are not pid 1 of
 * the same proc. */
static int start_time(const char *path, unsigned long long *ticks)
{
	FILE *f = fopen(path, "re");
	char buf[1024], *p;
	int ret = -EPROTO;

	if (!f)
		return -errno;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')'))) {
		/* after "pid (comm)": state is field 3, start time field 22 */
		for (int field = 2; p && field < 22; field++)
			p = strchr(p + 1, ' ');
		if (p && sscanf(p, " %llu", ticks) == 1)
			ret = 0;
	}
	fclose(f);
	return ret;
}

/* Whether the proc on /proc in the mount namespace of the thread (as seen
 * from the namespace's root, whatever chroot the test made) is one of the
 * test's PID namespace: there, /proc/1 must be the test (its start time is
 * ticks). A child of the runner enters the mount namespace to look. 0 with
 * *same set, or -errno. */
static int proc_shows(pid_t pid, pid_t tid, unsigned long long ticks, bool *same)
{
	char *mnt = strf("/proc/%d/task/%d/ns/mnt", pid, tid);
	int fd = open(mnt, O_RDONLY | O_CLOEXEC), status;
	pid_t child;

	free(mnt);
	if (fd < 0)
		return -errno;
	fflush(NULL);
	child = fork();
	if (child < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	if (child == 0) {
		unsigned long long seen;

		if (setns(fd, CLONE_NEWNS) || start_time("/proc/1/stat", &seen))
			_exit(2);
		_exit(seen == ticks ? 0 : 1);
	}
	close(fd);
	while (waitpid(child, &status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) > 1)
		return -EIO;
	*same = WEXITSTATUS(status) == 0;
	return 0;
}

/* A thread of pid that has not exited (its namespaces and root are gone with
 * it), or pid itself if none is found. */
static pid_t live_thread(pid_t pid)
{
	pid_t tids[PTREE_MAX];
	int n = ptree_threads(pid, tids, PTREE_MAX);

	for (int i = 0; i < n; i++) {
		char *path = strf("/proc/%d/task/%d/stat", pid, tids[i]), buf[512], *p;
		FILE *f = fopen(path, "re");
		bool alive = false;

		free(path);
		if (f && fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
			alive = p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
		if (f)
			fclose(f);
		if (alive)
			return tids[i];
	}
	return pid;
}

/* pid is pid 1 of a PID namespace of its own, and its /proc shows it. */
int pidns_check_init(struct test_run *t, pid_t pid, const char *when)
{
	pid_t tid = live_thread(pid);
	char *ns = strf("/proc/%d/task/%d/ns/pid", pid, tid);
	char *stat_path = strf("/proc/%d/stat", pid);
	char nspid[128] = "", *last;
	unsigned long long ticks = 0;
	struct stat its, mine;
	bool same = false;
	int ret = nspid_line(pid, nspid, sizeof(nspid));

	if (ret) {
		run_why(t, "%s: no NSpid in /proc/%d/status: %s (errno %d)", when, pid,
			strerror(-ret), -ret);
		goto out;
	}
	last = strrchr(nspid, '\t');
	if (!last || strcmp(last + 1, "1")) {
		run_why(t,
			"%s: pid %d has NSpid '%s': it must be pid 1 of a pid namespace of its "
			"own",
			when, pid, nspid);
		ret = -EPROTO;
		goto out;
	}
	if (stat(ns, &its) || stat("/proc/self/ns/pid", &mine)) {
		ret = -errno;
		run_why(t, "%s: can't stat %s or /proc/self/ns/pid: %s (errno %d)", when, ns,
			strerror(-ret), -ret);
		goto out;
	}
	if (its.st_dev == mine.st_dev && its.st_ino == mine.st_ino) {
		run_why(t, "%s: pid %d is in the runner's pid namespace", when, pid);
		ret = -EPROTO;
		goto out;
	}
	ret = start_time(stat_path, &ticks);
	if (!ret)
		ret = proc_shows(pid, tid, ticks, &same);
	if (ret) {
		run_why(t,
			"%s: can't look at /proc in the mount namespace of pid %d: %s (errno %d)",
			when, pid, strerror(-ret), -ret);
	} else if (!same) {
		run_why(t,
			"%s: /proc in the mount namespace of pid %d shows another pid "
			"namespace than its own (its /proc/1 is not the test): it needs a proc "
			"of its pid namespace there",
			when, pid);
		ret = -EPROTO;
	}
out:
	free(ns);
	free(stat_path);
	return ret;
}

/* What is done as in h is done by h's hooks. */
static int pidns_prepare(struct test_run *t)
{
	return flavor_h.prepare(t);
}

static int pidns_checkpoint(struct test_run *t)
{
	return flavor_h.checkpoint(t);
}

static int pidns_exit_status(struct test_run *t, int *status)
{
	return flavor_h.exit_status(t, status);
}

static void pidns_cleanup(struct test_run *t)
{
	flavor_h.cleanup(t);
}

int pidns_start(struct test_run *t, const struct spawn_req *req, int *status)
{
	const struct timespec nap = { 0, POLL_NS };
	pid_t pid = ns_spawn(req), inner = 0;

	if (pid < 0) {
		run_why(t, "can't start %s in a new pid namespace: %s (errno %d)", t->bin,
			strerror(-pid), -pid);
		return pid;
	}
	while (read_pid(t->pidfile, &inner)) {
		if (waitpid(pid, status, WNOHANG) == pid) {
			/* as a starter would: an end before ready is never a success (a
			 * skip exits 0), and the caller reads the verdict */
			if (*status == 0)
				*status = W_EXITCODE(1, 0);
			return 0;
		}
		if (now_s() >= t->deadline) {
			kill_wait(pid, status);
			return -ETIMEDOUT;
		}
		nanosleep(&nap, NULL);
	}
	t->pid = pid;
	if (inner != 1) {
		run_why(t, "pidfile %s says %d: the test (host pid %d) must see itself as pid 1",
			t->pidfile, inner, pid);
		return -EPROTO;
	}
	*status = 0;
	return pidns_check_init(t, pid, "started");
}

/* The original host pid of the root is taken meanwhile (by a placeholder),
 * except with rfaults=, rkills=, rkillrand= or corrupt=1: the restores that must fail check that
 * nothing has that pid and that the runner has no other child. */
static int pidns_restore(struct test_run *t)
{
	bool hold =
	    !t->desc->rfaults && !t->desc->corrupt && !t->desc->rkills && !t->desc->rkillrand;
	pid_t old = t->pid, holder = hold ? ns_hold_pid(old) : 0;
	char when[96];
	int ret, status;

	if (holder < 0) {
		run_why(t, "can't take the original host pid %d before the restore: %s (errno %d)",
			old, strerror(-holder), -holder);
		return holder;
	}
	ret = flavor_h.restore(t);
	if (holder > 0)
		kill_wait(holder, &status);
	if (ret)
		return ret;
	snprintf(when, sizeof(when), "restored (was host pid %d%s)", old,
		 holder > 0 ? ", held meanwhile" : "");
	return pidns_check_init(t, t->pid, when);
}

const struct flavor flavor_pidns = {
	.name = "pidns",
	.help = "pid 1 of a new pid namespace (and mount namespace), dumped and restored there",
	.prepare = pidns_prepare,
	.start = pidns_start,
	.checkpoint = pidns_checkpoint,
	.restore = pidns_restore,
	.exit_status = pidns_exit_status,
	.cleanup = pidns_cleanup,
};
