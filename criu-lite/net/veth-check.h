/* veth-check: can this host make the veth pairs of a tree's own network namespace again (the
 * restore of netns.img, restore-veth.c)? For `criu-lite check`.
 *
 * Contract: veth_check() forks a child that makes two throwaway network namespaces and, from the
 * second, one veth pair with its peer in the first (IFLA_NET_NS_FD, as a restore makes an outer
 * end in the restorer's namespace); nothing of it touches the caller's namespace, and both go
 * with the child. 0 when that works; else -errno with why filled (no netns, no CONFIG_VETH, no
 * CAP_NET_ADMIN, ...). Nothing is logged. */
#ifndef CRIU_LITE_VETH_CHECK_H
#define CRIU_LITE_VETH_CHECK_H

#include <stddef.h>

int veth_check(char *why, size_t len);

#endif
