/* cgroup01: a task comes back in its cgroup of a named cgroup-v1 hierarchy that no mount shows.
 * The test mounts the hierarchy "zdtm-cgroup01" on a fresh directory, makes
 *
 *   task     its cgroup (T = /t.RANDOM, one per run)
 *   root     T/in/deep       (two levels)
 *   child    T
 *
 * puts each task there and unmounts the hierarchy again (it lives on while it has cgroups, but
 * restore can reach it only by mounting it itself). After the restore /proc/PID/cgroup of each
 * must name the same cgroup of name=zdtm-cgroup01. At the end both move to the hierarchy's root
 * and the cgroups are removed. Skipped where the kernel has no cgroup v1 (named hierarchies). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define HIER "zdtm-cgroup01"

static char top[64];

/* Mount the hierarchy on a fresh directory (in dir); 0, or -1 with errno. */
static int hier_mount(char *dir, size_t len)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, len, "%s/zdtm-cgroup01.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	if (mount("cgroup", dir, "cgroup", MS_NOSUID | MS_NODEV | MS_NOEXEC, "none,name=" HIER)) {
		int e = errno;

		rmdir(dir);
		errno = e;
		return -1;
	}
	return 0;
}

static void hier_umount(const char *dir)
{
	umount2(dir, MNT_DETACH);
	rmdir(dir);
}

static int write_pid(const char *dir, const char *rel, pid_t pid)
{
	char path[4200];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "%s%s/cgroup.procs", dir, rel);
	f = fopen(path, "w");
	if (!f)
		return -1;
	ret = fprintf(f, "%d", pid) < 0 ? -1 : 0;
	return fclose(f) ? -1 : ret;
}

/* The path of pid's cgroup in HIER, into buf; -1 if /proc/PID/cgroup has no such line. */
static int cgroup_of(pid_t pid, char *buf, size_t len)
{
	char path[64], line[1200];
	FILE *f;
	int ret = -1;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (ret && fgets(line, sizeof(line), f)) {
		char *c = strstr(line, ":name=" HIER ":");

		if (!c)
			continue;
		c[strcspn(c, "\n")] = 0;
		snprintf(buf, len, "%s", c + strlen(":name=" HIER ":"));
		ret = 0;
	}
	fclose(f);
	return ret;
}

static void check(const char *who, pid_t pid, const char *sub)
{
	char want[128], now[1200] = "";

	snprintf(want, sizeof(want), "%s%s", top, sub);
	if (cgroup_of(pid, now, sizeof(now)))
		fail("%s (pid %d): /proc/%d/cgroup names no cgroup of name=" HIER, who, pid, pid);
	else if (strcmp(now, want))
		fail("%s (pid %d): cgroup %s of name=" HIER ", expected %s", who, pid, now, want);
}

/* Both tasks back to the root, the cgroups removed. */
static void cleanup(pid_t child)
{
	static const char *const dirs[] = { "/in/deep", "/in", "" };
	char dir[128], path[256];

	if (hier_mount(dir, sizeof(dir))) {
		test_perror("cleanup: mount of name=" HIER);
		return;
	}
	write_pid(dir, "", getpid());
	if (child > 0)
		write_pid(dir, "", child);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s%s%s", dir, top, dirs[i]);
		if (rmdir(path) && errno != ENOENT)
			test_perror("cleanup: rmdir %s", path);
	}
	hier_umount(dir);
}

int main(int argc, char **argv)
{
	char dir[128], path[256];
	unsigned int rnd = 0;
	pid_t child;
	int status;

	if (test_init(argc, argv))
		return 1;
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (unsigned int)getpid();
	snprintf(top, sizeof(top), "/t.%08x", rnd);
	if (hier_mount(dir, sizeof(dir))) {
		if (errno == ENODEV || errno == EINVAL)
			skip("the kernel can't mount a named cgroup v1 hierarchy: %s",
			     strerror(errno));
		else
			fail_errno("setup: mount of cgroup name=" HIER);
		return errno == ENODEV || errno == EINVAL ? 0 : 1;
	}
	child = fork();
	if (child == 0) {
		for (;;)
			pause();
	}
	snprintf(path, sizeof(path), "%s%s", dir, top);
	if (child < 0 || mkdir(path, 0755)) {
		fail_errno("setup: mkdir %s", path);
		hier_umount(dir);
		return 1;
	}
	snprintf(path, sizeof(path), "%s%s/in", dir, top);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s%s/in/deep", dir, top);
	if (mkdir(path, 0755) || write_pid(dir, top, child) ||
	    (snprintf(path, sizeof(path), "%s/in/deep", top), write_pid(dir, path, getpid()))) {
		fail_errno("setup: making and entering the cgroups");
		hier_umount(dir);
		kill(child, SIGKILL);
		cleanup(-1);
		return 1;
	}
	hier_umount(dir);
	check("root (before)", getpid(), "/in/deep");
	check("child (before)", child, "");
	if (test_daemon())
		return 1;
	test_waitsig();

	check("root", getpid(), "/in/deep");
	check("child", child, "");
	cleanup(child);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	pass();
	return 0;
}
