/* netlock: the network lock. While a tree's established TCP connections are dumped and until
 * they are restored (on this host or another), every packet of them is dropped, in both
 * directions, so that neither end answers the other with a RST: the peer sees a delay, its
 * retransmissions reach the restored socket once the lock is gone.
 *
 * Contract:
 * - The lock is one nftables table of family inet, named by the caller, in the network
 *   namespace the calling thread is in. A regular chain `conns` holds two rules a connection
 *   (its 4-tuple each way: `ip saddr A ip daddr B tcp sport P tcp dport Q counter drop` and the
 *   reverse; ip6 for AF_INET6, ip for an AF_INET6 connection whose two ends are v4-mapped, as
 *   such a socket sends IPv4 packets), after one that lets packets marked NETLOCK_BYPASS_MARK
 *   through; the base chains `input` and `output` (type filter,
 *   priority raw = -300: before conntrack, mangle and the usual filter tables at 0) send TCP
 *   there. Loopback connections are dropped on output, before they could reach input.
 * - A name is 1 to 64 characters of [A-Za-z0-9_-], not starting with a digit or '-' (nft's
 *   parser takes no other table name); anything else is refused with -EINVAL before nft sees
 *   it. A name nft reads as a keyword ("tcp", "table") is refused by nft (-EINVAL, logged).
 * - Each call is one nftables transaction: it takes effect whole or not at all, so a failed
 *   lock leaves the namespace as it found it (with the table of that name it held before, if
 *   any). Errors are -errno, logged once naming the table and carrying libnftables' own
 *   message; the errno is the one nft reports (EPERM without CAP_NET_ADMIN), EINVAL when nft
 *   refused the command text itself.
 * - Nothing is printed to stdout: libnftables' output and error streams are buffered.
 */
#ifndef CRIU_LITE_NET_NETLOCK_H
#define CRIU_LITE_NET_NETLOCK_H

#include <stddef.h>
#include <stdint.h>

#define NETLOCK_NAME_MAX 64
/* Packets with this mark (SO_MARK) go through a lock: the restore's own, made for a held
 * connection (restore-tcp-fin.c). */
#define NETLOCK_BYPASS_MARK 0xc1e1f1a7u

/* One TCP connection, as the local end sees it. family AF_INET or AF_INET6; addresses in network
 * byte order (an AF_INET address in the first 4 bytes); ports in host byte order. */
struct netlock_conn {
	int family;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
};

/* Drop every packet of the connections c[0..n) in both directions, in the network namespace the
 * caller is in, until netlock_unlock(name): one nftables table of family inet named `name` (a
 * caller-chosen name such as "criu-lite-<dump id hex>"), with chains on the input and output
 * hooks (priority so it runs before the usual filter tables) that drop what matches each
 * connection's 4-tuple either way. A table of that name that exists already is replaced. All or
 * nothing: on failure nothing is left behind. 0 or -errno, logged once naming the table and
 * libnftables' own error text. n == 0 is allowed (an empty table: restore still unlocks it). */
int netlock_lock(const char *name, const struct netlock_conn *c, size_t n);

/* Remove the table `name` again: 0 also when there is none (never locked, or unlocked already);
 * -errno logged. */
int netlock_unlock(const char *name);

/* Whether the caller's network namespace has any nftables table: 1 with the first ("table inet
 * NAME") in first, 0 for none, -errno (logged). */
int netlock_tables(char *first, size_t len);

/* Whether locking is possible here (libnftables works, the kernel has nf_tables, we may change
 * rules): 0, or -errno with a one-line reason in why. Leaves nothing behind (e.g. create and
 * delete a probe table with a unique name). */
int netlock_check(char *why, size_t len);

#endif
