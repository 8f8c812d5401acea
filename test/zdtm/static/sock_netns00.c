/* sock_netns00: sockets that live in another network namespace than their task's, and fds on
 * network namespaces (net:[INO]), survive checkpoint/restore in the right namespace. Root.
 *
 * Three namespaces: O, the one the test starts in (outside: the root's parent's); T, the
 * test's own (unshare at start: the tree's namespace); C, a third one no task lives in
 * (unshare, set up, setns back to T): lo up with 198.18.91.1/24 on it. Held by fds: nsfs fds
 * of O, T and C; in O a UDP socket bound to 127.0.0.1; in T a UDP socket bound to 127.0.0.1
 * port P; in C a UDP socket bound to 127.0.0.1 port P too (the same port: only different
 * namespaces allow that), one bound to 198.18.91.1, a TCP listener on 198.18.91.1 and a
 * NETLINK_ROUTE socket.
 * After the restore: each socket is in the namespace of its nsfs fd (SIOCGSKNS against fstat
 * of the fd), T's fd is the task's own namespace, and the three are distinct; every UDP socket
 * gets a datagram sent to its name from a new socket made in its namespace (entered through
 * the nsfs fd), the listener in C accepts a connection made in C and data goes through, and
 * the netlink socket answers a route request for 198.18.91.1 from C's table. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"
#include "zdtminet.h"

#define C_ADDR "198.18.91.1"

static ino_t ino_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

static ino_t sk_ns(int sk)
{
	int ns = ioctl(sk, SIOCGSKNS);
	ino_t i = ns < 0 ? 0 : ino_of(ns);

	if (ns >= 0)
		close(ns);
	return i;
}

static int open_ns(void)
{
	return open("/proc/thread-self/ns/net", O_RDONLY);
}

static int lo_up_with(const char *ip)
{
	struct ifreq r = { 0 };
	struct sockaddr_in *a = (struct sockaddr_in *)&r.ifr_addr;
	int s = socket(AF_INET, SOCK_DGRAM, 0), ret;

	snprintf(r.ifr_name, sizeof(r.ifr_name), "lo");
	ret = s < 0 || ioctl(s, SIOCGIFFLAGS, &r);
	r.ifr_flags |= IFF_UP;
	ret = ret || ioctl(s, SIOCSIFFLAGS, &r);
	if (ip) {
		snprintf(r.ifr_name, sizeof(r.ifr_name), "lo:1");
		memset(&r.ifr_addr, 0, sizeof(r.ifr_addr));
		a->sin_family = AF_INET;
		inet_pton(AF_INET, ip, &a->sin_addr);
		ret = ret || ioctl(s, SIOCSIFADDR, &r);
		inet_pton(AF_INET, "255.255.255.0", &a->sin_addr);
		ret = ret || ioctl(s, SIOCSIFNETMASK, &r);
	}
	if (s >= 0)
		close(s);
	return ret ? -1 : 0;
}

/* A UDP socket bound to ip:port (port 0: any), its name into n. */
static int udp_at(const char *ip, uint16_t port, struct test_name *n)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	if (s < 0 || test_name_make(n, ip, port) || bind(s, (struct sockaddr *)&n->a, n->len) ||
	    test_name_get(s, false, n))
		return -1;
	return s;
}

/* Enter namespace fd ns (-1: stay), run nothing else: the caller makes its sockets, then
 * back(). */
static int enter(int ns)
{
	return ns < 0 ? 0 : setns(ns, CLONE_NEWNET);
}

/* A datagram sent to n from a new socket of namespace ns arrives at s. */
static int udp_through(const char *what, int ns, int back, int s, const struct test_name *n)
{
	char msg[32], got[32] = "";
	struct pollfd p = { .fd = s, .events = POLLIN };
	int c;

	snprintf(msg, sizeof(msg), "to %s", what);
	if (enter(ns))
		return fail_errno("entering the namespace of %s", what), -1;
	c = socket(AF_INET, SOCK_DGRAM, 0);
	if (setns(back, CLONE_NEWNET))
		return fail_errno("back to the test's namespace"), -1;
	if (c < 0 || sendto(c, msg, strlen(msg), 0, (struct sockaddr *)&n->a, n->len) < 0 ||
	    poll(&p, 1, -1) != 1 || recv(s, got, sizeof(got) - 1, 0) != (ssize_t)strlen(msg) ||
	    strcmp(got, msg)) {
		fail_errno("a datagram to %s: got \"%s\"", what, got);
		return -1;
	}
	close(c);
	return 0;
}

/* The route to C_ADDR, asked through the netlink socket: answered from C's table (a local
 * route on lo; in another namespace, where the address is not, it is not local). */
