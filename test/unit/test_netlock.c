/* test_netlock: the network lock (criu-lite/net/netlock.c), each test in a network namespace of
 * its own (skipped, saying so, without the right to make one):
 * - a TCP connection over 127.0.0.1, one over ::1 and one of an AF_INET6 socket connected to
 *   ::ffff:127.0.0.1 (IPv4 packets): locked, both ends send; each of the connection's two rules
 *   counts dropped packets (read back through libnftables), neither end has received a byte and
 *   both are still ESTABLISHED (no RST); unlocked, the retransmissions bring exactly what was
 *   sent, both ways;
 * - netlock_unlock() of a name never locked is 0; a lock of no connection can be unlocked;
 *   a second lock of a name replaces the first (its rules only, the first connection flows);
 * - refusals: bad names (-EINVAL, logged by netlock, never reaching nft), a name nft takes for a
 *   keyword (-EINVAL with nft's message), a connection of another family (-EINVAL, the table
 *   held before is still there, untouched);
 * - netlock_check() says yes here and leaves no table;
 * and after each test the namespace holds no table. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nftables/libnftables.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "criu-lite/net/netlock.h"
#include "util_fs.h"
#include "util_log.h"
#include "util_netns.h"

#define NAME	"criu-lite-test-1f"
#define WAIT_MS 10000 /* the bound of every wait */

struct pair {
	int cli, srv;		  /* the connecting end, the accepted one */
	struct netlock_conn conn; /* as cli sees it */
};

static bool own_netns(void)
{
	int ret = utest_own_netns();

	if (ret)
		print_message("skipped: no network namespace of our own (%s): run as root\n",
			      strerror(-ret));
	return !ret;
}

/* The output of an nft command (malloc'd), NULL when nft failed. */
static char *nft(const char *cmd)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	char *out = NULL;

	assert_non_null(ctx);
	assert_int_equal(nft_ctx_buffer_output(ctx), 0);
	assert_int_equal(nft_ctx_buffer_error(ctx), 0);
	if (!nft_run_cmd_from_buffer(ctx, cmd))
		out = strdup(nft_ctx_get_output_buffer(ctx));
	nft_ctx_free(ctx);
	return out;
}

static void assert_no_table(void)
{
	char *out = nft("list tables");

	assert_non_null(out);
	if (out[0])
		fail_msg("tables left behind: %s", out);
	free(out);
}

/* The packets each rule of table NAME counted, in order: how many rules (-1: no table). */
static int counters(long long *pkts, int max)
{
	char *out = nft("list chain inet " NAME " conns"), *p;
	int n = 0;

	if (!out)
		return -1;
	for (p = out; (p = strstr(p, "counter packets ")); p++) {
		assert_true(n < max);
		pkts[n++] = strtoll(p + strlen("counter packets "), NULL, 10);
	}
	free(out);
	return n;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int tcp_state(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
	return ti.tcpi_state;
}

static void addr_of(const struct sockaddr_storage *ss, uint8_t *addr, uint16_t *port)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;

		memcpy(addr, &a->sin_addr, 4);
		*port = ntohs(a->sin_port);
	} else {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;

		memcpy(addr, &a->sin6_addr, 16);
		*port = ntohs(a->sin6_port);
	}
}

/* ss = addr:port (port in network byte order): its length */
static socklen_t sockaddr_of(struct sockaddr_storage *ss, int family, const char *addr,
			     uint16_t port)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	ss->ss_family = (sa_family_t)family;
	if (family == AF_INET) {
		in->sin_port = port;
		assert_int_equal(inet_pton(AF_INET, addr, &in->sin_addr), 1);
		return sizeof(*in);
	}
	in6->sin6_port = port;
	assert_int_equal(inet_pton(AF_INET6, addr, &in6->sin6_addr), 1);
	return sizeof(*in6);
}

/* A connection from a socket of cli_family to a listener of srv_family on srv_addr, the
 * client connecting to to_addr (the listener's own, or its v4-mapped form): false, saying so,
 * when the listener can't be had here (no IPv6) */
static bool tcp_pair(struct pair *p, int srv_family, const char *srv_addr, int cli_family,
		     const char *to_addr)
{
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_of(&ss, srv_family, srv_addr, 0);
	int l = socket(srv_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (l < 0 || bind(l, (struct sockaddr *)&ss, len)) {
		print_message("skipped: no TCP listener on %s here: %s\n", srv_addr,
			      strerror(errno));
		if (l >= 0)
			close(l);
		return false;
	}
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&ss, &len), 0);
	/* sin_port and sin6_port are at the same offset */
	len = sockaddr_of(&ss, cli_family, to_addr, ((struct sockaddr_in *)&ss)->sin_port);
	p->cli = socket(cli_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(p->cli >= 0);
	assert_int_equal(connect(p->cli, (struct sockaddr *)&ss, len), 0);
	p->srv = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	assert_true(p->srv >= 0);
	close(l);
	memset(&p->conn, 0, sizeof(p->conn));
	p->conn.family = cli_family;
	len = sizeof(ss);
	assert_int_equal(getsockname(p->cli, (struct sockaddr *)&ss, &len), 0);
	addr_of(&ss, p->conn.src, &p->conn.sport);
	len = sizeof(ss);
	assert_int_equal(getpeername(p->cli, (struct sockaddr *)&ss, &len), 0);
	addr_of(&ss, p->conn.dst, &p->conn.dport);
	return true;
}

