/* sock_udp00: UDP sockets survive checkpoint/restore with their addresses, peers, shutdown
 * state and options. No datagram is left unread at the checkpoint (queued datagrams:
 * sock_udp_queue00). For v4 (127.0.0.1) and v6 (::1) each, sockets (ports from 0):
 *  - unb: never bound; bnd: bound; peer: bound; conn: SO_REUSEADDR, connect()ed to peer
 *    (autobound by the connect: a v6 one keeps IPV6_V6ONLY 0, which a bind() to ::1 would
 *    have made 1; bound to [::] and then connected it reads the same);
 *  - shut: connect()ed to peer, then shutdown(SHUT_WR), after which send() fails with EPIPE
 *    (on a connected UDP socket shutdown() returns 0; the kernel then refuses sends with
 *    EPIPE and still delivers what comes in; checked before the checkpoint too);
 * v4 only: bnd has SO_BROADCAST 1, SO_PRIORITY 5 and, as root, SO_MARK 42; conn has IP_TOS
 * 0x20 and IP_TTL 42; rp1 and rp2 have SO_REUSEADDR and SO_REUSEPORT and are bound to the
 * same port. v6 only: bnd has IPV6_V6ONLY 1; dual, bound to [::] with IPV6_V6ONLY 0.
 * After the restore: every socket has its name (unb: 0.0.0.0:0 or [::]:0) and peer (or none:
 * ENOTCONN) of before and its options (SO_TYPE, SO_PROTOCOL, SO_DOMAIN, SO_BROADCAST,
 * SO_REUSEADDR, SO_REUSEPORT, SO_PRIORITY, SO_MARK; IP_TOS and IP_TTL or IPV6_V6ONLY). Then,
 * datagrams sent now arrive where they must, each waited for without a limit of its own: conn
 * to peer (from conn's name; on v4 with TTL 42 and TOS 0x20 as IP_RECVTTL/IP_RECVTOS show
 * them), peer to conn; with a catcher bound now to conn's name (SO_REUSEADDR), a new socket's
 * datagram to that name reaches the catcher (conn takes only its peer's), after which conn
 * holds only the next one from peer; shut's send() fails with EPIPE, and it receives what peer
 * sends it; bnd receives from a new socket, and from unb (then autobound to a port); rp1 or rp2
 * receives what is sent to their port, which a new socket can't bind (EADDRINUSE); dual
 * receives from a v4 socket (as ::ffff:127.0.0.1), and the v4 bnd's datagram to 127.255.255.255
 * at dual's port (which needs SO_BROADCAST). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"
#include "zdtminet.h"

enum { U4, B4, P4, C4, S4, R4A, R4B, U6, B6, P6, C6, S6, D6, NSOCK };

#define TOS  0x20
#define TTL  42
#define PRIO 5
#define MARK 42

/* what every UDP socket here has, then the options of its family */
#define OPTS_COMMON                                                                         \
	TEST_SOCKOPT(SOL_SOCKET, SO_TYPE), TEST_SOCKOPT(SOL_SOCKET, SO_PROTOCOL),           \
	    TEST_SOCKOPT(SOL_SOCKET, SO_DOMAIN), TEST_SOCKOPT(SOL_SOCKET, SO_BROADCAST),    \
	    TEST_SOCKOPT(SOL_SOCKET, SO_REUSEADDR), TEST_SOCKOPT(SOL_SOCKET, SO_REUSEPORT), \
	    TEST_SOCKOPT(SOL_SOCKET, SO_PRIORITY), TEST_SOCKOPT(SOL_SOCKET, SO_MARK)
static const struct test_sockopt opts4[] = {
	OPTS_COMMON,
	TEST_SOCKOPT(IPPROTO_IP, IP_TOS),
	TEST_SOCKOPT(IPPROTO_IP, IP_TTL),
};
static const struct test_sockopt opts6[] = {
	OPTS_COMMON,
	TEST_SOCKOPT(IPPROTO_IPV6, IPV6_V6ONLY),
};
#define NOPTS ((int)(sizeof(opts4) / sizeof(opts4[0])))

