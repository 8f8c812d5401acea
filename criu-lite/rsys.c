/* rsys: remote syscalls through ptrace. See rsys.h.
 *
 * How a call runs: registers are set to rip = a `syscall` instruction,
 * rax = nr, orig_rax = -1 (so the kernel's restart logic leaves our registers
 * alone when the thread leaves its stop) and the arguments; then PTRACE_SYSCALL
 * to the syscall-entry stop and again to the syscall-exit stop, where rax is
 * the result.
 *
 * Why PTRACE_SYSCALL and not PTRACE_SINGLESTEP: the single-step trap is a
 * forced SIGTRAP; with SIGTRAP blocked (we block everything) or ignored by the
 * tracee, the kernel resets the tracee's SIGTRAP disposition to SIG_DFL when
 * it forces the signal (measured: SigCgt loses bit 5), and a SIGTRAP already
 * pending in the tracee would merge with ours. Syscall stops are ptrace
 * notifications, not signals, so no signal state of the tracee is touched.
 * The cost is two stops per call instead of one.
 *
 * Leaving: a syscall-exit stop is not in the signal path, so a thread resumed
 * from there with its original registers would return -ERESTARTSYS to user
 * space instead of restarting the syscall it was in (PTRACE_DETACH happens to
 * hide this, as it raises TIF_SIGPENDING; PTRACE_CONT does not: see
 * test_cont_after_session). rsys_close() therefore first moves the thread into
 * an INTERRUPT trap (PTRACE_INTERRUPT, then PTRACE_CONT: the trap fires on the
 * way back to user mode, inside the signal path, before any user instruction
 * runs), and only then puts the registers back.
 *
 * Side effects the caller owns: signals an injected syscall raises (SIGPIPE of
 * a write to a widowed pipe) stay pending and are delivered after release; a
 * fault of our instruction (a bad rsys_open_at() address) is a forced signal,
 * so the kernel resets that signal's disposition in the tracee, as above. */
#define LOG_PREFIX "rsys: "

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "criu-lite/log.h"
#include "criu-lite/rsys-int.h"
#include "criu-lite/rsys.h"

#define SYSCALL_INSN_0 0x0f
#define SYSCALL_INSN_1 0x05
/* The largest [vdso] we are willing to scan. */
#define VDSO_MAX (1UL << 20)
/* pidfd_open() flag for a pidfd of one thread (uapi PIDFD_THREAD == O_EXCL, 6.9+). */
#define RSYS_PIDFD_THREAD O_EXCL
/* Blockable signals as PTRACE_SETSIGMASK sees them; the kernel drops KILL and STOP. */
#define ALL_SIGNALS (~0ULL)

struct sc_desc {
	long nr;
	const char *name;
	int nargs;
};

#define SC(n, a)               \
	{                      \
		SYS_##n, #n, a \
	}
static const struct sc_desc sc_table[] = {
	SC(read, 3),
	SC(write, 3),
	SC(open, 3),
	SC(close, 1),
	SC(lseek, 3),
	SC(mmap, 6),
	SC(mprotect, 3),
	SC(munmap, 2),
	SC(brk, 1),
	SC(rt_sigaction, 4),
	SC(rt_sigprocmask, 4),
	SC(ioctl, 3),
	SC(pread64, 4),
	SC(pwrite64, 4),
	SC(mremap, 5),
	SC(madvise, 3),
	SC(dup, 1),
	SC(dup2, 2),
	SC(getitimer, 2),
	SC(setitimer, 3),
	SC(getpid, 0),
	SC(socket, 3),
	SC(exit_group, 1),
	SC(fcntl, 3),
	SC(chdir, 1),
	SC(fchdir, 1),
	SC(umask, 1),
	SC(getrlimit, 2),
	SC(getppid, 0),
	SC(setpgid, 2),
	SC(getpgid, 1),
	SC(setsid, 0),
	SC(getsid, 1),
	SC(capget, 2),
	SC(sigaltstack, 2),
	SC(personality, 1),
	SC(prctl, 5),
	SC(arch_prctl, 2),
	SC(chroot, 1),
	SC(gettid, 0),
	SC(sched_setaffinity, 3),
	SC(sched_getaffinity, 3),
	SC(set_tid_address, 1),
	SC(timer_create, 3),
	SC(timer_settime, 4),
	SC(timer_gettime, 2),
	SC(timer_getoverrun, 1),
	SC(timer_delete, 1),
	SC(openat, 4),
	SC(set_robust_list, 2),
	SC(get_robust_list, 3),
	SC(dup3, 3),
	SC(prlimit64, 4),
	SC(setns, 2),
	SC(seccomp, 3),
	SC(memfd_create, 2),
	SC(userfaultfd, 1),
	SC(rseq, 4),
	SC(close_range, 3),
};
#undef SC

