/* dump-files: the open files of a task and of the whole dump.
 *
 * dump_files() walks /proc/PID/fd: every fd becomes one fdinfo_entry
 * (fdinfo-PID.img) pointing at a file_entry (files.img). fds that share one
 * open file description (dup, fork) share one entry: candidates with the same
 * inode are compared with kcmp(KCMP_FILE). Supported are regular files and
 * directories (path, flags, offset, identity), files deleted while open (their
 * data go to ghost-N.img, see ghost.h and dump-ghost.c), the memory devices /dev/null,
 * zero, full, random and urandom, with --shell-job terminals (restore
 * connects them to its own terminal), pipes and FIFOs (dump-pipes.c saves
 * each pipe's size and data once) and memfds (dump-shmem.c, memfd.h: the
 * memfd itself is a shmem.img object), eventfd, signalfd, timerfd, epoll
 * and inotify files (dump-anonfd.c, anonfd.h), and unix sockets (dump-unix.c,
 * sk-unix.h: peers are checked when files.img is written), inet, netlink and packet sockets
 * (sk-inet.h, sk-netlink.h, sk-packet.h). Everything else is
 * refused, naming the pid, the fd and what it is. The file locks held through
 * each fd go onto its entry (dump-locks.c, locks.h). fs-PID.img gets cwd, root and umask.
 * dump_file_add_path() adds the files of mappings and /proc/PID/exe; both
 * kinds of entry are written by dump_files_commit() (dump-files-commit.c), ids
 * ascending.
 */
#include <fcntl.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define LOG_PREFIX "files: "
#include "criu-lite/kinds/anonfd.h"
#include "criu-lite/dump/dump-sknetns.h"
#include "criu-lite/dump/dump-track.h"
#include "criu-lite/dump/dump-files-int.h"
#include "criu-lite/dump/dump.h"
#include "criu-lite/kinds/ghost.h"
#include "criu-lite/kinds/locks.h"
#include "criu-lite/log.h"
#include "criu-lite/kinds/memfd.h"
#include "criu-lite/kinds/pipes.h"
#include "criu-lite/dump/sk-common.h"
#include "criu-lite/kinds/sk-inet.h"
#include "criu-lite/kinds/sk-netlink.h"
#include "criu-lite/kinds/sk-packet.h"
#include "criu-lite/kinds/sk-unix.h"
#include "files.pb-c.h"

#define DELETED_SUFFIX	   " (deleted)"
#define DELETED_SUFFIX_LEN (sizeof(DELETED_SUFFIX) - 1)

/* Where a file is reached and how it is named in messages. */
struct file_src {
	const char *what; /* "pid 12 fd 3", "pid 12 mapping /lib/x.so" */
	const char *via;  /* stat/open through this (a /proc link, or the path itself) */
	const char *link; /* what via names: a path, maybe with " (deleted)" */
};

static int grow(void *arr, size_t *cap, size_t need, size_t elem)
{
	void **p = arr;
	size_t ncap = *cap ? *cap : 8;
	void *nv;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	nv = realloc(*p, ncap * elem);
	if (!nv) {
		pr_err("out of memory for %zu file records\n", ncap);
		return -ENOMEM;
	}
	*p = nv;
	*cap = ncap;
	return 0;
}

static bool has_deleted_suffix(const char *s)
{
	size_t l = strlen(s);

	return l > DELETED_SUFFIX_LEN && strcmp(s + l - DELETED_SUFFIX_LEN, DELETED_SUFFIX) == 0;
}

static const char *kind_name(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG:
		return "regular file";
	case S_IFDIR:
		return "directory";
	case S_IFCHR:
		return "character device";
	case S_IFBLK:
		return "block device";
	case S_IFIFO:
		return "fifo";
	case S_IFSOCK:
		return "socket";
	case S_IFLNK:
		return "symbolic link";
	}
	return "file of unknown type";
}

/* /dev/null, /dev/zero, /dev/full, /dev/random, /dev/urandom */
static bool is_mem_dev(dev_t rdev)
{
	unsigned int mi = minor(rdev);

	return major(rdev) == 1 && (mi == 3 || mi == 5 || mi == 7 || mi == 8 || mi == 9);
}

/* /dev/pts/N (majors 136-143), /dev/ttyN and /dev/ttySN (4), /dev/tty and /dev/console (5:0, 5:1)
 */
