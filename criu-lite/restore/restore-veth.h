/* restore-veth: the veth pairs of a tree's own network namespace, made again (netns.proto
 * netns_veth).
 *
 * Contract: restore_veth_prepare() runs in the restorer's own namespace, before the new one is
 * made: it matches each --external veth[INNER]:OUTER[@BRIDGE] to a veth of the image (one that
 * names none is refused), opens a NETLINK_ROUTE socket and an fd of this namespace, and checks
 * that no link of the outer ends' names exists here (else refused, naming it and suggesting
 * --external) and that each master exists. restore_veth_make(), inside the new namespace (sk is
 * a socket there), makes each pair in one request: the inner end there, the outer end here
 * (IFLA_NET_NS_FD), each with its saved name (or --external's), MTU, MAC and queue length;
 * then the inner end's flags and alias, the outer end's master and flags. restore_veth_done()
 * frees it; with ok false it first deletes every outer end it made (its inner end goes with
 * it). All 0 or -errno, logged; *out is NULL when the image has no veth. */
#ifndef CRIU_LITE_RESTORE_VETH_H
#define CRIU_LITE_RESTORE_VETH_H

#include <stdbool.h>

#include "netns.pb-c.h"

struct nl_sock;
struct opts;
struct restore_veths;

int restore_veth_prepare(const struct opts *o, const NetnsEntry *e, struct restore_veths **out);
int restore_veth_make(struct restore_veths *rv, const NetnsEntry *e, struct nl_sock *sk);
void restore_veth_done(struct restore_veths *rv, bool ok);

#endif
