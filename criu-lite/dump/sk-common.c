/* sk-common: see sk-common.h. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/sock_diag.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LOG_PREFIX "sockets: "
#include "criu-lite/dump/sk-common.h"
#include "criu-lite/log.h"
#include "criu-lite/taskfd.h"

int sk_netns_ours(int fd)
{
	uint64_t a = 0, b = 0;
	socklen_t l = sizeof(a);
	int own = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret;

	if (own < 0)
		return -errno;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &a, &l) ||
	    (l = sizeof(b), getsockopt(own, SOL_SOCKET, SO_NETNS_COOKIE, &b, &l)))
		ret = -errno;
	else
		ret = a == b;
	close(own);
	return ret;
}

bool sk_geti(int fd, int level, int name, int *v)
{
	socklen_t l = sizeof(*v);

	return !getsockopt(fd, level, name, v, &l);
}

int sk_copy_fd(const struct dump_sk_fd *f, const char *what)
{
	int fd = taskfd_copy(f->pid, f->fd);

	if (fd < 0) {
		errno = -fd;
		pr_perror("%s: can't take a copy (pidfd_getfd)", what);
	}
	return fd;
}

static void read_bufs(int fd, int family, int type, int protocol, SkSockOpts *m)
{
	int f = socket(family, type | SOCK_CLOEXEC, protocol), v, d;

	if (f < 0)
		return; /* none of a new socket to compare with: the task's are kept as they are */
	if (sk_geti(fd, SOL_SOCKET, SO_SNDBUF, &v) && sk_geti(f, SOL_SOCKET, SO_SNDBUF, &d) &&
	    v != d) {
		m->has_sndbuf = true;
		m->sndbuf = (uint32_t)v;
	}
	if (sk_geti(fd, SOL_SOCKET, SO_RCVBUF, &v) && sk_geti(f, SOL_SOCKET, SO_RCVBUF, &d) &&
	    v != d) {
		m->has_rcvbuf = true;
		m->rcvbuf = (uint32_t)v;
	}
	close(f);
}

int sk_read_sock_opts(int fd, const char *what, const char *kind, int family, int type,
		      int protocol, bool keep_passcred, struct sk_sock_opts_img *o)
{
	int ret;

	sk_sock_opts__init(&o->m);
	read_bufs(fd, family, type, protocol, &o->m);
	ret = sk_read_filter(fd, what, &o->filter);
	if (ret)
		return ret;
	o->m.n_filter = o->filter.n;
	o->m.filter = o->filter.fp;
	o->m.has_filter_locked = o->filter.n && o->filter.has_locked;
	o->m.filter_locked = o->filter.locked;
	return sk_refuse_unkept(fd, what, kind, family, type, protocol, keep_passcred);
}

void sk_sock_opts_free(struct sk_sock_opts_img *o)
{
	sk_filter_free(&o->filter);
}

int sk_read_filter(int fd, const char *what, struct sk_filter_img *f)
{
	socklen_t n = 0;
	struct sock_filter *k;
	int v;

	*f = (struct sk_filter_img){ 0 };
	if (getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, NULL, &n) || !n)
		return 0; /* none (SO_GET_FILTER counts instructions, not bytes) */
	k = calloc(n, sizeof(*k));
	f->fi = calloc(n, sizeof(*f->fi));
	f->fp = calloc(n, sizeof(*f->fp));
	if (!k || !f->fi || !f->fp) {
		free(k);
		sk_filter_free(f);
		pr_err("%s: out of memory for its socket filter\n", what);
		return -ENOMEM;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, k, &n)) {
		int ret = -errno;

		pr_perror("%s: SO_GET_FILTER", what);
		free(k);
		sk_filter_free(f);
		return ret;
	}
	for (socklen_t i = 0; i < n; i++) {
		sk_filter_insn__init(&f->fi[i]);
		f->fi[i] = (SkFilterInsn){ f->fi[i].base, k[i].code, k[i].jt, k[i].jf, k[i].k };
		f->fp[i] = &f->fi[i];
	}
	f->n = n;
	free(k);
	if (sk_geti(fd, SOL_SOCKET, SO_LOCK_FILTER, &v)) {
		f->has_locked = true;
		f->locked = v != 0;
	}
	return 0;
}

