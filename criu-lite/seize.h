/* seize: freeze one task (all its threads) under ptrace and let it go again.
 *
 * Contract: seize_task() PTRACE_SEIZEs every thread of PID (rescanning
 * /proc/PID/task until no new thread appears), stops each one in a ptrace
 * stop inside the kernel's signal path, and records how it was found. It
 * either returns 0 with every thread stopped, or an error with nothing held.
 * seize_release() lets the task go on exactly where it was (interrupted
 * syscalls restart; a task that was group-stopped before is stopped again) or
 * kills it; it is safe on a partially seized or already released task.
 * Signals that arrive while seizing are delivered, never dropped; signals that
 * arrive while the task is held stay pending and are delivered after release.
 * A thread-group leader that has exited while other threads run (a zombie
 * thread) is not seized: leader_exited is set and thr[] holds the live threads.
 * seize_add_thread() takes one more thread of a seized task (one the caller
 * created, e.g. with a remote clone3) the same way, so release covers it.
 * All ptrace requests must come from the thread that called seize_task(); a
 * caller that resumes a thread itself must stop it again before release. */
#ifndef CRIU_LITE_SEIZE_H
#define CRIU_LITE_SEIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum seize_flags {
	SEIZE_EXITKILL = 1 << 0, /* PTRACE_O_EXITKILL: the task dies if we do (restore) */
	/* the task may exit on the way (a child of a task frozen before it): -ESRCH when it did,
	 * not logged as an error; the caller decides what its exit means */
	SEIZE_MAY_EXIT = 1 << 1,
	/* PTRACE_O_SUSPEND_SECCOMP (kerndat KD_SUSPEND_SECCOMP): remote calls into a task under
	 * seccomp are not filtered while it is held; the filters hold again once it is released */
	SEIZE_SUSPEND_SECCOMP = 1 << 2,
};

struct seized_thread {
	pid_t tid;
	char state;	  /* letter of /proc/PID/task/TID/stat before seizing */
	bool seized;	  /* PTRACE_SEIZE succeeded: we are its tracer */
	bool stopped;	  /* it is held in a ptrace stop */
	int stop_status;  /* waitpid() status of the stop we hold it in */
	bool group_stop;  /* that stop is a group-stop (SIGSTOP & co.), not our INTERRUPT */
	bool in_syscall;  /* stopped inside a syscall that will restart on release */
	long syscall_nr;  /* orig_rax at the stop (-1: not in a syscall) */
	long syscall_ret; /* rax at the stop (-ERESTART* when in_syscall) */
	uint64_t sp;	  /* its stack pointer at the stop */
	int sigs_passed;  /* signals that arrived while seizing and were delivered */
};

struct seized_task {
	pid_t pid;
	char state;	    /* state letter of the leader before seizing */
	bool group_stopped; /* the task was (or got) group-stopped: it stays stopped on resume */
	bool leader_exited; /* the leader thread is a zombie: not in thr[] */
	unsigned int flags; /* enum seize_flags */
	size_t nr;	    /* threads in thr[] */
	size_t cap;
	struct seized_thread *thr;
};

enum seize_release_mode {
	RELEASE_RESUME, /* detach every thread; the task goes on where it was */
	RELEASE_KILL,	/* SIGKILL the task and reap what we trace */
};

/* 0, or -errno (already logged): -ESRCH for a zombie (no live thread left) or
 * vanished task, -EPERM when it cannot be traced (e.g. already traced), -EINVAL
 * for bad flags. */
int seize_task(pid_t pid, unsigned int flags, struct seized_task *st);

/* Seize thread TID of the task st holds (with st's options) and hold it in a
 * ptrace stop, appended to thr[]. 0, or -errno (logged): -EEXIST when it is held
 * already, -ESRCH when it is not a live thread of st->pid. On error a thread
 * that was seized but could not be stopped stays in thr[] for seize_release(). */
int seize_add_thread(struct seized_task *st, pid_t tid);

/* 0, or the first -errno seen (logged); always goes through every thread and
 * frees thr[]. Calling it again, or on a zeroed struct, does nothing. */
int seize_release(struct seized_task *st, enum seize_release_mode mode);

/* The entry for TID, or NULL. */
struct seized_thread *seize_find(struct seized_task *st, pid_t tid);

#endif
