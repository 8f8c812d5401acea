/* inetdiag: what only sock_diag tells of an AF_INET/AF_INET6 socket (its state, shutdown state
 * and receive queue), and whether the caller's network namespace holds it at all, through
 * libnl-3.
 *
 * Contract: inetdiag_get() answers from a table of every socket of that family and protocol
 * (NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY with an inet_diag_req_v2, every state; the kernel has
 * no lookup by inode), walked once per dump and namespace (the tree is frozen: what its sockets
 * show does not change but for what the kernel does by itself, which the TCP dump checks again) and
 * kept in the cache: 0 and *out; -ENOENT (not logged) when the table has no such inode (a socket
 * never bound, or of another namespace); another -errno, logged. inetdiag_free() drops the cache.
 */
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define LOG_PREFIX "sockets: "
#include "criu-lite/dump/inetdiag.h"
#include "criu-lite/log.h"

struct row {
	uint32_t ino;
	struct isk_diag d;
};

struct inetdiag_table {
	uint32_t nsid;
	int family, protocol;
	struct row *v;
	size_t n, cap;
	int err; /* of the walk's callbacks */
	struct inetdiag_table *next;
};

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct inetdiag_table *t = arg;
	struct inet_diag_msg *m;
	struct nlattr *a;
	struct row *r;
	int rem;

	if (t->err || h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return NL_SKIP;
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 256;
		struct row *v = realloc(t->v, cap * sizeof(*v));

		if (!v) {
			t->err = -ENOMEM;
			return NL_SKIP;
		}
		t->v = v;
		t->cap = cap;
	}
	m = nlmsg_data(h);
	r = &t->v[t->n++];
	*r = (struct row){ .ino = m->idiag_inode,
			   .d = { .state = m->idiag_state, .rqueue = m->idiag_rqueue } };
	nla_for_each_attr(a, (struct nlattr *)((char *)m + NLMSG_ALIGN(sizeof(*m))),
			  (int)(h->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof(*m)))), rem)
	{
		if (nla_type(a) == INET_DIAG_SHUTDOWN && nla_len(a) >= 1)
			r->d.shutdown = nla_get_u8(a);
	}
	return NL_OK;
}

static int cmp_row(const void *a, const void *b)
{
	uint32_t x = ((const struct row *)a)->ino, y = ((const struct row *)b)->ino;

	return x < y ? -1 : x > y;
}

/* Every socket of family and protocol into t (sorted by inode). */
static int walk(struct inetdiag_table *t)
{
	struct inet_diag_req_v2 req = {
		.sdiag_family = (uint8_t)t->family,
		.sdiag_protocol = (uint8_t)t->protocol,
		.idiag_states = ~0u,
	};
	struct nl_sock *nl = nl_socket_alloc();
	struct nl_msg *m = NULL;
	struct nl_cb *cb = NULL;
	int ret = -ENOMEM;

	if (!nl)
		goto oom;
	ret = nl_connect(nl, NETLINK_SOCK_DIAG);
	if (ret < 0) {
		pr_err("can't open a NETLINK_SOCK_DIAG socket: %s\n", nl_geterror(ret));
		nl_socket_free(nl);
		return -EPROTONOSUPPORT;
	}
	nl_socket_disable_auto_ack(nl);
	m = nlmsg_alloc_simple(SOCK_DIAG_BY_FAMILY, NLM_F_DUMP);
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	ret = -ENOMEM;
	if (!m || !cb || nlmsg_append(m, &req, sizeof(req), NLMSG_ALIGNTO) < 0)
		goto oom;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, t);
	ret = nl_send_auto(nl, m);
	if (ret >= 0)
		ret = nl_recvmsgs(nl, cb);
	if (ret < 0) {
		pr_err("inet_diag walk (family %d, protocol %d) failed: %s\n", t->family,
		       t->protocol, nl_geterror(ret));
		ret = -EIO;
	} else {
		ret = t->err;
	}
	if (ret == -ENOMEM)
		goto oom;
	qsort(t->v, t->n, sizeof(*t->v), cmp_row);
	goto out;
oom:
	pr_err("out of memory for an inet_diag walk\n");
out:
	nl_cb_put(cb);
	nlmsg_free(m);
	nl_socket_free(nl);
	return ret;
}

int inetdiag_get(struct inetdiag_table **cache, uint32_t nsid, int family, int protocol,
		 uint32_t ino, struct isk_diag *out)
{
	struct inetdiag_table *t;
	struct row key = { .ino = ino }, *r;

	for (t = *cache; t && (t->nsid != nsid || t->family != family || t->protocol != protocol);
	     t = t->next)
		;
	if (!t) {
		int ret;

		t = calloc(1, sizeof(*t));
		if (!t) {
			pr_err("out of memory\n");
			return -ENOMEM;
		}
		t->nsid = nsid;
		t->family = family;
		t->protocol = protocol;
		t->next = *cache;
		*cache = t;
		ret = walk(t);
		if (ret) {
			t->n = 0; /* asked again, it fails again: logged once per socket */
			return ret;
		}
	}
	r = bsearch(&key, t->v, t->n, sizeof(*t->v), cmp_row);
	if (!r)
		return -ENOENT;
	*out = r->d;
	return 0;
}

void inetdiag_free(struct inetdiag_table **cache)
{
	while (*cache) {
		struct inetdiag_table *t = *cache;

		*cache = t->next;
		free(t->v);
		free(t);
	}
}