static const struct sc_desc *sc_find(long nr)
{
	for (size_t i = 0; i < sizeof(sc_table) / sizeof(sc_table[0]); i++)
		if (sc_table[i].nr == nr)
			return &sc_table[i];
	return NULL;
}

const char *rsys_name(long nr)
{
	const struct sc_desc *d = sc_find(nr);

	return d ? d->name : NULL;
}

/* "mmap(0, 4096, 3, 34, -1, 0)": small values in decimal, addresses in hex. */
static void fmt_call(char *buf, size_t size, long nr, const long a[6])
{
	const struct sc_desc *d = sc_find(nr);
	int nargs = d ? d->nargs : 6;
	size_t n;

	if (d)
		n = (size_t)snprintf(buf, size, "%s(", d->name);
	else
		n = (size_t)snprintf(buf, size, "syscall_%ld(", nr);
	for (int i = 0; i < nargs && n < size; i++) {
		const char *sep = i ? ", " : "";

		if (a[i] >= -4096 && a[i] < 65536)
			n += (size_t)snprintf(buf + n, size - n, "%s%ld", sep, a[i]);
		else
			n +=
			    (size_t)snprintf(buf + n, size - n, "%s%#lx", sep, (unsigned long)a[i]);
	}
	if (n < size)
		snprintf(buf + n, size - n, ")");
}

static const char *who(const struct rsys *r, char *buf, size_t size)
{
	if (r->tid == r->pid)
		snprintf(buf, size, "pid %d", r->pid);
	else
		snprintf(buf, size, "pid %d thread %d", r->pid, r->tid);
	return buf;
}

static pid_t wait_tid(pid_t tid, int *status)
{
	pid_t r;

	do {
		r = waitpid(tid, status, __WALL);
	} while (r < 0 && errno == EINTR);
	return r;
}

static int get_regs(pid_t tid, struct user_regs_struct *regs)
{
	struct iovec iov = { .iov_base = regs, .iov_len = sizeof(*regs) };

	if (ptrace(PTRACE_GETREGSET, tid, NT_PRSTATUS, &iov))
		return -errno;
	return iov.iov_len == sizeof(*regs) ? 0 : -EIO;
}

static int set_regs(pid_t tid, const struct user_regs_struct *regs)
{
	struct iovec iov = { .iov_base = (void *)regs, .iov_len = sizeof(*regs) };

	return ptrace(PTRACE_SETREGSET, tid, NT_PRSTATUS, &iov) ? -errno : 0;
}

static int read_tgid(pid_t tid, pid_t *tgid)
{
	char path[64], line[128];
	int ret = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", tgid) == 1) {
			ret = 0;
			break;
		}
	fclose(f);
	return ret;
}

/* process_vm_readv/writev; what they cannot reach (EFAULT: e.g. a write to a
 * read-only page) goes through /proc/TID/mem, which writes with FOLL_FORCE.
 * Both go through our thread, not the thread-group id: threads share the
 * address space, and a leader that has exited (a zombie thread) has none. */
