/* netns: the sysctls of a network namespace that a dump keeps (kinds/netns.h). Each is one
 * line of text, read at dump and written back at restore; the list is what programs commonly
 * change in a namespace of their own. Others are not kept (docs/core.md). */
#include "criu-lite/kinds/netns.h"

static const char *const sysctls[] = {
	"ipv4/ping_group_range",
	"ipv4/ip_local_port_range",
	"ipv4/ip_local_reserved_ports",
	"ipv4/ip_forward",
	"ipv4/ip_unprivileged_port_start",
	"ipv4/tcp_keepalive_time",
	"ipv4/tcp_keepalive_intvl",
	"ipv4/tcp_keepalive_probes",
	"ipv4/tcp_fin_timeout",
	"ipv4/tcp_syncookies",
	"ipv4/tcp_timestamps",
	"ipv4/tcp_sack",
	"ipv4/tcp_window_scaling",
	"ipv4/conf/all/forwarding",
	"ipv4/conf/lo/rp_filter",
	"ipv4/conf/all/rp_filter",
	"ipv6/conf/all/disable_ipv6",
	"ipv6/conf/lo/disable_ipv6",
	"ipv6/conf/all/forwarding",
	"core/somaxconn",
};

const char *const *netns_sysctls(size_t *n)
{
	*n = sizeof(sysctls) / sizeof(sysctls[0]);
	return sysctls;
}