void sk_filter_free(struct sk_filter_img *f)
{
	free(f->fi);
	free(f->fp);
	*f = (struct sk_filter_img){ 0 };
}

int sk_rqueue(int fd, const char *what, uint32_t *bytes)
{
	uint32_t mi[SK_MEMINFO_VARS] = { 0 };
	socklen_t l = sizeof(mi);

	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mi, &l)) {
		int ret = -errno;

		pr_perror("%s: SO_MEMINFO (what it holds for reading)", what);
		return ret;
	}
	*bytes = mi[SK_MEMINFO_RMEM_ALLOC];
	return 0;
}

/* SOL_SOCKET options the netlink and packet dumps do not save: each must read as on a new
 * socket. Not here: those that change by themselves (SO_INCOMING_CPU, SO_COOKIE, ...). */
static const struct {
	int name;
	const char *str;
} unkept[] = {
	{ SO_REUSEADDR, "SO_REUSEADDR" },
	{ SO_REUSEPORT, "SO_REUSEPORT" },
	{ SO_KEEPALIVE, "SO_KEEPALIVE" },
	{ SO_BROADCAST, "SO_BROADCAST" },
	{ SO_DONTROUTE, "SO_DONTROUTE" },
	{ SO_OOBINLINE, "SO_OOBINLINE" },
	{ SO_LINGER, "SO_LINGER" },
	{ SO_PRIORITY, "SO_PRIORITY" },
	{ SO_MARK, "SO_MARK" },
	{ SO_RCVLOWAT, "SO_RCVLOWAT" },
	{ SO_RCVTIMEO_OLD, "SO_RCVTIMEO" },
	{ SO_SNDTIMEO_OLD, "SO_SNDTIMEO" },
	{ SO_TIMESTAMP_OLD, "SO_TIMESTAMP" },
	{ SO_TIMESTAMPNS_OLD, "SO_TIMESTAMPNS" },
	{ SO_TIMESTAMPING_OLD, "SO_TIMESTAMPING" },
	{ SO_RXQ_OVFL, "SO_RXQ_OVFL" },
	{ SO_WIFI_STATUS, "SO_WIFI_STATUS" },
	{ SO_BUSY_POLL, "SO_BUSY_POLL" },
	{ SO_ZEROCOPY, "SO_ZEROCOPY" },
	{ SO_PASSSEC, "SO_PASSSEC" },
	{ SO_PASSCRED, "SO_PASSCRED" },
	{ SO_BINDTODEVICE, "SO_BINDTODEVICE" },
	{ SO_SELECT_ERR_QUEUE, "SO_SELECT_ERR_QUEUE" },
	{ SO_MAX_PACING_RATE, "SO_MAX_PACING_RATE" },
	{ SO_TXTIME, "SO_TXTIME" },
};

int sk_refuse_unkept(int fd, const char *what, const char *kind, int family, int type, int protocol,
		     bool keep_passcred)
{
	int f = socket(family, type | SOCK_CLOEXEC, protocol), ret = 0;

	if (f < 0) {
		ret = -errno;
		pr_perror("%s: a new %s socket to compare its options with", what, kind);
		return ret;
	}
	for (size_t i = 0; i < sizeof(unkept) / sizeof(unkept[0]) && !ret; i++) {
		unsigned char v[64] = { 0 }, d[64] = { 0 };
		socklen_t lv = sizeof(v), ld = sizeof(d);

		if (keep_passcred && unkept[i].name == SO_PASSCRED)
			continue;
		if (getsockopt(fd, SOL_SOCKET, unkept[i].name, v, &lv) ||
		    getsockopt(f, SOL_SOCKET, unkept[i].name, d, &ld))
			continue; /* not one this socket has */
		if (lv == ld && !memcmp(v, d, lv))
			continue;
		if (lv >= sizeof(int) && ld >= sizeof(int))
			pr_err("%s: its %s is %d (a new %s socket's is %d), which criu-lite does "
			       "not restore for a %s socket: not supported yet\n",
			       what, unkept[i].str, *(int *)v, kind, *(int *)d, kind);
		else
			pr_err("%s: its %s differs from a new %s socket's, which criu-lite does "
			       "not restore for a %s socket: not supported yet\n",
			       what, unkept[i].str, kind, kind);
		ret = -ENOTSUP;
	}
	close(f);
	return ret;
}
