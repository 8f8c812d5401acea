/* netns_veth00: a task in a network namespace of its own with two veth pairs to the namespace
 * it came from survives checkpoint/restore with them: the restore makes both pairs again, the
 * inner ends in the new namespace and the outer ends in the restorer's, as they were. Root.
 * Set up: the namespace the test starts in is the host (the runner's, or host A in the remote
 * flavors); the test unshares a new one with IPv6 off (net.ipv6.conf.all.disable_ipv6: the
 * link-local address a veth gets when its carrier comes would appear at a time of the kernel's
 * choosing) and lo up, and makes:
 *   eth0 <-> zvXa: eth0 MTU 1400, MAC 02:7a:64:74:6d:01, up, 198.18.79.1/30 on it and a route
 *                  198.18.91.0/24 via 198.18.79.2; zvXa in the host, up (so eth0 has carrier)
 *   eth1 <-> zvXb: eth1 down with IFF_NOARP; zvXb in the host, down, MTU 2000
 * (X: the pid and a random number in hex, under IFNAMSIZ), then closes its fd of the host
 * namespace. Before and after: each inner end's name, MTU, MAC and flags (IFF_RUNNING left out:
 * the kernel sets it asynchronously), its outer end's, read through IFLA_LINK and
 * IFLA_LINK_NETNSID (RTM_GETLINK with IFLA_TARGET_NETNSID: the host's side seen from here), the
 * addresses (getifaddrs) and the routing table (/proc/net/route) must be the same. After the
 * restore, spelled out: eth0 has MTU 1400, its MAC, IFF_UP and IFF_LOWER_UP (carrier: only when
 * its outer end exists and is up), 198.18.79.1/30 and the route via 198.18.79.2; the peer of
 * each inner end exists, is a veth whose peer is that end, and bears its name. A TCP
 * connection to 198.18.79.1 with data queued (opts=tcp-established: the dump holds copies of
 * its sockets, which hold the namespace, until the tree is killed) carries its streams on. The
 * pairs die with the namespace: a test that fails leaves no link behind. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/route.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "zdtmtst.h"
#include "zdtminet.h"
#include "zdtmrtnl.h"

#define FLAGS (IFF_UP | IFF_LOWER_UP | IFF_NOARP | IFF_PROMISC | IFF_ALLMULTI | IFF_MULTICAST)
#define ROUTE \
	"eth0\t005B12C6\t024F12C6" /* 198.18.91.0 via 198.18.79.2, as /proc/net/route has it */

static const uint8_t mac0[6] = { 0x02, 0x7a, 0x64, 0x74, 0x6d, 0x01 };
static char outer[2][IFNAMSIZ];

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), ret = -1;

	if (fd >= 0 && write(fd, s, strlen(s)) == (ssize_t)strlen(s))
		ret = 0;
	if (fd >= 0)
		close(fd);
	return ret;
}

static int ifreq(int s, const char *name, unsigned long req, struct ifreq *r)
{
	snprintf(r->ifr_name, sizeof(r->ifr_name), "%s", name);
	return ioctl(s, req, r);
}

/* flags on, off */
static int set_flags(int s, const char *name, short on, short off)
{
	struct ifreq r = { 0 };

	if (ifreq(s, name, SIOCGIFFLAGS, &r))
		return -1;
	r.ifr_flags = (short)((r.ifr_flags | on) & ~off);
	return ifreq(s, name, SIOCSIFFLAGS, &r);
}

static int set_in(int s, const char *name, unsigned long req, const char *ip)
{
	struct ifreq r = { 0 };
	struct sockaddr_in *a = (struct sockaddr_in *)&r.ifr_addr;

	a->sin_family = AF_INET;
	inet_pton(AF_INET, ip, &a->sin_addr);
	return ifreq(s, name, req, &r);
}

static void in_addr_of(struct sockaddr *sa, const char *ip)
{
	struct sockaddr_in *a = (struct sockaddr_in *)sa;

	a->sin_family = AF_INET;
	inet_pton(AF_INET, ip, &a->sin_addr);
}