static int mem_xfer(struct rsys *r, uint64_t remote, void *buf, size_t len, bool wr, bool quiet)
{
	char w[48];
	size_t done = 0;

	while (done < len) {
		struct iovec l = { .iov_base = (char *)buf + done, .iov_len = len - done };
		struct iovec rm = { .iov_base = (void *)(uintptr_t)(remote + done),
				    .iov_len = len - done };
		ssize_t n = wr ? process_vm_writev(r->tid, &l, 1, &rm, 1, 0)
			       : process_vm_readv(r->tid, &l, 1, &rm, 1, 0);

		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno != EFAULT) {
			if (!quiet)
				pr_perror("%s: can't %s %zu bytes at %#" PRIx64,
					  who(r, w, sizeof(w)), wr ? "write" : "read", len - done,
					  remote + done);
			return -errno;
		}
		break;
	}
	if (done < len && r->memfd < 0) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/mem", r->tid);
		r->memfd = open(path, O_RDWR | O_CLOEXEC);
		if (r->memfd < 0) {
			if (!quiet)
				pr_perror("%s: can't open %s", who(r, w, sizeof(w)), path);
			return -errno;
		}
	}
	while (done < len) {
		ssize_t n =
		    wr ? pwrite(r->memfd, (char *)buf + done, len - done, (off_t)(remote + done))
		       : pread(r->memfd, (char *)buf + done, len - done, (off_t)(remote + done));

		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			if (!quiet)
				pr_perror("%s: can't %s %zu bytes at %#" PRIx64,
					  who(r, w, sizeof(w)), wr ? "write" : "read", len - done,
					  remote + done);
			return -errno;
		}
		done += (size_t)n;
	}
	return 0;
}

int rsys_mem_read(struct rsys *r, uint64_t remote, void *buf, size_t len)
{
	return mem_xfer(r, remote, buf, len, false, true);
}

int rsys_write(struct rsys *r, uint64_t remote, const void *buf, size_t len)
{
	return mem_xfer(r, remote, (void *)buf, len, true, false);
}

int rsys_read(struct rsys *r, uint64_t remote, void *buf, size_t len)
{
	return mem_xfer(r, remote, buf, len, false, false);
}

static bool is_syscall_insn(struct rsys *r, uint64_t addr)
{
	uint8_t b[2];

	return addr >= 2 && mem_xfer(r, addr, b, sizeof(b), false, true) == 0 &&
	       b[0] == SYSCALL_INSN_0 && b[1] == SYSCALL_INSN_1;
}

/* Any 0f 05 in executable memory is a usable `syscall`, even inside another instruction. */
static int find_in_vdso(struct rsys *r, uint64_t *insn)
{
	unsigned long start = 0, end = 0;
	char path[64], line[512];
	uint8_t *buf;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", r->tid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char perms[5];

		if (strstr(line, "[vdso]") &&
		    sscanf(line, "%lx-%lx %4s", &start, &end, perms) == 3 && perms[2] == 'x') {
			found = true;
			break;
		}
	}
	fclose(f);
	if (!found || end <= start || end - start > VDSO_MAX)
		return -ENOENT;
	buf = malloc(end - start);
	if (!buf)
		return -ENOMEM;
	int ret = mem_xfer(r, start, buf, end - start, false, true);

	if (!ret) {
		uint8_t pat[2] = { SYSCALL_INSN_0, SYSCALL_INSN_1 };
		uint8_t *p = memmem(buf, end - start, pat, sizeof(pat));

		if (p)
			*insn = start + (uint64_t)(p - buf);
		else
			ret = -ENOENT;
	}
	free(buf);
	return ret;
}

