/* dump-tty: pseudo-terminals the tree holds the master of, and the controlling terminals of its
 * sessions (docs/fds.md "Terminals"; restore-tty.c makes them again).
 *
 * Contract: dump_pty() describes an fd on a pty end (or on /dev/tty, when the task's controlling
 * terminal is such a pty: dev_tty) into a pty_file_entry when a task of the tree holds that pty's
 * master (found once per dump by a pass over the tree's fds: every /dev/ptmx
 * fd's TIOCGPTN), or returns 0 with *outside set for a slave whose master is not the tree's (the
 * inherited terminal: --shell-job's business). The pair's state is read through a copy of the
 * master fd (pidfd_getfd): termios (TCGETS2: the slave's, which the master's ioctls reach),
 * window size, lock, packet mode, whether a slave was opened and closed again (the master
 * polls POLLHUP), and /dev/pts/N's owner and mode. dump_tty_ctty() then gives each live task its
 * controlling terminal where that is a pty of the tree (/proc/PID/stat tty_nr), and a session
 * leader its terminal's foreground process group (tpgid, in the tree's namespace). Nothing is
 * changed in the tree. Refused, naming the fd or task: data in flight in either direction (bytes
 * the master has not read, FIONREAD on the master; bytes a slave has not read, FIONREAD on a slave
 * fd of the tree), a line discipline other than N_TTY, a pty of another devpts instance than
 * criu-lite's /dev/pts, exclusive mode (TIOCEXCL), a controlling terminal that is neither a pty of
 * the tree nor (with --shell-job) the inherited one, a foreground group outside the tree.
 */
#define LOG_PREFIX "tty: "

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <asm/termbits.h>

#include "criu-lite/dump/dump.h"
#include "criu-lite/log.h"
#include "criu-lite/proc/proc.h"
#include "criu-lite/taskfd.h"

#define PTS_MAJOR_FIRST 136
#define PTS_MAJOR_LAST	143

struct dump_ptys {
	int *idx; /* the index of every pty whose master a task of the tree holds */
	size_t n;
};

bool dump_pty_master_dev(dev_t rdev)
{
	return major(rdev) == 5 && minor(rdev) == 2;
}

static int pts_index(dev_t rdev)
{
	unsigned int ma = major(rdev);

	if (ma < PTS_MAJOR_FIRST || ma > PTS_MAJOR_LAST)
		return -1;
	return (int)((ma - PTS_MAJOR_FIRST) * 256 + minor(rdev));
}

bool dump_pty_slave_dev(dev_t rdev)
{
	return pts_index(rdev) >= 0;
}

static bool is_master_link(const char *t)
{
	return !strcmp(t, "/dev/ptmx") || !strcmp(t, "/dev/pts/ptmx");
}

static int master_index(int fd, const char *what, int *idx)
{
	unsigned int n;

	if (ioctl(fd, TIOCGPTN, &n)) {
		int e = -errno;

		pr_perror("%s: TIOCGPTN on a pty master failed", what);
		return e;
	}
	*idx = (int)n;
	return 0;
}

/* Every pty master the tree holds, once. */
static int scan_masters(struct dump_shared *sh)
{
	if (sh->ptys)
		return 0;
	sh->ptys = calloc(1, sizeof(*sh->ptys));
	if (!sh->ptys)
		return -ENOMEM;
	for (size_t i = 0; i < sh->nr_tasks; i++) {
		const struct dump_ctx *t = &sh->tasks[i];
		struct proc_fd_list l = { 0 };
		int ret = t->zombie ? 0 : proc_list_fds(t->pid, &l);

		for (size_t k = 0; !ret && k < l.n; k++) {
			char what[48];
			int fd, idx, *v;

			if (!is_master_link(l.v[k].target))
				continue;
			snprintf(what, sizeof(what), "pid %d fd %d", t->pid, l.v[k].fd);
			fd = taskfd_copy(t->pid, l.v[k].fd);
			if (fd < 0) {
				errno = -fd;
				pr_perror("%s: can't copy its pty master", what);
				ret = fd;
				break;
			}
			ret = master_index(fd, what, &idx);
			close(fd);
			v = ret ? NULL : realloc(sh->ptys->idx, (sh->ptys->n + 1) * sizeof(*v));
			if (!ret && !v)
				ret = -ENOMEM;
			if (!ret) {
				sh->ptys->idx = v;
				v[sh->ptys->n++] = idx;
			}
		}
		proc_fd_list_free(&l);
		if (ret)
			return ret;
	}
	return 0;
}

