/* sk-packet: AF_PACKET sockets (SOCK_RAW, SOCK_DGRAM) at dump and restore.
 *
 * Contract, dump (dump-packet.c): dump_packet_sk() saves the socket behind one fd of a task
 * ("socket:[INO]"), once per socket, through a copy of the fd (pidfd_getfd: the same socket):
 * type, the protocol it receives and the interface it is bound to, by name (getsockname's
 * sockaddr_ll), the options of sk-packet.proto (PACKET_VERSION, RESERVE, AUXDATA, ORIGDEV,
 * VNET_HDR, TIMESTAMP, LOSS, QDISC_BYPASS, IGNORE_OUTGOING, TX_HAS_OFF, COPY_THRESH),
 * SO_SNDBUF/SO_RCVBUF where they differ from a new socket's, a classic BPF filter, its
 * multicast and promiscuous memberships (sock_diag's packet_diag PACKET_DIAG_MCLIST), its
 * status flags. Refused, naming pid, fd and socket: mmap rings (PACKET_RX_RING/TX_RING), a
 * fanout group (PACKET_FANOUT), packets queued for reading (SO_MEMINFO: they can't be
 * re-injected as received), SOCK_PACKET, a PACKET_VNET_HDR_SZ other than PACKET_VNET_HDR's, a
 * SOL_SOCKET option that differs from a new socket's and
 * is not restored. Never read: PACKET_STATISTICS (reading resets the task's counters). The entry
 * is malloc'd: dump_packet_free().
 * Contract, restore (restore-packet.c): restore_packet_check() checks every FT_PACKETSK entry of
 * files.img before anything is created (-EBADMSG naming the file), and that every interface it
 * names exists in the restore's network namespace (-ENODEV naming the socket and the
 * interface). restore_packet_open() creates the socket of one entry in the restorer: socket()
 * with protocol 0 (it receives nothing yet), options and filter, then bind() to the interface of
 * the same name and the protocol (from then on it receives), the memberships added as many times
 * as they were, O_NONBLOCK; an O_CLOEXEC fd, or -errno (logged). Not kept: the packets that
 * pass while the tree is checkpointed, the statistics. */
#ifndef CRIU_LITE_SK_PACKET_H
#define CRIU_LITE_SK_PACKET_H

#include "files.pb-c.h"

#ifndef PACKET_VNET_HDR_SZ
#define PACKET_VNET_HDR_SZ 24
#endif

struct dump_sk_fd;
struct restore_ctx;

int dump_packet_sk(const struct dump_sk_fd *f, PacketSkEntry **e);
void dump_packet_free(PacketSkEntry *e);

int restore_packet_check(struct restore_ctx *c);
int restore_packet_open(struct restore_ctx *c, const FileEntry *fe);

#endif
