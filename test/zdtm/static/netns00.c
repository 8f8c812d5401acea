/* netns00: a task in a network namespace of its own survives checkpoint/restore with it: the
 * restore makes the namespace again as it was. Root. Set up in a new namespace (unshare):
 * lo up with MTU 9000, the address 198.18.77.1/24 on it labelled "lo:1", a route to
 * 198.18.88.0/24 via 198.18.77.2, net.ipv4.ping_group_range "0 2147483647" (so a ping socket
 * can be made), a TCP listener on 198.18.77.1 with an established connection and 3000 bytes
 * queued to its server end, and a ping socket bound to 198.18.77.1.
 * After the restore: lo's flags and MTU, every address with its label and mask (getifaddrs),
 * the routing table (/proc/net/route), ping_group_range are as before; the queued bytes arrive,
 * a new connection to the listener carries data, and the ping socket gets an echo reply from
 * 198.18.77.1. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "zdtmtst.h"
#include "zdtminet.h"

#define ADDR "198.18.77.1"
#define DATA 3000

static int set_addr(int s, struct ifreq *r, int req, const char *ip)
{
	struct sockaddr_in *a = (struct sockaddr_in *)&r->ifr_addr;

	memset(&r->ifr_addr, 0, sizeof(r->ifr_addr));
	a->sin_family = AF_INET;
	inet_pton(AF_INET, ip, &a->sin_addr);
	return ioctl(s, req, r);
}

static int setup_ns(void)
{
	struct ifreq r = { 0 };
	struct rtentry rt = { 0 };
	int s, fd, ret;

	if (unshare(CLONE_NEWNET))
		return -1;
	s = socket(AF_INET, SOCK_DGRAM, 0);
	snprintf(r.ifr_name, sizeof(r.ifr_name), "lo");
	r.ifr_mtu = 9000;
	ret = s < 0 || ioctl(s, SIOCSIFMTU, &r) || ioctl(s, SIOCGIFFLAGS, &r);
	r.ifr_flags |= IFF_UP;
	ret = ret || ioctl(s, SIOCSIFFLAGS, &r);
	snprintf(r.ifr_name, sizeof(r.ifr_name), "lo:1");
	ret = ret || set_addr(s, &r, SIOCSIFADDR, ADDR) ||
	      set_addr(s, &r, SIOCSIFNETMASK, "255.255.255.0");
	((struct sockaddr_in *)&rt.rt_dst)->sin_family = AF_INET;
	inet_pton(AF_INET, "198.18.88.0", &((struct sockaddr_in *)&rt.rt_dst)->sin_addr);
	((struct sockaddr_in *)&rt.rt_genmask)->sin_family = AF_INET;
	inet_pton(AF_INET, "255.255.255.0", &((struct sockaddr_in *)&rt.rt_genmask)->sin_addr);
	((struct sockaddr_in *)&rt.rt_gateway)->sin_family = AF_INET;
	inet_pton(AF_INET, "198.18.77.2", &((struct sockaddr_in *)&rt.rt_gateway)->sin_addr);
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	rt.rt_dev = (char *)"lo";
	ret = ret || ioctl(s, SIOCADDRT, &rt);
	if (s >= 0)
		close(s);
	fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY);
	ret = ret || fd < 0 || write(fd, "0 2147483647", 12) != 12;
	if (fd >= 0)
		close(fd);
	return ret ? -1 : 0;
}

/* What the namespace looks like: lo's flags and MTU, every address, the routes, the sysctl. */
static char *ns_state(void)
{
	struct ifaddrs *ifa, *i;
	struct ifreq r = { 0 };
	size_t len;
	char *route = test_read_file("/proc/net/route", &len), *pgr, *out;
	FILE *f;
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	pgr = test_read_file("/proc/sys/net/ipv4/ping_group_range", &len);
	f = open_memstream(&out, &len);
	if (!route || !pgr || !f || s < 0 || getifaddrs(&ifa))
		return NULL;
	snprintf(r.ifr_name, sizeof(r.ifr_name), "lo");
	ioctl(s, SIOCGIFFLAGS, &r);
	fprintf(f, "lo flags %#x", r.ifr_flags);
	ioctl(s, SIOCGIFMTU, &r);
	fprintf(f, " mtu %d\n", r.ifr_mtu);
	for (i = ifa; i; i = i->ifa_next) {
		char a[INET6_ADDRSTRLEN] = "-", m[INET6_ADDRSTRLEN] = "-";

		if (!i->ifa_addr ||
		    (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, a,
				  sizeof(a));
			inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_netmask)->sin_addr, m,
				  sizeof(m));
		} else {
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, a,
				  sizeof(a));
		}
		fprintf(f, "addr %s %s/%s\n", i->ifa_name, a, m);
	}
	fprintf(f, "routes:\n%sping_group_range %s", route, pgr);
	fclose(f);
	freeifaddrs(ifa);
	close(s);
	free(route);
	free(pgr);
	return out;
}

