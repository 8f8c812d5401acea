/* test_core: dump_core() and restore_core() on real tasks.
 *
 * - attrs: a child sets known signal actions, a blocked mask, pending signals (private and
 *   process-wide, with values), an alternate stack, rlimits, personality, name, umask,
 *   credentials (uids, gids, groups, capabilities incl. ambient and bounding, securebits),
 *   dumpable, pdeathsig and no_new_privs, then blocks in read(). Its core image must show
 *   exactly that. The child is killed, a skeleton with its pid is built and restore_core() run
 *   in it; /proc/PID/status of the skeleton must show the dumped state, a second dump of the
 *   skeleton must equal the first one in every restored field, and restore_core_regs() must
 *   leave the child's registers, signal mask and xstate in the skeleton.
 * - seccomp: a task whose filter may hand syscalls to a user-space listener is refused by name;
 *   damaged filter records in an image are refused before anything is created.
 * - rlimit: a hard limit above the restorer's is refused with a clear message (root here lacks
 *   CAP_SYS_RESOURCE; skipped where it has it).
 * - check: restore_core_check() refuses each kind of incompatible or damaged core image.
 * - infer: which sleep a restart_syscall continues, judged from registers (pure).
 * Needs root.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/securebits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/rseq.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <elf.h>

#include <cmocka.h>

#include "criu-lite/kinds/core.h"
#include "criu-lite/kcompat.h"
#include "criu-lite/log.h"
#include "criu-lite/restore/restore.h"
#include "criu-lite/rsys.h"

#include "core_fixture.h"

#define ALT_SIZE     65536
#define NOFILE_CUR   100
#define NOFILE_MAX   200
#define MSGQ_CUR     1000
#define SHARED_VAL   77
#define PRIVATE_VAL  88
#define KID_UID	     1000
#define KID_EUID     1001
#define KID_SUID     1002
#define KID_GID	     100
#define KID_EGID     101
#define KID_SGID     102
#define KID_CAP	     CAP_NET_BIND_SERVICE
#define DROPPED_CAP  CAP_SYS_BOOT
#define SIG_PRIVATE  (SIGRTMIN + 3)
#define SIG_HANDLED2 (SIGRTMIN + 5)
#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
}

static void on_rt(int sig)
{
	(void)sig;
}

static uint64_t bit(int sig)
{
	return 1ULL << (sig - 1);
}

/* ---- children ------------------------------------------------------------------------------ */

/* Report the failing line to the parent instead of the ready 0. */
static __attribute__((noreturn)) void kid_fail(int fd, int line)
{
	(void)!write(fd, &line, sizeof(line));
	_exit(1);
}

#define KID_OK(x)                                     \
	do {                                          \
		if (!(x))                             \
			kid_fail(ready_fd, __LINE__); \
	} while (0)

static __attribute__((noreturn)) void kid_wait(int ready_fd, int wait_fd)
{
	int zero = 0;
	char c;

	KID_OK(write(ready_fd, &zero, sizeof(zero)) == sizeof(zero));
	(void)!read(wait_fd, &c, 1);
	_exit(0);
}

static void kid_signals(int ready_fd)
{
	struct sigaction sa = { .sa_sigaction = on_usr1,
				.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK };
	union sigval v = { .sival_int = SHARED_VAL };
	siginfo_t si;
	sigset_t blk;
	stack_t ss;

	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGHUP);
	sigaddset(&sa.sa_mask, SIGRTMIN + 1);
	KID_OK(!sigaction(SIGUSR1, &sa, NULL));
	KID_OK(signal(SIGPIPE, SIG_IGN) != SIG_ERR);
	KID_OK(signal(SIG_HANDLED2, on_rt) != SIG_ERR);
	ss.ss_sp = mmap(NULL, ALT_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ss.ss_size = ALT_SIZE;
	ss.ss_flags = SS_AUTODISARM;
	KID_OK(ss.ss_sp != MAP_FAILED && !sigaltstack(&ss, NULL));
	sigemptyset(&blk);
	sigaddset(&blk, SIGUSR2);
	sigaddset(&blk, SIG_PRIVATE);
	KID_OK(!sigprocmask(SIG_BLOCK, &blk, NULL));
	KID_OK(!sigqueue(getpid(), SIGUSR2, v));
	memset(&si, 0, sizeof(si));
	si.si_signo = SIG_PRIVATE;
	si.si_code = SI_QUEUE;
	si.si_pid = getpid();
	si.si_value.sival_int = PRIVATE_VAL;
	KID_OK(!syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), SIG_PRIVATE, &si));
}

