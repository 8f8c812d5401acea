/* dump-outside: what of the tree a process outside it also has open, where that can't be
 * rebuilt: pipes and FIFOs (see pipes.h), and the open file descriptions that hold the tree's
 * flock and OFD locks (see locks.h).
 *
 * A pipe shared with the outside (the shell's end of `producer | task`, a FIFO a client holds)
 * can't be rebuilt: the outsider keeps the old pipe, the restored task would get a new one
 * with nobody at the other end. So one pass over /proc/[0-9]* /fd of every process but the
 * tree's, our own and our children's (a helper forked with copies of our fds, which include
 * the files in flight we hold: dump-inflight.c) looks for the tree's pipes (by "pipe:[INO]", FIFOs
 * by device + inode) and refuses the first one found, naming the tree's fd, the outsider and its
 * fd, unless the user marked the pipe --external (then it is not rebuilt at restore: --inherit-fd
 * gives it). An --external key that names no pipe of the tree is refused too: an option that does
 * nothing is an error. A flock or OFD lock belongs to an open file description: when an outsider
 * has that description too (an fd inherited from outside the tree, or passed to it), restore
 * would take the lock again on a new description while the outsider keeps the old one, so the
 * lock could not be taken (a write lock) or would be two locks (read locks): refused, naming
 * the lock's fd and the outsider (same device and inode, then kcmp KCMP_FILE). */
#include <dirent.h>
#include <linux/kcmp.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LOG_PREFIX "pipes: "
#include "criu-lite/dump/dump.h"
#include "criu-lite/kinds/pipes.h"
#include "criu-lite/log.h"
#include "criu-lite/proc/proc.h"

static bool in_tree(pid_t pid, const pid_t *tree, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (tree[i] == pid)
			return true;
	return false;
}

/* The pipe of p that the fd link (and, for a path, the file through via) is on, or NULL. */
static const struct dump_pipe *match(const struct dump_pipes *p, bool have_fifo, int dfd,
				     const char *name, const char *link)
{
	unsigned long long ino;
	struct stat st;
	int n = -1;

	if (sscanf(link, "pipe:[%llu]%n", &ino, &n) == 1 && link[n] == '\0') {
		for (size_t i = 0; i < p->n; i++)
			if (!p->v[i].fifo && (unsigned long long)p->v[i].ino == ino)
				return &p->v[i];
		return NULL;
	}
	if (!have_fifo || link[0] != '/' || fstatat(dfd, name, &st, 0) || !S_ISFIFO(st.st_mode))
		return NULL;
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].fifo && p->v[i].dev == st.st_dev && p->v[i].ino == st.st_ino)
			return &p->v[i];
	return NULL;
}

/* The locked description of the tree that fd `name` of outsider pid (a path: link) is, or NULL. */
static const struct outside_lock *match_lock(const struct outside_lock *locks, size_t nl, pid_t pid,
					     int dfd, const char *name, const char *link)
{
	struct stat st;

	if (!nl || link[0] != '/' || fstatat(dfd, name, &st, 0))
		return NULL;
	for (size_t i = 0; i < nl; i++)
		if (locks[i].dev == st.st_dev && locks[i].ino == st.st_ino &&
		    syscall(SYS_kcmp, pid, locks[i].pid, KCMP_FILE, atoi(name), locks[i].fd) == 0)
			return &locks[i];
	return NULL;
}

struct outside_hit {
	const struct dump_pipe *pipe;	 /* a pipe of the tree, or */
	const struct outside_lock *lock; /* a locked description of the tree */
	int fd;				 /* the outsider's fd on it */
};

/* The first fd of process pid on a pipe of p that is not --external, or on a locked
 * description of the tree: 1 and *hit; 0. */
