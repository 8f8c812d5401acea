/* nsfile_refuse00: an fd on a namespace of another kind than a network namespace that is not
 * the task's own (here a UTS namespace a child unshared, handed over with SCM_RIGHTS before the
 * child ended) is refused at dump, naming the fd (tests.desc expect=dumpfail dumpmsg=own), and
 * the task runs on with the fd as it was: after the failed dump it still names that UTS
 * namespace, not its own. */
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

static int recv_fd(int s)
{
	char buf[CMSG_SPACE(sizeof(int))], c;
	struct iovec iov = { &c, 1 };
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof(buf)
	};
	struct cmsghdr *h;
	int fd;

	if (recvmsg(s, &m, 0) != 1 || !(h = CMSG_FIRSTHDR(&m)) || h->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(h), sizeof(fd));
	return fd;
}

int main(int argc, char **argv)
{
	struct stat a, b, own;
	int fd, sp[2];
	pid_t kid;

	if (test_init(argc, argv))
		return 1;
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sp))
		return 1;
	kid = fork();
	if (kid == 0) {
		char buf[CMSG_SPACE(sizeof(int))], c = 'n';
		struct iovec iov = { &c, 1 };
		struct msghdr m = { .msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = buf,
				    .msg_controllen = sizeof(buf) };
		struct cmsghdr *h = CMSG_FIRSTHDR(&m);
		int nfd;

		if (unshare(CLONE_NEWUTS) || (nfd = open("/proc/self/ns/uts", O_RDONLY)) < 0)
			_exit(1);
		h->cmsg_level = SOL_SOCKET;
		h->cmsg_type = SCM_RIGHTS;
		h->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(h), &nfd, sizeof(nfd));
		_exit(sendmsg(sp[1], &m, 0) == 1 ? 0 : 1);
	}
	fd = recv_fd(sp[0]);
	if (kid < 0 || waitpid(kid, NULL, 0) != kid || fd < 0 || fstat(fd, &a)) {
		fail_errno("the child's UTS namespace");
		return 1;
	}
	close(sp[0]);
	close(sp[1]);

	test_daemon();
	test_waitsig();

	if (fstat(fd, &b) || stat("/proc/self/ns/uts", &own) || a.st_ino != b.st_ino ||
	    b.st_ino == own.st_ino)
		fail("the fd on the other UTS namespace changed");
	else
		pass();
	return 0;
}
