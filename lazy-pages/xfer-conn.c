/* xfer-conn: see xfer-conn.h (the keys: xfer-auth.c).
 *
 * How:
 * - Every socket is non-blocking; GnuTLS reads and writes it through our pull/push functions
 *   (recv, and sendmsg with MSG_NOSIGNAL: a closed peer is -EPIPE, never SIGPIPE), which keep
 *   the errno GnuTLS would lose. When a call would block we poll() the fd ourselves, so every
 *   wait has a deadline: the handshake's, or the connection's no-progress timeout.
 * - A write corks the session, queues the pieces and uncorks: a frame becomes full records,
 *   which gather in a buffer of the conn and leave in few sends; reads go through a read-ahead
 *   buffer, so that a record does not cost two recv() calls. Both are allocated with the conn:
 *   no read or write allocates (GnuTLS does, per record). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "lazy-pages/xfer-auth-int.h"

#define XFER_IO_BUF (256u << 10) /* TLS: bytes read ahead, records gathered before a send */

struct xfer_conn {
	int fd;
	gnutls_session_t tls; /* NULL: plaintext */
	int timeout_ms;	      /* of one wait for progress; 0: none */
	int sys_errno;	      /* of the last send/recv that failed under GnuTLS */
	uint8_t *rbuf;	      /* TLS: bytes read ahead of GnuTLS, rbuf[rpos..rlen) */
	size_t rpos, rlen;
	uint8_t *wbuf; /* TLS: records GnuTLS wrote that are not sent yet, wbuf[wpos..wlen) */
	size_t wpos, wlen;
	bool wgather;	  /* a write is under way: its records gather in wbuf */
	bool got_bytes;	  /* a byte came from the peer during the handshake */
	bool established; /* the handshake is done */
	bool first_read;  /* plaintext: the first read is still to come */
	char peer[96];	  /* "198.18.0.2:7001", "[::1]:7001" */
	char who[128];	  /* "page server 198.18.0.2:7001" */
	char error[512];  /* the last failure, "" when none */
	char cipher[96];  /* what the handshake agreed: describe() */
};

/* --- errors and waiting --- */

