/* unix_seqpacket00: seqpacket sockets keep their queued messages with their boundaries,
 * their connections and shutdowns across checkpoint/restore. Pair "s": s0 sent 6 messages
 * (100, 0, 30000, 1, 0 and 5000 bytes) of which s1 read the first, s1 sent 2 to s0 and
 * shut down writing (so s0 reads them, then EOF). A seqpacket listener bound to an
 * abstract name accepted one client, which sent 3 messages the accepted end has not read.
 * After the restore each queue gives back exactly its messages in order with their
 * lengths and contents (no MSG_TRUNC; zero-length ones as zero-length reads), then s0 sees
 * EOF and s1 nothing (EAGAIN); s0 can still send to s1 but s1 gets EPIPE; the accepted end
 * and its client carry the listener's name (getsockname, getpeername) and still talk; a
 * new client connects to the listener and is accepted. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "zdtmtst.h"

#define SEED 0x5e900000u

static const size_t s_to_s1[] = { 100, 0, 30000, 1, 0, 5000 };
static const size_t s_to_s0[] = { 42, 4096 };
static const size_t cl_to_acc[] = { 7, 0, 1500 };

static int s[2], lst, cl, acc;
static struct sockaddr_un laddr;
static socklen_t llen;

static int send_msgs(int fd, const size_t *lens, int n, uint32_t seed)
{
	for (int i = 0; i < n; i++) {
		unsigned char *buf = malloc(lens[i] + 1);
		ssize_t w;

		if (!buf)
			return -1;
		test_fill_pattern(buf, lens[i], seed + (uint32_t)i);
		w = send(fd, buf, lens[i], MSG_DONTWAIT | MSG_NOSIGNAL);
		free(buf);
		if (w != (ssize_t)lens[i])
			return -1;
	}
	return 0;
}

static int setup(void)
{
	char buf[128];

	memset(&laddr, 0, sizeof(laddr));
	laddr.sun_family = AF_UNIX;
	snprintf(laddr.sun_path + 1, sizeof(laddr.sun_path) - 1, "zdtm-seqpacket00-%d", getpid());
	llen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(laddr.sun_path + 1));
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, s) || send_msgs(s[0], s_to_s1, 6, SEED) ||
	    recv(s[1], buf, sizeof(buf), 0) != 100 || send_msgs(s[1], s_to_s0, 2, SEED + 100) ||
	    shutdown(s[1], SHUT_WR))
		return -1;
	lst = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	cl = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (lst < 0 || cl < 0 || bind(lst, (struct sockaddr *)&laddr, llen) || listen(lst, 4) ||
	    connect(cl, (struct sockaddr *)&laddr, llen))
		return -1;
	acc = accept(lst, NULL, NULL);
	if (acc < 0 || send_msgs(cl, cl_to_acc, 3, SEED + 200))
		return -1;
	return 0;
}

static int check_queue(const char *name, int fd, const size_t *lens, int from, int n, uint32_t seed,
		       bool eof)
{
	static unsigned char want[1 << 16], got[1 << 16];
	ssize_t r;

	for (int i = from; i < n; i++) {
		struct iovec iov = { got, sizeof(got) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

		r = recvmsg(fd, &mh, MSG_DONTWAIT);
		test_fill_pattern(want, lens[i], seed + (uint32_t)i);
		if (r != (ssize_t)lens[i] || (mh.msg_flags & MSG_TRUNC) ||
		    memcmp(got, want, lens[i])) {
			fail(
			    "%s: message %d: recvmsg gives %zd (errno %d, flags %#x), expected %zu "
			    "bytes of its pattern",
			    name, i, r, r < 0 ? errno : 0, mh.msg_flags, lens[i]);
			return -1;
		}
	}
	r = recv(fd, got, sizeof(got), MSG_DONTWAIT);
	if (eof ? r != 0 : (r != -1 || errno != EAGAIN)) {
		fail("%s: after its messages recv gives %zd (errno %d), expected %s", name, r,
		     r < 0 ? errno : 0, eof ? "0 (EOF)" : "EAGAIN");
		return -1;
	}
	return 0;
}

static int check_names(void)
{
	struct sockaddr_un a;
	socklen_t l = sizeof(a), l2 = sizeof(a);
	struct sockaddr_un b;

	if (getsockname(acc, (struct sockaddr *)&a, &l) ||
	    getpeername(cl, (struct sockaddr *)&b, &l2) || l != llen || l2 != llen ||
	    memcmp(&a, &laddr, llen) || memcmp(&b, &laddr, llen)) {
		fail("accepted end and client: getsockname/getpeername give lengths %u and %u, "
		     "expected the listener's name (%u bytes)",
		     (unsigned int)l, (unsigned int)l2, (unsigned int)llen);
		return -1;
	}
	return 0;
}

static int check_after(void)
{
	char buf[8];
	int c2, a2;

	if (send(s[0], "up", 2, MSG_NOSIGNAL) != 2 ||
	    recv(s[1], buf, sizeof(buf), MSG_DONTWAIT) != 2 ||
	    send(s[1], "x", 1, MSG_NOSIGNAL) != -1 || errno != EPIPE) {
		fail_errno("pair s: s0 -> s1 must work, s1 (shut down for writing) -> s0 must give "
			   "EPIPE");
		return -1;
	}
	if (send(acc, "hi", 2, 0) != 2 || recv(cl, buf, sizeof(buf), MSG_DONTWAIT) != 2 ||
	    send(cl, "yo", 2, 0) != 2 || recv(acc, buf, sizeof(buf), MSG_DONTWAIT) != 2) {
		fail_errno("accepted end and client: new messages do not go through");
		return -1;
	}
	c2 = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (c2 < 0 || connect(c2, (struct sockaddr *)&laddr, llen) ||
	    (a2 = accept(lst, NULL, NULL)) < 0 || send(c2, "n", 1, 0) != 1 ||
	    recv(a2, buf, sizeof(buf), 0) != 1) {
		fail_errno("listener: a new client can't connect, be accepted and send");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (test_init(argc, argv))
		return 1;
	if (setup()) {
		fail_errno("setup");
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	if (check_queue("s1", s[1], s_to_s1, 1, 6, SEED, false) ||
	    check_queue("s0", s[0], s_to_s0, 0, 2, SEED + 100, true) ||
	    check_queue("accepted", acc, cl_to_acc, 0, 3, SEED + 200, false) || check_names() ||
	    check_after())
		return 1;
	pass();
	return 0;
}
