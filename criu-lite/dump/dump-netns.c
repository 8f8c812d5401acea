/* dump-netns: a tree's own network namespace (kinds/netns.h): found, entered, saved.
 *
 * The links, addresses and routes are read with libnl-route-3's caches from inside the
 * namespace (setns: netlink and /proc/sys/net answer for the caller's namespace). Routes the
 * kernel made itself (RTPROT_KERNEL: those of each address, the local table) come back with the
 * addresses and are not saved. Addresses and routes name their link (lo or a veth); the veths
 * and their outer ends are read by dump-veth.c, through a socket opened in the dumper's own
 * namespace before entering the tree's. */
#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_PREFIX "netns: "
#include "criu-lite/dump/dump-tree.h"
#include "criu-lite/dump/dump-veth.h"
#include "criu-lite/dump/dump.h"
#include "criu-lite/kinds/netns.h"
#include "criu-lite/log.h"
#include "criu-lite/net/netlock.h"
#include "netns.pb-c.h"

#define MAX_ITEMS 4096

struct netns_dump {
	int tree_fd, home_fd;
	struct nl_sock *home_sk; /* opened in the dumper's namespace, while reading the tree's */
	struct veth_dump veths;
	bool own;	  /* the tree's own (its root's parent is elsewhere): netns.img */
	bool copy;	  /* not the tree's: one its sockets or nsfs fds are in (dump-sknetns.c) */
	const char *role; /* "the tree's network namespace", for messages */
	uint64_t ino, home_ino;
	NetnsEntry e;
	NetnsAddr *addrs, **pa;
	NetnsRoute *routes, **pr;
	NetnsSysctl *sysctls, **ps;
	uint8_t (*bytes)[3][16]; /* addresses of addrs and routes */
	char (*labels)[IFNAMSIZ];
	char (*devs)[IFNAMSIZ]; /* the link of addrs and routes */
	char (*values)[256];
};

static int ns_ino(pid_t pid, uint64_t *ino)
{
	char p[64];
	struct stat st;

	snprintf(p, sizeof(p), "/proc/%d/ns/net", pid);
	if (stat(p, &st)) {
		pr_perror("%s", p);
		return -errno;
	}
	*ino = st.st_ino;
	return 0;
}

/* ---- reading the namespace (from inside it) ------------------------------------------------ */

static int check_links(struct nl_sock *sk, struct nl_cache *links, struct netns_dump *d)
{
	const struct veth_side tree = { sk, d->tree_fd }, home = { d->home_sk, d->home_fd };

	for (struct nl_object *o = nl_cache_get_first(links); o; o = nl_cache_get_next(o)) {
		struct rtnl_link *l = (struct rtnl_link *)o;
		const char *name = rtnl_link_get_name(l);
		int ret;

		if (name && !strcmp(name, "lo")) {
			d->e.lo_up = rtnl_link_get_flags(l) & IFF_UP;
			d->e.lo_mtu = rtnl_link_get_mtu(l);
			continue;
		}
		if (name && rtnl_link_is_veth(l) && !d->copy) {
			if ((ret = dump_veth_add(&d->veths, &tree, &home, l, d->ino)))
				return ret;
			continue;
		}
		pr_err("%s net:[%llu] has the link %s (%s): not supported yet (only lo%s)\n",
		       d->role, (unsigned long long)d->ino, name ? name : "?",
		       rtnl_link_get_type(l) ? rtnl_link_get_type(l) : "no type",
		       d->copy ? " is, in a namespace only the tree's files are in"
			       : " and veths whose peer is in criu-lite's namespace are");
		return -ENOTSUP;
	}
	d->e.veths = d->veths.pv;
	d->e.n_veths = d->veths.n;
	return 0;
}