static void kid_creds(int ready_fd)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = { { 0 } };
	gid_t groups[] = { 5, 6 };

	KID_OK(!prctl(PR_CAPBSET_DROP, DROPPED_CAP, 0, 0, 0));
	KID_OK(!prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
	KID_OK(!setgroups(2, groups));
	KID_OK(!setresgid(KID_GID, KID_EGID, KID_SGID));
	setfsgid(KID_GID);
	KID_OK(!setresuid(KID_UID, KID_EUID, KID_SUID));
	setfsuid(KID_UID);
	data[0].effective = data[0].permitted = data[0].inheritable = 1U << KID_CAP;
	KID_OK(!syscall(SYS_capset, &hdr, data));
	KID_OK(!prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, KID_CAP, 0, 0));
	/* a credential change resets these two: set them after it */
	KID_OK(!prctl(PR_SET_DUMPABLE, 0, 0, 0, 0));
	KID_OK(!prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0));
	KID_OK(!prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
}

static __attribute__((noreturn)) void attrs_kid(int ready_fd, int wait_fd)
{
	struct rlimit rl;

	kid_signals(ready_fd);
	rl.rlim_cur = NOFILE_CUR;
	rl.rlim_max = NOFILE_MAX;
	KID_OK(!setrlimit(RLIMIT_NOFILE, &rl));
	KID_OK(!getrlimit(RLIMIT_MSGQUEUE, &rl));
	rl.rlim_cur = MSGQ_CUR;
	KID_OK(!setrlimit(RLIMIT_MSGQUEUE, &rl));
	KID_OK(personality(PER_LINUX | ADDR_NO_RANDOMIZE) >= 0);
	KID_OK(!prctl(PR_SET_NAME, "core-kid", 0, 0, 0));
	umask(027);
	kid_creds(ready_fd);
	kid_wait(ready_fd, wait_fd);
}

static __attribute__((noreturn)) void seccomp_kid(int ready_fd, int wait_fd)
{
	/* getppid() goes to a user-space listener (none here: it fails with ENOSYS) */
	struct sock_filter notif[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = 4, .filter = notif };

	KID_OK(!prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	KID_OK(!prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0));
	kid_wait(ready_fd, wait_fd);
}

static __attribute__((noreturn)) void plain_kid(int ready_fd, int wait_fd)
{
	kid_wait(ready_fd, wait_fd);
}

/* Fork a child running fn; returns once it blocks in read(), with *wait_w its pipe's end. */
static pid_t spawn(struct core_fx *f, void (*fn)(int, int), int *wait_w)
{
	int ready[2], wait[2], line = -1;
	pid_t pid;

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(wait), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(ready[0]);
		close(wait[1]);
		fn(ready[1], wait[0]);
		_exit(1);
	}
	cfx_track(f, pid);
	close(ready[1]);
	close(wait[0]);
	assert_int_equal(read(ready[0], &line, sizeof(line)), sizeof(line));
	close(ready[0]);
	if (line)
		fail_msg("child setup failed at test_core.c:%d", line);
	assert_true(cfx_wait_syscall(pid, SYS_read, 5000));
	*wait_w = wait[1];
	return pid;
}

/* ---- observing ----------------------------------------------------------------------------- */

static const SigactionEntry *find_sa(const CoreEntry *ce, int sig)
{
	for (size_t i = 0; i < ce->n_sigactions; i++)
		if ((int)ce->sigactions[i]->signo == sig)
			return ce->sigactions[i];
	return NULL;
}

static const RlimitEntry *find_rl(const CoreEntry *ce, int res)
{
	for (size_t i = 0; i < ce->n_rlimits; i++)
		if ((int)ce->rlimits[i]->resource == res)
			return ce->rlimits[i];
	return NULL;
}

static int siginfo_signo(const SiginfoEntry *e, int *value)
{
	siginfo_t si;

	assert_int_equal(e->raw.len, sizeof(si));
	memcpy(&si, e->raw.data, sizeof(si));
	*value = si.si_value.sival_int;
	return si.si_signo;
}

