/* restore-netns: the tree's own network namespace (kinds/netns.h): joined (--join-ns net:PATH)
 * or made again from netns.img in the restorer, before any socket, so that the tasks it creates
 * and the sockets it makes for them live there. Rebuilt with libnl-route-3: the sysctls first
 * (disable_ipv6 decides whether lo gets ::1), then lo's MTU and state, the veth pairs
 * (restore-veth.c: their outer ends in the restorer's own namespace, checked before the new
 * namespace is made), the addresses of each link (those the kernel made by itself when a link
 * came up are there already: EEXIST is fine), then the routes. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LOG_PREFIX "netns: "
#include "criu-lite/kinds/netns.h"
#include "criu-lite/log.h"
#include "criu-lite/restore/restore-veth.h"
#include "criu-lite/restore/restore.h"
#include "netns.pb-c.h"

static int bad(const char *why)
{
	pr_err("netns.img: %s\n", why);
	return -EBADMSG;
}

static bool ifname_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n && n < IFNAMSIZ && !strpbrk(s, "/: \t\n") && strcmp(s, ".") && strcmp(s, "..");
}

/* A link of the image: lo or one of its veths' inner ends. */
static bool known_dev(const NetnsEntry *e, const char *dev)
{
	if (!dev || !strcmp(dev, "lo"))
		return true;
	for (size_t i = 0; i < e->n_veths; i++)
		if (!strcmp(e->veths[i]->name, dev))
			return true;
	return false;
}

static int check_veths(const NetnsEntry *e)
{
	for (size_t i = 0; i < e->n_veths; i++) {
		const NetnsVeth *v = e->veths[i];

		if (!ifname_ok(v->name) || !strcmp(v->name, "lo") || !ifname_ok(v->peer_name) ||
		    (v->peer_master && !ifname_ok(v->peer_master)) || v->mac.len != 6 ||
		    v->peer_mac.len != 6 || (v->flags & ~NETNS_LINK_FLAGS) ||
		    (v->peer_flags & ~NETNS_LINK_FLAGS))
			return bad("a malformed veth");
		for (size_t k = 0; k < i; k++)
			if (!strcmp(e->veths[k]->name, v->name))
				return bad("two veths of one name");
	}
	return 0;
}

/* Every length and name of e is one the kernel takes, before anything is made. */
static int check(const NetnsEntry *e)
{
	size_t n;
	const char *const *names = netns_sysctls(&n);

	if (check_veths(e))
		return -EBADMSG;
	for (size_t i = 0; i < e->n_addrs; i++) {
		const NetnsAddr *a = e->addrs[i];

		if ((a->family != AF_INET && a->family != AF_INET6) ||
		    a->local.len != (a->family == AF_INET ? 4u : 16u) ||
		    a->prefixlen > a->local.len * 8 || (a->label && strlen(a->label) >= IFNAMSIZ) ||
		    !known_dev(e, a->dev))
			return bad("a malformed address");
	}
	for (size_t i = 0; i < e->n_routes; i++) {
		const NetnsRoute *r = e->routes[i];
		size_t l = r->family == AF_INET ? 4 : 16;

		if ((r->family != AF_INET && r->family != AF_INET6) || r->dst.len != l ||
		    r->dst_len > l * 8 || (r->has_gateway && r->gateway.len != l) ||
		    (r->has_prefsrc && r->prefsrc.len != l) || !known_dev(e, r->dev) ||
		    (r->has_nh_flags && r->nh_flags & ~(uint32_t)RTNH_F_ONLINK))
			return bad("a malformed route");
	}
	for (size_t i = 0; i < e->n_sysctls; i++) {
		bool known = false;

		for (size_t k = 0; k < n && !known; k++)
			known = !strcmp(e->sysctls[i]->name, names[k]);
		if (!known || strchr(e->sysctls[i]->value, '\n'))
			return bad("a sysctl restore does not set");
	}
	return 0;
}

static int set_sysctls(const NetnsEntry *e)
{
	for (size_t i = 0; i < e->n_sysctls; i++) {
		char p[128];
		int fd, ret = 0;
		size_t len = strlen(e->sysctls[i]->value);

		snprintf(p, sizeof(p), "/proc/sys/net/%s", e->sysctls[i]->name);
		fd = open(p, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, e->sysctls[i]->value, len) != (ssize_t)len)
			ret = -errno;
		if (fd >= 0)
			close(fd);
		if (ret) {
			errno = -ret;
			pr_perror("%s = \"%s\"", p, e->sysctls[i]->value);
			return ret;
		}
	}
	return 0;
}

