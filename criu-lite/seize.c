/* seize: PTRACE_SEIZE + PTRACE_INTERRUPT every thread of a task. See seize.h.
 *
 * Every stop we hold a thread in is a stop inside the kernel's signal path
 * (an INTERRUPT trap or a group-stop trap): from there the kernel's syscall
 * restart logic runs when the thread resumes, so a thread caught inside
 * read() or nanosleep() simply re-enters it after PTRACE_DETACH.
 *
 * A leader that exits with SYS_exit while other threads run turns into a
 * zombie thread that no waitpid() reports, not even to its tracer, until the
 * whole group is gone: the leader's stop is therefore polled for, and its
 * state watched, rather than waited for (wait_stop()). A leader that is a
 * zombie already is skipped (leader_exited).
 *
 * A leader that exits while we trace it (caught in its exit while being
 * seized) is a zombie traced by us: its parent can't reap it until we wait for
 * it or exit, and in a PID namespace whose init is killed, init waits in the
 * kernel until it is reaped. A tracer's wait hands such a zombie back to its
 * parent: release does that (hand_back()) as soon as it can be reaped (at
 * once when the whole process is gone; after the kill with RELEASE_KILL; with
 * RELEASE_RESUME while other threads live on, only our exit lets it go). */
#define LOG_PREFIX "seize: "

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "criu-lite/log.h"
#include "criu-lite/rsys.h"
#include "criu-lite/proc/proc.h"
#include "criu-lite/seize.h"

/* A task that keeps creating threads faster than we can stop them. */
#define SEIZE_MAX_ROUNDS 1000

static pid_t wait_tid(pid_t tid, int *status, int flags)
{
	pid_t r;

	do {
		r = waitpid(tid, status, flags | __WALL);
	} while (r < 0 && errno == EINTR);
	return r;
}

#define KILL_WAIT_MS	   30000
#define EXITING_RETRIES	   50 /* ms for a thread refused as exiting to be gone */
#define LEADER_POLL_MIN_US 50
#define LEADER_POLL_MAX_US 2000

static bool is_zombie(char state)
{
	return state == 'Z' || state == 'X';
}

/* A blocking wait for one thread's next stop or exit; see the comment at the top for the
 * leader. A leader found a zombie reads as waitpid()'s "no such child" (ECHILD). */
static pid_t wait_stop(pid_t pid, pid_t tid, int *status)
{
	useconds_t us = LEADER_POLL_MIN_US;
	char state;

	if (tid != pid)
		return wait_tid(tid, status, 0);
	for (;;) {
		pid_t r = wait_tid(tid, status, WNOHANG);

		if (r)
			return r;
		if (proc_task_state(pid, tid, &state) == 0 && is_zombie(state)) {
			errno = ECHILD;
			return -1;
		}
		usleep(us);
		if (us < LEADER_POLL_MAX_US)
			us *= 2;
	}
}

struct seized_thread *seize_find(struct seized_task *st, pid_t tid)
{
	for (size_t i = 0; i < st->nr; i++)
		if (st->thr[i].tid == tid)
			return &st->thr[i];
	return NULL;
}

static struct seized_thread *add_thread(struct seized_task *st, pid_t tid)
{
	if (st->nr == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 4;
		struct seized_thread *t = realloc(st->thr, cap * sizeof(*t));

		if (!t)
			return NULL;
		st->thr = t;
		st->cap = cap;
	}
	struct seized_thread *t = &st->thr[st->nr++];

	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->syscall_nr = -1;
	return t;
}

static void drop_thread(struct seized_task *st, struct seized_thread *t)
{
	*t = st->thr[--st->nr];
}

/*
 * Bring a seized thread into a ptrace stop in the signal path and keep it
 * there. A stop may already be waiting (a task that was group-stopped traps
 * at once when seized): then no INTERRUPT is sent, since a second pending
 * trap would show up as a stray stop the next time the thread runs.
 * A signal-delivery-stop on the way is passed on with PTRACE_CONT, so the
 * signal is delivered exactly as it would have been without us.
 * Returns 0; with *gone set, -ESRCH when the thread's exit was reported, -ECHILD when
 * nothing will be (it is not our tracee any more, or it is a leader that has exited while
 * other threads run); or -errno (logged).
 */
