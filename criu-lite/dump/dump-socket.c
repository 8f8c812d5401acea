/* dump-socket: a socket fd of the task, handed to its family's dumper (dump-unix.c for AF_UNIX,
 * dump-inet.c for AF_INET and AF_INET6, dump-netlink.c for AF_NETLINK, dump-packet.c for
 * AF_PACKET) while the dumper is in the socket's network namespace (dump-sknetns.h); the other
 * families are refused here, by name.
 *
 * Contract: see dump_socket() in dump.h. The family is read (SO_DOMAIN) from a copy of the
 * task's fd (taskfd_copy), which also tells the socket's namespace; a unix socket of another
 * namespace than the tree's is refused (its name and peers live there: not supported yet). */
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#define LOG_PREFIX "sockets: "
#include "criu-lite/dump/dump-inet.h"
#include "criu-lite/dump/dump-sknetns.h"
#include "criu-lite/dump/dump.h"
#include "criu-lite/dump/sk-common.h"
#include "criu-lite/kinds/sk-inet.h"
#include "criu-lite/kinds/sk-netlink.h"
#include "criu-lite/kinds/sk-packet.h"
#include "criu-lite/kinds/sk-unix.h"
#include "criu-lite/log.h"
#include "criu-lite/taskfd.h"

static const char *family_name(int family)
{
	switch (family) {
	case AF_BLUETOOTH:
		return "AF_BLUETOOTH";
	case AF_VSOCK:
		return "AF_VSOCK";
	case AF_ALG:
		return "AF_ALG";
	case AF_XDP:
		return "AF_XDP";
	}
	return "other";
}

/* 0 and *family for a family that can be dumped, -ENOTSUP naming it for the others. */
static int check_family(int fd, const char *what, const char *link, int *family)
{
	int dom = -1;
	socklen_t len = sizeof(dom);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &len)) {
		pr_perror("%s: getsockopt(SO_DOMAIN) of %s", what, link);
		return -errno;
	}
	if (dom == AF_UNIX || dom == AF_INET || dom == AF_INET6 || dom == AF_NETLINK ||
	    dom == AF_PACKET) {
		*family = dom;
		return 0;
	}
	pr_err("%s: %s is a socket of family %d, %s: not supported yet (unix, inet, inet6, "
	       "netlink and packet sockets are)\n",
	       what, link, dom, family_name(dom));
	return -ENOTSUP;
}

/* In the socket's namespace: the family's dumper. */
static int by_family(struct dump_ctx *c, struct dump_unix **usk, const struct proc_fd *f,
		     const struct proc_fdinfo *fi, uint32_t flags, const struct stat *st,
		     const char *what, int family, struct dump_sk_rec *out)
{
	uint32_t sk;
	int ret;

	if (family == AF_UNIX) {
		struct dump_unix_fd uf = { what, f->target, f->fd, flags, st, fi };

		out->type = FILE_TYPE__FT_UNIXSK;
		ret = dump_unix_sk(c, usk, &uf, &sk);
		out->usk = ret ? NULL : dump_unix_entry(*usk, sk);
	} else if (family == AF_NETLINK || family == AF_PACKET) {
		struct dump_sk_fd sf = { what, f->target, c->pid, f->fd, flags, st };

		out->type = family == AF_NETLINK ? FILE_TYPE__FT_NETLINKSK : FILE_TYPE__FT_PACKETSK;
		ret = family == AF_NETLINK ? dump_netlink_sk(&sf, &out->nsk)
					   : dump_packet_sk(&sf, &out->psk);
	} else {
		struct dump_inet_fd inf = {
			what, f->target, c->pid, f->fd, flags, st, out->netns_id
		};

		out->type = FILE_TYPE__FT_INETSK;
		ret = dump_inet_sk(c->sh, &inf, &out->isk);
	}
	return ret;
}

int dump_socket(struct dump_ctx *c, struct dump_unix **usk, const struct proc_fd *f,
		const struct proc_fdinfo *fi, uint32_t flags, const struct stat *st,
		struct dump_sk_rec *out)
{
	char what[48];
	int fd = taskfd_copy(c->pid, f->fd), family = 0, back = -1, ret;

	snprintf(what, sizeof(what), "pid %d fd %d", c->pid, f->fd);
	if (fd < 0) {
		errno = -fd;
		pr_perror("%s: can't take a copy of %s (pidfd_open/pidfd_getfd)", what, f->target);
		return fd;
	}
	ret = check_family(fd, what, f->target, &family);
	if (!ret)
		ret = dump_sknetns_enter(c->sh, fd, what, &out->netns_id, &back);
	close(fd);
	if (!ret && family == AF_UNIX && out->netns_id) {
		pr_err("%s: %s is a unix socket of another network namespace than the tree's: not "
		       "supported yet\n",
		       what, f->target);
		ret = -ENOTSUP;
	}
	if (!ret)
		ret = by_family(c, usk, f, fi, flags, st, what, family, out);
	return dump_sknetns_leave(back, what) ?: ret;
}
