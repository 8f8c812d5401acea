/* restore-veth: the veth pairs of a tree's own network namespace, made again with libnl-route-3
 * (see restore-veth.h). The outer ends are made, configured and, on failure, deleted through a
 * socket opened in the restorer's own namespace before it made the new one (a netlink socket
 * stays in the namespace it was opened in). */
#include <errno.h>
#include <fcntl.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_PREFIX "netns: "
#include "criu-lite/cli.h"
#include "criu-lite/kinds/netns.h"
#include "criu-lite/log.h"
#include "criu-lite/restore/restore-veth.h"

struct outer {
	char inner[IFNAMSIZ];  /* its veth's name */
	char name[IFNAMSIZ];   /* as saved, or --external's */
	char master[IFNAMSIZ]; /* "" none */
	int master_ifindex;
	int ifindex;   /* once made; 0: not (yet) */
	bool external; /* master from --external */
	bool made;
};

struct restore_veths {
	int home_fd;	      /* the restorer's own namespace */
	struct nl_sock *home; /* a socket there */
	size_t n;
	struct outer *v; /* per e->veths[i] */
};

static int check_externals(const struct opts *o, const NetnsEntry *e)
{
	for (int k = 0; k < o->nr_veth_external; k++) {
		const struct veth_external *x = &o->veth_external[k];
		bool found = false;

		for (size_t i = 0; i < (e ? e->n_veths : 0) && !found; i++)
			found = !strcmp(e->veths[i]->name, x->inner);
		if (!found) {
			pr_err("--external veth[%s]:%s: the dump has no veth %s in the tree's "
			       "network namespace (%zu veth(s)%s%s)\n",
			       x->inner, x->outer, x->inner, e ? e->n_veths : 0,
			       e && e->n_veths ? ", the first " : "",
			       e && e->n_veths ? e->veths[0]->name : "");
			return -EINVAL;
		}
	}
	return 0;
}

/* The outer end's name must be free here, its master must be here. */
static int check_outer(struct restore_veths *rv, const NetnsVeth *v, struct outer *x)
{
	struct rtnl_link *l = NULL;

	for (struct outer *y = rv->v; y < x; y++)
		if (!strcmp(y->name, x->name)) {
			pr_err("the outer ends of the veths %s and %s would both be %s: give one "
			       "another name with --external veth[%s]:NAME\n",
			       y->inner, v->name, x->name, v->name);
			return -EEXIST;
		}
	if (!rtnl_link_get_kernel(rv->home, 0, x->name, &l)) {
		pr_err("the outer end %s of the veth %s can't be made: a link %s (ifindex %d) "
		       "already exists in the restorer's network namespace (the dumped tree's, if "
		       "it was dumped with --leave-running, or another one's): delete it, or "
		       "restore with --external veth[%s]:OTHER_NAME\n",
		       x->name, v->name, x->name, rtnl_link_get_ifindex(l), v->name);
		rtnl_link_put(l);
		return -EEXIST;
	}
	if (!x->master[0])
		return 0;
	if (rtnl_link_get_kernel(rv->home, 0, x->master, &l)) {
		pr_err("the outer end %s of the veth %s is to be enslaved to %s (%s), which is not "
		       "in the restorer's network namespace: make that bridge, or restore with "
		       "--external veth[%s]:%s@BRIDGE\n",
		       x->name, v->name, x->master, x->external ? "--external" : "as at dump",
		       v->name, x->name);
		return -ENODEV;
	}
	x->master_ifindex = rtnl_link_get_ifindex(l);
	rtnl_link_put(l);
	return 0;
}

