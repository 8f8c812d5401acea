/* netns: a tree's own network namespace (netns.proto), at dump and restore.
 *
 * Contract, dump (dump-netns.c): dump_netns_check() finds the network namespace of every task:
 * all must share one (else refused, naming two tasks and their namespaces). When it is
 * criu-lite's own, nothing happens (the restore's tasks live in the restorer's namespace, as
 * before). Otherwise the dumper enters it (setns) for the rest of the dump's steps (sockets are
 * read there: sock_diag, the network lock); when it is the tree's own (the root's parent lives
 * in another: a container's init, a task that unshared) it also writes netns.img: the loopback
 * link's state, its addresses, the routes the tree added (not the kernel's own), and the sysctls of
 * netns_sysctls(). Refused, naming the namespace: any link but lo, nftables rules, a legacy
 * iptables table in use. dump_netns_home()/dump_netns_back() leave it and enter it again.
 * Contract, restore (restore-netns.c): restore_netns() runs before any socket is made: with
 * --join-ns net:PATH the restorer enters that namespace (the caller made it, as it wants it);
 * else, with a netns.img, the restorer makes a new namespace (unshare) and rebuilds it from the
 * image; the tasks it creates inherit it. 0 or -errno, logged. */
#ifndef CRIU_LITE_NETNS_H
#define CRIU_LITE_NETNS_H

#include <stddef.h>

struct dump_shared;
struct dump_tree_list;
struct restore_ctx;

/* The sysctls of a namespace that are kept, below /proc/sys/net/. */
const char *const *netns_sysctls(size_t *n);

int dump_netns_check(struct dump_shared *sh, struct dump_tree_list *tl);
int dump_netns_home(struct dump_shared *sh);
int dump_netns_back(struct dump_shared *sh);
void dump_netns_free(struct dump_shared *sh);

int restore_netns(struct restore_ctx *c);

#endif
