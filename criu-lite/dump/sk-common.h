/* sk-common: what the dumps of sockets of several families share (AF_NETLINK, AF_PACKET; meant
 * for the inet dump too): the network namespace comparison, buffer sizes and the classic BPF filter
 * read back, the bytes queued for reading, and the refusal of the SOL_SOCKET options those
 * families do not restore.
 *
 * Contract: every function reads the socket through fd, a copy of the task's fd (the same
 * socket), changes nothing on it, and names the socket in its messages by what ("pid 12 fd 3:
 * socket:[345]"). Errors are -errno, logged once; a refusal is -ENOTSUP, logged once. */
#ifndef CRIU_LITE_SK_COMMON_H
#define CRIU_LITE_SK_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/stat.h>
#include <sys/types.h>

#include "sk-common.pb-c.h"

/* One fd of a task on a socket, as the family's dumper gets it. */
struct dump_sk_fd {
	const char *what; /* "pid 12 fd 3", for messages */
	const char *link; /* "socket:[INO]" */
	pid_t pid;
	int fd;		/* the fd in the task */
	uint32_t flags; /* its status flags (fdinfo, without O_CLOEXEC) */
	const struct stat *st;
};

/* The socket lives in the network namespace criu-lite is in now: compared by SO_NETNS_COOKIE
 * (5.14+) with a socket of our own. 1 or 0, or -errno (not logged: a kernel before 5.14). The
 * families' dumpers need no check of their own: dump_socket() runs them inside the socket's
 * namespace (dump-sknetns.h). */
int sk_netns_ours(int fd);

bool sk_geti(int fd, int level, int name, int *v);
/* A copy of f's fd (taskfd_copy), or -errno (logged, naming what). */
int sk_copy_fd(const struct dump_sk_fd *f, const char *what);

/* A classic BPF filter (SO_GET_FILTER) and SO_LOCK_FILTER, as the images keep them. */
struct sk_filter_img {
	SkFilterInsn *fi, **fp; /* fp: n pointers into fi, for the repeated field */
	size_t n;		/* 0: none */
	bool has_locked, locked;
};
/* 0 (n == 0 when there is none), or -errno (logged). Free with sk_filter_free(). */
int sk_read_filter(int fd, const char *what, struct sk_filter_img *f);
void sk_filter_free(struct sk_filter_img *f);

/* What sk-common.proto keeps of a socket: SO_SNDBUF and SO_RCVBUF where they differ from those
 * of a new socket(family, type, protocol) (setting them fixes them: restore sets only these),
 * the filter; then sk_refuse_unkept(). 0 or -errno (logged). Free with sk_sock_opts_free(). */
struct sk_sock_opts_img {
	SkSockOpts m;
	struct sk_filter_img filter;
};
int sk_read_sock_opts(int fd, const char *what, const char *kind, int family, int type,
		      int protocol, bool keep_passcred, struct sk_sock_opts_img *o);
void sk_sock_opts_free(struct sk_sock_opts_img *o);

/* The bytes the socket holds for reading (SO_MEMINFO's SK_MEMINFO_RMEM_ALLOC: every queued
 * message or packet, whatever its size, counts). 0 or -errno (logged). */
int sk_rqueue(int fd, const char *what, uint32_t *bytes);

/* Refuse (-ENOTSUP, naming the option and both values) a SOL_SOCKET option that differs from
 * a new socket(family, type, protocol)'s and that kind ("netlink", "packet") does not restore
 * (SO_PRIORITY, SO_MARK, SO_RCVLOWAT, timestamps, timeouts, SO_BINDTODEVICE, ...); keep_passcred:
 * SO_PASSCRED is restored by the caller. 0 when none differs. */
int sk_refuse_unkept(int fd, const char *what, const char *kind, int family, int type, int protocol,
		     bool keep_passcred);

#endif