static int conn_fail(struct xfer_conn *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int conn_fail(struct xfer_conn *c, int code, const char *fmt, ...)
{
	size_t n = (size_t)snprintf(c->error, sizeof(c->error), "%s: ", c->who);
	va_list ap;

	if (n < sizeof(c->error)) {
		va_start(ap, fmt);
		vsnprintf(c->error + n, sizeof(c->error) - n, fmt, ap);
		va_end(ap);
	}
	return -code;
}

const char *xfer_conn_error(const struct xfer_conn *c)
{
	return c->error;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* poll fd for events until deadline (a now_ms() value; 0: forever): 0, -ETIMEDOUT, -errno */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };

	for (;;) {
		int64_t left = deadline ? deadline - now_ms() : -1;
		int n;

		if (deadline && left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

/* a read or write that would block: wait, at most the no-progress timeout */
static int wait_io(struct xfer_conn *c, short events, const char *what)
{
	int ret = wait_fd(c->fd, events, c->timeout_ms > 0 ? now_ms() + c->timeout_ms : 0);

	if (ret == -ETIMEDOUT)
		return conn_fail(c, ETIMEDOUT, "%s: no progress in %d ms", what, c->timeout_ms);
	if (ret)
		return conn_fail(c, -ret, "%s: poll: %s", what, strerror(-ret));
	return 0;
}

static short tls_events(const struct xfer_conn *c)
{
	return gnutls_record_get_direction(c->tls) ? POLLOUT : POLLIN;
}

/* EOF during a read of which got bytes came */
static int read_eof(struct xfer_conn *c, size_t got)
{
	if (!got)
		return conn_fail(c, ENODATA, "read: the peer closed the connection");
	return conn_fail(c, EPIPE,
			 "read: the peer closed the connection in the middle (%zu bytes in)", got);
}

/* a GnuTLS error of a read or write once the handshake is done */
static int tls_io_fail(struct xfer_conn *c, int r, const char *what)
{
	int e;

	switch (r) {
	case GNUTLS_E_PUSH_ERROR:
	case GNUTLS_E_PULL_ERROR:
		e = c->sys_errno ? c->sys_errno : EIO;
		return conn_fail(c, e, "%s: %s", what, strerror(e));
	case GNUTLS_E_MEMORY_ERROR:
		return conn_fail(c, ENOMEM, "%s: out of memory", what);
	case GNUTLS_E_DECRYPTION_FAILED:
	case GNUTLS_E_UNEXPECTED_PACKET_LENGTH:
	case GNUTLS_E_RECORD_OVERFLOW:
		return conn_fail(c, EBADMSG, "%s: TLS: %s (a damaged or forged record)", what,
				 gnutls_strerror(r));
	case GNUTLS_E_FATAL_ALERT_RECEIVED:
		return conn_fail(c, ECONNRESET, "%s: TLS: the peer sent alert \"%s\"", what,
				 gnutls_alert_get_name(gnutls_alert_get(c->tls)));
	default:
		return conn_fail(c, EPROTO, "%s: TLS: %s", what, gnutls_strerror(r));
	}
}

/* --- the transport under GnuTLS --- */

static void sys_fail(struct xfer_conn *c)
{
	if (errno != EAGAIN && errno != EINTR)
		c->sys_errno = errno;
	gnutls_transport_set_errno(c->tls, errno);
}

/* send what wbuf holds, as much as goes without waiting: 0 (empty now) or -1 with errno */
static int wbuf_flush(struct xfer_conn *c)
{
	while (c->wpos < c->wlen) {
		ssize_t n = send(c->fd, c->wbuf + c->wpos, c->wlen - c->wpos, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			sys_fail(c);
			return -1;
		}
		c->wpos += (size_t)n;
	}
	c->wpos = c->wlen = 0;
	return 0;
}

/* records out: into wbuf while a write gathers them (c->wgather), else straight to the socket,
 * after what wbuf still holds */
static ssize_t tls_push(gnutls_transport_ptr_t ptr, const giovec_t *iov, int iovcnt)
{
	struct xfer_conn *c = ptr;
	struct msghdr mh = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt };
	size_t total = 0;
	ssize_t n;

	for (int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	if (c->wgather && c->wlen + total > XFER_IO_BUF && wbuf_flush(c))
		return -1;
	if (c->wgather && c->wlen + total <= XFER_IO_BUF) {
		for (int i = 0; i < iovcnt; i++) {
			memcpy(c->wbuf + c->wlen, iov[i].iov_base, iov[i].iov_len);
			c->wlen += iov[i].iov_len;
		}
		return (ssize_t)total;
	}
	if (wbuf_flush(c))
		return -1;
	n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
	if (n < 0)
		sys_fail(c);
	return n;
}

/* bytes in: through rbuf, so that a record's header and body come in one recv() (and several
 * records in one when they are there) */
static ssize_t tls_pull(gnutls_transport_ptr_t ptr, void *buf, size_t len)
{
	struct xfer_conn *c = ptr;
	size_t n;

	if (c->rpos == c->rlen) {
		ssize_t r = recv(c->fd, c->rbuf, XFER_IO_BUF, 0);

		if (r <= 0) {
			if (r < 0)
				sys_fail(c);
			return r;
		}
		c->got_bytes = true;
		c->rpos = 0;
		c->rlen = (size_t)r;
	}
	n = c->rlen - c->rpos < len ? c->rlen - c->rpos : len;
	memcpy(buf, c->rbuf + c->rpos, n);
	c->rpos += n;
	return (ssize_t)n;
}

/* GnuTLS waits through this only when given a timeout; we never give it one, but the default
 * would take our pointer for an fd */
static int tls_pull_timeout(gnutls_transport_ptr_t ptr, unsigned int ms)
{
	struct xfer_conn *c = ptr;
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	int n;

	do {
		n = poll(&p, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (int)ms);
	} while (n < 0 && errno == EINTR);
	return n;
}

/* --- connections --- */

static int conn_new(int fd, const struct xfer_auth *a, bool server, const struct sockaddr *sa,
		    socklen_t salen, struct xfer_conn **out)
{
	struct xfer_conn *c = calloc(1, sizeof(*c));
	char host[INET6_ADDRSTRLEN + 16] = "?", port[8] = "?";
	int one = 1;

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->fd = fd;
	c->first_read = true;
	getnameinfo(sa, salen, host, sizeof(host), port, sizeof(port),
		    NI_NUMERICHOST | NI_NUMERICSERV);
	if (!strncmp(host, "::ffff:", 7) && strchr(host, '.')) /* IPv4 on an IPv6 socket */
		snprintf(c->peer, sizeof(c->peer), "%s:%s", host + 7, port);
	else
		snprintf(c->peer, sizeof(c->peer), sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
			 host, port);
	snprintf(c->who, sizeof(c->who), "%s %s", server ? "page client" : "page server", c->peer);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*out = c;
	if (xfer_auth_is_insecure(a))
		return 0;
	c->rbuf = malloc(XFER_IO_BUF);
	c->wbuf = malloc(XFER_IO_BUF);
	if (!c->rbuf || !c->wbuf)
		return -ENOMEM;
	if (gnutls_init(&c->tls, (server ? GNUTLS_SERVER : GNUTLS_CLIENT) | GNUTLS_NONBLOCK |
				     GNUTLS_NO_TICKETS | GNUTLS_NO_SIGNAL)) {
		c->tls = NULL;
		return -ENOMEM;
	}
	if (xfer_auth_tls_setup(a, c->tls, server))
		return -ENOMEM;
	gnutls_transport_set_ptr(c->tls, c);
	gnutls_transport_set_vec_push_function(c->tls, tls_push);
	gnutls_transport_set_pull_function(c->tls, tls_pull);
	gnutls_transport_set_pull_timeout_function(c->tls, tls_pull_timeout);
	gnutls_handshake_set_timeout(c->tls, 0); /* ours: wait_fd() with a deadline */
	return 0;
}

static bool tls_not_spoken(int r)
{
	return r == GNUTLS_E_UNEXPECTED_PACKET_LENGTH || r == GNUTLS_E_UNSUPPORTED_VERSION_PACKET ||
	       r == GNUTLS_E_UNEXPECTED_PACKET || r == GNUTLS_E_RECORD_OVERFLOW ||
	       r == GNUTLS_E_UNEXPECTED_HANDSHAKE_PACKET;
}

static bool tls_key_mismatch(struct xfer_conn *c, int r)
{
	int alert;

	switch (r) {
	case GNUTLS_E_RECEIVED_ILLEGAL_PARAMETER: /* the server: the binder is not our key's */
	case GNUTLS_E_DECRYPTION_FAILED:
	case GNUTLS_E_ERROR_IN_FINISHED_PACKET:
	case GNUTLS_E_INSUFFICIENT_CREDENTIALS:
	case GNUTLS_E_NO_CIPHER_SUITES:
		return true;
	case GNUTLS_E_FATAL_ALERT_RECEIVED: /* the client: the server said so */
		alert = gnutls_alert_get(c->tls);
		return alert == GNUTLS_A_ILLEGAL_PARAMETER || alert == GNUTLS_A_DECRYPT_ERROR ||
		       alert == GNUTLS_A_BAD_RECORD_MAC || alert == GNUTLS_A_HANDSHAKE_FAILURE ||
		       alert == GNUTLS_A_UNKNOWN_PSK_IDENTITY;
	default:
		return false;
	}
}

static int handshake_fail(struct xfer_conn *c, int r)
{
	const char *hs = "TLS handshake failed";
	int e;

	if (r != GNUTLS_E_PUSH_ERROR && r != GNUTLS_E_PULL_ERROR &&
	    r != GNUTLS_E_PREMATURE_TERMINATION && r != GNUTLS_E_FATAL_ALERT_RECEIVED)
		gnutls_alert_send_appropriate(c->tls, r); /* best effort: tell the peer why */
	if (tls_key_mismatch(c, r))
		return conn_fail(c, EACCES,
				 "%s: the peer's key is not ours (or it is not a criu-lite peer)",
				 hs);
	if (tls_not_spoken(r))
		return conn_fail(c, EPROTO,
				 "%s: the peer does not speak TLS (is it running --insecure?)", hs);
	if (r == GNUTLS_E_PREMATURE_TERMINATION ||
	    (r == GNUTLS_E_PULL_ERROR && c->sys_errno == ECONNRESET) ||
	    (r == GNUTLS_E_PUSH_ERROR && (c->sys_errno == EPIPE || c->sys_errno == ECONNRESET)))
		return conn_fail(
		    c, ECONNRESET, "%s: the peer closed the connection%s", hs,
		    c->got_bytes ? "" : " without a word of TLS (is it running --insecure?)");
	if (r == GNUTLS_E_PUSH_ERROR || r == GNUTLS_E_PULL_ERROR) {
		e = c->sys_errno ? c->sys_errno : EIO;
		return conn_fail(c, e, "%s: %s", hs, strerror(e));
	}
	if (r == GNUTLS_E_FATAL_ALERT_RECEIVED)
		return conn_fail(c, EPROTO, "%s: the peer sent alert \"%s\"", hs,
				 gnutls_alert_get_name(gnutls_alert_get(c->tls)));
	if (r == GNUTLS_E_MEMORY_ERROR)
		return conn_fail(c, ENOMEM, "%s: out of memory", hs);
	return conn_fail(c, EPROTO, "%s: %s", hs, gnutls_strerror(r));
}

/* "TLS1.3 ECDHE-PSK/X25519 AES-128-GCM" */
static void describe(struct xfer_conn *c)
{
	const char *v = gnutls_protocol_get_name(gnutls_protocol_get_version(c->tls));
	const char *kx = gnutls_kx_get_name(gnutls_kx_get(c->tls));
	const char *g = gnutls_group_get_name(gnutls_group_get(c->tls));
	const char *ci = gnutls_cipher_get_name(gnutls_cipher_get(c->tls));

	snprintf(c->cipher, sizeof(c->cipher), "%s %s%s%s %s", v ? v : "?", kx ? kx : "?",
		 g ? "/" : "", g ? g : "", ci ? ci : "?");
}

static int handshake(struct xfer_conn *c, int timeout_ms)
{
	int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;

	if (!c->tls)
		return 0;
	for (;;) {
		int r = gnutls_handshake(c->tls), w;

		if (r == GNUTLS_E_SUCCESS) {
			c->established = true;
			describe(c);
			return 0;
		}
		if (r != GNUTLS_E_AGAIN && r != GNUTLS_E_INTERRUPTED && gnutls_error_is_fatal(r))
			return handshake_fail(c, r);
		if (r != GNUTLS_E_AGAIN && r != GNUTLS_E_INTERRUPTED) /* a warning alert */
			w = deadline && now_ms() >= deadline ? -ETIMEDOUT : 0;
		else
			w = wait_fd(c->fd, tls_events(c), deadline);
		if (w == -ETIMEDOUT)
			return conn_fail(c, ETIMEDOUT, "TLS handshake failed: no answer in %d ms",
					 timeout_ms);
		if (w)
			return conn_fail(c, -w, "TLS handshake: poll: %s", strerror(-w));
	}
}

/* the conn's message into err; the conn freed on failure */
static int conn_ready(struct xfer_conn *c, int ret, struct xfer_conn **out, struct img_err *err)
{
	if (!ret) {
		*out = c;
		return 0;
	}
	if (c->error[0])
		img_fail(err, -ret, "%s", c->error);
	else
		img_fail(err, -ret, "%s: %s", c->who, strerror(-ret));
	xfer_conn_close(c);
	return ret;
}

static int sockaddr_of(const char *addr, uint16_t port, bool passive, struct addrinfo **ai,
		       struct img_err *err)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV |
					      (passive ? AI_PASSIVE : 0) };
	char p[8];
	int r;

	snprintf(p, sizeof(p), "%u", port);
	r = getaddrinfo(addr, p, &hints, ai);
	if (r == EAI_MEMORY)
		return img_fail(err, ENOMEM, "address %s: out of memory", addr);
	if (r)
		return img_fail(err, EINVAL, "address %s: not a numeric IPv4 or IPv6 address (%s)",
				addr, gai_strerror(r));
	return 0;
}

static int listen_on(const char *addr, uint16_t port, struct img_err *err)
{
	struct addrinfo *ai;
	int sk, one = 1, ret;

	ret = sockaddr_of(addr, port, true, &ai, err);
	if (ret)
		return ret;
	sk = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
	if (sk < 0) {
		ret = img_fail(err, errno, "page server %s: socket: %s", addr, strerror(errno));
		goto out;
	}
	setsockopt(sk, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(sk, ai->ai_addr, ai->ai_addrlen) || listen(sk, SOMAXCONN)) {
		ret =
		    img_fail(err, errno, "page server %s port %u: %s", addr, port, strerror(errno));
		close(sk);
		goto out;
	}
	ret = sk;
out:
	freeaddrinfo(ai);
	return ret;
}

int xfer_listen(const char *addr, uint16_t port, struct img_err *err)
{
	int ret;

	if (addr && *addr)
		return listen_on(addr, port, err);
	ret = listen_on("::", port, err); /* IPv6 and IPv4 */
	if (ret == -EAFNOSUPPORT)	  /* a machine without IPv6 */
		ret = listen_on("0.0.0.0", port, err);
	return ret;
}

int xfer_listen_port(int lsk)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(lsk, (struct sockaddr *)&ss, &len))
		return -errno;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -EAFNOSUPPORT;
}

