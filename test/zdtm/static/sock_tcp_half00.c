/* sock_tcp_half00: half-closed TCP connections survive checkpoint/restore (--tcp-established).
 * Both ends of each connection are the test's, over 127.0.0.1:
 *  - pair 1: the client sent 100 bytes and shut down its side (its FIN acked: FIN_WAIT2), the
 *    server sent 50 bytes, read nothing (CLOSE_WAIT, with the client's bytes and FIN queued);
 *  - pair 2: the server's receive buffer is full (a 4 KiB SO_RCVBUF it never reads), the
 *    client's send buffer too, and the client shut down its side: its FIN waits unsent behind
 *    its data (FIN_WAIT1), the server is still ESTABLISHED.
 * After the restore: the states are those of before, at once (FIN_WAIT2 too: the restore gives
 * its FIN's ACK again); the CLOSE_WAIT end reads the 100 bytes, then
 * EOF, and can still send; the client of pair 1 reads the 50 bytes and what the server sends
 * now, and its send() fails with EPIPE; the server of pair 2 reads every byte the client had
 * queued, then EOF, after which the client reaches FIN_WAIT2 and the server CLOSE_WAIT. Every
 * wait is a poll without a limit of its own (the runner's time limit catches a hang). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"
#include "zdtminet.h"

int main(int argc, char **argv)
{
	static unsigned char buf[1 << 16], stream[1 << 20], in[1 << 20];
	struct test_name n1, n2;
	int l1, c1, s1, l2, c2, s2, small = 4096;
	size_t sent2 = 0;
	ssize_t k;

	signal(SIGPIPE, SIG_IGN);
	if (test_init(argc, argv))
		return 1;
	l1 = test_inet_bound(SOCK_STREAM, "127.0.0.1", -1, false, &n1);
	l2 = socket(AF_INET, SOCK_STREAM, 0);
	c1 = socket(AF_INET, SOCK_STREAM, 0);
	c2 = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (l1 < 0 || l2 < 0 || c1 < 0 || c2 < 0 || listen(l1, 2) ||
	    setsockopt(l2, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)) ||
	    setsockopt(c2, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)) ||
	    test_name_make(&n2, "127.0.0.1", 0) || bind(l2, (struct sockaddr *)&n2.a, n2.len) ||
	    test_name_get(l2, false, &n2) || listen(l2, 2) ||
	    connect(c1, (struct sockaddr *)&n1.a, n1.len) || (s1 = accept(l1, NULL, NULL)) < 0) {
		fail_errno("setting up pair 1");
		return 1;
	}
	if (connect(c2, (struct sockaddr *)&n2.a, n2.len) && errno != EINPROGRESS) {
		fail_errno("connecting pair 2");
		return 1;
	}
	s2 = accept(l2, NULL, NULL);
	if (s2 < 0 || test_tcp_wait_state("pair 2 client", c2, TCP_ESTABLISHED))
		return 1;
	test_fill_pattern(buf, 100, 1);
	if (send(c1, buf, 100, 0) != 100 ||
	    (test_fill_pattern(buf, 50, 2), send(s1, buf, 50, 0)) != 50 || shutdown(c1, SHUT_WR) ||
	    test_tcp_wait_state("pair 1 client", c1, TCP_FIN_WAIT2) ||
	    test_tcp_wait_state("pair 1 server", s1, TCP_CLOSE_WAIT)) {
		fail_errno("pair 1 half-closed");
		return 1;
	}
	test_fill_pattern(stream, sizeof(stream), 3);
	/* until neither buffer takes more: the server's window is closed */
	for (int idle = 0; idle < 50 && sent2 + 4096 <= sizeof(stream);) {
		k = send(c2, stream + sent2, 4096, 0);
		if (k > 0) {
			sent2 += (size_t)k;
			idle = 0;
			continue;
		}
		if (errno != EAGAIN) {
			fail_errno("filling pair 2");
			return 1;
		}
		idle++;
		nanosleep(&(struct timespec){ 0, 2000000 }, NULL);
	}
	if (shutdown(c2, SHUT_WR) || test_tcp_state(c2) != TCP_FIN_WAIT1 ||
	    test_tcp_state(s2) != TCP_ESTABLISHED) {
		fail("pair 2: states %d/%d, expected FIN_WAIT1/ESTABLISHED", test_tcp_state(c2),
		     test_tcp_state(s2));
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_tcp_state(c1) != TCP_FIN_WAIT2 || test_tcp_state(s1) != TCP_CLOSE_WAIT ||
	    test_tcp_state(c2) != TCP_FIN_WAIT1 || test_tcp_state(s2) != TCP_ESTABLISHED) {
		fail("states after the restore %d/%d/%d/%d, expected "
		     "FIN_WAIT2/CLOSE_WAIT/FIN_WAIT1/ESTABLISHED",
		     test_tcp_state(c1), test_tcp_state(s1), test_tcp_state(c2),
		     test_tcp_state(s2));
		return 1;
	}
	if (test_read_exact("pair 1 server", s1, 100, 1, true))
		return 1;
	test_fill_pattern(buf, 70, 4);
	if (send(s1, buf, 70, 0) != 70) {
		fail_errno("pair 1 server: sending in CLOSE_WAIT");
		return 1;
	}
	/* what the client gets: the 50 bytes of before, then the 70 of now */
	{
		unsigned char want[120];

		test_fill_pattern(want, 50, 2);
		test_fill_pattern(want + 50, 70, 4);
		for (size_t got = 0; got < sizeof(want);) {
			struct pollfd p = { .fd = c1, .events = POLLIN };

			if (poll(&p, 1, -1) != 1 ||
			    (k = recv(c1, buf + got, sizeof(want) - got, 0)) <= 0) {
				fail_errno("pair 1 client: recv after %zu bytes", got);
				return 1;
			}
			got += (size_t)k;
		}
		if (memcmp(buf, want, sizeof(want))) {
			fail("pair 1 client: the bytes are not those sent");
			return 1;
		}
	}
	if (send(c1, "x", 1, 0) != -1 || errno != EPIPE) {
		fail("pair 1 client: send() after SHUT_WR did not fail with EPIPE (%s)",
		     strerror(errno));
		return 1;
	}
	/* pair 2: every byte, in order, then the FIN */
	{
		size_t got = 0;

		for (;;) {
			struct pollfd p = { .fd = s2, .events = POLLIN };

			if (poll(&p, 1, -1) != 1)
				continue;
			k = recv(s2, in + got, got < sizeof(in) ? sizeof(in) - got : 1, 0);
			if (k < 0) {
				fail_errno("pair 2 server: recv after %zu bytes", got);
				return 1;
			}
			if (!k)
				break;
			got += (size_t)k;
		}
		if (got != sent2 || memcmp(in, stream, sent2)) {
			fail("pair 2 server: %zu bytes before EOF (%s), %zu were sent", got,
			     got == sent2 ? "not those sent" : "", sent2);
			return 1;
		}
	}
	if (test_tcp_wait_state("pair 2 client", c2, TCP_FIN_WAIT2) ||
	    test_tcp_wait_state("pair 2 server", s2, TCP_CLOSE_WAIT))
		return 1;
	pass();
	return 0;
}
