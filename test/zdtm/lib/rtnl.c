/* rtnl: rtnetlink requests of the link tests (zdtmrtnl.h). */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmrtnl.h"

struct req {
	struct nlmsghdr h;
	struct ifinfomsg i;
	char buf[1024];
};

static struct rtattr *put(struct req *r, unsigned short type, const void *data, size_t len)
{
	size_t off = NLMSG_ALIGN(r->h.nlmsg_len) - NLMSG_LENGTH(sizeof(struct ifinfomsg));
	struct rtattr *a = (struct rtattr *)&r->buf[off];

	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(&r->buf[off + RTA_LENGTH(0)], data, len);
	r->h.nlmsg_len = (uint32_t)(NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(a->rta_len));
	return a;
}

static void nest_end(struct req *r, struct rtattr *a)
{
	a->rta_len = (unsigned short)((char *)&r->h + r->h.nlmsg_len - (char *)a);
}

/* Send req, read the answer into reply (an ack when reply is NULL): 0 or -1 with errno. */
static int talk(struct nlmsghdr *req, void *reply, size_t len)
{
	char buf[8192];
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), ret = -1;
	ssize_t n;

	if (s < 0)
		return -1;
	if (send(s, req, req->nlmsg_len, 0) == (ssize_t)req->nlmsg_len &&
	    (n = recv(s, buf, sizeof(buf), 0)) >= (ssize_t)sizeof(*h) && NLMSG_OK(h, n)) {
		if (h->nlmsg_type == NLMSG_ERROR) {
			int e = ((struct nlmsgerr *)NLMSG_DATA(h))->error;

			errno = -e;
			ret = e ? -1 : 0;
			if (!e && reply)
				errno = EPROTO, ret = -1;
		} else if (reply) {
			memcpy(reply, buf, (size_t)n < len ? (size_t)n : len);
			ret = 0;
		} else {
			errno = EPROTO;
		}
	}
	close(s);
	return ret;
}

static void init(struct req *r, int type, int flags)
{
	memset(r, 0, sizeof(*r));
	r->h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	r->h.nlmsg_type = (unsigned short)type;
	r->h.nlmsg_flags = (unsigned short)(NLM_F_REQUEST | flags);
	r->i.ifi_family = AF_UNSPEC;
}

int test_rtnl_outer_name(char *buf, char tag)
{
	unsigned short rnd;

	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -1;
	snprintf(buf, IFNAMSIZ, "zv%x%04x%c", (unsigned)getpid(), rnd, tag);
	return 0;
}

int test_rtnl_veth(const char *name, const char *peer_name, int peer_ns_fd)
{
	struct req r;
	struct rtattr *li, *data, *peer;
	struct ifinfomsg pi = { .ifi_family = AF_UNSPEC };

	init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	put(&r, IFLA_IFNAME, name, strlen(name) + 1);
	li = put(&r, IFLA_LINKINFO, NULL, 0);
	put(&r, IFLA_INFO_KIND, "veth", 5);
	data = put(&r, IFLA_INFO_DATA, NULL, 0);
	peer = put(&r, VETH_INFO_PEER, &pi, sizeof(pi));
	put(&r, IFLA_IFNAME, peer_name, strlen(peer_name) + 1);
	if (peer_ns_fd >= 0)
		put(&r, IFLA_NET_NS_FD, &(uint32_t){ (uint32_t)peer_ns_fd }, 4);
	nest_end(&r, peer);
	nest_end(&r, data);
	nest_end(&r, li);
	return talk(&r.h, NULL, 0);
}

int test_rtnl_link_add(const char *name, const char *kind)
{
	struct req r;
	struct rtattr *li;

	init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	put(&r, IFLA_IFNAME, name, strlen(name) + 1);
	li = put(&r, IFLA_LINKINFO, NULL, 0);
	put(&r, IFLA_INFO_KIND, kind, strlen(kind) + 1);
	nest_end(&r, li);
	return talk(&r.h, NULL, 0);
}

static void parse(struct nlmsghdr *h, struct test_link *l)
{
	struct ifinfomsg *i = NLMSG_DATA(h);
	int len = (int)IFLA_PAYLOAD(h);

	memset(l, 0, sizeof(*l));
	l->ifindex = i->ifi_index;
	l->flags = i->ifi_flags;
	l->link_netnsid = -1;
	for (struct rtattr *a = IFLA_RTA(i); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFLA_IFNAME)
			snprintf(l->name, sizeof(l->name), "%s", (char *)RTA_DATA(a));
		else if (a->rta_type == IFLA_MTU)
			memcpy(&l->mtu, RTA_DATA(a), 4);
		else if (a->rta_type == IFLA_ADDRESS && RTA_PAYLOAD(a) == 6)
			memcpy(l->mac, RTA_DATA(a), 6);
		else if (a->rta_type == IFLA_LINK)
			memcpy(&l->link, RTA_DATA(a), 4);
		else if (a->rta_type == IFLA_LINK_NETNSID)
			memcpy(&l->link_netnsid, RTA_DATA(a), 4);
		else if (a->rta_type == IFLA_LINKINFO) {
			int n = (int)RTA_PAYLOAD(a);

			for (struct rtattr *b = RTA_DATA(a); RTA_OK(b, n); b = RTA_NEXT(b, n))
				if (b->rta_type == IFLA_INFO_KIND)
					snprintf(l->kind, sizeof(l->kind), "%s",
						 (char *)RTA_DATA(b));
		}
	}
}

int test_rtnl_link_get(const char *name, int ifindex, int target_nsid, struct test_link *l)
{
	struct req r;
	char reply[8192];

	init(&r, RTM_GETLINK, 0);
	r.i.ifi_index = ifindex;
	if (name)
		put(&r, IFLA_IFNAME, name, strlen(name) + 1);
	if (target_nsid >= 0)
		put(&r, IFLA_TARGET_NETNSID, &(int32_t){ target_nsid }, 4);
	if (talk(&r.h, reply, sizeof(reply)))
		return -1;
	if (((struct nlmsghdr *)reply)->nlmsg_type != RTM_NEWLINK) {
		errno = EPROTO;
		return -1;
	}
	parse((struct nlmsghdr *)reply, l);
	return 0;
}

void test_link_str(const struct test_link *l, unsigned mask, char *buf, size_t len)
{
	snprintf(buf, len, "%s mtu %u mac %02x:%02x:%02x:%02x:%02x:%02x flags %#x", l->name, l->mtu,
		 l->mac[0], l->mac[1], l->mac[2], l->mac[3], l->mac[4], l->mac[5], l->flags & mask);
}
