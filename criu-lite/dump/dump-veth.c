/* dump-veth: the veth links of a tree's own network namespace, and the wait for their outer
 * ends after the tree died (see dump-veth.h). Links are read with libnl-route-3; the nsid of a
 * namespace as another sees it comes from RTM_GETNSID (NETNSA_FD), which libnl has no call for. */
#include <errno.h>
#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define LOG_PREFIX "netns: "
#include "criu-lite/dump/dump-veth.h"
#include "criu-lite/kinds/netns.h"
#include "criu-lite/log.h"

/* ---- the nsid of a namespace, as the namespace of a socket sees it --------------------------- */

struct nsid_reply {
	int32_t id;
	bool got;
};

static int nsid_msg(struct nl_msg *m, void *arg)
{
	struct nsid_reply *r = arg;
	struct nlattr *tb[NETNSA_MAX + 1];

	if (nlmsg_parse(nlmsg_hdr(m), sizeof(struct rtgenmsg), tb, NETNSA_MAX, NULL) == 0 &&
	    tb[NETNSA_NSID]) {
		r->id = (int32_t)nla_get_u32(tb[NETNSA_NSID]);
		r->got = true;
	}
	return NL_OK;
}

/* *id: the nsid under which sk's namespace knows the namespace ns_fd (-1: none). 0 or an
 * -NLE_* code (not logged). */
static int nsid_of(struct nl_sock *sk, int ns_fd, int32_t *id)
{
	struct rtgenmsg g = { .rtgen_family = AF_UNSPEC };
	struct nsid_reply r = { .id = -1 };
	struct nl_msg *m = nlmsg_alloc_simple(RTM_GETNSID, 0);
	struct nl_cb *s = nl_socket_get_cb(sk), *cb = s ? nl_cb_clone(s) : NULL;
	int ret = m && cb ? 0 : -NLE_NOMEM;

	nl_cb_put(s);
	if (!ret)
		ret = nlmsg_append(m, &g, sizeof(g), NLMSG_ALIGNTO);
	if (!ret)
		ret = nla_put_u32(m, NETNSA_FD, (uint32_t)ns_fd);
	if (!ret)
		ret = nl_send_auto(sk, m);
	if (ret >= 0) {
		nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, nsid_msg, &r);
		ret = nl_recvmsgs(sk, cb);
	}
	if (ret >= 0)
		ret = nl_wait_for_ack(sk);
	nlmsg_free(m);
	nl_cb_put(cb);
	if (ret >= 0 && !r.got)
		ret = -NLE_MSG_TRUNC;
	*id = r.id;
	return ret < 0 ? ret : 0;
}

/* ---- one veth ------------------------------------------------------------------------------- */

static int grow(struct veth_dump *vd)
{
	if (vd->v)
		return 0;
	vd->v = calloc(DUMP_VETH_MAX, sizeof(*vd->v));
	vd->pv = calloc(DUMP_VETH_MAX, sizeof(*vd->pv));
	vd->macs = calloc(DUMP_VETH_MAX, sizeof(*vd->macs));
	vd->names = calloc(DUMP_VETH_MAX, sizeof(*vd->names));
	vd->aliases = calloc(DUMP_VETH_MAX, sizeof(*vd->aliases));
	vd->peer_ifindex = calloc(DUMP_VETH_MAX, sizeof(*vd->peer_ifindex));
	if (vd->v && vd->pv && vd->macs && vd->names && vd->aliases && vd->peer_ifindex)
		return 0;
	pr_err("out of memory\n");
	return -ENOMEM;
}

/* Its MAC address into out (6 bytes), or -EINVAL (logged). */
static int mac_of(struct rtnl_link *l, uint8_t *out)
{
	struct nl_addr *a = rtnl_link_get_addr(l);

	if (a && nl_addr_get_len(a) == 6) {
		memcpy(out, nl_addr_get_binary_addr(a), 6);
		return 0;
	}
	pr_err("the veth end %s has no 6-byte MAC address\n",
	       rtnl_link_get_name(l) ? rtnl_link_get_name(l) : "?");
	return -EINVAL;
}