static int route_check(int nl)
{
	struct {
		struct nlmsghdr h;
		struct rtmsg r;
		struct rtattr a;
		struct in_addr dst;
	} q = { .h = { .nlmsg_len = sizeof(q),
		       .nlmsg_type = RTM_GETROUTE,
		       .nlmsg_flags = NLM_F_REQUEST,
		       .nlmsg_seq = 7 },
		.r = { .rtm_family = AF_INET, .rtm_dst_len = 32 },
		.a = { .rta_len = RTA_LENGTH(4), .rta_type = RTA_DST } };
	char buf[4096];
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	struct sockaddr_nl k = { .nl_family = AF_NETLINK };
	ssize_t n;

	inet_pton(AF_INET, C_ADDR, &q.dst);
	if (sendto(nl, &q, sizeof(q), 0, (struct sockaddr *)&k, sizeof(k)) < 0 ||
	    (n = recv(nl, buf, sizeof(buf), 0)) < (ssize_t)NLMSG_LENGTH(sizeof(struct rtmsg)) ||
	    h->nlmsg_type != RTM_NEWROUTE || h->nlmsg_seq != 7) {
		fail_errno("a route request through the netlink socket (type %d)", h->nlmsg_type);
		return -1;
	}
	if (((struct rtmsg *)NLMSG_DATA(h))->rtm_type != RTN_LOCAL) {
		fail("the netlink socket answers for a namespace where %s is not local (type %d)",
		     C_ADDR, ((struct rtmsg *)NLMSG_DATA(h))->rtm_type);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct test_name o_n, t_n, c_n, c2_n, l_n;
	struct sockaddr_nl nla = { .nl_family = AF_NETLINK };
	int o_ns, t_ns, c_ns, o_sk, t_sk, c_sk, c2_sk, c_l, c_nl, c, a;
	char buf[8];

	if (test_init(argc, argv))
		return 1;
	o_ns = open_ns();
	o_sk = udp_at("127.0.0.1", 0, &o_n);
	if (o_ns < 0 || o_sk < 0 || unshare(CLONE_NEWNET) || lo_up_with(NULL) ||
	    (t_ns = open_ns()) < 0 || (t_sk = udp_at("127.0.0.1", 0, &t_n)) < 0) {
		fail_errno("the outside and the test's own namespace");
		return 1;
	}
	if (unshare(CLONE_NEWNET) || lo_up_with(C_ADDR) || (c_ns = open_ns()) < 0 ||
	    (c_sk = udp_at("127.0.0.1", test_name_port(&t_n), &c_n)) < 0 ||
	    (c2_sk = udp_at(C_ADDR, 0, &c2_n)) < 0 ||
	    (c_l = test_inet_bound(SOCK_STREAM, C_ADDR, -1, false, &l_n)) < 0 || listen(c_l, 4) ||
	    (c_nl = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)) < 0 ||
	    bind(c_nl, (struct sockaddr *)&nla, sizeof(nla)) || setns(t_ns, CLONE_NEWNET)) {
		fail_errno("a third namespace and its sockets");
		return 1;
	}

	test_daemon();
	test_waitsig();

	{
		ino_t o = ino_of(o_ns), t = ino_of(t_ns), cc = ino_of(c_ns), self;
		int own = open_ns();

		self = ino_of(own);
		close(own);
		if (!o || !t || !cc || o == t || t == cc || o == cc || self != t) {
			fail("namespaces: outside %lu, own %lu (the task is in %lu), third %lu",
			     (unsigned long)o, (unsigned long)t, (unsigned long)self,
			     (unsigned long)cc);
			return 1;
		}
		if (sk_ns(o_sk) != o || sk_ns(t_sk) != t || sk_ns(c_sk) != cc ||
		    sk_ns(c2_sk) != cc || sk_ns(c_l) != cc || sk_ns(c_nl) != cc) {
			fail("socket namespaces: outside %lu (want %lu), own %lu (want %lu), "
			     "third %lu %lu %lu %lu (want %lu)",
			     (unsigned long)sk_ns(o_sk), (unsigned long)o,
			     (unsigned long)sk_ns(t_sk), (unsigned long)t,
			     (unsigned long)sk_ns(c_sk), (unsigned long)sk_ns(c2_sk),
			     (unsigned long)sk_ns(c_l), (unsigned long)sk_ns(c_nl),
			     (unsigned long)cc);
			return 1;
		}
	}
	if (udp_through("the outside socket", o_ns, t_ns, o_sk, &o_n) ||
	    udp_through("the own socket", -1, t_ns, t_sk, &t_n) ||
	    udp_through("the third's socket on lo", c_ns, t_ns, c_sk, &c_n) ||
	    udp_through("the third's socket on " C_ADDR, c_ns, t_ns, c2_sk, &c2_n) ||
	    route_check(c_nl))
		return 1;
	if (enter(c_ns) || (c = socket(AF_INET, SOCK_STREAM, 0)) < 0 || setns(t_ns, CLONE_NEWNET) ||
	    connect(c, (struct sockaddr *)&l_n.a, l_n.len) || (a = accept(c_l, NULL, NULL)) < 0 ||
	    send(c, "hey", 3, 0) != 3 || recv(a, buf, 3, MSG_WAITALL) != 3 ||
	    memcmp(buf, "hey", 3)) {
		fail_errno("a connection to the listener in the third namespace");
		return 1;
	}
	pass();
	return 0;
}
