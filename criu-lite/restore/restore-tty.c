/* restore-tty: the tree's pseudo-terminals and controlling terminals (pty_file_entry,
 * pstree_entry.ctty; dump-tty.c; docs/fds.md "Terminals").
 *
 * Contract: restore_pty_open() gives the restorer an fd for an FT_PTY entry while the transfer
 * fds are prepared, before any task exists. The first entry of a pty makes the pair: /dev/ptmx is
 * opened until the kernel hands out the dumped index (it gives the lowest free one: the lower
 * ones are held meanwhile, then closed), refused when that index is taken; the dumped termios
 * (TCSETS2), window size and packet mode are set through the master, /dev/pts/N gets its owner
 * and mode, which stays unlocked while
 * the slave entries are opened (/dev/pts/N, O_NOCTTY). restore_ptys_prepare() then opens a slave
 * transfer fd for every pty that is a task's controlling terminal, re-creates a slave that had
 * been opened and closed (the master reads EIO again), locks what was locked, and drops the
 * restorer's own copies. restore_pty_ctty() makes a session leader take its terminal
 * (TIOCSCTTY through that transfer fd, in the skeleton, right after its setsid() and before its
 * children are made: they inherit it); restore_pty_fg() gives each such session its foreground
 * process group (TIOCSPGRP) once the groups exist, and checks every task's tty_nr.
 */
#define LOG_PREFIX "tty: "

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <asm/termbits.h>

#include "criu-lite/log.h"
#include "criu-lite/proc/proc.h"
#include "criu-lite/restore/restore-tree.h"
#include "criu-lite/restore/restore.h"

#define PTY_MAX		4096 /* kernel.pty.max's default: no index above */
#define PTS_MAJOR_FIRST 136

struct restore_pty {
	const PtyFileEntry *e; /* its state (the first entry seen) */
	int master;	       /* the restorer's own fd of the master, until prepared */
	int ctty;	       /* a transfer fd of its slave, for TIOCSCTTY; -1: none */
	bool slave_opened;
};

struct restore_ptys {
	struct restore_pty *v;
	size_t n;
};

static struct restore_pty *find(struct restore_ctx *c, uint32_t idx)
{
	for (size_t i = 0; c->ptys && i < c->ptys->n; i++)
		if (c->ptys->v[i].e->index == idx)
			return &c->ptys->v[i];
	return NULL;
}

/* A master of pty idx: /dev/ptmx opened until the kernel gives that index; or -errno. */
static int open_index(uint32_t idx)
{
	char path[32];
	int *held = calloc(idx + 1, sizeof(*held)), n = 0, m = -1, ret = 0;
	unsigned int got;

	snprintf(path, sizeof(path), "/dev/pts/%u", idx);
	if (!held)
		return -ENOMEM;
	if (!access(path, F_OK)) {
		pr_err("pty %u: %s is in use here\n", idx, path);
		ret = -EEXIST;
	}
	while (!ret) {
		m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (m < 0 || ioctl(m, TIOCGPTN, &got)) {
			ret = -errno;
			pr_perror("pty %u: can't open /dev/ptmx", idx);
			break;
		}
		if (got == idx)
			break;
		if (got > idx || n > (int)idx) {
			pr_err("pty %u: /dev/ptmx gave index %u: %s was taken meanwhile\n", idx,
			       got, path);
			ret = -EEXIST;
			break;
		}
		held[n++] = m;
		m = -1;
	}
	while (n > 0)
		close(held[--n]);
	free(held);
	if (ret && m >= 0)
		close(m);
	return ret ? ret : m;
}

static int check_entry(const FileEntry *fe)
{
	if (!fe->pty || fe->pty->termios.len != sizeof(struct termios2) ||
	    fe->pty->index >= PTY_MAX) {
		pr_err("files.img: pty file %u has no pty record, or a damaged one\n", fe->id);
		return -EBADMSG;
	}
	return 0;
}