int xfer_accept(int lsk, const struct xfer_auth *a, int timeout_ms, struct xfer_conn **out,
		struct img_err *err)
{
	int fd;

	*out = NULL;
	do {
		fd = accept4(lsk, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	} while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return img_fail(err, errno, "page server: accept: %s", strerror(errno));
	return xfer_conn_server(fd, a, timeout_ms, out, err);
}

int xfer_conn_server(int fd, const struct xfer_auth *a, int timeout_ms, struct xfer_conn **out,
		     struct img_err *err)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct xfer_conn *c;
	int fl, ret;

	*out = NULL;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) ||
	    getpeername(fd, (struct sockaddr *)&ss, &len)) {
		ret = errno;
		close(fd);
		return img_fail(err, ret, "page server: a connection: %s", strerror(ret));
	}
	ret = conn_new(fd, a, true, (struct sockaddr *)&ss, len, &c);
	if (!c) {
		close(fd);
		return img_fail(err, -ret, "page server: accept: %s", strerror(-ret));
	}
	if (!ret)
		ret = handshake(c, timeout_ms);
	return conn_ready(c, ret, out, err);
}

static int connect_wait(int fd, const struct sockaddr *sa, socklen_t len, int64_t deadline)
{
	socklen_t elen = sizeof(int);
	int e = 0, ret;

	if (!connect(fd, sa, len))
		return 0;
	if (errno != EINPROGRESS)
		return -errno;
	ret = wait_fd(fd, POLLOUT, deadline);
	if (ret)
		return ret;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen))
		return -errno;
	return -e;
}

