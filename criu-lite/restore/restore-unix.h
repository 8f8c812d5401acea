/* restore-unix: the table of unix sockets one restore creates (see sk-unix.h),
 * shared by its four files.
 *
 * Contract: restore-unix.c builds the table from files.img (every FT_UNIXSK
 * entry checked, peers and pending clients linked, queued data read and
 * checked) and hands the sockets out; usk_build() (restore-unix-build.c)
 * creates every socket of the table in the restorer, connected, filled and
 * with its options, or returns -errno (logged), leaving what it made in the
 * table for restore_unix_done(); restore-unix-name.c binds names (removing a
 * stale socket file first) and connects to them; restore-unix-queue.c sends
 * the queued data again. Temporary sockets (stand-ins for gone peers,
 * temporary listeners and senders) never outlive usk_build().
 */
#ifndef CRIU_LITE_RESTORE_UNIX_H
#define CRIU_LITE_RESTORE_UNIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "criu-lite/dump/sockdiag.h"
#include "files.pb-c.h"

/* One socket of the dump. */
struct rsk {
	const UnixSkEntry *u;
	uint32_t file_id;
	char what[64];	      /* "unix socket 3 (socket:[1234] at dump)" */
	struct rsk *peer;     /* its peer in the table; NULL: none, or gone (u->peer 0) */
	struct rsk *listener; /* a client whose connection is not accepted yet: the listener */
	char *data;	      /* the checked queued data, until it is sent */
	int fd;		      /* the socket; -1 until created */
	int mate;	      /* a stand-in for its gone peer, until its data is in; -1: none */
	bool paired;	      /* made by socketpair() with its peer or mate */
	bool bound;	      /* usk_bind() bound its name */
};

/* A listener made only to accept one end of a pair with its name (the dumped listener
 * that owned the name was closed). */
struct rsk_tmp_listener {
	const UnixSkEntry *u; /* the end whose name it takes */
	int fd;
};

struct restore_ctx;

struct restore_unix {
	struct restore_ctx *c; /* for the files in flight (restore-inflight.c) */
	struct rsk *v;
	size_t n;
	struct rsk_tmp_listener *tl;
	size_t ntl;
	struct sockdiag *diag; /* for stale socket files; opened on first need */
};

struct rsk *usk_find(struct restore_unix *t, uint32_t ino);
int usk_build(struct restore_unix *t);
/* A new nonblocking, O_CLOEXEC unix socket, or -errno (logged). */
int usk_new_sock(int type, const char *what);
/* Send s's queued data again, from its peer end (restore-unix-queue.c). */
int usk_queue_data(struct restore_unix *t, struct rsk *s);

/* ---- names (restore-unix-name.c) ---- */

/* The address of u's name. */
void usk_addr(const UnixSkEntry *u, struct sockaddr_un *a, socklen_t *len);
/* " /path" or " @abstract", printable, for messages ("" without a name). */
void usk_name_str(const UnixSkEntry *u, char *buf, size_t len);
/* Bind fd (a socket of the given type) to u's name; a path left by a dead socket is
 * removed first, one in use or not a socket refuses. Sets the file's mode and owner as
 * dumped. what names the socket. */
int usk_bind(struct restore_unix *t, int fd, int type, const UnixSkEntry *u, const char *what);
/* connect() fd (nonblocking) to the name of to. */
int usk_connect(int fd, const UnixSkEntry *to, const char *what);
/* fd connected to u's peer outside the tree, by its name (ext_peer). 0 or -errno (logged). */
int usk_connect_ext(int fd, const UnixSkEntry *u, const char *what);
/* A relative path name of u is used from its name_dir: the restorer's cwd goes there (*back:
 * the way back, -1 when it did not move) and back with usk_leave_dir(). 0 or -errno (logged). */
int usk_enter_dir(const UnixSkEntry *u, int *back, const char *what);
void usk_leave_dir(int back);
/* Remove the path of u again (it was gone at dump): after every connect to it. */
void usk_unlink_gone(const UnixSkEntry *u, const char *what);

#endif
