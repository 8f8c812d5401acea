/* cgroup00: each task comes back in its cgroup v2 cgroup. Under a parent of its own in the
 * cgroup2 mount (found in /proc/self/mountinfo: /sys/fs/cgroup, or /sys/fs/cgroup/unified on a
 * hybrid layout), the test makes:
 *
 *   task     its cgroup (below the test's parent P)
 *   root     P/a
 *   child    P/b/c           (two levels)
 *   zombie   P/z             (entered, then it exited: /proc/PID/cgroup still names it)
 *
 * After the restore /proc/PID/cgroup of each must name the same cgroup. At the end the root
 * moves back to where it started and removes everything it made. Skipped without a cgroup2
 * mount. (That a missing cgroup is created is checked by the unit test test_cgroup.) */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

static char mnt[1024], start[1024], parent_rel[1200];

/* The cgroup2 mount point (with root "/"), from /proc/self/mountinfo. */
static int find_mount(void)
{
	char line[4096], root[1024], mp[1024];
	FILE *f = fopen("/proc/self/mountinfo", "r");
	int found = -1;

	if (!f)
		return -1;
	while (found && fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - ");

		if (!sep || strncmp(sep, " - cgroup2 ", 11))
			continue;
		if (sscanf(line, "%*s %*s %*s %1023s %1023s", root, mp) == 2 &&
		    !strcmp(root, "/")) {
			snprintf(mnt, sizeof(mnt), "%s", mp);
			found = 0;
		}
	}
	fclose(f);
	return found;
}

/* The v2 cgroup of pid ("0::/PATH"), into buf. */
static int cgroup_of(pid_t pid, char *buf, size_t len)
{
	char path[64], line[1200];
	int ret = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (ret && fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(buf, len, "%s", line + 3);
			ret = 0;
		}
	fclose(f);
	return ret;
}

static int enter(const char *rel, pid_t pid)
{
	char path[2600];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "%s%s/cgroup.procs", mnt, rel);
	f = fopen(path, "w");
	if (!f)
		return -1;
	ret = fprintf(f, "%d", pid) < 0 ? -1 : 0;
	return fclose(f) ? -1 : ret;
}

static int make(const char *sub)
{
	char path[2600];

	snprintf(path, sizeof(path), "%s%s%s", mnt, parent_rel, sub);
	return mkdir(path, 0755) && errno != EEXIST ? -1 : 0;
}

static void cleanup(void)
{
	static const char *const dirs[] = { "/z", "/b/c", "/b", "/a", "" };
	char path[2600];

	enter(start, getpid());
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s%s%s", mnt, parent_rel, dirs[i]);
		if (rmdir(path) && errno != ENOENT)
			test_perror("cleanup: rmdir %s", path);
	}
}

static void check(const char *who, pid_t pid, const char *sub)
{
	char want[1400], now[1200] = "";

	snprintf(want, sizeof(want), "%s%s", parent_rel, sub);
	if (cgroup_of(pid, now, sizeof(now)))
		fail_errno("%s (pid %d): can't read its cgroup", who, pid);
	else if (strcmp(now, want))
		fail("%s (pid %d): cgroup %s, expected %s", who, pid, now, want);
}

/* A child that enters P/sub, tells, then waits (or exits: a zombie there). */
static pid_t child_in(const char *sub, bool zombie)
{
	int p[2];
	pid_t pid;
	char c, rel[1400];

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		snprintf(rel, sizeof(rel), "%s%s", parent_rel, sub);
		if (enter(rel, getpid()) || write(p[1], "r", 1) != 1)
			_exit(1);
		if (zombie)
			_exit(0);
		for (;;)
			pause();
	}
	close(p[1]);
	if (pid < 0 || read(p[0], &c, 1) != 1)
		pid = -1;
	close(p[0]);
	return pid;
}

int main(int argc, char **argv)
{
	pid_t child, zombie;
	unsigned int rnd = 0;
	siginfo_t si;
	int status;

	if (test_init(argc, argv))
		return 1;
	if (find_mount()) {
		skip("no cgroup2 mount in /proc/self/mountinfo");
		return 0;
	}
	if (cgroup_of(getpid(), start, sizeof(start))) {
		fail_errno("setup: can't read /proc/self/cgroup");
		return 1;
	}
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (unsigned int)getpid();
	snprintf(parent_rel, sizeof(parent_rel), "%s/zdtm-cgroup00.%08x",
		 strcmp(start, "/") ? start : "", rnd);
	if (make("") || make("/a") || make("/b") || make("/b/c") || make("/z")) {
		skip("can't make cgroups under %s%s: %s", mnt, start, strerror(errno));
		cleanup();
		return 0;
	}
	child = child_in("/b/c", false);
	zombie = child_in("/z", true);
	{
		char rel[1400];

		snprintf(rel, sizeof(rel), "%s/a", parent_rel);
		if (child < 0 || zombie < 0 || enter(rel, getpid())) {
			fail_errno("setup: entering the cgroups");
			kill(child, SIGKILL);
			cleanup();
			return 1;
		}
	}
	while (waitid(P_PID, (id_t)zombie, &si, WEXITED | WNOWAIT))
		if (errno != EINTR) {
			fail_errno("setup: the zombie");
			return 1;
		}
	if (test_daemon())
		return 1;
	test_waitsig();

	check("root", getpid(), "/a");
	check("child", child, "/b/c");
	check("zombie", zombie, "/z");
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	waitpid(zombie, &status, 0);
	cleanup();
	pass();
	return 0;
}
