/* restore-cgroup: every task (a zombie too, before it exits again) is put into the cgroup it was
 * in, in every hierarchy of pstree.img, before its memory is filled (so that it is charged there).
 *
 * The restorer compares the skeleton's /proc/PID/cgroup with the image, hierarchy by hierarchy;
 * where they differ it finds the directory through its own mounts (kinds/cgroup.c), creates the
 * missing directories of the path (mkdir -p, default settings: a cgroup's limits are the
 * system's, not the task's) and writes the host pid to cgroup.procs, then reads
 * /proc/PID/cgroup back. A hierarchy the image names and this machine lacks is fine only for a
 * task that was in its root. A cgroup that can't be reached or entered fails the restore, naming
 * the task, the hierarchy, the path and the errno.
 */
#define LOG_PREFIX "restore-cgroup: "

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "criu-lite/kinds/cgroup.h"
#include "criu-lite/log.h"
#include "criu-lite/restore/restore-cgroup.h"

/* mkdir -p of dir, below the mount point (which exists). */
static int make_dirs(const struct restore_task *t, char *dir)
{
	for (char *p = dir + 1;; p++) {
		if (*p != '/' && *p)
			continue;
		char c = *p;

		*p = 0;
		if (mkdir(dir, 0755) && errno != EEXIST) {
			pr_perror("pid %d: can't create the cgroup %s", t->vpid, dir);
			*p = c;
			return -errno;
		}
		*p = c;
		if (!c)
			return 0;
	}
}

static int enter(const struct restore_task *t, const struct cgroup_mount_list *mounts,
		 const CgroupEntry *e)
{
	char dir[4096], procs[4200], hn[96], pid[16];
	int fd, ret, n;

	cgroup_hierarchy_name(e->controllers, hn, sizeof(hn));
	ret = cgroup_dir(mounts, e->controllers, e->path, dir, sizeof(dir));
	if (ret) {
		pr_err("pid %d: its cgroup %s of %s is %s here\n", t->vpid, e->path, hn,
		       ret == -ENOENT ? "not reachable: the hierarchy is not mounted"
				      : "not reachable through any mount of the hierarchy");
		return ret;
	}
	ret = make_dirs(t, dir);
	if (ret)
		return ret;
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	n = snprintf(pid, sizeof(pid), "%d", t->pid);
	fd = open(procs, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, pid, (size_t)n) != n) {
		pr_perror("pid %d: can't enter its cgroup %s of %s (%s)", t->vpid, e->path, hn,
			  procs);
		ret = -errno;
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

/* The image's cgroup e against the skeleton's: 1 when the task must move, 0 when it is there,
 * -errno (logged) when the hierarchy is missing here and e is not its root. */
static int must_move(const struct restore_task *t, const struct proc_cgroup_list *now,
		     const CgroupEntry *e)
{
	const struct proc_cgroup *cg = proc_cgroup_find(now, e->controllers);
	char hn[96];

	if (cg)
		return strcmp(cg->path, e->path) != 0;
	if (!strcmp(e->path, "/"))
		return 0;
	pr_err("pid %d: it was in %s of %s, which this machine does not have\n", t->vpid, e->path,
	       cgroup_hierarchy_name(e->controllers, hn, sizeof(hn)));
	return -ENOENT;
}

int restore_cgroups(struct restore_task *t)
{
	const PstreeEntry *pe = t->pstree;
	struct proc_cgroup_list now = { 0 };
	struct cgroup_mount_list mounts = { 0 };
	int ret, moved = 0;

	if (!pe->n_cgroups)
		return 0;
	ret = proc_parse_cgroup(t->pid, 0, &now);
	for (size_t i = 0; !ret && i < pe->n_cgroups; i++) {
		const CgroupEntry *e = pe->cgroups[i];

		ret = must_move(t, &now, e);
		if (ret <= 0)
			continue;
		if (!mounts.v && (ret = proc_cgroup_mounts(&mounts)))
			break;
		ret = enter(t, &mounts, e);
		moved++;
	}
	proc_cgroup_list_free(&now);
	cgroup_mount_list_free(&mounts);
	if (ret || !moved)
		return ret;
	/* read back */
	ret = proc_parse_cgroup(t->pid, 0, &now);
	for (size_t i = 0; !ret && i < pe->n_cgroups; i++)
		if (must_move(t, &now, pe->cgroups[i]) > 0) {
			pr_err("pid %d: still not in its cgroup %s after entering it\n", t->vpid,
			       pe->cgroups[i]->path);
			ret = -EIO;
		}
	proc_cgroup_list_free(&now);
	if (!ret)
		pr_info("pid %d: moved into its cgroups (%d hierarchies)\n", t->vpid, moved);
	return ret;
}
