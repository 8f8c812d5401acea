/* dump-netlink: the AF_NETLINK sockets of the dumped tree (sk-netlink.h).
 *
 * Everything is read through a copy of the task's fd (taskfd_copy): the same socket, so what
 * getsockopt() and getsockname() say is the task's own state, and reading changes nothing.
 * sock_diag (netlink_diag) says what no getsockopt tells: whether the socket is connected (one
 * connected to the kernel, port id 0, reads as one that is not), whether a dump runs on it,
 * and mmap rings. It lists the bound sockets and those in a multicast group; any other socket
 * was never bound, so never connected, and nothing can have reached it. */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/netlink_diag.h>
#include <linux/sock_diag.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LOG_PREFIX "sockets: "
#include "criu-lite/dump/sk-common.h"
#include "criu-lite/dump/skdiag.h"
#include "criu-lite/kinds/sk-netlink.h"
#include "criu-lite/log.h"

/* One socket: its entry first (dump_netlink_free() gets the entry's address). */
struct nlsk {
	NetlinkSkEntry e;
	uint32_t *groups;
	struct sk_sock_opts_img sock;
	char what[96]; /* "pid 12 fd 3: socket:[345]" */
};

/* ---- sock_diag ---------------------------------------------------------------------------- */

struct nl_diag {
	uint32_t ino;
	bool connected, cb_running, ring;
};

static int on_diag(const struct nlmsghdr *h, void *arg)
{
	struct nl_diag *d = arg;
	const struct netlink_diag_msg *m;
	struct nlattr *a;
	int rem;

	if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return 0;
	m = NLMSG_DATA(h);
	if (m->ndiag_ino != d->ino)
		return 0;
	d->connected = m->ndiag_state == 1; /* NETLINK_CONNECTED */
	nla_for_each_attr(a, (struct nlattr *)((char *)m + NLMSG_ALIGN(sizeof(*m))),
			  (int)(h->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof(*m)))), rem)
	{
		if (nla_type(a) == NETLINK_DIAG_FLAGS && nla_len(a) >= 4)
			d->cb_running = nla_get_u32(a) & NDIAG_FLAG_CB_RUNNING;
		if (nla_type(a) == NETLINK_DIAG_RX_RING || nla_type(a) == NETLINK_DIAG_TX_RING)
			d->ring = true;
	}
	return 1;
}

/* 0 with *d (found: 1), or -errno (logged). */
static int diag(const struct nlsk *s, struct nl_diag *d, int *found)
{
	struct netlink_diag_req req = {
		.sdiag_family = AF_NETLINK,
		.sdiag_protocol = (uint8_t)s->e.protocol,
		.ndiag_ino = s->e.ino,
		.ndiag_show = NDIAG_SHOW_FLAGS | NDIAG_SHOW_RING_CFG,
	};
	int ret;

	*d = (struct nl_diag){ .ino = s->e.ino };
	ret = skdiag_walk(&req, sizeof(req), on_diag, d, s->what);
	if (ret < 0)
		return ret;
	*found = ret;
	return 0;
}

/* ---- the socket --------------------------------------------------------------------------- */

/* Every group it is a member of, as NETLINK_LIST_MEMBERSHIPS gives them (the length the
 * kernel needs comes back in the length). */
static int read_groups(int fd, struct nlsk *s)
{
	socklen_t have = 4 * sizeof(uint32_t), l;

	for (;;) {
		uint32_t *g = realloc(s->groups, have);
		size_t n;

		if (!g) {
			pr_err("%s: out of memory for its groups\n", s->what);
			return -ENOMEM;
		}
		s->groups = g;
		memset(g, 0, have);
		l = have;
		if (getsockopt(fd, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, g, &l)) {
			int ret = -errno;

			pr_perror("%s: NETLINK_LIST_MEMBERSHIPS", s->what);
			return ret;
		}
		if (l > have) {
			have = l;
			continue;
		}
		n = l / sizeof(uint32_t);
		while (n && !g[n - 1])
			n--; /* words of no group: the restore joins none of them either */
		s->e.n_groups = n;
		s->e.groups = g;
		return 0;
	}
}

static int read_addr(int fd, struct nlsk *s, const struct nl_diag *d, bool found)
{
	struct sockaddr_nl a = { 0 };
	socklen_t l = sizeof(a);

	if (getsockname(fd, (struct sockaddr *)&a, &l)) {
		pr_perror("%s: getsockname", s->what);
		return -errno;
	}
	if (a.nl_pid) {
		s->e.has_portid = true;
		s->e.portid = a.nl_pid;
	}
	if ((a.nl_pid || s->e.n_groups) && !found) {
		pr_err("%s: sock_diag does not know this netlink socket (port id %u) in "
		       "criu-lite's network namespace\n",
		       s->what, a.nl_pid);
		return -EIO;
	}
	if (!d->connected)
		return 0;
	l = sizeof(a);
	if (getpeername(fd, (struct sockaddr *)&a, &l)) {
		pr_perror("%s: getpeername", s->what);
		return -errno;
	}
	s->e.has_connected = s->e.connected = true;
	s->e.has_dst_portid = s->e.has_dst_group = true;
	s->e.dst_portid = a.nl_pid;
	s->e.dst_group = (uint32_t)__builtin_ffs((int)a.nl_groups);
	return 0;
}

