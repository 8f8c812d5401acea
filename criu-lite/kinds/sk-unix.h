/* sk-unix: unix sockets (socketpairs and named sockets; stream, datagram and
 * seqpacket; listeners with their pending connections) at dump and restore.
 *
 * Contract, dump (dump-unix.c): dump_unix_sk() saves the socket behind one fd
 * of a task ("socket:[INO]"), once per socket (its one open file description):
 * what sock_diag tells (sockdiag.h: type, state, name, peer, pending
 * connections, shutdown), its options, and its receive queue read without
 * consuming it (dump-unix-queue.c) into unixsk-data-<id>.img with its crc32c;
 * the files in flight (SCM_RIGHTS) of its datagram or seqpacket messages as
 * files of the dump (dump-inflight.c), by message (unix_sk_scm). Other socket
 * families, files in flight on a stream socket or nested in a socket in
 * flight, out-of-band data, chrooted socket paths are refused, naming pid, fd
 * and socket. dump_unix_resolve() runs once every task is saved: every peer and
 * every pending client must be a socket of the dump, or gone (closed); a
 * peer outside the dumped tree is refused, naming both, unless the socket is
 * --external unix:[INO] and the peer has a name (ext_peer: restore connects
 * to it again).
 * Contract, restore (restore-unix.c): the first restore_unix_open() reads and
 * checks every FT_UNIXSK entry and its data, then creates every socket of the
 * dump in the restorer (restore-unix-build.c): listeners bound and listening,
 * connected pairs (a socketpair, or a connect() to the listener that owns the
 * name an accepted end carries), clients of pending connections connected in
 * accept order, named sockets rebound (a stale socket file is removed first
 * only if nothing listens there), queued data sent again from the peer end
 * with its files in flight (restore-inflight.c), options and shutdowns set.
 * Each entry gets an O_CLOEXEC dup of its socket; restore_unix_done() closes
 * the table.
 */
#ifndef CRIU_LITE_SK_UNIX_H
#define CRIU_LITE_SK_UNIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "files.pb-c.h"

#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#endif
#ifndef SCM_PIDFD
#define SCM_PIDFD 0x04
#endif
#define USK_SCM_MAX 253 /* fds one message can carry (the kernel's SCM_MAX_FD) */

struct dump_ctx;
struct restore_ctx;
struct proc_fdinfo;

/* "socket:[INO]", the /proc/PID/fd link of any socket. */
static inline bool sock_link(const char *link)
{
	return strncmp(link, "socket:[", 8) == 0;
}

/* "unixsk-data-<id>.img" */
void unix_data_name(char *buf, size_t len, uint32_t id);

/* The unix sockets saved so far by one dump. */
struct dump_unix;

/* One fd of a task on a socket. */
struct dump_unix_fd {
	const char *what; /* "pid 12 fd 3", for messages */
	const char *link; /* "socket:[INO]" */
	int fd;		  /* the fd in the task */
	uint32_t flags;	  /* its status flags (fdinfo, without O_CLOEXEC) */
	const struct stat *st;
	const struct proc_fdinfo *fi;
};

/* The socket of f, saved now if it is new; its id (from 1) in *id. *u is created on first use. */
int dump_unix_sk(struct dump_ctx *c, struct dump_unix **u, const struct dump_unix_fd *f,
		 uint32_t *id);
/* Once every task is saved: peers and pending clients all in the dump (NULL: no socket). */
struct opts;
int dump_unix_resolve(struct dump_unix *u, const struct opts *o);
/* The files.img record of socket id, valid until dump_unix_free(). */
UnixSkEntry *dump_unix_entry(struct dump_unix *u, uint32_t id);
void dump_unix_free(struct dump_unix **u);

/* ---- the receive queue (dump-unix-queue.c) ---- */

/* The bound address of a sender (len 0: unnamed); a path without its NUL. */
struct usk_addr {
	size_t len;
	char name[108];
};

/* File descriptors in flight (SCM_RIGHTS) that one message of a datagram or seqpacket socket
 * carries (msg: its index). fds: the dumper's own copies (close-on-exec), in the message's
 * order; -1 once taken. */
struct usk_scm {
	uint32_t msg;
	int *fds;
	size_t n;
};

/* Every byte queued for reading on a socket, and for a datagram or seqpacket socket the
 * length of each message; for a datagram socket also each message's sender (from[i]); the
 * file descriptors in flight, in queue order. */
struct usk_queue {
	char *data;
	size_t len;
	uint32_t *msg_lens;
	struct usk_addr *from;
	size_t n_msgs;
	bool named_from; /* some message has a named sender */
	struct usk_scm *scm;
	size_t n_scm;
};

/* Read the receive queue of fd (a copy of the task's socket, of the given SOCK_* type) with
 * MSG_PEEK through SO_PEEK_OFF, which is put back as it was: the queue is left untouched.
 * rcv_shut: the socket's RCV_SHUTDOWN (for seqpacket, where a peek past the end gives 0).
 * inq: SIOCINQ (the bytes a stream or seqpacket socket holds, checked against what was
 * read). With take_fds the files in flight of a datagram or seqpacket socket come as copies
 * in q->scm (a peek hands them out like a read); else, and on a stream socket, they are
 * refused. Refuses out-of-band data; what names the socket. */
int usk_queue_peek(int fd, int type, bool rcv_shut, uint32_t inq, bool take_fds, const char *what,
		   struct usk_queue *q);
/* Frees q and closes every fd in flight it still holds. */
void usk_queue_free(struct usk_queue *q);

/* ---- restore ---- */

/* An fd of the restorer (O_CLOEXEC) for the FT_UNIXSK entry fe, or -errno. */
int restore_unix_open(struct restore_ctx *c, const FileEntry *fe);
/* Close every socket the table holds and free it (safe when there is none). */
void restore_unix_done(struct restore_ctx *c);

#endif