int main(int argc, char **argv)
{
	unsigned char buf[DATA];
	struct test_name ln, to;
	struct icmphdr h = { .type = ICMP_ECHO };
	struct pollfd p;
	char *before, *after;
	int l, c, a, ping, n, got = 0;

	if (test_init(argc, argv))
		return 1;
	if (setup_ns()) {
		fail_errno("setting up a network namespace of our own");
		return 1;
	}
	l = test_inet_bound(SOCK_STREAM, ADDR, -1, false, &ln);
	c = socket(AF_INET, SOCK_STREAM, 0);
	ping = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	if (l < 0 || listen(l, 4) || c < 0 || connect(c, (struct sockaddr *)&ln.a, ln.len) ||
	    (a = accept(l, NULL, NULL)) < 0 || ping < 0 || test_name_make(&to, ADDR, 0) ||
	    bind(ping, (struct sockaddr *)&to.a, to.len)) {
		fail_errno("sockets in the namespace");
		return 1;
	}
	test_fill_pattern(buf, DATA, 0x77);
	if (send(c, buf, DATA, 0) != DATA) {
		fail_errno("send");
		return 1;
	}
	before = ns_state();
	if (!before) {
		fail_errno("reading the namespace's state");
		return 1;
	}

	test_daemon();
	test_waitsig();

	after = ns_state();
	if (!after || strcmp(before, after)) {
		fail("the namespace is not as it was:\n--- before\n%s--- after\n%s", before,
		     after ? after : "(unreadable)\n");
		return 1;
	}
	while (got < DATA && (n = (int)recv(a, buf + got, DATA - (size_t)got, 0)) > 0)
		got += n;
	if (got != DATA || test_check_pattern(buf, DATA, 0x77) != -1) {
		fail("the server end read %d bytes, not the %d sent before the checkpoint", got,
		     DATA);
		return 1;
	}
	close(c);
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&ln.a, ln.len) ||
	    (a = accept(l, NULL, NULL)) < 0 || send(c, "hi", 2, 0) != 2 ||
	    recv(a, buf, 2, 0) != 2 || memcmp(buf, "hi", 2)) {
		fail_errno("a new connection to the listener on %s", ADDR);
		return 1;
	}
	h.un.echo.sequence = htons(9);
	p = (struct pollfd){ .fd = ping, .events = POLLIN };
	if (sendto(ping, &h, sizeof(h), 0, (struct sockaddr *)&to.a, to.len) != sizeof(h) ||
	    poll(&p, 1, -1) != 1 || recv(ping, &h, sizeof(h), 0) != sizeof(h) ||
	    h.type != ICMP_ECHOREPLY || ntohs(h.un.echo.sequence) != 9) {
		fail_errno("an echo through the ping socket (type %d)", h.type);
		return 1;
	}
	pass();
	return 0;
}
