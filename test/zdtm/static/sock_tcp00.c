/* sock_tcp00: established TCP connections over loopback, with data queued both ways, survive
 * checkpoint/restore (tests.desc opts=tcp-established: dump and restore get
 * --tcp-established). Three connections, both ends in the test: v4 (127.0.0.1), v6 (::1,
 * IPV6_V6ONLY) and v4-mapped v6 (::ffff:127.0.0.1 on a dual-stack listener), each a client c
 * connected to a listener (port 0) and the accepted end s. Before the connect c gets
 * SO_RCVBUF 4096, SO_SNDBUF 65536, TCP_NODELAY, SO_KEEPALIVE with TCP_KEEPIDLE 600,
 * TCP_KEEPINTVL 30, TCP_KEEPCNT 4, and TCP_USER_TIMEOUT 600000 ms; the listener, whose
 * buffers s inherits, SO_RCVBUF 131072 and SO_SNDBUF 32768 (s also gets TCP_KEEPIDLE 900).
 * In flight at the checkpoint (zdtminet.h, test_tcp_pair_fill()): 6000 bytes c sent sit in
 * s's receive queue; s sent a stream until EAGAIN: part of it sits in c's receive queue (its
 * window is small), the rest, unacked or not sent, in s's send queue (nonblocking ends).
 * After the restore, for each connection: the listener still listens on its name; c and s
 * have their names and peers of before, no SO_ERROR, tcpi_state ESTABLISHED, the same
 * tcpi_options (SACK, timestamps, window scaling), window scales and TCP_MAXSEG; those
 * socket options (and SO_RCVBUF/SO_SNDBUF as getsockopt gave them before) read the same on
 * both ends; then each end sends 100000 bytes more and shuts down writing, and each reads
 * until EOF exactly its peer's stream, before and after, in order, nothing lost or repeated;
 * last, the listener accepts a new client that talks both ways. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"
#include "zdtminet.h"

#define NPAIRS 3
#define C_TO_S 6000u
#define POST   100000u
#define SEED   0x7c900000u

static const struct test_sockopt opts[] = {
	TEST_SOCKOPT(SOL_SOCKET, SO_RCVBUF),	 TEST_SOCKOPT(SOL_SOCKET, SO_SNDBUF),
	TEST_SOCKOPT(IPPROTO_TCP, TCP_NODELAY),	 TEST_SOCKOPT(SOL_SOCKET, SO_KEEPALIVE),
	TEST_SOCKOPT(IPPROTO_TCP, TCP_KEEPIDLE), TEST_SOCKOPT(IPPROTO_TCP, TCP_KEEPINTVL),
	TEST_SOCKOPT(IPPROTO_TCP, TCP_KEEPCNT),	 TEST_SOCKOPT(IPPROTO_TCP, TCP_USER_TIMEOUT),
	TEST_SOCKOPT(SOL_SOCKET, SO_TYPE),	 TEST_SOCKOPT(SOL_SOCKET, SO_PROTOCOL),
	TEST_SOCKOPT(SOL_SOCKET, SO_DOMAIN),
};
#define NOPTS ((int)(sizeof(opts) / sizeof(opts[0])))

static const struct {
	const char *what, *ip;
	int v6only;
} kinds[NPAIRS] = {
	{ "v4", "127.0.0.1", -1 },
	{ "v6", "::1", 1 },
	{ "v4-mapped v6", "::ffff:127.0.0.1", 0 },
};

static struct test_tcp_pair pairs[NPAIRS];
static struct test_sockval cvals[NPAIRS][NOPTS], svals[NPAIRS][NOPTS];

/* int options in a row: 0, or -1 with errno and *which naming the one refused */
static int set_ints(int fd, const int (*o)[3], int n, int *which)
{
	for (*which = 0; *which < n; (*which)++)
		if (test_setsockopt_int(fd, o[*which][0], o[*which][1], o[*which][2]))
			return -1;
	return 0;
}

static int open_pair(int i)
{
	static const int lopts[][3] = {
		{ SOL_SOCKET, SO_RCVBUF, 131072 },
		{ SOL_SOCKET, SO_SNDBUF, 32768 },
	};
	static const int copts[][3] = {
		{ SOL_SOCKET, SO_RCVBUF, 4096 },    { SOL_SOCKET, SO_SNDBUF, 65536 },
		{ IPPROTO_TCP, TCP_NODELAY, 1 },    { SOL_SOCKET, SO_KEEPALIVE, 1 },
		{ IPPROTO_TCP, TCP_KEEPIDLE, 600 }, { IPPROTO_TCP, TCP_KEEPINTVL, 30 },
		{ IPPROTO_TCP, TCP_KEEPCNT, 4 },    { IPPROTO_TCP, TCP_USER_TIMEOUT, 600000 },
	};
	struct test_name ln;
	int l, c, which = 0;

	l = test_inet_bound(SOCK_STREAM, kinds[i].ip, kinds[i].v6only, false, &ln);
	if (l < 0 || set_ints(l, lopts, 2, &which) || listen(l, 4)) {
		fail_errno("%s: setup: listener on %s (option %d)", kinds[i].what, kinds[i].ip,
			   which);
		return -1;
	}
	c = socket(ln.a.ss_family, SOCK_STREAM, 0);
	if (c < 0 || set_ints(c, copts, (int)(sizeof(copts) / sizeof(copts[0])), &which)) {
		fail_errno("%s: setup: client socket (option %d)", kinds[i].what, which);
		return -1;
	}
	if (test_tcp_pair_open(&pairs[i], kinds[i].what, l, c, SEED + 0x100u * (unsigned)i) ||
	    test_setsockopt_int(pairs[i].s, IPPROTO_TCP, TCP_KEEPIDLE, 900)) {
		fail_errno("%s: setup: connecting to %s", kinds[i].what, kinds[i].ip);
		return -1;
	}
	return 0;
}

static int setup(void)
{
	for (int i = 0; i < NPAIRS; i++) {
		if (open_pair(i) || test_tcp_pair_fill(&pairs[i], C_TO_S))
			return -1;
		if (test_sockopts_get(pairs[i].what, pairs[i].c, opts, NOPTS, cvals[i]) ||
		    test_sockopts_get(pairs[i].what, pairs[i].s, opts, NOPTS, svals[i]))
			return -1;
	}
	return 0;
}

static int check(int i)
{
	struct test_tcp_pair *p = &pairs[i];
	char cw[48], sw[48];

	snprintf(cw, sizeof(cw), "%s: client end", p->what);
	snprintf(sw, sizeof(sw), "%s: server end", p->what);
	if (test_sockopts_same(cw, p->c, opts, NOPTS, cvals[i]) ||
	    test_sockopts_same(sw, p->s, opts, NOPTS, svals[i]))
		return -1;
	return test_tcp_pair_check(p, POST) || test_tcp_new_client(p->what, p->l, &p->ln) ? -1 : 0;
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

	for (int i = 0; i < NPAIRS; i++)
		if (check(i))
			return 1;
	pass();
	return 0;
}
