/* dump-pipes: the pipes and FIFOs of a task, saved once per pipe (see pipes.h).
 *
 * The bytes in flight are read without consuming them: a readable file on the
 * task's pipe (a pidfd_getfd() copy of the task's fd when that fd can read,
 * which leaves the pipe's reader count alone; else a reopen of /proc/PID/fd/N
 * for reading, O_NONBLOCK so it never waits for a writer) is tee(2)'d into a pipe of our own that
 * is as large as the task's, and our copy is read. tee() always starts at the head of the pipe, so
 * it is called once for exactly the number of bytes FIONREAD reports.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LOG_PREFIX "pipes: "
#include "criu-lite/dump/dump.h"
#include "criu-lite/log.h"
#include "criu-lite/taskfd.h"
#include "criu-lite/kinds/pipes.h"

void pipe_data_name(char *buf, size_t len, uint32_t id)
{
	snprintf(buf, len, "pipes-data-%u.img", id);
}

long pipe_max_size(void)
{
	FILE *f = fopen("/proc/sys/fs/pipe-max-size", "re");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* A copy of the task's fd (pidfd_getfd), or -errno. pid may be a thread's tid (a task whose
 * leader has exited, dump.h): a pidfd of that thread (PIDFD_THREAD == O_EXCL, 6.9+) reaches the
 * fd table, the process's does not; older kernels have only the latter. */
static int steal_fd(pid_t pid, const struct dump_pipe_fd *f)
{
	int fd = taskfd_copy(pid, f->fd);

	if (fd < 0) {
		errno = -fd;
		pr_perror("%s: can't take a copy of %s (pidfd_open/pidfd_getfd)", f->what, f->link);
	}
	return fd;
}

/* A file of ours that can read the task's pipe, or -errno. */
static int readable_copy(struct dump_ctx *c, const struct dump_pipe_fd *f)
{
	char via[64];
	int fd;

	if ((f->flags & O_ACCMODE) != O_WRONLY)
		return steal_fd(c->pid, f);
	snprintf(via, sizeof(via), "/proc/%d/fd/%d", c->pid, f->fd);
	fd = open(via, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		fd = -errno;
		pr_perror("%s: can't open %s (%s) for reading its data", f->what, via, f->link);
	}
	return fd;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Exactly len bytes of our copy pipe (nonblocking: they are all there). */
static int read_copy(int fd, char *buf, size_t len, const struct dump_pipe_fd *f)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0)
				pr_perror("%s: can't read the copy of the data of %s", f->what,
					  f->link);
			else
				pr_err("%s: the copy of the data of %s ended after %zu of %zu "
				       "bytes\n",
				       f->what, f->link, done, len);
			return n < 0 ? -errno : -EIO;
		}
		done += (size_t)n;
	}
	return 0;
}

/* len bytes in flight of src (size bytes large) into buf, the task's pipe untouched. */
static int copy_data(int src, uint32_t size, char *buf, size_t len, const struct dump_pipe_fd *f)
{
	int cp[2], got, ret = 0;
	ssize_t n;

	if (pipe2(cp, O_CLOEXEC | O_NONBLOCK)) {
		ret = -errno;
		pr_perror("%s: can't create a pipe to copy the data of %s", f->what, f->link);
		return ret;
	}
	got = fcntl(cp[1], F_GETPIPE_SZ);
	if (got >= 0 && (uint32_t)got < size)
		got = fcntl(cp[1], F_SETPIPE_SZ, size);
	if (got < 0) {
		ret = -errno;
		pr_perror("%s: %s is %u bytes large and holds %zu: can't make a pipe that large "
			  "to copy them (fs.pipe-max-size is %ld; above it needs "
			  "CAP_SYS_RESOURCE)",
			  f->what, f->link, size, len, pipe_max_size());
		goto out;
	}
	n = tee(src, cp[1], len, SPLICE_F_NONBLOCK);
	if (n < 0) {
		ret = -errno;
		pr_perror("%s: tee() of the %zu bytes in flight of %s", f->what, len, f->link);
		goto out;
	}
	if ((size_t)n != len) {
		pr_err("%s: tee() copied %zd of the %zu bytes in flight of %s (another process "
		       "reads it?)\n",
		       f->what, n, len, f->link);
		ret = -EAGAIN;
		goto out;
	}
	ret = read_copy(cp[0], buf, len, f);
out:
	close(cp[0]);
	close(cp[1]);
	return ret;
}

