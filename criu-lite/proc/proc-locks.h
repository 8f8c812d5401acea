/* proc-locks: parser of the "lock:" lines of /proc/PID/fdinfo/N.
 *
 * Contract: a pure text parser with no protobuf dependency. The kernel (fs/locks.c) prints each
 * lock held through the fd's open file description (flock and OFD locks: owned by it; POSIX
 * locks: owned by the task whose fdinfo it is) as
 * "N: KIND MODE TYPE PID MAJ:MIN:INO START END", END being "EOF" for a range that runs to the end
 * of the file, PID as the /proc mount's PID namespace sees it (-1 for OFD locks). A malformed
 * line is refused with -EINVAL after one message naming it.
 */
#ifndef CRIU_LITE_PROC_LOCKS_H
#define CRIU_LITE_PROC_LOCKS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum proc_lock_kind {
	PROC_LOCK_FLOCK = 1,
	PROC_LOCK_POSIX,
	PROC_LOCK_OFD,
	PROC_LOCK_LEASE, /* an active lease (breaking: lease_breaking) */
	PROC_LOCK_OTHER, /* a lease, a delegation, an FL_ACCESS probe: kind_name tells which */
};

struct proc_lock {
	enum proc_lock_kind kind;
	char kind_name[16];  /* as printed: "FLOCK", "POSIX", "OFDLCK", "LEASE", ... */
	bool write;	     /* WRITE; else READ */
	bool lease_breaking; /* a lease: BREAKING (being broken) or BREAKER, not ACTIVE */
	pid_t pid;	     /* -1 for OFD locks */
	uint64_t ino;
	uint64_t start;
	uint64_t end; /* last byte; UINT64_MAX for "EOF" */
};

/* The value of one "lock:" line of fdinfo (after "lock:" and the blanks); name is for messages. */
int proc_parse_lock_line(const char *name, const char *value, struct proc_lock *out);

#endif
