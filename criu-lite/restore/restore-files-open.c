/* restore-files-open: see restore-files.h. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define LOG_PREFIX "files: "
#include "criu-lite/kinds/anonfd.h"
#include "criu-lite/kinds/ghost.h"
#include "criu-lite/log.h"
#include "criu-lite/kinds/memfd.h"
#include "criu-lite/kinds/pipes.h"
#include "criu-lite/restore/restore-files.h"
#include "criu-lite/restore/restore-sknetns.h"
#include "criu-lite/kinds/sk-inet.h"
#include "criu-lite/kinds/sk-netlink.h"
#include "criu-lite/kinds/sk-packet.h"
#include "criu-lite/kinds/sk-unix.h"

/* The kernel's O_LARGEFILE on x86, which fdinfo shows (glibc's is 0 on 64-bit). */
#define KERNEL_O_LARGEFILE 0100000

/* Status flags open() takes back; the rest of what fdinfo shows is dropped:
 * creation flags (the file exists), O_CLOEXEC (per fd, set by dup3) and
 * kernel-internal bits. */
#define OPEN_KEEP                                                                      \
	(O_ACCMODE | O_APPEND | O_NONBLOCK | O_DSYNC | O_DIRECT | KERNEL_O_LARGEFILE | \
	 O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_SYNC | O_PATH)
/* O_ASYNC: set with the owner, once the task runs (restore-fown.c) */
#define OPEN_DROP (O_CREAT | O_TRUNC | O_EXCL | O_NOCTTY | O_CLOEXEC | O_ASYNC)

static int open_flags(const RegFileEntry *r)
{
	uint32_t unknown = r->flags & ~(uint32_t)(OPEN_KEEP | OPEN_DROP);

	if (unknown)
		pr_warn("file %s: open flags 0%o are not restored\n", r->path, unknown);
	return (int)(r->flags & OPEN_KEEP);
}

static int same_kind(const RegFileEntry *r, const struct stat *st)
{
	if ((st->st_mode & S_IFMT) == (r->mode & S_IFMT))
		return 0;
	pr_err("file %s changed since the dump: it is another kind of file now (mode 0%o -> "
	       "0%o)\n",
	       r->path, r->mode, (unsigned int)st->st_mode);
	return -ESTALE;
}

/* Open path (r->path itself, or /proc/self/fd/N of its recreated ghost) as r says and
 * check it is still what was dumped. */
