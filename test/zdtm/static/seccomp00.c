/* seccomp00: seccomp filters and strict mode survive checkpoint/restore, per thread, with their
 * flags and their sharing. Filters are built with libseccomp, as programs do (no_new_privs off
 * unless said: root may install filters without it).
 *
 *   task         filters (oldest first)                      checked after the restore
 *   main         F1 getpriority->EDOM, F4 times->ENOLINK (LOG)  both act, getpgid doesn't;
 *                                                            programs and flags read back with
 *                                                            PTRACE_SECCOMP_GET_FILTER/_METADATA
 *                                                            by a helper: same as before
 *   thread 1     F1 (inherited)                              F1 acts, F4 doesn't; 1 filter
 *   thread 2     F1, F3 getpgid->EXDEV (its own)             F1, F3 act; F4 doesn't; 2 filters
 *   child C      F1, F2 sysinfo->ENOTBLK (LOG), no_new_privs  F1, F2 act in both threads; then
 *   + thread CT  (CT born after F2: shared)                  C installs F5 getsid->ESRMNT with
 *                                                            TSYNC, which works only if CT still
 *                                                            shares C's filters; CT then has it
 *   child S      strict mode                                 echoes bytes over pipes (read and
 *                                                            write pass), then dies of SIGKILL
 *                                                            on getpid(), as strict mode wants
 *
 * The helper that reads main's filters back is forked before any filter exists: a tracer under
 * seccomp may not read filters.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define F_GETPRIORITY 1
#define F_SYSINFO     2
#define F_GETPGID     4
#define F_TIMES	      8
#define F_GETSID      16

struct readback {
	long count;
	uint64_t hash, logflags; /* FNV-1a of every program; bit i: filter i (0: oldest) has LOG */
};

struct thr {
	const char *name;
	int own;    /* F3 for thread 2 */
	int expect; /* the F_* that must act */
	int nfilters;
	int go[2], done[2];
	char why[256];
};

static int load(uint32_t nr, int err, bool log, bool nnp, bool tsync)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int ret;

	if (!ctx)
		return -ENOMEM;
	ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(err), (int)nr, 0);
	if (!ret)
		ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, nnp);
	if (!ret && log)
		ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
	if (!ret && tsync)
		ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (!ret)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	return ret;
}

/* Which of the filtered syscalls fail with their filter's errno in this thread; a filtered
 * syscall that fails otherwise, or an unfiltered one that fails, sets bit 31. */
static int acting(void)
{
	static const struct {
		int flag, err;
		long nr;
	} s[] = {
		{ F_GETPRIORITY, EDOM, SYS_getpriority }, { F_SYSINFO, ENOTBLK, SYS_sysinfo },
		{ F_GETPGID, EXDEV, SYS_getpgid },	  { F_TIMES, ENOLINK, SYS_times },
		{ F_GETSID, ESRMNT, SYS_getsid },
	};
	struct sysinfo si;
	struct tms tm;
	int m = 0;

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		long r;

		errno = 0;
		if (s[i].nr == SYS_sysinfo)
			r = syscall(SYS_sysinfo, &si);
		else if (s[i].nr == SYS_times)
			r = syscall(SYS_times, &tm);
		else if (s[i].nr == SYS_getpriority)
			r = syscall(SYS_getpriority, PRIO_PROCESS, 0);
		else
			r = syscall(s[i].nr, 0);
		if (r == -1 && errno == s[i].err)
			m |= s[i].flag;
		else if (r == -1)
			m |= 1 << 31;
	}
	return m;
}

/* "Seccomp:" and "Seccomp_filters:" of this thread. */
static int status_of(int *mode, int *filters)
{
	char path[64], *s, *p;
	size_t len;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/status", (long)syscall(SYS_gettid));
	s = test_read_file(path, &len);
	if (!s)
		return -1;
	p = strstr(s, "\nSeccomp:");
	*mode = p ? atoi(p + 9) : -1;
	p = strstr(s, "\nSeccomp_filters:");
	*filters = p ? atoi(p + 17) : -1;
	free(s);
	return 0;
}

static void check_self(const char *who, int expect, int mode, int nfilters, char *why, size_t len)
{
	int m = acting(), md, nf;

	why[0] = 0;
	if (status_of(&md, &nf))
		snprintf(why, len, "%s: can't read its status", who);
	else if (m != expect || md != mode || nf != nfilters)
		snprintf(why, len,
			 "%s: filters acting %#x (want %#x), seccomp mode %d (want %d), %d "
			 "filter(s) (want %d)",
			 who, m, expect, md, mode, nf, nfilters);
}

static void *thread_main(void *arg)
{
	struct thr *t = arg;
	char c;

	if (t->own && load(SYS_getpgid, EXDEV, false, false, false))
		snprintf(t->why, sizeof(t->why), "%s: can't load its filter", t->name);
	if (write(t->done[1], "r", 1) != 1)
		return NULL;
	while (read(t->go[0], &c, 1) == 1) {
		check_self(t->name, t->expect, 2, t->nfilters, t->why, sizeof(t->why));
		if (write(t->done[1], "d", 1) != 1)
			return NULL;
	}
	return NULL;
}

