/* dump-inet: what dump-inet.c and dump-tcp.c share (sk-inet.h has the contract). */
#ifndef CRIU_LITE_DUMP_INET_H
#define CRIU_LITE_DUMP_INET_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "criu-lite/dump/sk-common.h"
#include "criu-lite/dump/tcp-guard.h"
#include "criu-lite/kinds/sk-inet.h"
#include "criu-lite/net/netlock.h"

/* One socket of the dump. */
struct isk {
	InetSkEntry e;
	InetSkOpts o;
	TcpRepairEntry t;
	uint8_t src[16], dst[16];
	char dev[IFNAMSIZ];
	char cc[16];		     /* TCP_CONGESTION */
	uint8_t icmp6f[32];	     /* ICMP6_FILTER */
	struct sk_filter_img filter; /* SO_GET_FILTER */
	/* UDP: its queued datagrams' senders (dump-udp-queue.c) */
	DgramFrom *from, **fromp;
	uint32_t *dg_lens;
	uint8_t (*dg_addr)[16];
	SkIntOpt ints[32], *intp[32]; /* sk_int_opts() that differ from a new socket's */
	char what[96];		      /* "pid 12 fd 3: socket:[345]" */
};

/* A socket held in repair mode (a copy of the task's fd) until dump_inet_finish(). */
struct isk_held {
	int fd;
	bool reuse;  /* SO_REUSEADDR, which leaving repair mode clears */
	bool repair; /* TCP_REPAIR is on */
	struct isk *s;
	char what[96];
};

struct dump_inet {
	struct isk **v;
	size_t n;
	struct isk_held *held;
	size_t nheld;
	struct netlock_conn *conns; /* what the network lock drops */
	size_t nconns;
	bool locked;		     /* the lock's table exists */
	struct tcp_guard guard;	     /* puts the connections back if the dumper dies */
	struct inetdiag_table *diag; /* sock_diag's tables (inetdiag.c) */
};

/* "127.0.0.1:80", "[::1]:80" */
void isk_addr_str(int family, const uint8_t *a, uint32_t port, char *buf, size_t len);
/* s is an established TCP connection (fd: a copy of the task's): a copy kept (and handed to
 * the guard) for dump_inet_hold_all(); or refused without --tcp-established, saved as closed
 * with --tcp-close. 0 or -errno (logged). */
int dump_tcp_established(struct dump_shared *sh, struct dump_inet *t, int fd, struct isk *s);
void dump_tcp_free(struct dump_inet *t);
/* s is a UDP or UDP-Lite socket: the datagrams it has queued (if any) saved, each with its
 * sender, into inetsk-data-<id>.img and s->e. 0 or -errno (logged). */
int dump_udp_queue(struct dump_shared *sh, int fd, struct isk *s);
/* Free the table (after dump_inet_finish()). */
void dump_inet_free(struct dump_shared *sh);

#endif