/* What the attrs child set, as its core image must show it. */
static void check_attrs_core(const CoreEntry *ce, pid_t pid, const struct kerndat *kd)
{
	const ThreadCoreEntry *te;
	const SigactionEntry *sa;
	uint64_t head = 0, tid_addr = 0;
	size_t hlen = 0;
	int val;

	assert_int_equal(ce->pid, pid);
	assert_string_equal(ce->comm, "core-kid");
	assert_int_equal(ce->personality, PER_LINUX | ADDR_NO_RANDOMIZE);
	assert_int_equal(ce->umask, 027);
	assert_int_equal(ce->dumpable, 0);
	assert_true(ce->has_securebits);
	assert_int_equal(ce->securebits, SECBIT_KEEP_CAPS);
	assert_int_equal(ce->no_new_privs, 1);
	assert_int_equal(ce->seccomp_mode, 0);
	assert_int_equal(ce->uid, KID_UID);
	assert_int_equal(ce->euid, KID_EUID);
	assert_int_equal(ce->suid, KID_SUID);
	assert_int_equal(ce->fsuid, KID_UID);
	assert_int_equal(ce->gid, KID_GID);
	assert_int_equal(ce->egid, KID_EGID);
	assert_int_equal(ce->sgid, KID_SGID);
	assert_int_equal(ce->fsgid, KID_GID);
	assert_int_equal(ce->n_groups, 2);
	assert_int_equal(ce->groups[0], 5);
	assert_int_equal(ce->groups[1], 6);
	assert_int_equal(ce->cap_eff, 1ULL << KID_CAP);
	assert_int_equal(ce->cap_prm, 1ULL << KID_CAP);
	assert_int_equal(ce->cap_inh, 1ULL << KID_CAP);
	assert_int_equal(ce->cap_amb, 1ULL << KID_CAP);
	assert_false(ce->cap_bnd & (1ULL << DROPPED_CAP));
	assert_true(ce->cap_bnd & (1ULL << CAP_SYS_ADMIN));

	sa = find_sa(ce, SIGUSR1);
	assert_non_null(sa);
	assert_int_equal(sa->handler, (uint64_t)(uintptr_t)on_usr1);
	assert_int_equal(sa->flags & (SA_SIGINFO | SA_RESTART | SA_ONSTACK),
			 SA_SIGINFO | SA_RESTART | SA_ONSTACK);
	assert_int_equal(sa->mask, bit(SIGHUP) | bit(SIGRTMIN + 1));
	sa = find_sa(ce, SIGPIPE);
	assert_non_null(sa);
	assert_int_equal(sa->handler, (uint64_t)(uintptr_t)SIG_IGN);
	sa = find_sa(ce, SIG_HANDLED2);
	assert_non_null(sa);
	assert_int_equal(sa->handler, (uint64_t)(uintptr_t)on_rt);
	assert_null(find_sa(ce, SIGTERM)); /* untouched: default, not stored */
	assert_null(find_sa(ce, SIGKILL));

	assert_int_equal(ce->n_rlimits, RLIM_NLIMITS);
	assert_int_equal(find_rl(ce, RLIMIT_NOFILE)->cur, NOFILE_CUR);
	assert_int_equal(find_rl(ce, RLIMIT_NOFILE)->max, NOFILE_MAX);
	assert_int_equal(find_rl(ce, RLIMIT_MSGQUEUE)->cur, MSGQ_CUR);

	assert_int_equal(ce->n_shared_pending, 1);
	assert_int_equal(siginfo_signo(ce->shared_pending[0], &val), SIGUSR2);
	assert_int_equal(val, SHARED_VAL);

	assert_int_equal(ce->n_threads, 1);
	te = ce->threads[0];
	assert_int_equal(te->tid, pid);
	assert_string_equal(te->comm, "core-kid");
	assert_int_equal(te->blocked, bit(SIGUSR2) | bit(SIG_PRIVATE));
	assert_int_equal(te->n_pending, 1);
	assert_int_equal(siginfo_signo(te->pending[0], &val), SIG_PRIVATE);
	assert_int_equal(val, PRIVATE_VAL);
	assert_int_equal(te->syscall_nr, SYS_read);
	assert_int_equal(te->regs->orig_ax, SYS_read);
	assert_int_equal((int64_t)te->regs->ax, -RSYS_ERESTARTSYS);
	assert_int_equal(te->xstate.len, kd->xstate_size);
	assert_non_null(te->sas);
	assert_int_equal(te->sas->size, ALT_SIZE);
	assert_int_equal(te->sas->flags, SS_AUTODISARM);
	assert_int_equal(te->pdeathsig, SIGTERM);
	/* the child is a fork of this thread: same TLS, so glibc's registrations match ours */
	assert_int_equal(syscall(SYS_get_robust_list, 0, &head, &hlen), 0);
	assert_int_equal(te->robust_list, head);
	assert_int_equal(te->robust_list_len, hlen);
	assert_int_equal(prctl(PR_GET_TID_ADDRESS, &tid_addr), 0);
	assert_int_equal(te->clear_child_tid, tid_addr);
	if (__rseq_size > 0) {
		assert_non_null(te->rseq);
		assert_int_equal(te->rseq->ptr,
				 (uint64_t)(uintptr_t)__builtin_thread_pointer() + __rseq_offset);
		assert_int_equal(te->rseq->sig, RSEQ_SIG);
	}
}

