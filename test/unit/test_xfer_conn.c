/* test_xfer_conn: the page server's TCP connections (lazy-pages/xfer-conn.h) on 127.0.0.1 (and
 * ::1 when the machine has it), port 0, the server end in a thread of its own.
 * - keys: a missing file, one of 31 bytes, one group/others may read, one over 1 MiB, one not
 *   ours, a directory: refused, naming the file; a good one loads.
 * - roundtrip (TLS, plaintext, IPv6): sizes from 1 byte to 4 MiB in 4 KiB pieces come back
 *   whole; the cipher is TLS 1.3 with PSK and (EC)DHE.
 * - addresses: only numeric ones; none: every address (an IPv4 client is named as such); a
 *   port nobody listens on: -ECONNREFUSED.
 * - wrong key: both ends refuse the handshake, saying the keys differ.
 * - psk_ke: a client with the right key that offers PSK without (EC)DHE is refused.
 * - mixed: a TLS client of a plaintext server and a plaintext client of a TLS server are
 *   refused, naming it, and nobody hangs.
 * - silent client: a client that connects and says nothing gives -ETIMEDOUT at accept within
 *   the handshake timeout.
 * - eof: -ENODATA when the peer closed between reads, -EPIPE in the middle of one.
 * - peer gone: writing to a peer that closed gives -EPIPE or -ECONNRESET, and no SIGPIPE (this
 *   test does not ignore it: it would die).
 * - timeouts: a read and a write with no progress give -ETIMEDOUT.
 * - bench: XFER_BENCH_MB (default 64) MiB of 4 MiB frames in 4 KiB pieces, TLS then plaintext;
 *   prints MB/s and the cipher. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>

#include <cmocka.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "lazy-pages/xfer-conn.h"

#define BIG	   (4u << 20)
#define PG	   4096u
#define HS_TIMEOUT 5000

static char tmpdir[64];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void key_file(const char *name, char *path, size_t len, size_t bytes, uint8_t fill,
		     mode_t mode)
{
	uint8_t *b = malloc(bytes ? bytes : 1);
	int fd;

	assert_non_null(b);
	for (size_t i = 0; i < bytes; i++)
		b[i] = (uint8_t)(fill + i * 7);
	snprintf(path, len, "%s/%s", tmpdir, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b, bytes), (ssize_t)bytes);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	free(b);
}

static struct xfer_auth *load_key(uint8_t fill)
{
	struct img_err err = { 0 };
	struct xfer_auth *a;
	char path[128], name[32];

	snprintf(name, sizeof(name), "key-%u", fill);
	key_file(name, path, sizeof(path), 64, fill, 0600);
	assert_int_equal(xfer_auth_load(path, &a, &err), 0);
	assert_false(xfer_auth_is_insecure(a));
	return a;
}

static struct xfer_auth *insecure(void)
{
	struct xfer_auth *a;

	assert_int_equal(xfer_auth_insecure(&a), 0);
	assert_true(xfer_auth_is_insecure(a));
	return a;
}

/* --- the server end: a thread that accepts one connection and runs an action on it --- */

struct srv {
	pthread_t th;
	int lsk;
	uint16_t port;
	const struct xfer_auth *a;
	int hs_timeout;
	int (*act)(struct srv *s, struct xfer_conn *c);
	int ret;     /* of xfer_accept() */
	int act_ret; /* of the action */
	char msg[600];
	double accept_secs;
	size_t n; /* the action's: bytes to send, bytes received */
	int stop[2];
};

static void *srv_main(void *arg)
{
	struct srv *s = arg;
	struct pollfd p = { .fd = s->lsk, .events = POLLIN };
	struct img_err err = { 0 };
	struct xfer_conn *c;
	double t0;

	if (poll(&p, 1, 10000) != 1) {
		s->ret = -ETIMEDOUT;
		snprintf(s->msg, sizeof(s->msg), "no client came");
		return NULL;
	}
	t0 = now_s();
	s->ret = xfer_accept(s->lsk, s->a, s->hs_timeout, &c, &err);
	s->accept_secs = now_s() - t0;
	if (s->ret) {
		snprintf(s->msg, sizeof(s->msg), "%s", err.msg);
		return NULL;
	}
	if (s->act) {
		s->act_ret = s->act(s, c);
		if (s->act_ret)
			snprintf(s->msg, sizeof(s->msg), "%s", xfer_conn_error(c));
	}
	xfer_conn_close(c);
	return NULL;
}

