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

#include "lazy-pages/fdpass.h"
#include "lazy-pages/lazy-ctl.h"

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
	ret = fdpass_write(sk, buf, len + 4, fd);
	free(buf);
	return ret;
}

int lazy_ctl_recv(int sk, LazyMsg **m, int *fd)
{
	uint32_t len;
	uint8_t *buf;
	int ret;

	*m = NULL;
	*fd = -1;
	ret = fdpass_read(sk, &len, 4, fd, true);
	if (!ret && len > LAZY_CTL_MAX)
		ret = -EMSGSIZE;
	if (ret)
		goto fail;
	buf = malloc(len ? len : 1);
	if (!buf) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = fdpass_read(sk, buf, len, fd, false);
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
