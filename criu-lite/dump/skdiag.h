/* skdiag: one sock_diag walk (NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY, NLM_F_DUMP) through libnl-3,
 * for the families whose request is a plain struct (netlink_diag, packet_diag).
 *
 * Contract: skdiag_walk() sends the request req (len bytes: a netlink_diag_req, a
 * packet_diag_req, ...) in criu-lite's network namespace and calls fn(h, arg) for every reply
 * message until the dump ends or fn returns non-zero (then the walk stops: 1 is "found", any
 * other value is returned as it is). 0 when fn never stopped it, 1 when it did, -errno (logged,
 * naming what) on a failure of the walk itself. */
#ifndef CRIU_LITE_SKDIAG_H
#define CRIU_LITE_SKDIAG_H

#include <linux/netlink.h>
#include <stddef.h>

int skdiag_walk(const void *req, size_t len, int (*fn)(const struct nlmsghdr *h, void *arg),
		void *arg, const char *what);

#endif
