/* ps-landlock: the page server's file-system confinement (Landlock), beside its seccomp sandbox
 * (ps-sandbox.h), whose filter sees no paths: with it a hijacked server may open only what lies
 * beneath its image directory, and nothing else by any path.
 *
 * Contract: ps_landlock_enter(imgfd, push) confines the calling process and every process it
 * starts, for good: beneath the directory imgfd (its image directory, opened before) it may read
 * files and list directories, and with push (a server that may receive a dump) also write files,
 * create regular ones, truncate and remove them; it may read /sys/devices/system/cpu/online
 * (glibc's malloc reads it once 8 threads have arenas); every other file-system access by path
 * is refused (EACCES), and so are new TCP binds and connects (Landlock ABI 4, 6.7+), signals to
 * processes outside it and connects to abstract unix sockets (ABI 6, 6.12+), as far as the
 * running kernel's Landlock knows them. Files and sockets opened before (the log, the listening
 * socket, the key) are not touched. It sets no_new_privs. 1 when the kernel has no Landlock
 * (older than 5.13, or not enabled: /sys/kernel/security/lsm), with err saying so (the caller
 * warns and serves under seccomp alone); 0 when confined; -errno with err filled otherwise. Call
 * it before ps_sandbox_enter(): the seccomp list does not have the Landlock calls. */
#ifndef CRIU_LITE_PS_LANDLOCK_H
#define CRIU_LITE_PS_LANDLOCK_H

#include <stdbool.h>

#include "images/img.h"

int ps_landlock_enter(int imgfd, bool push, struct img_err *err);
/* The running kernel's Landlock ABI version (1 and up), or -errno (-ENOSYS, -EOPNOTSUPP: none),
 * for `criu-lite check`. */
int ps_landlock_abi(void);

#endif
