/* sockdiag: unix_diag requests through libnl-3 (see sockdiag.h).
 *
 * libnl-idiag (libnl-idiag-3) speaks only inet_diag (struct inet_diag_req_v2 and its
 * attributes), so it can't ask about unix sockets. The request here is libnl-3's core
 * message API: an nl_msg of type SOCK_DIAG_BY_FAMILY carrying a struct unix_diag_req, sent
 * with nl_send_auto() on a NETLINK_SOCK_DIAG nl_sock, and the replies taken by
 * nl_recvmsgs() through valid and error callbacks. The attributes are walked with
 * nla_for_each_attr() rather than nlmsg_parse(): UNIX_DIAG_NAME is attribute type 0, which
 * generic parsers are free to drop.
 */
#include <errno.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/tcp.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>

#define LOG_PREFIX "sockdiag: "
#include "criu-lite/log.h"
#include "criu-lite/dump/sockdiag.h"

#define SHOW_ALL \
	(UDIAG_SHOW_NAME | UDIAG_SHOW_VFS | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS | UDIAG_SHOW_RQLEN)
/* a kernel dev_t (major << 20 | minor), as unix_diag reports a socket file's device */
#define KDEV_MAJOR(d) ((unsigned int)((d) >> 20))
#define KDEV_MINOR(d) ((unsigned int)((d)&0xfffff))

struct sockdiag {
	struct nl_sock *nl;
};

/* What one request gathers from the callbacks. */
struct reply {
	int (*fn)(const struct usk_diag *, void *); /* dump: called per socket */
	void *arg;
	struct usk_diag *one; /* exact request: the answer */
	bool found;
	int err;  /* of our own (parse, fn): already logged */
	int kerr; /* the kernel's answer, a negative errno: not logged yet */
};

void usk_diag_free(struct usk_diag *u)
{
	free(u->icons);
	u->icons = NULL;
	u->n_icons = 0;
}

static int bad(const struct usk_diag *u, const char *what, int len)
{
	pr_err("unix_diag reply for socket:[%u]: %s attribute of %d bytes is malformed\n", u->ino,
	       what, len);
	return -EBADMSG;
}

static int parse_attr(const struct nlattr *a, struct usk_diag *u)
{
	int len = nla_len(a);

	switch (nla_type(a)) {
	case UNIX_DIAG_NAME:
		if (len < 0 || len > USK_NAME_MAX)
			return bad(u, "name", len);
		memcpy(u->name, nla_data(a), (size_t)len);
		u->name_len = (size_t)len;
		/* a path comes with the NUL the kernel adds to it: the path alone */
		if (len && u->name[0])
			u->name_len = strnlen(u->name, (size_t)len);
		break;
	case UNIX_DIAG_VFS: {
		const struct unix_diag_vfs *v = nla_data(a);

		if (len < (int)sizeof(*v))
			return bad(u, "vfs", len);
		u->has_vfs = true;
		u->vfs_ino = v->udiag_vfs_ino;
		u->vfs_dev = makedev(KDEV_MAJOR(v->udiag_vfs_dev), KDEV_MINOR(v->udiag_vfs_dev));
		break;
	}
	case UNIX_DIAG_PEER:
		if (len < 4)
			return bad(u, "peer", len);
		u->has_peer = true;
		memcpy(&u->peer, nla_data(a), 4);
		break;
	case UNIX_DIAG_ICONS:
		if (len < 0 || len % 4)
			return bad(u, "icons", len);
		free(u->icons);
		u->n_icons = (size_t)len / 4;
		u->icons = malloc((size_t)len + 4);
		if (!u->icons) {
			pr_err("out of memory for the %zu pending connections of socket:[%u]\n",
			       u->n_icons, u->ino);
			u->n_icons = 0;
			return -ENOMEM;
		}
		memcpy(u->icons, nla_data(a), (size_t)len);
		break;
	case UNIX_DIAG_RQLEN: {
		const struct unix_diag_rqlen *q = nla_data(a);

		if (len < (int)sizeof(*q))
			return bad(u, "rqlen", len);
		u->rq = q->udiag_rqueue;
		u->wq = q->udiag_wqueue;
		break;
	}
	case UNIX_DIAG_SHUTDOWN:
		if (len < 1)
			return bad(u, "shutdown", len);
		u->shutdown = *(const uint8_t *)nla_data(a);
		break;
	}
	return 0;
}

