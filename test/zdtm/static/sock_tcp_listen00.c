/* sock_tcp_listen00: listening, bound-only and unbound TCP sockets survive checkpoint/restore
 * with their addresses, ports and options. Listeners (port 0, no connection waiting at the
 * checkpoint): v4 on 127.0.0.1 with backlog 7; v6 on ::1 with IPV6_V6ONLY 1 and backlog 3;
 * dual-stack v6 on :: with IPV6_V6ONLY 0, SO_REUSEADDR 1 and backlog 11. Also a v4 TCP socket
 * only bound to 127.0.0.1 (port 0), and two never bound (a fresh socket() of each family).
 * After the restore:
 *  - each listener has its name of before, SO_ACCEPTCONN 1, the SO_REUSEADDR and IPV6_V6ONLY
 *    it had, SO_TYPE/SO_PROTOCOL/SO_DOMAIN of a TCP socket of its family, tcpi_state LISTEN
 *    and its backlog (TCP_INFO gives a listener's backlog in tcpi_sacked, its queue in
 *    tcpi_unacked: 0); a new client made now connects to it (the dual-stack one over
 *    127.0.0.1 and over ::1), is accepted and talks both ways;
 *  - the bound socket has its name, SO_ACCEPTCONN 0, tcpi_state CLOSE, the type, protocol and
 *    domain of before; it holds its port (a bind() of a new socket to it fails with
 *    EADDRINUSE), and listening on it then accepts a new client;
 *  - the unbound ones give 0.0.0.0:0 and [::]:0, tcpi_state CLOSE, their type, protocol and
 *    domain, and each connects to the v4 or v6 listener (and is accepted). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"
#include "zdtminet.h"

#define NLST 3

static const struct {
	const char *what, *ip;
	int v6only, reuse, backlog;
} lkinds[NLST] = {
	{ "v4 listener", "127.0.0.1", -1, 0, 7 },
	{ "v6 listener", "::1", 1, 0, 3 },
	{ "dual-stack listener", "::", 0, 1, 11 },
};

static const struct test_sockopt opts4[] = {
	TEST_SOCKOPT(SOL_SOCKET, SO_ACCEPTCONN), TEST_SOCKOPT(SOL_SOCKET, SO_REUSEADDR),
	TEST_SOCKOPT(SOL_SOCKET, SO_TYPE),	 TEST_SOCKOPT(SOL_SOCKET, SO_PROTOCOL),
	TEST_SOCKOPT(SOL_SOCKET, SO_DOMAIN),	 TEST_SOCKOPT(IPPROTO_IPV6, IPV6_V6ONLY),
};
#define NOPTS4 5 /* v4 sockets: all but IPV6_V6ONLY */
#define NOPTS6 6

static int lst[NLST], bound, unb4, unb6;
static struct test_name lname[NLST], bname;
static struct test_sockval lvals[NLST][NOPTS6], bvals[NOPTS6], u4vals[NOPTS6], u6vals[NOPTS6];

static int setup(void)
{
	for (int i = 0; i < NLST; i++) {
		struct test_name a;

		if (test_name_make(&a, lkinds[i].ip, 0))
			return -1;
		lst[i] = socket(a.a.ss_family, SOCK_STREAM, 0);
		if (lst[i] < 0 ||
		    (lkinds[i].v6only >= 0 &&
		     test_setsockopt_int(lst[i], IPPROTO_IPV6, IPV6_V6ONLY, lkinds[i].v6only)) ||
		    test_setsockopt_int(lst[i], SOL_SOCKET, SO_REUSEADDR, lkinds[i].reuse) ||
		    bind(lst[i], (struct sockaddr *)&a.a, a.len) ||
		    listen(lst[i], lkinds[i].backlog) || test_name_get(lst[i], false, &lname[i]))
			return -1;
	}
	bound = test_inet_bound(SOCK_STREAM, "127.0.0.1", -1, false, &bname);
	unb4 = socket(AF_INET, SOCK_STREAM, 0);
	unb6 = socket(AF_INET6, SOCK_STREAM, 0);
	return bound < 0 || unb4 < 0 || unb6 < 0 ? -1 : 0;
}

static int take_opts(void)
{
	for (int i = 0; i < NLST; i++)
		if (test_sockopts_get(lkinds[i].what, lst[i], opts4,
				      lname[i].a.ss_family == AF_INET ? NOPTS4 : NOPTS6, lvals[i]))
			return -1;
	if (test_sockopts_get("bound socket", bound, opts4, NOPTS4, bvals) ||
	    test_sockopts_get("unbound v4 socket", unb4, opts4, NOPTS4, u4vals) ||
	    test_sockopts_get("unbound v6 socket", unb6, opts4, NOPTS6, u6vals))
		return -1;
	return 0;
}

