/* sock_inet_opts00: socket options of a TCP listener and of both ends of an established
 * connection survive checkpoint/restore (tests.desc opts=tcp-established needs=root:
 * IP_TRANSPARENT and SO_BINDTODEVICE want CAP_NET_RAW/CAP_NET_ADMIN). Over 127.0.0.1, ports
 * from 0:
 *  - the listener l: SO_BINDTODEVICE "lo", IP_FREEBIND 1, IP_TRANSPARENT 1, SO_LINGER on 5 s,
 *    SO_RCVTIMEO 2.5 s, SO_SNDTIMEO 3.2 s, TCP_USER_TIMEOUT 450000 ms, SO_SNDBUF 32768;
 *  - the client c, before its connect to l: SO_BINDTODEVICE "lo", SO_LINGER on 5 s,
 *    SO_RCVTIMEO 1.5 s, SO_SNDTIMEO 2.25 s, TCP_USER_TIMEOUT 300000 ms, SO_RCVBUF 4096, and a
 *    classic BPF socket filter (SO_ATTACH_FILTER) of 4 instructions that takes every packet;
 *  - the accepted end s (which inherits from l what the kernel copies): TCP_CORK 1, SO_LINGER
 *    on 7 s, TCP_USER_TIMEOUT 600000 ms;
 *  - data in flight both ways (zdtminet.h, test_tcp_pair_fill()), s corked after it.
 * After the restore: SO_BINDTODEVICE, IP_FREEBIND, IP_TRANSPARENT, SO_LINGER, SO_RCVTIMEO,
 * SO_SNDTIMEO, TCP_USER_TIMEOUT, TCP_CORK, SO_KEEPALIVE, SO_RCVBUF and SO_SNDBUF read on l, c
 * and s as they did before (bytes of each getsockopt() value); SO_GET_FILTER gives c's 4
 * instructions exactly, and no filter on l and s; then the connection carries the rest of
 * both streams and 30000 bytes more each way, nothing lost or repeated, and l accepts a new
 * client that talks both ways. */
#include <errno.h>
#include <linux/filter.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "zdtmtst.h"
#include "zdtminet.h"

#define C_TO_S 6000u
#define POST   30000u
#define SEED   0x0b75e700u

static const struct test_sockopt opts[] = {
	TEST_SOCKOPT(SOL_SOCKET, SO_BINDTODEVICE),   TEST_SOCKOPT(IPPROTO_IP, IP_FREEBIND),
	TEST_SOCKOPT(IPPROTO_IP, IP_TRANSPARENT),    TEST_SOCKOPT(SOL_SOCKET, SO_LINGER),
	TEST_SOCKOPT(SOL_SOCKET, SO_RCVTIMEO),	     TEST_SOCKOPT(SOL_SOCKET, SO_SNDTIMEO),
	TEST_SOCKOPT(IPPROTO_TCP, TCP_USER_TIMEOUT), TEST_SOCKOPT(IPPROTO_TCP, TCP_CORK),
	TEST_SOCKOPT(SOL_SOCKET, SO_KEEPALIVE),	     TEST_SOCKOPT(SOL_SOCKET, SO_RCVBUF),
	TEST_SOCKOPT(SOL_SOCKET, SO_SNDBUF),
};
#define NOPTS ((int)(sizeof(opts) / sizeof(opts[0])))

/* every packet taken whole: its length is never below 1 (the other branch takes it too) */
static struct sock_filter prog[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
	BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 1, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, 0xffffffffu),
	BPF_STMT(BPF_RET | BPF_K, 0x40000u),
};
#define NPROG ((int)(sizeof(prog) / sizeof(prog[0])))

static struct test_tcp_pair pair;
static struct test_sockval vals[3][NOPTS];
static const char *const names[3] = { "listener", "client end", "server end" };

/* 0: the listener, 1: the client end, 2: the server end (names[]) */
static int fd_of(int i)
{
	return i == 0 ? pair.l : i == 1 ? pair.c : pair.s;
}

