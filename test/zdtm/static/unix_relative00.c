/* unix_relative00: unix sockets bound by relative path names survive checkpoint/restore: bound
 * again from the directory they were bound in (the task's cwd), so getsockname() reads the same
 * relative names, the socket files are where they were, and new connections reach them:
 *
 *   listener "lsock" (stream), with an accepted connection from a client that connected to the
 *   relative name; datagram socket "dsock" with a datagram queued from "dsend" (relative too)
 *
 * After the restore: getsockname() of the listener, "dsock" and "dsend" are the relative names;
 * ./lsock and ./dsock are socket files of the restored sockets (a new client connects to
 * "lsock" and is accepted); the queued datagram is read with its sender "dsend"; the accepted
 * pair still talks.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "zdtmtst.h"

static socklen_t addr(struct sockaddr_un *a, const char *name)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	strcpy(a->sun_path, name);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name) + 1);
}

static int name_is(int fd, const char *want)
{
	struct sockaddr_un a;
	socklen_t l = sizeof(a);

	memset(&a, 0, sizeof(a));
	return !getsockname(fd, (struct sockaddr *)&a, &l) && !strcmp(a.sun_path, want);
}

int main(int argc, char **argv)
{
	struct sockaddr_un a, from;
	socklen_t l, fl = sizeof(from);
	int ls, cl, ac = -1, ds, dsend, n, c2, a2 = -1;
	char buf[64];

	if (test_init(argc, argv))
		return 1;
	if (mkdir("rel", 0700) || chdir("rel"))
		fail_errno("setup: rel");
	ls = socket(AF_UNIX, SOCK_STREAM, 0);
	cl = socket(AF_UNIX, SOCK_STREAM, 0);
	ds = socket(AF_UNIX, SOCK_DGRAM, 0);
	dsend = socket(AF_UNIX, SOCK_DGRAM, 0);
	l = addr(&a, "lsock");
	if (ls < 0 || cl < 0 || ds < 0 || dsend < 0 || bind(ls, (struct sockaddr *)&a, l) ||
	    listen(ls, 4) || connect(cl, (struct sockaddr *)&a, l) ||
	    (ac = accept(ls, NULL, NULL)) < 0)
		fail_errno("setup: stream sockets");
	l = addr(&a, "dsend");
	if (bind(dsend, (struct sockaddr *)&a, l))
		fail_errno("setup: bind dsend");
	l = addr(&a, "dsock");
	if (bind(ds, (struct sockaddr *)&a, l) ||
	    sendto(dsend, "queued", 6, 0, (struct sockaddr *)&a, l) != 6)
		fail_errno("setup: dgram sockets");

	if (test_daemon())
		return 1;
	test_waitsig();

	if (!name_is(ls, "lsock") || !name_is(ds, "dsock") || !name_is(dsend, "dsend"))
		fail("the sockets' names are no longer the relative ones");
	n = (int)recvfrom(ds, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
	if (n != 6 || memcmp(buf, "queued", 6) || strcmp(from.sun_path, "dsend"))
		fail("the queued datagram reads %d bytes from \"%s\"", n,
		     n > 0 ? from.sun_path : "");
	c2 = socket(AF_UNIX, SOCK_STREAM, 0);
	l = addr(&a, "lsock");
	if (c2 < 0 || connect(c2, (struct sockaddr *)&a, l) || (a2 = accept(ls, NULL, NULL)) < 0 ||
	    write(c2, "new", 3) != 3 || read(a2, buf, 3) != 3 || memcmp(buf, "new", 3))
		fail_errno("a new client can't reach ./lsock");
	if (write(cl, "old", 3) != 3 || read(ac, buf, 3) != 3 || memcmp(buf, "old", 3))
		fail("the accepted pair no longer talks");
	pass();
	return 0;
}