/* The inner ends, configured in the new namespace (s: a socket there). */
static int setup_inner(int s)
{
	struct ifreq r = { 0 };
	struct rtentry rt = { 0 };

	r.ifr_mtu = 1400;
	if (ifreq(s, "eth0", SIOCSIFMTU, &r))
		return -1;
	r.ifr_hwaddr.sa_family = 1; /* ARPHRD_ETHER */
	memcpy(r.ifr_hwaddr.sa_data, mac0, 6);
	if (ifreq(s, "eth0", SIOCSIFHWADDR, &r) || set_flags(s, "eth0", IFF_UP, 0) ||
	    set_in(s, "eth0", SIOCSIFADDR, "198.18.79.1") ||
	    set_in(s, "eth0", SIOCSIFNETMASK, "255.255.255.252") ||
	    set_flags(s, "eth1", IFF_NOARP, IFF_UP))
		return -1;
	in_addr_of(&rt.rt_dst, "198.18.91.0");
	in_addr_of(&rt.rt_genmask, "255.255.255.0");
	in_addr_of(&rt.rt_gateway, "198.18.79.2");
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	rt.rt_dev = (char *)"eth0";
	return ioctl(s, SIOCADDRT, &rt);
}

/* The outer ends, in the host (entered for the moment). */
static int setup_outer(int host, int self)
{
	struct ifreq r = { 0 };
	int s, ret;

	if (setns(host, CLONE_NEWNET))
		return -1;
	s = socket(AF_INET, SOCK_DGRAM, 0);
	r.ifr_mtu = 2000;
	ret = s < 0 || set_flags(s, outer[0], IFF_UP, 0) || ifreq(s, outer[1], SIOCSIFMTU, &r);
	if (s >= 0)
		close(s);
	if (setns(self, CLONE_NEWNET))
		return -1;
	return ret ? -1 : 0;
}

static int setup_ns(void)
{
	int host = open("/proc/self/ns/net", O_RDONLY), self = -1, s = -1, ret = -1;

	if (test_rtnl_outer_name(outer[0], 'a') || test_rtnl_outer_name(outer[1], 'b'))
		return -1;
	if (host < 0 || unshare(CLONE_NEWNET) || (self = open("/proc/self/ns/net", O_RDONLY)) < 0 ||
	    write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1") ||
	    (s = socket(AF_INET, SOCK_DGRAM, 0)) < 0 || set_flags(s, "lo", IFF_UP, 0))
		goto out;
	if (test_rtnl_veth("eth0", outer[0], host) || test_rtnl_veth("eth1", outer[1], host)) {
		test_perror("making the veth pairs with %s and %s in the host", outer[0], outer[1]);
		goto out;
	}
	/* the outer end up first: the route needs no carrier, but the check of before does */
	ret = setup_outer(host, self) || setup_inner(s) ? -1 : 0;
out:
	if (s >= 0)
		close(s);
	if (self >= 0)
		close(self);
	if (host >= 0)
		close(host); /* the test keeps nothing of the host's namespace */
	return ret;
}

/* An inner end and its outer end, as text; *in, *out as read. */
static int pair_state(FILE *f, const char *name, int i, struct test_link *in, struct test_link *out)
{
	char a[128], b[128];

	if (test_rtnl_link_get(name, 0, -1, in)) {
		fail_errno("RTM_GETLINK %s", name);
		return -1;
	}
	if (strcmp(in->kind, "veth") || in->link <= 0 || in->link_netnsid < 0) {
		fail("%s is of kind \"%s\", its peer ifindex %d in nsid %d: expected a veth with a "
		     "peer in another namespace",
		     name, in->kind, in->link, in->link_netnsid);
		return -1;
	}
	if (test_rtnl_link_get(NULL, in->link, in->link_netnsid, out)) {
		fail_errno("the peer of %s: ifindex %d in nsid %d (RTM_GETLINK with "
			   "IFLA_TARGET_NETNSID)",
			   name, in->link, in->link_netnsid);
		return -1;
	}
	if (strcmp(out->kind, "veth") || out->link != in->ifindex || strcmp(out->name, outer[i])) {
		fail("the peer of %s (ifindex %d) is %s of kind \"%s\" with the peer ifindex %d: "
		     "expected the veth %s, peer of ifindex %d",
		     name, in->link, out->name, out->kind, out->link, outer[i], in->ifindex);
		return -1;
	}
	test_link_str(in, FLAGS, a, sizeof(a));
	test_link_str(out, FLAGS, b, sizeof(b));
	fprintf(f, "%s <-> %s\n", a, b);
	return 0;
}