/* What the restore would not make again on the inner end: refused. */
static int check_inner(struct rtnl_link *l, uint64_t ino)
{
	const char *name = rtnl_link_get_name(l), *q = rtnl_link_get_qdisc(l);

	if (rtnl_link_get_group(l)) {
		pr_err("the veth %s of net:[%llu] is in link group %u: not kept, not supported\n",
		       name, (unsigned long long)ino, rtnl_link_get_group(l));
		return -ENOTSUP;
	}
	if (rtnl_link_get_master(l) > 0) {
		pr_err("the veth %s of net:[%llu] is enslaved to link %d there: not supported\n",
		       name, (unsigned long long)ino, rtnl_link_get_master(l));
		return -ENOTSUP;
	}
	if (q && strcmp(q, "noqueue") && strcmp(q, "noop")) {
		pr_err("the veth %s of net:[%llu] has the queueing discipline %s: not kept, not "
		       "supported (only a veth's default, noqueue)\n",
		       name, (unsigned long long)ino, q);
		return -ENOTSUP;
	}
	return 0;
}

/* The outer end, found by ifindex in the dumper's namespace, must be the other end of l. */
static int find_peer(const struct veth_side *tree, const struct veth_side *home,
		     struct rtnl_link *l, uint64_t ino, struct rtnl_link **peer)
{
	const char *name = rtnl_link_get_name(l);
	int32_t nsid, home_nsid, tree_nsid, back_nsid;
	int ifindex = rtnl_link_get_link(l), ret;

	if (rtnl_link_get_link_netnsid(l, &nsid) || nsid < 0) {
		pr_err("the veth %s of net:[%llu] has its peer (ifindex %d) in the same namespace: "
		       "a pair inside the tree's namespace is not supported yet\n",
		       name, (unsigned long long)ino, ifindex);
		return -ENOTSUP;
	}
	ret = nsid_of(tree->sk, home->ns_fd, &home_nsid);
	if (ret) {
		pr_err("net:[%llu]: the nsid of criu-lite's network namespace there "
		       "(RTM_GETNSID): %s\n",
		       (unsigned long long)ino, nl_geterror(ret));
		return -EIO;
	}
	if (nsid != home_nsid) {
		pr_err("the veth %s of net:[%llu] has its peer (ifindex %d) in a third network "
		       "namespace (its nsid %d there), neither the tree's nor criu-lite's own: not "
		       "supported (only a peer in the dumper's namespace is)\n",
		       name, (unsigned long long)ino, ifindex, nsid);
		return -ENOTSUP;
	}
	ret = rtnl_link_get_kernel(home->sk, ifindex, NULL, peer);
	if (!ret && (ret = nsid_of(home->sk, tree->ns_fd, &tree_nsid)))
		pr_err("the nsid of net:[%llu] in criu-lite's network namespace (RTM_GETNSID): "
		       "%s\n",
		       (unsigned long long)ino, nl_geterror(ret));
	else if (ret)
		pr_err("the peer (ifindex %d) of the veth %s of net:[%llu] in criu-lite's network "
		       "namespace: %s\n",
		       ifindex, name, (unsigned long long)ino, nl_geterror(ret));
	if (ret)
		return -EIO;
	if (!rtnl_link_is_veth(*peer) || rtnl_link_get_link(*peer) != rtnl_link_get_ifindex(l) ||
	    rtnl_link_get_link_netnsid(*peer, &back_nsid) || back_nsid != tree_nsid) {
		pr_err("the peer of the veth %s of net:[%llu], ifindex %d in criu-lite's network "
		       "namespace, is %s there, not the other end of %s: its peer is "
		       "elsewhere, not supported\n",
		       name, (unsigned long long)ino, ifindex,
		       rtnl_link_get_name(*peer) ? rtnl_link_get_name(*peer) : "?", name);
		return -ENOTSUP;
	}
	return 0;
}

