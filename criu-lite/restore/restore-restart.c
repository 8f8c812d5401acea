/* restore-restart: make an interrupted relative sleep go on after restore for the time it had
 * left, as if the dump had not happened.
 *
 * A thread interrupted in nanosleep() or a relative clock_nanosleep() stops with rax =
 * -ERESTART_RESTARTBLOCK: on resume the kernel runs restart_syscall, which continues from a
 * restart block in kernel memory (the absolute deadline). A new task's block is empty
 * (restart_syscall would return EINTR). What survives the dump is the remaining time, which the
 * kernel wrote into the caller's rem buffer when it interrupted the sleep; restore-mm has put that
 * buffer back. So the restored thread itself starts a new sleep on it, and is interrupted at once:
 *
 *  1. registers = dumped, but rip = the user's own `syscall` (ip - 2), rax = clock_nanosleep,
 *     rdi = clockid (CLOCK_MONOTONIC for nanosleep), rsi = 0 (relative), rdx = r10 = rem,
 *     orig_rax = -1 (no restart when it leaves its current stop); every signal blocked.
 *  2. PTRACE_SYSCALL to the syscall-entry stop; PTRACE_SYSCALL again (the sleep starts: the
 *     kernel computes deadline = now + *rem) and PTRACE_INTERRUPT at once.
 *  3. At the syscall-exit stop, rax = -ERESTART_RESTARTBLOCK: the thread's restart block now holds
 *     our deadline (and rem as its rmtp); rax = 0: the time was already up.
 *  4. PTRACE_INTERRUPT again (the syscall-exit stop, like any ptrace trap, cleared the first
 *     one) and PTRACE_CONT: it traps in the signal path (PTRACE_EVENT_STOP), where the caller
 *     sets the final registers: the dumped ones (restart_syscall resumes our sleep,
 *     and the user's registers are untouched), or, when the sleep ended, the dumped ones with
 *     rax = 0 and orig_rax = -1 (the call returns 0).
 * With less than SHORT_SLEEP_NS left, the restorer sleeps that long itself and the call returns 0.
 * Without a rem buffer, or in a restart_syscall whose sleep cannot be identified (poll and futex
 * waits also use restart blocks), the call returns EINTR, as restart_syscall would.
 */
#define LOG_PREFIX "restore-core: "

#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

#include "criu-lite/kinds/core.h"
#include "criu-lite/kcompat.h"
#include "criu-lite/log.h"
#include "criu-lite/restore/restore-core.h"

#define SHORT_SLEEP_NS 20000000L /* 20 ms */
#define NSEC	       1000000000L

/* What a stop of the recipe must be. */
enum stop_kind {
	STOP_SYSCALL_ENTRY = PTRACE_SYSCALL_INFO_ENTRY,
	STOP_SYSCALL_EXIT = PTRACE_SYSCALL_INFO_EXIT,
	STOP_TRAP, /* PTRACE_EVENT_STOP */
};

static const char *const stop_names[] = {
	[STOP_SYSCALL_ENTRY] = "syscall-entry stop",
	[STOP_SYSCALL_EXIT] = "syscall-exit stop",
	[STOP_TRAP] = "PTRACE_EVENT_STOP trap",
};

static void set_eintr(struct user_regs_struct *r)
{
	r->rax = (unsigned long long)-EINTR;
	r->orig_rax = (unsigned long long)-1LL;
}

static void set_done(struct user_regs_struct *r)
{
	r->rax = 0;
	r->orig_rax = (unsigned long long)-1LL;
}

enum {
	INT_BEFORE = 1 << 0, /* PTRACE_INTERRUPT while still stopped, before resuming */
	INT_AFTER = 1 << 1,  /* PTRACE_INTERRUPT right after resuming */
};

/* Resume with req and wait for a stop of the given kind; anything else is an error. */
static int step(const struct restore_task *t, pid_t tid, int req, enum stop_kind want,
		unsigned int flags)
{
	struct __ptrace_syscall_info info;
	int status;
	pid_t r;

	if (((flags & INT_BEFORE) && ptrace(PTRACE_INTERRUPT, tid, 0, 0)) ||
	    ptrace(req, tid, 0, 0) ||
	    ((flags & INT_AFTER) && ptrace(PTRACE_INTERRUPT, tid, 0, 0))) {
		pr_perror("pid %d: thread %d: can't resume it towards the %s", t->pid, tid,
			  stop_names[want]);
		return -errno;
	}
	do {
		r = waitpid(tid, &status, __WALL);
	} while (r < 0 && errno == EINTR);
	if (r < 0) {
		pr_perror("pid %d: waiting for thread %d failed", t->pid, tid);
		return -errno;
	}
	pr_debug("pid %d: thread %d: status %#x waiting for the %s\n", t->pid, tid, status,
		 stop_names[want]);
	if (!WIFSTOPPED(status)) {
		pr_err("pid %d: thread %d died while its sleep was set up (status %#x)\n", t->pid,
		       tid, status);
		return -ESRCH;
	}
	/* a signal-path trap: SIGTRAP, or the stop signal of a group stop the task is in */
	if (want == STOP_TRAP && status >> 16 == PTRACE_EVENT_STOP)
		return 0;
	if (want != STOP_TRAP && WSTOPSIG(status) == (SIGTRAP | 0x80) &&
	    ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof(info), &info) > 0 && info.op == want)
		return 0;
	pr_err("pid %d: thread %d: unexpected stop (status %#x) while waiting for the %s of its "
	       "sleep\n",
	       t->pid, tid, status, stop_names[want]);
	return -EIO;
}