/* The links, addresses and routes of the namespace, as text; eth0 and its peer as read. */
static char *ns_state(struct test_link *eth0, struct test_link *peer0)
{
	struct test_link l1, p1;
	struct ifaddrs *ifa;
	size_t len;
	char *route = test_read_file("/proc/net/route", &len), *out = NULL;
	FILE *f = open_memstream(&out, &len);

	if (!route || !f || pair_state(f, "eth0", 0, eth0, peer0) ||
	    pair_state(f, "eth1", 1, &l1, &p1))
		return NULL;
	if (getifaddrs(&ifa)) {
		fail_errno("getifaddrs");
		return NULL;
	}
	for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
		char a[INET_ADDRSTRLEN] = "-", m[INET_ADDRSTRLEN] = "-";

		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
			continue;
		inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, a, sizeof(a));
		inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_netmask)->sin_addr, m, sizeof(m));
		fprintf(f, "addr %s %s/%s\n", i->ifa_name, a, m);
	}
	fprintf(f, "routes:\n%s", route);
	fclose(f);
	freeifaddrs(ifa);
	free(route);
	return out;
}

/* What the setup made, spelled out (before: the setup is what the test means; after: the
 * restore made it). */
static int check_eth0(const char *when, const char *state, const struct test_link *l,
		      const struct test_link *peer)
{
	if (l->mtu != 1400 || memcmp(l->mac, mac0, 6) || !(l->flags & IFF_UP) ||
	    !(l->flags & IFF_LOWER_UP)) {
		fail("%s: eth0 has MTU %u, flags %#x (IFF_UP %s, IFF_LOWER_UP %s), MAC %s "
		     "02:7a:64:74:6d:01: expected MTU 1400, up with carrier (its outer end %s up)",
		     when, l->mtu, l->flags, l->flags & IFF_UP ? "on" : "off",
		     l->flags & IFF_LOWER_UP ? "on" : "off", memcmp(l->mac, mac0, 6) ? "not" : "is",
		     peer->name);
		return -1;
	}
	if (!strstr(state, "addr eth0 198.18.79.1/255.255.255.252\n") || !strstr(state, ROUTE)) {
		fail("%s: eth0 lacks 198.18.79.1/30 or the route to 198.18.91.0/24 via "
		     "198.18.79.2:\n%s",
		     when, state);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct test_link eth0, peer0;
	struct test_tcp_pair tcp;
	char *before, *after;
	int l, c;

	if (test_init(argc, argv))
		return 1;
	if (setup_ns()) {
		fail_errno("setting up a network namespace with veth pairs to the host");
		return 1;
	}
	l = test_inet_bound(SOCK_STREAM, "198.18.79.1", -1, false, NULL);
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || c < 0 || listen(l, 4) || test_tcp_pair_open(&tcp, "v4", l, c, 0x7e700) ||
	    test_tcp_pair_fill(&tcp, 3000)) {
		fail_errno("a TCP connection to 198.18.79.1");
		return 1;
	}
	before = ns_state(&eth0, &peer0);
	if (!before || check_eth0("before the checkpoint", before, &eth0, &peer0))
		return 1;
	test_msg("outer ends %s and %s; before:\n%s", outer[0], outer[1], before);

	test_daemon();
	test_waitsig();

	after = ns_state(&eth0, &peer0);
	if (!after || check_eth0("after the restore", after, &eth0, &peer0))
		return 1;
	if (strcmp(before, after)) {
		fail("the namespace is not as it was:\n--- before\n%s--- after\n%s", before, after);
		return 1;
	}
	if (test_tcp_pair_check(&tcp, 20000))
		return 1;
	pass();
	return 0;
}