/* The name of link ifindex into d->devs[k]: "lo" or a veth's (the only links saved). */
static char *dev_name(struct nl_cache *links, struct netns_dump *d, int ifindex, size_t k)
{
	if (!rtnl_link_i2name(links, ifindex, d->devs[k], IFNAMSIZ))
		snprintf(d->devs[k], IFNAMSIZ, "if%d", ifindex); /* gone meanwhile: refused later */
	return d->devs[k];
}

static size_t put_addr(struct nl_addr *a, uint8_t *out)
{
	size_t n = a ? nl_addr_get_len(a) : 0;

	if (n != 4 && n != 16)
		return 0;
	memcpy(out, nl_addr_get_binary_addr(a), n);
	return n;
}

static int read_addrs(struct nl_cache *links, struct nl_cache *addrs, struct netns_dump *d,
		      size_t *k)
{
	for (struct nl_object *o = nl_cache_get_first(addrs); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		NetnsAddr *x = &d->addrs[d->e.n_addrs];
		size_t n;

		if (d->e.n_addrs == MAX_ITEMS)
			return -E2BIG;
		netns_addr__init(x);
		n = put_addr(rtnl_addr_get_local(a), d->bytes[*k][0]);
		if (!n)
			continue;
		x->family = (uint32_t)rtnl_addr_get_family(a);
		x->local = (ProtobufCBinaryData){ n, d->bytes[*k][0] };
		x->prefixlen = (uint32_t)rtnl_addr_get_prefixlen(a);
		x->has_scope = x->has_flags = true;
		x->scope = (uint32_t)rtnl_addr_get_scope(a);
		x->flags = rtnl_addr_get_flags(a);
		if (rtnl_addr_get_label(a)) {
			snprintf(d->labels[*k], IFNAMSIZ, "%s", rtnl_addr_get_label(a));
			x->label = d->labels[*k];
		}
		x->dev = dev_name(links, d, rtnl_addr_get_ifindex(a), *k);
		d->pa[d->e.n_addrs++] = x;
		(*k)++;
	}
	return 0;
}

static int read_routes(struct nl_cache *links, struct nl_cache *routes, struct netns_dump *d,
		       size_t *k)
{
	for (struct nl_object *o = nl_cache_get_first(routes); o; o = nl_cache_get_next(o)) {
		struct rtnl_route *r = (struct rtnl_route *)o;
		NetnsRoute *x = &d->routes[d->e.n_routes];
		struct rtnl_nexthop *nh;
		size_t n;

		if (rtnl_route_get_protocol(r) == RTPROT_KERNEL || rtnl_route_get_table(r) == 255)
			continue; /* the kernel's own, made again with the addresses */
		if (d->e.n_routes == MAX_ITEMS)
			return -E2BIG;
		netns_route__init(x);
		x->family = rtnl_route_get_family(r);
		n = put_addr(rtnl_route_get_dst(r), d->bytes[*k][0]);
		if (!n) /* a default route: dst of the family's length, all zero */
			n = x->family == AF_INET ? 4 : 16;
		x->dst = (ProtobufCBinaryData){ n, d->bytes[*k][0] };
		x->dst_len =
		    rtnl_route_get_dst(r) ? nl_addr_get_prefixlen(rtnl_route_get_dst(r)) : 0;
		x->table = rtnl_route_get_table(r);
		x->scope = rtnl_route_get_scope(r);
		x->protocol = rtnl_route_get_protocol(r);
		x->type = rtnl_route_get_type(r);
		x->has_priority = true;
		x->priority = rtnl_route_get_priority(r);
		if ((n = put_addr(rtnl_route_get_pref_src(r), d->bytes[*k][1]))) {
			x->prefsrc = (ProtobufCBinaryData){ n, d->bytes[*k][1] };
			x->has_prefsrc = true;
		}
		if (rtnl_route_get_nnexthops(r) > 1) {
			pr_err("net:[%llu]: a route with %d next hops: not supported yet\n",
			       (unsigned long long)d->ino, rtnl_route_get_nnexthops(r));
			return -ENOTSUP;
		}
		nh = rtnl_route_get_nnexthops(r) ? rtnl_route_nexthop_n(r, 0) : NULL;
		if (nh && (n = put_addr(rtnl_route_nh_get_gateway(nh), d->bytes[*k][2]))) {
			x->gateway = (ProtobufCBinaryData){ n, d->bytes[*k][2] };
			x->has_gateway = true;
		}
		if (nh && rtnl_route_nh_get_ifindex(nh) > 0)
			x->dev = dev_name(links, d, rtnl_route_nh_get_ifindex(nh), *k);
		if (nh && (rtnl_route_nh_get_flags(nh) & RTNH_F_ONLINK)) {
			x->has_nh_flags = true;
			x->nh_flags = RTNH_F_ONLINK;
		}
		d->pr[d->e.n_routes++] = x;
		(*k)++;
	}
	return 0;
}