static int set_lo(struct nl_sock *sk, const NetnsEntry *e)
{
	struct rtnl_link *lo = NULL, *ch = rtnl_link_alloc();
	int ret = rtnl_link_get_kernel(sk, 0, "lo", &lo);

	if (!ret && ch) {
		rtnl_link_set_mtu(ch, e->lo_mtu);
		if (e->lo_up)
			rtnl_link_set_flags(ch, IFF_UP);
		ret = rtnl_link_change(sk, lo, ch, 0);
	}
	if (ret || !ch)
		pr_err("setting lo up, MTU %u: %s\n", e->lo_mtu,
		       ch ? nl_geterror(ret) : "no memory");
	rtnl_link_put(ch);
	rtnl_link_put(lo);
	return ret || !ch ? -EIO : 0;
}

static struct nl_addr *addr(uint32_t family, const ProtobufCBinaryData *b, uint32_t prefixlen)
{
	struct nl_addr *a = nl_addr_build((int)family, b->data, b->len);

	if (a)
		nl_addr_set_prefixlen(a, (int)prefixlen);
	return a;
}

/* The ifindex of the image's link dev (NULL: lo) in the new namespace; 0 if it is not there. */
static int ifindex_of(struct nl_cache *links, const char *dev)
{
	return rtnl_link_name2i(links, dev ? dev : "lo");
}

static int add_addrs(struct nl_sock *sk, const NetnsEntry *e, struct nl_cache *links)
{
	for (size_t i = 0; i < e->n_addrs; i++) {
		const NetnsAddr *x = e->addrs[i];
		struct rtnl_addr *a = rtnl_addr_alloc();
		struct nl_addr *l = addr(x->family, &x->local, x->prefixlen);
		int ret = a && l ? 0 : -NLE_NOMEM;

		if (!ret) {
			rtnl_addr_set_ifindex(a, ifindex_of(links, x->dev));
			rtnl_addr_set_family(a, (int)x->family);
			rtnl_addr_set_local(a, l);
			rtnl_addr_set_prefixlen(a, (int)x->prefixlen);
			if (x->has_scope)
				rtnl_addr_set_scope(a, (int)x->scope);
			if (x->has_flags)
				rtnl_addr_set_flags(a, x->flags);
			if (x->label)
				ret = rtnl_addr_set_label(a, x->label);
		}
		if (!ret)
			ret = rtnl_addr_add(sk, a, NLM_F_EXCL);
		nl_addr_put(l);
		rtnl_addr_put(a);
		if (ret && ret != -NLE_EXIST) { /* the kernel's own (127.0.0.1, ::1) are there */
			pr_err("adding address %u of %s: %s\n", (unsigned)i, x->dev ? x->dev : "lo",
			       nl_geterror(ret));
			return -EIO;
		}
	}
	return 0;
}

static int add_routes(struct nl_sock *sk, const NetnsEntry *e, struct nl_cache *links)
{
	for (size_t i = 0; i < e->n_routes; i++) {
		const NetnsRoute *x = e->routes[i];
		struct rtnl_route *r = rtnl_route_alloc();
		struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
		struct nl_addr *dst = addr(x->family, &x->dst, x->dst_len), *gw = NULL, *src = NULL;
		int ret = r && nh && dst ? 0 : -NLE_NOMEM;

		if (!ret) {
			rtnl_route_set_family(r, (uint8_t)x->family);
			ret = rtnl_route_set_dst(r, dst);
			rtnl_route_set_table(r, x->table);
			rtnl_route_set_scope(r, (uint8_t)x->scope);
			rtnl_route_set_protocol(r, (uint8_t)x->protocol);
			rtnl_route_set_type(r, (uint8_t)x->type);
			if (x->has_priority)
				rtnl_route_set_priority(r, x->priority);
		}
		if (!ret && x->has_prefsrc && (src = addr(x->family, &x->prefsrc, x->dst.len * 8)))
			ret = rtnl_route_set_pref_src(r, src);
		if (!ret && (x->dev || x->has_gateway)) {
			if (x->dev)
				rtnl_route_nh_set_ifindex(nh, ifindex_of(links, x->dev));
			if (x->has_nh_flags)
				rtnl_route_nh_set_flags(nh, x->nh_flags);
			if (x->has_gateway && (gw = addr(x->family, &x->gateway, x->dst.len * 8)))
				rtnl_route_nh_set_gateway(nh, gw);
			rtnl_route_add_nexthop(r, nh);
			nh = NULL; /* the route's now */
		}
		if (!ret)
			ret = rtnl_route_add(sk, r, NLM_F_EXCL);
		if (nh)
			rtnl_route_nh_free(nh);
		nl_addr_put(dst);
		nl_addr_put(gw);
		nl_addr_put(src);
		rtnl_route_put(r);
		if (ret) {
			pr_err("adding route %u (dev %s): %s\n", (unsigned)i, x->dev ? x->dev : "-",
			       nl_geterror(ret));
			return -EIO;
		}
	}
	return 0;
}

