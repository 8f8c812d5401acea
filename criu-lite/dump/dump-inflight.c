/* dump-inflight: the files in flight in unix sockets' receive queues (SCM_RIGHTS): no task of
 * the tree holds them as an fd, but a task gets them with the message it reads next.
 *
 * Contract: dump_file_inflight() takes one fd of the dumper's own (a copy that a peek of the
 * queue handed out, dump-unix-queue.c) and makes it a file of the dump as if a task held it:
 * dump-files.c reads it with the dumper as a stand-in task (a dump_ctx with inflight set and
 * the dumper's pid). The same open file description as an fd of the tree, or as another file in
 * flight, gets the same id (kcmp), so a restored task that receives it shares it again (offset,
 * flags, the pipe, the socket). The fd stays open until the dump's files are freed (kcmp needs
 * it for the tasks dumped after it) or is closed at once when its description was known.
 * Supported in flight: regular files and directories (deleted ones too), memory devices, pipes
 * and FIFOs, memfds, and unix sockets whose own queue holds no fds in flight (restore would
 * need one socket's queue filled before another's). Refused, naming the socket, the message
 * and the file: any other kind, a file that holds locks or has an owner (F_SETOWN, O_ASYNC:
 * both are restored through a task that holds the file), a socket in flight in its own queue.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_PREFIX "files: "
#include "criu-lite/dump/dump-sknetns.h"
#include "criu-lite/dump/dump.h"
#include "criu-lite/kinds/anonfd.h"
#include "criu-lite/kinds/sk-unix.h"
#include "criu-lite/log.h"

static int refuse(const char *what, const struct proc_fd *f, const char *why)
{
	pr_err("%s is %s, in flight (SCM_RIGHTS): %s\n", what, f->target, why);
	return -ENOTSUP;
}

int dump_inflight_check_fd(const char *what, const struct proc_fd *f, const struct proc_fdinfo *fi)
{
	int dom = 0;
	socklen_t l = sizeof(dom);

	if (proc_fdinfo_count(fi, "lock"))
		return refuse(what, f, "it holds file locks, which are not supported in flight");
	if (anonfd_type(f->target) || ns_link(f->target))
		return refuse(what, f, "not supported in flight");
	if (!sock_link(f->target))
		return 0;
	/* the fd is the dumper's own: its family is read directly */
	if (getsockopt(f->fd, SOL_SOCKET, SO_DOMAIN, &dom, &l)) {
		pr_perror("%s: getsockopt(SO_DOMAIN) of %s", what, f->target);
		return -errno;
	}
	return dom == AF_UNIX ? 0 : refuse(what, f, "only unix sockets are supported in flight");
}

int dump_inflight_check_rec(const char *what, const struct proc_fd *f, FileType type,
			    bool has_owner)
{
	if (has_owner)
		return refuse(what, f,
			      "it has an owner (F_SETOWN) or O_ASYNC, which are not supported in "
			      "flight");
	switch (type) {
	case FILE_TYPE__FT_REG:
	case FILE_TYPE__FT_DEV:
	case FILE_TYPE__FT_PIPE:
	case FILE_TYPE__FT_MEMFD:
	case FILE_TYPE__FT_UNIXSK:
		return 0;
	default:
		return refuse(what, f, "this kind of file is not supported in flight");
	}
}

int dump_file_inflight(struct dump_ctx *c, int fd, uint32_t sock_ino, const char *what,
		       uint32_t *id)
{
	char link[64], target[PATH_MAX];
	struct proc_fd f = { .fd = fd, .target = target };
	struct dump_ctx *x = NULL;
	struct stat st;
	bool kept = false;
	ssize_t n;
	int ret = 0;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0 || fstat(fd, &st)) {
		ret = -errno;
		pr_perror("%s: can't read what the file in flight is (%s)", what, link);
	} else {
		target[n] = '\0';
		if (S_ISSOCK(st.st_mode) && st.st_ino == sock_ino)
			ret = refuse(what, &f, "the socket is in flight in its own receive queue");
	}
	if (!ret && !(x = calloc(1, sizeof(*x)))) {
		pr_err("out of memory\n");
		ret = -ENOMEM;
	}
	if (!ret) {
		x->sh = c->sh;
		x->pid = getpid();
		x->vpid = c->vpid;
		x->inflight = true;
		ret = dump_file_fd(x, &f, what, id, &kept);
		if (!ret)
			pr_info("%s: %s in flight is file %u\n", what, target, *id);
	}
	free(x);
	if (!kept)
		close(fd);
	return ret;
}
