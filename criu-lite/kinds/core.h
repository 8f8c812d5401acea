/* core: what dump-core.c and restore-core*.c share about a task's CPU and signal state.
 *
 * Contract: the x86-64 kernel layouts the two sides exchange through remote syscalls (struct
 * sigaction as rt_sigaction sees it, stack_t, the XSAVE header of the NT_X86_XSTATE regset),
 * register conversion between ptrace's user_regs_struct and core.proto (all 27 fields, losslessly),
 * names for messages, and the rule that recognises a thread stopped inside an interrupted relative
 * sleep. Everything here is pure except core_peek() (process_vm_readv) and core_rcall() (a remote
 * syscall that logs its failure once, naming pid, item and errno).
 */
#ifndef CRIU_LITE_CORE_H
#define CRIU_LITE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>
#include <time.h>

#include "core.pb-c.h"

#include "criu-lite/rsys.h"

#define CORE_NSIG	   64  /* signals 1..64 */
#define CORE_SIGINFO_SIZE  128 /* siginfo_t as PTRACE_PEEKSIGINFO returns it */
#define CORE_SCRATCH_BYTES 4096

/* Syscall numbers (x86-64) the restart logic cares about. */
#define CORE_NR_NANOSLEEP	35
#define CORE_NR_RESTART_SYSCALL 219
#define CORE_NR_CLOCK_NANOSLEEP 230

/* arch_prctl codes for dynamically enabled xfeatures (AMX), <asm/prctl.h> of 5.16+. */
#define CORE_ARCH_GET_XCOMP_PERM 0x1022
#define CORE_ARCH_REQ_XCOMP_PERM 0x1023
#define CORE_XFEATURE_XTILEDATA	 18

/* NT_X86_XSTATE regset: the XSAVE header follows the 512-byte legacy area. */
#define CORE_XSAVE_HDR_OFFSET 512
#define CORE_XSAVE_HDR_SIZE   64

/* struct sigaction as the rt_sigaction syscall reads and writes it (sigsetsize 8). */
struct core_ksigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};

/* stack_t as the sigaltstack syscall reads and writes it. */
struct core_kstack {
	uint64_t sp;
	int32_t flags;
	uint32_t pad;
	uint64_t size;
};

void core_regs_to_entry(const struct user_regs_struct *r, UserRegsEntry *e);
void core_regs_from_entry(const UserRegsEntry *e, struct user_regs_struct *r);

/* The XSAVE features recorded in an NT_X86_XSTATE image: xcr0 (sw_reserved word) and xstate_bv
 * (header). false when the buffer is too short to hold them. */
bool core_xstate_masks(const void *xstate, size_t len, uint64_t *xcr0, uint64_t *xstate_bv);
/* "AVX-512 opmask, AMX-TILEDATA" for the features in mask, into buf. */
const char *core_xfeature_names(uint64_t mask, char *buf, size_t len);

/* "SIGUSR1", "SIGRTMIN+3", or "signal 70". */
const char *core_signame(int sig, char *buf, size_t len);
/* "RLIMIT_NOFILE", or "rlimit 20". */
const char *core_rlimit_name(int res, char *buf, size_t len);
/* "clock_nanosleep", or "syscall 300". */
const char *core_syscall_name(long nr, char *buf, size_t len);

bool core_timespec_valid(const struct timespec *ts);

/* Read len bytes at addr of pid without logging anything; 0 or -errno. */
int core_peek(pid_t pid, uint64_t addr, void *buf, size_t len);

/* Which relative sleep a thread stopped in restart_syscall (orig_rax 219, rax
 * -ERESTART_RESTARTBLOCK) continues, judged from its argument registers, which still hold what
 * the sleep was called with: CORE_NR_NANOSLEEP, CORE_NR_CLOCK_NANOSLEEP, or 0 when they do not
 * look like either (poll and futex waits also end up in restart_syscall). read_ts reads a
 * timespec of the thread's memory; the request and the remaining-time buffer must both read as
 * valid timespecs and lie above the lowest mappable address. */
typedef bool (*core_read_ts_fn)(void *arg, uint64_t addr, struct timespec *ts);
long core_infer_sleep(const struct user_regs_struct *r, core_read_ts_fn read_ts, void *arg);

/* The relative sleep a dumped thread was interrupted in, with the address of its remaining-time
 * buffer (0: none given) and its clock: true only for rax == -ERESTART_RESTARTBLOCK in nanosleep,
 * clock_nanosleep, or restart_syscall continuing one of them (restart_nr). */
bool core_sleep_of(const struct user_regs_struct *r, long restart_nr, long *nr, uint64_t *rem,
		   int *clockid);

/* What waitid() reports about a child (the SIGCHLD fields of its siginfo); pid 0: nothing. */
struct core_child_report {
	int32_t pid, code, status;
};

/* waitid(P_PID, child, options) run in the task of rs (child as it sees it), with its siginfo on
 * the scratch page at: 0 with *rep filled, or -errno (logged once, naming what). */
int core_remote_waitid(struct rsys *rs, uint64_t at, pid_t child, int options, const char *what,
		       struct core_child_report *rep);

/* rsys_call_quiet() that logs a failing syscall once as "pid N: can't WHAT: remote NAME failed:
 * ERR (errno E)" (a lost tracee is logged by rsys). Returns the raw result. */
long core_rcall(struct rsys *rs, const char *what, long nr, long a1, long a2, long a3, long a4);

#endif