int sockdiag_unix_parse(const struct nlmsghdr *h, struct usk_diag *out)
{
	const struct unix_diag_msg *m;
	struct nlattr *a;
	int rem, ret = 0;

	memset(out, 0, sizeof(*out));
	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m))) {
		pr_err("unix_diag reply of %u bytes is too short\n", h->nlmsg_len);
		return -EBADMSG;
	}
	m = nlmsg_data(h);
	if (m->udiag_family != AF_UNIX) {
		pr_err("unix_diag reply is of family %u\n", m->udiag_family);
		return -EBADMSG;
	}
	out->ino = m->udiag_ino;
	out->type = m->udiag_type;
	out->state = m->udiag_state;
	nla_for_each_attr(a, nlmsg_attrdata(h, sizeof(*m)), nlmsg_attrlen(h, sizeof(*m)), rem)
	{
		ret = parse_attr(a, out);
		if (ret)
			break;
	}
	if (ret)
		usk_diag_free(out);
	return ret;
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct reply *r = arg;
	struct usk_diag u;
	int ret;

	if (r->err) /* a walk goes on to its end after an error: nothing stale is left behind */
		return NL_SKIP;
	ret = sockdiag_unix_parse(nlmsg_hdr(msg), &u);
	if (!ret && r->fn) {
		ret = r->fn(&u, r->arg);
		usk_diag_free(&u);
	} else if (!ret) {
		usk_diag_free(r->one);
		*r->one = u;
		r->found = true;
	}
	if (ret) {
		r->err = ret;
		return r->fn ? NL_SKIP : NL_STOP;
	}
	return NL_OK;
}

static int on_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct reply *r = arg;

	(void)who;
	r->kerr = e->error < 0 ? e->error : -EIO;
	return NL_STOP;
}

int sockdiag_open(struct sockdiag **out)
{
	struct sockdiag *d = calloc(1, sizeof(*d));
	int ret;

	if (!d) {
		pr_err("out of memory\n");
		return -ENOMEM;
	}
	d->nl = nl_socket_alloc();
	if (!d->nl) {
		pr_err("can't allocate a netlink socket (libnl)\n");
		free(d);
		return -ENOMEM;
	}
	nl_socket_disable_auto_ack(d->nl);
	/* a listener with a long backlog answers with a large message */
	nl_socket_enable_msg_peek(d->nl);
	ret = nl_connect(d->nl, NETLINK_SOCK_DIAG);
	if (ret < 0) {
		pr_err("can't open a NETLINK_SOCK_DIAG socket: %s (a kernel without "
		       "CONFIG_UNIX_DIAG?)\n",
		       nl_geterror(ret));
		nl_socket_free(d->nl);
		free(d);
		return -EPROTONOSUPPORT;
	}
	*out = d;
	return 0;
}

void sockdiag_close(struct sockdiag *d)
{
	if (!d)
		return;
	nl_socket_free(d->nl);
	free(d);
}

/* One request; the replies go through r. what names it in messages. Returns 0, r->err,
 * r->kerr (for the caller to report or not) or -EIO (logged). */
static int request(struct sockdiag *d, const struct unix_diag_req *req, int flags, struct reply *r,
		   const char *what)
{
	struct nl_msg *m = nlmsg_alloc_simple(SOCK_DIAG_BY_FAMILY, flags);
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int ret = -ENOMEM;

	if (!m || !cb || nlmsg_append(m, (void *)req, sizeof(*req), NLMSG_ALIGNTO) < 0) {
		pr_err("out of memory for a unix_diag request (%s)\n", what);
		goto out;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, r);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, r);
	ret = nl_send_auto(d->nl, m);
	if (ret >= 0)
		ret = nl_recvmsgs(d->nl, cb);
	if (r->err || r->kerr) {
		ret = r->err ? r->err : r->kerr;
	} else if (ret < 0) {
		pr_err("unix_diag request (%s) failed: %s\n", what, nl_geterror(ret));
		ret = -EIO;
	} else {
		ret = 0;
	}
out:
	nl_cb_put(cb);
	nlmsg_free(m);
	return ret;
}

int sockdiag_unix_get(struct sockdiag *d, uint32_t ino, struct usk_diag *out)
{
	struct unix_diag_req req = {
		.sdiag_family = AF_UNIX,
		.udiag_states = ~0u,
		.udiag_ino = ino,
		.udiag_show = SHOW_ALL,
		.udiag_cookie = { ~0u, ~0u }, /* INET_DIAG_NOCOOKIE: any socket with that inode */
	};
	struct reply r = { .one = out };
	char what[48];
	int ret;

	memset(out, 0, sizeof(*out));
	snprintf(what, sizeof(what), "socket:[%u]", ino);
	ret = request(d, &req, 0, &r, what);
	if (ret < 0) {
		if (ret == r.kerr && ret != -ENOENT)
			pr_err("unix_diag request for socket:[%u] failed: %s (errno %d)\n", ino,
			       strerror(-ret), -ret);
		usk_diag_free(out);
		return ret;
	}
	if (!r.found || out->ino != ino) {
		pr_err("unix_diag gave no answer for socket:[%u]\n", ino);
		usk_diag_free(out);
		return -EIO;
	}
	return 0;
}

int sockdiag_unix_walk(struct sockdiag *d, uint32_t states,
		       int (*fn)(const struct usk_diag *, void *), void *arg)
{
	struct unix_diag_req req = {
		.sdiag_family = AF_UNIX,
		.udiag_states = states,
		.udiag_show = SHOW_ALL,
	};
	struct reply r = { .fn = fn, .arg = arg };
	int ret = request(d, &req, NLM_F_DUMP, &r, "a walk of the unix sockets");

	if (ret < 0 && ret == r.kerr)
		pr_err("unix_diag walk of the unix sockets (states %#x) failed: %s (errno %d)\n",
		       states, strerror(-ret), -ret);
	return ret;
}
