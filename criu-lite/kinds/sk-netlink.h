/* sk-netlink: AF_NETLINK sockets (any protocol: NETLINK_ROUTE, NETLINK_GENERIC,
 * NETLINK_KOBJECT_UEVENT, ...; SOCK_RAW or SOCK_DGRAM) at dump and restore.
 *
 * Contract, dump (dump-netlink.c): dump_netlink_sk() saves the socket behind one fd of a task
 * ("socket:[INO]"), once per socket, through a copy of the fd (pidfd_getfd: the same socket):
 * type, protocol, its port id when bound (getsockname), every multicast group it is a member
 * of (NETLINK_LIST_MEMBERSHIPS: groups above 32 too), the peer it is connected to (getpeername,
 * and sock_diag's netlink_diag for whether it is connected at all), the NETLINK_* flags
 * (NETLINK_PKTINFO, BROADCAST_ERROR, NO_ENOBUFS, LISTEN_ALL_NSID, CAP_ACK, EXT_ACK,
 * GET_STRICT_CHK), SO_PASSCRED, SO_SNDBUF/SO_RCVBUF where they differ from a new socket's, a
 * classic BPF filter, its status flags. Refused, naming pid, fd and socket: messages queued for
 * reading (SO_MEMINFO: they can't be put back), a dump (NLM_F_DUMP) in progress on it (the
 * kernel's half of it can't be rebuilt), mmap rings (kernels before 4.6), a SOL_SOCKET option that
 * differs from a new socket's and is not restored. The entry is malloc'd: dump_netlink_free().
 * Contract, restore (restore-netlink.c): restore_netlink_check() checks every FT_NETLINKSK entry
 * of files.img before anything is created (-EBADMSG naming the file). restore_netlink_open()
 * creates the socket of one entry in the restorer: socket(), options, filter, bind() to its port
 * id (one taken in the restore's network namespace refuses, naming it), every group joined
 * (NETLINK_ADD_MEMBERSHIP), connect() to its peer, O_NONBLOCK; an O_CLOEXEC fd, or -errno
 * (logged). Not kept: messages that reach its groups between the dump and the restore. */
#ifndef CRIU_LITE_SK_NETLINK_H
#define CRIU_LITE_SK_NETLINK_H

#include "files.pb-c.h"

struct dump_sk_fd;
struct restore_ctx;

/* "NETLINK_ROUTE", or NULL for a protocol without a name here. */
const char *netlink_proto_name(uint32_t protocol);

int dump_netlink_sk(const struct dump_sk_fd *f, NetlinkSkEntry **e);
void dump_netlink_free(NetlinkSkEntry *e);

int restore_netlink_check(struct restore_ctx *c);
int restore_netlink_open(struct restore_ctx *c, const FileEntry *fe);

#endif
