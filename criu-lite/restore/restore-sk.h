/* restore-sk: what the restores of sockets of several families share (AF_NETLINK, AF_PACKET):
 * one integer option, the buffers, a classic BPF filter, the status flags, and the message of a
 * damaged entry.
 *
 * Contract: each sets what it is given on fd, a socket the restorer just made, and returns 0 or
 * -errno after one message naming the socket by what and the option; rsk_bad() logs
 * "files.img: file ID, WHAT: WHY" and returns -EBADMSG. */
#ifndef CRIU_LITE_RESTORE_SK_H
#define CRIU_LITE_RESTORE_SK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sk-inet.pb-c.h"

int rsk_bad(uint32_t file_id, const char *what, const char *why);
int rsk_seti(int fd, const char *what, int level, int name, const char *oname, int v);
/* SO_SNDBUFFORCE / SO_RCVBUFFORCE of half the values getsockopt() reported at dump. */
int rsk_bufs(int fd, const char *what, bool has_snd, uint32_t snd, bool has_rcv, uint32_t rcv);
/* SO_ATTACH_FILTER of the n instructions v, then SO_LOCK_FILTER when locked. */
int rsk_filter(int fd, const char *what, SkFilterInsn *const *v, size_t n, bool locked);
/* O_NONBLOCK of the dumped status flags. */
int rsk_status(int fd, const char *what, uint32_t flags);

#endif
