/* seize: PTRACE_SEIZE + PTRACE_INTERRUPT every thread of a task. See seize.h.
 *
 * Every stop we hold a thread in is a stop inside the kernel's signal path
 * (an INTERRUPT trap or a group-stop trap): from there the kernel's syscall
 * restart logic runs when the thread resumes, so a thread caught inside
 * read() or nanosleep() simply re-enters it after PTRACE_DETACH. */
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

/* The state letter of /proc/PID/task/TID/stat: 0, -ENOENT when gone. */
static int read_state(pid_t pid, pid_t tid, char *state)
{
	char path[64], buf[512];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		int e = errno;

		close(fd);
		return e == ESRCH ? -ENOENT : -e;
	}
	close(fd);
	buf[n] = '\0';
	/* "tid (comm) S ...": comm may hold spaces and parentheses */
	char *p = strrchr(buf, ')');

	if (!p || p[1] != ' ' || !p[2])
		return -EINVAL;
	*state = p[2];
	return 0;
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
 * Returns 0, -ESRCH with *gone set when the thread died, or -errno (logged).
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
			r = wait_tid(t->tid, &status, 0);
		}
		if (r < 0) {
			if (errno == ECHILD) {
				*gone = true;
				t->seized = false;
				return -ESRCH;
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
	t->in_syscall = rsys_restarts(t->syscall_nr, t->syscall_ret);
	return 0;
}

/* 0 when seized and stopped, or when a non-leader thread vanished on the way. */
static int seize_thread(struct seized_task *st, pid_t tid)
{
	long opts = PTRACE_O_TRACESYSGOOD;
	struct seized_thread *t;
	bool gone;
	int ret;

	t = add_thread(st, tid);
	if (!t) {
		pr_err("pid %d: out of memory for thread %d\n", st->pid, tid);
		return -ENOMEM;
	}
	ret = read_state(st->pid, tid, &t->state);
	if (ret == -ENOENT && tid != st->pid)
		goto vanished;
	if (ret) {
		errno = -ret;
		pr_perror("pid %d: can't read the state of thread %d", st->pid, tid);
		goto drop;
	}
	if (t->state == 'Z' || t->state == 'X') {
		if (tid != st->pid)
			goto vanished; /* an exiting thread: nothing left to freeze */
		pr_err("pid %d is a zombie (state %c): it has exited and cannot be seized\n",
		       st->pid, t->state);
		ret = -ESRCH;
		goto drop;
	}
	if (st->flags & SEIZE_EXITKILL)
		opts |= PTRACE_O_EXITKILL;
	if (ptrace(PTRACE_SEIZE, tid, 0, opts)) {
		ret = -errno;
		if (ret == -ESRCH && tid != st->pid)
			goto vanished;
		pr_perror("pid %d: PTRACE_SEIZE of thread %d (state %c) failed%s", st->pid, tid,
			  t->state, ret == -EPERM ? " (already traced?)" : "");
		goto drop;
	}
	t->seized = true;
	ret = hold_stop(st->pid, t, &gone);
	if (gone && tid != st->pid)
		goto vanished;
	if (gone) {
		pr_err("pid %d exited while being seized (status %#x)\n", st->pid, t->stop_status);
		goto drop;
	}
	if (ret)
		return ret; /* still seized: seize_release() lets it go */
	pr_debug("pid %d: thread %d stopped (was %c, status %#x%s)\n", st->pid, tid, t->state,
		 t->stop_status, t->group_stop ? ", group-stop" : "");
	return read_stop_regs(st->pid, t);
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

		if (*end || tid <= 0 || seize_find(st, (pid_t)tid))
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
	if (flags & ~(unsigned int)SEIZE_EXITKILL) {
		pr_err("pid %d: unknown seize flags %#x\n", pid, flags);
		return -EINVAL;
	}
	if (pid <= 0) {
		pr_err("invalid pid %d\n", pid);
		return -EINVAL;
	}
	ret = read_state(pid, pid, &st->state);
	if (ret) {
		if (ret == -ENOENT)
			pr_err("pid %d: no such process\n", pid);
		else {
			errno = -ret;
			pr_perror("pid %d: can't read its state", pid);
		}
		return ret == -ENOENT ? -ESRCH : ret;
	}
	if (st->state == 'Z' || st->state == 'X') {
		pr_err("pid %d is a zombie (state %c): it has exited and cannot be seized\n", pid,
		       st->state);
		return -ESRCH;
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
	if (!seize_find(st, pid)) {
		pr_err("pid %d: its main thread could not be seized\n", pid);
		ret = -ESRCH;
		goto fail;
	}
	for (size_t i = 0; i < st->nr; i++)
		st->group_stopped |= st->thr[i].group_stop;
	pr_info("pid %d: seized %zu thread(s)%s\n", pid, st->nr,
		st->group_stopped ? ", group-stopped" : "");
	return 0;
fail:
	seize_release(st, RELEASE_RESUME);
	return ret;
}

static int release_kill(struct seized_task *st)
{
	int ret = 0, status;

	if (kill(st->pid, SIGKILL) && errno != ESRCH) {
		pr_perror("pid %d: can't kill it", st->pid);
		ret = -errno;
	}
	/* The leader's exit is reported only after all other threads are reaped. */
	for (int leader = 0; leader < 2; leader++) {
		for (size_t i = 0; i < st->nr; i++) {
			struct seized_thread *t = &st->thr[i];

			if (!t->seized || (t->tid == st->pid) != leader)
				continue;
			for (;;) {
				pid_t r = wait_tid(t->tid, &status, 0);

				if (r < 0 && errno != ECHILD) {
					pr_perror("pid %d: waitpid(%d) failed", st->pid, t->tid);
					ret = ret ?: -errno;
				}
				if (r < 0 || WIFEXITED(status) || WIFSIGNALED(status))
					break;
			}
			t->seized = t->stopped = false;
		}
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

int seize_release(struct seized_task *st, enum seize_release_mode mode)
{
	int ret;

	if (!st->thr)
		return 0;
	ret = mode == RELEASE_KILL ? release_kill(st) : release_resume(st);
	pr_info("pid %d: %s\n", st->pid, mode == RELEASE_KILL ? "killed" : "released");
	free(st->thr);
	st->thr = NULL;
	st->nr = st->cap = 0;
	return ret;
}
