/* unix_dgram00: datagram sockets keep their queued messages, boundaries included, and
 * their peers and names across checkpoint/restore. A socketpair "d": d0 sent 7 messages
 * (1, 0, 1000, 65000, 3, 0 and 7 bytes) of which d1 read the first two; d1 sent 3 to d0.
 * A server bound to a path in the test's socket directory got 2 messages by sendto() from a
 * client bound to an abstract name and 3 by send() from an unnamed client connected to
 * it. A socketpair "e" whose e1 sent 2 messages and closed. After the restore every
 * message left is read back in order with its exact length and contents (zero-length
 * ones too, no MSG_TRUNC) and sender (the abstract client's name on its 2 messages, no
 * name on the others), then the queues are empty; names and peers are as they were
 * (getsockname, getpeername); the connected client's new message reaches the server, the
 * server's sendto() reaches the abstract client, the pair still talks both ways, and e0's
 * first send fails with ECONNREFUSED (its peer is gone). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "zdtmtst.h"

#define SEED 0xd9000000u

struct msgs {
	const char *name;
	const size_t *lens;
	int n, consumed;
	uint32_t seed;
};

static const size_t d_to_d1[] = { 1, 0, 1000, 65000, 3, 0, 7 };
static const size_t d_to_d0[] = { 11, 0, 4096 };
static const size_t cl1_to_srv[] = { 5, 300 };
static const size_t cl2_to_srv[] = { 0, 77, 2 };
static const size_t e_to_e0[] = { 9, 1 };

static int d[2], e[2], srv, cl1, cl2;
static struct sockaddr_un srv_addr, cl1_addr;
static socklen_t srv_len, cl1_len;

/* Message i of a stream: the pattern of seed + i. */
static int send_msgs(int fd, const struct sockaddr_un *to, socklen_t tolen, const size_t *lens,
		     int n, uint32_t seed)
{
	for (int i = 0; i < n; i++) {
		unsigned char *buf = malloc(lens[i] + 1);
		ssize_t w;

		if (!buf)
			return -1;
		test_fill_pattern(buf, lens[i], seed + (uint32_t)i);
		w = sendto(fd, buf, lens[i], MSG_DONTWAIT, (const struct sockaddr *)to,
			   to ? tolen : 0);
		free(buf);
		if (w != (ssize_t)lens[i])
			return -1;
	}
	return 0;
}

static int consume(int fd, int n)
{
	static char buf[1 << 17];

	for (int i = 0; i < n; i++)
		if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) < 0)
			return -1;
	return 0;
}

static void set_addr(struct sockaddr_un *a, socklen_t *len, const char *path, bool abstract)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	snprintf(a->sun_path + abstract, sizeof(a->sun_path) - 1, "%s", path);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + abstract + strlen(path) +
			   !abstract);
}

static int setup(void)
{
	char path[96];

	if (test_sock_path(path, sizeof(path), "dg.sock"))
		return -1;
	set_addr(&srv_addr, &srv_len, path, false);
	snprintf(path, sizeof(path), "zdtm-dgram00-%d", getpid());
	set_addr(&cl1_addr, &cl1_len, path, true);
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, d) || socketpair(AF_UNIX, SOCK_DGRAM, 0, e))
		return -1;
	srv = socket(AF_UNIX, SOCK_DGRAM, 0);
	cl1 = socket(AF_UNIX, SOCK_DGRAM, 0);
	cl2 = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (srv < 0 || cl1 < 0 || cl2 < 0 || bind(srv, (struct sockaddr *)&srv_addr, srv_len) ||
	    bind(cl1, (struct sockaddr *)&cl1_addr, cl1_len) ||
	    connect(cl2, (struct sockaddr *)&srv_addr, srv_len))
		return -1;
	if (send_msgs(d[0], NULL, 0, d_to_d1, 7, SEED) || consume(d[1], 2) ||
	    send_msgs(d[1], NULL, 0, d_to_d0, 3, SEED + 100) ||
	    send_msgs(cl1, &srv_addr, srv_len, cl1_to_srv, 2, SEED + 200) ||
	    send_msgs(cl2, NULL, 0, cl2_to_srv, 3, SEED + 300) ||
	    send_msgs(e[1], NULL, 0, e_to_e0, 2, SEED + 400) || close(e[1]))
		return -1;
	return 0;
}

/* The next message on fd is message i of seed, exactly, from the sender named from (NULL:
 * an unnamed one). */
