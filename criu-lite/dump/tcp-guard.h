/* tcp-guard: see tcp-guard.c. */
#ifndef CRIU_LITE_TCP_GUARD_H
#define CRIU_LITE_TCP_GUARD_H

#include <stdbool.h>
#include <sys/types.h>

#define TCP_GUARD_MAX 4096 /* connections one guard holds */

struct tcp_guard {
	pid_t pid; /* 0: not started */
	int sk;
};

/* lock: the network lock's table to remove if the dumper dies (NULL: none) */
int tcp_guard_start(struct tcp_guard *g, const char *lock);
/* reuse: the socket had SO_REUSEADDR (set again after repair mode) */
int tcp_guard_add(struct tcp_guard *g, int fd, bool reuse);
/* killed: the tree was killed (the copies are closed in repair mode); else the dumper has let
 * the connections go on itself. */
void tcp_guard_end(struct tcp_guard *g, bool killed);
/* fd out of repair mode; reuse: SO_REUSEADDR again. 0 or -errno (not logged). */
int tcp_repair_off(int fd, bool reuse);

#endif
