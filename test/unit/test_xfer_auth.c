/* test_xfer_auth: who gets in through lazy-pages/xfer-conn.h, on 127.0.0.1 port 0 (the server
 * end in a thread: xfer_fixture.h).
 * - keys: a missing file, one of 31 bytes, one group/others may read or write, one over 1 MiB,
 *   one not ours (as root), a directory: refused, naming the file; 32 bytes and 1 MiB load.
 * - wrong key: both ends refuse the handshake, saying the keys differ.
 * - psk_ke: a plain GnuTLS client with the right key gets in offering ECDHE-PSK, and is
 *   refused offering PSK without (EC)DHE (no forward secrecy).
 * - mixed: a TLS client of a plaintext server and a plaintext client of a TLS server are
 *   refused, naming it, and nobody hangs.
 * - silent client: a client that connects and says nothing gives -ETIMEDOUT at accept within
 *   the handshake timeout. */
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
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "xfer_fixture.h"

static void test_keys(void **state)
{
	struct img_err err = { 0 };
	struct xfer_auth *a = NULL;
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/none", xfx_dir);
	assert_int_equal(xfer_auth_load(path, &a, &err), -ENOENT);
	assert_non_null(strstr(err.msg, path));
	assert_null(a);

	xfx_key_file("short", path, sizeof(path), 31, 1, 0600);
	assert_int_equal(xfer_auth_load(path, &a, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "at least 32"));

	xfx_key_file("open", path, sizeof(path), 64, 1, 0644);
	assert_int_equal(xfer_auth_load(path, &a, &err), -EPERM);
	assert_non_null(strstr(err.msg, "mode 0644"));
	xfx_key_file("group-w", path, sizeof(path), 64, 1, 0620);
	assert_int_equal(xfer_auth_load(path, &a, &err), -EPERM);

	xfx_key_file("huge", path, sizeof(path), (1u << 20) + 1, 1, 0600);
	assert_int_equal(xfer_auth_load(path, &a, &err), -EFBIG);

	snprintf(path, sizeof(path), "%s", xfx_dir);
	assert_int_equal(xfer_auth_load(path, &a, &err), -EINVAL);

	xfx_key_file("theirs", path, sizeof(path), 64, 1, 0600);
	if (geteuid() == 0 && chown(path, 1, 1) == 0) {
		assert_int_equal(xfer_auth_load(path, &a, &err), -EPERM);
		assert_non_null(strstr(err.msg, "not by us"));
	}

	xfx_key_file("exact", path, sizeof(path), 32, 1, 0600);
	assert_int_equal(xfer_auth_load(path, &a, &err), 0);
	xfer_auth_free(a);
	xfx_key_file("max", path, sizeof(path), 1u << 20, 1, 0400);
	assert_int_equal(xfer_auth_load(path, &a, &err), 0);
	xfer_auth_free(a);
	xfer_auth_free(NULL);
}

static void test_wrong_key(void **state)
{
	struct xfer_auth *mine = xfx_key(1), *theirs = xfx_key(2);
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
	struct xfer_auth *key = xfx_key(1);
	char path[128];
	struct srv s;
	int ret;

	(void)state;
	snprintf(path, sizeof(path), "%s/key-1", xfx_dir);
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
	struct xfer_auth *key = xfx_key(1), *plain = xfx_insecure();
	struct img_err err = { 0 };
	struct xfer_conn *c = NULL;
	struct srv s;
	double t0;
	int ret;

	(void)state;
	srv_start(&s, "127.0.0.1", plain, act_read4);
	srv_run(&s);
	t0 = xfx_now();
	ret = xfer_connect("127.0.0.1", s.port, key, HS_TIMEOUT, &c, &err);
	srv_join(&s);
	print_message("TLS client, plaintext server: client: %d %s (%.3f s)\n", ret, err.msg,
		      xfx_now() - t0);
	print_message("TLS client, plaintext server: server: %d %s\n", s.act_ret, s.msg);
	assert_true(xfx_now() - t0 < 3);
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
	struct xfer_auth *key = xfx_key(1), *plain = xfx_insecure();
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
	t0 = xfx_now();
	c = xfx_client("127.0.0.1", &s, plain);
	xfer_conn_timeout(c, HS_TIMEOUT);
	assert_int_equal(xfer_conn_writev(c, &iov, 1), 0);
	ret = xfer_conn_read(c, &back, 4);
	print_message("plaintext client, TLS server: client: %d %s (%.3f s)\n", ret,
		      xfer_conn_error(c), xfx_now() - t0);
	xfer_conn_close(c);
	srv_join(&s);
	print_message("plaintext client, TLS server: server: %d %s\n", s.ret, s.msg);
	assert_true(xfx_now() - t0 < 3);
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
	struct xfer_auth *key = xfx_key(1);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_psk_ke_refused),
		cmocka_unit_test(test_tls_client_plain_server),
		cmocka_unit_test(test_plain_client_tls_server),
		cmocka_unit_test(test_silent_client),
	};

	return cmocka_run_group_tests(tests, xfx_setup, xfx_teardown);
}
