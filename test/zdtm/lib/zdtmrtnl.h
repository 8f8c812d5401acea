/* zdtmrtnl: what the zdtm tests of network links share (lib/rtnl.c): rtnetlink requests the
 * ioctls have no form for: making a link of a kind (a veth pair with its peer in another
 * namespace, a bridge), and reading a link as the kernel reports it, in the test's namespace or,
 * through IFLA_TARGET_NETNSID, in the namespace where a veth's peer lives.
 *
 * Contract: each call opens its own NETLINK_ROUTE socket (in the caller's namespace at the time
 * of the call) and returns 0, or -1 with errno set (the kernel's error for a refused request). */
#ifndef ZDTM_ZDTMRTNL_H
#define ZDTM_ZDTMRTNL_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#ifndef IFF_LOWER_UP /* linux/if.h's, which clashes with net/if.h */
#define IFF_LOWER_UP 0x10000
#endif

/* A link as RTM_GETLINK reports it. */
struct test_link {
	int ifindex;
	char name[IFNAMSIZ];
	unsigned flags; /* ifi_flags: IFF_UP, IFF_LOWER_UP, IFF_RUNNING, ... */
	unsigned mtu;
	uint8_t mac[6];
	int link;	  /* IFLA_LINK: a veth's peer's ifindex (0: none) */
	int link_netnsid; /* IFLA_LINK_NETNSID: where it lives (-1: this namespace) */
	char kind[16];	  /* IFLA_INFO_KIND, "veth" */
};

/* The name of a veth end a test puts in the host: "zv", the pid and a random part (every test
 * is pid 1 under pidns: a name of a pair whose namespace is still going away stays clear), then
 * tag. 0, or -1 with errno. */
int test_rtnl_outer_name(char *buf, char tag);
/* A veth pair: name here, its peer peer_name in the namespace of peer_ns_fd (-1: here). */
int test_rtnl_veth(const char *name, const char *peer_name, int peer_ns_fd);
/* A link of kind ("bridge") named name, here. */
int test_rtnl_link_add(const char *name, const char *kind);
/* The link name (ifindex 0) or ifindex, here (target_nsid -1) or in the namespace this one
 * knows as target_nsid. */
int test_rtnl_link_get(const char *name, int ifindex, int target_nsid, struct test_link *l);
/* "name mtu N mac M flags F" of the bits of mask, for comparing a link before and after. */
void test_link_str(const struct test_link *l, unsigned mask, char *buf, size_t len);

#endif
