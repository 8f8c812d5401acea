/* core: layouts, conversions and names shared by dump-core and restore-core. See core.h. */
#define LOG_PREFIX "core: "

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "criu-lite/kinds/core.h"
#include "criu-lite/kcompat.h"
#include "criu-lite/log.h"

/* Nothing is ever mapped below vm.mmap_min_addr (64 KiB by default), nor at or above 2^56. */
#define USER_PTR_MIN 0x10000ULL
#define USER_PTR_END (1ULL << 56)

_Static_assert(sizeof(struct core_ksigaction) == 32, "kernel struct sigaction is 32 bytes");
_Static_assert(sizeof(struct core_kstack) == 24, "kernel stack_t is 24 bytes");

void core_regs_to_entry(const struct user_regs_struct *r, UserRegsEntry *e)
{
	e->r15 = r->r15;
	e->r14 = r->r14;
	e->r13 = r->r13;
	e->r12 = r->r12;
	e->bp = r->rbp;
	e->bx = r->rbx;
	e->r11 = r->r11;
	e->r10 = r->r10;
	e->r9 = r->r9;
	e->r8 = r->r8;
	e->ax = r->rax;
	e->cx = r->rcx;
	e->dx = r->rdx;
	e->si = r->rsi;
	e->di = r->rdi;
	e->orig_ax = r->orig_rax;
	e->ip = r->rip;
	e->cs = r->cs;
	e->flags = r->eflags;
	e->sp = r->rsp;
	e->ss = r->ss;
	e->fs_base = r->fs_base;
	e->gs_base = r->gs_base;
	e->ds = r->ds;
	e->es = r->es;
	e->fs = r->fs;
	e->gs = r->gs;
}

void core_regs_from_entry(const UserRegsEntry *e, struct user_regs_struct *r)
{
	r->r15 = e->r15;
	r->r14 = e->r14;
	r->r13 = e->r13;
	r->r12 = e->r12;
	r->rbp = e->bp;
	r->rbx = e->bx;
	r->r11 = e->r11;
	r->r10 = e->r10;
	r->r9 = e->r9;
	r->r8 = e->r8;
	r->rax = e->ax;
	r->rcx = e->cx;
	r->rdx = e->dx;
	r->rsi = e->si;
	r->rdi = e->di;
	r->orig_rax = e->orig_ax;
	r->rip = e->ip;
	r->cs = e->cs;
	r->eflags = e->flags;
	r->rsp = e->sp;
	r->ss = e->ss;
	r->fs_base = e->fs_base;
	r->gs_base = e->gs_base;
	r->ds = e->ds;
	r->es = e->es;
	r->fs = e->fs;
	r->gs = e->gs;
}

bool core_xstate_masks(const void *xstate, size_t len, uint64_t *xcr0, uint64_t *xstate_bv)
{
	if (len < CORE_XSAVE_HDR_OFFSET + CORE_XSAVE_HDR_SIZE)
		return false;
	memcpy(xcr0, (const char *)xstate + XSTATE_XCR0_OFFSET, sizeof(*xcr0));
	memcpy(xstate_bv, (const char *)xstate + CORE_XSAVE_HDR_OFFSET, sizeof(*xstate_bv));
	return true;
}

const char *core_xfeature_names(uint64_t mask, char *buf, size_t len)
{
	static const char *const names[] = {
		[0] = "x87",
		[1] = "SSE",
		[2] = "AVX",
		[3] = "MPX-BNDREGS",
		[4] = "MPX-BNDCSR",
		[5] = "AVX-512-opmask",
		[6] = "AVX-512-ZMM_Hi256",
		[7] = "AVX-512-Hi16_ZMM",
		[9] = "PKRU",
		[11] = "CET-U",
		[17] = "AMX-TILECFG",
		[18] = "AMX-TILEDATA",
		[19] = "APX",
	};
	size_t o = 0;

	if (!len)
		return buf;
	buf[0] = '\0';
	for (unsigned int i = 0; i < 64 && o < len; i++) {
		const char *n = i < sizeof(names) / sizeof(names[0]) ? names[i] : NULL;
		const char *sep = o ? ", " : "";

		if (!(mask & (1ULL << i)))
			continue;
		if (n)
			o += (size_t)snprintf(buf + o, len - o, "%s%s", sep, n);
		else
			o += (size_t)snprintf(buf + o, len - o, "%sfeature %u", sep, i);
	}
	return buf;
}

