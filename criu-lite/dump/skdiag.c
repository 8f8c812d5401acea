/* skdiag: see skdiag.h. */
#include <errno.h>
#include <linux/sock_diag.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#define LOG_PREFIX "sockets: "
#include "criu-lite/dump/skdiag.h"
#include "criu-lite/log.h"

struct walk {
	int (*fn)(const struct nlmsghdr *h, void *arg);
	void *arg;
	int ret; /* what fn returned last */
};

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct walk *w = arg;

	if (w->ret)
		return NL_SKIP; /* the rest of the dump is read and dropped */
	w->ret = w->fn(nlmsg_hdr(msg), w->arg);
	return NL_OK;
}

int skdiag_walk(const void *req, size_t len, int (*fn)(const struct nlmsghdr *h, void *arg),
		void *arg, const char *what)
{
	struct walk w = { fn, arg, 0 };
	struct nl_sock *nl = nl_socket_alloc();
	struct nl_msg *m = NULL;
	struct nl_cb *cb = NULL;
	int ret;

	if (!nl) {
		pr_err("%s: out of memory for a sock_diag request\n", what);
		return -ENOMEM;
	}
	ret = nl_connect(nl, NETLINK_SOCK_DIAG);
	if (ret < 0) {
		pr_err("%s: can't open a NETLINK_SOCK_DIAG socket: %s\n", what, nl_geterror(ret));
		nl_socket_free(nl);
		return -EPROTONOSUPPORT;
	}
	nl_socket_disable_auto_ack(nl);
	m = nlmsg_alloc_simple(SOCK_DIAG_BY_FAMILY, NLM_F_DUMP);
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!m || !cb || nlmsg_append(m, (void *)req, len, NLMSG_ALIGNTO) < 0) {
		pr_err("%s: out of memory for a sock_diag request\n", what);
		ret = -ENOMEM;
	} else {
		nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &w);
		ret = nl_send_auto(nl, m);
		if (ret >= 0)
			ret = nl_recvmsgs(nl, cb);
		if (ret < 0) {
			pr_err("%s: sock_diag walk failed: %s\n", what, nl_geterror(ret));
			ret = -EIO;
		} else {
			ret = w.ret;
		}
	}
	nl_cb_put(cb);
	nlmsg_free(m);
	nl_socket_free(nl);
	return ret;
}