int restore_veth_prepare(const struct opts *o, const NetnsEntry *e, struct restore_veths **out)
{
	struct restore_veths *rv;
	int ret = check_externals(o, e);

	*out = NULL;
	if (ret || !e || !e->n_veths)
		return ret;
	rv = calloc(1, sizeof(*rv));
	if (!rv || !(rv->v = calloc(e->n_veths, sizeof(*rv->v)))) {
		free(rv);
		pr_err("out of memory\n");
		return -ENOMEM;
	}
	*out = rv;
	rv->n = e->n_veths;
	rv->home_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (rv->home_fd < 0) {
		pr_perror("/proc/self/ns/net");
		return -errno;
	}
	ret = (rv->home = nl_socket_alloc()) ? nl_connect(rv->home, NETLINK_ROUTE) : -NLE_NOMEM;
	if (ret) {
		pr_err("a NETLINK_ROUTE socket in the restorer's network namespace: %s\n",
		       nl_geterror(ret));
		return -EIO;
	}
	for (size_t i = 0; !ret && i < rv->n; i++) {
		const NetnsVeth *v = e->veths[i];
		const struct veth_external *x = cli_veth_external(o, v->name);

		snprintf(rv->v[i].inner, IFNAMSIZ, "%s", v->name);
		snprintf(rv->v[i].name, IFNAMSIZ, "%s", x ? x->outer : v->peer_name);
		rv->v[i].external = x && x->bridge[0];
		if (rv->v[i].external)
			snprintf(rv->v[i].master, IFNAMSIZ, "%s", x->bridge);
		else if (v->peer_master)
			snprintf(rv->v[i].master, IFNAMSIZ, "%s", v->peer_master);
		ret = check_outer(rv, v, &rv->v[i]);
	}
	return ret;
}

/* flags: exactly the saved NETNS_LINK_FLAGS bits. */
static void set_flags(struct rtnl_link *l, uint32_t flags)
{
	rtnl_link_set_flags(l, flags & NETNS_LINK_FLAGS);
	rtnl_link_unset_flags(l, NETNS_LINK_FLAGS & ~flags);
}

static int set_mac(struct rtnl_link *l, const ProtobufCBinaryData *mac)
{
	struct nl_addr *a = nl_addr_build(AF_LLC, mac->data, mac->len);

	if (!a)
		return -NLE_NOMEM;
	rtnl_link_set_addr(l, a);
	nl_addr_put(a);
	return 0;
}

/* One request: both ends, the outer one in the restorer's namespace. */
static int make_pair(struct restore_veths *rv, const NetnsVeth *v, struct outer *x,
		     struct nl_sock *sk)
{
	struct rtnl_link *in = rtnl_link_veth_alloc(),
			 *out = in ? rtnl_link_veth_get_peer(in) : NULL;
	int ret = in && out ? 0 : -NLE_NOMEM;

	if (!ret) {
		rtnl_link_set_name(in, v->name);
		rtnl_link_set_mtu(in, v->mtu);
		rtnl_link_set_txqlen(in, v->txqlen);
		rtnl_link_set_name(out, x->name);
		rtnl_link_set_mtu(out, v->peer_mtu);
		rtnl_link_set_txqlen(out, v->peer_txqlen);
		rtnl_link_set_ns_fd(out, rv->home_fd);
		ret = set_mac(in, &v->mac) ?: set_mac(out, &v->peer_mac);
	}
	if (!ret)
		ret = rtnl_link_add(sk, in, NLM_F_CREATE | NLM_F_EXCL);
	if (ret == -NLE_EXIST)
		pr_err("making the veth %s with its outer end %s in the restorer's network "
		       "namespace: a link of that name exists (made meanwhile): delete it, or "
		       "restore with --external veth[%s]:OTHER_NAME\n",
		       v->name, x->name, v->name);
	else if (ret)
		pr_err("making the veth %s (MTU %u) with its outer end %s (MTU %u) in the "
		       "restorer's network namespace: %s\n",
		       v->name, v->mtu, x->name, v->peer_mtu, nl_geterror(ret));
	x->made = !ret;
	rtnl_link_put(out);
	if (in)
		rtnl_link_veth_release(in);
	return ret ? -EIO : 0;
}