const char *core_signame(int sig, char *buf, size_t len)
{
	const char *abbr = sig > 0 && sig < 32 ? sigabbrev_np(sig) : NULL;

	if (abbr)
		snprintf(buf, len, "SIG%s", abbr);
	else if (sig >= 32 && sig <= CORE_NSIG)
		snprintf(buf, len, "SIGRT%d", sig);
	else
		snprintf(buf, len, "signal %d", sig);
	return buf;
}

const char *core_rlimit_name(int res, char *buf, size_t len)
{
	static const char *const names[] = {
		[RLIMIT_CPU] = "CPU",		[RLIMIT_FSIZE] = "FSIZE",
		[RLIMIT_DATA] = "DATA",		[RLIMIT_STACK] = "STACK",
		[RLIMIT_CORE] = "CORE",		[RLIMIT_RSS] = "RSS",
		[RLIMIT_NPROC] = "NPROC",	[RLIMIT_NOFILE] = "NOFILE",
		[RLIMIT_MEMLOCK] = "MEMLOCK",	[RLIMIT_AS] = "AS",
		[RLIMIT_LOCKS] = "LOCKS",	[RLIMIT_SIGPENDING] = "SIGPENDING",
		[RLIMIT_MSGQUEUE] = "MSGQUEUE", [RLIMIT_NICE] = "NICE",
		[RLIMIT_RTPRIO] = "RTPRIO",	[RLIMIT_RTTIME] = "RTTIME",
	};

	if (res >= 0 && (size_t)res < sizeof(names) / sizeof(names[0]) && names[res])
		snprintf(buf, len, "RLIMIT_%s", names[res]);
	else
		snprintf(buf, len, "rlimit %d", res);
	return buf;
}

const char *core_syscall_name(long nr, char *buf, size_t len)
{
	const char *n;

	switch (nr) {
	case SYS_poll:
		n = "poll";
		break;
	case CORE_NR_NANOSLEEP:
		n = "nanosleep";
		break;
	case SYS_futex:
		n = "futex";
		break;
	case CORE_NR_RESTART_SYSCALL:
		n = "restart_syscall";
		break;
	case CORE_NR_CLOCK_NANOSLEEP:
		n = "clock_nanosleep";
		break;
	default:
		n = rsys_name(nr);
	}
	if (n)
		snprintf(buf, len, "%s", n);
	else
		snprintf(buf, len, "syscall %ld", nr);
	return buf;
}

bool core_timespec_valid(const struct timespec *ts)
{
	return ts->tv_sec >= 0 && ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000L;
}

int core_peek(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec l = { .iov_base = buf, .iov_len = len };
	struct iovec r = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	char path[64];
	ssize_t n;
	int fd;

	n = process_vm_readv(pid, &l, 1, &r, 1, 0);
	if (n == (ssize_t)len)
		return 0;
	/* /proc/PID/mem also reaches pages the task cannot read itself */
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, buf, len, (off_t)addr);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return (int)n;
	return n == (ssize_t)len ? 0 : -EFAULT;
}

static bool user_ptr(uint64_t v)
{
	return v >= USER_PTR_MIN && v < USER_PTR_END;
}

/* A clock id clock_nanosleep() sleeps on with a restart block: a fixed clock, or a process
 * CPU-time clock (negative: ~pid << 3 | type, type 0..2), as a sign- or zero-extended int. */