static int write_data(struct dump_ctx *c, const struct dump_pipe *p, const char *buf,
		      const struct dump_pipe_fd *f)
{
	struct img_err err = { 0 };
	struct raw_file rf;
	char name[64];
	int ret;

	pipe_data_name(name, sizeof(name), p->id);
	ret = raw_file_create(c->sh->dir, name, &rf, &err);
	if (ret) {
		pr_err("%s: %s\n", f->what, err.msg);
		return ret;
	}
	ret = write_all(rf.fd, buf, p->data_len);
	if (ret) {
		pr_err("%s: can't write %s for %s: %s (errno %d)\n", f->what, rf.tmp, f->link,
		       strerror(-ret), -ret);
		raw_file_abort(&rf);
		return ret;
	}
	ret = raw_file_commit(&rf, &err);
	if (ret)
		pr_err("%s: %s\n", f->what, err.msg);
	return ret;
}

/* Size and data of a pipe seen for the first time. */
static int save_pipe(struct dump_ctx *c, const struct dump_pipe_fd *f, struct dump_pipe *p)
{
	int src = readable_copy(c, f), size, avail = 0, ret = 0;
	char *buf = NULL;

	if (src < 0)
		return src;
	size = fcntl(src, F_GETPIPE_SZ);
	if (size < 0 || ioctl(src, FIONREAD, &avail) || avail < 0) {
		ret = -errno;
		pr_perror("%s: can't read the size and fill of %s", f->what, f->link);
		goto out;
	}
	p->size = (uint32_t)size;
	p->data_len = (uint32_t)avail;
	if (avail) {
		buf = malloc((size_t)avail);
		if (!buf) {
			pr_err("%s: out of memory for the %d bytes in flight of %s\n", f->what,
			       avail, f->link);
			ret = -ENOMEM;
			goto out;
		}
		ret = copy_data(src, p->size, buf, (size_t)avail, f);
		if (!ret) {
			p->data_crc = img_crc32c(0, buf, (size_t)avail);
			ret = write_data(c, p, buf, f);
		}
	}
	if (!ret)
		pr_debug("%s: %s is pipe %u: %u bytes large, %u in flight (crc32c %08x)\n", f->what,
			 f->link, p->id, p->size, p->data_len, p->data_crc);
out:
	free(buf);
	close(src);
	return ret;
}

int dump_pipe_end(struct dump_ctx *c, struct dump_pipes *p, const struct dump_pipe_fd *f,
		  struct dump_pipe *out)
{
	struct dump_pipe np = { .dev = f->st->st_dev, .ino = f->st->st_ino };
	int ret;

	if (f->flags & O_DIRECT) {
		pr_err("%s: %s is a packet-mode pipe (O_DIRECT): not supported yet\n", f->what,
		       f->link);
		return -ENOTSUP;
	}
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].dev == np.dev && p->v[i].ino == np.ino) {
			p->v[i].ends |= 1u << (f->flags & O_ACCMODE);
			*out = p->v[i];
			return 0;
		}
	if (p->n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 8;
		struct dump_pipe *nv = realloc(p->v, ncap * sizeof(*nv));

		if (!nv) {
			pr_err("out of memory for %zu pipes\n", ncap);
			return -ENOMEM;
		}
		p->v = nv;
		p->cap = ncap;
	}
	np.fifo = !pipe_link(f->link);
	np.ends = 1u << (f->flags & O_ACCMODE);
	np.id = (uint32_t)p->n + 1;
	snprintf(np.what, sizeof(np.what), "%s", f->what);
	for (int k = 0; !np.fifo && k < c->sh->o->nr_external; k++)
		if (!strcmp(c->sh->o->external[k], f->link)) {
			np.external = true;
			np.key_given = k;
		}
	ret = np.external ? 0 : save_pipe(c, f, &np);
	if (ret)
		return ret;
	if (np.external)
		pr_info("%s: %s is --external: its data stays with the pipe\n", f->what, f->link);
	p->v[p->n++] = np;
	*out = np;
	return 0;
}

void dump_pipe_fill(const struct dump_pipe *p, uint32_t flags, char *fifo_path, PipeFileEntry *e)
{
	pipe_file_entry__init(e);
	e->pipe_id = p->id;
	e->ino = p->ino;
	e->flags = flags;
	e->size = p->size;
	if (p->data_len) {
		e->has_data_len = e->has_data_crc32c = true;
		e->data_len = p->data_len;
		e->data_crc32c = p->data_crc;
	}
	if (p->fifo)
		e->fifo_path = fifo_path;
	if (p->external)
		e->has_external = e->external = true;
}

void dump_pipes_free(struct dump_pipes *p)
{
	free(p->v);
	p->v = NULL;
	p->n = p->cap = 0;
}