static int hold_stop(pid_t pid, struct seized_thread *t, bool *gone)
{
	bool interrupted = false;
	int status;
	pid_t r;

	*gone = false;
	r = wait_tid(t->tid, &status, WNOHANG);
	for (;;) {
		if (r == 0) {
			if (!interrupted) {
				if (ptrace(PTRACE_INTERRUPT, t->tid, 0, 0)) {
					if (errno == ESRCH)
						goto wait;
					pr_perror("pid %d: PTRACE_INTERRUPT of thread %d failed",
						  pid, t->tid);
					return -errno;
				}
				interrupted = true;
			}
		wait:
			r = wait_stop(pid, t->tid, &status);
		}
		if (r < 0) {
			if (errno == ECHILD) {
				/* not ours any more, or a leader that is a zombie thread now */
				*gone = true;
				t->seized = false;
				return -ECHILD;
			}
			pr_perror("pid %d: waitpid(%d) failed", pid, t->tid);
			return -errno;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			*gone = true;
			t->seized = false;
			t->stop_status = status;
			return -ESRCH;
		}
		int sig = WSTOPSIG(status), event = status >> 16;

		if (event == PTRACE_EVENT_STOP) {
			t->stopped = true;
			t->stop_status = status;
			t->group_stop = sig != SIGTRAP;
			return 0;
		}
		/* a syscall stop or another event: not ours to keep, let it run on */
		int pass = (event || sig == (SIGTRAP | 0x80)) ? 0 : sig;

		if (pass) {
			pr_debug(
			    "pid %d: thread %d got signal %d while being seized: delivering it\n",
			    pid, t->tid, sig);
			t->sigs_passed++;
		}
		if (ptrace(PTRACE_CONT, t->tid, 0, pass) && errno != ESRCH) {
			pr_perror("pid %d: PTRACE_CONT of thread %d failed", pid, t->tid);
			return -errno;
		}
		r = 0;
	}
}

static int read_stop_regs(pid_t pid, struct seized_thread *t)
{
	struct user_regs_struct regs;
	struct iovec iov = { .iov_base = &regs, .iov_len = sizeof(regs) };

	if (ptrace(PTRACE_GETREGSET, t->tid, NT_PRSTATUS, &iov)) {
		pr_perror("pid %d: can't read registers of thread %d", pid, t->tid);
		return -errno;
	}
	t->syscall_nr = (long)regs.orig_rax;
	t->syscall_ret = (long)regs.rax;
	t->sp = regs.rsp;
	t->in_syscall = rsys_restarts(t->syscall_nr, t->syscall_ret);
	return 0;
}

/*
 * PTRACE_SEIZE; 0 or -errno. The kernel refuses a thread that has started to exit with EPERM,
 * as it refuses one traced by someone else: a thread of a task that keeps creating and ending
 * threads can be caught so. Such a thread is gone within moments: it reads as -ESRCH.
 */
static int seize_attach(struct seized_task *st, struct seized_thread *t, long opts)
{
	char state;

	for (int i = 0; i < EXITING_RETRIES; i++) {
		int rs;

		if (!ptrace(PTRACE_SEIZE, t->tid, 0, opts))
			return 0;
		if (errno != EPERM || t->tid == st->pid)
			return -errno;
		rs = proc_task_state(st->pid, t->tid, &state);
		if (rs == -ENOENT || (!rs && is_zombie(state)))
			return -ESRCH;
		usleep(1000);
	}
	return -EPERM;
}

/* The TracerPid of thread tid of pid (0: none), or -errno. */
static pid_t tracer_of(pid_t pid, pid_t tid)
{
	struct proc_status s = { 0 };
	pid_t tracer;
	int ret = proc_parse_task_status(pid, tid, &s);

	tracer = ret ? ret : s.tracer_pid;
	proc_status_free(&s);
	return tracer;
}