static int set_common(int fd, int linger_s, long rcv_ms, long snd_ms, int user_timeout)
{
	struct linger lg = { .l_onoff = 1, .l_linger = linger_s };
	struct timeval rt = { rcv_ms / 1000, rcv_ms % 1000 * 1000 };
	struct timeval st = { snd_ms / 1000, snd_ms % 1000 * 1000 };

	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) ||
	    (rcv_ms && setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rt, sizeof(rt))) ||
	    (snd_ms && setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &st, sizeof(st))) ||
	    test_setsockopt_int(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, user_timeout))
		return -1;
	return 0;
}

static int setup(void)
{
	struct sock_fprog fp = { .len = NPROG, .filter = prog };
	struct test_name la;
	int l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0);

	if (l < 0 || c < 0 || test_name_make(&la, "127.0.0.1", 0))
		return -1;
	if (setsockopt(l, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3) ||
	    test_setsockopt_int(l, IPPROTO_IP, IP_FREEBIND, 1) ||
	    test_setsockopt_int(l, IPPROTO_IP, IP_TRANSPARENT, 1) ||
	    set_common(l, 5, 2500, 3200, 450000) ||
	    test_setsockopt_int(l, SOL_SOCKET, SO_SNDBUF, 32768) ||
	    bind(l, (struct sockaddr *)&la.a, la.len) || listen(l, 4)) {
		fail_errno("setup: listener");
		return -1;
	}
	if (setsockopt(c, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3) ||
	    set_common(c, 5, 1500, 2250, 300000) ||
	    test_setsockopt_int(c, SOL_SOCKET, SO_RCVBUF, 4096) ||
	    setsockopt(c, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp))) {
		fail_errno("setup: client");
		return -1;
	}
	if (test_tcp_pair_open(&pair, "v4", l, c, SEED) || set_common(pair.s, 7, 0, 0, 600000)) {
		fail_errno("setup: connecting");
		return -1;
	}
	if (test_tcp_pair_fill(&pair, C_TO_S))
		return -1;
	if (test_setsockopt_int(pair.s, IPPROTO_TCP, TCP_CORK, 1)) {
		fail_errno("setup: TCP_CORK");
		return -1;
	}
	for (int i = 0; i < 3; i++)
		if (test_sockopts_get(names[i], fd_of(i), opts, NOPTS, vals[i]))
			return -1;
	return 0;
}

/* SO_GET_FILTER: the option's length is a count of instructions. */
static int check_filter(const char *what, int fd, const struct sock_filter *want, int n)
{
	struct sock_filter got[16];
	socklen_t len = 16;

	memset(got, 0, sizeof(got));
	if (getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, got, &len)) {
		fail_errno("%s: getsockopt(SO_GET_FILTER)", what);
		return -1;
	}
	if ((int)len != n || (n && memcmp(got, want, sizeof(*want) * (size_t)n))) {
		fail("%s: SO_GET_FILTER gives %u instructions%s, expected %d as attached before",
		     what, (unsigned int)len, (int)len == n ? " that differ" : "", n);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (test_init(argc, argv))
		return 1;
	if (setup())
		return 1;
	if (check_filter("client end, before", pair.c, prog, NPROG))
		return 1;
	if (test_daemon())
		return 1;
	test_waitsig();

	for (int i = 0; i < 3; i++)
		if (test_sockopts_same(names[i], fd_of(i), opts, NOPTS, vals[i]))
			return 1;
	if (check_filter("client end", pair.c, prog, NPROG) ||
	    check_filter("listener", pair.l, NULL, 0) ||
	    check_filter("server end", pair.s, NULL, 0))
		return 1;
	if (test_tcp_pair_check(&pair, POST) || test_tcp_new_client("v4", pair.l, &pair.ln))
		return 1;
	pass();
	return 0;
}