static int open_checked(const RegFileEntry *r, const char *path)
{
	struct stat st;
	int fd, ret;

	/* before open(): opening a fifo or a device could block or have effects; a symlink
	 * opened O_PATH|O_NOFOLLOW is the link itself */
	if (S_ISLNK(r->mode) ? lstat(path, &st) : stat(path, &st)) {
		ret = -errno;
		pr_perror("can't open file %s", r->path);
		return ret;
	}
	if ((ret = same_kind(r, &st)))
		return ret;
	fd = open(path, open_flags(r) | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		ret = -errno;
		pr_perror("can't open file %s with flags 0%o", r->path, open_flags(r));
		return ret;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		pr_perror("can't stat file %s", r->path);
	} else {
		ret = same_kind(r, &st);
	}
	if (!ret && S_ISREG(st.st_mode) && r->has_size && (uint64_t)st.st_size != r->size) {
		pr_err("file %s changed since the dump: size %llu -> %lld\n", r->path,
		       (unsigned long long)r->size, (long long)st.st_size);
		ret = -ESTALE;
	}
	if (!ret && S_ISCHR(st.st_mode) && r->has_rdev && st.st_rdev != (dev_t)r->rdev) {
		pr_err("device %s changed since the dump: %u:%u -> %u:%u\n", r->path,
		       major((dev_t)r->rdev), minor((dev_t)r->rdev), major(st.st_rdev),
		       minor(st.st_rdev));
		ret = -ESTALE;
	}
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

static int set_pos(int fd, const RegFileEntry *r)
{
	off_t at;

	if (!r->pos || (r->flags & O_PATH) || !(S_ISREG(r->mode) || S_ISDIR(r->mode)))
		return 0;
	at = lseek(fd, (off_t)r->pos, SEEK_SET);
	if (at == (off_t)r->pos)
		return 0;
	if (at < 0)
		pr_perror("can't seek file %s to %llu", r->path, (unsigned long long)r->pos);
	else
		pr_err("file %s: seek to %llu landed at %lld\n", r->path,
		       (unsigned long long)r->pos, (long long)at);
	return at < 0 ? -errno : -EIO;
}

/* An O_PATH fd of the recreated deleted file of r. */
static int recreate(struct restore_ctx *c, const RegFileEntry *r)
{
	struct ghost_attr a = {
		.mode = r->mode,
		.has_owner = r->has_uid && r->has_gid,
		.uid = r->uid,
		.gid = r->gid,
		.has_mtime = r->has_mtime_ns,
		.mtime_ns = r->mtime_ns,
	};
	struct ghost_extents e;
	int ret;

	if ((S_ISDIR(r->mode) || S_ISCHR(r->mode)) && r->has_ghost_id)
		return ghost_recreate_node(r->ghost_id, r->path, &a,
					   r->has_rdev ? (dev_t)r->rdev : 0);
	if (r->has_fhandle) { /* still linked by another name: that inode again */
		struct ghost_handle h = { .type = r->fhandle_type,
					  .len = (uint32_t)r->fhandle.len,
					  .mnt = r->fhandle_mnt,
					  .dev = r->has_fhandle_dev ? r->fhandle_dev : 0,
					  .ino = r->has_ino ? r->ino : 0 };

		if (!r->has_ghost_id || r->fhandle.len > sizeof(h.bytes) || !r->fhandle_mnt) {
			pr_err("files.img: deleted file %s: a bad file handle record\n", r->path);
			return -EBADMSG;
		}
		memcpy(h.bytes, r->fhandle.data, r->fhandle.len);
		return ghost_relink(r->ghost_id, r->path, &h);
	}
	if (!r->has_ghost_id || !r->has_size || !r->has_ghost_crc32c) {
		pr_err("files.img: deleted file %s has no ghost image, size or crc\n", r->path);
		return -EBADMSG;
	}
	ret = ghost_extents_of(r, &e);
	if (!ret)
		ret = ghost_verify(c->dir, r->ghost_id, r->size, &e, r->ghost_crc32c);
	if (!ret)
		ret = ghost_recreate(c->dir, r->ghost_id, r->size, &e, r->path, &a);
	ghost_extents_free(&e);
	return ret;
}

/* The recreated deleted file of r: made by the first entry on it. */
static int ghost_fd(struct restore_ctx *c, const RegFileEntry *r)
{
	struct restore_ghosts *g = c->ghosts;
	int fd;

	if (!g && !(g = c->ghosts = calloc(1, sizeof(*g)))) {
		pr_err("out of memory\n");
		return -ENOMEM;
	}
	for (size_t i = 0; i < g->n; i++)
		if (g->v[i].id == r->ghost_id)
			return g->v[i].fd;
	if (g->n == g->cap) {
		size_t ncap = g->cap ? g->cap * 2 : 4;
		struct restore_ghost *nv = realloc(g->v, ncap * sizeof(*nv));

		if (!nv) {
			pr_err("out of memory\n");
			return -ENOMEM;
		}
		g->v = nv;
		g->cap = ncap;
	}
	fd = recreate(c, r);
	if (fd < 0)
		return fd;
	g->v[g->n].id = r->ghost_id;
	g->v[g->n].fd = fd;
	g->n++;
	return fd;
}

int restore_ghost_of(struct restore_ctx *c, uint32_t id)
{
	const FileEntry *fe = restore_file(c, id);

	if (!fe || fe->type != FILE_TYPE__FT_REG || !fe->reg || !fe->reg->deleted ||
	    !fe->reg->has_ghost_id) {
		pr_err("files.img: file %u is no file deleted while open\n", id);
		return -EBADMSG;
	}
	return ghost_fd(c, fe->reg);
}

void restore_ghosts_done(struct restore_ctx *c)
{
	struct restore_ghosts *g = c->ghosts;

	for (size_t i = 0; g && i < g->n; i++)
		close(g->v[i].fd);
	if (g)
		free(g->v);
	free(g);
	c->ghosts = NULL;
}

static int open_reg(struct restore_ctx *c, const RegFileEntry *r)
{
	char proc[64];
	const char *path = r->path;
	int fd, ret;

	if (r->has_deleted && r->deleted) {
		fd = ghost_fd(c, r);
		if (fd < 0)
			return fd;
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		path = proc;
	}
	fd = open_checked(r, path);
	if (fd >= 0 && (ret = set_pos(fd, r))) {
		close(fd);
		fd = ret;
	}
	return fd;
}

/* A terminal the dump took as external: reopened by path (never as our controlling terminal),
 * and it must be the same device. */
static int open_external_tty(const RegFileEntry *r)
{
	struct stat st;
	int fd = open(r->path,
		      (int)(r->flags & (O_ACCMODE | O_APPEND | O_NONBLOCK)) | O_NOCTTY | O_CLOEXEC);

	if (fd < 0) {
		fd = -errno;
		pr_perror("can't open the external terminal %s", r->path);
		return fd;
	}
	if (fstat(fd, &st) || !S_ISCHR(st.st_mode) || !r->has_rdev || st.st_rdev != r->rdev) {
		pr_err("the external terminal %s is device %u:%u here, not %u:%u as at dump\n",
		       r->path, major(st.st_rdev), minor(st.st_rdev), major((dev_t)r->rdev),
		       minor((dev_t)r->rdev));
		close(fd);
		return -ENODEV;
	}
	return fd;
}

/* A terminal becomes the restorer's own: its fd 0, 1 or 2, picked by the
 * lowest dumped fd on it or else by the access mode. */
static int open_tty(struct restore_ctx *c, const RegFileEntry *r, int first_fd)
{
	int role, fd;

	if (r->tty_external) /* the console or a terminal of the host: its path, checked */
		return open_external_tty(r);
	if (!c->o->shell_job) {
		pr_err("the dump holds the terminal %s: restore with --shell-job\n", r->path);
		return -ENOTSUP;
	}
	if (first_fd >= 0 && first_fd <= 2)
		role = first_fd;
	else
		role = (r->flags & O_ACCMODE) == O_WRONLY ? 1 : 0;
	if (!isatty(role)) {
		pr_err("terminal %s (fd %d of the task) goes to the restorer's fd %d, which is "
		       "not a terminal: --shell-job needs one\n",
		       r->path, first_fd, role);
		return -ENOTTY;
	}
	fd = fcntl(role, F_DUPFD_CLOEXEC, 0);
	if (fd < 0) {
		fd = -errno;
		pr_perror("can't dup the restorer's terminal fd %d", role);
	}
	return fd;
}

int restore_dup(int fd, const char *what)
{
	int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);

	if (d < 0) {
		d = -errno;
		pr_perror("%s: can't dup its fd %d", what, fd);
	}
	return d;
}