static int check_msg(const char *name, int fd, size_t len, uint32_t seed, int i,
		     const struct sockaddr_un *from, socklen_t fromlen)
{
	static unsigned char want[1 << 17], got[1 << 17];
	struct iovec iov = { got, sizeof(got) };
	struct sockaddr_un sa;
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_name = &sa, .msg_namelen = sizeof(sa)
	};
	ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);

	test_fill_pattern(want, len, seed + (uint32_t)i);
	if (n < 0) {
		fail_errno("%s: message %d (%zu bytes) is missing", name, i, len);
		return -1;
	}
	if ((size_t)n != len || (mh.msg_flags & MSG_TRUNC) || memcmp(got, want, len)) {
		fail("%s: message %d is %zd bytes (flags %#x), expected %zu bytes of its pattern",
		     name, i, n, mh.msg_flags, len);
		return -1;
	}
	if (from ? mh.msg_namelen != fromlen || memcmp(&sa, from, fromlen) : mh.msg_namelen != 0) {
		fail("%s: message %d comes from an address of length %u, expected %u (%s)", name, i,
		     (unsigned int)mh.msg_namelen, from ? (unsigned int)fromlen : 0,
		     from ? "its named sender" : "an unnamed sender");
		return -1;
	}
	return 0;
}

/* Messages from..n of lens, then an empty queue. */
static int check_queue(const char *name, int fd, const size_t *lens, int from, int n, uint32_t seed)
{
	char c;

	for (int i = from; i < n; i++)
		if (check_msg(name, fd, lens[i], seed, i, NULL, 0))
			return -1;
	if (recv(fd, &c, 1, MSG_DONTWAIT) != -1 || errno != EAGAIN) {
		fail_errno("%s: a message more than the %d expected (or not EAGAIN)", name,
			   n - from);
		return -1;
	}
	return 0;
}

static int check_name(const char *what, int fd, bool peer, const struct sockaddr_un *want,
		      socklen_t wlen)
{
	struct sockaddr_un a;
	socklen_t l = sizeof(a);
	int r = peer ? getpeername(fd, (struct sockaddr *)&a, &l)
		     : getsockname(fd, (struct sockaddr *)&a, &l);

	if (r || l != wlen || memcmp(&a, want, wlen)) {
		fail("%s: %s gives length %u (%s), expected %u (%s%s)", what,
		     peer ? "getpeername" : "getsockname", (unsigned int)l,
		     r ? strerror(errno) : (a.sun_path[0] ? a.sun_path : "abstract or none"),
		     (unsigned int)wlen, want->sun_path[0] ? "" : "@",
		     want->sun_path[0] ? want->sun_path : want->sun_path + 1);
		return -1;
	}
	return 0;
}

static int check_after(void)
{
	char buf[16];
	struct sockaddr_un none = { .sun_family = AF_UNIX };

	if (check_name("server", srv, false, &srv_addr, srv_len) ||
	    check_name("abstract client", cl1, false, &cl1_addr, cl1_len) ||
	    check_name("connected client", cl2, true, &srv_addr, srv_len) ||
	    check_name("d0", d[0], false, &none, sizeof(sa_family_t)))
		return -1;
	if (send(cl2, "new", 3, 0) != 3 || recv(srv, buf, sizeof(buf), MSG_DONTWAIT) != 3 ||
	    sendto(srv, "back", 4, 0, (struct sockaddr *)&cl1_addr, cl1_len) != 4 ||
	    recv(cl1, buf, sizeof(buf), MSG_DONTWAIT) != 4 || memcmp(buf, "back", 4)) {
		fail_errno("server and clients: new messages do not go through");
		return -1;
	}
	if (send(d[0], "x", 1, 0) != 1 || recv(d[1], buf, 1, MSG_DONTWAIT) != 1 ||
	    send(d[1], "yz", 2, 0) != 2 || recv(d[0], buf, 2, MSG_DONTWAIT) != 2) {
		fail_errno("pair d: new messages do not go through both ways");
		return -1;
	}
	if (send(e[0], "z", 1, MSG_DONTWAIT) != -1 || errno != ECONNREFUSED) {
		fail_errno("e0: send to its closed peer, expected ECONNREFUSED");
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

	if (check_queue("d1", d[1], d_to_d1, 2, 7, SEED) ||
	    check_queue("d0", d[0], d_to_d0, 0, 3, SEED + 100))
		return 1;
	/* the server's queue: cl1's two messages, then cl2's three */
	if (check_msg("server", srv, cl1_to_srv[0], SEED + 200, 0, &cl1_addr, cl1_len) ||
	    check_msg("server", srv, cl1_to_srv[1], SEED + 200, 1, &cl1_addr, cl1_len) ||
	    check_queue("server", srv, cl2_to_srv, 0, 3, SEED + 300) ||
	    check_queue("e0", e[0], e_to_e0, 0, 2, SEED + 400))
		return 1;
	if (check_after())
		return 1;
	pass();
	return 0;
}