static bool sleep_clockid(uint64_t v)
{
	int32_t id = (int32_t)v;

	if ((uint64_t)(int64_t)id != v && (uint64_t)(uint32_t)id != v)
		return false;
	if (id < 0)
		return (id & 3) != 3 && !(id & 4); /* per-thread CPU clocks cannot sleep */
	return id == CLOCK_REALTIME || id == CLOCK_MONOTONIC || id == CLOCK_PROCESS_CPUTIME_ID ||
	       id == CLOCK_BOOTTIME || id == CLOCK_REALTIME_ALARM || id == CLOCK_BOOTTIME_ALARM ||
	       id == CLOCK_TAI;
}

static bool ts_at(core_read_ts_fn read_ts, void *arg, uint64_t addr)
{
	struct timespec ts;

	return user_ptr(addr) && read_ts(arg, addr, &ts) && core_timespec_valid(&ts);
}

long core_infer_sleep(const struct user_regs_struct *r, core_read_ts_fn read_ts, void *arg)
{
	/* clock_nanosleep(clockid, 0, req, rem): a relative sleep (an absolute one restarts by
	 * itself with -ERESTARTNOHAND and never needs restart_syscall). */
	if (sleep_clockid(r->rdi) && r->rsi == 0 && ts_at(read_ts, arg, r->rdx) &&
	    ts_at(read_ts, arg, r->r10))
		return CORE_NR_CLOCK_NANOSLEEP;
	/* nanosleep(req, rem): two pointers. A futex wait has a small op in rsi, poll a count. */
	if (ts_at(read_ts, arg, r->rdi) && ts_at(read_ts, arg, r->rsi))
		return CORE_NR_NANOSLEEP;
	return 0;
}

bool core_sleep_of(const struct user_regs_struct *r, long restart_nr, long *nr, uint64_t *rem,
		   int *clockid)
{
	long n = (long)r->orig_rax;

	if ((long)r->rax != -RSYS_ERESTART_RESTARTBLOCK)
		return false;
	if (n == CORE_NR_RESTART_SYSCALL)
		n = restart_nr;
	if (n == CORE_NR_NANOSLEEP) {
		*rem = r->rsi;
		*clockid = CLOCK_MONOTONIC;
	} else if (n == CORE_NR_CLOCK_NANOSLEEP && !(r->rsi & TIMER_ABSTIME)) {
		*rem = r->r10;
		*clockid = (int)r->rdi;
	} else {
		return false;
	}
	*nr = n;
	return true;
}

long core_rcall(struct rsys *rs, const char *what, long nr, long a1, long a2, long a3, long a4)
{
	long ret = rsys_call_quiet(rs, nr, a1, a2, a3, a4, 0, 0);
	char name[32];

	if (ret < 0 && ret >= -4095 && !rs->dead) {
		errno = (int)-ret;
		pr_perror("pid %d: can't %s: remote %s failed", rs->pid, what,
			  core_syscall_name(nr, name, sizeof(name)));
	}
	return ret;
}

int core_remote_waitid(struct rsys *rs, uint64_t at, pid_t child, int options, const char *what,
		       struct core_child_report *rep)
{
	uint8_t si[CORE_SIGINFO_SIZE] = { 0 };
	long r = rsys_write(rs, at, si, sizeof(si));

	if (r)
		return (int)r;
	r = core_rcall(rs, what, SYS_waitid, 1 /* P_PID */, child, (long)at, options);
	if (r < 0)
		return (int)r;
	r = rsys_read(rs, at, si, sizeof(si));
	if (r)
		return (int)r;
	/* siginfo_t: si_signo, si_errno, si_code, a hole, then the SIGCHLD fields si_pid,
	 * si_uid, si_status */
	memcpy(&rep->code, si + 8, sizeof(rep->code));
	memcpy(&rep->pid, si + 16, sizeof(rep->pid));
	memcpy(&rep->status, si + 24, sizeof(rep->status));
	return 0;
}