static bool is_tty_dev(dev_t rdev)
{
	unsigned int ma = major(rdev), mi = minor(rdev);

	return (ma >= 136 && ma <= 143) || ma == 4 || (ma == 5 && (mi == 0 || mi == 1));
}

/* /dev/console, /dev/tty0 and the virtual terminals /dev/ttyN (4:1-63): the host's own
 * terminals, the inherited one of --shell-job only when it is the task's controlling terminal */
static bool console_or_vt(dev_t rdev)
{
	return rdev == makedev(5, 1) || (major(rdev) == 4 && minor(rdev) < 64);
}

static int stat_via(const struct file_src *s, struct stat *st)
{
	if (stat(s->via, st)) {
		int e = errno;

		pr_perror("%s: can't stat %s (%s)", s->what, s->via, s->link);
		return -e;
	}
	return 0;
}

/* The path of the file and whether it is deleted; refuses what can't be found
 * again by that path. */
static int resolve_path(const struct file_src *s, const struct stat *st, struct file_rec *r)
{
	struct stat ps;
	size_t l = strlen(s->link);
	bool named = (S_ISLNK(st->st_mode) ? lstat(s->link, &ps) : stat(s->link, &ps)) == 0;

	if (named && ps.st_dev == st->st_dev && ps.st_ino == st->st_ino) {
		r->path = strdup(s->link); /* also a live file really called "x (deleted)" */
	} else if (has_deleted_suffix(s->link)) {
		if (st->st_nlink && !S_ISREG(st->st_mode)) {
			pr_err("%s: %s was unlinked but has %lu other links: a %s reached only by "
			       "another name is not supported\n",
			       s->what, s->link, (unsigned long)st->st_nlink,
			       kind_name(st->st_mode));
			return -ENOTSUP;
		}
		r->path = strndup(s->link, l - DELETED_SUFFIX_LEN);
		r->deleted = true;
	} else if (named) {
		pr_err("%s: %s now names another file (%u:%u ino %llu, the open one is %u:%u "
		       "ino %llu): not supported\n",
		       s->what, s->link, major(ps.st_dev), minor(ps.st_dev),
		       (unsigned long long)ps.st_ino, major(st->st_dev), minor(st->st_dev),
		       (unsigned long long)st->st_ino);
		return -ENOTSUP;
	} else {
		pr_perror("%s: can't find %s by its path", s->what, s->link);
		return -ENOTSUP;
	}
	if (!r->path) {
		pr_err("out of memory\n");
		return -ENOMEM;
	}
	return 0;
}

static int classify(struct dump_ctx *c, const struct file_src *s, const struct stat *st,
		    struct file_rec *r)
{
	if (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode) ||
	    (S_ISLNK(st->st_mode) && (r->flags & O_PATH))) { /* O_PATH|O_NOFOLLOW: a symlink */
		r->type = FILE_TYPE__FT_REG;
		return 0;
	}
	if (S_ISFIFO(st->st_mode)) {
		r->type = FILE_TYPE__FT_PIPE;
		return 0;
	}
	if (S_ISCHR(st->st_mode) && is_mem_dev(st->st_rdev)) {
		r->type = FILE_TYPE__FT_DEV;
		return 0;
	}
	if (S_ISCHR(st->st_mode) &&
	    (dump_pty_master_dev(st->st_rdev) || dump_pty_slave_dev(st->st_rdev) ||
	     st->st_rdev == makedev(5, 0))) {
		struct dump_pty_fd pf = { s->what, r->fd, r->flags, st };
		bool outside;
		int ret = dump_pty(c, &pf, &r->pty, &outside); /* dump-tty.c */

		if (ret)
			return ret;
		if (!outside) {
			r->type = FILE_TYPE__FT_PTY;
			return 0;
		}
	}
	if (S_ISCHR(st->st_mode) && is_tty_dev(st->st_rdev)) {
		char key[48];

		snprintf(key, sizeof(key), "tty[%u:%u]", major(st->st_rdev), minor(st->st_rdev));
		if (cli_external(c->sh->o, key)) { /* reopened by its path at restore */
			r->type = FILE_TYPE__FT_TTY;
			r->tty_external = true;
			return 0;
		}
		/* the task's own controlling terminal is the inherited one (--shell-job) even on a
		 * console or VT: a shell job started from a text console */
		if (console_or_vt(st->st_rdev) &&
		    !(c->sh->o->shell_job && (dev_t)c->stat.tty_nr == st->st_rdev)) {
			pr_err(
			    "%s: %s is %s: dump with --external %s (restore opens it again by its "
			    "path)\n",
			    s->what, s->link,
			    major(st->st_rdev) == 5 ? "the console" : "a virtual terminal", key);
			return -ENOTSUP;
		}
		if (!c->sh->o->shell_job) {
			pr_err("%s: %s is a terminal: dump with --shell-job\n", s->what, s->link);
			return -ENOTSUP;
		}
		r->type = FILE_TYPE__FT_TTY;
		return 0;
	}
	if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
		pr_err("%s: %s (%s %u:%u) is not supported yet\n", s->what, s->link,
		       kind_name(st->st_mode), major(st->st_rdev), minor(st->st_rdev));
	else
		pr_err("%s: %s (a %s) is not supported yet\n", s->what, s->link,
		       kind_name(st->st_mode));
	return -ENOTSUP;
}