static int rebuild(const NetnsEntry *e, struct restore_veths *rv)
{
	struct nl_cache *links = NULL;
	struct nl_sock *sk = nl_socket_alloc();
	int ret = sk ? nl_connect(sk, NETLINK_ROUTE) : -NLE_NOMEM;

	if (ret) {
		pr_err("a NETLINK_ROUTE socket: %s\n", nl_geterror(ret));
		nl_socket_free(sk);
		return -EIO;
	}
	ret = set_sysctls(e);
	if (!ret)
		ret = set_lo(sk, e);
	if (!ret)
		ret = restore_veth_make(rv, e, sk);
	if (!ret && (ret = rtnl_link_alloc_cache(sk, AF_UNSPEC, &links))) {
		pr_err("reading the new namespace's links: %s\n", nl_geterror(ret));
		ret = -EIO;
	}
	if (!ret)
		ret = add_addrs(sk, e, links);
	if (!ret)
		ret = add_routes(sk, e, links);
	nl_cache_free(links);
	nl_socket_free(sk);
	return ret;
}

int restore_netns(struct restore_ctx *c)
{
	struct img_err err = { 0 };
	ProtobufCMessage *m = NULL;
	int ret;

	if (c->o->join_ns_net) {
		int fd = open(c->o->join_ns_net, O_RDONLY | O_CLOEXEC);

		if (fd < 0 || setns(fd, CLONE_NEWNET)) {
			pr_perror("joining the network namespace %s (--join-ns)",
				  c->o->join_ns_net);
			ret = -errno;
		} else {
			ret = 0;
		}
		if (fd >= 0)
			close(fd);
		return ret;
	}
	ret = img_read_one(c->dir, IMG_NETNS, 0, &m, &err);
	if (ret == -ENOENT) /* the tree lived in its dumper's namespace: it lives in ours */
		return restore_veth_prepare(c->o, NULL, &c->veths); /* refuses --external veth */
	if (ret) {
		pr_err("%s\n", err.msg);
		return ret;
	}
	ret = check((NetnsEntry *)m);
	if (!ret) /* in our own namespace: the outer ends' names are free, their bridges here */
		ret = restore_veth_prepare(c->o, (NetnsEntry *)m, &c->veths);
	if (!ret && unshare(CLONE_NEWNET)) {
		ret = -errno;
		pr_perror("a new network namespace (unshare)");
	}
	if (!ret)
		ret = rebuild((NetnsEntry *)m, c->veths);
	if (!ret)
		pr_info("the tree's network namespace (net:[%llu] at dump) made again\n",
			(unsigned long long)((NetnsEntry *)m)->ino);
	protobuf_c_message_free_unpacked(m, NULL);
	return ret;
}

int restore_netns_check_copy(const NetnsEntry *e)
{
	if (e->n_veths)
		return bad("a veth in a namespace that is not the tree's");
	return check(e);
}

int restore_netns_rebuild_copy(const NetnsEntry *e)
{
	return rebuild(e, NULL);
}

void restore_netns_done(struct restore_ctx *c, bool ok)
{
	restore_veth_done(c->veths, ok);
	c->veths = NULL;
}
