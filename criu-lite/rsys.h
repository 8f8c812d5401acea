/* rsys: run syscalls inside a stopped tracee, move memory and fds in and out.
 *
 * Contract: the thread must be ptrace-stopped by us (seize_task(), whose
 * PTRACE_O_TRACESYSGOOD rsys needs) in a stop inside the signal path.
 * rsys_open() saves its registers and signal mask, blocks every blockable
 * signal in it and finds a `syscall` instruction to run; rsys_call() runs one
 * syscall there and returns its raw result (-errno on failure, logged with the
 * syscall's name unless quiet); rsys_close() unmaps the scratch area and puts
 * back registers and mask exactly, leaving the thread in a signal-path stop
 * from which an interrupted syscall restarts. This is the one module that
 * knows ptrace register tricks; dump and restore both use it.
 * A stop signal that arrives during a call is let through (the task ends up
 * group-stopped after release, as it would have without us); a fatal one
 * makes the call fail with -ESRCH and marks the session dead.
 * Self-healing (rsys_open(), rsys-frame.c): where the thread's [vdso] and C library allow,
 * every call runs with a signal frame of the thread's own state on its stack, so that if
 * criu-lite dies at any moment the thread returns by itself to exactly where it was, mask,
 * registers and xstate included, its interrupted syscall run again; rsys_scratch() memory is
 * then on that stack too, so no mapping is ever left behind. */
#ifndef CRIU_LITE_RSYS_H
#define CRIU_LITE_RSYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

/* Kernel-internal "restart me" syscall results, seen by a tracer in rax. */
#define RSYS_ERESTARTSYS	   512
#define RSYS_ERESTARTNOINTR	   513
#define RSYS_ERESTARTNOHAND	   514
#define RSYS_ERESTART_RESTARTBLOCK 516

/* Registers orig_rax/rax of a thread stopped inside a syscall it will restart. */
static inline bool rsys_restarts(long orig_rax, long rax)
{
	return orig_rax >= 0 && (rax == -RSYS_ERESTARTSYS || rax == -RSYS_ERESTARTNOINTR ||
				 rax == -RSYS_ERESTARTNOHAND || rax == -RSYS_ERESTART_RESTARTBLOCK);
}

enum rsys_insn_src {
	RSYS_INSN_RIP,	 /* the instruction right before the stopped RIP */
	RSYS_INSN_VDSO,	 /* one found in the tracee's [vdso] */
	RSYS_INSN_GIVEN, /* the caller's (rsys_open_at) */
	RSYS_INSN_FRAME, /* a `syscall; ret` of [vdso] returning into a signal frame */
};

struct rsys {
	pid_t tid;		      /* the thread we run syscalls in */
	pid_t pid;		      /* its thread group (memory goes through tid) */
	struct user_regs_struct regs; /* registers at rsys_open() */
	uint64_t sigmask;	      /* blocked signals at rsys_open() */
	uint64_t insn;		      /* address of a `syscall` instruction (0f 05) */
	enum rsys_insn_src insn_src;
	uint64_t scratch; /* rsys_scratch() area in the tracee, 0: none */
	size_t scratch_len;
	bool scratch_on_stack; /* under the frame: nothing to unmap */
	uint64_t frame;	       /* the signal frame's return-address word (rsp in calls), 0: none */
	uint64_t gadget;       /* the [vdso] `syscall` calls run at with a frame */
	uint64_t restorer;     /* the C library's rt_sigreturn the frames return into */
	bool undo_armed;       /* rsys_call_undo() */
	long undo_nr, undo_a[6];
	uint64_t undo_sp; /* the undo frame (rsp in calls while armed), 0: none */
	bool ran;	  /* the thread ran since rsys_open() */
	bool dead;	  /* it died: nothing more can be done */
	int memfd;	  /* /proc/TID/mem, opened on first need */
	int pidfd;	  /* pidfd of tid (or of pid), opened on first need */
	void *kept;	  /* rsys_keep_stack(): the bytes rsys_close() puts back */
	uint64_t kept_at;
	size_t kept_len;
};

int rsys_open(pid_t tid, struct rsys *r);
int rsys_open_at(pid_t tid, uint64_t syscall_insn_addr, struct rsys *r);
/* 0 when everything was put back (verified); -errno (logged) otherwise. */
int rsys_close(struct rsys *r);
/* The stack bytes rsys writes on (its frames and scratch, under the thread's red zone), as they
 * are now: rsys_close() puts them back, so that memory read now (a dump's pages, which a lazy
 * migration's source then serves from the task itself, checked against what it read) is what
 * the thread has after close, whatever calls ran in between. 0 (also without a frame: then
 * rsys writes nothing on the stack), or -errno (logged). */
int rsys_keep_stack(struct rsys *r);

/* The syscall's return value, -errno if it failed (logged with its name). */
long rsys_call(struct rsys *r, long nr, long a1, long a2, long a3, long a4, long a5, long a6);
/* The same, but a failing syscall is not logged (the caller expects it may fail).
 * Losing the tracee is always logged. */
long rsys_call_quiet(struct rsys *r, long nr, long a1, long a2, long a3, long a4, long a5, long a6);

#define rsys0(r, nr)		 rsys_call(r, nr, 0, 0, 0, 0, 0, 0)
#define rsys1(r, nr, a)		 rsys_call(r, nr, (long)(a), 0, 0, 0, 0, 0)
#define rsys2(r, nr, a, b)	 rsys_call(r, nr, (long)(a), (long)(b), 0, 0, 0, 0)
#define rsys3(r, nr, a, b, c)	 rsys_call(r, nr, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define rsys4(r, nr, a, b, c, d) rsys_call(r, nr, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define rsys5(r, nr, a, b, c, d, e) \
	rsys_call(r, nr, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)
/* Undo: a call that changes the thread's task for a while (a probe mapping, a prctl to read a
 * default) arms the call that puts it back. rsys_call_undo() arms undo_nr(u), then runs nr(a)
 * like rsys_call(); until the undo is run (rsys_undo()) or dropped (rsys_undo_cancel()), every
 * call runs so that if criu-lite dies, the thread runs undo_nr(u) by itself, then goes back to
 * where it was (rsys-frame.c). A failing nr(a) drops the undo. rsys_close() runs an undo still
 * armed. A thread that is not self-healing (no frame) only gets the undo from a live
 * criu-lite. One undo at a time (-EBUSY). */
long rsys_call_undo(struct rsys *r, long nr, const long a[6], long undo_nr, const long u[6]);
/* Run the armed undo now (its result, logged on failure) and disarm. */
long rsys_undo(struct rsys *r);
void rsys_undo_cancel(struct rsys *r);
#define rsys6(r, nr, a, b, c, d, e, f) \
	rsys_call(r, nr, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

/* The name of syscall NR in log messages ("mmap"), or NULL if not in our table. */
const char *rsys_name(long nr);

/* Map (or reuse) an anonymous read-write area of at least LEN bytes in the
 * tracee; rsys_close() unmaps it. */
int rsys_scratch(struct rsys *r, size_t len, uint64_t *remote_addr);
/* Copy to / from the tracee's memory; writes reach read-only pages too. 0 or -errno. */
int rsys_write(struct rsys *r, uint64_t remote, const void *buf, size_t len);
int rsys_read(struct rsys *r, uint64_t remote, void *buf, size_t len);
/* A copy of the tracee's fd REMOTE_FD in our fd table (O_CLOEXEC), or -errno. */
int rsys_getfd(struct rsys *r, int remote_fd);
/* The registers saved by rsys_open(). */
const struct user_regs_struct *rsys_regs(const struct rsys *r);

#endif
