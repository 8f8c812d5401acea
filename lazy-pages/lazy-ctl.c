/* lazy-ctl: see lazy-ctl.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lazy-pages/lazy-ctl.h"

static int write_all(int sk, const void *buf, size_t len, int fd)
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

int lazy_ctl_send(int sk, const LazyMsg *m, int fd)
{
	size_t len = lazy_msg__get_packed_size(m);
	uint8_t *buf = malloc(len + 4);
	uint32_t l = (uint32_t)len;
	int ret;

	if (!buf)
		return -ENOMEM;
	memcpy(buf, &l, 4);
	lazy_msg__pack(m, buf + 4);
	ret = write_all(sk, buf, len + 4, fd);
	free(buf);
	return ret;
}

/* len bytes; an fd that arrives meanwhile goes to *fd (a second one is closed: -EBADMSG). */
static int read_all(int sk, void *buf, size_t len, int *fd, bool first)
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

int lazy_ctl_recv(int sk, LazyMsg **m, int *fd)
{
	uint32_t len;
	uint8_t *buf;
	int ret;

	*m = NULL;
	*fd = -1;
	ret = read_all(sk, &len, 4, fd, true);
	if (!ret && len > LAZY_CTL_MAX)
		ret = -EMSGSIZE;
	if (ret)
		goto fail;
	buf = malloc(len ? len : 1);
	if (!buf) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = read_all(sk, buf, len, fd, false);
	if (!ret) {
		*m = lazy_msg__unpack(NULL, len, buf);
		if (!*m)
			ret = -EBADMSG;
	}
	free(buf);
	if (!ret)
		return 0;
fail:
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	return ret;
}

/* A socket bound (listen) or connected to LAZY_CTL_SOCK in the directory dirfd; -errno. */
static int ctl_socket(int dirfd, bool listening)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int sk, ret = 0;

	if ((size_t)snprintf(a.sun_path, sizeof(a.sun_path), "/proc/self/fd/%d/%s", dirfd,
			     LAZY_CTL_SOCK) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	sk = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sk < 0)
		return -errno;
	if (listening) {
		if ((unlinkat(dirfd, LAZY_CTL_SOCK, 0) && errno != ENOENT) ||
		    bind(sk, (struct sockaddr *)&a, sizeof(a)) || listen(sk, 4))
			ret = -errno;
	} else if (connect(sk, (struct sockaddr *)&a, sizeof(a))) {
		ret = -errno;
	}
	if (ret) {
		close(sk);
		return ret;
	}
	return sk;
}

int lazy_ctl_listen(int dirfd)
{
	return ctl_socket(dirfd, true);
}

int lazy_ctl_connect(int dirfd)
{
	return ctl_socket(dirfd, false);
}