static void pair_close(struct pair *p)
{
	close(p->cli);
	close(p->srv);
}

/* Up to len bytes from fd within WAIT_MS: how many came */
static size_t recv_all(int fd, char *buf, size_t len)
{
	int64_t end = now_ms() + WAIT_MS;
	size_t got = 0;

	while (got < len && now_ms() < end) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&pfd, 1, (int)(end - now_ms())) <= 0)
			continue;
		r = recv(fd, buf + got, len - got, MSG_DONTWAIT);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

/* Until both rules of the one locked connection counted a drop (WAIT_MS at most); fails at once
 * if a byte reaches either end meanwhile */
static void wait_dropped(const struct pair *p)
{
	int64_t end = now_ms() + WAIT_MS;
	long long pkts[2] = { 0, 0 };

	for (;;) {
		struct pollfd pfd[2] = { { .fd = p->cli, .events = POLLIN },
					 { .fd = p->srv, .events = POLLIN } };

		assert_int_equal(counters(pkts, 2), 2);
		if (pkts[0] > 0 && pkts[1] > 0)
			return;
		if (now_ms() >= end)
			fail_msg("no drop counted in %d ms: forward %lld, reverse %lld packets",
				 WAIT_MS, pkts[0], pkts[1]);
		/* the pacing of the loop, and what must not happen */
		assert_int_equal(poll(pfd, 2, 20), 0);
	}
}