static int read_sysctls(struct netns_dump *d)
{
	size_t n;
	const char *const *names = netns_sysctls(&n);

	for (size_t i = 0; i < n; i++) {
		char p[128];
		FILE *f;

		snprintf(p, sizeof(p), "/proc/sys/net/%s", names[i]);
		f = fopen(p, "re");
		if (!f)
			continue; /* not in this kernel (or no lo conf): nothing to keep */
		if (!fgets(d->values[i], sizeof(d->values[i]), f))
			d->values[i][0] = 0;
		fclose(f);
		d->values[i][strcspn(d->values[i], "\n")] = 0;
		netns_sysctl__init(&d->sysctls[d->e.n_sysctls]);
		d->sysctls[d->e.n_sysctls].name = (char *)names[i];
		d->sysctls[d->e.n_sysctls].value = d->values[i];
		d->ps[d->e.n_sysctls] = &d->sysctls[d->e.n_sysctls];
		d->e.n_sysctls++;
	}
	return 0;
}

/* Rules that would be lost: any nftables table, a legacy iptables table in use. */
static int check_firewall(const struct netns_dump *d)
{
	static const char *const files[] = { "/proc/net/ip_tables_names",
					     "/proc/net/ip6_tables_names" };
	char first[128];
	int ret = netlock_tables(first, sizeof(first));

	if (ret > 0) {
		pr_err("%s net:[%llu] has nftables rules (%s): they are not kept: not supported\n",
		       d->role, (unsigned long long)d->ino, first);
		return -ENOTSUP;
	}
	if (ret)
		return ret;
	for (size_t i = 0; i < 2; i++) {
		char line[64] = "";
		FILE *f = fopen(files[i], "re");

		if (f && fgets(line, sizeof(line), f) && line[0]) {
			fclose(f);
			line[strcspn(line, "\n")] = 0;
			pr_err("%s net:[%llu] has the legacy iptables table %s (%s): its rules are "
			       "not kept: not supported\n",
			       d->role, (unsigned long long)d->ino, line, files[i]);
			return -ENOTSUP;
		}
		if (f)
			fclose(f);
	}
	return 0;
}