static int scan_process(const struct dump_pipes *p, bool have_fifo,
			const struct outside_lock *locks, size_t nl, pid_t pid,
			struct outside_hit *hit)
{
	char path[64], link[512];
	struct dirent *de;
	DIR *d;
	int ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return 0; /* gone, or a kernel thread: nothing open */
	while (!ret && (de = readdir(d))) {
		ssize_t l;

		if (de->d_name[0] == '.')
			continue;
		l = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
		if (l <= 0)
			continue;
		link[l] = '\0';
		*hit = (struct outside_hit){ .fd = atoi(de->d_name) };
		hit->pipe = match(p, have_fifo, dirfd(d), de->d_name, link);
		if (hit->pipe && hit->pipe->external)
			hit->pipe = NULL;
		if (!hit->pipe)
			hit->lock = match_lock(locks, nl, pid, dirfd(d), de->d_name, link);
		ret = hit->pipe || hit->lock;
	}
	closedir(d);
	return ret;
}

static int check_external_keys(const struct opts *o, const struct dump_pipes *p)
{
	for (int k = 0; k < o->nr_external; k++) {
		/* dump-unix.c and dump-files-commit.c check those */
		bool used =
		    !strncmp(o->external[k], "unix:", 5) || !strncmp(o->external[k], "tty[", 4);

		for (size_t i = 0; i < p->n && !used; i++) {
			const struct dump_pipe *pp = &p->v[i];

			if (!pp->external || pp->key_given != k)
				continue;
			used = true;
			if (pp->ends != 1u << O_RDONLY && pp->ends != 1u << O_WRONLY) {
				pr_err("--external %s: the dumped tree holds both of its ends (%s "
				       "and more): one --inherit-fd can't stand for both\n",
				       o->external[k], pp->what);
				return -EINVAL;
			}
		}
		if (!used) {
			pr_err("--external %s: no fd of the dumped tree is on that pipe\n",
			       o->external[k]);
			return -EINVAL;
		}
	}
	return 0;
}

int dump_outside(const struct opts *o, const struct dump_pipes *p, const struct outside_lock *locks,
		 size_t nl, const pid_t *tree, size_t n)
{
	bool have_fifo = false, left = false;
	struct dirent *de;
	DIR *d;
	int ret = check_external_keys(o, p);

	for (size_t i = 0; i < p->n; i++) {
		have_fifo |= p->v[i].fifo;
		left |= !p->v[i].external;
	}
	if (ret || (!left && !nl))
		return ret;
	d = opendir("/proc");
	if (!d) {
		pr_perror("can't list /proc");
		return -errno;
	}
	while (!ret && (de = readdir(d))) {
		struct outside_hit hit;
		const struct dump_pipe *pp;
		pid_t pid = atoi(de->d_name);
		char comm[64] = "?", state;
		pid_t ppid;
		int fd;

		if (pid <= 0 || pid == getpid() || in_tree(pid, tree, n) ||
		    !scan_process(p, have_fifo, locks, nl, pid, &hit))
			continue;
		proc_task_brief(pid, &state, &ppid, comm, sizeof(comm));
		if (ppid == getpid())
			continue; /* a helper of ours (the TCP guard), with copies of our fds */
		pp = hit.pipe;
		fd = hit.fd;
		ret = -EBUSY;
		if (hit.lock) {
			pr_err(
			    "%s: its %s lock is held through an open file description that pid %d "
			    "(%s) fd %d, outside the dumped tree, also has: restore could not take "
			    "it again as it is\n",
			    hit.lock->what, hit.lock->kind, pid, comm, fd);
			continue;
		}
		if (pp->fifo)
			pr_err(
			    "%s: that FIFO is also open in pid %d (%s) fd %d, outside the dumped "
			    "tree: not supported\n",
			    pp->what, pid, comm, fd);
		else
			pr_err("%s: pipe:[%llu] is also open in pid %d (%s) fd %d, outside the "
			       "dumped tree; --external pipe:[%llu] dumps it anyway (restore then "
			       "takes its place from --inherit-fd fd[N]:pipe:[%llu])\n",
			       pp->what, (unsigned long long)pp->ino, pid, comm, fd,
			       (unsigned long long)pp->ino, (unsigned long long)pp->ino);
	}
	closedir(d);
	return ret;
}
