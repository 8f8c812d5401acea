/* unix_listen00: listening unix sockets keep their name, backlog and pending connections
 * across checkpoint/restore. A stream listener bound to a path in the test's socket directory
 * (mode 0640, backlog 5) has three connections waiting: from an unnamed client, from a
 * client bound to an abstract name, and from a client that has closed since. A seqpacket
 * listener bound to an abstract name (backlog 0) has none. After the restore the socket
 * file is a socket with mode 0640; both listen (SO_ACCEPTCONN) under their names; accept()
 * gives the three connections in their order: the first two each receive what their client
 * sends now and their client what they send, the second's peer name is its client's
 * abstract name, the third reads EOF at once; then exactly backlog + 1 new clients (6 and
 * 1) can connect before a nonblocking connect() gets EAGAIN, and a new client is accepted
 * and talks both ways. */
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

#define BACKLOG 5
#define MODE	0640

static int lst, lsq, p1, p2;
static struct sockaddr_un la, sa, p2a;
static socklen_t llen, slen, p2len;
static char path[96];

static void set_addr(struct sockaddr_un *a, socklen_t *len, const char *name, bool abstract)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	snprintf(a->sun_path + abstract, sizeof(a->sun_path) - 1, "%s", name);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + abstract + strlen(name) +
			   !abstract);
}

static int client(int type, const struct sockaddr_un *to, socklen_t tolen, bool nonblock)
{
	int fd = socket(AF_UNIX, type | (nonblock ? SOCK_NONBLOCK : 0), 0);

	if (fd >= 0 && connect(fd, (const struct sockaddr *)to, tolen)) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int setup(void)
{
	char name[64];
	int p3;

	if (test_sock_path(path, sizeof(path), "listen.sock"))
		return -1;
	set_addr(&la, &llen, path, false);
	snprintf(name, sizeof(name), "zdtm-listen00-seq-%d", getpid());
	set_addr(&sa, &slen, name, true);
	snprintf(name, sizeof(name), "zdtm-listen00-cl-%d", getpid());
	set_addr(&p2a, &p2len, name, true);
	lst = socket(AF_UNIX, SOCK_STREAM, 0);
	lsq = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (lst < 0 || lsq < 0 || bind(lst, (struct sockaddr *)&la, llen) || chmod(path, MODE) ||
	    listen(lst, BACKLOG) || bind(lsq, (struct sockaddr *)&sa, slen) || listen(lsq, 0))
		return -1;
	p1 = client(SOCK_STREAM, &la, llen, false);
	p2 = socket(AF_UNIX, SOCK_STREAM, 0);
	if (p1 < 0 || p2 < 0 || bind(p2, (struct sockaddr *)&p2a, p2len) ||
	    connect(p2, (struct sockaddr *)&la, llen))
		return -1;
	p3 = client(SOCK_STREAM, &la, llen, false);
	if (p3 < 0 || close(p3))
		return -1;
	return 0;
}

static int check_listener(const char *what, int fd, const struct sockaddr_un *a, socklen_t alen)
{
	struct sockaddr_un got;
	socklen_t l = sizeof(got), il = sizeof(int);
	int acc = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &il) || !acc ||
	    getsockname(fd, (struct sockaddr *)&got, &l) || l != alen || memcmp(&got, a, alen)) {
		fail("%s: SO_ACCEPTCONN %d, name length %u: expected a listener bound as before",
		     what, acc, (unsigned int)l);
		return -1;
	}
	return 0;
}

/* The accepted end of client c: both ways. */
static int check_pair(const char *what, int acc, int c)
{
	char buf[16];

	/* unix sockets deliver at once: what was sent is there without waiting */
	if (send(c, "hello", 5, MSG_NOSIGNAL) != 5 ||
	    recv(acc, buf, sizeof(buf), MSG_DONTWAIT) != 5 || memcmp(buf, "hello", 5) ||
	    send(acc, "world", 5, MSG_NOSIGNAL) != 5 ||
	    recv(c, buf, sizeof(buf), MSG_DONTWAIT) != 5 || memcmp(buf, "world", 5)) {
		fail_errno("%s: the accepted connection does not reach its client", what);
		return -1;
	}
	return 0;
}

static int check_pending(void)
{
	struct sockaddr_un got;
	socklen_t l = sizeof(got);
	int a1 = accept4(lst, NULL, NULL, SOCK_NONBLOCK), a2 = -1, a3 = -1;
	char c;

	if (a1 >= 0)
		a2 = accept4(lst, (struct sockaddr *)&got, &l, SOCK_NONBLOCK);
	if (a2 >= 0)
		a3 = accept4(lst, NULL, NULL, SOCK_NONBLOCK);
	if (a3 < 0) {
		fail_errno("accepting the 3 pending connections (got fds %d %d)", a1, a2);
		return -1;
	}
	if (l != p2len || memcmp(&got, &p2a, p2len)) {
		fail("the second pending connection's peer name has length %u, expected client "
		     "2's abstract name (%u)",
		     (unsigned int)l, (unsigned int)p2len);
		return -1;
	}
	if (check_pair("pending 1", a1, p1) || check_pair("pending 2", a2, p2))
		return -1;
	if (recv(a3, &c, 1, MSG_DONTWAIT) != 0) {
		fail_errno("pending 3 (its client closed): recv must give EOF");
		return -1;
	}
	return 0;
}

/* Nonblocking connects until EAGAIN: backlog + 1 of them get in. */
static int check_backlog(const char *what, int type, const struct sockaddr_un *a, socklen_t alen,
			 int want)
{
	int fds[16], n = 0, ret = 0;

	while (n < 16) {
		int fd = client(type, a, alen, true);

		if (fd < 0)
			break;
		fds[n++] = fd;
	}
	if (n != want || errno != EAGAIN) {
		fail("%s: %d clients connected before an error (errno %d), expected %d then EAGAIN",
		     what, n, errno, want);
		ret = -1;
	}
	while (n)
		close(fds[--n]);
	return ret;
}

static int check_new(void)
{
	int c, a;

	/* first the connections of check_backlog, closed by now, leave the backlog */
	if (fcntl(lst, F_SETFL, O_NONBLOCK)) {
		fail_errno("fcntl(O_NONBLOCK) of the listener");
		return -1;
	}
	while ((a = accept(lst, NULL, NULL)) >= 0)
		close(a);
	c = client(SOCK_STREAM, &la, llen, false);
	a = c < 0 ? -1 : accept(lst, NULL, NULL); /* it is there: never EAGAIN */
	if (a < 0) {
		fail_errno("a new client is not accepted");
		return -1;
	}
	return check_pair("new client", a, c);
}

int main(int argc, char **argv)
{
	struct stat st;

	if (test_init(argc, argv))
		return 1;
	if (setup()) {
		fail_errno("setup");
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	if (stat(path, &st) || !S_ISSOCK(st.st_mode) || (st.st_mode & 07777) != MODE) {
		fail("%s: mode %#o, expected a socket file with mode %#o", path,
		     (unsigned int)st.st_mode, MODE);
		return 1;
	}
	if (check_listener("stream listener", lst, &la, llen) ||
	    check_listener("seqpacket listener", lsq, &sa, slen) || check_pending() ||
	    check_backlog("stream listener", SOCK_STREAM, &la, llen, BACKLOG + 1) ||
	    check_backlog("seqpacket listener", SOCK_SEQPACKET, &sa, slen, 1) || check_new())
		return 1;
	pass();
	return 0;
}
