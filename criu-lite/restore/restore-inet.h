/* restore-inet: the table of inet sockets one restore creates (sk-inet.h), shared by
 * restore-inet.c (the table, the checks, sockets with their options, bound, listening or
 * connected) and restore-tcp.c (established connections through TCP_REPAIR). */
#ifndef CRIU_LITE_RESTORE_INET_H
#define CRIU_LITE_RESTORE_INET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "files.pb-c.h"

/* One socket of the dump. */
struct risk {
	const InetSkEntry *e;
	uint32_t file_id;
	char what[96]; /* "tcp socket 3 (127.0.0.1:80 -> 127.0.0.1:4000)" */
	char *data;    /* an established connection's queues, checked: receive then send */
	int fd;	       /* -1 until created */
	bool repair;   /* in repair mode until restore_inet_resume() */
};

struct restore_inet {
	struct risk *v;
	size_t n;
	bool resumed;
};

/* The options of s on fd (before bind()). 0 or -errno (logged). */
int risk_set_opts(const struct risk *s, int fd);
/* e's local (peer) address as a sockaddr: its length. */
socklen_t risk_sockaddr(const InetSkEntry *e, bool peer, struct sockaddr_storage *ss);
/* The address e's socket binds to (its local one; see restore-inet.c for when not quite). */
socklen_t risk_bind_addr(const InetSkEntry *e, struct sockaddr_storage *ss);
/* Create s's socket (e->tcp set, not closed) in repair mode: bound, connected, its queues,
 * options and window in place; s->fd. 0 or -errno (logged). */
int rtcp_create(struct risk *s);
/* s out of repair mode, its unsent data sent, its shutdown set, half-closed as it was. 0 or
 * -errno (logged). */
int rtcp_resume(struct risk *s);
/* s's queued datagrams (UDP): checked (0 or -EBADMSG), given again to fd (restore-udp-queue.c;
 * 0 or -errno, logged). */
int rudp_check(const struct risk *s);
int rudp_queue(const struct risk *s, int fd);
/* s (out of repair mode) takes its peer's FIN (fin) or its peer's ACK of our FIN again and
 * reaches state want (restore-tcp-fin.c). 0 or -errno (logged). */
int rtcp_peer_segment(const struct risk *s, bool fin, int want);

#endif
