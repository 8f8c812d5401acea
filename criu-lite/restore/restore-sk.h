/* restore-sk: what the restores of sockets of several families share (AF_NETLINK, AF_PACKET):
 * one integer option, the buffers and filter of sk-common.proto, the status flags, the socket
 * itself, the checks of every entry, and the message of a damaged entry.
 *
 * Contract: each sets what it is given on fd, a socket the restorer just made, and returns 0 or
 * -errno after one message naming the socket by what and the option; rsk_bad() logs
 * "files.img: file ID, WHAT: WHY" and returns -EBADMSG. */
#ifndef CRIU_LITE_RESTORE_SK_H
#define CRIU_LITE_RESTORE_SK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "files.pb-c.h"

int rsk_bad(uint32_t file_id, const char *what, const char *why);
int rsk_seti(int fd, const char *what, int level, int name, const char *oname, int v);
/* What sk-common.proto keeps (o may be NULL): SO_SNDBUFFORCE / SO_RCVBUFFORCE of half the values
 * getsockopt() reported at dump, the filter. */
int rsk_sock_opts(int fd, const char *what, const SkSockOpts *o);
/* SO_ATTACH_FILTER of the n instructions v, then SO_LOCK_FILTER when locked. */
int rsk_filter(int fd, const char *what, SkFilterInsn *const *v, size_t n, bool locked);
/* O_NONBLOCK of the dumped status flags. */
int rsk_status(int fd, const char *what, uint32_t flags);
/* socket(family, type | SOCK_CLOEXEC, protocol): the fd, or -errno (logged). */
int rsk_socket(int family, int type, int protocol, const char *what);
/* check(fe) for every entry of files.img of type type, before anything is created; the first
 * failure is returned. */
struct restore_ctx;
int rsk_check_all(struct restore_ctx *c, FileType type, const char *kind,
		  int (*check)(const FileEntry *fe));

#endif
