/* veth-check: a veth pair across two throwaway network namespaces (see veth-check.h). */
#include <errno.h>
#include <fcntl.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "criu-lite/net/veth-check.h"

/* In the child: "" when the pair could be made, else why not. */
static void probe(char *why, size_t len)
{
	struct nl_sock *sk = NULL;
	struct rtnl_link *in = NULL, *out = NULL;
	int first, ret;

	if (unshare(CLONE_NEWNET) || (first = open("/proc/self/ns/net", O_RDONLY)) < 0 ||
	    unshare(CLONE_NEWNET)) {
		snprintf(why, len, "a network namespace (unshare): %s", strerror(errno));
		return;
	}
	ret = (sk = nl_socket_alloc()) ? nl_connect(sk, NETLINK_ROUTE) : -NLE_NOMEM;
	if (!ret && !((in = rtnl_link_veth_alloc()) && (out = rtnl_link_veth_get_peer(in))))
		ret = -NLE_NOMEM;
	if (!ret) {
		rtnl_link_set_name(in, "probe0");
		rtnl_link_set_name(out, "probe1");
		rtnl_link_set_ns_fd(out, first);
		ret = rtnl_link_add(sk, in, NLM_F_CREATE | NLM_F_EXCL);
	}
	if (ret)
		snprintf(why, len, "a veth pair with its peer in another namespace: %s",
			 nl_geterror(ret));
}

int veth_check(char *why, size_t len)
{
	char buf[256] = "";
	int p[2], status = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC)) {
		snprintf(why, len, "pipe: %s", strerror(errno));
		return -errno;
	}
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		probe(buf, sizeof(buf));
		n = write(p[1], buf, strlen(buf));
		_exit(n < 0 ? 2 : 0);
	}
	close(p[1]);
	if (pid < 0) {
		snprintf(why, len, "fork: %s", strerror(errno));
		close(p[0]);
		return -errno;
	}
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	buf[n > 0 ? n : 0] = '\0';
	if (n < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		snprintf(why, len, "the probe child failed (status 0x%x)", status);
		return -ECHILD;
	}
	if (n > 0) {
		snprintf(why, len, "%s", buf);
		return -ENOTSUP;
	}
	why[0] = '\0';
	return 0;
}
