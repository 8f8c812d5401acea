/* unix_pair_stream00: stream socketpairs keep their queued data, options, shutdowns and
 * peers across checkpoint/restore. Pair "a": 400 KiB queued from a0 to a1 in mixed writes
 * (a0's SO_SNDBUF raised to 1 MiB) of which a1 read the first 12345 bytes, and 5000 bytes
 * from a1 to a0 of which 100 were read; a0 has SO_PASSCRED and a 2.5 s SO_RCVTIMEO, a1 is
 * O_NONBLOCK with SO_PEEK_OFF 7, and fd 60 is a dup of a1. Pair "b": b0 wrote 3000 bytes
 * and shut down writing, b1 wrote 10 bytes. Pair "c": c1 wrote 55 bytes and closed.
 * After the restore each socket must have its type, no names, its options and flags, its
 * FIONREAD, and exactly its remaining bytes (a1's SO_PEEK_OFF peek starts at byte 7); the
 * pairs still talk to each other; b1 reads EOF after its data and b0 can't send (EPIPE);
 * c0 reads its 55 bytes, then EOF, and can't send. The runner first makes dumps fail
 * (tests.desc faults=): queues and SO_PEEK_OFF must come out of them untouched. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "zdtmtst.h"

#define DUP_FD	 60
#define A_TO_A1	 (400u << 10)
#define A1_READ	 12345u
#define A_TO_A0	 5000u
#define A0_READ	 100u
#define B_TO_B1	 3000u
#define B_TO_B0	 10u
#define C_TO_C0	 55u
#define PEEK_OFF 7
#define SNDBUF	 (1 << 20)
#define SEED_A1	 0x51a10000u
#define SEED_A0	 0x51a00000u
#define SEED_B1	 0x51b10000u
#define SEED_B0	 0x51b00000u
#define SEED_C0	 0x51c00000u

static int a[2], b[2], c[2];

static int write_mixed(int fd, const unsigned char *buf, size_t len)
{
	static const size_t sizes[] = { 1, 4095, 4097, 20000, 333, 65536, 100000 };
	size_t done = 0;

	for (int i = 0; done < len; i++) {
		size_t n = sizes[i % 7] < len - done ? sizes[i % 7] : len - done;
		ssize_t w = send(fd, buf + done, n, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w <= 0)
			return -1;
		done += (size_t)w;
	}
	return 0;
}

/* len bytes of the pattern of seed, from offset skip of the stream, into fd. */
static int send_pattern(int fd, size_t len, uint32_t seed)
{
	unsigned char *buf = malloc(len + 1);
	int ret;

	if (!buf)
		return -1;
	test_fill_pattern(buf, len, seed);
	ret = write_mixed(fd, buf, len);
	free(buf);
	return ret;
}

static int drop(int fd, size_t len)
{
	char *buf = malloc(len + 1);
	ssize_t n = buf ? recv(fd, buf, len, MSG_DONTWAIT) : -1;

	free(buf);
	return n == (ssize_t)len ? 0 : -1;
}

