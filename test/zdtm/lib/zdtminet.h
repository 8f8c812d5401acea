/* zdtminet: what the zdtm tests of AF_INET/AF_INET6 sockets share (lib/inet.c): loopback
 * addresses, socket names, socket options read before the checkpoint and compared after it,
 * and established TCP connections over loopback with both ends in the test.
 *
 * Contract: every address is a loopback one of the test's network namespace as it is
 * (127.0.0.1, ::1, ::ffff:127.0.0.1, or the wildcard), every port comes from bind() to port 0
 * (tests run beside other things: never a fixed port). Functions that check state after the
 * restore report a difference with fail() (saying what was expected and what was seen) and
 * return -1; functions of the setup return -1 with errno set (the test fail_errno()s), or say
 * so where they fail() themselves. Nothing waits with a limit of its own: a wait for data
 * polls without a timeout, and the runner's time limit catches data that never comes. */
#ifndef ZDTM_ZDTMINET_H
#define ZDTM_ZDTMINET_H

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* An address as getsockname()/getpeername() give it, or as a test makes it. */
struct test_name {
	struct sockaddr_storage a;
	socklen_t len;
};

/* ip ("127.0.0.1", "::1", "::ffff:127.0.0.1", "::", "0.0.0.0") and port into n: 0, or -1
 * with errno EINVAL for a string that is not an address. */
int test_name_make(struct test_name *n, const char *ip, uint16_t port);
/* getsockname() (peer false) or getpeername() of fd into n: 0, or -1 with errno set. */
int test_name_get(int fd, bool peer, struct test_name *n);
uint16_t test_name_port(const struct test_name *n);
/* "127.0.0.1:4242", "[::1]:4242", "family 1 (length 16)": into buf, which is returned. */
const char *test_name_str(const struct test_name *n, char *buf, size_t len);
bool test_name_eq(const struct test_name *x, const struct test_name *y);
/* The name (or peer) of fd is still want: 0, or -1 after fail() with both. */
int test_name_same(const char *what, int fd, bool peer, const struct test_name *want);

/* A socket of family/type bound to ip port 0 (its name in *n when n is not NULL), after
 * setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, v6only) when v6only is 0 or 1 (-1: left as it is),
 * SOCK_NONBLOCK when nonblock: the fd, or -1 with errno set. */
int test_inet_bound(int type, const char *ip, int v6only, bool nonblock, struct test_name *n);

/* Socket options read as bytes (ints, struct linger, struct timeval, a device name). */
struct test_sockopt {
	const char *name;
	int level, opt;
};
#define TEST_SOCKOPT(level, opt)     \
	{                            \
#opt, (level), (opt) \
	}
#define TEST_SOCKVAL_MAX 64
struct test_sockval {
	socklen_t len;
	unsigned char v[TEST_SOCKVAL_MAX];
};
/* getsockopt() of each of the n options of fd into vals: 0, or -1 after fail() naming it. */
int test_sockopts_get(const char *what, int fd, const struct test_sockopt *o, int n,
		      struct test_sockval *vals);
/* Each of them reads now as it did into vals: 0, or -1 after fail() naming the first that
 * does not, with both values. */
int test_sockopts_same(const char *what, int fd, const struct test_sockopt *o, int n,
		       const struct test_sockval *vals);
/* getsockopt() of one int: 0, or -1 with errno set. */
int test_sockopt_int(int fd, int level, int opt, int *val);
/* setsockopt() of one int: 0, or -1 with errno set. */
int test_setsockopt_int(int fd, int level, int opt, int val);

/* TCP_INFO's state, options and window scales, and TCP_MAXSEG, of a connected TCP socket. */
struct test_tcp_params {
	uint8_t state, options, snd_wscale, rcv_wscale;
	int mss;
};
/* 0, or -1 with errno set. */
int test_tcp_params_get(int fd, struct test_tcp_params *p);
/* fd is in state want_state and has the options, window scales and MSS of before: 0, or -1
 * after fail() with both. */
int test_tcp_params_same(const char *what, int fd, int want_state,
			 const struct test_tcp_params *before);

/* TCP_INFO's tcpi_state of fd (TCP_ESTABLISHED, TCP_FIN_WAIT1, ...), or -1 with errno set. */
int test_tcp_state(int fd);
/* Until fd is in state want (polled every 1 ms, no limit of its own): 0, or -1 after fail(). */
int test_tcp_wait_state(const char *what, int fd, int want);
/* Exactly len bytes of pattern seed from fd (at most 1 MiB), then EOF (eof) or not: 0, or -1
 * after fail() saying what came. */
int test_read_exact(const char *what, int fd, size_t len, uint64_t seed, bool eof);

/* One established TCP connection over loopback with both ends in the test: c connected to
 * the listener l, s its accepted end. What each end sent before the checkpoint is a stream
 * of the pattern of seed (c to s) and seed + 1 (s to c), from offset 0: test_fill_pattern(). */
struct test_tcp_pair {
	const char *what; /* "v4", "v6", "v4-mapped v6": in messages */
	int l, c, s;
	struct test_name ln, cn, sn; /* their names; c's peer is sn, s's peer is cn */
	uint64_t seed;
	size_t c_to_s, s_to_c; /* bytes each way that send() took before the checkpoint */
	struct test_tcp_params cp, sp;
};
/* c (a TCP socket of l's family, not connected, with its options set) connects to the
 * listener l, which accepts s; both ends are made nonblocking: 0, or -1 with errno set. */
int test_tcp_pair_open(struct test_tcp_pair *p, const char *what, int l, int c, uint64_t seed);
/* Data in flight for the checkpoint: c sends c_to_s bytes, all of which s's receive queue
 * holds before this returns (poll with SO_RCVLOWAT, set back to 1 after); then s sends until
 * send() says EAGAIN: c's receive queue full, the rest in s's send queue (c's SO_RCVBUF
 * should be small). Then the names and test_tcp_params of both ends are taken. 0, or -1
 * after fail(). */
int test_tcp_pair_fill(struct test_tcp_pair *p, size_t c_to_s);
/* After the checkpoint: the names of l, c, s and their peers are those of before, l listens
 * (SO_ACCEPTCONN), c and s have no error (SO_ERROR) and are ESTABLISHED with the
 * test_tcp_params of before. Then each end sends post bytes more of its stream and shuts
 * down writing, and each reads until EOF: exactly the bytes of its peer's stream, before and
 * after, in order, none lost or repeated. 0, or -1 after fail(). */
int test_tcp_pair_check(struct test_tcp_pair *p, size_t post);
/* A new client connects to the listener l at to (a name l listens on), l accepts it, and
 * 3 bytes go each way: 0, or -1 after fail(). */
int test_tcp_new_client(const char *what, int l, const struct test_name *to);

#endif