/* tcpi_state, and for a listener its backlog and queue */
static int check_info(const char *what, int fd, int state, int backlog)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len)) {
		fail_errno("%s: getsockopt(TCP_INFO)", what);
		return -1;
	}
	if (ti.tcpi_state != state ||
	    (state == TCP_LISTEN && (ti.tcpi_sacked != (unsigned)backlog || ti.tcpi_unacked))) {
		fail("%s: tcpi_state %u, backlog (tcpi_sacked) %u, queue (tcpi_unacked) %u; "
		     "expected %d, %d, 0",
		     what, ti.tcpi_state, ti.tcpi_sacked, ti.tcpi_unacked, state, backlog);
		return -1;
	}
	return 0;
}

static int check_listeners(void)
{
	struct test_name any4, lo6;

	for (int i = 0; i < NLST; i++) {
		const char *w = lkinds[i].what;

		if (test_name_same(w, lst[i], false, &lname[i]) ||
		    test_sockopts_same(w, lst[i], opts4,
				       lname[i].a.ss_family == AF_INET ? NOPTS4 : NOPTS6,
				       lvals[i]) ||
		    check_info(w, lst[i], TCP_LISTEN, lkinds[i].backlog))
			return -1;
	}
	if (test_tcp_new_client(lkinds[0].what, lst[0], &lname[0]) ||
	    test_tcp_new_client(lkinds[1].what, lst[1], &lname[1]))
		return -1;
	/* the dual-stack listener takes v4 and v6 clients at its port */
	test_name_make(&any4, "127.0.0.1", test_name_port(&lname[2]));
	test_name_make(&lo6, "::1", test_name_port(&lname[2]));
	if (test_tcp_new_client("dual-stack listener, over 127.0.0.1", lst[2], &any4) ||
	    test_tcp_new_client("dual-stack listener, over ::1", lst[2], &lo6))
		return -1;
	return 0;
}

static int check_bound(void)
{
	const char *w = "bound socket";
	int other;

	if (test_name_same(w, bound, false, &bname) ||
	    test_sockopts_same(w, bound, opts4, NOPTS4, bvals) ||
	    check_info(w, bound, TCP_CLOSE, 0))
		return -1;
	other = socket(AF_INET, SOCK_STREAM, 0);
	if (other < 0 || bind(other, (struct sockaddr *)&bname.a, bname.len) == 0 ||
	    errno != EADDRINUSE) {
		char n[64];

		fail_errno("%s: a new socket could bind to its address %s: expected EADDRINUSE, "
			   "the port held",
			   w, test_name_str(&bname, n, sizeof(n)));
		return -1;
	}
	close(other);
	if (listen(bound, 1)) {
		fail_errno("%s: listen() after the restore", w);
		return -1;
	}
	return test_tcp_new_client(w, bound, &bname);
}

/* connect() the unbound socket fd to the listener l at to; the listener accepts it. */
static int check_unbound(const char *what, int fd, const char *zero, const struct test_sockval *v,
			 int nopts, int l, const struct test_name *to)
{
	struct test_name z;
	int a;

	if (test_name_make(&z, zero, 0) || test_name_same(what, fd, false, &z) ||
	    test_sockopts_same(what, fd, opts4, nopts, v) || check_info(what, fd, TCP_CLOSE, 0))
		return -1;
	if (connect(fd, (const struct sockaddr *)&to->a, to->len) ||
	    (a = accept(l, NULL, NULL)) < 0) {
		fail_errno("%s: can't connect it to a listener after the restore", what);
		return -1;
	}
	close(a);
	return 0;
}

int main(int argc, char **argv)
{
	if (test_init(argc, argv))
		return 1;
	if (setup()) {
		fail_errno("setup");
		return 1;
	}
	if (take_opts())
		return 1;
	if (test_daemon())
		return 1;
	test_waitsig();

	if (check_listeners() || check_bound() ||
	    check_unbound("unbound v4 socket", unb4, "0.0.0.0", u4vals, NOPTS4, lst[0],
			  &lname[0]) ||
	    check_unbound("unbound v6 socket", unb6, "::", u6vals, NOPTS6, lst[1], &lname[1]))
		return 1;
	pass();
	return 0;
}