/* Fill r (path, type, identity, ghost) for the file at s, stat'ed as st. */
static int describe(struct dump_ctx *c, struct file_entry_list *l, const struct file_src *s,
		    const struct stat *st, struct file_rec *r)
{
	int ret;

	r->st = *st;
	ret = dump_proc_pid(c, s->what, s->via, s->link, &r->proc_pid, &r->proc_gone);
	if (ret) { /* of a process of the tree or one gone: made in the task at restore */
		if (ret < 0)
			return ret;
		r->type = FILE_TYPE__FT_REG;
		r->path =
		    strndup(s->link, strlen(s->link) -
					 (has_deleted_suffix(s->link) ? DELETED_SUFFIX_LEN : 0));
		return r->path ? 0 : -ENOMEM;
	}
	if (strncmp(s->link, "/memfd:", 7) == 0 && has_deleted_suffix(s->link) && !st->st_nlink) {
		pr_err("%s: %s is a memfd: not supported yet\n", s->what, s->link);
		return -ENOTSUP;
	}
	ret = classify(c, s, st, r);
	if (!ret && pipe_link(s->link) && !(r->path = strdup(s->link))) {
		pr_err("out of memory\n");
		ret = -ENOMEM;
	} else if (!ret && !pipe_link(s->link)) {
		ret = resolve_path(s, st, r);
	}
	if (!ret && r->deleted &&
	    ((r->type != FILE_TYPE__FT_REG && r->type != FILE_TYPE__FT_DEV &&
	      r->type != FILE_TYPE__FT_PIPE) ||
	     S_ISLNK(st->st_mode))) {
		pr_err("%s: %s is a deleted %s: not supported\n", s->what, s->link,
		       kind_name(st->st_mode));
		ret = -ENOTSUP;
	}
	if (!ret && r->deleted)
		ret = dump_ghost_get(c, &l->ghosts, s->what, s->via, r->path, st, &r->ghost);
	return ret;
}

static int add_rec(struct dump_ctx *c, struct file_entry_list *l, struct file_rec *r)
{
	int ret = grow(&l->v, &l->cap, l->n + 1, sizeof(*l->v));

	if (ret)
		return ret;
	r->id = c->sh->next_file_id++;
	l->v[l->n++] = *r;
	pr_debug("file %u: %s%s (%s, flags 0%o, pos %llu)\n", r->id, r->path,
		 r->deleted ? DELETED_SUFFIX : "", kind_name(r->st.st_mode), r->flags,
		 (unsigned long long)r->pos);
	return 0;
}

/* 1: fd1 of pid1 and fd2 of pid2 are one open file description, 0: not, <0: error. */
static int same_description(pid_t pid1, int fd1, pid_t pid2, int fd2)
{
	long r = syscall(SYS_kcmp, pid1, pid2, KCMP_FILE, fd1, fd2);

	if (r < 0) {
		int e = errno;

		pr_perror("kcmp(KCMP_FILE) of pid %d fd %d and pid %d fd %d%s", pid1, fd1, pid2,
			  fd2, e == ENOSYS ? " (kernel without CONFIG_KCMP)" : "");
		return -e;
	}
	return r == 0;
}

/* The id of an earlier fd, of this task or another task of the tree (all are
 * held seized until the dump ends), on the same open file description, 0 if none. */
