/* sock_netlink00: netlink sockets survive checkpoint/restore with their port ids, group
 * memberships (one above 32 too), peers and options (tests.desc needs=root: multicast sends on
 * NETLINK_USERSOCK want CAP_NET_ADMIN). Sockets:
 *  - route: NETLINK_ROUTE, SOCK_RAW, bound (port id from the kernel) to RTMGRP_LINK, group
 *    RTNLGRP_BRVLAN (33) joined with NETLINK_ADD_MEMBERSHIP; NETLINK_EXT_ACK,
 *    NETLINK_GET_STRICT_CHK, NETLINK_CAP_ACK, NETLINK_NO_ENOBUFS, NETLINK_PKTINFO on, SO_RCVBUF
 *    300000, O_NONBLOCK, and a classic BPF filter that lets through only messages with our own
 *    sequence number (the replies to our requests: a link that changes on a busy host can't
 *    queue a message on it while it is checkpointed, which the dump would refuse);
 *  - genl: NETLINK_GENERIC, SOCK_DGRAM, never bound; NETLINK_BROADCAST_ERROR and SO_PASSCRED on;
 *  - user: NETLINK_USERSOCK, SOCK_RAW, bound to group 5, group 31 joined (it has 32);
 *  - conn: NETLINK_USERSOCK, SOCK_DGRAM, connect()ed to user's port id (which binds it).
 * After the restore, each socket has the name (port id, first 32 groups), peer, memberships
 * (NETLINK_LIST_MEMBERSHIPS, every group), options (each getsockopt() value, SO_GET_FILTER's
 * instructions) and status flags of before. Then they work: route answers an RTM_GETLINK dump
 * with a reply naming "lo" and ending in NLMSG_DONE; genl gets the nlctrl family from
 * CTRL_CMD_GETFAMILY; conn's message reaches user from conn's port id; a new socket's message
 * to group 5 reaches user (a membership at work: groups above 32 can't be sent to from user
 * space, and link changes would touch the host's links: the rest are checked by list). */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"
#include "zdtminet.h"

#define SEQ	     0x7a64746du
#define GROUP_BRVLAN 33 /* RTNLGRP_BRVLAN */
#define UGROUP	     5
#define UGROUP_HIGH  31 /* NETLINK_USERSOCK has 32 groups */

enum { ROUTE, GENL, USER, CONN, NSOCK };

static const struct test_sockopt opts[] = {
	TEST_SOCKOPT(SOL_SOCKET, SO_TYPE),
	TEST_SOCKOPT(SOL_SOCKET, SO_PROTOCOL),
	TEST_SOCKOPT(SOL_SOCKET, SO_RCVBUF),
	TEST_SOCKOPT(SOL_SOCKET, SO_SNDBUF),
	TEST_SOCKOPT(SOL_SOCKET, SO_PASSCRED),
	TEST_SOCKOPT(SOL_NETLINK, NETLINK_PKTINFO),
	TEST_SOCKOPT(SOL_NETLINK, NETLINK_BROADCAST_ERROR),
	TEST_SOCKOPT(SOL_NETLINK, NETLINK_NO_ENOBUFS),
	TEST_SOCKOPT(SOL_NETLINK, NETLINK_CAP_ACK),
	TEST_SOCKOPT(SOL_NETLINK, NETLINK_EXT_ACK),
	TEST_SOCKOPT(SOL_NETLINK, NETLINK_GET_STRICT_CHK),
};
#define NOPTS ((int)(sizeof(opts) / sizeof(opts[0])))

static struct nsock {
	const char *what;
	int fd, fl;
	struct sockaddr_nl name, peer;
	uint32_t groups[8];
	socklen_t glen;
	struct test_sockval vals[NOPTS];
	struct sock_filter filter[8];
	socklen_t nfilter;
} sk[NSOCK] = {
	[ROUTE] = { .what = "route" },
	[GENL] = { .what = "genl" },
	[USER] = { .what = "user" },
	[CONN] = { .what = "conn" },
};