/* The changes of ch on the link name, through sk (its namespace: where). */
static int change(struct nl_sock *sk, const char *name, struct rtnl_link *ch, int *ifindex,
		  const char *what, const char *where)
{
	struct rtnl_link *l = NULL;
	int ret = rtnl_link_get_kernel(sk, 0, name, &l);

	if (!ret)
		ret = rtnl_link_change(sk, l, ch, 0);
	if (!ret && ifindex)
		*ifindex = rtnl_link_get_ifindex(l);
	if (ret)
		pr_err("the veth end %s in %s: %s: %s\n", name, where, what, nl_geterror(ret));
	rtnl_link_put(l);
	return ret ? -EIO : 0;
}

static int configure(struct restore_veths *rv, const NetnsVeth *v, struct outer *x,
		     struct nl_sock *sk)
{
	struct rtnl_link *in = rtnl_link_alloc(), *m = rtnl_link_alloc(), *out = rtnl_link_alloc();
	int ret = in && m && out ? 0 : -ENOMEM;

	if (ret) {
		pr_err("out of memory\n");
	} else {
		set_flags(in, v->flags);
		if (v->alias)
			rtnl_link_set_ifalias(in, v->alias);
		set_flags(out, v->peer_flags);
		rtnl_link_set_master(m, x->master_ifindex);
		/* the outer end's ifindex first: a failure from here on deletes it by it */
		ret = change(rv->home, x->name, x->master[0] ? m : out, &x->ifindex,
			     x->master[0] ? "enslaving it" : "setting its flags",
			     "the restorer's network namespace");
	}
	if (!ret && x->master[0])
		ret = change(rv->home, x->name, out, NULL, "setting its flags",
			     "the restorer's network namespace");
	if (!ret)
		ret = change(sk, v->name, in, NULL, "setting its flags and alias",
			     "the tree's network namespace");
	rtnl_link_put(in);
	rtnl_link_put(m);
	rtnl_link_put(out);
	return ret;
}

int restore_veth_make(struct restore_veths *rv, const NetnsEntry *e, struct nl_sock *sk)
{
	for (size_t i = 0; rv && i < rv->n; i++) {
		const NetnsVeth *v = e->veths[i];
		int ret = make_pair(rv, v, &rv->v[i], sk) ?: configure(rv, v, &rv->v[i], sk);

		if (ret)
			return ret;
		pr_info("veth %s made again, its outer end %s (ifindex %d) in the restorer's "
			"network namespace%s%s\n",
			v->name, rv->v[i].name, rv->v[i].ifindex,
			rv->v[i].master[0] ? ", enslaved to " : "", rv->v[i].master);
	}
	return 0;
}

void restore_veth_done(struct restore_veths *rv, bool ok)
{
	if (!rv)
		return;
	for (size_t i = 0; !ok && i < rv->n; i++) {
		struct rtnl_link *l = rtnl_link_alloc();
		int ret;

		if (!rv->v[i].made || !l) {
			rtnl_link_put(l);
			continue;
		}
		if (rv->v[i].ifindex)
			rtnl_link_set_ifindex(l, rv->v[i].ifindex);
		else
			rtnl_link_set_name(l, rv->v[i].name);
		ret = rtnl_link_delete(rv->home, l);
		if (ret && ret != -NLE_NODEV && ret != -NLE_OBJ_NOTFOUND)
			pr_err("deleting the outer end %s of the veth %s that this restore made: "
			       "%s\n",
			       rv->v[i].name, rv->v[i].inner, nl_geterror(ret));
		else
			pr_info("the outer end %s of the veth %s deleted\n", rv->v[i].name,
				rv->v[i].inner);
		rtnl_link_put(l);
	}
	if (rv->home_fd >= 0)
		close(rv->home_fd);
	nl_socket_free(rv->home);
	free(rv->v);
	free(rv);
}
