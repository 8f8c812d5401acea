/* restore-packet: the AF_PACKET sockets of a dump (sk-packet.h), each made in the restorer when
 * its entry is opened. It is created with protocol 0, which hooks it to no interface: nothing
 * reaches it until its options and filter are in place and bind() gives it its interface and
 * protocol. Interfaces are found by name in the restore's network namespace. Every entry is
 * checked first (restore_packet_check(), before anything of the restore is created). */
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LOG_PREFIX "sockets: "
#include "criu-lite/kinds/sk-packet.h"
#include "criu-lite/log.h"
#include "criu-lite/restore/restore-sk.h"
#include "criu-lite/restore/restore.h"

#define PK_MAX_MCLIST 256
#define PK_MAX_COUNT  65536

static void name_it(const PacketSkEntry *e, char *what, size_t len)
{
	snprintf(what, len, "packet socket:[%u] (protocol 0x%04x, interface %s)", e->ino,
		 e->protocol, e->ifname ? e->ifname : "any");
}

/* The index of interface name here: > 0, or -ENODEV (logged). */
static int ifindex_of(const char *what, const char *name)
{
	unsigned int i = if_nametoindex(name);

	if (i)
		return (int)i;
	pr_err("%s: its interface %s is not in the restore's network namespace\n", what, name);
	return -ENODEV;
}

static bool bad_name(const char *n)
{
	return !n[0] || strlen(n) >= IF_NAMESIZE;
}

static int check_entry(const FileEntry *fe)
{
	const PacketSkEntry *e = fe->packet_sk;
	char what[128];
	int ret = 0;

	if (!e)
		return rsk_bad(fe->id, "packet socket", "no packet_sk record");
	name_it(e, what, sizeof(what));
	if (e->type != SOCK_RAW && e->type != SOCK_DGRAM)
		return rsk_bad(fe->id, what, "a type other than SOCK_RAW and SOCK_DGRAM");
	if (e->protocol > 0xffff)
		return rsk_bad(fe->id, what, "a protocol above 0xffff");
	if (e->ifname && bad_name(e->ifname))
		return rsk_bad(fe->id, what, "a malformed interface name");
	if (e->has_version && e->version > TPACKET_V3)
		return rsk_bad(fe->id, what, "an unknown PACKET_VERSION");
	if (e->sock && e->sock->n_filter > BPF_MAXINSNS)
		return rsk_bad(fe->id, what, "a socket filter longer than the kernel takes");
	if (e->n_mclist > PK_MAX_MCLIST)
		return rsk_bad(fe->id, what, "more memberships than restore adds");
	for (size_t i = 0; i < e->n_mclist; i++) {
		const PacketMclistEntry *m = e->mclist[i];

		if (bad_name(m->ifname) || m->type > PACKET_MR_UNICAST || m->addr.len > 8 ||
		    !m->count || m->count > PK_MAX_COUNT)
			return rsk_bad(fe->id, what, "a malformed membership");
	}
	/* the interfaces it names must be here: refused before anything is made */
	if (e->ifname)
		ret = ifindex_of(what, e->ifname);
	for (size_t i = 0; i < e->n_mclist && ret >= 0; i++)
		ret = ifindex_of(what, e->mclist[i]->ifname);
	return ret < 0 ? ret : 0;
}

int restore_packet_check(struct restore_ctx *c)
{
	return rsk_check_all(c, FILE_TYPE__FT_PACKETSK, "packet", check_entry);
}

/* ---- creating ----------------------------------------------------------------------------- */

#define SET_PK(f, name)                                                               \
	do {                                                                          \
		if (e->has_##f && e->f && !ret)                                       \
			ret = rsk_seti(fd, what, SOL_PACKET, name, #name, (int)e->f); \
	} while (0)

static int set_opts(int fd, const PacketSkEntry *e, const char *what)
{
	int ret = 0;

	SET_PK(version, PACKET_VERSION); /* first: PACKET_RESERVE depends on it */
	SET_PK(reserve, PACKET_RESERVE);
	SET_PK(auxdata, PACKET_AUXDATA);
	SET_PK(origdev, PACKET_ORIGDEV);
	SET_PK(vnet_hdr, PACKET_VNET_HDR);
	SET_PK(timestamp, PACKET_TIMESTAMP);
	SET_PK(loss, PACKET_LOSS);
	SET_PK(qdisc_bypass, PACKET_QDISC_BYPASS);
	SET_PK(ignore_outgoing, PACKET_IGNORE_OUTGOING);
	SET_PK(tx_has_off, PACKET_TX_HAS_OFF);
	SET_PK(copy_thresh, PACKET_COPY_THRESH);
	if (!ret)
		ret = rsk_sock_opts(fd, what, e->sock);
	return ret;
}

static int bind_it(int fd, const PacketSkEntry *e, const char *what)
{
	struct sockaddr_ll a = { .sll_family = AF_PACKET, .sll_protocol = htons(e->protocol) };

	if (e->ifname) {
		int i = ifindex_of(what, e->ifname);

		if (i < 0)
			return i;
		a.sll_ifindex = i;
	}
	if (!bind(fd, (struct sockaddr *)&a, sizeof(a)))
		return 0;
	pr_perror("%s: bind()", what);
	return -errno;
}

static int add_memberships(int fd, const PacketSkEntry *e, const char *what)
{
	for (size_t i = 0; i < e->n_mclist; i++) {
		const PacketMclistEntry *m = e->mclist[i];
		struct packet_mreq mr = { .mr_type = (unsigned short)m->type,
					  .mr_alen = (unsigned short)m->addr.len };
		int ix = ifindex_of(what, m->ifname);

		if (ix < 0)
			return ix;
		mr.mr_ifindex = ix;
		memcpy(mr.mr_address, m->addr.data, m->addr.len);
		for (uint32_t k = 0; k < m->count; k++) {
			if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr))) {
				int ret = -errno;

				pr_perror("%s: PACKET_ADD_MEMBERSHIP (type %u on %s)", what,
					  m->type, m->ifname);
				return ret;
			}
		}
	}
	return 0;
}

int restore_packet_open(struct restore_ctx *c, const FileEntry *fe)
{
	const PacketSkEntry *e = fe->packet_sk;
	char what[128];
	int fd, ret;

	(void)c;
	if (!e) /* restore_packet_check() refused it */
		return rsk_bad(fe->id, "packet socket", "no packet_sk record");
	name_it(e, what, sizeof(what));
	fd = rsk_socket(AF_PACKET, (int)e->type, 0, what);
	if (fd < 0)
		return fd;
	ret = set_opts(fd, e, what);
	if (!ret && (e->protocol || e->ifname))
		ret = bind_it(fd, e, what);
	if (!ret)
		ret = add_memberships(fd, e, what);
	if (!ret)
		ret = rsk_status(fd, what, e->flags);
	if (ret) {
		close(fd);
		return ret;
	}
	pr_debug("%s: made\n", what);
	return fd;
}