/* Thread tid of pid is a zombie now, or gone. */
static bool exited_now(pid_t pid, pid_t tid)
{
	char state;
	int ret = proc_task_state(pid, tid, &state);

	return ret == -ENOENT || (!ret && is_zombie(state));
}

/* 0 when seized and stopped, or when a non-leader thread vanished on the way. */
static int seize_thread(struct seized_task *st, pid_t tid)
{
	long opts = PTRACE_O_TRACESYSGOOD;
	struct seized_thread *t;
	pid_t tracer;
	bool gone;
	int ret;

	t = add_thread(st, tid);
	if (!t) {
		pr_err("pid %d: out of memory for thread %d\n", st->pid, tid);
		return -ENOMEM;
	}
	ret = proc_task_state(st->pid, tid, &t->state);
	if (ret == -ENOENT && tid != st->pid)
		goto vanished;
	if (ret) {
		errno = -ret;
		pr_perror("pid %d: can't read the state of thread %d", st->pid, tid);
		goto drop;
	}
	if (is_zombie(t->state)) {
		if (tid == st->pid)
			goto leader_gone; /* the process lives on if other threads do */
		goto vanished;		  /* an exiting thread: nothing left to freeze */
	}
	if (st->flags & SEIZE_EXITKILL)
		opts |= PTRACE_O_EXITKILL;
	if (st->flags & SEIZE_SUSPEND_SECCOMP)
		opts |= PTRACE_O_SUSPEND_SECCOMP;
	ret = seize_attach(st, t, opts);
	if (ret == -ESRCH && tid != st->pid)
		goto vanished;
	if (ret == -EPERM && (st->flags & SEIZE_MAY_EXIT) && exited_now(st->pid, tid)) {
		pr_info("pid %d exited while being seized\n", st->pid);
		ret = -ESRCH; /* the kernel refuses to attach to an exiting task */
		goto drop;
	}
	if (ret == -EPERM && (tracer = tracer_of(st->pid, tid)) > 0) {
		char ts, tcomm[64] = "?";
		pid_t tp;

		proc_task_brief(tracer, &ts, &tp, tcomm, sizeof(tcomm));
		pr_err(
		    "pid %d: thread %d is traced by pid %d (%s): a task under ptrace (a debugger, "
		    "strace, or a tracer in the tree) can't be dumped\n",
		    st->pid, tid, tracer, tcomm);
		goto drop;
	}
	if (ret) {
		errno = -ret;
		pr_perror("pid %d: PTRACE_SEIZE of thread %d (state %c) failed%s", st->pid, tid,
			  t->state, ret == -EPERM ? " (already traced?)" : "");
		goto drop;
	}
	t->seized = true;
	ret = hold_stop(st->pid, t, &gone);
	if (gone && tid != st->pid)
		goto vanished;
	if (gone && ret == -ECHILD)
		goto leader_gone; /* a zombie thread now, still traced: we let go when we exit */
	if (gone) {
		if (st->flags & SEIZE_MAY_EXIT)
			pr_info("pid %d exited while being seized (status %#x)\n", st->pid,
				t->stop_status);
		else
			pr_err("pid %d exited while being seized (status %#x)\n", st->pid,
			       t->stop_status);
		ret = -ESRCH;
		goto drop;
	}
	if (ret)
		return ret; /* still seized: seize_release() lets it go */
	pr_debug("pid %d: thread %d stopped (was %c, status %#x%s)\n", st->pid, tid, t->state,
		 t->stop_status, t->group_stop ? ", group-stop" : "");
	return read_stop_regs(st->pid, t);
leader_gone:
	pr_debug("pid %d: its leader thread has exited (state %c): seizing the other threads\n",
		 st->pid, t->state);
	st->leader_exited = true;
	ret = 0;
	goto drop;
vanished:
	pr_debug("pid %d: thread %d exited while being seized\n", st->pid, tid);
	ret = 0;
drop:
	drop_thread(st, t);
	return ret;
}