static void srv_start(struct srv *s, const char *addr, const struct xfer_auth *a,
		      int (*act)(struct srv *, struct xfer_conn *))
{
	struct img_err err = { 0 };
	int port;

	memset(s, 0, sizeof(*s));
	s->lsk = xfer_listen(addr, 0, &err);
	assert_true(s->lsk >= 0);
	port = xfer_listen_port(s->lsk);
	assert_true(port > 0);
	s->port = (uint16_t)port;
	s->a = a;
	s->act = act;
	s->hs_timeout = HS_TIMEOUT;
	assert_int_equal(pipe2(s->stop, O_CLOEXEC), 0);
}

static void srv_run(struct srv *s)
{
	assert_int_equal(pthread_create(&s->th, NULL, srv_main, s), 0);
}

static void srv_join(struct srv *s)
{
	close(s->stop[1]);
	assert_int_equal(pthread_join(s->th, NULL), 0);
	close(s->stop[0]);
	close(s->lsk);
}

/* echo: u32 length + bytes, back the same way, until the client closes */
static int act_echo(struct srv *s, struct xfer_conn *c)
{
	uint8_t *buf = malloc(BIG);
	uint32_t len;
	int ret;

	(void)s;
	if (!buf)
		return -ENOMEM;
	for (;;) {
		struct iovec iov[2] = { { &len, 4 }, { buf, 0 } };

		ret = xfer_conn_read(c, &len, 4);
		if (ret == -ENODATA) {
			ret = 0;
			break;
		}
		if (!ret && len > BIG)
			ret = -EMSGSIZE;
		if (!ret)
			ret = xfer_conn_read(c, buf, len);
		iov[1].iov_len = len;
		if (!ret)
			ret = xfer_conn_writev(c, iov, 2);
		if (ret)
			break;
	}
	free(buf);
	return ret;
}

static int act_read4(struct srv *s, struct xfer_conn *c)
{
	uint8_t b[4];

	(void)s;
	return xfer_conn_read(c, b, 4);
}

static int act_close(struct srv *s, struct xfer_conn *c)
{
	(void)s;
	(void)c;
	return 0;
}

static int act_peer(struct srv *s, struct xfer_conn *c)
{
	snprintf(s->msg, sizeof(s->msg), "%s", xfer_conn_peer(c));
	return 0;
}

/* s->n bytes, then close */
static int act_send(struct srv *s, struct xfer_conn *c)
{
	uint8_t b[64];
	struct iovec iov = { b, s->n };

	memset(b, 'x', sizeof(b));
	return xfer_conn_writev(c, &iov, 1);
}

/* nothing, until the test says so */
static int act_idle(struct srv *s, struct xfer_conn *c)
{
	char x;

	(void)c;
	while (read(s->stop[0], &x, 1) < 0 && errno == EINTR)
		;
	return 0;
}

/* bench frames: a 32-byte header then BIG bytes, until the client closes */
static int act_sink(struct srv *s, struct xfer_conn *c)
{
	uint8_t *buf = malloc(BIG), hdr[32];
	int ret;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ret = xfer_conn_read(c, hdr, sizeof(hdr));
		if (ret == -ENODATA) {
			ret = 0;
			break;
		}
		if (!ret)
			ret = xfer_conn_read(c, buf, BIG);
		if (ret)
			break;
		s->n += sizeof(hdr) + BIG;
	}
	free(buf);
	return ret;
}

static struct xfer_conn *client(const char *addr, struct srv *s, const struct xfer_auth *a)
{
	struct img_err err = { 0 };
	struct xfer_conn *c = NULL;
	int ret = xfer_connect(addr, s->port, a, HS_TIMEOUT, &c, &err);