/* The helper: for each tid it is sent, a readback of that thread's filters. */
static void helper_main(int req, int rep)
{
	pid_t tid;

	while (read(req, &tid, sizeof(tid)) == sizeof(tid) && tid) {
		struct readback rb = { .count = -1, .hash = 1469598103934665603ULL };
		int st;

		if (!ptrace(PTRACE_SEIZE, tid, 0, 0) && !ptrace(PTRACE_INTERRUPT, tid, 0, 0) &&
		    waitpid(tid, &st, __WALL) == tid) {
			for (long i = 0; i < 64; i++) {
				struct sock_filter buf[512];
				struct __ptrace_seccomp_metadata md = { .filter_off = (uint64_t)i };
				long n = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, i, NULL);

				if (n <= 0 || n > 512) {
					rb.count = n == -1 && errno == ENOENT ? i : -2;
					break;
				}
				if (ptrace(PTRACE_SECCOMP_GET_FILTER, tid, i, buf) != n ||
				    ptrace(PTRACE_SECCOMP_GET_METADATA, tid, sizeof(md), &md) < 0) {
					rb.count = -3;
					break;
				}
				for (size_t b = 0; b < (size_t)n * sizeof(buf[0]); b++)
					rb.hash =
					    (rb.hash ^ ((uint8_t *)buf)[b]) * 1099511628211ULL;
				if (md.flags & SECCOMP_FILTER_FLAG_LOG)
					rb.logflags |= 1ULL << i;
			}
			ptrace(PTRACE_DETACH, tid, 0, 0);
		}
		if (write(rep, &rb, sizeof(rb)) != sizeof(rb))
			break;
	}
	_exit(0);
}

static int readback(int req, int rep, pid_t tid, struct readback *rb)
{
	return write(req, &tid, sizeof(tid)) == sizeof(tid) &&
		       read(rep, rb, sizeof(*rb)) == sizeof(*rb) && rb->count >= 0
		   ? 0
		   : -1;
}

/* Child S: strict mode, then echo: 'q' makes it call getpid(), which strict mode kills. */
static void strict_main(int in, int out)
{
	char c;

	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT))
		syscall(SYS_exit, 3);
	if (write(out, "s", 1) != 1)
		syscall(SYS_exit, 4);
	while (read(in, &c, 1) == 1) {
		if (c == 'q')
			syscall(SYS_getpid);
		c++;
		if (write(out, &c, 1) != 1)
			syscall(SYS_exit, 5);
	}
	syscall(SYS_exit, 6);
}

static void *ct_main(void *arg)
{
	int *p = arg; /* go, done */
	char c, why[200];

	while (read(p[0], &c, 1) == 1) {
		check_self("C's thread", F_GETPRIORITY | F_SYSINFO | (c == 't' ? F_GETSID : 0), 2,
			   c == 't' ? 3 : 2, why, sizeof(why));
		if (write(p[1], why, sizeof(why)) != sizeof(why))
			break;
	}
	return NULL;
}

/* Child C: F2 with no_new_privs, a thread that shares it; after the restore (its go pipe
 * speaks), both threads check, then F5 with TSYNC, and the thread checks again. */
static void c_main(int go, int res)
{
	int p1[2], p2[2], q[2];
	char c, why[200] = "", ctwhy[200];
	pthread_t th;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || load(SYS_sysinfo, ENOTBLK, true, true, false))
		snprintf(why, sizeof(why), "C: can't load F2");
	if (pipe(p1) || pipe(p2))
		_exit(2);
	q[0] = p1[0];
	q[1] = p2[1];
	if (pthread_create(&th, NULL, ct_main, q))
		_exit(2);
	if (write(res, "r", 1) != 1 || read(go, &c, 1) != 1)
		_exit(2);
	if (!why[0])
		check_self("C", F_GETPRIORITY | F_SYSINFO, 2, 2, why, sizeof(why));
	if (!why[0] && (write(p1[1], "c", 1) != 1 || read(p2[0], ctwhy, sizeof(ctwhy)) <= 0))
		snprintf(why, sizeof(why), "C: its thread did not answer");
	if (!why[0] && ctwhy[0])
		snprintf(why, sizeof(why), "%s", ctwhy);
	if (!why[0] && load(SYS_getsid, ESRMNT, false, true, true))
		snprintf(why, sizeof(why),
			 "C: F5 with TSYNC failed: its thread no longer shares its filters");
	if (!why[0] && (write(p1[1], "t", 1) != 1 || read(p2[0], ctwhy, sizeof(ctwhy)) <= 0))
		snprintf(why, sizeof(why), "C: its thread did not answer");
	if (!why[0] && ctwhy[0])
		snprintf(why, sizeof(why), "after TSYNC: %.180s", ctwhy);
	if (write(res, why, sizeof(why)) != sizeof(why))
		_exit(2);
	_exit(0);
}