/* A netlink or packet socket, made (when its entry is opened) in its network namespace
 * (restore-sknetns.h). Inet sockets are all made at once, each in its namespace
 * (restore-inet.c); unix sockets are always the tree's. */
static int open_socket(struct restore_ctx *c, const FileEntry *fe)
{
	bool in;
	int ret = restore_sknetns_enter(c, fe, &in), fd;

	if (ret)
		return ret;
	fd = fe->type == FILE_TYPE__FT_NETLINKSK ? restore_netlink_open(c, fe)
						 : restore_packet_open(c, fe);
	ret = restore_sknetns_leave(c, in);
	if (ret && fd >= 0)
		close(fd);
	return ret ?: fd;
}

int restore_open_entry(struct restore_ctx *c, const FileEntry *fe, int first_fd)
{
	if (fe->type == FILE_TYPE__FT_UNIXSK)
		return restore_unix_open(c, fe);
	if (fe->type == FILE_TYPE__FT_INETSK)
		return restore_inet_open(c, fe);
	if (fe->type == FILE_TYPE__FT_NETLINKSK || fe->type == FILE_TYPE__FT_PACKETSK)
		return open_socket(c, fe);
	if (fe->type == FILE_TYPE__FT_NSFILE)
		return restore_sknetns_nsfile(c, fe);
	if (fe->type == FILE_TYPE__FT_PIPE)
		return restore_pipe_open(c, fe);
	if (fe->type == FILE_TYPE__FT_MEMFD)
		return restore_memfd_open(c, fe);
	if (fe->type == FILE_TYPE__FT_PTY)
		return restore_pty_open(c, fe); /* restore-tty.c */
	if (anonfd_restores(fe->type))
		return restore_anonfd_open(c, fe);
	if (!fe->reg) {
		pr_err("files.img: file %u of type %d has no path: not supported by this "
		       "criu-lite\n",
		       fe->id, fe->type);
		return -ENOTSUP;
	}
	switch (fe->type) {
	case FILE_TYPE__FT_REG:
		return open_reg(c, fe->reg);
	case FILE_TYPE__FT_DEV:
		if (!S_ISCHR(fe->reg->mode) || !fe->reg->has_rdev) {
			pr_err("files.img: device file %u (%s) has no device number\n", fe->id,
			       fe->reg->path);
			return -EBADMSG;
		}
		if (fe->reg->has_deleted && fe->reg->deleted) /* its node made again */
			return open_reg(c, fe->reg);
		return open_checked(fe->reg, fe->reg->path);
	case FILE_TYPE__FT_TTY:
		return open_tty(c, fe->reg, first_fd);
	default:
		pr_err("files.img: file %u (%s) is of type %d: not supported by this criu-lite\n",
		       fe->id, fe->reg->path, fe->type);
		return -ENOTSUP;
	}
}

int restore_open_file(struct restore_ctx *c, uint32_t id)
{
	const FileEntry *fe = restore_file(c, id);

	if (!fe) {
		pr_err("files.img: no file with id %u\n", id);
		return -EBADMSG;
	}
	return restore_open_entry(c, fe, -1);
}