	if (ret)
		print_error("connect: %d %s\n", ret, err.msg);
	assert_int_equal(ret, 0);
	return c;
}

/* --- tests --- */

static void test_keys(void **state)
{
	struct img_err err = { 0 };
	struct xfer_auth *a = NULL;
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/none", tmpdir);
	assert_int_equal(xfer_auth_load(path, &a, &err), -ENOENT);
	assert_non_null(strstr(err.msg, path));
	assert_null(a);

	key_file("short", path, sizeof(path), 31, 1, 0600);
	assert_int_equal(xfer_auth_load(path, &a, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "at least 32"));

	key_file("open", path, sizeof(path), 64, 1, 0644);
	assert_int_equal(xfer_auth_load(path, &a, &err), -EPERM);
	assert_non_null(strstr(err.msg, "mode 0644"));
	key_file("group-w", path, sizeof(path), 64, 1, 0620);
	assert_int_equal(xfer_auth_load(path, &a, &err), -EPERM);

	key_file("huge", path, sizeof(path), (1u << 20) + 1, 1, 0600);
	assert_int_equal(xfer_auth_load(path, &a, &err), -EFBIG);

	snprintf(path, sizeof(path), "%s", tmpdir);
	assert_int_equal(xfer_auth_load(path, &a, &err), -EINVAL);

	key_file("theirs", path, sizeof(path), 64, 1, 0600);
	if (geteuid() == 0 && chown(path, 1, 1) == 0) {
		assert_int_equal(xfer_auth_load(path, &a, &err), -EPERM);
		assert_non_null(strstr(err.msg, "not by us"));
	}

	key_file("exact", path, sizeof(path), 32, 1, 0600);
	assert_int_equal(xfer_auth_load(path, &a, &err), 0);
	xfer_auth_free(a);
	key_file("max", path, sizeof(path), 1u << 20, 1, 0400);
	assert_int_equal(xfer_auth_load(path, &a, &err), 0);
	xfer_auth_free(a);
	xfer_auth_free(NULL);
}

static void roundtrip(const char *addr, const struct xfer_auth *a)
{
	static const size_t sizes[] = { 1, 3, 100, 4096, 16383, 16384, 16385, 65536, 1 << 20, BIG };
	uint8_t *out = malloc(BIG), *in = malloc(BIG);
	struct iovec iov[2 + BIG / PG];
	struct xfer_conn *c;
	struct srv s;
	char want[64];

	assert_non_null(out);
	assert_non_null(in);
	for (size_t i = 0; i < BIG; i++)
		out[i] = (uint8_t)(i * 131 + (i >> 12));
	srv_start(&s, addr, a, act_echo);
	srv_run(&s);
	c = client(addr, &s, a);
	snprintf(want, sizeof(want), strchr(addr, ':') ? "[%s]:%u" : "%s:%u", addr, s.port);
	assert_string_equal(xfer_conn_peer(c), want);
	if (xfer_auth_is_insecure(a)) {
		assert_string_equal(xfer_conn_cipher(c), "plaintext");
	} else {
		assert_non_null(strstr(xfer_conn_cipher(c), "TLS1.3"));
		assert_non_null(strstr(xfer_conn_cipher(c), "PSK"));
		assert_non_null(strstr(xfer_conn_cipher(c), "DHE"));
	}
	xfer_conn_timeout(c, 10000);
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		uint32_t len = (uint32_t)sizes[k], back = 0;
		int n = 0;

		iov[n++] = (struct iovec){ &len, 4 };
		for (size_t off = 0; off < len; off += PG) /* in pieces, as pages go */
			iov[n++] = (struct iovec){ out + off, len - off < PG ? len - off : PG };
		assert_int_equal(xfer_conn_writev(c, iov, n), 0);
		assert_int_equal(xfer_conn_read(c, &back, 4), 0);
		assert_int_equal(back, len);
		memset(in, 0, len);
		assert_int_equal(xfer_conn_read(c, in, len), 0);
		assert_memory_equal(in, out, len);
		assert_int_equal(xfer_conn_pending(c), 0);
	}
	xfer_conn_close(c);
	srv_join(&s);
	if (s.ret || s.act_ret)
		print_error("server: %d %d %s\n", s.ret, s.act_ret, s.msg);
	assert_int_equal(s.ret, 0);
	assert_int_equal(s.act_ret, 0);
	free(out);
	free(in);
}

