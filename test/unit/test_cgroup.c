/* test_cgroup: where a task's cgroup is, and putting a task back in it.
 *
 * - parse: /proc/PID/cgroup text of a hybrid host (v1 hierarchies, a named one, the v2 line)
 *   and of a v2-only host; malformed lines are refused.
 * - mounts: the cgroup and cgroup2 mounts of a mountinfo text (a bind-mounted subtree, an
 *   escaped space), other filesystems left out.
 * - dir: cgroup_dir() maps a hierarchy and path to a directory through the mount that shows it
 *   (the v1 one whose options hold every controller; a mount whose root is a subtree only for
 *   paths below it); -ENOENT without a mount of the hierarchy, -EXDEV when no mount shows the
 *   path.
 * - create: restore_cgroups() puts a child process into a cgroup v2 path that does not exist
 *   yet (two levels), creating it, and /proc/PID/cgroup names it afterwards; everything made is
 *   removed again. Needs root and a cgroup2 mount (skipped otherwise).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "criu-lite/kinds/cgroup.h"
#include "criu-lite/log.h"
#include "criu-lite/proc/proc.h"
#include "criu-lite/restore/restore-cgroup.h"

static const char hybrid[] = "9:name=systemd:/user.slice\n"
			     "4:memory:/process_api/4e40\n"
			     "2:cpu,cpuacct:/\n"
			     "0::/a/b\n";

static void test_parse(void **state)
{
	struct proc_cgroup_list l;
	const struct proc_cgroup *cg;

	(void)state;
	assert_int_equal(proc_parse_cgroup_buf("t", hybrid, sizeof(hybrid) - 1, &l), 0);
	assert_int_equal(l.n, 4);
	cg = proc_cgroup_find(&l, "");
	assert_non_null(cg);
	assert_string_equal(cg->path, "/a/b");
	assert_int_equal(cg->id, 0);
	cg = proc_cgroup_find(&l, "name=systemd");
	assert_non_null(cg);
	assert_string_equal(cg->path, "/user.slice");
	assert_int_equal(cg->id, 9);
	assert_string_equal(proc_cgroup_find(&l, "cpu,cpuacct")->path, "/");
	assert_null(proc_cgroup_find(&l, "cpu"));
	proc_cgroup_list_free(&l);

	assert_int_equal(proc_parse_cgroup_buf("t", "0::/\n", 5, &l), 0);
	assert_int_equal(l.n, 1);
	proc_cgroup_list_free(&l);

	assert_int_equal(proc_parse_cgroup_buf("t", "x::/\n", 5, &l), -EINVAL);
	assert_int_equal(proc_parse_cgroup_buf("t", "0:memory\n", 9, &l), -EINVAL);
	assert_int_equal(proc_parse_cgroup_buf("t", "0::a\n", 5, &l), -EINVAL);
	assert_int_equal(proc_parse_cgroup_buf("t", "0::/", 4, &l), -EINVAL); /* truncated */
}

static const char mountinfo[] =
    "22 1 0:21 / /proc rw,nosuid - proc proc rw\n"
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
    "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime shared:9 - cgroup cgroup "
    "rw,xattr,name=systemd\n"
    "40 30 0:37 /sub /mnt/my\\040cg rw,relatime - cgroup2 cgroup2 rw\n"
    "41 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n";

static void test_mounts(void **state)
{
	struct cgroup_mount_list m;

	(void)state;
	assert_int_equal(proc_parse_cgroup_mounts_buf("t", mountinfo, sizeof(mountinfo) - 1, &m),
			 0);
	assert_int_equal(m.n, 5);
	assert_false(m.v[0].v2);
	assert_string_equal(m.v[0].mountpoint, "/sys/fs/cgroup/cpu,cpuacct");
	assert_string_equal(m.v[2].options, "rw,xattr,name=systemd");
	assert_true(m.v[3].v2);
	assert_string_equal(m.v[3].root, "/sub");
	assert_string_equal(m.v[3].mountpoint, "/mnt/my cg");
	cgroup_mount_list_free(&m);
	assert_int_equal(proc_parse_cgroup_mounts_buf("t", "1 2 3\n", 6, &m), -EINVAL);
}

