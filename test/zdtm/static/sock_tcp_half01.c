/* sock_tcp_half01: TCP connections in LAST_ACK and CLOSING survive checkpoint/restore
 * (--tcp-established). Both ends of each connection are the test's, over 127.0.0.1; each state is
 * held by a FIN that can't leave: it waits behind data the peer's closed receive window does not
 * take (a 4 KiB SO_RCVBUF the peer never reads, a 4 KiB SO_SNDBUF on the sender).
 *  - pair A: the client shut down its side first (its FIN acked: FIN_WAIT2); the server, in
 *    CLOSE_WAIT, filled the client's window, then shut down its side too: LAST_ACK, its FIN
 *    unsent behind its data.
 *  - pair B: the client filled the server's window, then shut down its side (FIN_WAIT1, its
 *    FIN unsent); the server shut down its side, and its FIN reached the client: CLOSING on the
 *    client (the server's FIN acked: FIN_WAIT2 on the server).
 * After the restore: the same states, at once (the FIN_WAIT2 ends too: their FIN's ACK is
 * given again by the restore); the CLOSING client reads EOF; each peer that had its window
 * closed reads every byte that was queued, in order, then EOF; after that every end reaches
 * CLOSE (the peer's ack of the held FIN came). Every wait is a poll without a limit of its own
 * (the runner's time limit catches a hang). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"
#include "zdtminet.h"

#define SMALL 4096

static unsigned char stream[1 << 20];

/* Send the pattern of seed from fd (nonblocking) until neither buffer takes more: the peer's
 * window is closed. The bytes sent, or -1 after fail(). */
static ssize_t fill(const char *what, int fd, uint64_t seed)
{
	size_t sent = 0;

	test_fill_pattern(stream, sizeof(stream), seed);
	for (int idle = 0; idle < 50 && sent + 4096 <= sizeof(stream);) {
		ssize_t k = send(fd, stream + sent, 4096, MSG_DONTWAIT);

		if (k > 0) {
			sent += (size_t)k;
			idle = 0;
			continue;
		}
		if (errno != EAGAIN) {
			fail_errno("%s: filling the peer's window", what);
			return -1;
		}
		idle++;
		nanosleep(&(struct timespec){ 0, 2000000 }, NULL);
	}
	return (ssize_t)sent;
}

/* A connected pair over 127.0.0.1: *c the client, *s the server end; rcv_small: the end whose
 * SO_RCVBUF is small (its peer gets the small SO_SNDBUF). */
static int pair(int *c, int *s, bool client_rcv_small)
{
	struct test_name n;
	int l = test_inet_bound(SOCK_STREAM, "127.0.0.1", -1, false, &n), small = SMALL;

	*c = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || *c < 0 || listen(l, 1) ||
	    setsockopt(client_rcv_small ? *c : l, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)) ||
	    setsockopt(client_rcv_small ? l : *c, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)) ||
	    connect(*c, (struct sockaddr *)&n.a, n.len) || (*s = accept(l, NULL, NULL)) < 0)
		return -1;
	if (!client_rcv_small &&
	    setsockopt(*c, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small))) /* not inherited */
		return -1;
	if (client_rcv_small && setsockopt(*s, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)))
		return -1;
	close(l);
	return 0;
}

static int states(const char *when, int ca, int sa, int cb, int sb)
{
	int x = test_tcp_state(ca), y = test_tcp_state(sa), z = test_tcp_state(cb),
	    w = test_tcp_state(sb);

	if (x == TCP_FIN_WAIT2 && y == TCP_LAST_ACK && z == TCP_CLOSING && w == TCP_FIN_WAIT2)
		return 0;
	fail("%s: states A %d/%d, B %d/%d; expected FIN_WAIT2/LAST_ACK, CLOSING/FIN_WAIT2", when, x,
	     y, z, w);
	return -1;
}

int main(int argc, char **argv)
{
	int ca, sa, cb, sb;
	ssize_t na, nb;
	char b;

	signal(SIGPIPE, SIG_IGN);
	if (test_init(argc, argv))
		return 1;
	if (pair(&ca, &sa, true) || pair(&cb, &sb, false)) {
		fail_errno("two connected pairs");
		return 1;
	}
	/* A: the client's FIN first, then the server's, held */
	if (shutdown(ca, SHUT_WR) || test_tcp_wait_state("A client", ca, TCP_FIN_WAIT2) ||
	    test_tcp_wait_state("A server", sa, TCP_CLOSE_WAIT))
		return 1;
	if ((na = fill("A server", sa, 11)) < 0)
		return 1;
	if (shutdown(sa, SHUT_WR) || test_tcp_state(sa) != TCP_LAST_ACK) {
		fail_errno("A server: LAST_ACK (state %d)", test_tcp_state(sa));
		return 1;
	}
	/* B: the client's FIN held, the server's comes to it */
	if ((nb = fill("B client", cb, 12)) < 0)
		return 1;
	if (shutdown(cb, SHUT_WR) || test_tcp_state(cb) != TCP_FIN_WAIT1 || shutdown(sb, SHUT_WR) ||
	    test_tcp_wait_state("B client", cb, TCP_CLOSING) ||
	    test_tcp_wait_state("B server", sb, TCP_FIN_WAIT2))
		return 1;
	if (states("before", ca, sa, cb, sb))
		return 1;
	test_msg("pair A: %zd bytes behind the server's FIN, pair B: %zd behind the client's\n", na,
		 nb);

	test_daemon();
	test_waitsig();

	if (states("after the restore", ca, sa, cb, sb))
		return 1;
	if (recv(cb, &b, 1, MSG_DONTWAIT) != 0) {
		fail_errno("B client: no EOF from the server's FIN");
		return 1;
	}
	if (test_read_exact("A client", ca, (size_t)na, 11, true) ||
	    test_read_exact("B server", sb, (size_t)nb, 12, true))
		return 1;
	/* the held FINs acked at last: the LAST_ACK and CLOSING ends are done */
	if (test_tcp_wait_state("A server", sa, TCP_CLOSE) ||
	    test_tcp_wait_state("B client", cb, TCP_CLOSE))
		return 1;
	pass();
	return 0;
}