static void test_roundtrip_tls(void **state)
{
	struct xfer_auth *a = load_key(1);

	(void)state;
	roundtrip("127.0.0.1", a);
	xfer_auth_free(a);
}

static void test_roundtrip_insecure(void **state)
{
	struct xfer_auth *a = insecure();

	(void)state;
	roundtrip("127.0.0.1", a);
	xfer_auth_free(a);
}

static void test_ipv6(void **state)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int sk = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct xfer_auth *a;
	bool have = sk >= 0 && !bind(sk, (struct sockaddr *)&sa, sizeof(sa));

	(void)state;
	if (sk >= 0)
		close(sk);
	if (!have) {
		print_message("no IPv6 loopback here (::1): skipped\n");
		skip();
	}
	a = load_key(1);
	roundtrip("::1", a);
	xfer_auth_free(a);
}

static void test_addresses(void **state)
{
	struct xfer_auth *plain = insecure();
	struct img_err err = { 0 };
	struct xfer_conn *c = NULL;
	struct srv s;
	uint16_t port;

	(void)state;
	assert_int_equal(xfer_listen("localhost", 0, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not a numeric IPv4 or IPv6 address"));
	assert_int_equal(xfer_connect("localhost", 7001, plain, 1000, &c, &err), -EINVAL);
	assert_null(c);

	/* no address: every address, IPv4 clients named as such */
	srv_start(&s, NULL, plain, act_peer);
	srv_run(&s);
	c = client("127.0.0.1", &s, plain);
	xfer_conn_close(c);
	srv_join(&s);
	assert_int_equal(s.ret, 0);
	assert_int_equal(strncmp(s.msg, "127.0.0.1:", 10), 0);

	/* nobody listens there any more */
	srv_start(&s, "127.0.0.1", plain, NULL);
	port = s.port;
	close(s.lsk);
	close(s.stop[0]);
	close(s.stop[1]);
	assert_int_equal(xfer_connect("127.0.0.1", port, plain, 1000, &c, &err), -ECONNREFUSED);
	assert_non_null(strstr(err.msg, "connect: Connection refused"));
	xfer_auth_free(plain);
}

static void test_wrong_key(void **state)
{
	struct xfer_auth *mine = load_key(1), *theirs = load_key(2);
	struct img_err err = { 0 };
	struct xfer_conn *c = NULL;
	struct srv s;
	int ret;

	(void)state;
	srv_start(&s, "127.0.0.1", mine, act_echo);
	srv_run(&s);
	ret = xfer_connect("127.0.0.1", s.port, theirs, HS_TIMEOUT, &c, &err);
	srv_join(&s);
	print_message("wrong key: client: %d %s\n", ret, err.msg);
	print_message("wrong key: server: %d %s\n", s.ret, s.msg);
	assert_int_equal(ret, -EACCES);
	assert_null(c);
	assert_non_null(strstr(err.msg, "TLS handshake failed: the peer's key is not ours"));
	assert_int_equal(s.ret, -EACCES);
	assert_non_null(strstr(s.msg, "TLS handshake failed: the peer's key is not ours"));
	xfer_auth_free(mine);
	xfer_auth_free(theirs);
}

/* a plain GnuTLS client with the right key and the key exchanges kx: its handshake */
static int raw_client(uint16_t port, const char *key_path, const char *kx)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	uint8_t file[64], psk[32];
	char prio[128];
	gnutls_datum_t key = { psk, sizeof(psk) };
	gnutls_psk_client_credentials_t cred;
	gnutls_session_t s;
	int fd, sk, ret;

	fd = open(key_path, O_RDONLY | O_CLOEXEC);
	assert_int_equal(read(fd, file, sizeof(file)), sizeof(file));
	close(fd);
	assert_int_equal(gnutls_hash_fast(GNUTLS_DIG_SHA256, file, sizeof(file), psk), 0);
	assert_int_equal(gnutls_psk_allocate_client_credentials(&cred), 0);
	assert_int_equal(
	    gnutls_psk_set_client_credentials(cred, "criu-lite", &key, GNUTLS_PSK_KEY_RAW), 0);
	assert_int_equal(gnutls_init(&s, GNUTLS_CLIENT), 0);
	snprintf(prio, sizeof(prio), "NORMAL:-VERS-ALL:+VERS-TLS1.3:-KX-ALL:%s", kx);
	assert_int_equal(gnutls_priority_set_direct(s, prio, NULL), 0);
	assert_int_equal(gnutls_credentials_set(s, GNUTLS_CRD_PSK, cred), 0);
	sa.sin_port = htons(port);
	sk = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(sk, (struct sockaddr *)&sa, sizeof(sa)), 0);
	gnutls_transport_set_int(s, sk);
	gnutls_handshake_set_timeout(s, HS_TIMEOUT);
	do {
		ret = gnutls_handshake(s);
	} while (ret < 0 && !gnutls_error_is_fatal(ret));
	gnutls_deinit(s);
	gnutls_psk_free_client_credentials(cred);
	close(sk);
	return ret;
}

