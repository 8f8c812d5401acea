/* xfer-conn: the TCP connections of the page server, authenticated and encrypted.
 *
 * Contract:
 * - By default every connection is TLS 1.3 (GnuTLS) with a pre-shared key: both ends read the
 *   same key file (--auth-key FILE: at least 32 bytes, of which the SHA-256 is the PSK, so any
 *   secret file will do; a file others may read or write is refused). A peer with another key
 *   fails the handshake, and is refused with a message saying the keys differ; a peer that
 *   speaks plaintext to a TLS end (or TLS to a plaintext end) is refused, naming it.
 *   xfer_auth_insecure() gives plaintext without authentication, only when the user asked for
 *   it (--insecure; the commands warn).
 * - xfer_listen() binds and listens (IPv4 or IPv6 literal address, NULL or "": "::"; port 0
 *   picks one, read back with xfer_listen_port()). xfer_accept() takes the next connection of
 *   the listening socket as accept() would (it waits for one unless the socket is O_NONBLOCK:
 *   a server that must stay responsive polls it first), then does the handshake within
 *   timeout_ms (a peer that connects and says nothing does not hold a server up);
 *   xfer_connect() connects and does the handshake, both within timeout_ms (<= 0: no limit).
 *   TCP_NODELAY is set: a fault's request is never held back.
 * - Refusals: a peer with another key (or no criu-lite peer) -EACCES, "... TLS handshake
 *   failed: the peer's key is not ours (or it is not a criu-lite peer)"; a plaintext peer of a
 *   TLS end -EPROTO ("the peer does not speak TLS") or, when it just closed, -ECONNRESET; a TLS
 *   peer of a plaintext end -EPROTO at the first read ("the peer speaks TLS"); no handshake
 *   within timeout_ms -ETIMEDOUT.
 * - xfer_conn_read() reads exactly len bytes (-ENODATA: the peer closed before the first one,
 *   -EPIPE: in the middle); xfer_conn_writev() writes all of iov (a peer gone: -EPIPE or
 *   -ECONNRESET, never SIGPIPE); with timeout_ms > 0 set by xfer_conn_timeout() either fails
 *   with -ETIMEDOUT when the peer makes no progress that long. They fit xfer-msg.h's
 *   xfer_read_fn / xfer_writev_fn with the conn as ctx, and so have no err: the message of the
 *   last failure is xfer_conn_error()'s (valid until the next call on the conn). After a
 *   failed read or write a connection is good only for xfer_conn_close(). A connection is used
 *   by one thread at a time (the page server gives each connection its own); a loaded key may
 *   be shared by any number of connections and threads, and must outlive them.
 * - xfer_conn_pending(): bytes already taken from the socket and buffered, decrypted or not
 *   (poll() on the fd does not see them): a poll loop reads those first. (Bytes of a record not
 *   whole yet count too: a read then waits for the rest of it, which the peer is sending.)
 * Errors are -errno with err filled ("page server 198.18.0.2:7001: TLS handshake failed: the
 * peer's key is not ours (or it is not a criu-lite peer)"; a server's messages name its peer
 * "page client ADDR:PORT"); nothing here prints. */
#ifndef CRIU_LITE_XFER_CONN_H
#define CRIU_LITE_XFER_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "images/img.h"

struct xfer_auth; /* a loaded key, or plaintext */
struct xfer_conn;

int xfer_auth_load(const char *key_file, struct xfer_auth **out, struct img_err *err);
int xfer_auth_insecure(struct xfer_auth **out);
bool xfer_auth_is_insecure(const struct xfer_auth *a);
void xfer_auth_free(struct xfer_auth *a);
/* "3.7.9": the TLS library's version (check) */
const char *xfer_tls_version(void);

/* a listening socket (close() it); -errno */
int xfer_listen(const char *addr, uint16_t port, struct img_err *err);
int xfer_listen_port(int lsk); /* the port it is bound to, or -errno */
int xfer_accept(int lsk, const struct xfer_auth *a, int timeout_ms, struct xfer_conn **out,
		struct img_err *err);
/* xfer_accept()'s handshake on fd, a connection accept()ed by the caller (a server whose
 * connections each have a thread does their handshakes there): fd is taken, also on failure */
int xfer_conn_server(int fd, const struct xfer_auth *a, int timeout_ms, struct xfer_conn **out,
		     struct img_err *err);
int xfer_connect(const char *addr, uint16_t port, const struct xfer_auth *a, int timeout_ms,
		 struct xfer_conn **out, struct img_err *err);

int xfer_conn_read(void *conn, void *buf, size_t len);
int xfer_conn_writev(void *conn, const struct iovec *iov, int iovcnt);
void xfer_conn_timeout(struct xfer_conn *c, int timeout_ms);
size_t xfer_conn_pending(const struct xfer_conn *c);
int xfer_conn_fd(const struct xfer_conn *c);
const char *xfer_conn_peer(const struct xfer_conn *c); /* "198.18.0.2:7001", "[::1]:7001" */
/* the last failure of c, with its peer ("page server 198.18.0.2:7001: read: the peer closed the
 * connection"); "" when none */
const char *xfer_conn_error(const struct xfer_conn *c);
/* what protects c: "TLS1.3 ECDHE-PSK/X25519 AES-128-GCM", or "plaintext" */
const char *xfer_conn_cipher(const struct xfer_conn *c);
void xfer_conn_close(struct xfer_conn *c);

#endif
