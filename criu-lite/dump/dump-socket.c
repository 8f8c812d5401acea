/* dump-socket: which family a socket fd of the task belongs to, before the family's own
 * dumper takes it (dump-unix.c for AF_UNIX, dump-inet.c for AF_INET and AF_INET6, dump-netlink.c
 * for AF_NETLINK, dump-packet.c for AF_PACKET); the other families are refused here, by name.
 *
 * Contract: dump_socket_family() takes a copy of the task's fd (taskfd_copy), reads SO_DOMAIN
 * and returns 0 with the family for those it knows; for any other family -ENOTSUP after one
 * message naming the fd, the socket and its family; -errno (logged) when the fd can't be
 * read. */
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#define LOG_PREFIX "sockets: "
#include "criu-lite/dump/dump.h"
#include "criu-lite/log.h"
#include "criu-lite/taskfd.h"

static const char *family_name(int family)
{
	switch (family) {
	case AF_BLUETOOTH:
		return "AF_BLUETOOTH";
	case AF_VSOCK:
		return "AF_VSOCK";
	case AF_ALG:
		return "AF_ALG";
	case AF_XDP:
		return "AF_XDP";
	}
	return "other";
}

int dump_socket_family(pid_t pid, int tfd, const char *what, const char *link, int *family)
{
	int fd = taskfd_copy(pid, tfd), dom = -1;
	socklen_t len = sizeof(dom);

	if (fd < 0) {
		errno = -fd;
		pr_perror("%s: can't take a copy of %s (pidfd_open/pidfd_getfd)", what, link);
		return fd;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &len)) {
		pr_perror("%s: getsockopt(SO_DOMAIN) of %s", what, link);
		close(fd);
		return -errno;
	}
	close(fd);
	if (dom == AF_UNIX || dom == AF_INET || dom == AF_INET6 || dom == AF_NETLINK ||
	    dom == AF_PACKET) {
		*family = dom;
		return 0;
	}
	pr_err("%s: %s is a socket of family %d, %s: not supported yet (unix, inet, inet6, "
	       "netlink and packet sockets are)\n",
	       what, link, dom, family_name(dom));
	return -ENOTSUP;
}
