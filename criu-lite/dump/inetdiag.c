/* inetdiag: what only sock_diag tells of an AF_INET/AF_INET6 socket (its shutdown state), and
 * whether criu-lite's network namespace holds it at all, through libnl-3.
 *
 * Contract: inetdiag_get() walks the sockets of one family and protocol (NETLINK_SOCK_DIAG,
 * SOCK_DIAG_BY_FAMILY with an inet_diag_req_v2, every state; the kernel has no lookup by inode)
 * in criu-lite's network namespace and fills *out from the one with inode ino: 0; -ENOENT
 * (not logged) when there is none (a socket of another namespace); another -errno, logged. */
#include <errno.h>
#include <stdbool.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <string.h>
#include <sys/socket.h>

#define LOG_PREFIX "sockets: "
#include "criu-lite/dump/inetdiag.h"
#include "criu-lite/log.h"

struct walk {
	uint32_t ino;
	struct isk_diag *out;
	bool found;
};

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct walk *w = arg;
	struct inet_diag_msg *m;
	struct nlattr *a;
	int rem;

	if (w->found || h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return NL_SKIP;
	m = nlmsg_data(h);
	if (m->idiag_inode != w->ino)
		return NL_OK;
	w->found = true;
	w->out->state = m->idiag_state;
	w->out->shutdown = 0;
	w->out->rqueue = m->idiag_rqueue;
	nla_for_each_attr(a, (struct nlattr *)((char *)m + NLMSG_ALIGN(sizeof(*m))),
			  (int)(h->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof(*m)))), rem)
	{
		if (nla_type(a) == INET_DIAG_SHUTDOWN && nla_len(a) >= 1)
			w->out->shutdown = nla_get_u8(a);
	}
	return NL_OK;
}

int inetdiag_get(int family, int protocol, uint32_t ino, struct isk_diag *out)
{
	struct inet_diag_req_v2 req = {
		.sdiag_family = (uint8_t)family,
		.sdiag_protocol = (uint8_t)protocol,
		.idiag_states = ~0u,
	};
	struct walk w = { .ino = ino, .out = out };
	struct nl_sock *nl = nl_socket_alloc();
	struct nl_msg *m = NULL;
	struct nl_cb *cb = NULL;
	int ret = -ENOMEM;

	if (!nl)
		goto oom;
	ret = nl_connect(nl, NETLINK_SOCK_DIAG);
	if (ret < 0) {
		pr_err("can't open a NETLINK_SOCK_DIAG socket for socket:[%u]: %s\n", ino,
		       nl_geterror(ret));
		nl_socket_free(nl);
		return -EPROTONOSUPPORT;
	}
	nl_socket_disable_auto_ack(nl);
	m = nlmsg_alloc_simple(SOCK_DIAG_BY_FAMILY, NLM_F_DUMP);
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	ret = -ENOMEM;
	if (!m || !cb || nlmsg_append(m, &req, sizeof(req), NLMSG_ALIGNTO) < 0)
		goto oom;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &w);
	ret = nl_send_auto(nl, m);
	if (ret >= 0)
		ret = nl_recvmsgs(nl, cb);
	if (ret < 0) {
		pr_err("inet_diag walk (family %d, protocol %d) for socket:[%u] failed: %s\n",
		       family, protocol, ino, nl_geterror(ret));
		ret = -EIO;
	} else {
		ret = w.found ? 0 : -ENOENT;
	}
	goto out;
oom:
	pr_err("out of memory for an inet_diag request (socket:[%u])\n", ino);
out:
	nl_cb_put(cb);
	nlmsg_free(m);
	nl_socket_free(nl);
	return ret;
}
