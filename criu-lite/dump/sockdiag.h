/* sockdiag: unix sockets as the kernel's sock_diag netlink interface
 * (NETLINK_SOCK_DIAG, <linux/unix_diag.h>) describes them, through libnl-3.
 *
 * Contract: sockdiag_open() opens one netlink socket (in criu-lite's network
 * namespace: sockets of another one are not seen); sockdiag_unix_get() asks
 * for one unix socket by inode with its name, VFS identity, peer, pending
 * connections (a listener), queue lengths and shutdown state; it returns
 * -ENOENT without logging when the kernel knows no such unix socket (closed,
 * or not a unix socket), any other error logged. sockdiag_unix_walk() walks
 * every unix socket of the namespace in some states (every listener, say). sockdiag_unix_parse()
 * decodes one reply message (it is what both use; exposed for unit tests).
 * A struct usk_diag owns its icons array: usk_diag_free().
 */
#ifndef CRIU_LITE_SOCKDIAG_H
#define CRIU_LITE_SOCKDIAG_H

#include <linux/netlink.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define USK_NAME_MAX 108 /* sizeof(sun_path) */

struct usk_diag {
	uint32_t ino;
	uint8_t type;	 /* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET */
	uint8_t state;	 /* TCP_ESTABLISHED, TCP_CLOSE, TCP_LISTEN */
	size_t name_len; /* 0: not bound; an abstract name starts with a NUL byte */
	char name[USK_NAME_MAX];
	bool has_vfs; /* bound to a path: the socket file's inode and device */
	uint32_t vfs_ino;
	dev_t vfs_dev;
	bool has_peer; /* connected; peer 0: the peer has no inode (gone, or not accepted yet) */
	uint32_t peer;
	uint32_t *icons; /* a listener: the client inode of each pending connection */
	size_t n_icons;
	uint32_t rq, wq;  /* bytes to read (datagram: the first message), bytes sent and still
			   * queued; a listener: pending connections and its backlog */
	uint8_t shutdown; /* RCV_SHUTDOWN 1 | SEND_SHUTDOWN 2 */
};

struct sockdiag;

int sockdiag_open(struct sockdiag **out);
void sockdiag_close(struct sockdiag *d);
int sockdiag_unix_get(struct sockdiag *d, uint32_t ino, struct usk_diag *out);
/* fn(socket, arg) for each unix socket of the namespace in one of the states (a mask of
 * 1 << TCP_*); a non-zero return of fn ends the walk and is returned. */
int sockdiag_unix_walk(struct sockdiag *d, uint32_t states,
		       int (*fn)(const struct usk_diag *, void *), void *arg);
/* One SOCK_DIAG_BY_FAMILY reply: 0, or -EBADMSG (logged) if it is malformed. */
int sockdiag_unix_parse(const struct nlmsghdr *h, struct usk_diag *out);
void usk_diag_free(struct usk_diag *u);

#endif