static struct usock {
	const char *what;
	int fd;
	bool v6, connected;
	struct test_name name, peer;
	struct test_sockval vals[NOPTS];
} sk[NSOCK] = {
	[U4] = { .what = "v4 unbound" },
	[B4] = { .what = "v4 bound" },
	[P4] = { .what = "v4 peer" },
	[C4] = { .what = "v4 connected" },
	[S4] = { .what = "v4 shut down" },
	[R4A] = { .what = "v4 reuseport 1" },
	[R4B] = { .what = "v4 reuseport 2" },
	[U6] = { .what = "v6 unbound", .v6 = true },
	[B6] = { .what = "v6 bound", .v6 = true },
	[P6] = { .what = "v6 peer", .v6 = true },
	[C6] = { .what = "v6 connected", .v6 = true },
	[S6] = { .what = "v6 shut down", .v6 = true },
	[D6] = { .what = "v6 dual-stack", .v6 = true },
};
static bool marked; /* SO_MARK was set (root) */

static int opts_n(const struct usock *u)
{
	return u->v6 ? (int)(sizeof(opts6) / sizeof(opts6[0])) : NOPTS;
}

static const struct test_sockopt *opts_of(const struct usock *u)
{
	return u->v6 ? opts6 : opts4;
}

static int bind_to(int fd, const char *ip, uint16_t port)
{
	struct test_name a;

	return test_name_make(&a, ip, port) || bind(fd, (struct sockaddr *)&a.a, a.len) ? -1 : 0;
}

static int family_setup(bool v6)
{
	const char *lo = v6 ? "::1" : "127.0.0.1";
	int base = v6 ? U6 : U4, fam = v6 ? AF_INET6 : AF_INET;
	struct test_name pn;

	sk[base].fd = socket(fam, SOCK_DGRAM, 0);
	sk[base + 1].fd = test_inet_bound(SOCK_DGRAM, lo, v6 ? 1 : -1, false, NULL);
	sk[base + 2].fd = test_inet_bound(SOCK_DGRAM, lo, -1, false, &pn);
	sk[base + 3].fd = socket(fam, SOCK_DGRAM, 0);
	sk[base + 4].fd = socket(fam, SOCK_DGRAM, 0);
	for (int i = base; i < base + 5; i++)
		if (sk[i].fd < 0)
			return -1;
	if (test_setsockopt_int(sk[base + 3].fd, SOL_SOCKET, SO_REUSEADDR, 1) ||
	    connect(sk[base + 3].fd, (struct sockaddr *)&pn.a, pn.len) ||
	    connect(sk[base + 4].fd, (struct sockaddr *)&pn.a, pn.len) ||
	    shutdown(sk[base + 4].fd, SHUT_WR))
		return -1;
	sk[base + 3].connected = sk[base + 4].connected = true;
	if (send(sk[base + 4].fd, "x", 1, MSG_NOSIGNAL) != -1 || errno != EPIPE) {
		fail_errno("setup: %s: send() after shutdown(SHUT_WR) must fail with EPIPE",
			   sk[base + 4].what);
		errno = EPROTO;
		return -1;
	}
	return 0;
}