static struct thr thr[2] = {
	{ .name = "thread 1", .expect = F_GETPRIORITY, .nfilters = 1 },
	{ .name = "thread 2", .own = 1, .expect = F_GETPRIORITY | F_GETPGID, .nfilters = 2 },
};

int main(int argc, char **argv)
{
	int hreq[2], hrep[2], sin[2], sout[2], cgo[2], cres[2], st;
	pid_t helper, cpid, spid, zero = 0;
	struct readback before, after;
	char c, why[256], cwhy[200];

	if (test_init(argc, argv))
		return 1;
	if (pipe(hreq) || pipe(hrep) || pipe(sin) || pipe(sout) || pipe(cgo) || pipe(cres))
		fail_errno("setup: pipe");
	helper = fork();
	if (helper == 0)
		helper_main(hreq[0], hrep[1]);
	spid = fork();
	if (spid == 0)
		strict_main(sin[0], sout[1]);
	if (helper < 0 || spid < 0 || read(sout[0], &c, 1) != 1 || c != 's')
		fail("setup: the helper or the strict child did not start");
	if (load(SYS_getpriority, EDOM, false, false, false))
		fail("setup: can't load F1");
	for (int i = 0; i < 2; i++) {
		pthread_t th;

		if (pipe(thr[i].go) || pipe(thr[i].done) ||
		    pthread_create(&th, NULL, thread_main, &thr[i]) ||
		    read(thr[i].done[0], &c, 1) != 1)
			fail("setup: %s did not start", thr[i].name);
		if (thr[i].why[0])
			fail("setup: %s", thr[i].why);
	}
	cpid = fork();
	if (cpid == 0)
		c_main(cgo[0], cres[1]);
	if (cpid < 0 || read(cres[0], &c, 1) != 1)
		fail("setup: child C did not start");
	if (load(SYS_times, ENOLINK, true, false, false))
		fail("setup: can't load F4");
	for (int i = 0; i < 2; i++) /* each thread checks itself once before the dump */
		if (write(thr[i].go[1], "p", 1) != 1 || read(thr[i].done[0], &c, 1) != 1 ||
		    thr[i].why[0])
			fail("setup: %s", thr[i].why[0] ? thr[i].why : "a thread did not check");
	check_self("main", F_GETPRIORITY | F_TIMES, 2, 2, why, sizeof(why));
	if (why[0])
		fail("setup: %s", why);
	if (readback(hreq[1], hrep[0], getpid(), &before) || before.count != 2 ||
	    before.logflags != 2) /* index 0 is the oldest filter: F1, then F4 */
		fail("setup: main's filters read back as %ld, LOG bits %#llx", before.count,
		     (unsigned long long)before.logflags);

	if (test_daemon())
		return 1;
	test_waitsig();

	check_self("main", F_GETPRIORITY | F_TIMES, 2, 2, why, sizeof(why));
	if (why[0])
		fail("%s", why);
	for (int i = 0; i < 2; i++) {
		thr[i].why[0] = 0;
		if (write(thr[i].go[1], "c", 1) != 1 || read(thr[i].done[0], &c, 1) != 1)
			fail("%s did not check", thr[i].name);
		else if (thr[i].why[0])
			fail("%s", thr[i].why);
	}
	if (readback(hreq[1], hrep[0], getpid(), &after))
		fail("main's filters can't be read back after the restore (%ld)", after.count);
	else if (after.count != before.count || after.hash != before.hash ||
		 after.logflags != before.logflags)
		fail(
		    "main's filters read back as %ld (hash %#llx, LOG bits %#llx), before the dump "
		    "%ld (%#llx, %#llx)",
		    after.count, (unsigned long long)after.hash, (unsigned long long)after.logflags,
		    before.count, (unsigned long long)before.hash,
		    (unsigned long long)before.logflags);
	if (write(hreq[1], &zero, sizeof(zero)) != sizeof(zero) ||
	    waitpid(helper, &st, 0) != helper)
		fail("the helper did not end");

	if (write(cgo[1], "g", 1) != 1 || read(cres[0], cwhy, sizeof(cwhy)) != sizeof(cwhy))
		fail("child C did not report");
	else if (cwhy[0])
		fail("%s", cwhy);
	if (waitpid(cpid, &st, 0) != cpid || !WIFEXITED(st) || WEXITSTATUS(st))
		fail("child C ended with status %#x", st);

	c = 'a';
	if (write(sin[1], &c, 1) != 1 || read(sout[0], &c, 1) != 1 || c != 'b')
		fail("the strict child did not echo");
	c = 'q';
	if (write(sin[1], &c, 1) != 1 || waitpid(spid, &st, 0) != spid || !WIFSIGNALED(st) ||
	    WTERMSIG(st) != SIGKILL)
		fail("the strict child ended with status %#x, not killed by strict mode", st);
	pass();
	return 0;
}