/* Seize the threads of /proc/PID/task not seized yet; *added counts them. */
static int seize_new_threads(struct seized_task *st, int *added)
{
	char path[64];
	struct dirent *de;
	int ret = 0;
	DIR *d;

	*added = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", st->pid);
	d = opendir(path);
	if (!d) {
		ret = -errno;
		if (ret == -ENOENT)
			pr_err("pid %d: no such process\n", st->pid);
		else
			pr_perror("pid %d: can't open %s", st->pid, path);
		return ret;
	}
	while ((de = readdir(d))) {
		char *end;
		long tid = strtol(de->d_name, &end, 10);

		if (*end || tid <= 0 || seize_find(st, (pid_t)tid) ||
		    (st->leader_exited && tid == st->pid))
			continue;
		size_t before = st->nr;

		ret = seize_thread(st, (pid_t)tid);
		if (ret)
			break;
		*added += st->nr > before;
	}
	closedir(d);
	return ret;
}

int seize_task(pid_t pid, unsigned int flags, struct seized_task *st)
{
	int ret, added, rounds = 0;

	memset(st, 0, sizeof(*st));
	st->pid = pid;
	st->flags = flags;
	if (flags & ~(unsigned int)(SEIZE_EXITKILL | SEIZE_MAY_EXIT | SEIZE_SUSPEND_SECCOMP)) {
		pr_err("pid %d: unknown seize flags %#x\n", pid, flags);
		return -EINVAL;
	}
	if (pid <= 0) {
		pr_err("invalid pid %d\n", pid);
		return -EINVAL;
	}
	ret = proc_task_state(pid, pid, &st->state);
	if (ret) {
		if (ret == -ENOENT && (flags & SEIZE_MAY_EXIT))
			pr_info("pid %d: gone before it was seized\n", pid);
		else if (ret == -ENOENT)
			pr_err("pid %d: no such process\n", pid);
		else {
			errno = -ret;
			pr_perror("pid %d: can't read its state", pid);
		}
		return ret == -ENOENT ? -ESRCH : ret;
	}
	/* Threads may be created while we stop the others: rescan until stable. */
	do {
		ret = seize_new_threads(st, &added);
		if (ret)
			goto fail;
		if (++rounds > SEIZE_MAX_ROUNDS) {
			pr_err("pid %d: thread set still changing after %d scans\n", pid, rounds);
			ret = -EAGAIN;
			goto fail;
		}
	} while (added);
	if (st->leader_exited && !st->nr) {
		if (flags & SEIZE_MAY_EXIT)
			pr_info("pid %d exited while being seized\n", pid);
		else
			pr_err(
			    "pid %d is a zombie (state %c): it has exited and cannot be seized\n",
			    pid, is_zombie(st->state) ? st->state : 'Z');
		ret = -ESRCH;
		goto fail;
	}
	if (!st->leader_exited && !seize_find(st, pid)) {
		pr_err("pid %d: its main thread could not be seized\n", pid);
		ret = -ESRCH;
		goto fail;
	}
	for (size_t i = 0; i < st->nr; i++)
		st->group_stopped |= st->thr[i].group_stop;
	pr_info("pid %d: seized %zu thread(s)%s%s\n", pid, st->nr,
		st->leader_exited ? " (its leader thread has exited)" : "",
		st->group_stopped ? ", group-stopped" : "");
	return 0;
fail:
	seize_release(st, RELEASE_RESUME);
	return ret;
}

int seize_add_thread(struct seized_task *st, pid_t tid)
{
	size_t before = st->nr;
	int ret;

	if (seize_find(st, tid)) {
		pr_err("pid %d: thread %d is held already\n", st->pid, tid);
		return -EEXIST;
	}
	ret = seize_thread(st, tid);
	if (ret)
		return ret;
	if (st->nr == before) {
		pr_err("pid %d: thread %d is not a live thread of it: can't seize it\n", st->pid,
		       tid);
		return -ESRCH;
	}
	st->group_stopped |= st->thr[st->nr - 1].group_stop;
	pr_debug("pid %d: thread %d added (%zu held)\n", st->pid, tid, st->nr);
	return 0;
}