/* /proc/PID/status of the restored skeleton, read by hand. */
static void check_restored_status(pid_t pid)
{
	char v[256], want[256];

	cfx_status_field(pid, "Uid", v, sizeof(v));
	snprintf(want, sizeof(want), "%d %d %d %d", KID_UID, KID_EUID, KID_SUID, KID_UID);
	assert_string_equal(v, want);
	cfx_status_field(pid, "Gid", v, sizeof(v));
	snprintf(want, sizeof(want), "%d %d %d %d", KID_GID, KID_EGID, KID_SGID, KID_GID);
	assert_string_equal(v, want);
	cfx_status_field(pid, "Groups", v, sizeof(v));
	assert_string_equal(v, "5 6");
	cfx_status_field(pid, "Name", v, sizeof(v));
	assert_string_equal(v, "core-kid");
	assert_int_equal(cfx_status_hex(pid, "CapEff"), 1ULL << KID_CAP);
	assert_int_equal(cfx_status_hex(pid, "CapPrm"), 1ULL << KID_CAP);
	assert_int_equal(cfx_status_hex(pid, "CapInh"), 1ULL << KID_CAP);
	assert_int_equal(cfx_status_hex(pid, "CapAmb"), 1ULL << KID_CAP);
	assert_false(cfx_status_hex(pid, "CapBnd") & (1ULL << DROPPED_CAP));
	cfx_status_field(pid, "NoNewPrivs", v, sizeof(v));
	assert_string_equal(v, "1");
	assert_int_equal(cfx_status_hex(pid, "SigCgt") & (bit(SIGUSR1) | bit(SIG_HANDLED2)),
			 bit(SIGUSR1) | bit(SIG_HANDLED2));
	assert_true(cfx_status_hex(pid, "SigIgn") & bit(SIGPIPE));
	assert_true(cfx_status_hex(pid, "ShdPnd") & bit(SIGUSR2));
	assert_true(cfx_status_hex(pid, "SigPnd") & bit(SIG_PRIVATE));
}

/* Every field restore_core() restores, in two core images. */
static void compare_restored(const CoreEntry *a, const CoreEntry *b)
{
	const ThreadCoreEntry *x = a->threads[0], *y = b->threads[0];

	assert_string_equal(a->comm, b->comm);
	assert_int_equal(a->personality, b->personality);
	assert_int_equal(a->dumpable, b->dumpable);
	assert_int_equal(a->securebits, b->securebits);
	assert_int_equal(a->no_new_privs, b->no_new_privs);
	assert_int_equal(a->n_sigactions, b->n_sigactions);
	for (size_t i = 0; i < a->n_sigactions; i++) {
		const SigactionEntry *s = a->sigactions[i], *t = find_sa(b, (int)s->signo);

		assert_non_null(t);
		assert_int_equal(s->handler, t->handler);
		assert_int_equal(s->flags, t->flags);
		assert_int_equal(s->restorer, t->restorer);
		assert_int_equal(s->mask, t->mask);
	}
	for (size_t i = 0; i < a->n_rlimits; i++) {
		assert_int_equal(a->rlimits[i]->cur, find_rl(b, (int)a->rlimits[i]->resource)->cur);
		assert_int_equal(a->rlimits[i]->max, find_rl(b, (int)a->rlimits[i]->resource)->max);
	}
	assert_int_equal(a->n_shared_pending, b->n_shared_pending);
	for (size_t i = 0; i < a->n_shared_pending; i++)
		assert_memory_equal(a->shared_pending[i]->raw.data, b->shared_pending[i]->raw.data,
				    CORE_SIGINFO_SIZE);
	assert_int_equal(x->n_pending, y->n_pending);
	for (size_t i = 0; i < x->n_pending; i++)
		assert_memory_equal(x->pending[i]->raw.data, y->pending[i]->raw.data,
				    CORE_SIGINFO_SIZE);
	assert_int_equal(x->sas->sp, y->sas->sp);
	assert_int_equal(x->sas->size, y->sas->size);
	assert_int_equal(x->sas->flags, y->sas->flags);
	assert_int_equal(x->robust_list, y->robust_list);
	assert_int_equal(x->clear_child_tid, y->clear_child_tid);
	assert_int_equal(x->pdeathsig, y->pdeathsig);
	assert_string_equal(x->comm, y->comm);
	assert_int_equal(!x->rseq, !y->rseq);
	if (x->rseq) {
		assert_int_equal(x->rseq->ptr, y->rseq->ptr);
		assert_int_equal(x->rseq->len, y->rseq->len);
		assert_int_equal(x->rseq->sig, y->rseq->sig);
	}
	assert_int_equal(a->xcomp_perm, b->xcomp_perm);
}

