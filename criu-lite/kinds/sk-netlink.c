/* sk-netlink: what the dump and the restore of netlink sockets share (sk-netlink.h): the
 * protocols' names, for messages. */
#include <linux/netlink.h>
#include <stddef.h>

#include "criu-lite/kinds/sk-netlink.h"

const char *netlink_proto_name(uint32_t protocol)
{
	static const char *const n[] = {
		[NETLINK_ROUTE] = "NETLINK_ROUTE",
		[NETLINK_USERSOCK] = "NETLINK_USERSOCK",
		[NETLINK_FIREWALL] = "NETLINK_FIREWALL",
		[NETLINK_SOCK_DIAG] = "NETLINK_SOCK_DIAG",
		[NETLINK_NFLOG] = "NETLINK_NFLOG",
		[NETLINK_XFRM] = "NETLINK_XFRM",
		[NETLINK_SELINUX] = "NETLINK_SELINUX",
		[NETLINK_ISCSI] = "NETLINK_ISCSI",
		[NETLINK_AUDIT] = "NETLINK_AUDIT",
		[NETLINK_FIB_LOOKUP] = "NETLINK_FIB_LOOKUP",
		[NETLINK_CONNECTOR] = "NETLINK_CONNECTOR",
		[NETLINK_NETFILTER] = "NETLINK_NETFILTER",
		[NETLINK_IP6_FW] = "NETLINK_IP6_FW",
		[NETLINK_DNRTMSG] = "NETLINK_DNRTMSG",
		[NETLINK_KOBJECT_UEVENT] = "NETLINK_KOBJECT_UEVENT",
		[NETLINK_GENERIC] = "NETLINK_GENERIC",
		[NETLINK_SCSITRANSPORT] = "NETLINK_SCSITRANSPORT",
		[NETLINK_ECRYPTFS] = "NETLINK_ECRYPTFS",
		[NETLINK_RDMA] = "NETLINK_RDMA",
		[NETLINK_CRYPTO] = "NETLINK_CRYPTO",
		[NETLINK_SMC] = "NETLINK_SMC",
	};

	return protocol < sizeof(n) / sizeof(n[0]) ? n[protocol] : NULL;
}
