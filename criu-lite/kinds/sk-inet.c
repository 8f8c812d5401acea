/* sk-inet: what the dump and the restore of inet sockets share (sk-inet.h): image and lock
 * names, and the allow-list of plain integer options (sk_int_opt). */
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>

#include "criu-lite/kinds/sk-inet.h"

void inet_data_name(char *buf, size_t len, uint32_t id)
{
	snprintf(buf, len, "inetsk-data-%u.img", id);
}

void inet_lock_name(char *buf, size_t len, uint32_t dump_id)
{
	snprintf(buf, len, "criu-lite-%08x", dump_id);
}

/* Flags and small values a task may set that change what it reads or sends; each saved where it
 * differs from a new socket's, set again as it was. Only these: a damaged image can't make the
 * restore set any other option. */
static const struct sk_int_opt_def defs[] = {
	{ SOL_SOCKET, SO_PASSCRED, 0, "SO_PASSCRED", false },
	{ SOL_SOCKET, SO_TIMESTAMP_OLD, 0, "SO_TIMESTAMP", false },
	{ SOL_SOCKET, SO_TIMESTAMPNS_OLD, 0, "SO_TIMESTAMPNS", false },
	{ SOL_SOCKET, SO_RXQ_OVFL, 0, "SO_RXQ_OVFL", false },
	{ SOL_SOCKET, SO_DONTROUTE, 0, "SO_DONTROUTE", false },
	{ SOL_IP, IP_PKTINFO, AF_INET, "IP_PKTINFO", false },
	{ SOL_IP, IP_RECVERR, AF_INET, "IP_RECVERR", false },
	{ SOL_IP, IP_RECVTOS, AF_INET, "IP_RECVTOS", false },
	{ SOL_IP, IP_RECVTTL, AF_INET, "IP_RECVTTL", false },
	{ SOL_IP, IP_RECVOPTS, AF_INET, "IP_RECVOPTS", false },
	{ SOL_IP, IP_MTU_DISCOVER, AF_INET, "IP_MTU_DISCOVER", false },
	{ SOL_IP, IP_MULTICAST_TTL, AF_INET, "IP_MULTICAST_TTL", true },
	{ SOL_IP, IP_MULTICAST_LOOP, AF_INET, "IP_MULTICAST_LOOP", true },
	{ SOL_IP, IP_MULTICAST_ALL, AF_INET, "IP_MULTICAST_ALL", true },
	{ SOL_IP, IP_BIND_ADDRESS_NO_PORT, 0, "IP_BIND_ADDRESS_NO_PORT", false },
	{ SOL_IPV6, IPV6_RECVPKTINFO, AF_INET6, "IPV6_RECVPKTINFO", false },
	{ SOL_IPV6, IPV6_RECVERR, AF_INET6, "IPV6_RECVERR", false },
	{ SOL_IPV6, IPV6_RECVTCLASS, AF_INET6, "IPV6_RECVTCLASS", false },
	{ SOL_IPV6, IPV6_RECVHOPLIMIT, AF_INET6, "IPV6_RECVHOPLIMIT", false },
	{ SOL_IPV6, IPV6_MTU_DISCOVER, AF_INET6, "IPV6_MTU_DISCOVER", false },
	{ SOL_IPV6, IPV6_MULTICAST_HOPS, AF_INET6, "IPV6_MULTICAST_HOPS", true },
	{ SOL_IPV6, IPV6_MULTICAST_LOOP, AF_INET6, "IPV6_MULTICAST_LOOP", true },
};

const struct sk_int_opt_def *sk_int_opts(size_t *n)
{
	*n = sizeof(defs) / sizeof(defs[0]);
	return defs;
}

const struct sk_int_opt_def *sk_int_opt_find(uint32_t level, uint32_t name)
{
	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++)
		if ((uint32_t)defs[i].level == level && (uint32_t)defs[i].name == name)
			return &defs[i];
	return NULL;
}