static bool tree_master(const struct dump_shared *sh, int idx)
{
	for (size_t i = 0; sh->ptys && i < sh->ptys->n; i++)
		if (sh->ptys->idx[i] == idx)
			return true;
	return false;
}

/* A copy of a master fd of pty idx held by the tree, or -errno. */
static int master_copy(const struct dump_shared *sh, int idx)
{
	for (size_t i = 0; i < sh->nr_tasks; i++) {
		const struct dump_ctx *t = &sh->tasks[i];
		struct proc_fd_list l = { 0 };
		int found = -ENOENT;

		if (t->zombie || proc_list_fds(t->pid, &l))
			continue;
		for (size_t k = 0; found < 0 && k < l.n; k++) {
			int fd, n;

			if (!is_master_link(l.v[k].target))
				continue;
			fd = taskfd_copy(t->pid, l.v[k].fd);
			if (fd >= 0 && !master_index(fd, "pty", &n) && n == idx)
				found = fd;
			else if (fd >= 0)
				close(fd);
		}
		proc_fd_list_free(&l);
		if (found >= 0)
			return found;
	}
	return -ENOENT;
}

/* The pair's state, through its master m. */
static int read_state(const char *what, int idx, int m, PtyFileEntry *e)
{
	struct termios2 *tio = malloc(sizeof(*tio));
	struct winsize ws;
	struct pollfd p = { .fd = m, .events = POLLIN };
	int lck = 0, pkt = 0, ld = -1, excl = 0, inq = 0;
	struct stat st;
	char path[32];

	if (!tio)
		return -ENOMEM;
	e->termios.data = (uint8_t *)tio;
	e->termios.len = sizeof(*tio);
	if (ioctl(m, TCGETS2, tio) || ioctl(m, TIOCGWINSZ, &ws) || ioctl(m, TIOCGPTLCK, &lck) ||
	    ioctl(m, TIOCGPKT, &pkt) || ioctl(m, TIOCGETD, &ld) || ioctl(m, TIOCGEXCL, &excl) ||
	    ioctl(m, FIONREAD, &inq) || poll(&p, 1, 0) < 0) {
		int err = -errno;

		pr_perror("%s: can't read the state of pty %d", what, idx);
		return err;
	}
	if (ld != 0 || excl) {
		pr_err("%s: pty %d has %s: not supported\n", what, idx,
		       excl ? "exclusive mode (TIOCEXCL)" : "a line discipline other than N_TTY");
		return -ENOTSUP;
	}
	if (inq) {
		pr_err("%s: pty %d holds %d bytes its master has not read: data in flight in a "
		       "terminal is not supported yet\n",
		       what, idx, inq);
		return -ENOTSUP;
	}
	e->rows = ws.ws_row;
	e->cols = ws.ws_col;
	e->xpixel = ws.ws_xpixel;
	e->ypixel = ws.ws_ypixel;
	e->locked = lck;
	e->packet = pkt;
	e->slave_closed = (p.revents & POLLHUP) != 0;
	snprintf(path, sizeof(path), "/dev/pts/%d", idx);
	if (!stat(path, &st) && S_ISCHR(st.st_mode)) {
		e->has_slave_uid = e->has_slave_gid = e->has_slave_mode = true;
		e->slave_uid = st.st_uid;
		e->slave_gid = st.st_gid;
		e->slave_mode = st.st_mode & 07777;
	}
	return 0;
}

/* The devpts instance of pty idx must be the one at criu-lite's /dev/pts. */
static int check_devpts(const char *what, int idx, const struct stat *slave)
{
	struct stat pts;

	if (stat("/dev/pts", &pts)) {
		int e = -errno;

		pr_perror("%s: can't stat /dev/pts", what);
		return e;
	}
	if (slave && slave->st_dev != pts.st_dev) {
		pr_err("%s: pty %d belongs to another devpts instance than /dev/pts: not "
		       "supported yet\n",
		       what, idx);
		return -ENOTSUP;
	}
	return 0;
}

