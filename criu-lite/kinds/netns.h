/* netns: a tree's own network namespace (netns.proto), at dump and restore.
 *
 * Contract, dump (dump-netns.c, dump-veth.c): dump_netns_check() finds the network namespace of
 * every task: all must share one (else refused, naming two tasks and their namespaces). When it
 * is criu-lite's own, nothing happens (the restore's tasks live in the restorer's namespace, as
 * before). Otherwise the dumper enters it (setns) for the rest of the dump's steps (sockets are
 * read there: sock_diag, the network lock); when it is the tree's own (the root's parent lives
 * in another: a container's init, a task that unshared) it also writes netns.img: the loopback
 * link's state, each veth whose other end is in criu-lite's own namespace (both ends: name,
 * MTU, MAC, flags, and the outer end's master), the addresses and the routes the tree added on
 * those links (not the kernel's own), and the sysctls of netns_sysctls(). Refused, naming the
 * namespace and the link: any other link (a veth whose peer is in a third namespace or in the
 * tree's too, a bridge, ...), nftables rules, a legacy iptables table in use.
 * dump_netns_home()/dump_netns_back() leave it and enter it again. dump_netns_finish() goes
 * home, closes the dumper's fds of the namespace and frees; with killed (the dump killed the
 * tree) it first waits until the kernel has destroyed the namespace's veth pairs (their outer
 * ends gone from criu-lite's namespace: dump-veth.h), so that a restore right after does not
 * find them.
 * Contract, restore (restore-netns.c, restore-veth.c): restore_netns() runs before any socket
 * is made: with --join-ns net:PATH the restorer enters that namespace (the caller made it, as it
 * wants it: nothing is created); else, with a netns.img, the restorer makes a new namespace
 * (unshare) and rebuilds it from the image: each veth pair made again with its inner end there
 * and its outer end in the restorer's own namespace (named, and enslaved, as at dump or as
 * --external veth[INNER]:OUTER[@BRIDGE] says); the tasks it creates inherit it.
 * restore_netns_done() ends it: a failed restore (ok false) deletes the outer ends it made
 * (the inner ends go with them). 0 or -errno, logged. */
#ifndef CRIU_LITE_NETNS_H
#define CRIU_LITE_NETNS_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netns.pb-c.h"

struct dump_shared;
struct dump_tree_list;
struct restore_ctx;

/* The IFF_* bits of a link that a user sets, kept for each veth end (netns.proto). */
#define NETNS_LINK_FLAGS (IFF_UP | IFF_NOARP | IFF_PROMISC | IFF_ALLMULTI | IFF_MULTICAST)

/* The sysctls of a namespace that are kept, below /proc/sys/net/. */
const char *const *netns_sysctls(size_t *n);

int dump_netns_check(struct dump_shared *sh, struct dump_tree_list *tl);
/* The namespace the tree's own was made from (criu-lite's, where its veths' outer ends are):
 * its inode, or 0 when the tree has no namespace of its own. */
uint64_t dump_netns_outside(const struct dump_shared *sh);
/* The namespace the caller is in (it entered it), read as netns.img keeps one, for a namespace
 * that only the tree's sockets or nsfs fds are in (dump-sknetns.c): lo, addresses, routes,
 * sysctls; any other link and firewall rules refused, naming it. *e lives in *d: free with
 * dump_netns_copy_free(). 0 or -errno (logged). */
struct netns_dump;
int dump_netns_read_copy(uint64_t ino, struct netns_dump **d, NetnsEntry **e);
void dump_netns_copy_free(struct netns_dump *d);
int dump_netns_home(struct dump_shared *sh);
int dump_netns_back(struct dump_shared *sh);
int dump_netns_finish(struct dump_shared *sh, bool killed);

int restore_netns(struct restore_ctx *c);
void restore_netns_done(struct restore_ctx *c, bool ok);
/* For a namespace of netns-refs.img made again (restore-sknetns.c): its entry checked (no
 * veths), then rebuilt in the namespace the caller is in (a new one it made). */
int restore_netns_check_copy(const NetnsEntry *e);
int restore_netns_rebuild_copy(const NetnsEntry *e);

#endif
