/* unix_scm01: files in flight (SCM_RIGHTS) in datagram and seqpacket queues survive
 * checkpoint/restore: every queued message comes back in order with its bytes and with the
 * same files, which are the same open file descriptions as before.
 *
 * A datagram socketpair holds: "plain" (no fds); "file" with a regular file the task also
 * keeps open (the same description: offset 7, then moved through one fd and seen through
 * the other); "pipe" with the read end of a pipe holding a token (the task keeps the write
 * end and writes more after restore); "two" with a memfd (contents, offset 3) and /dev/null.
 * A seqpacket socketpair holds: "sock" with one end of a stream socketpair (bytes queued on
 * it; the task keeps the other end, which still talks to it); "ghost" with a file deleted
 * while open and held only in flight (contents, nlink 0); "tail" (no fds). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "zdtmtst.h"

#define TOKEN	"pipe-token"
#define MORE	"more-after"
#define SKDATA	"queued-on-the-socket"
#define GHOST	"contents of a deleted file"
#define MEMFD	"memfd contents"
#define FILEDAT "0123456789abcdefghij"

static int dg[2], sp[2];
static int file_fd, pipe_w, stream_end;

static int send_fds(int sk, const char *text, const int *fds, size_t n)
{
	return test_send_fds(sk, text, strlen(text), fds, n);
}

static int setup(void)
{
	int p[2], st[2], two[2], f, m, g;

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, dg) || socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) ||
	    pipe(p) || socketpair(AF_UNIX, SOCK_STREAM, 0, st))
		return -1;
	file_fd = open("inflight.txt", O_RDWR | O_CREAT | O_TRUNC, 0600);
	m = memfd_create("scm01", 0);
	f = open("/dev/null", O_RDONLY);
	g = open("ghost.txt", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (file_fd < 0 || m < 0 || f < 0 || g < 0 ||
	    write(file_fd, FILEDAT, strlen(FILEDAT)) != (ssize_t)strlen(FILEDAT) ||
	    lseek(file_fd, 7, SEEK_SET) != 7 || write(m, MEMFD, strlen(MEMFD)) < 0 ||
	    lseek(m, 3, SEEK_SET) != 3 || write(g, GHOST, strlen(GHOST)) < 0 ||
	    unlink("ghost.txt") || write(p[1], TOKEN, strlen(TOKEN)) < 0 ||
	    send(st[1], SKDATA, strlen(SKDATA), 0) < 0)
		return -1;
	two[0] = m;
	two[1] = f;
	if (send_fds(dg[0], "plain", NULL, 0) || send_fds(dg[0], "file", &file_fd, 1) ||
	    send_fds(dg[0], "pipe", &p[0], 1) || send_fds(dg[0], "two", two, 2) ||
	    send_fds(sp[0], "sock", &st[0], 1) || send_fds(sp[0], "ghost", &g, 1) ||
	    send_fds(sp[0], "tail", NULL, 0))
		return -1;
	pipe_w = p[1];
	stream_end = st[1];
	close(p[0]); /* in flight only from here on */
	close(st[0]);
	close(m);
	close(f);
	close(g);
	return 0;
}

/* The next message of sk: text, with exactly n fds into fds. */
static int take(int sk, const char *text, int *fds, size_t n)
{
	char buf[64];
	int got[8], flags;
	size_t k;
	ssize_t len = test_recv_fds(sk, buf, sizeof(buf), got, 8, &k, &flags);

	if (len != (ssize_t)strlen(text) || memcmp(buf, text, (size_t)len) || k != n ||
	    (flags & (MSG_CTRUNC | MSG_TRUNC))) {
		fail("message \"%s\": recvmsg gives %zd bytes (errno %d), %zu fds, flags %#x: "
		     "expected %zu bytes and %zu fds",
		     text, len, len < 0 ? errno : 0, k, flags, strlen(text), n);
		return -1;
	}
	memcpy(fds, got, n * sizeof(int));
	return 0;
}