static void test_psk_ke_refused(void **state)
{
	struct xfer_auth *key = load_key(1);
	char path[128];
	struct srv s;
	int ret;

	(void)state;
	snprintf(path, sizeof(path), "%s/key-1", tmpdir);
	srv_start(&s, "127.0.0.1", key, act_echo); /* the same client with (EC)DHE gets in */
	srv_run(&s);
	ret = raw_client(s.port, path, "+ECDHE-PSK");
	srv_join(&s);
	assert_int_equal(ret, 0);
	assert_int_equal(s.ret, 0);

	srv_start(&s, "127.0.0.1", key, act_echo);
	srv_run(&s);
	ret = raw_client(s.port, path, "+PSK");
	srv_join(&s);
	print_message("psk_ke only: client: %s; server: %d %s\n", gnutls_strerror_name(ret), s.ret,
		      s.msg);
	assert_true(ret < 0);
	assert_int_equal(s.ret, -EACCES);
	xfer_auth_free(key);
}

static void test_tls_client_plain_server(void **state)
{
	struct xfer_auth *key = load_key(1), *plain = insecure();
	struct img_err err = { 0 };
	struct xfer_conn *c = NULL;
	struct srv s;
	double t0;
	int ret;

	(void)state;
	srv_start(&s, "127.0.0.1", plain, act_read4);
	srv_run(&s);
	t0 = now_s();
	ret = xfer_connect("127.0.0.1", s.port, key, HS_TIMEOUT, &c, &err);
	srv_join(&s);
	print_message("TLS client, plaintext server: client: %d %s (%.3f s)\n", ret, err.msg,
		      now_s() - t0);
	print_message("TLS client, plaintext server: server: %d %s\n", s.act_ret, s.msg);
	assert_true(now_s() - t0 < 3);
	assert_true(ret == -ECONNRESET || ret == -EPROTO);
	assert_non_null(strstr(err.msg, "TLS handshake failed"));
	assert_non_null(strstr(err.msg, "--insecure"));
	assert_int_equal(s.ret, 0);
	assert_int_equal(s.act_ret, -EPROTO);
	assert_non_null(strstr(s.msg, "the peer speaks TLS"));
	xfer_auth_free(key);
	xfer_auth_free(plain);
}

