/* restore-pipes: pipes and FIFOs of files.img, created once each (see pipes.h).
 *
 * The table (restore_ctx.pipes) is built on the first call from every FT_PIPE
 * entry of files.img, keyed by pipe_id, with each pipe's data read and checked
 * against its size and crc32c; pipes are then created on first use. A pipe(2)
 * pair is created nonblocking (so that filling it can never hang) and each end
 * gets its entry's own status flags when handed out; the table keeps both ends
 * until restore_pipes_done(). A FIFO is held open O_RDWR (which never blocks
 * and keeps its data alive) and every entry reopens it through /proc/self/fd.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_PREFIX "pipes: "
#include "criu-lite/kinds/ghost.h"
#include "criu-lite/log.h"
#include "criu-lite/kinds/pipes.h"
#include "criu-lite/restore/rawdata.h"
#include "criu-lite/restore/restore.h"

/* The kernel's O_LARGEFILE on x86, which fdinfo shows for a FIFO opened by path. */
#define KERNEL_O_LARGEFILE 0100000
/* What an end's flags may hold: restored (O_ACCMODE, O_NONBLOCK) or implied by open(). */
#define PIPE_FLAGS_KNOWN (O_ACCMODE | O_NONBLOCK | KERNEL_O_LARGEFILE)

struct rpipe {
	const PipeFileEntry *pe; /* the first entry on this pipe: its size, data, path */
	uint32_t file_id;	 /* that entry's files.img id, for messages */
	char *data;		 /* the checked data in flight until it is written */
	bool created;
	int rfd, wfd;	       /* pipe(2): both ends; -1 when not open */
	bool r_given, w_given; /* the end itself went to an entry */
	int hold;	       /* FIFO: our O_RDWR open; -1 when not open */
	int inherit;	       /* external: the restorer's fd --inherit-fd names; -1 if not */
};

struct restore_pipes {
	struct rpipe *v;
	size_t n;
};

static struct rpipe *find(struct restore_pipes *t, uint32_t id)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].pe->pipe_id == id)
			return &t->v[i];
	return NULL;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Every entry on one pipe must describe it the same way. */
static int check_agree(const struct rpipe *p, const FileEntry *fe)
{
	const PipeFileEntry *a = p->pe, *b = fe->pipe;

	if (a->external && (a->flags & O_ACCMODE) != (b->flags & O_ACCMODE)) {
		pr_err("files.img: files %u and %u are both ends of external pipe:[%llu]: one "
		       "--inherit-fd can't stand for both\n",
		       p->file_id, fe->id, (unsigned long long)a->ino);
		return -EBADMSG;
	}
	if (a->ino == b->ino && a->size == b->size && a->has_data_len == b->has_data_len &&
	    a->data_len == b->data_len && a->data_crc32c == b->data_crc32c &&
	    same_str(a->fifo_path, b->fifo_path) && a->external == b->external)
		return 0;
	pr_err("files.img: files %u and %u are on pipe %u but disagree on its inode, size, data "
	       "or path\n",
	       p->file_id, fe->id, a->pipe_id);
	return -EBADMSG;
}

static int check_entry(const FileEntry *fe)
{
	const PipeFileEntry *pe = fe->pipe;

	if (!pe) {
		pr_err("files.img: pipe file %u has no pipe record\n", fe->id);
		return -EBADMSG;
	}
	if (pe->external && (pe->fifo_path || pe->has_data_len)) {
		pr_err("files.img: pipe file %u: an external pipe with a FIFO path or data\n",
		       fe->id);
		return -EBADMSG;
	}
	if (!pe->pipe_id || (!pe->size && !pe->external) ||
	    (pe->has_data_len && !pe->has_data_crc32c) ||
	    (pe->has_data_len && pe->data_len > pe->size)) {
		pr_err("files.img: pipe file %u (pipe %u): bad id, size %u or data length %u\n",
		       fe->id, pe->pipe_id, pe->size, pe->data_len);
		return -EBADMSG;
	}
	if (pe->fifo_path && pe->fifo_path[0] != '/') {
		pr_err("files.img: pipe file %u: FIFO path \"%s\" is not absolute\n", fe->id,
		       pe->fifo_path);
		return -EBADMSG;
	}
	return 0;
}

