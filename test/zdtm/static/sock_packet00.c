/* sock_packet00: packet sockets survive checkpoint/restore with their interface, protocol,
 * options, filter and memberships (tests.desc needs=root: AF_PACKET wants CAP_NET_RAW).
 * Sockets:
 *  - raw: SOCK_RAW, bound to "lo" with ETH_P_ALL (made with protocol 0 and its filter attached
 *    before the bind: nothing but our own datagrams is ever queued on it, which the dump would
 *    refuse); a classic BPF filter that takes only UDP datagrams whose payload starts with our
 *    marker; PACKET_AUXDATA and PACKET_IGNORE_OUTGOING on (each datagram over lo is seen once,
 *    incoming); O_NONBLOCK; a PACKET_MR_MULTICAST membership of 01:00:5e:7f:00:42 on lo;
 *  - dgram: SOCK_DGRAM, never bound (protocol 0); PACKET_VERSION TPACKET_V2, PACKET_RESERVE 64,
 *    PACKET_ORIGDEV, PACKET_LOSS, PACKET_QDISC_BYPASS on, PACKET_TIMESTAMP
 *    SOF_TIMESTAMPING_RAW_HARDWARE, SO_SNDBUF 65536.
 * After the restore: getsockname() gives raw lo's index (of now: the restore may be in another
 * network namespace) and ETH_P_ALL, dgram no interface and protocol 0; each option reads as
 * before (every getsockopt() value), raw's SO_GET_FILTER gives its instructions exactly, the
 * status flags are the same, and /proc/net/dev_mcast lists the membership on lo once. Then raw
 * works: a UDP datagram sent now over lo with the marker is captured by raw, from lo, as
 * PACKET_HOST, with its PACKET_AUXDATA. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/net_tstamp.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"
#include "zdtminet.h"

#define MARKER "zdtm-packet00"
#define MCADDR "01005e7f0042"

enum { RAW, DGRAM, NSOCK };

static const struct test_sockopt opts[] = {
	TEST_SOCKOPT(SOL_SOCKET, SO_TYPE),
	TEST_SOCKOPT(SOL_SOCKET, SO_RCVBUF),
	TEST_SOCKOPT(SOL_SOCKET, SO_SNDBUF),
	TEST_SOCKOPT(SOL_PACKET, PACKET_AUXDATA),
	TEST_SOCKOPT(SOL_PACKET, PACKET_ORIGDEV),
	TEST_SOCKOPT(SOL_PACKET, PACKET_VNET_HDR),
	TEST_SOCKOPT(SOL_PACKET, PACKET_VERSION),
	TEST_SOCKOPT(SOL_PACKET, PACKET_RESERVE),
	TEST_SOCKOPT(SOL_PACKET, PACKET_TIMESTAMP),
	TEST_SOCKOPT(SOL_PACKET, PACKET_LOSS),
	TEST_SOCKOPT(SOL_PACKET, PACKET_QDISC_BYPASS),
	TEST_SOCKOPT(SOL_PACKET, PACKET_IGNORE_OUTGOING),
};
#define NOPTS ((int)(sizeof(opts) / sizeof(opts[0])))

static struct psock {
	const char *what;
	int fd, fl;
	struct test_sockval vals[NOPTS];
} sk[NSOCK] = { [RAW] = { .what = "raw" }, [DGRAM] = { .what = "dgram" } };

/* UDP over IPv4 without options (lo's frames have an Ethernet header) whose payload starts with
 * "zdtm" (a BPF_ABS load is big-endian) */
static struct sock_filter marker_only[] = {
	BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 5),
	BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 23),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 17, 0, 3),
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 14 + 20 + 8),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x7a64746d, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, 0xffff),
	BPF_STMT(BPF_RET | BPF_K, 0),
};
#define NFILTER (sizeof(marker_only) / sizeof(marker_only[0]))

static int seti(int fd, int level, int name, int v)
{
	return setsockopt(fd, level, name, &v, sizeof(v));
}

static int setup(void)
{
	struct sock_fprog p = { NFILTER, marker_only };
	struct sockaddr_ll a = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct packet_mreq mr = { .mr_type = PACKET_MR_MULTICAST,
				  .mr_alen = 6,
				  .mr_address = { 0x01, 0x00, 0x5e, 0x7f, 0x00, 0x42 } };

	a.sll_ifindex = (int)if_nametoindex("lo");
	mr.mr_ifindex = a.sll_ifindex;
	sk[RAW].fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, 0);
	sk[DGRAM].fd = socket(AF_PACKET, SOCK_DGRAM, 0);
	if (!a.sll_ifindex || sk[RAW].fd < 0 || sk[DGRAM].fd < 0)
		return -1;
	if (setsockopt(sk[RAW].fd, SOL_SOCKET, SO_ATTACH_FILTER, &p, sizeof(p)) ||
	    seti(sk[RAW].fd, SOL_PACKET, PACKET_AUXDATA, 1) ||
	    seti(sk[RAW].fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1) ||
	    bind(sk[RAW].fd, (struct sockaddr *)&a, sizeof(a)) ||
	    setsockopt(sk[RAW].fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)))
		return -1;
	if (seti(sk[DGRAM].fd, SOL_PACKET, PACKET_VERSION, TPACKET_V2) ||
	    seti(sk[DGRAM].fd, SOL_PACKET, PACKET_RESERVE, 64) ||
	    seti(sk[DGRAM].fd, SOL_PACKET, PACKET_ORIGDEV, 1) ||
	    seti(sk[DGRAM].fd, SOL_PACKET, PACKET_LOSS, 1) ||
	    seti(sk[DGRAM].fd, SOL_PACKET, PACKET_QDISC_BYPASS, 1) ||
	    seti(sk[DGRAM].fd, SOL_PACKET, PACKET_TIMESTAMP, SOF_TIMESTAMPING_RAW_HARDWARE) ||
	    seti(sk[DGRAM].fd, SOL_SOCKET, SO_SNDBUF, 65536))
		return -1;
	for (int i = 0; i < NSOCK; i++) {
		sk[i].fl = fcntl(sk[i].fd, F_GETFL);
		if (test_sockopts_get(sk[i].what, sk[i].fd, opts, NOPTS, sk[i].vals)) {
			errno = EPROTO;
			return -1;
		}
	}
	return 0;
}

