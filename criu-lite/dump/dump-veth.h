/* dump-veth: the veth links of a tree's own network namespace (netns.proto netns_veth).
 *
 * Contract: dump_veth_add() is given one veth link read inside the tree's namespace, and a
 * NETLINK_ROUTE socket and an fd of that namespace and of the dumper's own (home). It finds the
 * other end from the link's IFLA_LINK and IFLA_LINK_NETNSID: that end must live in the dumper's
 * namespace, which is checked both ways (the tree's namespace sees the dumper's under that nsid,
 * and the end found by ifindex in the dumper's namespace is a veth whose own IFLA_LINK and
 * IFLA_LINK_NETNSID point back at this link); else the dump is refused, naming the link. Both
 * ends are saved as they are (name, MTU, MAC, flags, queue length, the inner end's alias, the
 * outer end's master); what a restore would not make again (a link group, a queueing
 * discipline on the inner end) is refused. The outer end's own addresses, routes and
 * queueing discipline belong to the host: not saved, logged (info) when it has any.
 *
 * dump_veth_wait_gone() is for a dump that killed its tree: once the tree is dead and the
 * dumper holds nothing of its namespace any more, the kernel destroys the namespace
 * asynchronously (its cleanup workqueue), and each veth pair with it. It waits, on RTM_DELLINK
 * notifications (RTNLGRP_LINK) with a check of each end after subscribing, until every saved
 * outer end is gone from the dumper's namespace, so that a restore right after the dump does
 * not find them; after DUMP_VETH_WAIT_S seconds it warns (something outside the tree holds
 * the namespace: the restore will name the link) and returns. 0 or -errno, logged. */
#ifndef CRIU_LITE_DUMP_VETH_H
#define CRIU_LITE_DUMP_VETH_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "netns.pb-c.h"

#define DUMP_VETH_MAX	 256
#define DUMP_VETH_WAIT_S 20

struct nl_sock;
struct rtnl_link;

/* One side of the pair: a NETLINK_ROUTE socket opened in a namespace, and an fd of it. */
struct veth_side {
	struct nl_sock *sk;
	int ns_fd;
};

/* The veths of one dump: the image's entries and what they point to. */
struct veth_dump {
	NetnsVeth *v, **pv;
	size_t n;
	uint8_t (*macs)[2][6];	    /* inner, outer */
	char (*names)[3][IFNAMSIZ]; /* inner, outer, master */
	char (*aliases)[256];
	int *peer_ifindex; /* the outer end's, in the dumper's namespace */
};

/* l: a veth of the tree's namespace net:[ino] (tree), home: the dumper's namespace. */
int dump_veth_add(struct veth_dump *vd, const struct veth_side *tree, const struct veth_side *home,
		  struct rtnl_link *l, uint64_t ino);
/* From the dumper's own namespace. */
int dump_veth_wait_gone(const struct veth_dump *vd);
void dump_veth_free(struct veth_dump *vd);

#endif
