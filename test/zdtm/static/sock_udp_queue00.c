/* sock_udp_queue00: datagrams queued on UDP sockets at the checkpoint are read after the restore,
 * in order, each with its sender. Root (the restore gives them again through a raw socket).
 *  - a4: bound to 127.0.0.1, has 5 datagrams queued from s4: "one", an empty one, 3000 bytes of
 *    a pattern, 1472 bytes of another, "last";
 *  - dual: bound to [::] with IPV6_V6ONLY 0, has one datagram from s4 (so from
 *    ::ffff:127.0.0.1) then one from s6 (bound to ::1);
 *  - conn: bound, connected to peer; has one datagram from peer;
 *  - a4's own peek offset is on (SO_PEEK_OFF 0) and has walked past its first datagram (3).
 * After the restore: a4's SO_PEEK_OFF reads as before; each socket reads exactly its datagrams
 * (payload and sender: address and port), in order, then nothing more (EAGAIN). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"
#include "zdtminet.h"

#define NA4 5

static unsigned char big1[3000], big2[1472];
static const struct {
	const void *p;
	size_t len;
} msgs[NA4] = {
	{ "one", 3 }, { "", 0 }, { big1, sizeof(big1) }, { big2, sizeof(big2) }, { "last", 4 },
};

/* the next datagram of fd is want (len bytes) from the name of from */
static int read_one(const char *what, int fd, const void *want, size_t len,
		    const struct test_name *from)
{
	static unsigned char buf[65536];
	struct test_name src = { .len = sizeof(src.a) };
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char a[80], b[80];
	ssize_t n;

	if (poll(&p, 1, -1) != 1 || (n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
						  (struct sockaddr *)&src.a, &src.len)) < 0) {
		fail_errno("%s: recvfrom", what);
		return -1;
	}
	if ((size_t)n != len || memcmp(buf, want, len)) {
		fail("%s: a datagram of %zd bytes, expected the %zu bytes sent", what, n, len);
		return -1;
	}
	if (!test_name_eq(&src, from)) {
		fail("%s: from %s, expected %s", what, test_name_str(&src, a, sizeof(a)),
		     test_name_str(from, b, sizeof(b)));
		return -1;
	}
	return 0;
}

static int empty(const char *what, int fd)
{
	char c;

	if (recv(fd, &c, 1, MSG_DONTWAIT) != -1 || errno != EAGAIN) {
		fail("%s: more than the datagrams queued at the checkpoint", what);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct test_name na4, ndual, npeer, nconn, ns4, ns6, to, m4;
	int a4, dual, peer, conn, s4, s6, off = 0, off_after = -2;
	socklen_t l = sizeof(off_after);

	if (test_init(argc, argv))
		return 1;
	test_fill_pattern(big1, sizeof(big1), 11);
	test_fill_pattern(big2, sizeof(big2), 12);
	a4 = test_inet_bound(SOCK_DGRAM, "127.0.0.1", -1, false, &na4);
	dual = test_inet_bound(SOCK_DGRAM, "::", 0, false, &ndual);
	peer = test_inet_bound(SOCK_DGRAM, "127.0.0.1", -1, false, &npeer);
	conn = test_inet_bound(SOCK_DGRAM, "127.0.0.1", -1, false, &nconn);
	s4 = test_inet_bound(SOCK_DGRAM, "127.0.0.1", -1, false, &ns4);
	s6 = test_inet_bound(SOCK_DGRAM, "::1", -1, false, &ns6);
	if (a4 < 0 || dual < 0 || peer < 0 || conn < 0 || s4 < 0 || s6 < 0 ||
	    connect(conn, (struct sockaddr *)&npeer.a, npeer.len)) {
		fail_errno("sockets");
		return 1;
	}
	for (int i = 0; i < NA4; i++)
		if (sendto(s4, msgs[i].p, msgs[i].len, 0, (struct sockaddr *)&na4.a, na4.len) !=
		    (ssize_t)msgs[i].len) {
			fail_errno("sendto a4");
			return 1;
		}
	test_name_make(&to, "127.0.0.1", test_name_port(&ndual));
	test_name_make(&m4, "::ffff:127.0.0.1", test_name_port(&ns4));
	if (sendto(s4, "v4", 2, 0, (struct sockaddr *)&to.a, to.len) != 2 ||
	    (test_name_make(&to, "::1", test_name_port(&ndual)),
	     sendto(s6, "v6", 2, 0, (struct sockaddr *)&to.a, to.len)) != 2 ||
	    sendto(peer, "to conn", 7, 0, (struct sockaddr *)&nconn.a, nconn.len) != 7) {
		fail_errno("sendto");
		return 1;
	}
	/* every datagram is in before the checkpoint (loopback: a softirq away) */
	{
		struct pollfd p[3] = { { .fd = a4, .events = POLLIN },
				       { .fd = dual, .events = POLLIN },
				       { .fd = conn, .events = POLLIN } };

		for (int i = 0; i < 3; i++)
			while (poll(&p[i], 1, -1) != 1)
				;
	}
	/* the task's own peek offset, walked past the first datagram */
	if (setsockopt(a4, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off)) ||
	    recv(a4, (char[8]){ 0 }, 8, MSG_PEEK) != 3) {
		fail_errno("SO_PEEK_OFF");
		return 1;
	}
	if (getsockopt(a4, SOL_SOCKET, SO_PEEK_OFF, &off, &l)) {
		fail_errno("SO_PEEK_OFF");
		return 1;
	}

	test_daemon();
	test_waitsig();

	l = sizeof(off_after);
	if (getsockopt(a4, SOL_SOCKET, SO_PEEK_OFF, &off_after, &l) || off_after != off) {
		fail("a4: SO_PEEK_OFF %d, expected %d as before", off_after, off);
		return 1;
	}
	off = -1; /* reads from the head again */
	setsockopt(a4, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off));
	for (int i = 0; i < NA4; i++)
		if (read_one("a4", a4, msgs[i].p, msgs[i].len, &ns4))
			return 1;
	if (empty("a4", a4) || read_one("dual (from v4)", dual, "v4", 2, &m4) ||
	    read_one("dual (from v6)", dual, "v6", 2, &ns6) || empty("dual", dual) ||
	    read_one("conn", conn, "to conn", 7, &npeer) || empty("conn", conn))
		return 1;
	pass();
	return 0;
}