/* The outer end's addresses, routes and queueing discipline are the host's: logged. */
static void log_outer(struct nl_sock *home, struct rtnl_link *peer, const char *inner)
{
	struct nl_cache *addrs = NULL, *routes = NULL;
	int ifindex = rtnl_link_get_ifindex(peer), na = 0, nr = 0;
	const char *q = rtnl_link_get_qdisc(peer);

	if (!rtnl_addr_alloc_cache(home, &addrs))
		for (struct nl_object *o = nl_cache_get_first(addrs); o; o = nl_cache_get_next(o)) {
			struct rtnl_addr *a = (struct rtnl_addr *)o;

			/* an IPv6 link-local address comes with the link */
			na += rtnl_addr_get_ifindex(a) == ifindex &&
			      !(rtnl_addr_get_family(a) == AF_INET6 &&
				rtnl_addr_get_scope(a) == RT_SCOPE_LINK);
		}
	if (!rtnl_route_alloc_cache(home, AF_UNSPEC, 0, &routes))
		for (struct nl_object *o = nl_cache_get_first(routes); o;
		     o = nl_cache_get_next(o)) {
			struct rtnl_route *r = (struct rtnl_route *)o;
			struct rtnl_nexthop *nh =
			    rtnl_route_get_nnexthops(r) == 1 ? rtnl_route_nexthop_n(r, 0) : NULL;

			nr += nh && rtnl_route_nh_get_ifindex(nh) == ifindex &&
			      rtnl_route_get_protocol(r) != RTPROT_KERNEL &&
			      rtnl_route_get_table(r) != RT_TABLE_LOCAL;
		}
	if (na || nr || (q && strcmp(q, "noqueue") && strcmp(q, "noop")))
		pr_info("the outer end %s of the veth %s has %d address(es), %d route(s) and the "
			"queueing discipline %s in criu-lite's network namespace: they are the "
			"host's, not saved, and a restore does not make them again\n",
			rtnl_link_get_name(peer), inner, na, nr, q ? q : "-");
	nl_cache_free(addrs);
	nl_cache_free(routes);
}

int dump_veth_add(struct veth_dump *vd, const struct veth_side *tree, const struct veth_side *home,
		  struct rtnl_link *l, uint64_t ino)
{
	struct rtnl_link *peer = NULL, *master = NULL;
	NetnsVeth *x;
	int ret = grow(vd);

	if (ret)
		return ret;
	if (vd->n == DUMP_VETH_MAX) {
		pr_err("net:[%llu] has more than %d veth links: not supported\n",
		       (unsigned long long)ino, DUMP_VETH_MAX);
		return -E2BIG;
	}
	x = &vd->v[vd->n];
	netns_veth__init(x);
	ret = check_inner(l, ino);
	if (!ret)
		ret = find_peer(tree, home, l, ino, &peer);
	if (!ret)
		ret = mac_of(l, vd->macs[vd->n][0]) ?: mac_of(peer, vd->macs[vd->n][1]);
	if (!ret && rtnl_link_get_master(peer) > 0 &&
	    rtnl_link_get_kernel(home->sk, rtnl_link_get_master(peer), NULL, &master)) {
		pr_err("the master (ifindex %d) of %s, the peer of the veth %s: not found in "
		       "criu-lite's network namespace\n",
		       rtnl_link_get_master(peer), rtnl_link_get_name(peer), rtnl_link_get_name(l));
		ret = -EIO;
	}
	if (!ret) {
		char(*nm)[IFNAMSIZ] = vd->names[vd->n];

		snprintf(nm[0], IFNAMSIZ, "%s", rtnl_link_get_name(l));
		snprintf(nm[1], IFNAMSIZ, "%s", rtnl_link_get_name(peer));
		x->name = nm[0];
		x->mtu = rtnl_link_get_mtu(l);
		x->mac = (ProtobufCBinaryData){ 6, vd->macs[vd->n][0] };
		x->flags = rtnl_link_get_flags(l) & NETNS_LINK_FLAGS;
		x->txqlen = rtnl_link_get_txqlen(l);
		if (rtnl_link_get_ifalias(l) && rtnl_link_get_ifalias(l)[0]) {
			snprintf(vd->aliases[vd->n], sizeof(vd->aliases[0]), "%s",
				 rtnl_link_get_ifalias(l));
			x->alias = vd->aliases[vd->n];
		}
		x->peer_name = nm[1];
		x->peer_mtu = rtnl_link_get_mtu(peer);
		x->peer_mac = (ProtobufCBinaryData){ 6, vd->macs[vd->n][1] };
		x->peer_flags = rtnl_link_get_flags(peer) & NETNS_LINK_FLAGS;
		x->peer_txqlen = rtnl_link_get_txqlen(peer);
		if (master) {
			snprintf(nm[2], IFNAMSIZ, "%s", rtnl_link_get_name(master));
			x->peer_master = nm[2];
		}
		vd->peer_ifindex[vd->n] = rtnl_link_get_ifindex(peer);
		vd->pv[vd->n++] = x;
		log_outer(home->sk, peer, x->name);
		pr_info("veth %s (MTU %u, %s), its peer %s (MTU %u, %s%s%s) in criu-lite's network "
			"namespace: dumped\n",
			x->name, x->mtu, x->flags & IFF_UP ? "up" : "down", x->peer_name,
			x->peer_mtu, x->peer_flags & IFF_UP ? "up" : "down",
			master ? ", enslaved to " : "", master ? x->peer_master : "");
	}
	rtnl_link_put(master);
	rtnl_link_put(peer);
	return ret;
}