static int check_name(const struct psock *s, int ifindex, int proto)
{
	struct sockaddr_ll a = { 0 };
	socklen_t l = sizeof(a);

	if (getsockname(s->fd, (struct sockaddr *)&a, &l)) {
		fail_errno("%s: getsockname", s->what);
		return -1;
	}
	if (a.sll_ifindex != ifindex || a.sll_protocol != htons(proto)) {
		fail("%s: bound to interface %d protocol %#x, expected %d and %#x", s->what,
		     a.sll_ifindex, ntohs(a.sll_protocol), ifindex, proto);
		return -1;
	}
	if (fcntl(s->fd, F_GETFL) != s->fl) {
		fail("%s: status flags %#x, expected %#x", s->what, fcntl(s->fd, F_GETFL), s->fl);
		return -1;
	}
	return test_sockopts_same(s->what, s->fd, opts, NOPTS, s->vals);
}

static int check_filter(void)
{
	struct sock_filter f[NFILTER + 1];
	socklen_t n = 0;

	if (getsockopt(sk[RAW].fd, SOL_SOCKET, SO_GET_FILTER, NULL, &n) || n != NFILTER ||
	    getsockopt(sk[RAW].fd, SOL_SOCKET, SO_GET_FILTER, f, &n) ||
	    memcmp(f, marker_only, sizeof(marker_only))) {
		fail("raw: its socket filter has %u instructions or others, expected its %zu", n,
		     NFILTER);
		return -1;
	}
	n = 0;
	if (!getsockopt(sk[DGRAM].fd, SOL_SOCKET, SO_GET_FILTER, NULL, &n) && n) {
		fail("dgram: has a socket filter of %u instructions, expected none", n);
		return -1;
	}
	return 0;
}

/* /proc/net/dev_mcast: "IFINDEX NAME USERS GLOBAL ADDR" */
static int check_mcast(void)
{
	size_t len;
	char *t = test_read_file("/proc/net/dev_mcast", &len), *line, *save = NULL;
	int found = 0;

	if (!t) {
		fail_errno("reading /proc/net/dev_mcast");
		return -1;
	}
	for (line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[IF_NAMESIZE + 1], addr[80];

		if (sscanf(line, "%*d %16s %*d %*d %79s", name, addr) == 2 && !strcmp(name, "lo") &&
		    !strcmp(addr, MCADDR))
			found++;
	}
	free(t);
	if (found != 1) {
		fail("raw: /proc/net/dev_mcast lists %s on lo %d times, expected once", MCADDR,
		     found);
		return -1;
	}
	return 0;
}

/* A UDP datagram with the marker over lo is captured by raw. */
static int check_capture(int lo)
{
	char text[64], frame[2048], cbuf[256];
	struct test_name to;
	struct sockaddr_ll from;
	struct iovec iov = { frame, sizeof(frame) };
	struct msghdr mh = { .msg_name = &from,
			     .msg_namelen = sizeof(from),
			     .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct pollfd pf = { .fd = sk[RAW].fd, .events = POLLIN };
	int rx = test_inet_bound(SOCK_DGRAM, "127.0.0.1", -1, false, &to);
	int tx = socket(AF_INET, SOCK_DGRAM, 0);
	bool aux = false;
	ssize_t n;

	snprintf(text, sizeof(text), "%s-%d", MARKER, getpid());
	if (rx < 0 || tx < 0 ||
	    sendto(tx, text, strlen(text), 0, (struct sockaddr *)&to.a, to.len) !=
		(ssize_t)strlen(text)) {
		fail_errno("sending a UDP datagram over lo");
		return -1;
	}
	while (poll(&pf, 1, -1) < 0) {
		if (errno != EINTR) {
			fail_errno("raw: poll");
			return -1;
		}
	}
	n = recvmsg(sk[RAW].fd, &mh, MSG_DONTWAIT);
	if (n < 0) {
		fail_errno("raw: recvmsg");
		return -1;
	}
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		aux |= c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA;
	if (n != 14 + 20 + 8 + (ssize_t)strlen(text) || memcmp(frame + 42, text, strlen(text)) ||
	    from.sll_ifindex != lo || from.sll_pkttype != PACKET_HOST || !aux) {
		fail("raw: captured %zd bytes from interface %d (type %u, auxdata %d), expected "
		     "the %zu of \"%s\" from lo (%d) as PACKET_HOST with PACKET_AUXDATA",
		     n, from.sll_ifindex, from.sll_pkttype, aux, 42 + strlen(text), text, lo);
		return -1;
	}
	close(rx);
	close(tx);
	return 0;
}

int main(int argc, char **argv)
{
	int lo;

	if (test_init(argc, argv))
		return 1;
	if (setup()) {
		fail_errno("setup");
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	lo = (int)if_nametoindex("lo");
	if (check_name(&sk[RAW], lo, ETH_P_ALL) || check_name(&sk[DGRAM], 0, 0) || check_filter() ||
	    check_mcast() || check_capture(lo))
		return 1;
	pass();
	return 0;
}