/* The pair of e: made, its state set (unlocked for now). */
static int make_pair(struct restore_ctx *c, const PtyFileEntry *e, struct restore_pty **out)
{
	struct winsize ws = { .ws_row = (unsigned short)e->rows,
			      .ws_col = (unsigned short)e->cols,
			      .ws_xpixel = (unsigned short)e->xpixel,
			      .ws_ypixel = (unsigned short)e->ypixel };
	struct restore_pty *v;
	char path[32];
	int m, zero = 0, pkt = e->packet;

	if (!c->ptys && !(c->ptys = calloc(1, sizeof(*c->ptys))))
		return -ENOMEM;
	v = realloc(c->ptys->v, (c->ptys->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	c->ptys->v = v;
	m = open_index(e->index);
	if (m < 0)
		return m;
	if (ioctl(m, TIOCSPTLCK, &zero) || ioctl(m, TCSETS2, e->termios.data) ||
	    ioctl(m, TIOCSWINSZ, &ws) || ioctl(m, TIOCPKT, &pkt)) {
		int ret = -errno;

		pr_perror("pty %u: can't set its state", e->index);
		close(m);
		return ret;
	}
	snprintf(path, sizeof(path), "/dev/pts/%u", e->index);
	if ((e->has_slave_uid && chown(path, e->slave_uid, e->slave_gid)) ||
	    (e->has_slave_mode && chmod(path, e->slave_mode))) {
		int ret = -errno;

		pr_perror("pty %u: can't give %s its owner %u:%u and mode %04o", e->index, path,
			  e->slave_uid, e->slave_gid, e->slave_mode);
		close(m);
		return ret;
	}
	v[c->ptys->n] = (struct restore_pty){ .e = e, .master = m, .ctty = -1 };
	*out = &v[c->ptys->n++];
	pr_debug("pty %u made\n", e->index);
	return 0;
}

int restore_pty_open(struct restore_ctx *c, const FileEntry *fe)
{
	struct restore_pty *p;
	char path[32];
	int ret = check_entry(fe), fd;

	if (ret)
		return ret;
	p = find(c, fe->pty->index);
	if (!p && (ret = make_pair(c, fe->pty, &p)))
		return ret;
	if (p->master < 0) {
		pr_err("pty %u: opened after its pair was prepared (internal error)\n",
		       fe->pty->index);
		return -EINVAL;
	}
	if (fe->pty->master) {
		fd = fcntl(p->master, F_DUPFD_CLOEXEC, 0);
		if (fd >= 0 && fcntl(fd, F_SETFL, fe->pty->flags & O_NONBLOCK)) {
			close(fd);
			fd = -1;
		}
	} else {
		snprintf(path, sizeof(path), "/dev/pts/%u", fe->pty->index);
		/* O_ASYNC comes with the owner, armed by F_SETFL (restore-fown.c) */
		fd = open(path, (int)(fe->pty->flags & ~(uint32_t)(O_CLOEXEC | O_ASYNC)) |
				    O_NOCTTY | O_CLOEXEC);
		p->slave_opened |= fd >= 0;
	}
	if (fd < 0) {
		ret = -errno;
		pr_perror("pty %u: can't open its %s", fe->pty->index,
			  fe->pty->master ? "master" : "slave");
		return ret;
	}
	return fd;
}

static int slave_fd(const struct restore_pty *p)
{
	char path[32];

	snprintf(path, sizeof(path), "/dev/pts/%u", p->e->index);
	return open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
}

int restore_ptys_prepare(struct restore_ctx *c)
{
	int one = 1, ret = 0;

	for (size_t i = 0; !ret && i < c->nr_tasks; i++) {
		const PstreeEntry *pe = c->tasks[i].pstree;
		struct restore_pty *p = pe->has_ctty && pe->ctty ? find(c, pe->ctty - 1) : NULL;

		if (pe->has_ctty && pe->ctty && !p) {
			pr_err(
			    "pstree.img: pid %u's controlling terminal is pty %u, which the dump "
			    "does not hold\n",
			    pe->pid, pe->ctty - 1);
			return -EBADMSG;
		}
		if (!p || p->ctty >= 0 || pe->sid != pe->pid)
			continue;
		ret = slave_fd(p);
		if (ret >= 0)
			ret = restore_xfer_fd(c, ret);
		if (ret < 0)
			pr_err("pty %u: can't open its slave for pid %u's controlling terminal\n",
			       p->e->index, pe->pid);
		else
			p->ctty = ret, p->slave_opened = true, ret = 0;
	}
	for (size_t i = 0; !ret && c->ptys && i < c->ptys->n; i++) {
		struct restore_pty *p = &c->ptys->v[i];
		int s;

		if (p->e->slave_closed && !p->slave_opened) { /* the master reads EIO again */
			s = slave_fd(p);
			if (s < 0)
				ret = -errno;
			else
				close(s);
		}
		if (!ret && p->e->locked && ioctl(p->master, TIOCSPTLCK, &one))
			ret = -errno;
		if (ret)
			pr_perror("pty %u: can't finish its state", p->e->index);
		close(p->master);
		p->master = -1;
	}
	return ret;
}

int restore_pty_ctty(struct restore_ctx *c, struct restore_task *t)
{
	const PstreeEntry *pe = t->pstree;
	struct restore_pty *p = pe->has_ctty && pe->ctty ? find(c, pe->ctty - 1) : NULL;
	long r;

	if (!p || pe->sid != pe->pid)
		return 0;
	r = rsys_call(&t->rs, SYS_ioctl, p->ctty, TIOCSCTTY, 0, 0, 0, 0);
	if (r < 0) {
		pr_err("pid %d: can't take pty %u as its controlling terminal\n", t->vpid,
		       p->e->index);
		return (int)r;
	}
	return 0;
}

int restore_pty_fg(struct restore_ctx *c)
{
	for (size_t i = 0; i < c->nr_tasks; i++) {
		struct restore_task *t = &c->tasks[i];
		const PstreeEntry *pe = t->pstree;
		struct restore_pty *p = pe->has_ctty && pe->ctty ? find(c, pe->ctty - 1) : NULL;
		struct proc_stat st;
		uint32_t want;
		int ret;

		if (!p || t->zombie)
			continue;
		if (pe->sid == pe->pid && pe->has_fg_pgrp && pe->fg_pgrp) {
			int32_t g = (int32_t)pe->fg_pgrp;
			long r = rsys_write(&t->rs, t->sk.scratch, &g, sizeof(g));

			if (!r)
				r = rsys_call(&t->rs, SYS_ioctl, p->ctty, TIOCSPGRP,
					      (long)t->sk.scratch, 0, 0, 0);
			if (r < 0) {
				pr_err("pid %d: can't make group %d the foreground of pty %u\n",
				       t->vpid, g, p->e->index);
				return (int)r;
			}
		}
		want = (uint32_t)makedev(PTS_MAJOR_FIRST + p->e->index / 256, p->e->index % 256);
		ret = proc_parse_stat(t->pid, &st);
		if (!ret && (uint32_t)st.tty_nr != want) {
			pr_err("pid %d: its controlling terminal is %#x, not pty %u: a session "
			       "member not born of its leader can't be given one\n",
			       t->vpid, (unsigned int)st.tty_nr, p->e->index);
			ret = -ENOTSUP;
		}
		if (ret)
			return ret;
	}
	return 0;
}

void restore_ptys_free(struct restore_ctx *c)
{
	for (size_t i = 0; c->ptys && i < c->ptys->n; i++)
		if (c->ptys->v[i].master >= 0)
			close(c->ptys->v[i].master);
	if (c->ptys)
		free(c->ptys->v);
	free(c->ptys);
	c->ptys = NULL;
}