int xfer_connect(const char *addr, uint16_t port, const struct xfer_auth *a, int timeout_ms,
		 struct xfer_conn **out, struct img_err *err)
{
	int64_t start = now_ms(), deadline = timeout_ms > 0 ? start + timeout_ms : 0;
	struct addrinfo *ai;
	struct xfer_conn *c;
	int fd, ret;

	*out = NULL;
	ret = sockaddr_of(addr, port, false, &ai, err);
	if (ret)
		return ret;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_TCP);
	if (fd < 0) {
		ret = img_fail(err, errno, "page server %s: socket: %s", addr, strerror(errno));
		freeaddrinfo(ai);
		return ret;
	}
	ret = conn_new(fd, a, false, ai->ai_addr, ai->ai_addrlen, &c);
	if (!c) {
		close(fd);
		freeaddrinfo(ai);
		return img_fail(err, -ret, "page server %s: %s", addr, strerror(-ret));
	}
	if (!ret) {
		ret = connect_wait(fd, ai->ai_addr, ai->ai_addrlen, deadline);
		if (ret == -ETIMEDOUT)
			conn_fail(c, ETIMEDOUT, "connect: no answer in %d ms", timeout_ms);
		else if (ret)
			conn_fail(c, -ret, "connect: %s", strerror(-ret));
	}
	freeaddrinfo(ai);
	if (!ret) {
		int64_t left = deadline ? deadline - now_ms() : 0;

		/* the handshake has what is left of timeout_ms (at least 1 ms) */
		ret = handshake(c, deadline ? (left > 0 ? (int)left : 1) : 0);
		if (ret == -ETIMEDOUT)
			conn_fail(c, ETIMEDOUT, "TLS handshake failed: no answer in %d ms",
				  timeout_ms);
	}
	return conn_ready(c, ret, out, err);
}

