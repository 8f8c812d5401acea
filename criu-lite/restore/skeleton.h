/* skeleton: the empty task that restore turns into a dumped one.
 *
 * Contract: skel_create() forks the restorer with clone3 + set_tid so the
 * child gets exactly the pid(s) asked for (one per pid namespace level,
 * innermost first as clone3 wants them reversed: see the .c). The child maps
 * a two-page trampoline at a hole chosen by the caller (page 0: `syscall;
 * int3`, r-x; page 1: scratch, rw-), asks to be killed if the restorer dies,
 * reports ready and waits in pause(). Nothing of the restorer is touched in
 * the child beyond that. The caller seizes it and drives it with rsys. */
#ifndef CRIU_LITE_SKELETON_H
#define CRIU_LITE_SKELETON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SKEL_TRAMP_SIZE (2 * 4096UL)
/* where in the scratch page a task made by clone3 finds the pid its parent must have */
#define SKEL_PARENT_SLOT 4088

struct skel {
	pid_t pid;	  /* pid in the restorer's namespace */
	uint64_t tramp;	  /* address of the `syscall` instruction */
	uint64_t scratch; /* one rw page */
	size_t scratch_len;
};

struct rsys;
/* Before an rsys clone3 in a skeleton: the pid (in the new task's namespace) that getppid()
 * must give the new task, else it exits at once (its parent is already gone). 0 or -errno. */
int skel_expect_parent(struct rsys *rs, const struct skel *sk, pid_t ppid);

/* Find a page-aligned hole of len bytes below TASK_SIZE outside every range in
 * ranges[2*i] .. ranges[2*i+1] (sorted or not). */
int skel_find_hole(const uint64_t *ranges, size_t nr, size_t len, uint64_t *addr);

/* set_tid: nr_tids pids, [0] the pid in the innermost namespace (as clone3's
 * set_tid array). flags: extra clone flags such as CLONE_NEWPID. */
int skel_create(const pid_t *set_tid, size_t nr_tids, uint64_t flags, uint64_t hole,
		struct skel *sk);

#endif