static int check_file(int fd)
{
	char buf[32];

	if (lseek(fd, 0, SEEK_CUR) != 7 || lseek(file_fd, 0, SEEK_CUR) != 7) {
		fail("the file in flight is at offset %jd, the task's fd at %jd: expected 7",
		     (intmax_t)lseek(fd, 0, SEEK_CUR), (intmax_t)lseek(file_fd, 0, SEEK_CUR));
		return -1;
	}
	if (lseek(fd, 2, SEEK_SET) != 2 || lseek(file_fd, 0, SEEK_CUR) != 2 ||
	    read(file_fd, buf, 3) != 3 || memcmp(buf, "234", 3) || lseek(fd, 0, SEEK_CUR) != 5) {
		fail("the file in flight and the task's fd on it are not one open file "
		     "description any more (offset %jd after a read of 3 from 2)",
		     (intmax_t)lseek(fd, 0, SEEK_CUR));
		return -1;
	}
	return 0;
}

static int check_pipe(int fd)
{
	char buf[32];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n != (ssize_t)strlen(TOKEN) || memcmp(buf, TOKEN, (size_t)n) ||
	    write(pipe_w, MORE, strlen(MORE)) != (ssize_t)strlen(MORE) ||
	    read(fd, buf, sizeof(buf)) != (ssize_t)strlen(MORE) ||
	    memcmp(buf, MORE, strlen(MORE))) {
		fail(
		    "the pipe in flight: read %zd bytes, expected \"%s\", then what the task's write "
		    "end writes",
		    n, TOKEN);
		return -1;
	}
	return 0;
}

static int check_two(const int *two)
{
	char buf[32];
	struct stat st;
	ssize_t n = pread(two[0], buf, sizeof(buf), 0);

	if (n != (ssize_t)strlen(MEMFD) || memcmp(buf, MEMFD, (size_t)n) ||
	    lseek(two[0], 0, SEEK_CUR) != 3) {
		fail("the memfd in flight: %zd bytes at offset %jd, expected \"%s\" at 3", n,
		     (intmax_t)lseek(two[0], 0, SEEK_CUR), MEMFD);
		return -1;
	}
	if (fstat(two[1], &st) || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3) ||
	    (fcntl(two[1], F_GETFL) & O_ACCMODE) != O_RDONLY) {
		fail("the second fd in flight is not /dev/null read-only");
		return -1;
	}
	return 0;
}

static int check_sock(int fd)
{
	char buf[32];
	int type = 0;
	socklen_t l = sizeof(type);
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) || type != SOCK_STREAM ||
	    n != (ssize_t)strlen(SKDATA) || memcmp(buf, SKDATA, (size_t)n) ||
	    send(fd, "back", 4, 0) != 4 || recv(stream_end, buf, sizeof(buf), MSG_DONTWAIT) != 4 ||
	    memcmp(buf, "back", 4)) {
		fail(
		    "the socket in flight: type %d, %zd queued bytes (expected \"%s\"), or it does "
		    "not talk to the task's end",
		    type, n, SKDATA);
		return -1;
	}
	return 0;
}

static int check_ghost(int fd)
{
	char buf[64];
	struct stat st;
	ssize_t n = pread(fd, buf, sizeof(buf), 0);

	if (fstat(fd, &st) || st.st_nlink != 0 || n != (ssize_t)strlen(GHOST) ||
	    memcmp(buf, GHOST, (size_t)n)) {
		fail("the deleted file in flight: nlink %ju, %zd bytes, expected 0 and \"%s\"",
		     (uintmax_t)st.st_nlink, n, GHOST);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int fd, two[2];

	if (test_init(argc, argv))
		return 1;
	if (setup()) {
		fail_errno("setup");
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	if (take(dg[1], "plain", NULL, 0) || take(dg[1], "file", &fd, 1) || check_file(fd) ||
	    take(dg[1], "pipe", &fd, 1) || check_pipe(fd) || take(dg[1], "two", two, 2) ||
	    check_two(two) || take(sp[1], "sock", &fd, 1) || check_sock(fd) ||
	    take(sp[1], "ghost", &fd, 1) || check_ghost(fd) || take(sp[1], "tail", NULL, 0))
		return 1;
	if (recv(dg[1], &fd, 1, MSG_DONTWAIT) != -1 || errno != EAGAIN) {
		fail("more queued on the datagram socket than was sent");
		return 1;
	}
	pass();
	return 0;
}