/* --- reading and writing --- */

/* a plaintext end whose peer opens with a TLS record (handshake or alert, version 3.x) */
static bool looks_like_tls(const uint8_t *p, size_t len)
{
	return len >= 3 && (p[0] == 0x16 || p[0] == 0x15) && p[1] == 3 && p[2] <= 4;
}

static int plain_read(struct xfer_conn *c, uint8_t *p, size_t len)
{
	size_t got = 0;
	int ret;

	while (got < len) {
		ssize_t n = recv(c->fd, p + got, len - got, 0);

		if (n > 0) {
			got += (size_t)n;
		} else if (n == 0) {
			return read_eof(c, got);
		} else if (errno == EAGAIN) {
			ret = wait_io(c, POLLIN, "read");
			if (ret)
				return ret;
		} else if (errno != EINTR) {
			return conn_fail(c, errno, "read: %s", strerror(errno));
		}
	}
	if (c->first_read) {
		c->first_read = false;
		if (looks_like_tls(p, len))
			return conn_fail(
			    c, EPROTO, "the peer speaks TLS: it has --auth-key, we run --insecure");
	}
	return 0;
}

static int tls_read(struct xfer_conn *c, uint8_t *p, size_t len)
{
	size_t got = 0;
	int ret;

	while (got < len) {
		ssize_t n = gnutls_record_recv(c->tls, p + got, len - got);

		if (n > 0) {
			got += (size_t)n;
		} else if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION) {
			return read_eof(c, got);
		} else if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
			ret = wait_io(c, tls_events(c), "read");
			if (ret)
				return ret;
		} else if (gnutls_error_is_fatal((int)n)) {
			return tls_io_fail(c, (int)n, "read");
		}
	}
	return 0;
}

