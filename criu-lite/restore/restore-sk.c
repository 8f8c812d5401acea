/* restore-sk: see restore-sk.h. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#define LOG_PREFIX "sockets: "
#include "criu-lite/log.h"
#include "criu-lite/restore/restore-sknetns.h"
#include "criu-lite/restore/restore-sk.h"
#include "criu-lite/restore/restore.h"

int rsk_bad(uint32_t file_id, const char *what, const char *why)
{
	pr_err("files.img: file %u, %s: %s\n", file_id, what, why);
	return -EBADMSG;
}

int rsk_seti(int fd, const char *what, int level, int name, const char *oname, int v)
{
	if (!setsockopt(fd, level, name, &v, sizeof(v)))
		return 0;
	pr_perror("%s: setsockopt(%s, %d)", what, oname, v);
	return -errno;
}

static int bufs(int fd, const char *what, bool has_snd, uint32_t snd, bool has_rcv, uint32_t rcv)
{
	int ret = 0;

	/* getsockopt() reports the doubled value; the FORCE options pass wmem_max/rmem_max */
	if (has_snd)
		ret = rsk_seti(fd, what, SOL_SOCKET, SO_SNDBUFFORCE, "SO_SNDBUFFORCE",
			       (int)(snd / 2));
	if (has_rcv && !ret)
		ret = rsk_seti(fd, what, SOL_SOCKET, SO_RCVBUFFORCE, "SO_RCVBUFFORCE",
			       (int)(rcv / 2));
	return ret;
}

int rsk_filter(int fd, const char *what, SkFilterInsn *const *v, size_t n, bool locked)
{
	struct sock_filter *f = calloc(n ? n : 1, sizeof(*f));
	struct sock_fprog p = { .len = (unsigned short)n, .filter = f };
	int ret = 0;

	if (!f) {
		pr_err("%s: out of memory for its socket filter\n", what);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		f[i].code = (uint16_t)v[i]->code;
		f[i].jt = (uint8_t)v[i]->jt;
		f[i].jf = (uint8_t)v[i]->jf;
		f[i].k = v[i]->k;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &p, sizeof(p))) {
		ret = -errno;
		pr_perror("%s: SO_ATTACH_FILTER (%zu instructions)", what, n);
	}
	free(f);
	if (!ret && locked)
		ret = rsk_seti(fd, what, SOL_SOCKET, SO_LOCK_FILTER, "SO_LOCK_FILTER", 1);
	return ret;
}

int rsk_status(int fd, const char *what, uint32_t flags)
{
	if (!(flags & O_NONBLOCK) || !fcntl(fd, F_SETFL, O_NONBLOCK))
		return 0;
	pr_perror("%s: F_SETFL O_NONBLOCK", what);
	return -errno;
}

int rsk_sock_opts(int fd, const char *what, const SkSockOpts *o)
{
	int ret;

	if (!o)
		return 0;
	ret = bufs(fd, what, o->has_sndbuf, o->sndbuf, o->has_rcvbuf, o->rcvbuf);
	if (!ret && o->n_filter)
		ret = rsk_filter(fd, what, o->filter, o->n_filter,
				 o->has_filter_locked && o->filter_locked);
	return ret;
}

int rsk_socket(int family, int type, int protocol, const char *what)
{
	int fd = socket(family, type | SOCK_CLOEXEC, protocol);

	if (fd < 0) {
		fd = -errno;
		pr_perror("%s: socket()", what);
	}
	return fd;
}

int rsk_check_all(struct restore_ctx *c, FileType type, const char *kind,
		  int (*check)(const FileEntry *fe))
{
	int ret = 0;
	size_t n = 0;

	for (size_t i = 0; i < c->nr_files && !ret; i++) {
		bool in = false;

		if (c->files[i]->type != type)
			continue;
		/* in the socket's network namespace: the names it looks up are that one's */
		ret = restore_sknetns_enter(c, c->files[i], &in);
		if (!ret)
			ret = check(c->files[i]);
		ret = restore_sknetns_leave(c, in) ?: ret;
		n++;
	}
	if (!ret && n)
		pr_debug("%zu %s socket(s) in files.img, checked\n", n, kind);
	return ret;
}
