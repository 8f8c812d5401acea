/* restore-core: the parts of the task-state restore that live in their own files.
 *
 * Contract (internal to restore-core.c, restore-creds.c, restore-threads.c, restore-regs.c,
 * restore-restart.c):
 * - A struct restore_thread names one thread of the task and a remote-syscall session in it;
 *   every per-thread step runs through that session and the task's scratch page t->sk.scratch
 *   (threads share the address space).
 * - restore_creds() runs inside one thread; it changes only what differs from that thread's
 *   credentials, verifies the result from /proc/TID/status, and is the last thing done in that
 *   thread that needs privileges. Credentials are per thread: every thread gets them.
 * - restore_threads_create() (restore-threads.c) runs inside restore_core() while the leader is
 *   still privileged: it creates every thread of the image but the leader with clone3 + set_tid
 *   in the leader (each starts in the trampoline's pause() loop, every signal blocked), seizes it
 *   (seize_add_thread()), records its host tid in t->tids and gives it its own state
 *   (restore_thread_state(), restore_creds(), restore_thread_after_creds()) through an rsys
 *   session that is closed again before the next thread. restore_leader_exit() makes a leader
 *   that had exited at dump exit again (SYS_exit: a zombie thread, the process lives on) and
 *   moves t->rs to a live thread, so the rest of the restore runs there.
 * - restore_sleep_restart() runs after rsys_close(), with the thread in a signal-path stop. It
 *   fills *final with the registers the thread must leave its stop with: the dumped ones, or, for a
 *   sleep whose restart state the kernel keeps internally (-ERESTART_RESTARTBLOCK), registers
 *   that restart a sleep it set up afresh in the thread (see restore-restart.c). The thread's
 *   signal mask is left blocking everything; the caller sets the dumped one afterwards.
 * Every failure is logged once, naming the pid, the item and the errno.
 */
#ifndef CRIU_LITE_RESTORE_CORE_H
#define CRIU_LITE_RESTORE_CORE_H

#include <sys/types.h>
#include <sys/user.h>

#include "criu-lite/restore/restore.h"

struct restore_thread {
	struct restore_task *t;
	struct rsys *rs;	   /* a session in this thread */
	pid_t tid;		   /* host tid: for /proc and ptrace */
	pid_t vtid;		   /* in the task's PID namespace: for the syscalls it makes */
	const ThreadCoreEntry *te; /* NULL: a leader that had exited at dump */
};

int restore_creds(const struct restore_thread *th);
/* core_rcall() whose result is 0 or the -errno it logged. */
int restore_rcall(struct rsys *rs, const char *what, long nr, long a1, long a2, long a3, long a4);

/* rseq, private pending signals, alternate stack, name, robust list and clear_child_tid (an
 * exited leader: its name only). */
int restore_thread_state(const struct restore_thread *th, const CoreEntry *ce);
/* Parent-death signal and no_new_privs, after the thread's credentials. */
int restore_thread_after_creds(const struct restore_thread *th, const CoreEntry *ce);

/* restore-seccomp.c: the image's filters checked before anything is created; the filters all
 * threads share, in the leader before the other threads are cloned; one thread's own (the rest
 * of its chain, or strict mode), before its credentials. */
int restore_seccomp_check(const struct restore_ctx *c, const char *img, const CoreEntry *ce);
int restore_seccomp_common(const struct restore_thread *leader, const CoreEntry *ce);
int restore_seccomp_thread(const struct restore_thread *th, const CoreEntry *ce);

int restore_threads_create(struct restore_ctx *c, struct restore_task *t);
int restore_leader_exit(struct restore_task *t);

int restore_sleep_restart(struct restore_task *t, pid_t tid, const ThreadCoreEntry *te,
			  const struct user_regs_struct *dumped, struct user_regs_struct *final);

#endif
