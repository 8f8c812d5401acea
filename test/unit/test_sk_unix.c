/* test_sk_unix: the parts of unix socket dumping that can be tested without a
 * dump: decoding sock_diag replies (crafted and live) and reading a socket's
 * queue without consuming it (stream, datagram, seqpacket), fds in flight taken
 * by message or refused (always on a stream socket), and out-of-band data refused,
 * each leaving the socket untouched. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "criu-lite/log.h"
#include "criu-lite/kinds/sk-unix.h"
#include "criu-lite/dump/sockdiag.h"

/* ---- crafted replies ---- */

struct msgbuf {
	union {
		struct nlmsghdr h;
		char b[1024];
	} u;
};

static void put_attr(struct msgbuf *m, unsigned short type, const void *data, size_t len)
{
	struct nlattr *a = (struct nlattr *)(m->u.b + NLMSG_ALIGN(m->u.h.nlmsg_len));

	a->nla_type = type;
	a->nla_len = (unsigned short)(NLA_HDRLEN + len);
	memcpy((char *)a + NLA_HDRLEN, data, len);
	m->u.h.nlmsg_len = NLMSG_ALIGN(m->u.h.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

static void init_msg(struct msgbuf *m, unsigned char family)
{
	struct unix_diag_msg *d;

	memset(m, 0, sizeof(*m));
	m->u.h.nlmsg_len = NLMSG_LENGTH(sizeof(*d));
	m->u.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	d = NLMSG_DATA(&m->u.h);
	d->udiag_family = family;
	d->udiag_type = SOCK_STREAM;
	d->udiag_state = TCP_LISTEN;
	d->udiag_ino = 4242;
}

static void test_parse(void **state)
{
	static const char path[] = "/tmp/some.sock"; /* with its NUL, as the kernel sends it */
	struct unix_diag_vfs vfs = { .udiag_vfs_ino = 77, .udiag_vfs_dev = (8u << 20) | 3 };
	struct unix_diag_rqlen rq = { .udiag_rqueue = 2, .udiag_wqueue = 9 };
	uint32_t icons[2] = { 11, 0 }, peer = 5;
	uint8_t shut = 3;
	struct usk_diag u;
	struct msgbuf m;

	(void)state;
	init_msg(&m, AF_UNIX);
	put_attr(&m, UNIX_DIAG_NAME, path, sizeof(path));
	put_attr(&m, UNIX_DIAG_VFS, &vfs, sizeof(vfs));
	put_attr(&m, UNIX_DIAG_ICONS, icons, sizeof(icons));
	put_attr(&m, UNIX_DIAG_RQLEN, &rq, sizeof(rq));
	put_attr(&m, UNIX_DIAG_SHUTDOWN, &shut, 1);
	put_attr(&m, UNIX_DIAG_PEER, &peer, 4);
	assert_int_equal(sockdiag_unix_parse(&m.u.h, &u), 0);
	assert_int_equal(u.ino, 4242);
	assert_int_equal(u.type, SOCK_STREAM);
	assert_int_equal(u.state, TCP_LISTEN);
	assert_int_equal(u.name_len, strlen(path)); /* the path alone */
	assert_memory_equal(u.name, path, strlen(path));
	assert_true(u.has_vfs);
	assert_int_equal(u.vfs_ino, 77);
	assert_int_equal(u.vfs_dev, makedev(8, 3));
	assert_int_equal(u.n_icons, 2);
	assert_int_equal(u.icons[0], 11);
	assert_int_equal(u.icons[1], 0);
	assert_int_equal(u.rq, 2);
	assert_int_equal(u.wq, 9);
	assert_int_equal(u.shutdown, 3);
	assert_true(u.has_peer);
	assert_int_equal(u.peer, 5);
	usk_diag_free(&u);

	/* an abstract name keeps every byte, NULs included */
	init_msg(&m, AF_UNIX);
	put_attr(&m, UNIX_DIAG_NAME, "\0ab\0c", 5);
	assert_int_equal(sockdiag_unix_parse(&m.u.h, &u), 0);
	assert_int_equal(u.name_len, 5);
	assert_false(u.has_peer);
	usk_diag_free(&u);
}

static void test_parse_bad(void **state)
{
	char big[USK_NAME_MAX + 1] = "/";
	struct usk_diag u;
	struct msgbuf m;

	(void)state;
	init_msg(&m, AF_INET);
	assert_int_equal(sockdiag_unix_parse(&m.u.h, &u), -EBADMSG);
	init_msg(&m, AF_UNIX);
	put_attr(&m, UNIX_DIAG_PEER, "ab", 2);
	assert_int_equal(sockdiag_unix_parse(&m.u.h, &u), -EBADMSG);
	init_msg(&m, AF_UNIX);
	put_attr(&m, UNIX_DIAG_ICONS, "abcdef", 6);
	assert_int_equal(sockdiag_unix_parse(&m.u.h, &u), -EBADMSG);
	init_msg(&m, AF_UNIX);
	put_attr(&m, UNIX_DIAG_NAME, big, sizeof(big));
	assert_int_equal(sockdiag_unix_parse(&m.u.h, &u), -EBADMSG);
	init_msg(&m, AF_UNIX);
	m.u.h.nlmsg_len = NLMSG_LENGTH(4);
	assert_int_equal(sockdiag_unix_parse(&m.u.h, &u), -EBADMSG);
}

/* ---- live sockets ---- */

static uint32_t ino_of(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return (uint32_t)st.st_ino;
}

static void test_live(void **state)
{
	struct sockdiag *d;
	struct usk_diag u;
	int p[2], pp[2];

	(void)state;
	assert_int_equal(sockdiag_open(&d), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p), 0);
	assert_int_equal(send(p[1], "hello", 5, 0), 5);
	assert_int_equal(sockdiag_unix_get(d, ino_of(p[0]), &u), 0);
	assert_true(u.has_peer);
	assert_int_equal(u.peer, ino_of(p[1]));
	assert_int_equal(u.state, TCP_ESTABLISHED);
	assert_int_equal(u.rq, 5);
	assert_int_equal(u.shutdown, 0);
	usk_diag_free(&u);
	/* a closed peer: still a peer, of inode 0, and both directions shut down */
	close(p[1]);
	assert_int_equal(sockdiag_unix_get(d, ino_of(p[0]), &u), 0);
	assert_true(u.has_peer);
	assert_int_equal(u.peer, 0);
	assert_int_equal(u.shutdown, 3);
	usk_diag_free(&u);
	/* no such unix socket (a pipe's inode): -ENOENT */
	assert_int_equal(pipe(pp), 0);
	assert_int_equal(sockdiag_unix_get(d, ino_of(pp[1]), &u), -ENOENT);
	close(pp[0]);
	close(pp[1]);
	close(p[0]);
	sockdiag_close(d);
}

static int peek_off(int fd)
{
	int v = -2;
	socklen_t l = sizeof(v);

	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &v, &l), 0);
	return v;
}