/* What can't be restored: refused here, naming the socket. */
static int refuse(int fd, const struct nlsk *s, const struct nl_diag *d)
{
	uint32_t q = 0;
	int ret;

	if (d->ring) {
		pr_err("%s: a netlink socket with mmap rings (NETLINK_RX_RING/TX_RING): not "
		       "supported\n",
		       s->what);
		return -ENOTSUP;
	}
	if (d->cb_running) {
		pr_err("%s: a netlink dump request (NLM_F_DUMP) is in progress on it: not "
		       "supported (the kernel's half of it can't be rebuilt); dump again once its "
		       "reply is read to NLMSG_DONE\n",
		       s->what);
		return -ENOTSUP;
	}
	ret = sk_rqueue(fd, s->what, &q);
	if (!ret && q) {
		pr_err("%s: a netlink socket with messages queued for reading (%u bytes): not "
		       "supported (they can't be put back in its queue)\n",
		       s->what, q);
		ret = -ENOTSUP;
	}
	return ret;
}

#define NL_FLAG(fd, e, f, name)                                \
	do {                                                   \
		int v_;                                        \
		if (sk_geti(fd, SOL_NETLINK, name, &v_) && v_) \
			(e)->has_##f = (e)->f = true;          \
	} while (0)

static int read_opts(int fd, struct nlsk *s)
{
	NetlinkSkEntry *e = &s->e;
	int v, ret;

	NL_FLAG(fd, e, pktinfo, NETLINK_PKTINFO);
	NL_FLAG(fd, e, broadcast_error, NETLINK_BROADCAST_ERROR);
	NL_FLAG(fd, e, no_enobufs, NETLINK_NO_ENOBUFS);
	NL_FLAG(fd, e, listen_all_nsid, NETLINK_LISTEN_ALL_NSID);
	NL_FLAG(fd, e, cap_ack, NETLINK_CAP_ACK);
	NL_FLAG(fd, e, ext_ack, NETLINK_EXT_ACK);
	NL_FLAG(fd, e, get_strict_chk, NETLINK_GET_STRICT_CHK);
	if (sk_geti(fd, SOL_SOCKET, SO_PASSCRED, &v) && v)
		e->has_passcred = e->passcred = true;
	ret = sk_read_sock_opts(fd, s->what, "netlink", AF_NETLINK, (int)e->type, (int)e->protocol,
				true, &s->sock);
	e->sock = &s->sock.m;
	return ret;
}

static int read_sock(int fd, struct nlsk *s)
{
	struct nl_diag d;
	socklen_t l = sizeof(int);
	int v, found = 0, ret;

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &l) ||
	    (s->e.type = (uint32_t)v, getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &l))) {
		ret = -errno;
		pr_perror("%s: its type or protocol", s->what);
		return ret;
	}
	s->e.protocol = (uint32_t)v;
	if (s->e.type != SOCK_RAW && s->e.type != SOCK_DGRAM) {
		pr_err("%s: a netlink socket of type %u: not supported (SOCK_RAW and SOCK_DGRAM "
		       "are)\n",
		       s->what, s->e.type);
		return -ENOTSUP;
	}
	ret = read_groups(fd, s);
	if (!ret)
		ret = diag(s, &d, &found);
	if (!ret)
		ret = read_addr(fd, s, &d, found);
	if (!ret)
		ret = refuse(fd, s, &d);
	if (!ret)
		ret = read_opts(fd, s);
	return ret;
}

int dump_netlink_sk(const struct dump_sk_fd *f, NetlinkSkEntry **out)
{
	struct nlsk *s = calloc(1, sizeof(*s));
	const char *pn;
	int fd, ret;

	if (!s) {
		pr_err("%s: out of memory\n", f->what);
		return -ENOMEM;
	}
	netlink_sk_entry__init(&s->e);
	snprintf(s->what, sizeof(s->what), "%s: %s", f->what, f->link);
	s->e.ino = (uint32_t)f->st->st_ino;
	s->e.flags = f->flags;
	fd = sk_copy_fd(f, s->what);
	if (fd < 0) {
		dump_netlink_free(&s->e);
		return fd;
	}
	ret = read_sock(fd, s);
	close(fd);
	if (ret) {
		dump_netlink_free(&s->e);
		return ret;
	}
	pn = netlink_proto_name(s->e.protocol);
	pr_debug("%s: netlink socket, protocol %u (%s), port id %u, %zu group word(s)%s\n", s->what,
		 s->e.protocol, pn ? pn : "?", s->e.portid, s->e.n_groups,
		 s->e.connected ? ", connected" : "");
	*out = &s->e;
	return 0;
}

void dump_netlink_free(NetlinkSkEntry *e)
{
	struct nlsk *s = (struct nlsk *)e;

	if (!s)
		return;
	free(s->groups);
	sk_sock_opts_free(&s->sock);
	free(s);
}