static int find_shared(struct file_entry_list *l, pid_t pid, int fd, const struct stat *st,
		       uint32_t *id)
{
	*id = 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct file_rec *r = &l->v[i];
		int ret;

		if (r->fd < 0 || r->st.st_dev != st->st_dev || r->st.st_ino != st->st_ino)
			continue;
		ret = same_description(r->pid, r->fd, pid, fd);
		if (ret < 0)
			return ret;
		if (ret) {
			*id = r->id;
			return 0;
		}
	}
	return 0;
}

static int unsupported_fd(const char *what, const struct proc_fd *f)
{
	pr_err("%s: %s is not supported yet\n", what, f->target);
	return -ENOTSUP;
}

/* One fd: its file id (new or shared) and its FD_CLOEXEC. what_in names it (NULL: "pid P
 * fd N"). */
static int dump_fd(struct dump_ctx *c, struct file_entry_list *l, const struct proc_fd *f,
		   const char *what_in, FdinfoEntry *e)
{
	struct proc_fdinfo fi;
	struct file_rec r = { .pid = c->pid, .fd = f->fd };
	char what_buf[48], via[64];
	const char *what = what_in ? what_in : what_buf;
	struct file_src s = { what, via, f->target };
	struct stat st;
	uint32_t id = 0;
	int ret;

	snprintf(what_buf, sizeof(what_buf), "pid %d fd %d", c->pid, f->fd);
	if (f->target[0] != '/' && !pipe_link(f->target) && !anonfd_type(f->target) &&
	    !sock_link(f->target) && !ns_link(f->target))
		return unsupported_fd(what, f);
	snprintf(via, sizeof(via), "/proc/%d/fd/%d", c->pid, f->fd);
	ret = proc_parse_fdinfo(c->pid, f->fd, &fi);
	if (ret)
		return ret;
	if (c->inflight && (ret = dump_inflight_check_fd(what, f, &fi))) {
		proc_fdinfo_free(&fi);
		return ret;
	}
	ret = stat_via(&s, &st);
	if (!ret)
		ret = find_shared(l, c->pid, f->fd, &st, &id);
	if (!ret && !id) {
		r.flags = fi.flags & ~(uint32_t)O_CLOEXEC;
		r.pos = (uint64_t)fi.pos;
		if (memfd_link(f->target, &st)) {
			struct dump_memfd_fd mf = { what,    f->target, f->fd, NULL,
						    r.flags, r.pos,	&st };

			r.type = FILE_TYPE__FT_MEMFD;
			r.st = st;
			r.path = strdup(f->target);
			r.memfd = malloc(sizeof(*r.memfd));
			ret = r.path && r.memfd ? dump_memfd_fd(c, &mf, r.memfd) : -ENOMEM;
		} else if (anonfd_type(f->target)) {
			struct dump_anonfd_fd af = { what, f->target, f->fd, r.flags, &fi };

			r.st = st; /* the key of find_shared() */
			r.path = strdup(f->target);
			ret = r.path ? dump_anonfd(c, &af, &r.type, &r.anon) : -ENOMEM;
		} else if (sock_link(f->target)) {
			r.st = st; /* find_shared() matches later fds on it by inode */
			r.path = strdup(f->target);
			ret =
			    r.path ? dump_socket(c, &l->usk, f, &fi, r.flags, &st, &r.sk) : -ENOMEM;
			r.type = r.sk.type;
		} else if (ns_link(f->target)) { /* an nsfs file (dump-sknetns.h) */
			r.st = st;
			r.type = FILE_TYPE__FT_NSFILE;
			r.path = strdup(f->target);
			ret = r.path ? dump_sknetns_nsfile(c->sh, c->pid, f->fd, what, f->target,
							   &r.netns_id, &r.ns_own)
				     : -ENOMEM;
		} else {
			ret = describe(c, l, &s, &st, &r);
		}
		if (!ret && r.type == FILE_TYPE__FT_PIPE) {
			struct dump_pipe_fd pf = { what, f->target, f->fd, r.flags, &st };

			ret = dump_pipe_end(c, &l->pipes, &pf, &r.pipe);
		}
		if (!ret) /* who gets its SIGIO (O_ASYNC) or SIGURG (a socket) */
			ret = dump_fown(c, f->fd, r.flags, S_ISSOCK(st.st_mode), what, &r.fown);
		if (!ret && c->inflight)
			ret = dump_inflight_check_rec(what, f, r.type, r.fown);
		r.own_fd = c->inflight;
		if (!ret)
			ret = add_rec(c, l, &r);
		if (ret) {
			free(r.path);
			free(r.memfd);
			free(r.fown);
			if (r.pty)
				pty_file_entry__free_unpacked(r.pty, NULL);
			dump_anonfd_free(r.anon);
			dump_netlink_free(r.sk.nsk);
			dump_packet_free(r.sk.psk);
		}
		id = r.id;
	}
	if (!ret) /* file locks held through it (dump-locks.c) */
		ret = dump_locks_fd(c, &l->locks, id, what, f->target, &fi);
	if (!ret) {
		e->fd = (uint32_t)f->fd;
		e->id = id;
		e->fd_flags = (fi.flags & O_CLOEXEC) ? FD_CLOEXEC : 0;
	}
	proc_fdinfo_free(&fi);
	return ret;
}

