/* sock_tcp_refuse00: without --tcp-established the dump refuses an established TCP
 * connection, and leaves it exactly as it was (tests.desc expect=dumpfail
 * dumpmsg=tcp-established, no opts=tcp-established: the dump must fail with an error naming
 * the socket and saying --tcp-established is needed; the test is then checked without a
 * restore). One connection over 127.0.0.1, both ends in the test: a client c (SO_RCVBUF 4096,
 * TCP_NODELAY, SO_KEEPALIVE) connected to a listener (port 0) and its accepted end s, with
 * data in flight (zdtminet.h, test_tcp_pair_fill()): 6000 bytes c sent sit in s's receive
 * queue, and s sent until EAGAIN, part of it in c's receive queue and the rest in s's send
 * queue. After the failed dump: the listener, c and s have their names and peers, c and s no
 * SO_ERROR (a RST would have left ECONNRESET), tcpi_state ESTABLISHED with the options,
 * window scales and MSS of before, and the socket options of before; each end sends 100000
 * bytes more and shuts down writing, and each reads until EOF exactly its peer's stream,
 * before and after, in order; the listener accepts a new client. */
#include <stdio.h>
#include <unistd.h>

#include "zdtmtst.h"
#include "zdtminet.h"

#define C_TO_S 6000u
#define POST   100000u
#define SEED   0x4ef05e00u

static const struct test_sockopt opts[] = {
	TEST_SOCKOPT(SOL_SOCKET, SO_RCVBUF),
	TEST_SOCKOPT(SOL_SOCKET, SO_SNDBUF),
	TEST_SOCKOPT(IPPROTO_TCP, TCP_NODELAY),
	TEST_SOCKOPT(SOL_SOCKET, SO_KEEPALIVE),
};
#define NOPTS ((int)(sizeof(opts) / sizeof(opts[0])))

static struct test_tcp_pair pair;
static struct test_sockval cvals[NOPTS], svals[NOPTS];

static int setup(void)
{
	int l = test_inet_bound(SOCK_STREAM, "127.0.0.1", -1, false, NULL);
	int c = socket(AF_INET, SOCK_STREAM, 0);

	if (l < 0 || c < 0 || listen(l, 4) ||
	    test_setsockopt_int(l, SOL_SOCKET, SO_SNDBUF, 32768) ||
	    test_setsockopt_int(c, SOL_SOCKET, SO_RCVBUF, 4096) ||
	    test_setsockopt_int(c, IPPROTO_TCP, TCP_NODELAY, 1) ||
	    test_setsockopt_int(c, SOL_SOCKET, SO_KEEPALIVE, 1) ||
	    test_tcp_pair_open(&pair, "v4", l, c, SEED)) {
		fail_errno("setup: a connection over 127.0.0.1");
		return -1;
	}
	if (test_tcp_pair_fill(&pair, C_TO_S) ||
	    test_sockopts_get("client end", pair.c, opts, NOPTS, cvals) ||
	    test_sockopts_get("server end", pair.s, opts, NOPTS, svals))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	if (test_init(argc, argv))
		return 1;
	if (setup())
		return 1;
	if (test_daemon())
		return 1;
	test_waitsig();

	if (test_sockopts_same("client end", pair.c, opts, NOPTS, cvals) ||
	    test_sockopts_same("server end", pair.s, opts, NOPTS, svals) ||
	    test_tcp_pair_check(&pair, POST) || test_tcp_new_client("v4", pair.l, &pair.ln))
		return 1;
	pass();
	return 0;
}