static void test_dir(void **state)
{
	struct cgroup_mount_list m;
	char dir[256];

	(void)state;
	assert_int_equal(proc_parse_cgroup_mounts_buf("t", mountinfo, sizeof(mountinfo) - 1, &m),
			 0);
	/* v2: the subtree mount shows only what is below /sub */
	assert_int_equal(cgroup_dir(&m, "", "/sub/x", dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/mnt/my cg/x");
	assert_int_equal(cgroup_dir(&m, "", "/subway", dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/sys/fs/cgroup/unified/subway");
	assert_int_equal(cgroup_dir(&m, "", "/", dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/sys/fs/cgroup/unified/");
	/* v1: by controllers, in any order of the options */
	assert_int_equal(cgroup_dir(&m, "cpu,cpuacct", "/k", dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/sys/fs/cgroup/cpu,cpuacct/k");
	assert_int_equal(cgroup_dir(&m, "cpuacct", "/k", dir, sizeof(dir)), 0);
	assert_int_equal(cgroup_dir(&m, "name=systemd", "/u", dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/sys/fs/cgroup/systemd/u");
	assert_int_equal(cgroup_dir(&m, "pids", "/", dir, sizeof(dir)), -ENOENT);
	assert_int_equal(cgroup_dir(&m, "memory", "/x", dir, 10), -ENAMETOOLONG);
	cgroup_mount_list_free(&m);
	/* only the subtree mount: a path outside it is not reachable */
	assert_int_equal(proc_parse_cgroup_mounts_buf(
			     "t", "40 30 0:37 /sub /mnt rw - cgroup2 cgroup2 rw\n", 45, &m),
			 0);
	assert_int_equal(cgroup_dir(&m, "", "/other", dir, sizeof(dir)), -EXDEV);
	cgroup_mount_list_free(&m);
}

static void test_create(void **state)
{
	struct cgroup_mount_list m;
	struct proc_cgroup_list now;
	struct restore_task t = { 0 };
	PstreeEntry pe = PSTREE_ENTRY__INIT;
	CgroupEntry e = CGROUP_ENTRY__INIT, *ep = &e;
	char base[64], path[96], dir[512], top[512];
	unsigned int rnd = 0;
	pid_t child;
	int status, ret;

	(void)state;
	if (geteuid() || proc_cgroup_mounts(&m) || cgroup_dir(&m, "", "/", top, sizeof(top))) {
		skip();
		return;
	}
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (unsigned int)getpid();
	snprintf(base, sizeof(base), "/test_cgroup.%08x", rnd);
	snprintf(path, sizeof(path), "%s/x/y", base);
	child = fork();
	if (child == 0) {
		for (;;)
			pause();
	}
	assert_true(child > 0);
	e.path = path;
	e.controllers = "";
	pe.n_cgroups = 1;
	pe.cgroups = &ep;
	t.pid = t.vpid = child;
	t.pstree = &pe;
	ret = restore_cgroups(&t);
	assert_int_equal(proc_parse_cgroup(child, 0, &now), 0);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	assert_int_equal(ret, 0);
	assert_string_equal(proc_cgroup_find(&now, "")->path, path);
	proc_cgroup_list_free(&now);
	/* the child is gone: everything made can go */
	assert_int_equal(cgroup_dir(&m, "", path, dir, sizeof(dir)), 0);
	assert_int_equal(rmdir(dir), 0);
	*strrchr(dir, '/') = 0;
	assert_int_equal(rmdir(dir), 0);
	*strrchr(dir, '/') = 0;
	assert_int_equal(rmdir(dir), 0);
	cgroup_mount_list_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_mounts),
		cmocka_unit_test(test_dir),
		cmocka_unit_test(test_create),
	};

	log_init(NULL, LOG_MSG); /* the malformed texts are refused with messages */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