static int inq(int fd)
{
	int n = -1;

	assert_int_equal(ioctl(fd, FIONREAD, &n), 0);
	return n;
}

static void test_stream(void **state)
{
	char buf[64], all[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	struct usk_queue q;
	int p[2], off = 5;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p), 0);
	assert_int_equal(send(p[0], all, 10, 0), 10);
	assert_int_equal(send(p[0], all + 10, 26, 0), 26);
	assert_int_equal(recv(p[1], buf, 4, 0), 4);
	assert_int_equal(setsockopt(p[1], SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off)), 0);
	assert_int_equal(usk_queue_peek(p[1], SOCK_STREAM, false, 32, false, "test", &q), 0);
	assert_int_equal(q.len, 32);
	assert_memory_equal(q.data, all + 4, 32);
	assert_int_equal(q.n_msgs, 0);
	usk_queue_free(&q);
	/* the task's own state is as it was */
	assert_int_equal(peek_off(p[1]), 5);
	assert_int_equal(inq(p[1]), 32);
	/* a wrong expected length is an error */
	assert_int_not_equal(usk_queue_peek(p[1], SOCK_STREAM, false, 31, false, "test", &q), 0);
	close(p[0]);
	close(p[1]);
}

static void test_dgram(void **state)
{
	static const size_t lens[] = { 3, 0, 5000, 0, 1 };
	static char data[5004];
	struct sockaddr_un from;
	struct usk_queue q;
	size_t off = 0;
	int p[2];

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 13);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, p), 0);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(send(p[0], data + off, lens[i], 0), (ssize_t)lens[i]);
		off += lens[i];
	}
	assert_int_equal(usk_queue_peek(p[1], SOCK_DGRAM, false, 3, false, "test", &q), 0);
	assert_int_equal(q.n_msgs, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(q.msg_lens[i], lens[i]);
	assert_int_equal(q.len, off);
	assert_memory_equal(q.data, data, off);
	assert_false(q.named_from);
	usk_queue_free(&q);
	/* every message is still there, in order */
	for (int i = 0; i < 5; i++) {
		socklen_t fl = sizeof(from);
		char one;

		assert_int_equal(recvfrom(p[1], &one, 1, MSG_DONTWAIT | MSG_TRUNC,
					  (struct sockaddr *)&from, &fl),
				 (ssize_t)lens[i]);
	}
	assert_int_equal(peek_off(p[1]), -1);
	close(p[0]);
	close(p[1]);
}