static int open_common(pid_t tid, uint64_t insn, bool given, struct rsys *r)
{
	uint64_t all = ALL_SIGNALS;
	char w[48];
	int ret;

	memset(r, 0, sizeof(*r));
	r->tid = r->pid = tid;
	r->memfd = r->pidfd = -1;
	ret = read_tgid(tid, &r->pid);
	if (ret) {
		errno = -ret;
		pr_perror("thread %d: can't find its process", tid);
		return ret;
	}
	ret = get_regs(tid, &r->regs);
	if (ret) {
		errno = -ret;
		pr_perror("%s: can't read registers (is it ptrace-stopped by us?)",
			  who(r, w, sizeof(w)));
		return ret;
	}
	if (ptrace(PTRACE_GETSIGMASK, tid, sizeof(r->sigmask), &r->sigmask)) {
		pr_perror("%s: can't read the signal mask", who(r, w, sizeof(w)));
		return -errno;
	}
	if (given) {
		if (!is_syscall_insn(r, insn)) {
			pr_err("%s: no syscall instruction at the given address %#" PRIx64 "\n",
			       who(r, w, sizeof(w)), insn);
			return -EINVAL;
		}
		r->insn = insn;
		r->insn_src = RSYS_INSN_GIVEN;
	} else if ((ret = rsys_frame_setup(r)) == 0) {
		struct user_regs_struct park = r->regs;

		/* parked at the gadget: a tracer that dies from here on leaves a thread that
		 * returns through the frame by itself */
		r->insn = r->gadget;
		r->insn_src = RSYS_INSN_FRAME;
		park.rip = r->gadget;
		park.rsp = r->frame;
		park.rax = SYS_getpid;
		park.orig_rax = (unsigned long)-1L;
		ret = set_regs(tid, &park);
		if (ret) {
			errno = -ret;
			pr_perror("%s: can't park it at its frame", who(r, w, sizeof(w)));
			return ret;
		}
		r->ran = true; /* its registers are ours now: rsys_close() puts them back */
	} else if (ret != -ENOENT) {
		return ret;
	} else if (is_syscall_insn(r, r->regs.rip - 2)) {
		r->insn = r->regs.rip - 2;
		r->insn_src = RSYS_INSN_RIP;
	} else {
		ret = find_in_vdso(r, &r->insn);
		if (ret) {
			pr_err(
			    "%s: no syscall instruction to use: none before rip %#llx, none found "
			    "in [vdso] (%s); the caller must provide one (rsys_open_at)\n",
			    who(r, w, sizeof(w)), r->regs.rip, strerror(-ret));
			return ret;
		}
		r->insn_src = RSYS_INSN_VDSO;
	}
	/* Nothing may be dequeued, and no handler run, while we borrow the thread. */
	if (ptrace(PTRACE_SETSIGMASK, tid, sizeof(all), &all)) {
		pr_perror("%s: can't block signals", who(r, w, sizeof(w)));
		return -errno;
	}
	pr_debug("%s: remote syscalls at %#" PRIx64 " (%s)\n", who(r, w, sizeof(w)), r->insn,
		 r->insn_src == RSYS_INSN_RIP	  ? "rip-2"
		 : r->insn_src == RSYS_INSN_VDSO  ? "vdso"
		 : r->insn_src == RSYS_INSN_FRAME ? "vdso, returning into a signal frame"
						  : "given");
	return 0;
}

int rsys_open(pid_t tid, struct rsys *r)
{
	int ret = open_common(tid, 0, false, r);

	if (ret && r->memfd >= 0)
		close(r->memfd);
	return ret;
}

int rsys_open_at(pid_t tid, uint64_t syscall_insn_addr, struct rsys *r)
{
	int ret = open_common(tid, syscall_insn_addr, true, r);

	if (ret && r->memfd >= 0)
		close(r->memfd);
	return ret;
}

const struct user_regs_struct *rsys_regs(const struct rsys *r)
{
	return &r->regs;
}

static bool sync_fault(int sig, const siginfo_t *si)
{
	return (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE ||
		sig == SIGTRAP) &&
	       si->si_code > 0;
}

/*
 * Resume with REQ (PTRACE_SYSCALL or PTRACE_CONT) until the thread reaches a
 * syscall stop of kind WANT (PTRACE_SYSCALL_INFO_ENTRY/EXIT), or, for WANT ==
 * PTRACE_SYSCALL_INFO_NONE, a PTRACE_EVENT_STOP trap. Group-stop traps on the
 * way are resumed; other signals are passed on (only SIGSTOP can come: the
 * rest is blocked); a synchronous fault means our instruction could not run.
 */
