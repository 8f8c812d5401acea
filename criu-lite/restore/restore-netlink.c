/* restore-netlink: the AF_NETLINK sockets of a dump (sk-netlink.h), each made in the restorer
 * when its entry is opened: socket(), options and filter, bind() to its port id, its groups
 * joined, connect() to its peer, its status flags. Every entry is checked first
 * (restore_netlink_check(), before anything of the restore is created). */
#include <errno.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LOG_PREFIX "sockets: "
#include "criu-lite/kinds/sk-netlink.h"
#include "criu-lite/log.h"
#include "criu-lite/restore/restore-sk.h"
#include "criu-lite/restore/restore.h"

#define NL_MAX_PROTOCOL	   32	/* MAX_LINKS */
#define NL_MAX_GROUP_WORDS 1024 /* 32768 groups */

static void name_it(const NetlinkSkEntry *e, char *what, size_t len)
{
	const char *pn = netlink_proto_name(e->protocol);
	char p[24];

	if (!pn) {
		snprintf(p, sizeof(p), "protocol %u", e->protocol);
		pn = p;
	}
	if (e->has_portid)
		snprintf(what, len, "netlink socket:[%u] (%s, port id %u)", e->ino, pn, e->portid);
	else
		snprintf(what, len, "netlink socket:[%u] (%s, unbound)", e->ino, pn);
}

static int check_entry(const FileEntry *fe)
{
	const NetlinkSkEntry *e = fe->netlink_sk;
	char what[96];

	if (!e)
		return rsk_bad(fe->id, "netlink socket", "no netlink_sk record");
	name_it(e, what, sizeof(what));
	if (e->type != SOCK_RAW && e->type != SOCK_DGRAM)
		return rsk_bad(fe->id, what, "a type other than SOCK_RAW and SOCK_DGRAM");
	if (e->protocol >= NL_MAX_PROTOCOL)
		return rsk_bad(fe->id, what, "an unknown protocol");
	if (e->n_groups > NL_MAX_GROUP_WORDS)
		return rsk_bad(fe->id, what, "more groups than restore joins");
	if (e->has_dst_group && e->dst_group > 32)
		return rsk_bad(fe->id, what, "a peer group above 32");
	if (e->has_connected && e->connected && !e->has_portid)
		return rsk_bad(fe->id, what, "connected but not bound");
	if (e->has_portid && !e->portid)
		return rsk_bad(fe->id, what, "bound to port id 0");
	if (e->sock && e->sock->n_filter > BPF_MAXINSNS)
		return rsk_bad(fe->id, what, "a socket filter longer than the kernel takes");
	return 0;
}

int restore_netlink_check(struct restore_ctx *c)
{
	return rsk_check_all(c, FILE_TYPE__FT_NETLINKSK, "netlink", check_entry);
}

/* ---- creating ----------------------------------------------------------------------------- */

#define SET_NL(f, name)                                                        \
	do {                                                                   \
		if (e->has_##f && e->f && !ret)                                \
			ret = rsk_seti(fd, what, SOL_NETLINK, name, #name, 1); \
	} while (0)

static int set_opts(int fd, const NetlinkSkEntry *e, const char *what)
{
	int ret = 0;

	SET_NL(pktinfo, NETLINK_PKTINFO);
	SET_NL(broadcast_error, NETLINK_BROADCAST_ERROR);
	SET_NL(no_enobufs, NETLINK_NO_ENOBUFS);
	SET_NL(listen_all_nsid, NETLINK_LISTEN_ALL_NSID);
	SET_NL(cap_ack, NETLINK_CAP_ACK);
	SET_NL(ext_ack, NETLINK_EXT_ACK);
	SET_NL(get_strict_chk, NETLINK_GET_STRICT_CHK);
	if (e->has_passcred && e->passcred && !ret)
		ret = rsk_seti(fd, what, SOL_SOCKET, SO_PASSCRED, "SO_PASSCRED", 1);
	if (!ret)
		ret = rsk_sock_opts(fd, what, e->sock);
	return ret;
}

/* bind() to the dumped port id; the kernel takes it only if no socket of the protocol holds it
 * in this network namespace. */
static int bind_portid(int fd, const NetlinkSkEntry *e, const char *what)
{
	struct sockaddr_nl a = { .nl_family = AF_NETLINK, .nl_pid = e->portid };
	socklen_t l = sizeof(a);

	if (bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		int ret = -errno;

		if (ret == -EADDRINUSE)
			pr_err("%s: its port id %u is taken by another netlink socket of that "
			       "protocol in the restore's network namespace\n",
			       what, e->portid);
		else
			pr_perror("%s: bind() to its port id %u", what, e->portid);
		return ret;
	}
	if (getsockname(fd, (struct sockaddr *)&a, &l) || a.nl_pid != e->portid) {
		pr_err("%s: bound to port id %u, not %u\n", what, a.nl_pid, e->portid);
		return -EIO;
	}
	return 0;
}

static int join_groups(int fd, const NetlinkSkEntry *e, const char *what)
{
	for (size_t w = 0; w < e->n_groups; w++) {
		for (int b = 0; b < 32; b++) {
			int g = (int)(w * 32) + b + 1;

			if (!(e->groups[w] & (1u << b)))
				continue;
			if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g, sizeof(g))) {
				int ret = -errno;

				pr_perror("%s: NETLINK_ADD_MEMBERSHIP of group %d", what, g);
				return ret;
			}
		}
	}
	return 0;
}

static int connect_peer(int fd, const NetlinkSkEntry *e, const char *what)
{
	struct sockaddr_nl a = {
		.nl_family = AF_NETLINK,
		.nl_pid = e->dst_portid,
		.nl_groups = e->dst_group ? 1u << (e->dst_group - 1) : 0,
	};

	if (!connect(fd, (struct sockaddr *)&a, sizeof(a)))
		return 0;
	pr_perror("%s: connect() to port id %u, group %u", what, e->dst_portid, e->dst_group);
	return -errno;
}

int restore_netlink_open(struct restore_ctx *c, const FileEntry *fe)
{
	const NetlinkSkEntry *e = fe->netlink_sk;
	char what[96];
	int fd, ret;

	(void)c;
	if (!e) /* restore_netlink_check() refused it */
		return rsk_bad(fe->id, "netlink socket", "no netlink_sk record");
	name_it(e, what, sizeof(what));
	fd = rsk_socket(AF_NETLINK, (int)e->type, (int)e->protocol, what);
	if (fd < 0)
		return fd;
	ret = set_opts(fd, e, what);
	if (!ret && e->has_portid)
		ret = bind_portid(fd, e, what);
	if (!ret)
		ret = join_groups(fd, e, what);
	if (!ret && e->has_connected && e->connected)
		ret = connect_peer(fd, e, what);
	if (!ret)
		ret = rsk_status(fd, what, e->flags);
	if (ret) {
		close(fd);
		return ret;
	}
	pr_debug("%s: made\n", what);
	return fd;
}
