/* dump-packet: the AF_PACKET sockets of the dumped tree (sk-packet.h).
 *
 * Read through a copy of the task's fd (taskfd_copy): the same socket. getsockopt() tells the
 * options; sock_diag's packet_diag (every packet socket of the namespace, bound or not) tells
 * what nothing else does: the memberships (PACKET_ADD_MEMBERSHIP has no getsockopt), rings,
 * fanout, PACKET_COPY_THRESH. Interfaces are saved by name: restore binds to the interface of
 * that name in its own network namespace (another host's "eth0" has another index). */
#include <errno.h>
#include <linux/if_packet.h>
#include <linux/packet_diag.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LOG_PREFIX "sockets: "
#include "criu-lite/dump/sk-common.h"
#include "criu-lite/dump/skdiag.h"
#include "criu-lite/kinds/sk-packet.h"
#include "criu-lite/log.h"

#define PK_MAX_MCLIST 256

/* One socket: its entry first (dump_packet_free() gets the entry's address). */
struct pksk {
	PacketSkEntry e;
	char ifname[IF_NAMESIZE];
	PacketMclistEntry mc[PK_MAX_MCLIST], *mcp[PK_MAX_MCLIST];
	char mcname[PK_MAX_MCLIST][IF_NAMESIZE];
	uint8_t mcaddr[PK_MAX_MCLIST][8];
	struct sk_sock_opts_img sock;
	char what[96]; /* "pid 12 fd 3: socket:[345]" */
};

/* ---- sock_diag ---------------------------------------------------------------------------- */

struct pk_diag {
	uint32_t ino;
	struct packet_diag_info info;
	bool has_info, ring, fanout;
	uint32_t fanout_v;
	struct packet_diag_mclist *mc;
	size_t nmc;
};

static int on_mclist(struct pk_diag *d, const struct nlattr *a)
{
	size_t n = (size_t)nla_len(a) / sizeof(struct packet_diag_mclist);

	d->mc = calloc(n + 1, sizeof(*d->mc));
	if (!d->mc)
		return -ENOMEM;
	memcpy(d->mc, nla_data(a), n * sizeof(*d->mc));
	d->nmc = n;
	return 0;
}

static int on_diag(const struct nlmsghdr *h, void *arg)
{
	struct pk_diag *d = arg;
	const struct packet_diag_msg *m;
	struct nlattr *a;
	int rem, ret = 1;

	if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return 0;
	m = NLMSG_DATA(h);
	if (m->pdiag_ino != d->ino)
		return 0;
	nla_for_each_attr(a, (struct nlattr *)((char *)m + NLMSG_ALIGN(sizeof(*m))),
			  (int)(h->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof(*m)))), rem)
	{
		int t = nla_type(a);

		if (t == PACKET_DIAG_INFO && nla_len(a) >= (int)sizeof(d->info)) {
			memcpy(&d->info, nla_data(a), sizeof(d->info));
			d->has_info = true;
		} else if (t == PACKET_DIAG_RX_RING || t == PACKET_DIAG_TX_RING) {
			d->ring = true;
		} else if (t == PACKET_DIAG_FANOUT && nla_len(a) >= 4) {
			d->fanout = true;
			d->fanout_v = nla_get_u32(a);
		} else if (t == PACKET_DIAG_MCLIST && !d->mc && on_mclist(d, a)) {
			ret = -ENOMEM;
		}
	}
	return ret;
}

static int diag(const struct pksk *s, struct pk_diag *d)
{
	struct packet_diag_req req = {
		.sdiag_family = AF_PACKET,
		.pdiag_ino = s->e.ino,
		.pdiag_show = PACKET_SHOW_INFO | PACKET_SHOW_MCLIST | PACKET_SHOW_RING_CFG |
			      PACKET_SHOW_FANOUT,
	};
	int ret = skdiag_walk(&req, sizeof(req), on_diag, d, s->what);

	if (ret == -ENOMEM)
		pr_err("%s: out of memory for its memberships\n", s->what);
	if (ret < 0)
		return ret;
	if (!ret || !d->has_info) {
		pr_err("%s: sock_diag does not know this packet socket in criu-lite's network "
		       "namespace\n",
		       s->what);
		return -EIO;
	}
	return 0;
}