/* Read pipes-data-<id>.img into p->data and check it. */
static int load_data(struct restore_ctx *c, struct rpipe *p)
{
	char name[64], what[32];

	pipe_data_name(name, sizeof(name), p->pe->pipe_id);
	snprintf(what, sizeof(what), "pipe %u", p->pe->pipe_id);
	return rawdata_load(c->dir, name, what, p->pe->data_len, p->pe->data_crc32c, &p->data);
}

/* An external pipe: the fd --inherit-fd gives for it, checked; every --inherit-fd must name
 * an external pipe of the images. */
static int find_inherit(struct restore_ctx *c, struct rpipe *p)
{
	const struct inherit_fd *in;
	char key[48];
	int fl;

	snprintf(key, sizeof(key), "pipe:[%llu]", (unsigned long long)p->pe->ino);
	in = cli_inherit_fd(c->o, key);
	if (!in) {
		pr_err("%s was dumped as --external: give what takes its place with --inherit-fd "
		       "fd[N]:%s\n",
		       key, key);
		return -ENOENT;
	}
	fl = fcntl(in->fd, F_GETFL);
	if (fl < 0) {
		int e = errno;

		pr_perror("--inherit-fd fd[%d]:%s: fd %d", in->fd, key, in->fd);
		return -e;
	}
	if ((fl & O_ACCMODE) != O_RDWR && (fl & O_ACCMODE) != (int)(p->pe->flags & O_ACCMODE)) {
		pr_err("--inherit-fd fd[%d]:%s: fd %d is open %s, the task's end was %s\n", in->fd,
		       key, in->fd, (fl & O_ACCMODE) == O_RDONLY ? "for reading" : "for writing",
		       (p->pe->flags & O_ACCMODE) == O_RDONLY ? "the read end" : "the write end");
		return -EBADF;
	}
	p->inherit = in->fd;
	return 0;
}

static int check_inherit_used(struct restore_ctx *c, const struct restore_pipes *t)
{
	for (int k = 0; k < c->o->nr_inherit_fd; k++) {
		bool used = false;

		for (size_t i = 0; i < t->n && !used; i++) {
			char key[48];

			snprintf(key, sizeof(key), "pipe:[%llu]",
				 (unsigned long long)t->v[i].pe->ino);
			used = t->v[i].pe->external && !strcmp(key, c->o->inherit_fd[k].key);
		}
		if (!used) {
			pr_err("--inherit-fd fd[%d]:%s: the images have no external pipe of that "
			       "inode\n",
			       c->o->inherit_fd[k].fd, c->o->inherit_fd[k].key);
			return -EINVAL;
		}
	}
	return 0;
}

/* The table of every pipe of files.img, data loaded and checked. */
static int build_table(struct restore_ctx *c, struct restore_pipes *t)
{
	int ret;

	t->v = calloc(c->nr_files + 1, sizeof(*t->v));
	if (!t->v) {
		pr_err("out of memory for %zu pipes\n", c->nr_files);
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->nr_files; i++) {
		const FileEntry *fe = c->files[i];
		struct rpipe *p;

		if (fe->type != FILE_TYPE__FT_PIPE)
			continue;
		if ((ret = check_entry(fe)))
			return ret;
		p = find(t, fe->pipe->pipe_id);
		if (p) {
			if ((ret = check_agree(p, fe)))
				return ret;
			continue;
		}
		p = &t->v[t->n++];
		*p = (struct rpipe){ .pe = fe->pipe,
				     .file_id = fe->id,
				     .rfd = -1,
				     .wfd = -1,
				     .hold = -1,
				     .inherit = -1 };
		if (fe->pipe->external && (ret = find_inherit(c, p)))
			return ret;
		if (fe->pipe->has_data_len && fe->pipe->data_len && (ret = load_data(c, p)))
			return ret;
	}
	if ((ret = check_inherit_used(c, t)))
		return ret;
	pr_debug("%zu pipe(s) in files.img, data checked\n", t->n);
	return 0;
}