static int setup(void)
{
	struct test_name ra;
	int b = 0;

	if (family_setup(false) || family_setup(true))
		return -1;
	if (test_setsockopt_int(sk[B4].fd, SOL_SOCKET, SO_BROADCAST, 1) ||
	    test_setsockopt_int(sk[B4].fd, SOL_SOCKET, SO_PRIORITY, PRIO) ||
	    test_setsockopt_int(sk[C4].fd, IPPROTO_IP, IP_TOS, TOS) ||
	    test_setsockopt_int(sk[C4].fd, IPPROTO_IP, IP_TTL, TTL))
		return -1;
	marked = !test_setsockopt_int(sk[B4].fd, SOL_SOCKET, SO_MARK, MARK);
	if (!marked)
		test_msg("SO_MARK not set (%s): not root", strerror(errno));
	for (int i = R4A; i <= R4B; i++) {
		sk[i].fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (sk[i].fd < 0 || test_setsockopt_int(sk[i].fd, SOL_SOCKET, SO_REUSEADDR, 1) ||
		    test_setsockopt_int(sk[i].fd, SOL_SOCKET, SO_REUSEPORT, 1) ||
		    bind_to(sk[i].fd, "127.0.0.1", i == R4A ? 0 : test_name_port(&ra)) ||
		    test_name_get(sk[i].fd, false, &ra))
			return -1;
	}
	sk[D6].fd = test_inet_bound(SOCK_DGRAM, "::", 0, false, NULL);
	if (sk[D6].fd < 0)
		return -1;
	for (int i = 0; i < NSOCK; i++) {
		if (test_name_get(sk[i].fd, false, &sk[i].name) ||
		    (sk[i].connected && test_name_get(sk[i].fd, true, &sk[i].peer)))
			return -1;
		if (test_sockopts_get(sk[i].what, sk[i].fd, opts_of(&sk[i]), opts_n(&sk[i]),
				      sk[i].vals)) {
			errno = EPROTO;
			return -1;
		}
	}
	if (test_sockopt_int(sk[B4].fd, SOL_SOCKET, SO_BROADCAST, &b) || b != 1) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

static int check_state(const struct usock *u)
{
	struct test_name p;

	if (test_name_same(u->what, u->fd, false, &u->name) ||
	    test_sockopts_same(u->what, u->fd, opts_of(u), opts_n(u), u->vals))
		return -1;
	if (u->connected)
		return test_name_same(u->what, u->fd, true, &u->peer);
	if (test_name_get(u->fd, true, &p) == 0 || errno != ENOTCONN) {
		char n[64];

		fail_errno("%s: getpeername gives %s: expected ENOTCONN, not connected as before",
			   u->what, test_name_str(&p, n, sizeof(n)));
		return -1;
	}
	return 0;
}

/* What one recvmsg() saw. */
struct dgram {
	char text[64];
	ssize_t len;
	struct test_name from;
	int ttl, tos; /* -1: no such cmsg */
};

/* Wait for one datagram on fd (poll without a limit), take it. */
static int recv_dgram(const char *what, int fd, struct dgram *d)
{
	char cbuf[256];
	struct iovec iov = { d->text, sizeof(d->text) - 1 };
	struct msghdr mh = { .msg_name = &d->from.a,
			     .msg_namelen = sizeof(d->from.a),
			     .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct pollfd pf = { .fd = fd, .events = POLLIN };

	memset(d, 0, sizeof(*d));
	d->ttl = d->tos = -1;
	while (poll(&pf, 1, -1) < 0) {
		if (errno != EINTR) {
			fail_errno("%s: poll", what);
			return -1;
		}
	}
	d->len = recvmsg(fd, &mh, MSG_DONTWAIT);
	if (d->len < 0) {
		fail_errno("%s: recvmsg", what);
		return -1;
	}
	d->from.len = mh.msg_namelen;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL)
			memcpy(&d->ttl, CMSG_DATA(c), sizeof(int));
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS)
			d->tos = *(unsigned char *)CMSG_DATA(c);
	}
	return 0;
}

/* Where a datagram of fd, autobound by its first send (to the wildcard address), comes from
 * over loopback: ip and fd's port. */
static int sent_from(int fd, const char *ip, struct test_name *from)
{
	struct test_name n;

	if (test_name_get(fd, false, &n) || test_name_make(from, ip, test_name_port(&n))) {
		fail_errno("getsockname of a sender");
		return -1;
	}
	return 0;
}

/* The next datagram on fd is text, from from. */
static int expect_dgram(const char *what, int fd, const char *text, const struct test_name *from,
			struct dgram *d)
{
	char f[64], w[64];