static int read_ns(struct netns_dump *d)
{
	struct nl_cache *links = NULL, *addrs = NULL, *routes = NULL;
	struct nl_sock *sk = nl_socket_alloc();
	size_t k = 0;
	int ret = -ENOMEM;

	d->addrs = calloc(MAX_ITEMS, sizeof(*d->addrs));
	d->pa = calloc(MAX_ITEMS, sizeof(*d->pa));
	d->routes = calloc(MAX_ITEMS, sizeof(*d->routes));
	d->pr = calloc(MAX_ITEMS, sizeof(*d->pr));
	d->bytes = calloc(2 * MAX_ITEMS, sizeof(*d->bytes));
	d->labels = calloc(2 * MAX_ITEMS, sizeof(*d->labels));
	d->devs = calloc(2 * MAX_ITEMS, sizeof(*d->devs));
	d->sysctls = calloc(32, sizeof(*d->sysctls));
	d->ps = calloc(32, sizeof(*d->ps));
	d->values = calloc(32, sizeof(*d->values));
	if (!sk || !d->addrs || !d->pa || !d->routes || !d->pr || !d->bytes || !d->labels ||
	    !d->devs || !d->sysctls || !d->ps || !d->values)
		goto out;
	ret = nl_connect(sk, NETLINK_ROUTE);
	if (!ret)
		ret = rtnl_link_alloc_cache(sk, AF_UNSPEC, &links);
	if (!ret)
		ret = rtnl_addr_alloc_cache(sk, &addrs);
	if (!ret)
		ret = rtnl_route_alloc_cache(sk, AF_UNSPEC, 0, &routes);
	if (ret) {
		pr_err("net:[%llu]: reading its links, addresses and routes: %s\n",
		       (unsigned long long)d->ino, nl_geterror(ret));
		ret = -EIO;
		goto out;
	}
	d->e.addrs = d->pa;
	d->e.routes = d->pr;
	d->e.sysctls = d->ps;
	ret = check_links(sk, links, d);
	if (!ret)
		ret = check_firewall(d);
	if (!ret)
		ret = read_addrs(links, addrs, d, &k);
	if (!ret)
		ret = read_routes(links, routes, d, &k);
	if (ret == -E2BIG)
		pr_err("net:[%llu]: more than %d addresses or routes: not supported\n",
		       (unsigned long long)d->ino, MAX_ITEMS);
	if (!ret)
		ret = read_sysctls(d);
out:
	if (ret == -ENOMEM)
		pr_err("out of memory\n");
	nl_cache_free(links);
	nl_cache_free(addrs);
	nl_cache_free(routes);
	nl_socket_free(sk);
	return ret;
}

/* ---- the dump's part ------------------------------------------------------------------------ */

/* A NETLINK_ROUTE socket of the dumper's own namespace (before entering the tree's): the veths'
 * outer ends are read through it. */
static int home_socket(struct netns_dump *d)
{
	int ret = -NLE_NOMEM;

	d->home_sk = nl_socket_alloc();
	if (d->home_sk)
		ret = nl_connect(d->home_sk, NETLINK_ROUTE);
	if (!ret)
		return 0;
	pr_err("a NETLINK_ROUTE socket in criu-lite's network namespace: %s\n", nl_geterror(ret));
	return -EIO;
}