/* A zero-length datagram at the head that the task peeked at (the kernel marks it) is still
 * seen, by a second read too. */
static void test_dgram_peeked_head(void **state)
{
	struct usk_queue q;
	char c;
	int p[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, p), 0);
	assert_int_equal(send(p[0], "", 0, 0), 0);
	assert_int_equal(send(p[0], "ab", 2, 0), 2);
	assert_int_equal(recv(p[1], &c, 1, MSG_PEEK), 0);
	for (int round = 0; round < 2; round++) {
		assert_int_equal(usk_queue_peek(p[1], SOCK_DGRAM, false, 0, false, "test", &q), 0);
		assert_int_equal(q.n_msgs, 2);
		assert_int_equal(q.msg_lens[0], 0);
		assert_int_equal(q.msg_lens[1], 2);
		usk_queue_free(&q);
	}
	assert_int_equal(recv(p[1], &c, 1, MSG_DONTWAIT), 0);
	close(p[0]);
	close(p[1]);
}

static void test_seqpacket(void **state)
{
	struct usk_queue q;
	int p[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, p), 0);
	assert_int_equal(send(p[0], "abcd", 4, 0), 4);
	assert_int_equal(send(p[0], "", 0, 0), 0);
	assert_int_equal(send(p[0], "efghij", 6, 0), 6);
	assert_int_equal(shutdown(p[0], SHUT_WR), 0);
	/* shut down for reading: a peek past the end gives 0 (EOF), not one more message */
	assert_int_equal(usk_queue_peek(p[1], SOCK_SEQPACKET, true, 10, false, "test", &q), 0);
	assert_int_equal(q.n_msgs, 3);
	assert_int_equal(q.msg_lens[0], 4);
	assert_int_equal(q.msg_lens[1], 0);
	assert_int_equal(q.msg_lens[2], 6);
	assert_memory_equal(q.data, "abcdefghij", 10);
	assert_null(q.from);
	usk_queue_free(&q);
	close(p[0]);
	close(p[1]);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void test_scm_refused(void **state)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { "xy", 2 };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctl.b,
			     .msg_controllen = sizeof(ctl.b) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	struct usk_queue q;
	int p[2], before, fd = STDIN_FILENO, one = 1;

	(void)state;
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	for (int cred = 0; cred < 2; cred++) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, p), 0);
		if (cred) /* room for credentials must not make room for fds */
			assert_int_equal(
			    setsockopt(p[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)), 0);
		assert_int_equal(send(p[0], "ab", 2, 0), 2);
		assert_int_equal(sendmsg(p[0], &mh, 0), 2);
		before = count_fds();
		assert_int_equal(usk_queue_peek(p[1], SOCK_DGRAM, false, 2, false, "test", &q),
				 -ENOTSUP);
		assert_int_equal(count_fds(), before); /* nothing installed here, or closed */
		assert_int_equal(peek_off(p[1]), -1);
		close(p[0]);
		close(p[1]);
	}
}

/* sendmsg of len bytes of buf with n fds attached (none when n is 0). */
static void send_fds(int sk, const void *buf, size_t len, const int *fds, size_t n)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(4 * sizeof(int))];
	} ctl;
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (n) {
		struct cmsghdr *cm;

		mh.msg_control = ctl.b;
		mh.msg_controllen = CMSG_SPACE(n * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
	}
	assert_int_equal(sendmsg(sk, &mh, 0), (ssize_t)len);
}