/* only messages whose nlmsg_seq is SEQ (a BPF_ABS load is big-endian) */
static struct sock_filter seq_only[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 8),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __builtin_bswap32(SEQ), 0, 1),
	BPF_STMT(BPF_RET | BPF_K, 0xffff),
	BPF_STMT(BPF_RET | BPF_K, 0),
};

static int nl_bind(int fd, uint32_t groups)
{
	struct sockaddr_nl a = { .nl_family = AF_NETLINK, .nl_groups = groups };

	return bind(fd, (struct sockaddr *)&a, sizeof(a));
}

static int seti(int fd, int level, int name, int v)
{
	return setsockopt(fd, level, name, &v, sizeof(v));
}

/* What is compared after the restore. */
static int snapshot(struct nsock *s)
{
	socklen_t l = sizeof(s->name);

	s->glen = sizeof(s->groups);
	memset(s->groups, 0, sizeof(s->groups));
	s->nfilter = 0;
	getsockopt(s->fd, SOL_SOCKET, SO_GET_FILTER, NULL, &s->nfilter);
	if (s->nfilter > 8 ||
	    (s->nfilter && getsockopt(s->fd, SOL_SOCKET, SO_GET_FILTER, s->filter, &s->nfilter)))
		return -1;
	if (getsockname(s->fd, (struct sockaddr *)&s->name, &l) ||
	    (l = sizeof(s->peer), getpeername(s->fd, (struct sockaddr *)&s->peer, &l)) ||
	    getsockopt(s->fd, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, s->groups, &s->glen))
		return -1;
	s->fl = fcntl(s->fd, F_GETFL);
	return test_sockopts_get(s->what, s->fd, opts, NOPTS, s->vals);
}

static int setup(void)
{
	int g;

	sk[ROUTE].fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK, NETLINK_ROUTE);
	sk[GENL].fd = socket(AF_NETLINK, SOCK_DGRAM, NETLINK_GENERIC);
	sk[USER].fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_USERSOCK);
	sk[CONN].fd = socket(AF_NETLINK, SOCK_DGRAM, NETLINK_USERSOCK);
	for (int i = 0; i < NSOCK; i++)
		if (sk[i].fd < 0)
			return -1;
	struct sock_fprog p = { sizeof(seq_only) / sizeof(seq_only[0]), seq_only };

	if (setsockopt(sk[ROUTE].fd, SOL_SOCKET, SO_ATTACH_FILTER, &p, sizeof(p)) ||
	    nl_bind(sk[ROUTE].fd, RTMGRP_LINK))
		return -1;
	g = GROUP_BRVLAN;
	if (setsockopt(sk[ROUTE].fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g, sizeof(g)) ||
	    seti(sk[ROUTE].fd, SOL_NETLINK, NETLINK_EXT_ACK, 1) ||
	    seti(sk[ROUTE].fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1) ||
	    seti(sk[ROUTE].fd, SOL_NETLINK, NETLINK_CAP_ACK, 1) ||
	    seti(sk[ROUTE].fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, 1) ||
	    seti(sk[ROUTE].fd, SOL_NETLINK, NETLINK_PKTINFO, 1) ||
	    seti(sk[ROUTE].fd, SOL_SOCKET, SO_RCVBUF, 300000))
		return -1;
	if (seti(sk[GENL].fd, SOL_NETLINK, NETLINK_BROADCAST_ERROR, 1) ||
	    seti(sk[GENL].fd, SOL_SOCKET, SO_PASSCRED, 1))
		return -1;
	g = UGROUP_HIGH;
	if (nl_bind(sk[USER].fd, 1u << (UGROUP - 1)) ||
	    setsockopt(sk[USER].fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g, sizeof(g)))
		return -1;
	for (int i = 0; i < NSOCK; i++)
		if (i != CONN && snapshot(&sk[i]))
			return -1;
	struct sockaddr_nl to = { .nl_family = AF_NETLINK, .nl_pid = sk[USER].name.nl_pid };

	if (connect(sk[CONN].fd, (struct sockaddr *)&to, sizeof(to)) || snapshot(&sk[CONN]))
		return -1;
	if (!sk[ROUTE].name.nl_pid || sk[GENL].name.nl_pid || !sk[CONN].name.nl_pid ||
	    sk[CONN].peer.nl_pid != sk[USER].name.nl_pid) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