static int get_regs(const struct restore_task *t, pid_t tid, struct user_regs_struct *r)
{
	struct iovec iov = { .iov_base = r, .iov_len = sizeof(*r) };

	if (ptrace(PTRACE_GETREGSET, tid, NT_PRSTATUS, &iov)) {
		pr_perror("pid %d: can't read the registers of thread %d", t->pid, tid);
		return -errno;
	}
	return 0;
}

/* Steps 1-4 of the comment at the top. */
static int rearm_sleep(struct restore_task *t, pid_t tid, int clockid, uint64_t rem,
		       const struct user_regs_struct *dumped, struct user_regs_struct *final)
{
	struct user_regs_struct r = *dumped;
	struct iovec iov = { .iov_base = &r, .iov_len = sizeof(r) };
	uint64_t all = ~0ULL;
	uint8_t insn[2] = { 0 };
	long ret;

	if (core_peek(tid, dumped->rip - 2, insn, sizeof(insn)) || insn[0] != 0x0f ||
	    insn[1] != 0x05) {
		pr_err("pid %d: thread %d: no syscall instruction before rip %#llx to restart its "
		       "sleep from\n",
		       t->pid, tid, dumped->rip);
		return -EINVAL;
	}
	r.rip = dumped->rip - 2;
	r.rax = CORE_NR_CLOCK_NANOSLEEP;
	r.orig_rax = (unsigned long long)-1LL;
	r.rdi = (unsigned long long)(long long)clockid;
	r.rsi = 0;
	r.rdx = rem;
	r.r10 = rem;
	if (ptrace(PTRACE_SETSIGMASK, tid, sizeof(all), &all) ||
	    ptrace(PTRACE_SETREGSET, tid, NT_PRSTATUS, &iov)) {
		pr_perror("pid %d: can't prepare thread %d to restart its sleep", t->pid, tid);
		return -errno;
	}
	ret = step(t, tid, PTRACE_SYSCALL, STOP_SYSCALL_ENTRY, 0);
	if (!ret)
		ret = step(t, tid, PTRACE_SYSCALL, STOP_SYSCALL_EXIT, INT_AFTER);
	if (!ret)
		ret = get_regs(t, tid, &r);
	/* the syscall-exit stop consumed the first interrupt (any ptrace trap clears a pending
	 * one): ask again, so that the thread traps in the signal path */
	if (!ret)
		ret = step(t, tid, PTRACE_CONT, STOP_TRAP, INT_BEFORE);
	if (ret)
		return (int)ret;
	ret = (long)r.rax;
	*final = *dumped;
	if (ret == -RSYS_ERESTART_RESTARTBLOCK)
		return 0;
	if (ret == 0) {
		set_done(final);
		return 0;
	}
	errno = (int)-ret;
	pr_perror("pid %d: thread %d: clock_nanosleep(%d, 0, %#" PRIx64 ") to restart its sleep "
		  "returned %ld",
		  t->pid, tid, clockid, rem, ret);
	return (int)ret;
}

int restore_sleep_restart(struct restore_task *t, pid_t tid, const ThreadCoreEntry *te,
			  const struct user_regs_struct *dumped, struct user_regs_struct *final)
{
	long nr, restart_nr = te->has_restart_nr ? te->restart_nr : 0;
	struct timespec left;
	uint64_t rem;
	char name[32];
	int clockid, ret;

	*final = *dumped;
	if ((long)dumped->rax != -RSYS_ERESTART_RESTARTBLOCK || (long)dumped->orig_rax < 0)
		return 0; /* no restart, or one the kernel does from the registers alone */
	if (!core_sleep_of(dumped, restart_nr, &nr, &rem, &clockid)) {
		pr_warn("pid %d: thread %d was interrupted in %s, whose restart state is kept in "
			"the kernel and lost: it returns EINTR\n",
			t->pid, tid, core_syscall_name((long)dumped->orig_rax, name, sizeof(name)));
		set_eintr(final);
		return 0;
	}
	core_syscall_name(nr, name, sizeof(name));
	if (!rem) {
		pr_info("pid %d: thread %d: %s has no buffer for the remaining time: it returns "
			"EINTR\n",
			t->pid, tid, name);
		set_eintr(final);
		return 0;
	}
	ret = core_peek(tid, rem, &left, sizeof(left));
	if (ret || !core_timespec_valid(&left)) {
		if (ret)
			errno = -ret;
		pr_err("pid %d: thread %d: can't read the remaining time of its %s at %#" PRIx64
		       "%s\n",
		       t->pid, tid, name, rem, ret ? ": restored memory unreadable" : ": invalid");
		return ret ? ret : -EINVAL;
	}
	if (left.tv_sec == 0 && left.tv_nsec < SHORT_SLEEP_NS) {
		long ns = left.tv_nsec;

		/* not worth a round trip: sleep it here, then the call returns 0 */
		while (nanosleep(&left, &left) && errno == EINTR)
			;
		set_done(final);
		pr_info("pid %d: thread %d: %s had %ld ns left: slept here, it returns 0\n", t->pid,
			tid, name, ns);
		return 0;
	}
	ret = rearm_sleep(t, tid, clockid, rem, dumped, final);
	if (!ret)
		pr_info(
		    "pid %d: thread %d: %s goes on for the %ld.%09ld s it had left (clock %d)%s\n",
		    t->pid, tid, name, (long)left.tv_sec, left.tv_nsec, clockid,
		    final->rax == 0 ? ": already over" : "");
	return ret;
}
