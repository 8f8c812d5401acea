/* restore-regs: the last step of a task's restore, after rsys_close(): each thread (t->tids, in
 * the image's order) leaves its signal-path stop with the dumped registers (fs base, the TLS,
 * included), xstate and signal mask.
 *
 * The thread is held in a ptrace stop inside the kernel's signal path (rsys_close() leaves it
 * there), so the kernel's syscall-restart logic runs on the registers set here when it resumes:
 * a thread dumped inside read() (orig_rax = 0, rax = -ERESTARTSYS) re-enters read(). The one
 * restart that depends on kernel memory, -ERESTART_RESTARTBLOCK, is prepared by
 * restore_sleep_restart() (restore-restart.c). Everything set is read back and compared.
 */
#define LOG_PREFIX "restore-core: "

#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

#include "criu-lite/kinds/core.h"
#include "criu-lite/kcompat.h"
#include "criu-lite/log.h"
#include "criu-lite/restore/restore-core.h"

/* PTRACE_SETSIGMASK silently drops these two. */
#define UNBLOCKABLE ((1ULL << (SIGKILL - 1)) | (1ULL << (SIGSTOP - 1)))

static int set_xstate(struct restore_task *t, pid_t tid, const ThreadCoreEntry *te)
{
	struct iovec iov = { .iov_base = te->xstate.data, .iov_len = te->xstate.len };
	uint64_t xcr0 = 0, bv = 0;
	char names[64];

	if (!ptrace(PTRACE_SETREGSET, tid, NT_X86_XSTATE, &iov))
		return 0;
	core_xstate_masks(te->xstate.data, te->xstate.len, &xcr0, &bv);
	if (errno == EINVAL && (bv & (1ULL << CORE_XFEATURE_XTILEDATA)))
		pr_perror("pid %d: can't set the xstate of thread %d: it holds AMX tile data "
			  "(%s), which the kernel accepts only once the thread has used AMX",
			  t->pid, tid, core_xfeature_names(bv, names, sizeof(names)));
	else
		pr_perror("pid %d: can't set the xstate of thread %d (NT_X86_XSTATE, %zu bytes, "
			  "xstate_bv %#" PRIx64 ")",
			  t->pid, tid, te->xstate.len, bv);
	return -errno;
}

/* Read everything back: the kernel must hold exactly what we set. */
static int verify_thread(struct restore_task *t, pid_t tid, const ThreadCoreEntry *te,
			 const struct user_regs_struct *want, uint64_t mask)
{
	struct user_regs_struct now;
	struct iovec iov = { .iov_base = &now, .iov_len = sizeof(now) };
	uint8_t *xs = NULL;
	uint64_t m = 0;
	int ret = 0;

	if (ptrace(PTRACE_GETREGSET, tid, NT_PRSTATUS, &iov) ||
	    ptrace(PTRACE_GETSIGMASK, tid, sizeof(m), &m)) {
		pr_perror("pid %d: can't read back the registers of thread %d", t->pid, tid);
		return -errno;
	}
	if (memcmp(&now, want, sizeof(now))) {
		pr_err("pid %d: thread %d: the registers read back differ from those set "
		       "(rip %#llx, want %#llx)\n",
		       t->pid, tid, now.rip, want->rip);
		return -EIO;
	}
	if (m != (mask & ~UNBLOCKABLE)) {
		pr_err("pid %d: thread %d: signal mask %#" PRIx64 " read back, %#" PRIx64 " set\n",
		       t->pid, tid, m, mask);
		return -EIO;
	}
	xs = malloc(te->xstate.len);
	if (!xs) {
		pr_err("out of memory\n");
		return -ENOMEM;
	}
	iov.iov_base = xs;
	iov.iov_len = te->xstate.len;
	if (ptrace(PTRACE_GETREGSET, tid, NT_X86_XSTATE, &iov)) {
		pr_perror("pid %d: can't read back the xstate of thread %d", t->pid, tid);
		ret = -errno;
	} else if (iov.iov_len != te->xstate.len ||
		   memcmp(xs, te->xstate.data, CORE_XSAVE_HDR_OFFSET)) {
		/* the legacy area (x87, SSE, MXCSR) at least must come back as it was */
		pr_err("pid %d: thread %d: the xstate read back differs from the one set\n", t->pid,
		       tid);
		ret = -EIO;
	}
	free(xs);
	return ret;
}

static int restore_thread_regs(struct restore_task *t, pid_t tid, const ThreadCoreEntry *te)
{
	struct user_regs_struct dumped, final;
	struct iovec iov = { .iov_base = &final, .iov_len = sizeof(final) };
	int ret;

	core_regs_from_entry(te->regs, &dumped);
	ret = restore_sleep_restart(t, tid, te, &dumped, &final);
	if (ret)
		return ret;
	ret = set_xstate(t, tid, te);
	if (ret)
		return ret;
	if (ptrace(PTRACE_SETREGSET, tid, NT_PRSTATUS, &iov)) {
		pr_perror("pid %d: can't set the registers of thread %d (rip %#llx)", t->pid, tid,
			  final.rip);
		return -errno;
	}
	if (ptrace(PTRACE_SETSIGMASK, tid, sizeof(te->blocked), &te->blocked)) {
		pr_perror("pid %d: can't set the signal mask %#" PRIx64 " of thread %d", t->pid,
			  te->blocked, tid);
		return -errno;
	}
	ret = verify_thread(t, tid, te, &final, te->blocked);
	if (!ret)
		pr_info("pid %d: thread %d: registers (rip %#llx, rsp %#llx, orig_rax %lld, rax "
			"%lld), %zu-byte xstate, signal mask %#" PRIx64 " restored\n",
			t->pid, tid, final.rip, final.rsp, (long long) final.orig_rax,
			(long long) final.rax, te->xstate.len, te->blocked);
	return ret;
}

int restore_core_regs(struct restore_ctx *c, struct restore_task *t)
{
	const CoreEntry *ce = t->core;

	(void)c;
	if (!t->tids) {
		pr_err("pid %d: its threads were not created (internal error)\n", t->pid);
		return -EINVAL;
	}
	/* an exited leader is not in the list: it has left for good */
	for (size_t i = 0; i < ce->n_threads; i++) {
		int ret = restore_thread_regs(t, t->tids[i], ce->threads[i]);

		if (ret)
			return ret;
	}
	return 0;
}
