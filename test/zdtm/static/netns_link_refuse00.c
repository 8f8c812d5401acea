/* netns_link_refuse00: a link of a kind criu-lite does not make again (a bridge) in the tree's
 * own network namespace is refused at dump, naming the link, and left as it was (tests.desc
 * expect=dumpfail dumpmsg=zbr0). Root. The test unshares a namespace of its own and makes there
 * first the veth eth0 with its peer in the host (which a dump takes: the refusal must be of the
 * other link, not of the first one met), then the bridge zbr0; after the failed dump zbr0 is
 * still there, a bridge. */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"
#include "zdtmrtnl.h"

static int check(void)
{
	struct test_link l;

	if (test_rtnl_link_get("zbr0", 0, -1, &l)) {
		fail_errno("RTM_GETLINK zbr0");
		return -1;
	}
	if (strcmp(l.kind, "bridge")) {
		fail("zbr0 is of kind \"%s\": expected a bridge", l.kind);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char outer[IFNAMSIZ];
	int host;

	if (test_init(argc, argv))
		return 1;
	if (test_rtnl_outer_name(outer, 'l'))
		return 1;
	if ((host = open("/proc/self/ns/net", O_RDONLY)) < 0 || unshare(CLONE_NEWNET) ||
	    test_rtnl_veth("eth0", outer, host) || test_rtnl_link_add("zbr0", "bridge")) {
		fail_errno("a veth to the host and a bridge in a namespace of our own");
		return 1;
	}
	close(host);
	if (check())
		return 1;

	test_daemon();
	test_waitsig();

	if (check())
		return 1;
	pass();
	return 0;
}
