/* ps-sandbox: see ps-sandbox.h (the list, and why it is what it is).
 *
 * The filter is built and loaded in one go by the process that enters it: tgkill() is limited to
 * that process's own pid, which a parent building it before fork() would not know. Arguments
 * are compared as 32-bit values where the kernel reads an int (fds, pids, flags): what the
 * filter sees is then what the kernel acts on, whatever the upper half of the register holds. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <seccomp.h>

#include "lazy-pages/ps-sandbox.h"
#include "lazy-pages/push-recv.h"

#define API_NEEDED 3 /* TSYNC, SECCOMP_RET_KILL_PROCESS */

/* a thread of this process: clone()'s flags must have all of THREAD_SET, and none of the rest
 * of THREAD_MASK */
#define THREAD_SET (CLONE_VM | CLONE_SIGHAND | CLONE_THREAD)
#define THREAD_MASK                                                                 \
	(THREAD_SET | CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | \
	 CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)

/* allowed whatever their arguments (ps-sandbox.h says why each) */
static const char *const plain[] = {
	/* the log, the images' files */
	"read",
	"pread64",
	"write",
	"close",
	"fstat",
	"newfstatat",
	/* the connections */
	"poll",
	"ppoll",
	"recvfrom",
	"recvmsg",
	"sendto",
	"sendmsg",
	"getpeername",
	"shutdown",
	/* malloc */
	"munmap",
	"mremap",
	"brk",
	/* threads */
	"futex",
	"set_robust_list",
	"rseq",
	"sched_yield",
	"sched_getaffinity",
	/* signals */
	"rt_sigaction",
	"rt_sigprocmask",
	"rt_sigreturn",
	"restart_syscall",
	"sigaltstack",
	/* itself, GnuTLS's randomness, time */
	"getpid",
	"gettid",
	"getrandom",
	"clock_gettime",
	"gettimeofday",
	"clock_nanosleep",
	"nanosleep",
	/* the end of a thread, of the process */
	"exit",
	"exit_group",
};

static const int madv_ok[] = { MADV_DONTNEED, MADV_FREE, MADV_DONTDUMP, MADV_NOHUGEPAGE,
			       MADV_HUGEPAGE };

static int rule(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned int n,
		const struct scmp_arg_cmp *cmp, struct img_err *err)
{
	int nr = seccomp_syscall_resolve_name(name), r;

	if (nr == __NR_SCMP_ERROR)
		return img_fail(err, EINVAL, "seccomp: libseccomp does not know system call %s",
				name);
	r = seccomp_rule_add_array(ctx, action, nr, n, cmp);
	if (r)
		return img_fail(err, -r, "seccomp: can't add the rule of %s: %s", name,
				strerror(-r));
	return 0;
}

static int allow(scmp_filter_ctx ctx, const char *name, unsigned int n,
		 const struct scmp_arg_cmp *cmp, struct img_err *err)
{
	return rule(ctx, SCMP_ACT_ALLOW, name, n, cmp, err);
}

static int add_rules(scmp_filter_ctx ctx, int lsk, struct img_err *err)
{
	const struct scmp_arg_cmp no_wr[] = {
		SCMP_A2_32(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC, 0),
	};
	const struct scmp_arg_cmp getfl[] = { SCMP_A1_32(SCMP_CMP_EQ, F_GETFL) };
	const struct scmp_arg_cmp setfl[] = { SCMP_A1_32(SCMP_CMP_EQ, F_SETFL) };
	const struct scmp_arg_cmp on_lsk[] = { SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)lsk) };
	const struct scmp_arg_cmp nodelay[] = {
		SCMP_A1_32(SCMP_CMP_EQ, IPPROTO_TCP),
		SCMP_A2_32(SCMP_CMP_EQ, TCP_NODELAY),
	};
	const struct scmp_arg_cmp no_exec[] = { SCMP_A2_32(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0) };
	const struct scmp_arg_cmp thread[] = {
		SCMP_A0_32(SCMP_CMP_MASKED_EQ, THREAD_MASK, THREAD_SET),
	};
	const struct scmp_arg_cmp self[] = { SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)getpid()) };
	int ret = 0;

	for (size_t i = 0; !ret && i < sizeof(plain) / sizeof(plain[0]); i++)
		ret = allow(ctx, plain[i], 0, NULL, err);
	for (size_t i = 0; !ret && i < sizeof(madv_ok) / sizeof(madv_ok[0]); i++) {
		const struct scmp_arg_cmp advice[] = { SCMP_A2_32(SCMP_CMP_EQ, madv_ok[i]) };

		ret = allow(ctx, "madvise", 1, advice, err);
	}
	if (!ret)
		ret = allow(ctx, "openat", 1, no_wr, err);
	if (!ret)
		ret = allow(ctx, "fcntl", 1, getfl, err);
	if (!ret)
		ret = allow(ctx, "fcntl", 1, setfl, err);
	if (!ret)
		ret = allow(ctx, "accept4", 1, on_lsk, err);
	if (!ret)
		ret = allow(ctx, "setsockopt", 2, nodelay, err);
	if (!ret)
		ret = allow(ctx, "mmap", 1, no_exec, err);
	if (!ret)
		ret = allow(ctx, "mprotect", 1, no_exec, err);
	if (!ret)
		ret = allow(ctx, "clone", 1, thread, err);
	if (!ret)
		ret = rule(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL, err);
	if (!ret)
		ret = allow(ctx, "tgkill", 1, self, err);
	return ret;
}