static void test_plain_client_tls_server(void **state)
{
	struct xfer_auth *key = load_key(1), *plain = insecure();
	uint32_t hello[4] = { 12, 0x01020304, 0x05060708, 0x090a0b0c };
	struct iovec iov = { hello, sizeof(hello) };
	struct xfer_conn *c;
	struct srv s;
	uint32_t back;
	double t0;
	int ret;

	(void)state;
	srv_start(&s, "127.0.0.1", key, act_echo);
	srv_run(&s);
	t0 = now_s();
	c = client("127.0.0.1", &s, plain);
	xfer_conn_timeout(c, HS_TIMEOUT);
	assert_int_equal(xfer_conn_writev(c, &iov, 1), 0);
	ret = xfer_conn_read(c, &back, 4);
	print_message("plaintext client, TLS server: client: %d %s (%.3f s)\n", ret,
		      xfer_conn_error(c), now_s() - t0);
	xfer_conn_close(c);
	srv_join(&s);
	print_message("plaintext client, TLS server: server: %d %s\n", s.ret, s.msg);
	assert_true(now_s() - t0 < 3);
	assert_true(ret == -EPROTO || ret == -ENODATA || ret == -ECONNRESET);
	assert_int_equal(s.ret, -EPROTO);
	assert_non_null(strstr(s.msg, "TLS handshake failed: the peer does not speak TLS"));
	xfer_auth_free(key);
	xfer_auth_free(plain);
}

static void test_silent_client(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct xfer_auth *key = load_key(1);
	struct srv s;
	int sk;

	(void)state;
	srv_start(&s, "127.0.0.1", key, act_echo);
	s.hs_timeout = 300;
	srv_run(&s);
	sa.sin_port = htons(s.port);
	sk = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(sk, (struct sockaddr *)&sa, sizeof(sa)), 0);
	srv_join(&s); /* says nothing, and does not close */
	close(sk);
	print_message("silent client: %d %s (%.3f s)\n", s.ret, s.msg, s.accept_secs);
	assert_int_equal(s.ret, -ETIMEDOUT);
	assert_non_null(strstr(s.msg, "no answer in 300 ms"));
	assert_true(s.accept_secs >= 0.25 && s.accept_secs < 2);
	xfer_auth_free(key);
}

static void eof(const struct xfer_auth *a)
{
	uint8_t b[64];
	struct xfer_conn *c;
	struct srv s;
	int ret;

	srv_start(&s, "127.0.0.1", a, act_send);
	s.n = 10;
	srv_run(&s);
	c = client("127.0.0.1", &s, a);
	assert_int_equal(xfer_conn_read(c, b, 10), 0);
	assert_int_equal(xfer_conn_read(c, b, 4), -ENODATA);
	assert_non_null(strstr(xfer_conn_error(c), "the peer closed the connection"));
	xfer_conn_close(c);
	srv_join(&s);
	assert_int_equal(s.act_ret, 0);

	srv_start(&s, "127.0.0.1", a, act_send);
	s.n = 5;
	srv_run(&s);
	c = client("127.0.0.1", &s, a);
	ret = xfer_conn_read(c, b, 10);
	assert_int_equal(ret, -EPIPE);
	assert_non_null(strstr(xfer_conn_error(c), "in the middle"));
	xfer_conn_close(c);
	srv_join(&s);
}

static void test_eof(void **state)
{
	struct xfer_auth *key = load_key(1), *plain = insecure();

	(void)state;
	eof(key);
	eof(plain);
	xfer_auth_free(key);
	xfer_auth_free(plain);
}

static void peer_gone(const struct xfer_auth *a)
{
	uint8_t *buf = calloc(1, BIG);
	struct iovec iov = { buf, BIG };
	struct xfer_conn *c;
	struct srv s;
	int ret = 0;

	assert_non_null(buf);
	srv_start(&s, "127.0.0.1", a, act_close);
	srv_run(&s);
	c = client("127.0.0.1", &s, a);
	srv_join(&s); /* closed */
	xfer_conn_timeout(c, HS_TIMEOUT);
	for (int i = 0; i < 64 && !ret; i++)
		ret = xfer_conn_writev(c, &iov, 1);
	print_message("peer gone (%s): %d %s\n", xfer_conn_cipher(c), ret, xfer_conn_error(c));
	assert_true(ret == -EPIPE || ret == -ECONNRESET);
	xfer_conn_close(c);
	free(buf);
}

static void test_peer_gone(void **state)
{
	struct xfer_auth *key = load_key(1), *plain = insecure();

	(void)state;
	peer_gone(key);
	peer_gone(plain);
	xfer_auth_free(key);
	xfer_auth_free(plain);
}