int dump_netns_check(struct dump_shared *sh, struct dump_tree_list *tl)
{
	struct netns_dump *d;
	struct img_err err = { 0 };
	const ProtobufCMessage *m;
	uint64_t own, ino = 0, parent = 0;
	char p[64];
	int ret = ns_ino(getpid(), &own);

	for (size_t i = 0; !ret && i < tl->n; i++) {
		uint64_t x;

		if (tl->t[i].zombie)
			continue; /* a zombie has no namespaces left to read */
		ret = ns_ino(tl->t[i].pid, &x);
		if (!ret && ino && x != ino) {
			pr_err("pid %d is in network namespace net:[%llu], pid %d in net:[%llu]: a "
			       "tree across network namespaces is not supported yet\n",
			       tl->t[0].pid, (unsigned long long)ino, tl->t[i].pid,
			       (unsigned long long)x);
			ret = -ENOTSUP;
		}
		ino = x;
	}
	if (ret || !ino || ino == own)
		return ret;
	/* its own: its root's parent lives in another one (a container's init, a task that
	 * unshared); else the tree is in someone else's, which the dumper only enters to read its
	 * sockets, and the restore puts it in the restorer's (as a dump from there would) */
	{
		struct stat st;

		snprintf(p, sizeof(p), "/proc/%d/ns/net", tl->t[0].stat.ppid);
		parent = stat(p, &st) ? 0 : st.st_ino; /* no parent to compare with: its own */
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	sh->netns = d;
	d->ino = ino;
	d->home_ino = own;
	d->own = parent != ino;
	d->role = "the tree's network namespace";
	netns_entry__init(&d->e);
	d->e.ino = ino;
	snprintf(p, sizeof(p), "/proc/%d/ns/net", tl->t[0].pid);
	d->home_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	d->tree_fd = open(p, O_RDONLY | O_CLOEXEC);
	if (d->own && (ret = home_socket(d)))
		return ret;
	if (d->home_fd < 0 || d->tree_fd < 0 || setns(d->tree_fd, CLONE_NEWNET)) {
		pr_perror("entering the tree's network namespace net:[%llu] (%s)",
			  (unsigned long long)ino, p);
		return -errno;
	}
	if (!d->own) {
		pr_info("the tree is in network namespace net:[%llu], its parent's, not the "
			"dumper's: its sockets are read there, the namespace is not dumped\n",
			(unsigned long long)ino);
		return 0;
	}
	pr_info("the tree has a network namespace of its own, net:[%llu]: dumped with it\n",
		(unsigned long long)ino);
	ret = read_ns(d);
	nl_socket_free(d->home_sk);
	d->home_sk = NULL;
	m = &d->e.base;
	if (!ret && (ret = img_write_file(sh->dir, IMG_NETNS, 0, &m, 1, &err)))
		pr_err("%s\n", err.msg);
	return ret;
}

static int enter(struct dump_shared *sh, bool home)
{
	struct netns_dump *d = sh->netns;

	if (!d || setns(home ? d->home_fd : d->tree_fd, CLONE_NEWNET) == 0)
		return 0;
	pr_perror("entering %s network namespace", home ? "criu-lite's own" : "the tree's");
	return -errno;
}

int dump_netns_home(struct dump_shared *sh)
{
	return enter(sh, true);
}

int dump_netns_back(struct dump_shared *sh)
{
	return enter(sh, false);
}

uint64_t dump_netns_outside(const struct dump_shared *sh)
{
	return sh->netns && sh->netns->own ? sh->netns->home_ino : 0;
}

static void free_arrays(struct netns_dump *d)
{
	free(d->addrs);
	free(d->pa);
	free(d->routes);
	free(d->pr);
	free(d->bytes);
	free(d->labels);
	free(d->devs);
	free(d->sysctls);
	free(d->ps);
	free(d->values);
	free(d);
}

int dump_netns_read_copy(uint64_t ino, struct netns_dump **out, NetnsEntry **e)
{
	struct netns_dump *d = calloc(1, sizeof(*d));
	int ret;

	if (!d) {
		pr_err("out of memory\n");
		return -ENOMEM;
	}
	d->copy = true;
	d->ino = ino;
	d->home_fd = d->tree_fd = -1;
	d->role = "the network namespace";
	netns_entry__init(&d->e);
	d->e.ino = ino;
	ret = read_ns(d);
	if (ret) {
		free_arrays(d);
		return ret;
	}
	*out = d;
	*e = &d->e;
	return 0;
}

void dump_netns_copy_free(struct netns_dump *d)
{
	if (d)
		free_arrays(d);
}

int dump_netns_finish(struct dump_shared *sh, bool killed)
{
	struct netns_dump *d = sh->netns;
	int ret = 0;

	if (!d)
		return 0;
	enter(sh, true);
	if (d->home_fd >= 0)
		close(d->home_fd);
	if (d->tree_fd >= 0)
		close(d->tree_fd);
	/* the last fd of ours on the tree's namespace is closed: once the kernel destroys it,
	 * the veths' outer ends go with it */
	if (killed)
		ret = dump_veth_wait_gone(&d->veths);
	dump_veth_free(&d->veths);
	nl_socket_free(d->home_sk);
	free_arrays(d);
	sh->netns = NULL;
	return ret;
}