	if (recv_dgram(what, fd, d))
		return -1;
	if (d->len != (ssize_t)strlen(text) || memcmp(d->text, text, strlen(text)) ||
	    !test_name_eq(&d->from, from)) {
		fail("%s: received \"%.*s\" from %s, expected \"%s\" from %s", what, (int)d->len,
		     d->text, test_name_str(&d->from, f, sizeof(f)), text,
		     test_name_str(from, w, sizeof(w)));
		return -1;
	}
	return 0;
}

static int send_to(const char *what, int fd, const char *text, const struct test_name *to)
{
	ssize_t n = to ? sendto(fd, text, strlen(text), MSG_NOSIGNAL,
				(const struct sockaddr *)&to->a, to->len)
		       : send(fd, text, strlen(text), MSG_NOSIGNAL);

	if (n != (ssize_t)strlen(text)) {
		fail_errno("%s: sending \"%s\"", what, text);
		return -1;
	}
	return 0;
}

/* conn takes only its peer's datagrams: with a catcher bound now to conn's name (both have
 * SO_REUSEADDR), a new socket's datagram to that name goes to the catcher (the connected
 * socket does not match its source), after which conn holds only peer's next one. */
static int check_filter(int base, const char *lo)
{
	const struct usock *c = &sk[base + 3], *p = &sk[base + 2];
	int catcher = socket(c->name.a.ss_family, SOCK_DGRAM, 0);
	int stray = socket(c->name.a.ss_family, SOCK_DGRAM, 0);
	struct test_name from;
	struct dgram d;
	char x;

	if (catcher < 0 || stray < 0 || test_setsockopt_int(catcher, SOL_SOCKET, SO_REUSEADDR, 1) ||
	    bind(catcher, (const struct sockaddr *)&c->name.a, c->name.len)) {
		fail_errno("%s: a socket with SO_REUSEADDR can't bind to its name", c->what);
		return -1;
	}
	if (send_to("a new socket", stray, "stray", &c->name) || sent_from(stray, lo, &from) ||
	    expect_dgram("the catcher bound to the connected socket's name", catcher, "stray",
			 &from, &d))
		return -1;
	close(stray);
	close(catcher);
	if (send_to(p->what, p->fd, "peer-to-conn-2", &c->name) ||
	    expect_dgram(c->what, c->fd, "peer-to-conn-2", &p->name, &d))
		return -1;
	if (recv(c->fd, &x, 1, MSG_DONTWAIT) != -1 || errno != EAGAIN) {
		fail_errno("%s: holds one more datagram than its peer's: expected EAGAIN", c->what);
		return -1;
	}
	return 0;
}

static int check_family(bool v6)
{
	const char *lo = v6 ? "::1" : "127.0.0.1";
	int base = v6 ? U6 : U4, one = 1;
	struct usock *u = &sk[base], *b = &sk[base + 1], *p = &sk[base + 2], *c = &sk[base + 3],
		     *s = &sk[base + 4];
	struct test_name un;
	struct dgram d;
	int fresh;

	if (!v6 && (setsockopt(p->fd, IPPROTO_IP, IP_RECVTTL, &one, sizeof(one)) ||
		    setsockopt(p->fd, IPPROTO_IP, IP_RECVTOS, &one, sizeof(one)))) {
		fail_errno("%s: IP_RECVTTL/IP_RECVTOS", p->what);
		return -1;
	}
	if (send_to(c->what, c->fd, "conn-to-peer", NULL) ||
	    expect_dgram(p->what, p->fd, "conn-to-peer", &c->name, &d))
		return -1;
	if (!v6 && (d.ttl != TTL || d.tos != TOS)) {
		fail("%s: its datagram came with TTL %d and TOS %#x, expected %d and %#x", c->what,
		     d.ttl, d.tos, TTL, TOS);
		return -1;
	}
	if (send_to(p->what, p->fd, "peer-to-conn", &c->name) ||
	    expect_dgram(c->what, c->fd, "peer-to-conn", &p->name, &d) || check_filter(base, lo))
		return -1;
	if (send(s->fd, "x", 1, MSG_NOSIGNAL) != -1 || errno != EPIPE) {
		fail_errno("%s: send() must fail with EPIPE (shut down for writing)", s->what);
		return -1;
	}
	if (send_to(p->what, p->fd, "peer-to-shut", &s->name) ||
	    expect_dgram(s->what, s->fd, "peer-to-shut", &p->name, &d))
		return -1;
	fresh = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
	if (fresh < 0 || send_to("a new socket", fresh, "to-bound", &b->name) ||
	    sent_from(fresh, lo, &un) || expect_dgram(b->what, b->fd, "to-bound", &un, &d))
		return -1;
	close(fresh);
	/* the unbound one gets a port now, as any unbound socket would */
	if (send_to(u->what, u->fd, "from-unbound", &b->name) || sent_from(u->fd, lo, &un) ||
	    expect_dgram(b->what, b->fd, "from-unbound", &un, &d))
		return -1;
	if (!test_name_port(&un)) {
		fail("%s: still has port 0 after it sent", u->what);
		return -1;
	}
	return 0;
}