static int write_fdinfo(struct dump_ctx *c, FdinfoEntry *e, size_t n)
{
	const ProtobufCMessage **m = calloc(n + 1, sizeof(*m));
	int ret;

	if (!m) {
		pr_err("out of memory\n");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		m[i] = &e[i].base;
	ret = dump_files_write(c, IMG_FDINFO, c->vpid, m, n);
	free(m);
	return ret;
}

int dump_files(struct dump_ctx *c)
{
	FsEntry fs = FS_ENTRY__INIT;
	const ProtobufCMessage *fsm = &fs.base;
	struct file_entry_list *l;
	struct proc_fd_list fds = { 0 };
	FdinfoEntry *e = NULL;
	size_t nr_ours = 0;
	int ret = dump_files_list(c, &l);

	if (!ret)
		ret = dump_fs_collect(c, &fs);
	if (!ret)
		ret = proc_list_fds(c->pid, &fds);
	if (!ret) {
		e = calloc(fds.n + 1, sizeof(*e));
		if (!e) {
			pr_err("out of memory for %zu fds\n", fds.n);
			ret = -ENOMEM;
		}
	}
	for (size_t i = 0, k = 0; i < fds.n && !ret; i++) {
		if (dump_track_fd(c, fds.v[i].fd)) { /* ours, not the task's (dump-track.h) */
			nr_ours++;
			continue;
		}
		fdinfo_entry__init(&e[k]);
		ret = dump_fd(c, l, &fds.v[i], NULL, &e[k++]);
	}
	if (!ret)
		ret = write_fdinfo(c, e, fds.n - nr_ours);
	if (!ret)
		ret = dump_files_write(c, IMG_FS, c->vpid, &fsm, 1);
	if (!ret)
		pr_info("pid %d: %zu fds, %zu open files so far, cwd %s\n", c->pid, fds.n, l->n,
			fs.cwd);
	free(e);
	proc_fd_list_free(&fds);
	free(fs.cwd);
	free(fs.root);
	return ret;
}

int dump_file_fd(struct dump_ctx *c, const struct proc_fd *f, const char *what, uint32_t *id,
		 bool *kept)
{
	FdinfoEntry e = FDINFO_ENTRY__INIT;
	struct file_entry_list *l;
	size_t n0;
	int ret = dump_files_list(c, &l);

	*kept = false;
	if (ret)
		return ret;
	n0 = l->n;
	ret = dump_fd(c, l, f, what, &e);
	*id = e.id;
	for (size_t i = n0; !ret && i < l->n; i++)
		*kept |= l->v[i].id == e.id && l->v[i].own_fd;
	return ret;
}

/* Where to reach the file a mapping or the exe link names as path: the
 * mapping's /proc/PID/map_files entry, /proc/PID/exe, or the path itself. */
static int find_via(struct dump_ctx *c, const char *path, char *via, size_t len)
{
	size_t pl = strlen(path);
	char exe[64], buf[PATH_MAX];
	ssize_t n;

	for (size_t i = 0; i < c->vmas.n; i++) {
		const struct vma *v = &c->vmas.v[i];

		if (v->kind != VMA_FILE || vma_name_len(v) != pl || memcmp(v->name, path, pl))
			continue;
		snprintf(via, len, "/proc/%d/map_files/%llx-%llx", c->pid,
			 (unsigned long long)v->start, (unsigned long long)v->end);
		return 0;
	}
	snprintf(exe, sizeof(exe), "/proc/%d/exe", c->pid);
	n = readlink(exe, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		if (has_deleted_suffix(buf))
			buf[n - DELETED_SUFFIX_LEN] = '\0';
		if (strcmp(buf, path) == 0) {
			snprintf(via, len, "%s", exe);
			return 0;
		}
	}
	snprintf(via, len, "%s", path);
	return 0;
}

/* The file s reaches, opened with r's flags: the entry an earlier call made for the same file
 * and flags, or a new one (regular files and directories only, and a memfd the task executed:
 * an entry of its shared memory object, which /proc/PID/exe reaches). */
static int add_by_via(struct dump_ctx *c, const struct file_src *s, struct file_rec *r,
		      uint32_t *id)
{
	struct file_entry_list *l;
	struct stat st;
	int ret = dump_files_list(c, &l);

	if (!ret)
		ret = stat_via(s, &st);
	if (ret)
		return ret;
	for (size_t i = 0; i < l->n; i++) {
		const struct file_rec *o = &l->v[i];

		if ((o->type == FILE_TYPE__FT_REG ||
		     (o->type == FILE_TYPE__FT_MEMFD && o->fd < 0)) &&
		    o->st.st_dev == st.st_dev && o->st.st_ino == st.st_ino &&
		    o->flags == r->flags) {
			*id = o->id;
			return 0;
		}
	}
	if (memfd_link(s->link, &st)) { /* an executed memfd: its object, as an fd of it */
		struct dump_memfd_fd mf = { s->what, s->link, -1, s->via, r->flags, 0, &st };

		r->type = FILE_TYPE__FT_MEMFD;
		r->st = st;
		r->path = strdup(s->link);
		r->memfd = malloc(sizeof(*r->memfd));
		ret = r->path && r->memfd ? dump_memfd_fd(c, &mf, r->memfd) : -ENOMEM;
		if (!ret)
			ret = add_rec(c, l, r);
		if (ret) {
			free(r->path);
			free(r->memfd);
			return ret;
		}
		*id = r->id;
		return 0;
	}
	ret = describe(c, l, s, &st, r);
	if (!ret && r->type != FILE_TYPE__FT_REG) {
		pr_err("%s: a %s: only regular files and directories are taken here\n", s->what,
		       kind_name(st.st_mode));
		ret = -ENOTSUP;
	}
	if (!ret && r->proc_pid) {
		pr_err("%s: %s belongs to pid %d%s: not supported here\n", s->what, s->link,
		       r->proc_pid, r->proc_gone ? ", which is gone" : " of the tree");
		ret = -ENOTSUP;
	}
	if (!ret)
		ret = add_rec(c, l, r);
	if (ret) {
		free(r->path);
		return ret;
	}
	*id = r->id;
	return 0;
}

int dump_file_add_path(struct dump_ctx *c, const char *path, int open_flags, uint32_t *id)
{
	struct file_rec r = { .pid = c->pid, .fd = -1, .flags = (uint32_t)open_flags };
	char via[PATH_MAX], link[PATH_MAX], what[64 + PATH_MAX];
	struct file_src s = { what, via, link };

	snprintf(what, sizeof(what), "pid %d mapped file %s", c->pid, path);
	find_via(c, path, via, sizeof(via));
	if (strcmp(via, path) == 0) {
		snprintf(link, sizeof(link), "%s", path);
	} else {
		ssize_t n = readlink(via, link, sizeof(link) - 1);

		if (n < 0) {
			int ret = -errno;

			pr_perror("%s: can't read the link %s", what, via);
			return ret;
		}
		link[n] = '\0';
	}
	return add_by_via(c, &s, &r, id);
}

int dump_file_add_cwd(struct dump_ctx *c, const char *link, uint32_t *id)
{
	struct file_rec r = { .pid = c->pid, .fd = -1, .flags = O_RDONLY | O_DIRECTORY };
	char via[64], what[64];
	struct file_src s = { what, via, link };

	snprintf(what, sizeof(what), "pid %d cwd", c->pid);
	snprintf(via, sizeof(via), "/proc/%d/cwd", c->pid);
	return add_by_via(c, &s, &r, id);
}