int xfer_conn_read(void *conn, void *buf, size_t len)
{
	struct xfer_conn *c = conn;

	return c->tls ? tls_read(c, buf, len) : plain_read(c, buf, len);
}

static int plain_writev(struct xfer_conn *c, const struct iovec *iov, int iovcnt)
{
	size_t off = 0; /* into iov[i] */
	int i = 0, ret;

	while (i < iovcnt) {
		struct iovec part;
		struct msghdr mh = { 0 };
		ssize_t n;

		if (off == iov[i].iov_len) {
			i++;
			off = 0;
			continue;
		}
		if (off) { /* the rest of a piece a short write cut */
			part.iov_base = (char *)iov[i].iov_base + off;
			part.iov_len = iov[i].iov_len - off;
			mh.msg_iov = &part;
			mh.msg_iovlen = 1;
		} else {
			mh.msg_iov = (struct iovec *)&iov[i];
			mh.msg_iovlen = (size_t)(iovcnt - i < IOV_MAX ? iovcnt - i : IOV_MAX);
		}
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return conn_fail(c, errno, "write: %s", strerror(errno));
			ret = wait_io(c, POLLOUT, "write");
			if (ret)
				return ret;
			continue;
		}
		for (size_t left = (size_t)n; left;) {
			size_t room = iov[i].iov_len - off;

			if (left < room) {
				off += left;
				break;
			}
			left -= room;
			i++;
			off = 0;
		}
	}
	return 0;
}