static void check_regs_restored(pid_t pid, const ThreadCoreEntry *te)
{
	struct user_regs_struct now, want;
	struct iovec iov = { .iov_base = &now, .iov_len = sizeof(now) };
	uint8_t *xs = malloc(te->xstate.len);
	uint64_t mask = 0;

	assert_non_null(xs);
	core_regs_from_entry(te->regs, &want);
	assert_int_equal(ptrace(PTRACE_GETREGSET, pid, NT_PRSTATUS, &iov), 0);
	assert_memory_equal(&now, &want, sizeof(now));
	assert_int_equal(ptrace(PTRACE_GETSIGMASK, pid, sizeof(mask), &mask), 0);
	assert_int_equal(mask, te->blocked);
	iov.iov_base = xs;
	iov.iov_len = te->xstate.len;
	assert_int_equal(ptrace(PTRACE_GETREGSET, pid, NT_X86_XSTATE, &iov), 0);
	assert_int_equal(iov.iov_len, te->xstate.len);
	assert_memory_equal(xs, te->xstate.data, te->xstate.len);
	free(xs);
}

/* ---- tests --------------------------------------------------------------------------------- */

static void test_attrs(void **state)
{
	struct core_fx *f = *state;
	struct restore_ctx rc = { .o = &f->o };
	struct seized_task st;
	struct restore_task t, parent = { 0 };
	CoreEntry *core, *again;
	int wait_w;
	pid_t pid;

	cfx_need_root();
	rc.kd = f->kd;
	pid = spawn(f, attrs_kid, &wait_w);
	assert_int_equal(seize_task(pid, 0, &st), 0);
	assert_int_equal(cfx_dump(f, &st, &core), 0);
	check_attrs_core(core, pid, &f->kd);

	/* restore it into a skeleton with the same pid */
	cfx_kill(&st, pid);
	close(wait_w);
	cfx_skeleton(f, pid, core, &t);
	/* restored as a task inside a tree, so its parent-death signal comes back too (a
	 * root's is not re-armed: zdtm pdeathsig00) */
	t.parent = &parent;
	assert_int_equal(restore_core_check(&rc, &t), 0);
	assert_int_equal(restore_core_prepare(&rc, &t), 0);
	assert_int_equal(restore_core(&rc, &t), 0);
	t.rs_open = false;
	assert_int_equal(rsys_close(&t.rs), 0);
	check_restored_status(pid);

	/* dump the restored skeleton: everything restore_core() restores must match */
	assert_int_equal(cfx_dump(f, &t.st, &again), 0);
	compare_restored(core, again);
	assert_int_equal(again->uid, KID_UID);
	assert_int_equal(again->cap_amb, 1ULL << KID_CAP);
	assert_int_equal(again->cap_bnd, core->cap_bnd);

	assert_int_equal(restore_core_regs(&rc, &t), 0);
	check_regs_restored(pid, core->threads[0]);
	cfx_kill(&t.st, pid);
	free(t.tids);
	core_entry__free_unpacked(again, NULL);
	core_entry__free_unpacked(core, NULL);
}

static void test_seccomp_refused(void **state)
{
	struct core_fx *f = *state;
	struct seized_task st;
	CoreEntry *core;
	char want[96];
	int wait_w;
	pid_t pid;

	cfx_need_root();
	assert_int_equal(log_init(f->log, LOG_ERROR), 0);
	if (!kd_has(&f->kd, KD_SUSPEND_SECCOMP))
		skip();
	pid = spawn(f, seccomp_kid, &wait_w);
	assert_int_equal(seize_task(pid, SEIZE_SUSPEND_SECCOMP, &st), 0);
	assert_int_equal(cfx_dump(f, &st, &core), -ENOTSUP);
	snprintf(want, sizeof(want),
		 "pid %d: thread %d: its seccomp filter 0 (0: the oldest) hands syscalls to a "
		 "user-space listener",
		 pid, pid);
	assert_true(cfx_log_has(f->log, want));
	assert_int_equal(faccessat(img_dir_fd(f->dir), "core-0.img", F_OK, 0), -1);
	snprintf(want, sizeof(want), "core-%d.img", pid);
	assert_int_equal(faccessat(img_dir_fd(f->dir), want, F_OK, 0), -1);
	assert_int_equal(seize_release(&st, RELEASE_RESUME), 0);
	close(wait_w);
}