int dump_pty(struct dump_ctx *c, const struct dump_pty_fd *f, PtyFileEntry **out, bool *outside)
{
	PtyFileEntry *e;
	bool dev_tty = f->st->st_rdev == makedev(5, 0);
	int idx = pts_index(dev_tty ? (dev_t)c->stat.tty_nr : f->st->st_rdev), m = -1, ret;
	bool master = dump_pty_master_dev(f->st->st_rdev);

	*out = NULL;
	*outside = false;
	ret = scan_masters(c->sh);
	if (ret)
		return ret;
	if (dev_tty && (idx < 0 || !tree_master(c->sh, idx))) {
		*outside = true; /* the inherited terminal's /dev/tty */
		return 0;
	}
	if (dev_tty) {
		m = master_copy(c->sh, idx);
		ret = m < 0 ? m : 0;
	} else if (master) {
		m = taskfd_copy(c->pid, f->fd);
		if (m < 0) {
			errno = -m;
			pr_perror("%s: can't copy its pty master", f->what);
			return m;
		}
		ret = master_index(m, f->what, &idx);
	} else if (!tree_master(c->sh, idx)) {
		*outside = true; /* the inherited terminal */
		return 0;
	} else {
		m = master_copy(c->sh, idx);
		ret = m < 0 ? m : check_devpts(f->what, idx, f->st);
	}
	e = ret ? NULL : malloc(sizeof(*e));
	if (!ret && !e)
		ret = -ENOMEM;
	if (!ret) {
		pty_file_entry__init(e);
		e->index = (uint32_t)idx;
		e->master = master;
		e->has_dev_tty = e->dev_tty = dev_tty;
		e->flags = f->flags;
		ret = read_state(f->what, idx, m, e);
	}
	if (!ret && !master) { /* what the slave has not read yet (/dev/tty reads the slave) */
		int s = taskfd_copy(c->pid, f->fd), inq = 0;

		if (s < 0 || ioctl(s, FIONREAD, &inq)) {
			ret = s < 0 ? s : -errno;
			pr_err("%s: can't read what pty %d's slave has queued\n", f->what, idx);
		} else if (inq) {
			pr_err(
			    "%s: pty %d holds %d bytes its slave has not read: data in flight in "
			    "a terminal is not supported yet\n",
			    f->what, idx, inq);
			ret = -ENOTSUP;
		}
		if (s >= 0)
			close(s);
	}
	if (m >= 0)
		close(m);
	if (ret) {
		if (e)
			pty_file_entry__free_unpacked(e, NULL);
		return ret;
	}
	pr_info("%s: pty %d %s\n", f->what, idx,
		master	  ? "master"
		: dev_tty ? "as /dev/tty (its controlling terminal)"
			  : "slave");
	*out = e;
	return 0;
}

void dump_ptys_free(struct dump_ptys *p)
{
	if (p)
		free(p->idx);
	free(p);
}

int dump_tty_ctty(struct dump_shared *sh, struct dump_ctx *tasks, size_t nr)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < nr; i++) {
		struct dump_ctx *c = &tasks[i];
		dev_t d = (dev_t)c->stat.tty_nr;
		int idx = pts_index(d);

		if (c->zombie || !c->stat.tty_nr)
			continue;
		if (idx >= 0 && !(ret = scan_masters(sh)) && tree_master(sh, idx)) {
			c->ctty = (uint32_t)idx + 1;
			if (c->vsid == c->vpid && c->stat.tpgid > 0) {
				c->fg_pgrp =
				    (uint32_t)dump_tree_vid(sh, F_OWNER_PGRP, c->stat.tpgid, NULL);
				if (!c->fg_pgrp) {
					pr_err("pid %d: the foreground process group %d of its "
					       "terminal (pty %d) is outside the dumped tree\n",
					       c->pid, c->stat.tpgid, idx);
					ret = -ENOTSUP;
				}
			}
		} else if (!ret && !sh->o->shell_job) {
			pr_err(
			    "pid %d: its controlling terminal (%u:%u) is not a pty the tree holds "
			    "the master of: dump with --shell-job\n",
			    c->pid, major(d), minor(d));
			ret = -ENOTSUP;
		}
	}
	return ret;
}
