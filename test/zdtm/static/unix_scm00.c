/* unix_scm00: a file descriptor in flight (SCM_RIGHTS) on a stream socket can't be
 * checkpointed (where the send that carried it starts can't be read without consuming the
 * queue; datagram and seqpacket ones are restored: unix_scm01): the dump must be refused,
 * naming it (tests.desc expect=dumpfail dumpmsg=SCM_RIGHTS), and leave the task and its
 * sockets as they were. A stream socketpair holds 100 bytes, then 10 bytes sent
 * with the read end of a pipe attached, then 50 bytes; the pipe holds a token and its write
 * end is closed. After SIGTERM (the dump failed meanwhile) the receiving socket still has
 * SO_PEEK_OFF -1 and FIONREAD 160; reading gives the 100 bytes, then the 10 bytes with one
 * SCM_RIGHTS fd that reads the token, then the 50 bytes; and the pair still talks. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "zdtmtst.h"

#define TOKEN "in-flight-token"
#define SEED  0x5c300000u

static int sk[2];

static int setup(void)
{
	unsigned char buf[160];
	int p[2];

	test_fill_pattern(buf, sizeof(buf), SEED);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sk) || pipe(p) ||
	    write(p[1], TOKEN, sizeof(TOKEN)) != sizeof(TOKEN) || close(p[1]) ||
	    send(sk[0], buf, 100, 0) != 100 || test_send_fds(sk[0], buf + 100, 10, &p[0], 1) ||
	    close(p[0]) || send(sk[0], buf + 110, 50, 0) != 50)
		return -1;
	return 0;
}

/* Exactly len bytes (from offset off of the pattern), with the fd they carry or none. */
static int take(size_t off, size_t len, int *fd)
{
	unsigned char want[160], got[160];
	int flags;
	size_t k;
	ssize_t n = test_recv_fds(sk[1], got, len, fd, 1, &k, &flags);

	test_fill_pattern(want, sizeof(want), SEED);
	if (!k)
		*fd = -1;
	if (n != (ssize_t)len || memcmp(got, want + off, len) || k > 1 || (flags & MSG_CTRUNC)) {
		fail("bytes %zu..%zu: recvmsg gives %zd (errno %d), flags %#x, %zu fds: expected "
		     "%zu bytes of the pattern",
		     off, off + len, n, n < 0 ? errno : 0, flags, k, len);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char tok[sizeof(TOKEN)], buf[4];
	int peek = 0, n = -1, fd;
	socklen_t l = sizeof(peek);

	if (test_init(argc, argv))
		return 1;
	if (setup()) {
		fail_errno("setup");
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	if (getsockopt(sk[1], SOL_SOCKET, SO_PEEK_OFF, &peek, &l) || peek != -1 ||
	    ioctl(sk[1], FIONREAD, &n) || n != 160) {
		fail("receiver: SO_PEEK_OFF %d FIONREAD %d, expected -1 and 160 (left as they "
		     "were by the refused dump)",
		     peek, n);
		return 1;
	}
	if (take(0, 100, &fd) || fd >= 0) {
		if (fd >= 0)
			fail("the first 100 bytes came with fd %d, expected none", fd);
		return 1;
	}
	if (take(100, 10, &fd))
		return 1;
	if (fd < 0 || read(fd, tok, sizeof(tok)) != sizeof(tok) ||
	    memcmp(tok, TOKEN, sizeof(tok))) {
		fail("the 10 bytes came with fd %d, expected a pipe that holds \"%s\"", fd, TOKEN);
		return 1;
	}
	if (take(110, 50, &fd) || fd >= 0)
		return 1;
	if (send(sk[1], "ok", 2, 0) != 2 || recv(sk[0], buf, sizeof(buf), MSG_DONTWAIT) != 2) {
		fail_errno("the pair does not talk any more");
		return 1;
	}
	pass();
	return 0;
}
