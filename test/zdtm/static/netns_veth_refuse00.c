/* netns_veth_refuse00: a veth of the tree's own network namespace whose peer lives in a third
 * namespace (neither the tree's nor the dumper's) is refused at dump, naming the link, and left
 * as it was (tests.desc expect=dumpfail dumpmsg=zvthird0: an error line of the dump names the
 * link). Root. The test unshares a namespace T for itself, then a namespace X that only an fd of
 * the test holds, goes back to T and makes there first the veth eth0 with its peer in the host
 * (which a dump takes: the refusal must be of the other link, not of the first one met), then
 * the veth zvthird0 with its peer zvpeer0 in X. After the failed dump: zvthird0 is still a veth
 * whose peer, zvpeer0, is a veth in X. */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"
#include "zdtmrtnl.h"

/* zvthird0 and its peer zvpeer0 in another namespace, as they were made */
static int check(void)
{
	struct test_link l, p;

	if (test_rtnl_link_get("zvthird0", 0, -1, &l)) {
		fail_errno("RTM_GETLINK zvthird0");
		return -1;
	}
	if (strcmp(l.kind, "veth") || l.link_netnsid < 0) {
		fail("zvthird0 is of kind \"%s\", its peer in nsid %d: expected a veth with its "
		     "peer in another namespace",
		     l.kind, l.link_netnsid);
		return -1;
	}
	if (test_rtnl_link_get(NULL, l.link, l.link_netnsid, &p) || strcmp(p.name, "zvpeer0") ||
	    strcmp(p.kind, "veth")) {
		fail_errno("the peer of zvthird0, ifindex %d in nsid %d, is \"%s\" of kind \"%s\": "
			   "expected the veth zvpeer0",
			   l.link, l.link_netnsid, p.name, p.kind);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char outer[IFNAMSIZ];
	int host, self, third;

	if (test_init(argc, argv))
		return 1;
	if (test_rtnl_outer_name(outer, 'r'))
		return 1;
	if ((host = open("/proc/self/ns/net", O_RDONLY)) < 0 || unshare(CLONE_NEWNET) ||
	    (self = open("/proc/self/ns/net", O_RDONLY)) < 0 || unshare(CLONE_NEWNET) ||
	    (third = open("/proc/self/ns/net", O_RDONLY)) < 0 || setns(self, CLONE_NEWNET) ||
	    test_rtnl_veth("eth0", outer, host) || test_rtnl_veth("zvthird0", "zvpeer0", third)) {
		fail_errno("veths in a namespace of our own with their peers in the host and in a "
			   "third namespace");
		return 1;
	}
	close(self);
	close(host);
	if (check())
		return 1;

	test_daemon();
	test_waitsig();

	if (check())
		return 1;
	close(third);
	pass();
	return 0;
}