/* ---- the socket --------------------------------------------------------------------------- */

/* What can't be restored: refused here, naming the socket. */
static int refuse(int fd, const struct pksk *s, const struct pk_diag *d)
{
	uint32_t q = 0;
	int ret, v, sz;

	if (d->ring) {
		pr_err("%s: a packet socket with mmap rings (PACKET_RX_RING/PACKET_TX_RING): not "
		       "supported yet\n",
		       s->what);
		return -ENOTSUP;
	}
	if (d->fanout) {
		pr_err("%s: a packet socket in fanout group %u (PACKET_FANOUT, type %u): not "
		       "supported yet\n",
		       s->what, d->fanout_v & 0xffff, (d->fanout_v >> 16) & 0xff);
		return -ENOTSUP;
	}
	if (d->nmc > PK_MAX_MCLIST) {
		pr_err("%s: %zu memberships (PACKET_ADD_MEMBERSHIP): more than the %d criu-lite "
		       "saves\n",
		       s->what, d->nmc, PK_MAX_MCLIST);
		return -ENOTSUP;
	}
	if (sk_geti(fd, SOL_PACKET, PACKET_VNET_HDR_SZ, &sz) &&
	    sk_geti(fd, SOL_PACKET, PACKET_VNET_HDR, &v) && sz != (v ? 10 : 0)) {
		pr_err("%s: PACKET_VNET_HDR_SZ %d: not supported yet (PACKET_VNET_HDR's 10 is)\n",
		       s->what, sz);
		return -ENOTSUP;
	}
	ret = sk_rqueue(fd, s->what, &q);
	if (!ret && q) {
		pr_err("%s: a packet socket with packets queued for reading (%u bytes): not "
		       "supported (they can't be put back as received)\n",
		       s->what, q);
		ret = -ENOTSUP;
	}
	return ret;
}

static int ifname_of(const struct pksk *s, uint32_t ifindex, char *name)
{
	if (if_indextoname(ifindex, name))
		return 0;
	pr_perror("%s: the name of its interface (index %u)", s->what, ifindex);
	return -ENODEV;
}

static int read_mclist(struct pksk *s, const struct pk_diag *d)
{
	for (size_t i = 0; i < d->nmc; i++) {
		const struct packet_diag_mclist *m = &d->mc[i];
		PacketMclistEntry *e = &s->mc[i];
		int ret;

		if (m->pdmc_alen > sizeof(s->mcaddr[i])) {
			pr_err("%s: a membership with an address of %u bytes: not supported\n",
			       s->what, m->pdmc_alen);
			return -ENOTSUP;
		}
		ret = ifname_of(s, m->pdmc_index, s->mcname[i]);
		if (ret)
			return ret;
		packet_mclist_entry__init(e);
		memcpy(s->mcaddr[i], m->pdmc_addr, m->pdmc_alen);
		e->ifname = s->mcname[i];
		e->type = m->pdmc_type;
		e->addr = (ProtobufCBinaryData){ m->pdmc_alen, s->mcaddr[i] };
		e->count = m->pdmc_count;
		s->mcp[i] = e;
	}
	s->e.n_mclist = d->nmc;
	s->e.mclist = s->mcp;
	return 0;
}

#define PK_U32(fd, e, f, name)                                  \
	do {                                                    \
		int v_;                                         \
		if (sk_geti(fd, SOL_PACKET, name, &v_) && v_) { \
			(e)->has_##f = true;                    \
			(e)->f = (uint32_t)v_;                  \
		}                                               \
	} while (0)
#define PK_BOOL(fd, e, f, name)                               \
	do {                                                  \
		int v_;                                       \
		if (sk_geti(fd, SOL_PACKET, name, &v_) && v_) \
			(e)->has_##f = (e)->f = true;         \
	} while (0)