/* the records wbuf gathered, all out */
static int wbuf_drain(struct xfer_conn *c)
{
	int ret;

	while (wbuf_flush(c)) {
		if (errno != EAGAIN)
			return conn_fail(c, errno, "write: %s", strerror(errno));
		ret = wait_io(c, POLLOUT, "write");
		if (ret)
			return ret;
	}
	return 0;
}

/* corked: the pieces become full records (up to 16 KiB), which gather in wbuf and leave in
 * XFER_IO_BUF sends */
static int tls_writev(struct xfer_conn *c, const struct iovec *iov, int iovcnt)
{
	ssize_t r = 0;
	int ret = 0;

	gnutls_record_cork(c->tls);
	for (int i = 0; i < iovcnt && r >= 0; i++)
		if (iov[i].iov_len)
			r = gnutls_record_send(c->tls, iov[i].iov_base, iov[i].iov_len);
	if (r < 0) /* only out of memory: the connection is good for nothing more */
		return tls_io_fail(c, (int)r, "write");
	c->wgather = true;
	for (;;) {
		int n = gnutls_record_uncork(c->tls, 0);

		if (n >= 0)
			break;
		if (n != GNUTLS_E_AGAIN && n != GNUTLS_E_INTERRUPTED) {
			ret = tls_io_fail(c, n, "write");
			break;
		}
		ret = wait_io(c, tls_events(c), "write");
		if (ret)
			break;
	}
	c->wgather = false;
	return ret ? ret : wbuf_drain(c);
}

int xfer_conn_writev(void *conn, const struct iovec *iov, int iovcnt)
{
	struct xfer_conn *c = conn;

	return c->tls ? tls_writev(c, iov, iovcnt) : plain_writev(c, iov, iovcnt);
}

void xfer_conn_timeout(struct xfer_conn *c, int timeout_ms)
{
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
}

size_t xfer_conn_pending(const struct xfer_conn *c)
{
	return c->tls ? gnutls_record_check_pending(c->tls) + (c->rlen - c->rpos) : 0;
}

int xfer_conn_fd(const struct xfer_conn *c)
{
	return c->fd;
}

const char *xfer_conn_cipher(const struct xfer_conn *c)
{
	return c->tls ? c->cipher : "plaintext";
}

const char *xfer_conn_peer(const struct xfer_conn *c)
{
	return c->peer;
}

void xfer_conn_close(struct xfer_conn *c)
{
	if (!c)
		return;
	if (c->tls && c->established)
		gnutls_bye(c->tls, GNUTLS_SHUT_WR); /* close_notify, if it fits: never waits */
	if (c->tls) {
		wbuf_flush(c);
		gnutls_deinit(c->tls);
	}
	close(c->fd);
	free(c->rbuf);
	free(c->wbuf);
	free(c);
}