/* The lock holds p's bytes back both ways, without a RST; unlocked, they come, exactly */
static void locked_stream(struct pair *p)
{
	static const char up[] = "bytes from the client, held by the lock";
	static const char down[] = "and the server's answer, held as well";
	char buf[64];

	assert_int_equal(netlock_lock(NAME, &p->conn, 1), 0);
	assert_int_equal(send(p->cli, up, sizeof(up), 0), sizeof(up));
	assert_int_equal(send(p->srv, down, sizeof(down), 0), sizeof(down));
	wait_dropped(p);
	assert_int_equal(recv(p->srv, buf, sizeof(buf), MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(recv(p->cli, buf, sizeof(buf), MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(tcp_state(p->cli), TCP_ESTABLISHED);
	assert_int_equal(tcp_state(p->srv), TCP_ESTABLISHED);

	assert_int_equal(netlock_unlock(NAME), 0);
	assert_no_table();
	assert_int_equal(recv_all(p->srv, buf, sizeof(up)), sizeof(up));
	assert_memory_equal(buf, up, sizeof(up));
	assert_int_equal(recv_all(p->cli, buf, sizeof(down)), sizeof(down));
	assert_memory_equal(buf, down, sizeof(down));
	assert_int_equal(recv(p->srv, buf, sizeof(buf), MSG_DONTWAIT), -1); /* nothing more */
	assert_int_equal(tcp_state(p->cli), TCP_ESTABLISHED);
	pair_close(p);
}

/* A connection of this kind in a namespace of its own, through locked_stream() */
static void stream_test(int srv_family, const char *srv_addr, int cli_family, const char *to_addr)
{
	struct pair p;

	if (!own_netns() || !tcp_pair(&p, srv_family, srv_addr, cli_family, to_addr))
		skip();
	/* an AF_INET6 socket connected to an AF_INET one sees v4-mapped addresses */
	if (cli_family != srv_family)
		assert_int_equal(p.conn.src[10], 0xff);
	locked_stream(&p);
	assert_no_table();
}

static void test_v4(void **state)
{
	(void)state;
	stream_test(AF_INET, "127.0.0.1", AF_INET, "127.0.0.1");
}

static void test_v6(void **state)
{
	(void)state;
	stream_test(AF_INET6, "::1", AF_INET6, "::1");
}

static void test_v4mapped(void **state)
{
	(void)state;
	stream_test(AF_INET, "127.0.0.1", AF_INET6, "::ffff:127.0.0.1");
}

static void test_unlock_unlocked(void **state)
{
	(void)state;
	if (!own_netns())
		skip();
	assert_int_equal(netlock_unlock(NAME), 0);
	assert_int_equal(netlock_unlock(NAME), 0);
	assert_no_table();
}

static void test_empty(void **state)
{
	long long pkts[1];

	(void)state;
	if (!own_netns())
		skip();
	assert_int_equal(netlock_lock(NAME, NULL, 0), 0);
	assert_int_equal(counters(pkts, 1), 0); /* the table is there, with no rule */
	assert_int_equal(netlock_unlock(NAME), 0);
	assert_int_equal(counters(pkts, 1), -1);
	assert_no_table();
}

static bool has_port(const char *out, uint16_t port)
{
	char s[32];

	snprintf(s, sizeof(s), "sport %u ", port);
	return strstr(out, s) != NULL;
}

static void test_replace(void **state)
{
	static const char msg[] = "flows once the second lock replaced the first";
	long long pkts[4];
	struct pair a, b;
	char buf[64], *out;

	(void)state;
	if (!own_netns())
		skip();
	assert_true(tcp_pair(&a, AF_INET, "127.0.0.1", AF_INET, "127.0.0.1"));
	assert_true(tcp_pair(&b, AF_INET, "127.0.0.1", AF_INET, "127.0.0.1"));
	assert_int_equal(netlock_lock(NAME, &a.conn, 1), 0);
	assert_int_equal(netlock_lock(NAME, &b.conn, 1), 0);
	assert_int_equal(counters(pkts, 4), 2);
	out = nft("list table inet " NAME);
	assert_non_null(out);
	assert_true(has_port(out, b.conn.sport) && has_port(out, b.conn.dport));
	assert_false(has_port(out, a.conn.sport));
	free(out);
	assert_int_equal(send(a.cli, msg, sizeof(msg), 0), sizeof(msg));
	assert_int_equal(recv_all(a.srv, buf, sizeof(msg)), sizeof(msg));
	assert_memory_equal(buf, msg, sizeof(msg));
	assert_int_equal(netlock_unlock(NAME), 0);
	assert_no_table();
	pair_close(&a);
	pair_close(&b);
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
		"", "a b", "a\"b", "a;b", "a\nb", "a}b", "1abc", "-abc", "a.b", "a/b", "Ä-name",
	};
	struct netlock_conn c = { .family = AF_INET, .sport = 1, .dport = 2 };
	struct utest_logdir ld;
	char name[NETLOCK_NAME_MAX + 2];
	long long pkts[2];

	(void)state;
	if (!own_netns())
		skip();
	assert_int_equal(utest_logdir_open(&ld, "netlock"), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(netlock_lock(bad[i], &c, 1), -EINVAL);
		assert_int_equal(netlock_unlock(bad[i]), -EINVAL);
	}
	assert_int_equal(netlock_lock(NULL, &c, 1), -EINVAL);
	memset(name, 'a', sizeof(name));
	name[NETLOCK_NAME_MAX] = '\0'; /* 64 characters: the longest name */
	assert_int_equal(netlock_lock(name, &c, 1), 0);
	assert_int_equal(netlock_unlock(name), 0);
	name[NETLOCK_NAME_MAX] = 'a';
	name[NETLOCK_NAME_MAX + 1] = '\0';
	assert_int_equal(netlock_lock(name, &c, 1), -EINVAL);
	assert_no_table();
	assert_true(utest_log_has(ld.log, "table name \"a b\""));
	assert_false(utest_log_has(ld.log, "libnftables")); /* none of them reached nft */

	/* nft's parser takes "tcp" for a keyword: refused by nft, its message logged */
	assert_int_equal(netlock_lock("tcp", &c, 1), -EINVAL);
	assert_true(utest_log_has(ld.log, "table inet tcp: libnftables: Error: syntax error"));
	assert_no_table();

	/* a connection no socket has: refused whole, the lock held before stays as it was */
	assert_int_equal(netlock_lock(NAME, &c, 1), 0);
	c.family = AF_UNIX;
	assert_int_equal(netlock_lock(NAME, &c, 1), -EINVAL);
	c.family = AF_INET6;
	c.src[10] = c.src[11] = 0xff; /* v4-mapped on one end only */
	assert_int_equal(netlock_lock(NAME, &c, 1), -EINVAL);
	assert_int_equal(netlock_lock(NAME, NULL, 1), -EINVAL);
	assert_int_equal(counters(pkts, 2), 2);
	assert_int_equal(netlock_unlock(NAME), 0);
	assert_no_table();
	utest_logdir_close(&ld);
}

static void test_check(void **state)
{
	char why[256] = "";

	(void)state;
	if (!own_netns())
		skip();
	assert_int_equal(netlock_check(why, sizeof(why)), 0);
	assert_true(why[0]);
	assert_no_table();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4),	 cmocka_unit_test(test_v6),
		cmocka_unit_test(test_v4mapped), cmocka_unit_test(test_unlock_unlocked),
		cmocka_unit_test(test_empty),	 cmocka_unit_test(test_replace),
		cmocka_unit_test(test_refused),	 cmocka_unit_test(test_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