/* "pipe 3" or "FIFO /tmp/x (pipe 3)", for messages. */
static void name_of(const struct rpipe *p, char *buf, size_t len)
{
	if (p->pe->fifo_path)
		snprintf(buf, len, "FIFO %s (pipe %u)", p->pe->fifo_path, p->pe->pipe_id);
	else if (p->inherit >= 0)
		snprintf(buf, len, "external pipe:[%llu] (--inherit-fd fd[%d])",
			 (unsigned long long)p->pe->ino, p->inherit);
	else
		snprintf(buf, len, "pipe %u (inode %llu at dump)", p->pe->pipe_id,
			 (unsigned long long)p->pe->ino);
}

/* Size the pipe behind fd as dumped, then write its data through fd (nonblocking). */
static int size_and_fill(struct rpipe *p, int fd, const char *name)
{
	uint32_t len = p->pe->has_data_len ? p->pe->data_len : 0;
	int sz = fcntl(fd, F_GETPIPE_SZ);
	size_t done = 0;

	if (sz >= 0 && (uint32_t)sz != p->pe->size)
		sz = fcntl(fd, F_SETPIPE_SZ, p->pe->size);
	if (sz < 0) {
		int e = errno;

		pr_perror("%s: can't set its size to %u bytes as dumped (fs.pipe-max-size is %ld; "
			  "above it needs CAP_SYS_RESOURCE)",
			  name, p->pe->size, pipe_max_size());
		return -e;
	}
	if ((uint32_t)sz != p->pe->size) {
		pr_err("%s: asked for %u bytes, the kernel made it %d\n", name, p->pe->size, sz);
		return -EIO;
	}
	while (done < len) {
		ssize_t n = write(fd, p->data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			pr_perror("%s: can't write its data in flight (%zu of %u bytes written)",
				  name, done, len);
			return -e;
		}
		done += (size_t)n;
	}
	free(p->data);
	p->data = NULL;
	pr_debug("%s: created, %u bytes large, %u bytes in flight\n", name, p->pe->size, len);
	return 0;
}

static int create_anon(struct rpipe *p, const char *name)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK)) {
		int e = errno;

		pr_perror("%s: can't create it", name);
		return -e;
	}
	p->rfd = fds[0];
	p->wfd = fds[1];
	return size_and_fill(p, p->wfd, name);
}

/* A FIFO deleted at dump: made again (a ghost), and its path a /proc/self/fd link of it. */
static int ghost_fifo(struct rpipe *p, const char *name, char *proc, size_t len, int *opath)
{
	struct ghost_attr a = { .mode = p->pe->fifo_mode,
				.has_owner = p->pe->has_fifo_uid && p->pe->has_fifo_gid,
				.uid = p->pe->fifo_uid,
				.gid = p->pe->fifo_gid };

	if (!S_ISFIFO(p->pe->fifo_mode)) {
		pr_err("%s: deleted, with mode 0%o, which is no FIFO's\n", name, p->pe->fifo_mode);
		return -EBADMSG;
	}
	*opath = ghost_recreate_node(p->pe->fifo_ghost_id, p->pe->fifo_path, &a, 0);
	if (*opath < 0)
		return *opath;
	snprintf(proc, len, "/proc/self/fd/%d", *opath);
	return 0;
}

static int create_fifo(struct rpipe *p, const char *name)
{
	const char *path = p->pe->fifo_path;
	char proc[64];
	struct stat st;
	int n = 0, opath = -1;

	if (p->pe->has_fifo_deleted && p->pe->fifo_deleted) {
		int ret = ghost_fifo(p, name, proc, sizeof(proc), &opath);

		if (ret)
			return ret;
		path = proc;
	}
	/* before open(): opening something else than a FIFO could have effects */
	if (stat(path, &st)) {
		int e = errno;

		pr_perror("%s: can't find it", name);
		return -e;
	}
	if (!S_ISFIFO(st.st_mode)) {
		pr_err("%s: %s is not a FIFO any more (mode 0%o)\n", name, path,
		       (unsigned int)st.st_mode);
		return -ESTALE;
	}
	p->hold = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (opath >= 0)
		close(opath); /* the FIFO lives on through hold */
	if (p->hold < 0 || fstat(p->hold, &st) || ioctl(p->hold, FIONREAD, &n)) {
		int e = errno;

		pr_perror("%s: can't open it", name);
		return -e;
	}
	if (!S_ISFIFO(st.st_mode)) {
		pr_err("%s: %s was replaced by something else than a FIFO\n", name, path);
		return -ESTALE;
	}
	if (n) {
		pr_err("%s: it already holds %d bytes (another process has it open): can't put "
		       "its data back in order\n",
		       name, n);
		return -EBUSY;
	}
	return size_and_fill(p, p->hold, name);
}

