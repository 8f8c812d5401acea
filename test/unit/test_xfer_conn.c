/* test_xfer_conn: the page server's TCP connections (lazy-pages/xfer-conn.h) at work, on
 * 127.0.0.1 (and ::1 when the machine has it), port 0, the server end in a thread
 * (xfer_fixture.h).
 * - roundtrip (TLS, plaintext, IPv6): sizes from 1 byte to 4 MiB in 4 KiB pieces come back
 *   whole; the cipher is TLS 1.3 with PSK and (EC)DHE.
 * - addresses: only numeric ones; none: every address (an IPv4 client is named as such); a
 *   port nobody listens on: -ECONNREFUSED.
 * - eof: -ENODATA when the peer closed between reads, -EPIPE in the middle of one.
 * - peer gone: writing to a peer that closed gives -EPIPE or -ECONNRESET, and no SIGPIPE (this
 *   test does not ignore it: it would die).
 * - timeouts: a read and a write with no progress give -ETIMEDOUT.
 * - bench: XFER_BENCH_MB (default 64) MiB of 4 MiB frames in 4 KiB pieces, TLS then plaintext;
 *   prints MB/s, the CPU time and the cipher. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "xfer_fixture.h"

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
	c = xfx_client(addr, &s, a);
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
	struct xfer_auth *a = xfx_key(1);

	(void)state;
	roundtrip("127.0.0.1", a);
	xfer_auth_free(a);
}

static void test_roundtrip_insecure(void **state)
{
	struct xfer_auth *a = xfx_insecure();

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
	a = xfx_key(1);
	roundtrip("::1", a);
	xfer_auth_free(a);
}

static void test_addresses(void **state)
{
	struct xfer_auth *plain = xfx_insecure();
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
	c = xfx_client("127.0.0.1", &s, plain);
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

static void eof(const struct xfer_auth *a)
{
	uint8_t b[64];
	struct xfer_conn *c;
	struct srv s;
	int ret;

	srv_start(&s, "127.0.0.1", a, act_send);
	s.n = 10;
	srv_run(&s);
	c = xfx_client("127.0.0.1", &s, a);
	assert_int_equal(xfer_conn_read(c, b, 10), 0);
	assert_int_equal(xfer_conn_read(c, b, 4), -ENODATA);
	assert_non_null(strstr(xfer_conn_error(c), "the peer closed the connection"));
	xfer_conn_close(c);
	srv_join(&s);
	assert_int_equal(s.act_ret, 0);

	srv_start(&s, "127.0.0.1", a, act_send);
	s.n = 5;
	srv_run(&s);
	c = xfx_client("127.0.0.1", &s, a);
	ret = xfer_conn_read(c, b, 10);
	assert_int_equal(ret, -EPIPE);
	assert_non_null(strstr(xfer_conn_error(c), "in the middle"));
	xfer_conn_close(c);
	srv_join(&s);
}

static void test_eof(void **state)
{
	struct xfer_auth *key = xfx_key(1), *plain = xfx_insecure();

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
	c = xfx_client("127.0.0.1", &s, a);
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
	struct xfer_auth *key = xfx_key(1), *plain = xfx_insecure();

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
	c = xfx_client("127.0.0.1", &s, a);
	xfer_conn_timeout(c, 200);
	t0 = xfx_now();
	assert_int_equal(xfer_conn_read(c, buf, 1), -ETIMEDOUT);
	assert_true(xfx_now() - t0 >= 0.15 && xfx_now() - t0 < 2);
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
	struct xfer_auth *key = xfx_key(1), *plain = xfx_insecure();

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
	c = xfx_client("127.0.0.1", &s, a);
	t0 = xfx_now();
	cpu0 = xfx_cpu();
	for (unsigned f = 0; f < frames; f++)
		assert_int_equal(xfer_conn_writev(c, iov, 1 + BIG / PG), 0);
	xfer_conn_close(c);
	srv_join(&s);
	t = xfx_now() - t0;
	cpu = xfx_cpu() - cpu0;
	assert_int_equal(s.act_ret, 0);
	assert_int_equal(s.n, (size_t)frames * (BIG + sizeof(hdr)));
	print_message("bench %s: %u MiB in %.3f s: %.0f MB/s (%.3f s of CPU)\n",
		      xfer_auth_is_insecure(a) ? "plaintext" : "TLS", frames * 4, t,
		      frames * (double)BIG / t / 1e6, cpu);
	free(buf);
}

static void test_bench(void **state)
{
	struct xfer_auth *key = xfx_key(1), *plain = xfx_insecure();
	const char *env = getenv("XFER_BENCH_MB");
	unsigned mb = env ? (unsigned)atoi(env) : 64;
	struct xfer_conn *c;
	struct srv s;

	(void)state;
	srv_start(&s, "127.0.0.1", key, act_close);
	srv_run(&s);
	c = xfx_client("127.0.0.1", &s, key);
	print_message("cipher: %s\n", xfer_conn_cipher(c));
	xfer_conn_close(c);
	srv_join(&s);
	bench(key, mb);
	bench(plain, mb);
	xfer_auth_free(key);
	xfer_auth_free(plain);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_tls), cmocka_unit_test(test_roundtrip_insecure),
		cmocka_unit_test(test_ipv6),	      cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_eof),	      cmocka_unit_test(test_peer_gone),
		cmocka_unit_test(test_timeouts),      cmocka_unit_test(test_bench),
	};

	return cmocka_run_group_tests(tests, xfx_setup, xfx_teardown);
}