static int read_opts(int fd, struct pksk *s, const struct pk_diag *d)
{
	PacketSkEntry *e = &s->e;
	int ret;

	PK_U32(fd, e, version, PACKET_VERSION);
	PK_U32(fd, e, reserve, PACKET_RESERVE);
	PK_BOOL(fd, e, auxdata, PACKET_AUXDATA);
	PK_BOOL(fd, e, origdev, PACKET_ORIGDEV);
	PK_BOOL(fd, e, vnet_hdr, PACKET_VNET_HDR);
	PK_U32(fd, e, timestamp, PACKET_TIMESTAMP);
	PK_BOOL(fd, e, loss, PACKET_LOSS);
	PK_BOOL(fd, e, qdisc_bypass, PACKET_QDISC_BYPASS);
	PK_BOOL(fd, e, ignore_outgoing, PACKET_IGNORE_OUTGOING);
	PK_BOOL(fd, e, tx_has_off, PACKET_TX_HAS_OFF);
	if (d->info.pdi_copy_thresh) {
		e->has_copy_thresh = true;
		e->copy_thresh = d->info.pdi_copy_thresh;
	}
	ret = sk_read_sock_opts(fd, s->what, "packet", AF_PACKET, (int)e->type, 0, false, &s->sock);
	e->sock = &s->sock.m;
	return ret;
}

static int read_sock(int fd, struct pksk *s, struct pk_diag *d)
{
	struct sockaddr_ll a = { 0 };
	socklen_t l = sizeof(int);
	int v, ret;

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &l)) {
		ret = -errno;
		pr_perror("%s: its type", s->what);
		return ret;
	}
	s->e.type = (uint32_t)v;
	if (s->e.type != SOCK_RAW && s->e.type != SOCK_DGRAM) {
		pr_err("%s: a packet socket of type %u (SOCK_PACKET?): not supported (SOCK_RAW and "
		       "SOCK_DGRAM are)\n",
		       s->what, s->e.type);
		return -ENOTSUP;
	}
	ret = diag(s, d);
	if (ret)
		return ret;
	l = sizeof(a);
	if (getsockname(fd, (struct sockaddr *)&a, &l)) {
		ret = -errno;
		pr_perror("%s: getsockname", s->what);
		return ret;
	}
	s->e.protocol = ntohs(a.sll_protocol);
	if (a.sll_ifindex) {
		ret = ifname_of(s, (uint32_t)a.sll_ifindex, s->ifname);
		s->e.ifname = s->ifname;
	}
	if (!ret)
		ret = refuse(fd, s, d);
	if (!ret)
		ret = read_mclist(s, d);
	if (!ret)
		ret = read_opts(fd, s, d);
	return ret;
}

int dump_packet_sk(const struct dump_sk_fd *f, PacketSkEntry **out)
{
	struct pksk *s = calloc(1, sizeof(*s));
	struct pk_diag d = { 0 };
	int fd, ret;

	if (!s) {
		pr_err("%s: out of memory\n", f->what);
		return -ENOMEM;
	}
	packet_sk_entry__init(&s->e);
	snprintf(s->what, sizeof(s->what), "%s: %s", f->what, f->link);
	s->e.ino = d.ino = (uint32_t)f->st->st_ino;
	s->e.flags = f->flags;
	fd = sk_copy_fd(f, s->what);
	if (fd < 0) {
		dump_packet_free(&s->e);
		return fd;
	}
	ret = read_sock(fd, s, &d);
	close(fd);
	free(d.mc);
	if (ret) {
		dump_packet_free(&s->e);
		return ret;
	}
	pr_debug("%s: packet socket, type %u, protocol 0x%04x, interface %s, %zu membership(s)\n",
		 s->what, s->e.type, s->e.protocol, s->e.ifname ? s->e.ifname : "(any)",
		 s->e.n_mclist);
	*out = &s->e;
	return 0;
}

void dump_packet_free(PacketSkEntry *e)
{
	struct pksk *s = (struct pksk *)e;

	if (!s)
		return;
	sk_sock_opts_free(&s->sock);
	free(s);
}