/*
 * Reap every thread we trace, in whatever order they can go: the leader's exit is reported only
 * after all other threads are reaped, and in a PID namespace whose init has lost its leader
 * thread, the last thread of init waits in the kernel (zap_pid_ns_processes()) until every other
 * one, traced zombies included, is reaped. So no blocking wait on one thread: poll them all.
 */
static int release_kill(struct seized_task *st)
{
	size_t left = 0;
	int ret = 0, status, idle_ms = 0;

	if (kill(st->pid, SIGKILL) && errno != ESRCH) {
		pr_perror("pid %d: can't kill it", st->pid);
		ret = -errno;
	}
	for (size_t i = 0; i < st->nr; i++)
		left += st->thr[i].seized;
	while (left) {
		bool progress = false;

		for (size_t i = 0; i < st->nr; i++) {
			struct seized_thread *t = &st->thr[i];
			pid_t r;

			if (!t->seized)
				continue;
			r = wait_tid(t->tid, &status, WNOHANG);
			if (r == 0)
				continue;
			progress = true;
			if (r < 0 && errno != ECHILD) {
				pr_perror("pid %d: waitpid(%d) failed", st->pid, t->tid);
				ret = ret ?: -errno;
			}
			if (r < 0 || WIFEXITED(status) || WIFSIGNALED(status)) {
				t->seized = t->stopped = false;
				left--;
			}
		}
		if (progress) {
			idle_ms = 0;
			continue;
		}
		if (++idle_ms > KILL_WAIT_MS) {
			pr_err("pid %d: %zu thread(s) still not dead %d ms after SIGKILL\n",
			       st->pid, left, KILL_WAIT_MS);
			return ret ?: -ETIMEDOUT;
		}
		usleep(1000);
	}
	return ret;
}

static int release_resume(struct seized_task *st)
{
	int ret = 0;
	bool gone;

	for (size_t i = 0; i < st->nr; i++) {
		struct seized_thread *t = &st->thr[i];

		if (!t->seized)
			continue;
		/* PTRACE_DETACH needs a stopped tracee: finish a half-done seize first. */
		if (!t->stopped && hold_stop(st->pid, t, &gone)) {
			if (!gone)
				ret = ret ?: -EIO;
			continue;
		}
		if (ptrace(PTRACE_DETACH, t->tid, 0, 0) && errno != ESRCH) {
			pr_perror("pid %d: PTRACE_DETACH of thread %d failed", st->pid, t->tid);
			ret = ret ?: -errno;
		}
		t->seized = t->stopped = false;
	}
	return ret;
}

/* The leader, a zombie we trace (see the top), handed back to its parent when it can be reaped:
 * our wait gives it to the parent rather than reaping it. Not when we are its parent too (our
 * own child: reaping it is the caller's business), nor one we don't trace. */
static void hand_back(const struct seized_task *st)
{
	char state, comm[32];
	pid_t ppid = 0, r;
	int status;

	if (!st->leader_exited || tracer_of(st->pid, st->pid) != getpid() ||
	    proc_task_brief(st->pid, &state, &ppid, comm, sizeof(comm)) || ppid == getpid())
		return;
	r = wait_tid(st->pid, &status, WNOHANG);
	if (r == st->pid)
		pr_debug("pid %d: its exited leader, traced by us, handed back to its parent %d\n",
			 st->pid, ppid);
}

int seize_release(struct seized_task *st, enum seize_release_mode mode)
{
	int ret;

	if (!st->thr)
		return 0;
	ret = mode == RELEASE_KILL ? release_kill(st) : release_resume(st);
	hand_back(st);
	pr_info("pid %d: %s\n", st->pid, mode == RELEASE_KILL ? "killed" : "released");
	free(st->thr);
	st->thr = NULL;
	st->nr = st->cap = 0;
	return ret;
}
