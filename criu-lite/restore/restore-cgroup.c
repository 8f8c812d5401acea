/* restore-cgroup: every task (a zombie too, before it exits again) is put into the cgroup it was
 * in, in every hierarchy of pstree.img, before its memory is filled (so that it is charged there).
 *
 * The restorer compares the skeleton's /proc/PID/cgroup with the image, hierarchy by hierarchy;
 * where they differ it finds the directory through its own mounts (kinds/cgroup.c), creates the
 * missing directories of the path (mkdir -p, default settings: a cgroup's limits are the
 * system's, not the task's) and writes the host pid to cgroup.procs, then reads
 * /proc/PID/cgroup back. A hierarchy that no mount shows, or that this machine does not have
 * (a named v1 hierarchy comes into being with its first mount), is mounted detached
 * (fsopen/fsmount: no mount point appears, and the mount is gone when restore_cgroups returns).
 * A cgroup removed between its mkdir and the write (a release agent, systemd) is made again, up
 * to three times. A hierarchy the image names and this machine can't mount is fine only for a
 * task that was in its root. A cgroup that can't be reached or entered fails the restore, naming
 * the task, the hierarchy, the path and the errno.
 */
#define LOG_PREFIX "restore-cgroup: "

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
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

/* Detached mounts of the hierarchies no mount of this machine showed, for one task. */
struct yard {
	int fd[16];
	const char *controllers[16];
	size_t n;
};

static void yard_close(struct yard *y)
{
	for (size_t i = 0; i < y->n; i++)
		close(y->fd[i]);
	y->n = 0;
}

/* fsconfig() of each word of a v1 hierarchy's controllers ("cpu,cpuacct", "name=NAME"). */
static int configure_v1(int fs, const char *controllers)
{
	bool named_only = true;

	for (const char *w = controllers; *w;) {
		size_t n = strcspn(w, ",");
		char word[64];

		if (n >= sizeof(word))
			return -ENAMETOOLONG;
		memcpy(word, w, n);
		word[n] = 0;
		if (!strncmp(word, "name=", 5)) {
			if (fsconfig(fs, FSCONFIG_SET_STRING, "name", word + 5, 0))
				return -errno;
		} else {
			named_only = false;
			if (fsconfig(fs, FSCONFIG_SET_FLAG, word, NULL, 0))
				return -errno;
		}
		w += n + (w[n] == ',');
	}
	if (named_only && fsconfig(fs, FSCONFIG_SET_FLAG, "none", NULL, 0))
		return -errno;
	return 0;
}

/* A detached mount of the hierarchy: its fd in *mfd, or -errno. */
static int yard_mount(struct yard *y, const char *controllers, int *mfd)
{
	int fs, ret = 0;

	for (size_t i = 0; i < y->n; i++)
		if (!strcmp(y->controllers[i], controllers)) {
			*mfd = y->fd[i];
			return 0;
		}
	if (y->n == sizeof(y->fd) / sizeof(y->fd[0]))
		return -EMFILE;
	fs = fsopen(controllers[0] ? "cgroup" : "cgroup2", FSOPEN_CLOEXEC);
	if (fs < 0)
		return -errno;
	if (controllers[0])
		ret = configure_v1(fs, controllers);
	if (!ret && fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0))
		ret = -errno;
	if (!ret) {
		*mfd = fsmount(fs, FSMOUNT_CLOEXEC,
			       MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
		if (*mfd < 0)
			ret = -errno;
	}
	close(fs);
	if (ret)
		return ret;
	y->controllers[y->n] = controllers;
	y->fd[y->n++] = *mfd;
	return 0;
}

/* The directory of cgroup e: through a mount of this machine, else through a detached one. */
static int find_dir(const struct restore_task *t, const struct cgroup_mount_list *mounts,
		    struct yard *y, const CgroupEntry *e, char *dir, size_t len)
{
	char hn[96];
	int ret = cgroup_dir(mounts, e->controllers, e->path, dir, len), mfd = -1;