/* Raising a hard limit needs CAP_SYS_RESOURCE, which root lacks on this kind of host. */
static void test_rlimit_refused(void **state)
{
	struct core_fx *f = *state;
	struct restore_ctx rc = { .o = &f->o };
	struct seized_task st;
	struct restore_task t;
	struct rlimit rl;
	CoreEntry *core;
	RlimitEntry *nofile;
	int wait_w, status;
	pid_t pid, probe;

	cfx_need_root();
	probe = fork();
	if (probe == 0) {
		getrlimit(RLIMIT_NOFILE, &rl);
		rl.rlim_max++;
		_exit(setrlimit(RLIMIT_NOFILE, &rl) ? 0 : 1);
	}
	assert_int_equal(waitpid(probe, &status, 0), probe);
	if (WEXITSTATUS(status)) {
		print_message("skipped: this root may raise hard limits (CAP_SYS_RESOURCE)\n");
		skip();
	}
	rc.kd = f->kd;
	assert_int_equal(log_init(f->log, LOG_ERROR), 0);
	pid = spawn(f, plain_kid, &wait_w);
	assert_int_equal(seize_task(pid, 0, &st), 0);
	assert_int_equal(cfx_dump(f, &st, &core), 0);
	cfx_kill(&st, pid);
	close(wait_w);
	nofile = (RlimitEntry *)find_rl(core, RLIMIT_NOFILE);
	nofile->max++;
	cfx_skeleton(f, pid, core, &t);
	assert_int_equal(restore_core_prepare(&rc, &t), 0);
	assert_int_equal(restore_core(&rc, &t), -EPERM);
	assert_true(cfx_log_has(f->log, "can't raise the hard limit of RLIMIT_NOFILE"));
	assert_true(cfx_log_has(f->log, "needs CAP_SYS_RESOURCE"));
	t.rs_open = false;
	assert_int_equal(rsys_close(&t.rs), 0);
	cfx_kill(&t.st, pid);
	free(t.tids);
	core_entry__free_unpacked(core, NULL);
}

/* One refusal of restore_core_check(): errno and a piece of its message. */
static void refused(struct core_fx *f, struct restore_ctx *rc, struct restore_task *t, int err,
		    const char *msg)
{
	assert_int_equal(truncate(f->log, 0), 0);
	assert_int_equal(restore_core_check(rc, t), err);
	if (!cfx_log_has(f->log, msg))
		fail_msg("no \"%s\" in the log", msg);
}