static int run_to(struct rsys *r, int req, int want, const char *what)
{
	char w[48];
	int sig = 0, status;

	for (;;) {
		if (ptrace(req, r->tid, 0, sig)) {
			pr_perror("%s: can't resume it for %s", who(r, w, sizeof(w)), what);
			return -errno;
		}
		sig = 0;
		if (wait_tid(r->tid, &status) < 0) {
			pr_perror("%s: waitpid failed during %s", who(r, w, sizeof(w)), what);
			return -errno;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			r->dead = true;
			if (WIFSIGNALED(status))
				pr_err("%s died during %s: killed by signal %d\n",
				       who(r, w, sizeof(w)), what, WTERMSIG(status));
			else
				pr_err("%s died during %s: exited with %d\n", who(r, w, sizeof(w)),
				       what, WEXITSTATUS(status));
			return -ESRCH;
		}
		int s = WSTOPSIG(status), event = status >> 16;

		if (s == (SIGTRAP | 0x80)) {
			struct __ptrace_syscall_info info;

			if (ptrace(PTRACE_GET_SYSCALL_INFO, r->tid, sizeof(info), &info) <= 0) {
				pr_perror("%s: PTRACE_GET_SYSCALL_INFO failed during %s",
					  who(r, w, sizeof(w)), what);
				return -errno;
			}
			if (info.op == want)
				return 0;
			pr_err("%s: unexpected syscall stop (op %d, want %d) during %s\n",
			       who(r, w, sizeof(w)), info.op, want, what);
			return -EIO;
		}
		if (event == PTRACE_EVENT_STOP && want == PTRACE_SYSCALL_INFO_NONE)
			return 0;
		if (event)
			continue; /* a group-stop trap, or an event we did not ask for */
		siginfo_t si;

		if (ptrace(PTRACE_GETSIGINFO, r->tid, 0, &si)) {
			pr_perror("%s: PTRACE_GETSIGINFO failed during %s", who(r, w, sizeof(w)),
				  what);
			return -errno;
		}
		if (s == SIGTRAP && si.si_code == SIGTRAP) {
			pr_err("%s: syscall stop without PTRACE_O_TRACESYSGOOD during %s: the "
			       "tracee must be seized with that option\n",
			       who(r, w, sizeof(w)), what);
			return -EINVAL;
		}
		if (sync_fault(s, &si)) {
			/* Dropped at the next resume: it was caused by us, not the program. */
			pr_err("%s: signal %d (code %d, addr %p) while running %s at %#" PRIx64
			       "\n",
			       who(r, w, sizeof(w)), s, si.si_code, si.si_addr, what, r->insn);
			return -EFAULT;
		}
		pr_debug("%s: signal %d arrived during %s: passing it on\n", who(r, w, sizeof(w)),
			 s, what);
		sig = s;
	}
}

/* One remote syscall; sp: the stack pointer it runs with (0: the frame's, if any). */
static long do_call(struct rsys *r, bool quiet, long nr, const long a[6], uint64_t sp)
{
	struct user_regs_struct regs = r->regs;
	char call[256], w[48];
	long ret;

	if (r->dead)
		return -ESRCH;
	fmt_call(call, sizeof(call), nr, a);
	regs.rip = r->insn;
	if (sp)
		regs.rsp = sp;
	else if (r->undo_sp)
		regs.rsp = r->undo_sp;
	else if (r->frame)
		regs.rsp = r->frame;
	regs.rax = (unsigned long)nr;
	regs.orig_rax = (unsigned long)-1L;
	regs.rdi = (unsigned long)a[0];
	regs.rsi = (unsigned long)a[1];
	regs.rdx = (unsigned long)a[2];
	regs.r10 = (unsigned long)a[3];
	regs.r8 = (unsigned long)a[4];
	regs.r9 = (unsigned long)a[5];
	ret = set_regs(r->tid, &regs);
	if (ret) {
		errno = (int)-ret;
		pr_perror("%s: can't set registers for remote %s", who(r, w, sizeof(w)), call);
		return ret;
	}
	r->ran = true;
	/* run_to() logs its own failures */
	ret = run_to(r, PTRACE_SYSCALL, PTRACE_SYSCALL_INFO_ENTRY, call);
	if (!ret)
		ret = run_to(r, PTRACE_SYSCALL, PTRACE_SYSCALL_INFO_EXIT, call);
	if (ret)
		return ret;
	ret = get_regs(r->tid, &regs);
	if (ret) {
		errno = (int)-ret;
		pr_perror("%s: can't read the result of remote %s", who(r, w, sizeof(w)), call);
		return ret;
	}
	ret = (long)regs.rax;
	/* Only a stop signal can interrupt us, and we do not restart on its behalf. */
	if (rsys_restarts(nr, ret))
		ret = -EINTR;
	if (ret < 0 && ret >= -4095 && !quiet) {
		errno = (int)-ret;
		pr_perror("%s: remote %s failed", who(r, w, sizeof(w)), call);
	}
	pr_debug("%s: remote %s = %ld\n", who(r, w, sizeof(w)), call, ret);
	return ret;
}