	cgroup_hierarchy_name(e->controllers, hn, sizeof(hn));
	if (ret == -ENOENT) {
		ret = yard_mount(y, e->controllers, &mfd);
		if (ret) {
			errno = -ret;
			pr_perror("pid %d: it was in %s of %s, which no mount here shows, and "
				  "mounting it failed",
				  t->vpid, e->path, hn);
			return ret;
		}
		if ((size_t)snprintf(dir, len, "/proc/self/fd/%d%s", mfd, e->path) >= len)
			ret = -ENAMETOOLONG;
		else
			pr_info("pid %d: %s mounted detached to reach %s\n", t->vpid, hn, e->path);
	}
	if (ret)
		pr_err("pid %d: its cgroup %s of %s is not reachable%s\n", t->vpid, e->path, hn,
		       ret == -EXDEV ? " through any mount of the hierarchy" : ": path too long");
	return ret;
}

static int enter(const struct restore_task *t, const struct cgroup_mount_list *mounts,
		 struct yard *y, const CgroupEntry *e)
{
	char dir[4096], procs[4200], hn[96], pid[16];
	int fd, ret, n = snprintf(pid, sizeof(pid), "%d", t->pid);

	cgroup_hierarchy_name(e->controllers, hn, sizeof(hn));
	ret = find_dir(t, mounts, y, e, dir, sizeof(dir));
	if (ret)
		return ret;
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	for (int attempt = 1;; attempt++) {
		ret = make_dirs(t, dir);
		if (ret)
			return ret;
		fd = open(procs, O_WRONLY | O_CLOEXEC);
		if (fd >= 0 && write(fd, pid, (size_t)n) == n) {
			close(fd);
			return 0;
		}
		ret = -errno;
		if (fd >= 0)
			close(fd);
		if (ret != -ENOENT || attempt == 3)
			break;
		pr_info("pid %d: its cgroup %s of %s was removed while it was entered; again\n",
			t->vpid, e->path, hn);
	}
	errno = -ret;
	pr_perror("pid %d: can't enter its cgroup %s of %s (%s)", t->vpid, e->path, hn, procs);
	return ret;
}

/* The image's cgroup e against the skeleton's: 1 when the task must move, 0 when it is there
 * (or was in the root of a hierarchy this machine does not have). */
static int must_move(const struct proc_cgroup_list *now, const CgroupEntry *e)
{
	const struct proc_cgroup *cg = proc_cgroup_find(now, e->controllers);

	if (cg)
		return strcmp(cg->path, e->path) != 0;
	/* a hierarchy this machine does not have (yet): mounting it (find_dir) makes it */
	return strcmp(e->path, "/") != 0;
}

int restore_cgroups(struct restore_task *t)
{
	const PstreeEntry *pe = t->pstree;
	struct proc_cgroup_list now = { 0 };
	struct cgroup_mount_list mounts = { 0 };
	struct yard yard = { .n = 0 };
	bool have_mounts = false;
	int ret = 0, moved = 0;

	if (!pe->n_cgroups)
		return 0;
	/* a kernel without cgroups: every task is in the root of nothing */
	if (!access("/proc/self/cgroup", F_OK) || errno != ENOENT)
		ret = proc_parse_cgroup(t->pid, 0, &now);
	for (size_t i = 0; !ret && i < pe->n_cgroups; i++) {
		const CgroupEntry *e = pe->cgroups[i];

		ret = must_move(&now, e);
		if (ret <= 0)
			continue;
		if (!have_mounts && (ret = proc_cgroup_mounts(&mounts)))
			break;
		have_mounts = true;
		ret = enter(t, &mounts, &yard, e);
		moved++;
	}
	proc_cgroup_list_free(&now);
	cgroup_mount_list_free(&mounts);
	yard_close(&yard);
	if (ret || !moved)
		return ret;
	/* read back */
	ret = proc_parse_cgroup(t->pid, 0, &now);
	for (size_t i = 0; !ret && i < pe->n_cgroups; i++)
		if (must_move(&now, pe->cgroups[i]) > 0) {
			pr_err("pid %d: still not in its cgroup %s after entering it\n", t->vpid,
			       pe->cgroups[i]->path);
			ret = -EIO;
		}
	proc_cgroup_list_free(&now);
	if (!ret)
		pr_info("pid %d: moved into its cgroups (%d hierarchies)\n", t->vpid, moved);
	return ret;
}
