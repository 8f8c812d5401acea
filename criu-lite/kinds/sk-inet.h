/* sk-inet: AF_INET and AF_INET6 sockets (TCP: unbound, bound, listening, established; UDP and
 * UDP-Lite: unbound, bound, connected, shut down) at dump and restore.
 *
 * Contract, dump (dump-inet.c, dump-tcp.c): dump_inet_sk() saves the socket behind one fd of a
 * task ("socket:[INO]"), once per socket, through a copy of the fd (pidfd_getfd: the same
 * socket): family, type, protocol, state, addresses, shutdown (sock_diag), the options of
 * sk-inet.proto, a listener's backlog. Refused, naming pid, fd and socket: raw and other
 * protocols, a held TCP connection of another network namespace than the tree's (without
 * --tcp-close; the dump reads each socket inside its own namespace: dump-sknetns.h), a listener
 * with connections not accepted yet, a UDP socket with datagrams queued, TCP states other than
 * LISTEN, ESTABLISHED and CLOSE, an established connection without --tcp-established or
 * --tcp-close. With --tcp-established an established connection is locked (the network lock of
 * net/netlock.h: its packets are dropped, not answered), put in repair mode (TCP_REPAIR) and read:
 * sequence numbers, both queues (into inetsk-data-<id>.img with its crc32c), MSS, window scale,
 * SACK, timestamps, window. The dump holds a copy of each such socket until dump_inet_finish():
 * when the tree was killed, the copies are closed still in repair mode (nothing is sent: no FIN, no
 * RST) and the lock stays for the restore to lift; when the tree runs on (a failed dump,
 * --leave-running), repair mode is switched off (without a window probe) and the lock lifted: the
 * connections go on as if nothing happened. With --tcp-close the connection is saved as closed.
 * Contract, restore (restore-inet.c, restore-tcp.c): restore_inet_check() reads and checks every
 * entry first and, with --tcp-established, takes the dump's network lock in the restore's own
 * network namespace too (another host takes the peer's packets now). restore_inet_open() creates
 * the socket of one FT_INETSK entry in the restorer with its options, bound, listening or
 * connected; an established TCP connection in repair mode (sequence numbers, queues, options,
 * window), kept in repair mode in a table until restore_inet_resume(), which, just before the tasks
 * run, switches repair off and sends what had not been sent yet; restore_inet_done() then lifts the
 * dump's network lock (after a successful restore only: after a failure the lock stays so a
 * retry finds the peer waiting, and the table's sockets are closed in repair mode, silently).
 * Without --tcp-established (or --tcp-close) a dump with established connections is refused.
 */
#ifndef CRIU_LITE_SK_INET_H
#define CRIU_LITE_SK_INET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "files.pb-c.h"

#ifndef ICMP_FILTER
#define ICMP_FILTER 1 /* <linux/icmp.h>, which clashes with <net/if.h> */
#endif
#define ISK_RCV_SHUTDOWN  1
#define ISK_SEND_SHUTDOWN 2

#ifndef SOL_UDPLITE
#define SOL_UDPLITE 136
#endif
#ifndef UDPLITE_SEND_CSCOV
#define UDPLITE_SEND_CSCOV 10
#define UDPLITE_RECV_CSCOV 11
#endif

struct dump_shared;
struct restore_ctx;
struct proc_fdinfo;

/* "inetsk-data-<id>.img" */
void inet_data_name(char *buf, size_t len, uint32_t id);
/* "criu-lite-<dump id>": the network lock's nftables table of a dump */
void inet_lock_name(char *buf, size_t len, uint32_t dump_id);

/* An option of the allow-list (sk_int_opt): level, name, the family it is read for (0: any),
 * whether only for datagram sockets (multicast: a TCP socket reads them, never takes them). */
struct sk_int_opt_def {
	int level, name, family;
	const char *str;
	bool dgram;
};
const struct sk_int_opt_def *sk_int_opts(size_t *n);
/* The entry of (level, name), or NULL: not one restore sets. */
const struct sk_int_opt_def *sk_int_opt_find(uint32_t level, uint32_t name);

/* A datagram socket of ours: UDP or UDP-Lite (isk_dgram_udp), or ICMP (a ping socket). */
static inline bool isk_dgram_udp(const InetSkEntry *e)
{
	return e->type == 2 /* SOCK_DGRAM */ && (e->protocol == 17 || e->protocol == 136);
}
static inline bool isk_dgram(const InetSkEntry *e)
{
	return isk_dgram_udp(e) || (e->type == 2 && (e->protocol == 1 || e->protocol == 58));
}

/* The TCP states a connection is held in (TCP_REPAIR): established and half-closed. Our FIN
 * took a sequence number in FIN_WAIT1/2, LAST_ACK, CLOSING (acked in FIN_WAIT2 only); the peer's
 * in CLOSE_WAIT, LAST_ACK, CLOSING. (TCP_* numbers: netinet/tcp.h) */
static inline bool tcp_held_state(uint32_t st)
{
	return st == 1 || st == 4 || st == 5 || st == 8 || st == 9 || st == 11;
}
static inline bool tcp_our_fin(uint32_t st)
{
	return st == 4 || st == 5 || st == 9 || st == 11;
}
static inline bool tcp_peer_fin(uint32_t st)
{
	return st == 8 || st == 9 || st == 11;
}

/* ---- dump ---- */

struct dump_inet;

/* One fd of a task on an inet socket. */
struct dump_inet_fd {
	const char *what; /* "pid 12 fd 3", for messages */
	const char *link; /* "socket:[INO]" */
	pid_t pid;
	int fd;		/* the fd in the task */
	uint32_t flags; /* its status flags (fdinfo, without O_CLOEXEC) */
	const struct stat *st;
	uint32_t netns_id; /* its network namespace (dump-sknetns.h: 0 the tree's), entered */
};

/* The socket of f, saved into *e (a new entry owned by sh's table; id from 1). */
int dump_inet_sk(struct dump_shared *sh, const struct dump_inet_fd *f, InetSkEntry **e);
/* Once every task's files are seen: every connection kept by dump_inet_sk() locked (one
 * transaction), held in repair mode and read. 0 or -errno (logged). */
int dump_inet_hold_all(struct dump_shared *sh);
/* After the tree was released: killed (the connections were dumped for good) or not. */
void dump_inet_finish(struct dump_shared *sh, bool killed);

/* ---- restore ---- */

/* Before anything is created: every FT_INETSK entry checked, the queues of each established
 * connection read and checked (a dump with such connections and neither --tcp-established
 * nor --tcp-close is refused). 0 or -errno (logged). */
int restore_inet_check(struct restore_ctx *c);
/* An fd of the restorer (O_CLOEXEC) for the FT_INETSK entry fe, or -errno. */
int restore_inet_open(struct restore_ctx *c, const FileEntry *fe);
/* Before the tasks run: every established connection out of repair mode, its unsent data
 * sent. 0 or -errno (logged). */
int restore_inet_resume(struct restore_ctx *c);
/* At the end: ok (the tasks run): the dump's network lock is lifted. The table is closed. */
void restore_inet_done(struct restore_ctx *c, bool ok);

#endif
