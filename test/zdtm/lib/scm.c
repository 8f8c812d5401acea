/* scm: sending and receiving file descriptors in flight (SCM_RIGHTS), for the tests that leave
 * them queued on a unix socket across checkpoint/restore. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "zdtmtst.h"

#define SCM_ROOM 16 /* fds one test message carries at most */

int test_send_fds(int sk, const void *buf, size_t len, const int *fds, size_t n)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(SCM_ROOM * sizeof(int))];
	} ctl;
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t r;

	if (n > SCM_ROOM) {
		errno = EINVAL;
		return -1;
	}
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
	r = sendmsg(sk, &mh, 0);
	if (r >= 0 && (size_t)r != len)
		errno = EMSGSIZE;
	return r >= 0 && (size_t)r == len ? 0 : -1;
}

ssize_t test_recv_fds(int sk, void *buf, size_t len, int *fds, size_t max, size_t *n, int *flags)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(SCM_ROOM * sizeof(int))];
	} ctl;
	struct iovec iov = { buf, len };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctl.b,
			     .msg_controllen = sizeof(ctl.b) };
	ssize_t r = recvmsg(sk, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

	*n = 0;
	*flags = r < 0 ? 0 : mh.msg_flags;
	for (struct cmsghdr *cm = r < 0 ? NULL : CMSG_FIRSTHDR(&mh); cm;
	     cm = CMSG_NXTHDR(&mh, cm)) {
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (*n < max)
				fds[*n] = fd;
			(*n)++; /* more than max: the caller sees *n > max */
		}
	}
	return r;
}