static void timeouts(const struct xfer_auth *a)
{
	uint8_t *buf = calloc(1, BIG);
	struct iovec iov = { buf, BIG };
	struct xfer_conn *c;
	struct srv s;
	double t0;
	int ret = 0;

	assert_non_null(buf);
	srv_start(&s, "127.0.0.1", a, act_idle);
	srv_run(&s);
	c = client("127.0.0.1", &s, a);
	xfer_conn_timeout(c, 200);
	t0 = now_s();
	assert_int_equal(xfer_conn_read(c, buf, 1), -ETIMEDOUT);
	assert_true(now_s() - t0 >= 0.15 && now_s() - t0 < 2);
	assert_non_null(strstr(xfer_conn_error(c), "no progress in 200 ms"));
	/* the socket buffers fill up, then nothing moves */
	for (int i = 0; i < 64 && !ret; i++)
		ret = xfer_conn_writev(c, &iov, 1);
	assert_int_equal(ret, -ETIMEDOUT);
	xfer_conn_close(c);
	srv_join(&s);
	free(buf);
}

static void test_timeouts(void **state)
{
	struct xfer_auth *key = load_key(1), *plain = insecure();

	(void)state;
	timeouts(key);
	timeouts(plain);
	xfer_auth_free(key);
	xfer_auth_free(plain);
}

static void bench(const struct xfer_auth *a, unsigned mb)
{
	uint8_t *buf = malloc(BIG), hdr[32] = { 0 };
	struct iovec iov[1 + BIG / PG];
	struct xfer_conn *c;
	unsigned frames = mb / 4 ? mb / 4 : 1;
	struct srv s;
	double t0, t, cpu0, cpu;

	assert_non_null(buf);
	for (size_t i = 0; i < BIG; i++)
		buf[i] = (uint8_t)(i * 2654435761u >> 13);
	iov[0] = (struct iovec){ hdr, sizeof(hdr) };
	for (unsigned i = 0; i < BIG / PG; i++)
		iov[1 + i] = (struct iovec){ buf + (size_t)i * PG, PG };
	srv_start(&s, "127.0.0.1", a, act_sink);
	srv_run(&s);
	c = client("127.0.0.1", &s, a);
	t0 = now_s();
	cpu0 = cpu_s();
	for (unsigned f = 0; f < frames; f++)
		assert_int_equal(xfer_conn_writev(c, iov, 1 + BIG / PG), 0);
	xfer_conn_close(c);
	srv_join(&s);
	t = now_s() - t0;
	cpu = cpu_s() - cpu0;
	assert_int_equal(s.act_ret, 0);
	assert_int_equal(s.n, (size_t)frames * (BIG + sizeof(hdr)));
	print_message("bench %s: %u MiB in %.3f s: %.0f MB/s (%.3f s of CPU)\n",
		      xfer_auth_is_insecure(a) ? "plaintext" : "TLS", frames * 4, t,
		      frames * (double)BIG / t / 1e6, cpu);
	free(buf);
}

static void test_bench(void **state)
{
	struct xfer_auth *key = load_key(1), *plain = insecure();
	const char *env = getenv("XFER_BENCH_MB");
	unsigned mb = env ? (unsigned)atoi(env) : 64;
	struct xfer_conn *c;
	struct srv s;

	(void)state;
	srv_start(&s, "127.0.0.1", key, act_close);
	srv_run(&s);
	c = client("127.0.0.1", &s, key);
	print_message("cipher: %s\n", xfer_conn_cipher(c));
	xfer_conn_close(c);
	srv_join(&s);
	bench(key, mb);
	bench(plain, mb);
	xfer_auth_free(key);
	xfer_auth_free(plain);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_xfer_conn.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_roundtrip_tls),
		cmocka_unit_test(test_roundtrip_insecure),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_psk_ke_refused),
		cmocka_unit_test(test_tls_client_plain_server),
		cmocka_unit_test(test_plain_client_tls_server),
		cmocka_unit_test(test_silent_client),
		cmocka_unit_test(test_eof),
		cmocka_unit_test(test_peer_gone),
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test(test_bench),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