/* A new open file description on the pipe behind fd, with access mode acc. */
static int reopen(int fd, int acc, const char *name)
{
	char proc[64];
	int r;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	r = open(proc, acc | O_NONBLOCK | O_CLOEXEC);
	if (r < 0) {
		r = -errno;
		pr_perror("%s: can't reopen it through %s with access mode %d", name, proc, acc);
	}
	return r;
}

/* A dup of one end of a pipe(2) pair. */
static int dup_end(int fd, const char *name)
{
	int r = fcntl(fd, F_DUPFD_CLOEXEC, 0);

	if (r < 0) {
		r = -errno;
		pr_perror("%s: can't dup its end fd %d", name, fd);
	}
	return r;
}

/* The fd for entry fe on pipe p (created by now). */
static int open_end(struct rpipe *p, const FileEntry *fe, const char *name)
{
	uint32_t flags = fe->pipe->flags, unknown = flags & ~(uint32_t)PIPE_FLAGS_KNOWN;
	int acc = (int)(flags & O_ACCMODE), fd, fl;

	if (unknown)
		pr_warn("%s: file %u: status flags 0%o are not restored\n", name, fe->id, unknown);
	if (p->inherit >= 0) {
		fd = dup_end(p->inherit, name);
	} else if (p->hold >= 0) {
		fd = reopen(p->hold, acc, name);
	} else if (acc == O_RDONLY && !p->r_given) {
		fd = dup_end(p->rfd, name);
		p->r_given = fd >= 0;
	} else if (acc == O_WRONLY && !p->w_given) {
		fd = dup_end(p->wfd, name);
		p->w_given = fd >= 0;
	} else {
		fd = reopen(p->rfd, acc, name);
	}
	if (fd < 0)
		return fd;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, (fl & ~O_NONBLOCK) | (int)(flags & O_NONBLOCK))) {
		int e = errno;

		pr_perror("%s: file %u: can't set its status flags 0%o", name, fe->id, flags);
		close(fd);
		return -e;
	}
	return fd;
}

int restore_pipes_prepare(struct restore_ctx *c)
{
	int ret;

	if (c->pipes)
		return 0;
	c->pipes = calloc(1, sizeof(*c->pipes));
	if (!c->pipes) {
		pr_err("out of memory for the pipe table\n");
		return -ENOMEM;
	}
	ret = build_table(c, c->pipes);
	if (ret)
		restore_pipes_done(c);
	return ret;
}

int restore_pipe_open(struct restore_ctx *c, const FileEntry *fe)
{
	struct rpipe *p;
	char name[PATH_MAX + 64];
	int ret = restore_pipes_prepare(c);

	if (ret)
		return ret;
	p = fe->pipe ? find(c->pipes, fe->pipe->pipe_id) : NULL;
	if (!p) {
		pr_err("files.img: pipe file %u is not in the pipe table\n", fe->id);
		return -EBADMSG;
	}
	name_of(p, name, sizeof(name));
	if (!p->created && p->inherit < 0) {
		ret = p->pe->fifo_path ? create_fifo(p, name) : create_anon(p, name);
		if (ret)
			return ret;
		p->created = true;
	}
	return open_end(p, fe, name);
}

void restore_pipes_done(struct restore_ctx *c)
{
	struct restore_pipes *t = c->pipes;

	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		struct rpipe *p = &t->v[i];

		if (p->rfd >= 0)
			close(p->rfd);
		if (p->wfd >= 0)
			close(p->wfd);
		if (p->hold >= 0)
			close(p->hold);
		free(p->data);
	}
	free(t->v);
	free(t);
	c->pipes = NULL;
}