static void test_check(void **state)
{
	struct core_fx *f = *state;
	struct restore_ctx rc = { .o = &f->o };
	struct restore_task t = { 0 };
	uint8_t siginfo[CORE_SIGINFO_SIZE] = { SIGUSR1 };
	SiginfoEntry si = SIGINFO_ENTRY__INIT, *sip = &si;
	struct seized_task st;
	ThreadCoreEntry *te, *two[2], *three[3], **orig_threads, other;
	CoreEntry *ce;
	uint64_t xcr0, extra = 0, cur, max;
	uint32_t signo;
	int wait_w;
	pid_t pid;

	cfx_need_root();
	rc.kd = f->kd;
	pid = spawn(f, plain_kid, &wait_w);
	assert_int_equal(seize_task(pid, 0, &st), 0);
	assert_int_equal(cfx_dump(f, &st, &ce), 0);
	assert_int_equal(seize_release(&st, RELEASE_RESUME), 0);
	close(wait_w);
	assert_int_equal(log_init(f->log, LOG_INFO), 0);
	t.pid = t.vpid = pid;
	t.core = ce;
	te = ce->threads[0];
	assert_int_equal(restore_core_check(&rc, &t), 0);

	t.vpid = pid + 1;
	refused(f, &rc, &t, -EINVAL, "holds pid");
	t.vpid = pid;

	te->xstate.len -= 64;
	refused(f, &rc, &t, -ENOTSUP, "the xstate is");
	te->xstate.len += 64;

	/* a feature this CPU lacks, claimed in the image's XCR0 and permission mask */
	for (int b = 19; b >= 9 && !extra; b--)
		if (!(f->kd.xcr0 & (1ULL << b)))
			extra = 1ULL << b;
	memcpy(&xcr0, te->xstate.data + XSTATE_XCR0_OFFSET, sizeof(xcr0));
	xcr0 |= extra;
	memcpy(te->xstate.data + XSTATE_XCR0_OFFSET, &xcr0, sizeof(xcr0));
	refused(f, &rc, &t, -ENOTSUP, "XSAVE features this CPU does not offer");
	xcr0 &= ~extra;
	memcpy(te->xstate.data + XSTATE_XCR0_OFFSET, &xcr0, sizeof(xcr0));
	ce->has_xcomp_perm = true;
	ce->xcomp_perm = f->kd.xcr0 | extra;
	refused(f, &rc, &t, -ENOTSUP, "may use XSAVE features this CPU does not offer");
	ce->xcomp_perm = f->kd.xcr0;

	te->xstate.data[CORE_XSAVE_HDR_OFFSET + 8] = 1; /* xcomp_bv: compacted */
	refused(f, &rc, &t, -EINVAL, "not a standard-format XSAVE header");
	te->xstate.data[CORE_XSAVE_HDR_OFFSET + 8] = 0;

	rc.kd.xstate_size = 0;
	refused(f, &rc, &t, -ENOTSUP, "xstate size of this kernel is unknown");
	rc.kd = f->kd;

	te->regs->cs = 0x23;
	refused(f, &rc, &t, -ENOTSUP, "is not a 64-bit task");
	te->regs->cs = 0x33;

	ce->n_threads = 0;
	refused(f, &rc, &t, -EINVAL, "no threads");
	orig_threads = ce->threads;
	two[0] = two[1] = te;
	ce->threads = two;
	ce->n_threads = 2;
	refused(f, &rc, &t, -EINVAL, "bad tid"); /* the leader's tid again */
	other = *te;
	other.tid = (uint32_t)pid + 1;
	three[0] = te;
	three[1] = three[2] = &other;
	ce->threads = three;
	ce->n_threads = 3;
	refused(f, &rc, &t, -EINVAL, "appears twice");
	ce->n_threads = 2;
	assert_int_equal(restore_core_check(&rc, &t), 0);
	ce->threads = orig_threads;
	ce->n_threads = 1;
	te->tid = (uint32_t)pid + 1;
	refused(f, &rc, &t, -EINVAL, "is not the leader");
	te->tid = (uint32_t)pid;
	/* an exited leader is not in the list */
	ce->has_leader_exit_code = true;
	refused(f, &rc, &t, -EINVAL, "bad tid");
	te->tid = (uint32_t)pid + 1;
	assert_int_equal(restore_core_check(&rc, &t), 0);
	te->tid = (uint32_t)pid;
	ce->has_leader_exit_code = false;

	te->has_seccomp_mode = te->has_seccomp_filter = true;
	te->seccomp_mode = 2;
	te->seccomp_filter = 1; /* the image has no filter */
	refused(f, &rc, &t, -EINVAL, "seccomp mode 2 with filter 1 of 0");
	te->has_seccomp_mode = te->has_seccomp_filter = false;

	assert_true(ce->n_sigactions > 0); /* cmocka's own handlers at least */
	signo = ce->sigactions[0]->signo;
	ce->sigactions[0]->signo = SIGKILL;
	refused(f, &rc, &t, -EINVAL, "bad or repeated signal action for signal 9");
	ce->sigactions[0]->signo = signo;

	cur = ce->rlimits[0]->cur;
	max = ce->rlimits[0]->max;
	ce->rlimits[0]->cur = 6;
	ce->rlimits[0]->max = 5;
	refused(f, &rc, &t, -EINVAL, "bad rlimit 0 (cur 6, max 5)");
	ce->rlimits[0]->cur = cur;
	ce->rlimits[0]->max = max;

	si.raw.data = siginfo;
	si.raw.len = 100;
	ce->shared_pending = &sip;
	ce->n_shared_pending = 1;
	refused(f, &rc, &t, -EINVAL, "siginfo is 100 bytes");
	si.raw.len = CORE_SIGINFO_SIZE;
	assert_int_equal(restore_core_check(&rc, &t), 0);
	ce->shared_pending = NULL;
	ce->n_shared_pending = 0;

	/* every pointer is back to what was unpacked */
	core_entry__free_unpacked(ce, NULL);
}