static int check_reuseport(void)
{
	struct pollfd pf[2] = { { .fd = sk[R4A].fd, .events = POLLIN },
				{ .fd = sk[R4B].fd, .events = POLLIN } };
	int fresh = socket(AF_INET, SOCK_DGRAM, 0), i;
	struct test_name fn;
	struct dgram d;

	if (fresh < 0 || bind(fresh, (struct sockaddr *)&sk[R4A].name.a, sk[R4A].name.len) == 0 ||
	    errno != EADDRINUSE) {
		fail_errno("%s: a new socket without SO_REUSEPORT could bind to its port: expected "
			   "EADDRINUSE",
			   sk[R4A].what);
		return -1;
	}
	if (send_to("a new socket", fresh, "to-reuseport", &sk[R4A].name) ||
	    sent_from(fresh, "127.0.0.1", &fn))
		return -1;
	while (poll(pf, 2, -1) < 0) {
		if (errno != EINTR) {
			fail_errno("poll");
			return -1;
		}
	}
	i = (pf[0].revents & POLLIN) ? R4A : R4B;
	close(fresh);
	return expect_dgram(sk[i].what, sk[i].fd, "to-reuseport", &fn, &d);
}

static int check_dual(void)
{
	struct test_name to, from;
	int v4 = socket(AF_INET, SOCK_DGRAM, 0);
	struct dgram d;

	if (v4 < 0 || test_name_make(&to, "127.0.0.1", test_name_port(&sk[D6].name)) ||
	    send_to("a new v4 socket", v4, "v4-to-dual", &to) ||
	    sent_from(v4, "::ffff:127.0.0.1", &from))
		return -1;
	close(v4);
	if (expect_dgram(sk[D6].what, sk[D6].fd, "v4-to-dual", &from, &d))
		return -1;
	/* the broadcast address of lo's 127.0.0.0/8: refused (EACCES) without SO_BROADCAST */
	if (test_name_make(&to, "127.255.255.255", test_name_port(&sk[D6].name)) ||
	    send_to(sk[B4].what, sk[B4].fd, "broadcast", &to) ||
	    test_name_make(&from, "::ffff:127.0.0.1", test_name_port(&sk[B4].name)) ||
	    expect_dgram(sk[D6].what, sk[D6].fd, "broadcast", &from, &d))
		return -1;
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
	if (test_daemon())
		return 1;
	test_waitsig();

	for (int i = 0; i < NSOCK; i++)
		if (check_state(&sk[i]))
			return 1;
	if (marked) {
		int m = 0;

		if (test_sockopt_int(sk[B4].fd, SOL_SOCKET, SO_MARK, &m) || m != MARK) {
			fail("%s: SO_MARK is %d, expected %d", sk[B4].what, m, MARK);
			return 1;
		}
	}
	if (check_family(false) || check_family(true) || check_reuseport() || check_dual())
		return 1;
	pass();
	return 0;
}