long rsys_call(struct rsys *r, long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	const long a[6] = { a1, a2, a3, a4, a5, a6 };

	return do_call(r, false, nr, a, 0);
}

long rsys_call_quiet(struct rsys *r, long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	const long a[6] = { a1, a2, a3, a4, a5, a6 };

	return do_call(r, true, nr, a, 0);
}

long rsys_call_undo(struct rsys *r, long nr, const long a[6], long undo_nr, const long u[6])
{
	long ret;

	if (r->dead)
		return -ESRCH;
	if (r->undo_armed)
		return -EBUSY;
	if (r->frame) {
		ret = rsys_frame_undo(r, undo_nr, u, &r->undo_sp);
		if (ret)
			return ret;
	}
	r->undo_armed = true;
	r->undo_nr = undo_nr;
	memcpy(r->undo_a, u, sizeof(r->undo_a));
	ret = do_call(r, false, nr, a, 0);
	if (ret < 0)
		rsys_undo_cancel(r);
	return ret;
}

long rsys_undo(struct rsys *r)
{
	long ret;

	if (!r->undo_armed)
		return 0;
	/* runs with rsp at the first frame: a death from here on just returns */
	ret = do_call(r, false, r->undo_nr, r->undo_a, r->frame);
	rsys_undo_cancel(r);
	return ret;
}

void rsys_undo_cancel(struct rsys *r)
{
	r->undo_armed = false;
	r->undo_sp = 0;
}

int rsys_scratch(struct rsys *r, size_t len, uint64_t *remote_addr)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	long addr;

	len = (len + pg - 1) & ~(pg - 1);
	if (!len)
		len = pg;
	if (r->scratch && r->scratch_len >= len) {
		*remote_addr = r->scratch;
		return 0;
	}
	if (r->scratch_on_stack && rsys_frame_scratch(r, len, remote_addr) == 0) {
		r->scratch = *remote_addr;
		r->scratch_len = len;
		return 0;
	}
	if (!r->scratch && rsys_frame_scratch(r, len, remote_addr) == 0) {
		r->scratch = *remote_addr;
		r->scratch_len = len;
		r->scratch_on_stack = true;
		return 0;
	}
	if (r->scratch && !r->scratch_on_stack) {
		long rc = rsys2(r, SYS_munmap, r->scratch, r->scratch_len);

		if (rc)
			return (int)rc;
	}
	r->scratch = 0;
	r->scratch_on_stack = false;
	addr =
	    rsys6(r, SYS_mmap, 0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (addr < 0)
		return (int)addr;
	r->scratch = (uint64_t)addr;
	r->scratch_len = len;
	*remote_addr = r->scratch;
	return 0;
}