/* a and b are one open file description */
static void assert_same_file(int a, int b)
{
	struct stat x, y;

	assert_int_equal(fstat(a, &x), 0);
	assert_int_equal(fstat(b, &y), 0);
	assert_int_equal(x.st_ino, y.st_ino);
	assert_int_equal(x.st_dev, y.st_dev);
}

/* Stream: fds in flight are refused even when taken (where the send that carried them starts
 * can't be seen by peeking): nothing installed here, the socket as it was. */
static void test_scm_stream_refused(void **state)
{
	static char data[100];
	int p[2], null = open("/dev/null", O_RDONLY), before;
	struct usk_queue q;

	(void)state;
	assert_true(null >= 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p), 0);
	send_fds(p[0], data, 60, NULL, 0);
	send_fds(p[0], data + 60, 10, &null, 1);
	send_fds(p[0], data + 70, 30, NULL, 0);
	before = count_fds();
	assert_int_equal(usk_queue_peek(p[1], SOCK_STREAM, false, 100, true, "test", &q), -ENOTSUP);
	assert_int_equal(count_fds(), before);
	assert_int_equal(peek_off(p[1]), -1);
	assert_int_equal(inq(p[1]), 100);
	close(p[0]);
	close(p[1]);
	close(null);
}

/* Datagram: the fds of each message, by its index. */
static void test_scm_msgs_taken(void **state)
{
	static const int types[] = { SOCK_DGRAM, SOCK_SEQPACKET };
	int null = open("/dev/null", O_RDONLY), two[2], before;

	(void)state;
	assert_true(null >= 0);
	for (size_t t = 0; t < 2; t++) {
		struct usk_queue q;
		int p[2];

		assert_int_equal(socketpair(AF_UNIX, types[t], 0, p), 0);
		two[0] = p[0];
		two[1] = null;
		send_fds(p[0], "ab", 2, NULL, 0);
		send_fds(p[0], "cde", 3, &null, 1);
		send_fds(p[0], "f", 1, NULL, 0);
		send_fds(p[0], "gh", 2, two, 2);
		before = count_fds();
		assert_int_equal(usk_queue_peek(p[1], types[t], false,
						types[t] == SOCK_DGRAM ? 2 : 8, true, "test", &q),
				 0);
		assert_int_equal(q.n_msgs, 4);
		assert_int_equal(q.len, 8);
		assert_int_equal(q.n_scm, 2);
		assert_int_equal(q.scm[0].msg, 1);
		assert_int_equal(q.scm[0].n, 1);
		assert_same_file(q.scm[0].fds[0], null);
		assert_int_equal(q.scm[1].msg, 3);
		assert_int_equal(q.scm[1].n, 2);
		assert_same_file(q.scm[1].fds[0], p[0]);
		assert_same_file(q.scm[1].fds[1], null);
		assert_int_equal(count_fds(), before + 3); /* the copies kept, nothing else */
		usk_queue_free(&q);
		assert_int_equal(count_fds(), before);
		assert_int_equal(peek_off(p[1]), -1);
		close(p[0]);
		close(p[1]);
	}
	close(null);
}

static void test_oob_refused(void **state)
{
	struct usk_queue q;
	char c;
	int p[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p), 0);
	assert_int_equal(send(p[0], "ab", 2, 0), 2);
	if (send(p[0], "Z", 1, MSG_OOB) != 1) {
		close(p[0]);
		close(p[1]);
		skip(); /* a kernel without CONFIG_AF_UNIX_OOB */
	}
	assert_int_equal(usk_queue_peek(p[1], SOCK_STREAM, false, 3, false, "test", &q), -ENOTSUP);
	assert_int_equal(recv(p[1], &c, 1, MSG_OOB), 1); /* still there */
	assert_int_equal(c, 'Z');
	close(p[0]);
	close(p[1]);
}

static int setup(void **state)
{
	(void)state;
	return log_init(NULL, getenv("TEST_SK_UNIX_DEBUG") ? LOG_DEBUG : LOG_MSG);
}

static int teardown(void **state)
{
	(void)state;
	log_fini();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),	       cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_live),	       cmocka_unit_test(test_stream),
		cmocka_unit_test(test_dgram),	       cmocka_unit_test(test_dgram_peeked_head),
		cmocka_unit_test(test_seqpacket),      cmocka_unit_test(test_scm_refused),
		cmocka_unit_test(test_oob_refused),    cmocka_unit_test(test_scm_stream_refused),
		cmocka_unit_test(test_scm_msgs_taken),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
