/* unix_scm_refuse00: a unix socket in flight (SCM_RIGHTS) whose own receive queue holds files
 * in flight can't be checkpointed (restore would have to fill one queue before the socket that
 * carries it exists): the dump must be refused, naming it (tests.desc expect=dumpfail
 * dumpmsg=itself), and leave everything as it was: the dumper's copies of the files in flight
 * closed, both queues whole. A seqpacket socketpair holds "outer" with one end of a datagram
 * socketpair, whose queue holds "inner" with the read end of a pipe holding a token. After
 * SIGTERM: "outer" comes with the datagram socket, which gives "inner" with the pipe, which
 * reads the token; the datagram pair still talks. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

#define TOKEN "nested-token"

static int send_fd(int sk, const char *text, int fd)
{
	return test_send_fds(sk, text, strlen(text), &fd, 1);
}

/* The next message of sk: text and one fd. */
static int take(int sk, const char *text)
{
	char buf[32];
	int fd = -1, flags;
	size_t n;
	ssize_t len = test_recv_fds(sk, buf, sizeof(buf), &fd, 1, &n, &flags);

	if (len != (ssize_t)strlen(text) || memcmp(buf, text, (size_t)len) || n != 1) {
		fail("message \"%s\": recvmsg gives %zd (errno %d) and %zu fds", text, len,
		     len < 0 ? errno : 0, n);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	int outer[2], inner[2], p[2], in, pr;
	char tok[sizeof(TOKEN)], c;

	if (test_init(argc, argv))
		return 1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, outer) ||
	    socketpair(AF_UNIX, SOCK_DGRAM, 0, inner) || pipe(p) ||
	    write(p[1], TOKEN, sizeof(TOKEN)) != sizeof(TOKEN) ||
	    send_fd(inner[0], "inner", p[0]) || send_fd(outer[0], "outer", inner[1]) ||
	    close(p[0]) || close(p[1]) || close(inner[1])) {
		fail_errno("setup");
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	if ((in = take(outer[1], "outer")) < 0 || (pr = take(in, "inner")) < 0)
		return 1;
	if (read(pr, tok, sizeof(tok)) != sizeof(tok) || memcmp(tok, TOKEN, sizeof(tok))) {
		fail("the pipe in flight does not read \"%s\"", TOKEN);
		return 1;
	}
	if (send(inner[0], "x", 1, 0) != 1 || recv(in, &c, 1, MSG_DONTWAIT) != 1 || c != 'x') {
		fail_errno("the datagram pair does not talk any more");
		return 1;
	}
	pass();
	return 0;
}
