/* dump-sknetns: the network namespaces, other than the tree's, that the tree's sockets live in
 * or that its nsfs fds (net:[INO]) name: netns-refs.img (netns.proto), each namespace once.
 *
 * A socket made before its task unshared (or after a setns() into another namespace, or
 * passed in from a task of another one) belongs to the namespace it was made in, for good:
 * its addresses, routes and port space are that namespace's. The dump names each such
 * namespace by an id (file_entry.netns_id; 0 is the tree's own) and says what it is: the
 * namespace the tree's own one was made from (criu-lite's: NETNS_REF_OUTSIDE, which at
 * restore is the restorer's), or any other (NETNS_REF_COPY: read as netns.img keeps a
 * namespace, lo, addresses, routes and sysctls, and made again at restore; a namespace with
 * another link or firewall rules is refused, naming it).
 *
 * Contract: every function is called while the dumper is in the tree's network namespace
 * (dump_netns_check() entered it; or the tree lives in criu-lite's own).
 * dump_sknetns_enter() takes a copy of a task's socket (fd): 0 with *id 0 when the socket is
 * in the tree's namespace (nothing else done); else its namespace gets an id (the first time:
 * classified and, for a copy, read), the dumper enters it (setns) so that the family's dumper
 * reads the socket there (sock_diag, interface names), and *back is an fd of the namespace to
 * go back to with dump_sknetns_leave() (which closes it). dump_sknetns_nsfile() does the same
 * for a task's fd on an nsfs file, without entering; a namespace of another kind (mnt, pid,
 * ...) must be the holding task's own (*own: its /proc/PID/ns name), or is refused, naming the
 * fd. dump_sknetns_commit() writes netns-refs.img when there is any
 * id; dump_sknetns_free() frees (sh->sknetns NULL after). 0 or -errno (logged once). */
#ifndef CRIU_LITE_DUMP_SKNETNS_H
#define CRIU_LITE_DUMP_SKNETNS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

/* "net:[INO]", "mnt:[INO]", ...: the /proc/PID/fd link of an nsfs file. */
static inline bool ns_link(const char *link)
{
	static const char *const kinds[] = { "net", "mnt",  "uts",    "ipc",
					     "pid", "user", "cgroup", "time" };

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t n = strlen(kinds[i]);

		if (!strncmp(link, kinds[i], n) && !strncmp(link + n, ":[", 2))
			return true;
	}
	return false;
}

struct dump_shared;

int dump_sknetns_enter(struct dump_shared *sh, int fd, const char *what, uint32_t *id, int *back);
int dump_sknetns_leave(int back, const char *what);
int dump_sknetns_nsfile(struct dump_shared *sh, pid_t pid, int tfd, const char *what,
			const char *link, uint32_t *id, const char **own);
int dump_sknetns_commit(struct dump_shared *sh);
void dump_sknetns_free(struct dump_shared *sh);

#endif