/* ---- after the tree died: until every outer end is gone -------------------------------------- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* How many outer ends are still there (the link of that ifindex with that name); -EIO (logged)
 * when the kernel can't be asked. */
static int left(struct nl_sock *q, const struct veth_dump *vd, size_t *first)
{
	int n = 0;

	for (size_t i = 0; i < vd->n; i++) {
		struct rtnl_link *l = NULL;
		int ret = rtnl_link_get_kernel(q, vd->peer_ifindex[i], NULL, &l);

		if (ret && ret != -NLE_OBJ_NOTFOUND && ret != -NLE_NODEV) {
			pr_err("looking for the outer end %s (ifindex %d) of the veth %s: %s\n",
			       vd->pv[i]->peer_name, vd->peer_ifindex[i], vd->pv[i]->name,
			       nl_geterror(ret));
			return -EIO;
		}
		if (!ret && rtnl_link_get_name(l) &&
		    !strcmp(rtnl_link_get_name(l), vd->pv[i]->peer_name) && !n++)
			*first = i;
		rtnl_link_put(l);
	}
	return n;
}

int dump_veth_wait_gone(const struct veth_dump *vd)
{
	struct nl_sock *ev = nl_socket_alloc(), *q = nl_socket_alloc();
	double t0 = now_s(), end = t0 + DUMP_VETH_WAIT_S;
	size_t first = 0;
	int n = 0, ret;

	if (!vd->n) {
		nl_socket_free(ev);
		nl_socket_free(q);
		return 0;
	}
	ret = ev && q ? 0 : -NLE_NOMEM;
	if (!ret) {
		nl_socket_disable_seq_check(ev);
		ret = nl_connect(ev, NETLINK_ROUTE) ?: nl_connect(q, NETLINK_ROUTE);
	}
	if (!ret) /* first subscribed, then looked: a link that goes after the look is an event */
		ret = nl_socket_add_membership(ev, RTNLGRP_LINK);
	if (ret) {
		pr_err("a NETLINK_ROUTE socket to watch the veths' outer ends go: %s\n",
		       nl_geterror(ret));
		ret = -EIO;
	}
	while (!ret && (n = left(q, vd, &first)) > 0) {
		struct pollfd p = { .fd = nl_socket_get_fd(ev), .events = POLLIN };
		char buf[8192];
		double t = now_s();

		if (t >= end)
			break;
		pr_debug("%d outer end(s) still there, the first %s: waiting for RTM_DELLINK\n", n,
			 vd->pv[first]->peer_name);
		if (poll(&p, 1, (int)((end - t) * 1000) + 1) < 0 && errno != EINTR) {
			pr_perror("waiting for the veths' outer ends to go (poll)");
			ret = -errno;
			break;
		}
		/* whatever came (ENOBUFS: some were lost): look again */
		while (recv(p.fd, buf, sizeof(buf), MSG_DONTWAIT) > 0 || errno == ENOBUFS)
			;
	}
	if (n < 0)
		ret = n;
	if (!ret && n > 0)
		pr_warn("the outer end %s of the veth %s (and %d more) is still in criu-lite's "
			"network namespace %d s after the tree died: something outside the tree "
			"holds its network namespace; a restore here names it, or takes "
			"--external veth[%s]:OTHER\n",
			vd->pv[first]->peer_name, vd->pv[first]->name, n - 1, DUMP_VETH_WAIT_S,
			vd->pv[first]->name);
	else if (!ret)
		pr_info("the outer ends of %zu veth(s) gone after %.1f ms of waiting (the tree "
			"dead, its namespace let go)\n",
			vd->n, (now_s() - t0) * 1000);
	nl_socket_free(ev);
	nl_socket_free(q);
	return ret;
}

void dump_veth_free(struct veth_dump *vd)
{
	free(vd->v);
	free(vd->pv);
	free(vd->macs);
	free(vd->names);
	free(vd->aliases);
	free(vd->peer_ifindex);
	memset(vd, 0, sizeof(*vd));
}
