/* fdpass: see fdpass.h. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lazy-pages/fdpass.h"

int fdpass_write(int sk, const void *buf, size_t len, int fd)
{
	const char *p = buf;
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };

	while (len) {
		struct iovec iov = { .iov_base = (void *)p, .iov_len = len };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n;

		if (fd >= 0) {
			struct cmsghdr *c;

			mh.msg_control = cbuf;
			mh.msg_controllen = sizeof(cbuf);
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(c), &fd, sizeof(int));
		}
		n = sendmsg(sk, &mh, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		fd = -1; /* sent with the first byte */
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fdpass_read(int sk, void *buf, size_t len, int *fd, bool first)
{
	char *p = buf;
	int bad = 0;

	while (len) {
		char cbuf[CMSG_SPACE(4 * sizeof(int))];
		struct iovec iov = { .iov_base = p, .iov_len = len };
		struct msghdr mh = { .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		ssize_t n = recvmsg(sk, &mh, MSG_CMSG_CLOEXEC);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			for (size_t i = 0; i < nfd; i++) {
				int f;

				memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				if (*fd < 0) {
					*fd = f;
				} else {
					close(f);
					bad = -EBADMSG;
				}
			}
		}
		if (mh.msg_flags & MSG_CTRUNC)
			bad = -EBADMSG;
		if (n == 0)
			return first && p == buf ? -ENODATA : -ECONNRESET;
		p += n;
		len -= (size_t)n;
	}
	return bad;
}
