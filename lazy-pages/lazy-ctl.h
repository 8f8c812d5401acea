/* lazy-ctl: the control channel of a lazy restore (proto/lazy.proto).
 *
 * Contract: lazy_ctl_send() writes one frame, a u32 length and a packed lazy_msg, with fd (-1:
 * none) attached to it as SCM_RIGHTS; lazy_ctl_recv() reads one frame, refusing a length over
 * LAZY_CTL_MAX, and hands back the message (lazy_msg__free_unpacked) and the fd that came with
 * it (-1 when none). Both block, return 0 or -errno (-ENODATA: the peer closed between frames,
 * -EBADMSG: a frame that is not a lazy_msg) and log nothing: the caller names the peer.
 * lazy_ctl_listen() and lazy_ctl_connect() bind or connect LAZY_CTL_SOCK inside the directory
 * open as dirfd, through /proc/self/fd/N/, so the images directory may have any path length. */
#ifndef CRIU_LITE_LAZY_CTL_H
#define CRIU_LITE_LAZY_CTL_H

#include "lazy.pb-c.h"

#define LAZY_CTL_SOCK "lazy-pages.sock"
#define LAZY_CTL_MAX  (4U << 20)

int lazy_ctl_send(int sk, const LazyMsg *m, int fd);
int lazy_ctl_recv(int sk, LazyMsg **m, int *fd);
/* A listening socket (the old one, if any, is removed first); -errno. */
int lazy_ctl_listen(int dirfd);
int lazy_ctl_connect(int dirfd);

#endif