int rsys_getfd(struct rsys *r, int remote_fd)
{
	char w[48];
	int fd;

	/* a pidfd of our thread (PIDFD_THREAD, 6.9+) reaches the fd table even when the
	 * leader has exited; older kernels have only the process's */
	if (r->pidfd < 0 && r->tid != r->pid)
		r->pidfd = (int)syscall(SYS_pidfd_open, r->tid, RSYS_PIDFD_THREAD);
	if (r->pidfd < 0) {
		r->pidfd = (int)syscall(SYS_pidfd_open, r->pid, 0);
		if (r->pidfd < 0) {
			pr_perror("%s: pidfd_open failed", who(r, w, sizeof(w)));
			return -errno;
		}
	}
	fd = (int)syscall(SYS_pidfd_getfd, r->pidfd, remote_fd, 0);
	if (fd < 0) {
		pr_perror("%s: can't take a copy of its fd %d (pidfd_getfd)", who(r, w, sizeof(w)),
			  remote_fd);
		return -errno;
	}
	return fd;
}

/* Move the thread from a syscall-exit (or signal-delivery) stop into an
 * INTERRUPT trap in the signal path; see the comment at the top. */
static int back_to_signal_stop(struct rsys *r)
{
	char w[48];

	if (ptrace(PTRACE_INTERRUPT, r->tid, 0, 0)) {
		pr_perror("%s: PTRACE_INTERRUPT failed", who(r, w, sizeof(w)));
		return -errno;
	}
	return run_to(r, PTRACE_CONT, PTRACE_SYSCALL_INFO_NONE, "the return to a signal stop");
}

int rsys_close(struct rsys *r)
{
	struct user_regs_struct now;
	uint64_t mask = 0;
	char w[48];
	int ret = 0, rc;

	if (r->undo_armed && !r->dead) {
		long u = rsys_undo(r);

		if (u < 0)
			ret = (int)u;
	}
	if (r->scratch && !r->scratch_on_stack && !r->dead) {
		long m = rsys2(r, SYS_munmap, r->scratch, r->scratch_len);

		if (m)
			ret = (int)m;
		r->scratch = 0;
	}
	if (r->ran && !r->dead) {
		rc = back_to_signal_stop(r);
		ret = ret ?: rc;
	}
	if (r->dead) {
		ret = -ESRCH;
		goto out;
	}
	if (r->kept) { /* the stack as it was when it was kept */
		rc = rsys_write(r, r->kept_at, r->kept, r->kept_len);
		ret = ret ?: rc;
	}
	if (ptrace(PTRACE_SETSIGMASK, r->tid, sizeof(r->sigmask), &r->sigmask)) {
		pr_perror("%s: can't restore the signal mask %#" PRIx64, who(r, w, sizeof(w)),
			  r->sigmask);
		ret = ret ?: -errno;
	}
	rc = set_regs(r->tid, &r->regs);
	if (rc) {
		errno = -rc;
		pr_perror("%s: can't restore registers", who(r, w, sizeof(w)));
		ret = ret ?: rc;
		goto out;
	}
	/* Check that what the thread will resume with is exactly what it had. */
	if (get_regs(r->tid, &now) || memcmp(&now, &r->regs, sizeof(now)) ||
	    ptrace(PTRACE_GETSIGMASK, r->tid, sizeof(mask), &mask) || mask != r->sigmask) {
		pr_err("%s: registers or signal mask differ after restoring them\n",
		       who(r, w, sizeof(w)));
		ret = ret ?: -EIO;
	}
out:
	if (r->memfd >= 0)
		close(r->memfd);
	if (r->pidfd >= 0)
		close(r->pidfd);
	r->memfd = r->pidfd = -1;
	free(r->kept);
	r->kept = NULL;
	return ret;
}

int rsys_keep_stack(struct rsys *r)
{
	uint64_t lo, hi;
	int ret;

	if (!r->frame)
		return 0;
	rsys_frame_span(r, &lo, &hi);
	free(r->kept);
	r->kept = malloc(hi - lo);
	if (!r->kept)
		return -ENOMEM;
	ret = rsys_read(r, lo, r->kept, hi - lo);
	if (ret) {
		free(r->kept);
		r->kept = NULL;
		return ret;
	}
	r->kept_at = lo;
	r->kept_len = hi - lo;
	return 0;
}