static bool fake_read_ts(void *arg, uint64_t addr, struct timespec *ts)
{
	const uint64_t *good = arg; /* addresses that hold a valid timespec */

	for (int i = 0; good[i]; i++)
		if (good[i] == addr) {
			ts->tv_sec = 1;
			ts->tv_nsec = 500;
			return true;
		}
	return false;
}

static void test_infer(void **state)
{
	uint64_t good[] = { 0x7ffd0000, 0x7ffd0010, 0 };
	struct user_regs_struct r = { 0 };
	uint64_t rem;
	int clk;
	long nr;

	(void)state;
	/* nanosleep(req, rem) */
	r.rdi = good[0];
	r.rsi = good[1];
	assert_int_equal(core_infer_sleep(&r, fake_read_ts, good), CORE_NR_NANOSLEEP);
	/* clock_nanosleep(CLOCK_MONOTONIC, 0, req, rem), and a process CPU clock */
	r.rdi = CLOCK_MONOTONIC;
	r.rsi = 0;
	r.rdx = good[0];
	r.r10 = good[1];
	assert_int_equal(core_infer_sleep(&r, fake_read_ts, good), CORE_NR_CLOCK_NANOSLEEP);
	r.rdi = (uint64_t)(int64_t)(-1235 * 8); /* (~1234 << 3): CPUCLOCK_PROF of pid 1234 */
	assert_int_equal(core_infer_sleep(&r, fake_read_ts, good), CORE_NR_CLOCK_NANOSLEEP);
	r.rdi = CLOCK_MONOTONIC_RAW; /* cannot sleep */
	assert_int_equal(core_infer_sleep(&r, fake_read_ts, good), 0);
	/* absolute: never reaches restart_syscall */
	r.rdi = CLOCK_MONOTONIC;
	r.rsi = TIMER_ABSTIME;
	assert_int_equal(core_infer_sleep(&r, fake_read_ts, good), 0);
	/* poll(NULL, 0, 1000) and futex(uaddr, FUTEX_WAIT_PRIVATE, val, timeout) */
	memset(&r, 0, sizeof(r));
	r.rdx = 1000;
	r.r10 = good[1];
	assert_int_equal(core_infer_sleep(&r, fake_read_ts, good), 0);
	r.rdi = good[0];
	r.rsi = 128;
	r.rdx = 0;
	r.r10 = good[1];
	assert_int_equal(core_infer_sleep(&r, fake_read_ts, good), 0);
	/* a rem pointer that does not read as a timespec */
	r.rsi = 0x7ffd0020;
	assert_int_equal(core_infer_sleep(&r, fake_read_ts, good), 0);

	/* core_sleep_of(): which registers hold rem and the clock */
	memset(&r, 0, sizeof(r));
	r.rax = (uint64_t)-RSYS_ERESTART_RESTARTBLOCK;
	r.orig_rax = CORE_NR_NANOSLEEP;
	r.rsi = 0x1000;
	assert_true(core_sleep_of(&r, 0, &nr, &rem, &clk));
	assert_int_equal(nr, CORE_NR_NANOSLEEP);
	assert_int_equal(rem, 0x1000);
	assert_int_equal(clk, CLOCK_MONOTONIC);
	r.orig_rax = CORE_NR_RESTART_SYSCALL;
	assert_false(core_sleep_of(&r, 0, &nr, &rem, &clk));
	r.rdi = CLOCK_BOOTTIME;
	r.rsi = 0;
	r.r10 = 0x2000;
	assert_true(core_sleep_of(&r, CORE_NR_CLOCK_NANOSLEEP, &nr, &rem, &clk));
	assert_int_equal(rem, 0x2000);
	assert_int_equal(clk, CLOCK_BOOTTIME);
	r.rax = (uint64_t)-RSYS_ERESTARTNOHAND;
	assert_false(core_sleep_of(&r, CORE_NR_CLOCK_NANOSLEEP, &nr, &rem, &clk));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_attrs, core_fx_setup, core_fx_teardown),
		cmocka_unit_test_setup_teardown(test_seccomp_refused, core_fx_setup,
						core_fx_teardown),
		cmocka_unit_test_setup_teardown(test_rlimit_refused, core_fx_setup,
						core_fx_teardown),
		cmocka_unit_test_setup_teardown(test_check, core_fx_setup, core_fx_teardown),
		cmocka_unit_test(test_infer),
	};

	log_init(NULL, getenv("TEST_CORE_DEBUG") ? LOG_DEBUG : LOG_WARN);
	alarm(120); /* a hung ptrace wait must not hang the suite */
	return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