/* The second list: receiving a dump into the directory behind dirfd (ps-sandbox.h). */
static int add_push_rules(scmp_filter_ctx ctx, int dirfd, struct img_err *err)
{
	const struct scmp_arg_cmp create[] = {
		SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)dirfd),
		SCMP_A2_32(SCMP_CMP_EQ, PUSH_OPEN_FLAGS),
	};
	const struct scmp_arg_cmp rename_in[] = {
		SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)dirfd),
		SCMP_A2_32(SCMP_CMP_EQ, (uint32_t)dirfd),
		SCMP_A4_32(SCMP_CMP_EQ, RENAME_NOREPLACE),
	};
	const struct scmp_arg_cmp unlink_in[] = {
		SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)dirfd),
		SCMP_A2_32(SCMP_CMP_EQ, 0),
	};
	const struct scmp_arg_cmp shared[] = {
		SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)dirfd),
		SCMP_A1_32(SCMP_CMP_EQ, LOCK_SH | LOCK_NB),
	};
	int ret = allow(ctx, "openat", 2, create, err);

	if (!ret)
		ret = allow(ctx, "pwrite64", 0, NULL, err);
	if (!ret)
		ret = allow(ctx, "fsync", 0, NULL, err);
	if (!ret)
		ret = allow(ctx, "renameat2", 3, rename_in, err);
	if (!ret)
		ret = allow(ctx, "unlinkat", 2, unlink_in, err);
	if (!ret)
		ret = allow(ctx, "flock", 2, shared, err);
	if (!ret)
		ret = allow(ctx, "sysinfo", 0, NULL, err);
	return ret;
}

int ps_sandbox_check(struct img_err *err)
{
	unsigned int api;

	if (prctl(PR_GET_SECCOMP) < 0 && errno == EINVAL)
		return img_fail(err, ENOSYS,
				"this kernel has no seccomp (CONFIG_SECCOMP): the page server "
				"sandboxes itself once it listens, and does not serve without");
	api = seccomp_api_get();
	if (api < API_NEEDED)
		return img_fail(
		    err, ENOSYS,
		    "this kernel can't sandbox the page server: it needs seccomp filters "
		    "(CONFIG_SECCOMP_FILTER) with SECCOMP_FILTER_FLAG_TSYNC and "
		    "SECCOMP_RET_KILL_PROCESS (Linux 4.14), libseccomp finds API level %u "
		    "(%d needed); the page server does not serve without",
		    api, API_NEEDED);
	return 0;
}

int ps_sandbox_enter(int lsk, int dirfd, struct img_err *err)
{
	scmp_filter_ctx ctx;
	int ret;

	if (lsk < 0)
		return img_fail(err, EBADF, "seccomp: no listening socket to allow accept4() on");
	ret = ps_sandbox_check(err);
	if (ret)
		return ret;
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return img_fail(err, ENOMEM, "seccomp: can't start a filter (seccomp_init)");
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (!ret)
		ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
	if (!ret)
		ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (ret) {
		ret = img_fail(err, -ret, "seccomp: can't set the filter's attributes: %s",
			       strerror(-ret));
		goto out;
	}
	/* a binary tree: the hot calls (sendmsg, poll, pread64) do not walk the whole list; only an
	 * optimization (libseccomp 2.5): a library without it filters the same */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	ret = add_rules(ctx, lsk, err);
	if (!ret && dirfd >= 0)
		ret = add_push_rules(ctx, dirfd, err);
	if (ret)
		goto out;
	ret = seccomp_load(ctx);
	if (ret)
		ret = img_fail(err, -ret, "seccomp: can't load the filter: %s", strerror(-ret));
out:
	seccomp_release(ctx);
	return ret;
}

int ps_sandbox_status(pid_t pid, int wstatus, struct img_err *err)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGSYS)
		return img_fail(
		    err, EPERM,
		    "the page server (pid %d) was killed by its sandbox: it made a "
		    "system call off its allow-list (lazy-pages/ps-sandbox.h), which the "
		    "kernel's log names (dmesg: audit type=1326 ... syscall=N): a bug, "
		    "please report it",
		    (int)pid);
	if (WIFSIGNALED(wstatus))
		return img_fail(err, EINTR, "the page server (pid %d) was killed by signal %d (%s)",
				(int)pid, WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)));
	return img_fail(err, EINVAL, "the page server (pid %d) ended with wait status 0x%x",
			(int)pid, wstatus);
}