static int setup(void)
{
	int one = 1, sndbuf = SNDBUF, peek = PEEK_OFF;
	struct timeval tv = { 2, 500000 };

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, a) || socketpair(AF_UNIX, SOCK_STREAM, 0, b) ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, c))
		return -1;
	if (setsockopt(a[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) ||
	    send_pattern(a[0], A_TO_A1, SEED_A1) || drop(a[1], A1_READ) ||
	    send_pattern(a[1], A_TO_A0, SEED_A0) || drop(a[0], A0_READ))
		return -1;
	if (setsockopt(a[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) ||
	    setsockopt(a[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(a[1], SOL_SOCKET, SO_PEEK_OFF, &peek, sizeof(peek)) ||
	    fcntl(a[1], F_SETFL, O_NONBLOCK) || dup2(a[1], DUP_FD) != DUP_FD)
		return -1;
	if (send_pattern(b[0], B_TO_B1, SEED_B1) || send_pattern(b[1], B_TO_B0, SEED_B0) ||
	    shutdown(b[0], SHUT_WR))
		return -1;
	if (send_pattern(c[1], C_TO_C0, SEED_C0) || close(c[1]))
		return -1;
	return 0;
}

static int get_int(int fd, int opt, const char *name, int *v)
{
	socklen_t l = sizeof(*v);

	if (getsockopt(fd, SOL_SOCKET, opt, v, &l)) {
		fail_errno("getsockopt(fd %d, %s)", fd, name);
		return -1;
	}
	return 0;
}

/* A stream socket with no names, its O_NONBLOCK, and FIONREAD. */
static int check_sock(const char *name, int fd, int nonblock, size_t inq)
{
	struct sockaddr_un sa;
	socklen_t l = sizeof(sa);
	int type, fl = fcntl(fd, F_GETFL), n = -1;

	if (get_int(fd, SO_TYPE, "SO_TYPE", &type))
		return -1;
	if (type != SOCK_STREAM || fl < 0 || (fl & O_NONBLOCK) != nonblock) {
		fail("%s (fd %d): SO_TYPE %d F_GETFL %#o, expected SOCK_STREAM and O_NONBLOCK %#o",
		     name, fd, type, fl, nonblock);
		return -1;
	}
	if (getsockname(fd, (struct sockaddr *)&sa, &l) || l != sizeof(sa_family_t)) {
		fail("%s (fd %d): getsockname gives length %u, expected an unnamed socket", name,
		     fd, (unsigned int)l);
		return -1;
	}
	if (ioctl(fd, FIONREAD, &n) || n != (int)inq) {
		fail("%s (fd %d): FIONREAD %d, expected %zu", name, fd, n, inq);
		return -1;
	}
	return 0;
}

/* Exactly len bytes of the pattern of seed from offset off, then nothing (or EOF). */
static int check_data(const char *name, int fd, size_t off, size_t len, uint32_t seed, bool eof)
{
	unsigned char *want = malloc(off + len + 1), *got = malloc(len + 4096);
	size_t n = 0;
	int ret = -1;

	if (!want || !got) {
		fail("%s: out of memory", name);
		goto out;
	}
	test_fill_pattern(want, off + len, seed);
	while (n < len + 4096) {
		ssize_t r = recv(fd, got + n, len + 4096 - n, MSG_DONTWAIT);

		if (r < 0 && errno == EAGAIN && !eof)
			break;
		if (r < 0) {
			fail_errno("%s: recv after %zu bytes", name, n);
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n != len || memcmp(got, want + off, len)) {
		size_t bad = 0;

		while (bad < n && bad < len && got[bad] == want[off + bad])
			bad++;
		fail("%s: read %zu bytes, expected %zu; first difference at byte %zu", name, n, len,
		     bad);
		goto out;
	}
	ret = 0;
out:
	free(want);
	free(got);
	return ret;
}

static int check_opts(void)
{
	int sndbuf, cred, peek;
	struct timeval tv;
	socklen_t l = sizeof(tv);

	if (get_int(a[0], SO_SNDBUF, "SO_SNDBUF", &sndbuf) ||
	    get_int(a[0], SO_PASSCRED, "SO_PASSCRED", &cred) ||
	    get_int(a[1], SO_PEEK_OFF, "SO_PEEK_OFF", &peek))
		return -1;
	if (getsockopt(a[0], SOL_SOCKET, SO_RCVTIMEO, &tv, &l)) {
		fail_errno("getsockopt(SO_RCVTIMEO)");
		return -1;
	}
	if (sndbuf != 2 * SNDBUF || !cred || peek != PEEK_OFF || tv.tv_sec != 2 ||
	    tv.tv_usec != 500000) {
		fail("a0 SO_SNDBUF %d SO_PASSCRED %d SO_RCVTIMEO %ld.%06ld, a1 SO_PEEK_OFF %d; "
		     "expected %d, 1, 2.500000 and %d",
		     sndbuf, cred, (long)tv.tv_sec, (long)tv.tv_usec, peek, 2 * SNDBUF, PEEK_OFF);
		return -1;
	}
	return 0;
}

/* a1's own peek offset: a peek starts 7 bytes into what is left. */
static int check_peek(void)
{
	unsigned char want[A1_READ + PEEK_OFF + 32], got[32];
	int off = -1;

	test_fill_pattern(want, sizeof(want), SEED_A1);
	if (recv(a[1], got, sizeof(got), MSG_PEEK) != (ssize_t)sizeof(got) ||
	    memcmp(got, want + A1_READ + PEEK_OFF, sizeof(got))) {
		fail("a1: a peek with SO_PEEK_OFF %d does not give bytes %u.. of the stream",
		     PEEK_OFF, A1_READ + PEEK_OFF);
		return -1;
	}
	if (setsockopt(a[1], SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off))) {
		fail_errno("a1: setsockopt(SO_PEEK_OFF, -1)");
		return -1;
	}
	return 0;
}

/* The dup shares a1's file: a flag set through one shows on the other. */
static int check_dup(void)
{
	if (fcntl(DUP_FD, F_SETFL, 0) || (fcntl(a[1], F_GETFL) & O_NONBLOCK) ||
	    fcntl(DUP_FD, F_SETFL, O_NONBLOCK) || !(fcntl(a[1], F_GETFL) & O_NONBLOCK)) {
		fail("fd %d is not on a1's file description (fd %d) any more", DUP_FD, a[1]);
		return -1;
	}
	return 0;
}

/* A new message each way: the pair is still connected. */
static int check_talk(const char *name, int x, int y)
{
	char buf[16] = "";

	if (send(x, "ping", 4, MSG_NOSIGNAL) != 4 || recv(y, buf, sizeof(buf), MSG_DONTWAIT) != 4 ||
	    memcmp(buf, "ping", 4) || send(y, "pong", 4, MSG_NOSIGNAL) != 4 ||
	    recv(x, buf, sizeof(buf), MSG_DONTWAIT) != 4 || memcmp(buf, "pong", 4)) {
		fail_errno("%s: a new message does not go through both ways", name);
		return -1;
	}
	return 0;
}

static int check_no_send(const char *name, int fd)
{
	if (send(fd, "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT) != -1 || errno != EPIPE) {
		fail_errno("%s: send() after shutdown/close of the peer, expected EPIPE", name);
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

	if (check_sock("a0", a[0], 0, A_TO_A0 - A0_READ) ||
	    check_sock("a1", a[1], O_NONBLOCK, A_TO_A1 - A1_READ) ||
	    check_sock("b0", b[0], 0, B_TO_B0) || check_sock("b1", b[1], 0, B_TO_B1) ||
	    check_sock("c0", c[0], 0, C_TO_C0) || check_opts() || check_peek() || check_dup())
		return 1;
	if (check_data("a1", a[1], A1_READ, A_TO_A1 - A1_READ, SEED_A1, false) ||
	    check_data("a0", a[0], A0_READ, A_TO_A0 - A0_READ, SEED_A0, false) ||
	    check_data("b1", b[1], 0, B_TO_B1, SEED_B1, true) ||
	    check_data("b0", b[0], 0, B_TO_B0, SEED_B0, false) ||
	    check_data("c0", c[0], 0, C_TO_C0, SEED_C0, true))
		return 1;
	if (check_talk("pair a", a[0], a[1]) || check_no_send("b0", b[0]) ||
	    check_no_send("c0", c[0]))
		return 1;
	pass();
	return 0;
}