static int check_state(const struct nsock *s)
{
	struct sockaddr_nl n = { 0 }, p = { 0 };
	uint32_t g[8] = { 0 };
	struct sock_filter f[8];
	socklen_t l = sizeof(n), gl = sizeof(g), nf = 0;

	if (getsockname(s->fd, (struct sockaddr *)&n, &l) ||
	    (l = sizeof(p), getpeername(s->fd, (struct sockaddr *)&p, &l)) ||
	    getsockopt(s->fd, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, g, &gl)) {
		fail_errno("%s: getsockname/getpeername/NETLINK_LIST_MEMBERSHIPS", s->what);
		return -1;
	}
	if (n.nl_pid != s->name.nl_pid || n.nl_groups != s->name.nl_groups) {
		fail("%s: port id %u groups %#x, expected port id %u groups %#x", s->what, n.nl_pid,
		     n.nl_groups, s->name.nl_pid, s->name.nl_groups);
		return -1;
	}
	if (p.nl_pid != s->peer.nl_pid || p.nl_groups != s->peer.nl_groups) {
		fail("%s: peer port id %u groups %#x, expected %u %#x", s->what, p.nl_pid,
		     p.nl_groups, s->peer.nl_pid, s->peer.nl_groups);
		return -1;
	}
	for (unsigned int i = 0; i < 8; i++) {
		uint32_t want = i * 4 < s->glen ? s->groups[i] : 0, got = i * 4 < gl ? g[i] : 0;

		if (want != got) {
			fail("%s: groups %u-%u are %#x, expected %#x (NETLINK_LIST_MEMBERSHIPS)",
			     s->what, i * 32 + 1, i * 32 + 32, got, want);
			return -1;
		}
	}
	getsockopt(s->fd, SOL_SOCKET, SO_GET_FILTER, NULL, &nf);
	if (nf != s->nfilter || (nf && (getsockopt(s->fd, SOL_SOCKET, SO_GET_FILTER, f, &nf) ||
					memcmp(f, s->filter, nf * sizeof(f[0]))))) {
		fail("%s: its socket filter has %u instructions or others, expected %u", s->what,
		     nf, s->nfilter);
		return -1;
	}
	if (fcntl(s->fd, F_GETFL) != s->fl) {
		fail("%s: status flags %#x, expected %#x", s->what, fcntl(s->fd, F_GETFL), s->fl);
		return -1;
	}
	return test_sockopts_same(s->what, s->fd, opts, NOPTS, s->vals);
}

/* Wait for one message on fd (poll without a limit), take it. */
static ssize_t recv_wait(const char *what, int fd, void *buf, size_t len, struct sockaddr_nl *from)
{
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	socklen_t fl = sizeof(*from);
	ssize_t n;

	while (poll(&pf, 1, -1) < 0) {
		if (errno != EINTR) {
			fail_errno("%s: poll", what);
			return -1;
		}
	}
	n = recvfrom(fd, buf, len, MSG_DONTWAIT, (struct sockaddr *)from, &fl);
	if (n < 0)
		fail_errno("%s: recvfrom", what);
	return n;
}

static char buf[65536] __attribute__((aligned(4)));

/* RTM_GETLINK dump on route: a reply that names "lo", then NLMSG_DONE. */
static int check_route(void)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
	} req = { { sizeof(req), RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, SEQ, 0 },
		  { .ifi_family = AF_UNSPEC } };
	struct sockaddr_nl from;
	bool lo = false;

	if (send(sk[ROUTE].fd, &req, sizeof(req), 0) != sizeof(req)) {
		fail_errno("route: sending RTM_GETLINK");
		return -1;
	}
	for (;;) {
		ssize_t n = recv_wait("route", sk[ROUTE].fd, buf, sizeof(buf), &from);

		if (n < 0)
			return -1;
		for (struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				if (!lo)
					fail("route: the RTM_GETLINK dump named no \"lo\"");
				return lo ? 0 : -1;
			}
			if (h->nlmsg_type == NLMSG_ERROR || h->nlmsg_seq != SEQ) {
				fail("route: message type %u seq %#x in the RTM_GETLINK reply",
				     h->nlmsg_type, h->nlmsg_seq);
				return -1;
			}
			struct ifinfomsg *i = NLMSG_DATA(h);
			int al = (int)IFLA_PAYLOAD(h);

			for (struct rtattr *a = IFLA_RTA(i); RTA_OK(a, al); a = RTA_NEXT(a, al))
				if (a->rta_type == IFLA_IFNAME && !strcmp(RTA_DATA(a), "lo"))
					lo = true;
		}
	}
}

