/* fdpass: bytes, and with them at most one file descriptor (SCM_RIGHTS), over a unix socket.
 *
 * Contract: fdpass_write() writes all len bytes of buf, fd (if >= 0) with the first of them;
 * 0 or -errno. fdpass_read() reads exactly len bytes into buf; an fd that comes with them goes
 * to *fd (O_CLOEXEC; set *fd to -1 first), a second one is closed and makes it -EBADMSG once
 * the bytes are in; end of file before the first byte (first) is -ENODATA, later
 * -ECONNRESET; other errors -errno. */
#ifndef CRIU_LITE_FDPASS_H
#define CRIU_LITE_FDPASS_H

#include <stdbool.h>
#include <stddef.h>

int fdpass_write(int sk, const void *buf, size_t len, int fd);
int fdpass_read(int sk, void *buf, size_t len, int *fd, bool first);

#endif