/* CTRL_CMD_GETFAMILY "nlctrl" on genl: a CTRL_CMD_NEWFAMILY reply. */
static int check_genl(void)
{
	struct {
		struct nlmsghdr h;
		struct genlmsghdr g;
		struct nlattr a;
		char name[8];
	} req = { { sizeof(req), GENL_ID_CTRL, NLM_F_REQUEST, SEQ, 0 },
		  { CTRL_CMD_GETFAMILY, 1, 0 },
		  { NLA_HDRLEN + 7, CTRL_ATTR_FAMILY_NAME },
		  "nlctrl" };
	struct sockaddr_nl from;
	ssize_t n;

	if (send(sk[GENL].fd, &req, sizeof(req), 0) != sizeof(req)) {
		fail_errno("genl: sending CTRL_CMD_GETFAMILY");
		return -1;
	}
	n = recv_wait("genl", sk[GENL].fd, buf, sizeof(buf), &from);
	if (n < 0)
		return -1;
	struct nlmsghdr *h = (void *)buf;
	struct genlmsghdr *g = NLMSG_DATA(h);

	if (!NLMSG_OK(h, n) || h->nlmsg_type != GENL_ID_CTRL || g->cmd != CTRL_CMD_NEWFAMILY) {
		fail("genl: CTRL_CMD_GETFAMILY answered with type %u, not the nlctrl family",
		     h->nlmsg_type);
		return -1;
	}
	return 0;
}

/* text from fd (to to, or its peer) reaches user from fd's port id. */
static int check_user(const char *what, int fd, const struct sockaddr_nl *to, const char *text)
{
	struct sockaddr_nl me, from;
	socklen_t l = sizeof(me);
	ssize_t n = to ? sendto(fd, text, strlen(text), 0, (const struct sockaddr *)to, sizeof(*to))
		       : send(fd, text, strlen(text), 0);

	/* to a group: broadcast, then sent to port id 0 too, where no kernel socket of
	 * NETLINK_USERSOCK listens: ECONNREFUSED after the broadcast */
	if (n < 0 && errno == ECONNREFUSED && to && to->nl_groups)
		n = (ssize_t)strlen(text);
	if (n != (ssize_t)strlen(text) || getsockname(fd, (struct sockaddr *)&me, &l)) {
		fail_errno("%s: sending \"%s\"", what, text);
		return -1;
	}
	n = recv_wait("user", sk[USER].fd, buf, sizeof(buf), &from);
	if (n < 0)
		return -1;
	if (n != (ssize_t)strlen(text) || memcmp(buf, text, (size_t)n) ||
	    from.nl_pid != me.nl_pid) {
		fail("user: received \"%.*s\" from port id %u, expected \"%s\" from %s (%u)",
		     (int)n, buf, from.nl_pid, text, what, me.nl_pid);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_nl mc = { .nl_family = AF_NETLINK, .nl_groups = 1u << (UGROUP - 1) };
	int fresh;

	if (test_init(argc, argv))
		return 1;
	if (setup()) {
		fail_errno("setup");
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	for (int i = 0; i < NSOCK; i++)
		if (check_state(&sk[i]))
			return 1;
	if (check_route() || check_genl() || check_user("conn", sk[CONN].fd, NULL, "to-peer"))
		return 1;
	fresh = socket(AF_NETLINK, SOCK_RAW, NETLINK_USERSOCK);
	if (fresh < 0 || check_user("a new socket", fresh, &mc, "to-group-5"))
		return 1;
	pass();
	return 0;
}
