/* test_timers: the pieces of timer and lock C/R that can be checked without a dump.
 *
 * - parse_timers: /proc/PID/timers text as 6.18 prints it (SIGEV_SIGNAL, SIGEV_THREAD_ID,
 *   SIGEV_NONE, a CPU clock) comes out ids ascending with every field; malformed texts (a
 *   missing line, an unknown notification, a repeated id, a truncated file) are refused.
 * - parse_live: this process's own timers, read from /proc/self/timers, match what it created.
 * - parse_locks: fdinfo "lock:" lines of each kind (FLOCK, POSIX to EOF, OFDLCK, a LEASE as
 *   "other"); malformed lines refused.
 * - ids_in_sequence / ids_by_prctl: timers_create_ids() in a fresh child process, with ops that
 *   call timer_create/timer_delete there: without the prctl, ids with holes come out exact
 *   (fillers are deleted again), an id the counter has passed is refused with -EEXIST; with
 *   PR_TIMER_CREATE_RESTORE_IDS (skipped where the kernel lacks it) every id is taken as asked.
 * - check: restore_timers_check() refuses each kind of bad timer record.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "criu-lite/log.h"
#include "criu-lite/proc/proc-locks.h"
#include "criu-lite/proc/proc-timers.h"
#include "criu-lite/restore/restore.h"
#include "criu-lite/kinds/timers.h"

static const char timers_text[] = "ID: 4\n"
				  "signal: 14/0000000000000000\n"
				  "notify: signal/pid.1975\n"
				  "ClockID: -15806\n"
				  "ID: 2\n"
				  "signal: 36/00000000fffffff9\n"
				  "notify: none/pid.1975\n"
				  "ClockID: -6\n"
				  "ID: 1\n"
				  "signal: 36/00000000fffffff9\n"
				  "notify: signal/tid.1976\n"
				  "ClockID: 0\n"
				  "ID: 0\n"
				  "signal: 10/deadbeef12345678\n"
				  "notify: signal/pid.1975\n"
				  "ClockID: 1\n";

static void test_parse_timers(void **state)
{
	struct proc_timer_list l;
	static const char *const bad[] = {
		"ID: 1\nsignal: 10/0\nnotify: signal/pid.5\n",		   /* no ClockID */
		"ID: 1\nsignal: 10/0\nnotify: thread/pid.5\nClockID: 0\n", /* unknown kind */
		"ID: 1\nsignal: 10/0\nnotify: none/tid.5\nClockID: 0\n",   /* tid without signal */
		"ID: 1\nsignal: 10/0\nnotify: signal/pid.5\nClockID: 0\n"
		"ID: 1\nsignal: 10/0\nnotify: signal/pid.5\nClockID: 0\n",   /* repeated id */
		"ID: 1\nsignal: 10/0\nnotify: signal/pid.5\nClockID: 0",     /* truncated */
		"ID: -1\nsignal: 10/0\nnotify: signal/pid.5\nClockID: 0\n",  /* negative id */
		"ID: 1\nsignal: 10/xyz\nnotify: signal/pid.5\nClockID: 0\n", /* bad sival */
	};

	(void)state;
	assert_int_equal(proc_parse_timers_buf("timers", timers_text, strlen(timers_text), &l), 0);
	assert_int_equal(l.n, 4);
	assert_int_equal(l.v[0].id, 0);
	assert_int_equal(l.v[0].signo, SIGUSR1);
	assert_true(l.v[0].sival == 0xdeadbeef12345678ull);
	assert_int_equal(l.v[0].notify, SIGEV_SIGNAL);
	assert_int_equal(l.v[0].clock, CLOCK_MONOTONIC);
	assert_int_equal(l.v[1].id, 1);
	assert_int_equal(l.v[1].notify, SIGEV_SIGNAL | SIGEV_THREAD_ID);
	assert_int_equal(l.v[1].target, 1976);
	assert_true(l.v[1].sival == 0xfffffff9);
	assert_int_equal(l.v[2].id, 2);
	assert_int_equal(l.v[2].notify, SIGEV_NONE);
	assert_int_equal(l.v[2].clock, -6);
	assert_int_equal(l.v[3].id, 4);
	assert_int_equal(l.v[3].clock, -15806);
	assert_int_equal(l.v[3].target, 1975);
	proc_timer_list_free(&l);
	assert_int_equal(proc_parse_timers_buf("empty", "", 0, &l), 0);
	assert_int_equal(l.n, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(proc_parse_timers_buf("bad", bad[i], strlen(bad[i]), &l), -EINVAL);
		assert_int_equal(l.n, 0);
		assert_null(l.v);
	}
}

static void test_parse_live(void **state)
{
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN + 2 };
	struct proc_timer_list l;
	timer_t t;

	(void)state;
	sev.sigev_value.sival_ptr = (void *)0x1234abcd;
	assert_int_equal(timer_create(CLOCK_BOOTTIME, &sev, &t), 0);
	assert_int_equal(proc_parse_timers(getpid(), &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].id, (int)(intptr_t)t);
	assert_int_equal(l.v[0].signo, SIGRTMIN + 2);
	assert_true(l.v[0].sival == 0x1234abcd);
	assert_int_equal(l.v[0].clock, CLOCK_BOOTTIME);
	assert_int_equal(l.v[0].target, getpid());
	proc_timer_list_free(&l);
	assert_int_equal(timer_delete(t), 0);
}

static void test_parse_locks(void **state)
{
	struct proc_lock pl;
	static const char *const bad[] = {
		"1: POSIX  ADVISORY  MAYBE 5 fe:00:7 0 EOF",
		"1: POSIX  MANDATORY WRITE 5 fe:00:7 0 9",
		"1: POSIX  ADVISORY  WRITE 5 fe:00:7 9 3",
		"1: POSIX  ADVISORY  WRITE 5 fe:00 0 9",
		"1: POSIX  ADVISORY  WRITE 5 fe:00:7 0 9 x",
		"1: POSIX  ADVISORY  WRITE 5 fe:00:7 0",
		"POSIX  ADVISORY  WRITE 5 fe:00:7 0 9",
		"1: LEASE  ADVISORY  READ 5 fe:00:7 0 EOF",
	};

	(void)state;
	assert_int_equal(
	    proc_parse_lock_line("fd", "4: FLOCK  ADVISORY  READ 1975 fe:00:10954422 0 EOF", &pl),
	    0);
	assert_int_equal(pl.kind, PROC_LOCK_FLOCK);
	assert_false(pl.write);
	assert_int_equal(pl.pid, 1975);
	assert_true(pl.ino == 10954422);
	assert_int_equal(proc_parse_lock_line(
			     "fd", "2: POSIX  ADVISORY  WRITE 1975 fe:00:10954399 100 EOF", &pl),
			 0);
	assert_int_equal(pl.kind, PROC_LOCK_POSIX);
	assert_true(pl.write);
	assert_true(pl.start == 100 && pl.end == UINT64_MAX);
	assert_int_equal(
	    proc_parse_lock_line("fd", "1: OFDLCK ADVISORY  WRITE -1 fe:00:10954423 5 9", &pl), 0);
	assert_int_equal(pl.kind, PROC_LOCK_OFD);
	assert_int_equal(pl.pid, -1);
	assert_true(pl.start == 5 && pl.end == 9);
	assert_int_equal(
	    proc_parse_lock_line("fd", "1: LEASE  ACTIVE    READ 1975 fe:00:10954423 0 EOF", &pl),
	    0);
	assert_int_equal(pl.kind, PROC_LOCK_LEASE);
	assert_false(pl.write);
	assert_false(pl.lease_breaking);
	assert_int_equal(
	    proc_parse_lock_line("fd", "1: LEASE  BREAKING  UNLCK 1975 fe:00:10954423 0 EOF", &pl),
	    0);
	assert_int_equal(pl.kind, PROC_LOCK_LEASE);
	assert_true(pl.lease_breaking);
	assert_int_equal(
	    proc_parse_lock_line("fd", "1: DELEG  ACTIVE    READ 1975 fe:00:10954423 0 EOF", &pl),
	    0);
	assert_int_equal(pl.kind, PROC_LOCK_OTHER);
	assert_string_equal(pl.kind_name, "DELEG");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(proc_parse_lock_line("fd", bad[i], &pl), -EINVAL);
}

/* ---- timers_create_ids() in a child ----------------------------------------------------- */

static int local_create(void *arg, const PosixTimerEntry *e, int *id)
{
	struct sigevent sev;

	(void)arg;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = (int)e->notify;
	sev.sigev_signo = (int)e->signo;
	sev.sigev_value.sival_ptr = (void *)(uintptr_t)e->sival;
	if (syscall(SYS_timer_create, e->clock, &sev, id))
		return -errno;
	return 0;
}

static int local_remove(void *arg, int id)
{
	(void)arg;
	return syscall(SYS_timer_delete, id) ? -errno : 0;
}

/* The ids /proc/self/timers lists, ascending, as "0,3,4". */
static void live_ids(char *buf, size_t len)
{
	struct proc_timer_list l;
	size_t n = 0;

	buf[0] = '\0';
	if (proc_parse_timers(getpid(), &l))
		return;
	for (size_t i = 0; i < l.n && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%d", i ? "," : "", l.v[i].id);
	proc_timer_list_free(&l);
}

/* In a fresh child (its next timer id is 0): pre timers created first, then timers_create_ids()
 * for want[]; exit 0 when it returned expect and (if 0) the live ids are ids. */
static int run_child(const int *pre_n, const int *want, size_t n, bool by_id, int expect,
		     const char *ids)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		PosixTimerEntry e[8], *v[8];
		struct timer_ops ops = { local_create, local_remove, NULL, "child" };
		char got[128];
		int ret;

		for (int i = 0; i < *pre_n; i++) {
			timer_t t;

			if (timer_create(CLOCK_MONOTONIC, NULL, &t))
				_exit(10);
		}
		if (by_id && prctl(TIMERS_PR_RESTORE_IDS, TIMERS_PR_RESTORE_IDS_ON, 0, 0, 0))
			_exit(11);
		for (size_t i = 0; i < n; i++) {
			posix_timer_entry__init(&e[i]);
			e[i].id = want[i];
			e[i].clock = CLOCK_MONOTONIC;
			e[i].notify = SIGEV_SIGNAL;
			e[i].signo = SIGUSR1;
			e[i].sival = (uint64_t)want[i];
			v[i] = &e[i];
		}
		ret = timers_create_ids(&ops, v, n, by_id);
		if (ret != expect) {
			fprintf(stderr, "timers_create_ids: %d, expected %d\n", ret, expect);
			_exit(12);
		}
		if (ret)
			_exit(0);
		live_ids(got, sizeof(got));
		if (strcmp(got, ids)) {
			fprintf(stderr, "live ids %s, expected %s\n", got, ids);
			_exit(13);
		}
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

static void test_ids_in_sequence(void **state)
{
	const int none = 0, three = 3;
	const int holes[] = { 1, 3, 4, 10 }, passed[] = { 1 };

	(void)state;
	assert_int_equal(run_child(&none, holes, 4, false, 0, "1,3,4,10"), 0);
	/* ids 0..2 exist: 1 can't be had again */
	assert_int_equal(run_child(&three, passed, 1, false, -EEXIST, ""), 0);
}

static void test_ids_by_prctl(void **state)
{
	const int none = 0, two = 2;
	const int want[] = { 5, 7, 100000 }, taken[] = { 1 };

	(void)state;
	if (prctl(TIMERS_PR_RESTORE_IDS, TIMERS_PR_RESTORE_IDS_GET, 0, 0, 0) < 0) {
		skip();
		return;
	}
	assert_int_equal(run_child(&none, want, 3, true, 0, "5,7,100000"), 0);
	/* id 1 exists already: EBUSY from the kernel */
	assert_int_equal(run_child(&two, taken, 1, true, -EBUSY, ""), 0);
}

/* ---- restore_timers_check() ------------------------------------------------------------- */

struct check_fx {
	struct restore_ctx c;
	struct restore_task t;
	CoreEntry ce;
	ThreadCoreEntry th, *ths[1];
	PosixTimerEntry pt[2], *pts[2];
	ItimerEntry it[2], *its[2];
};

static void fx_init(struct check_fx *f)
{
	memset(f, 0, sizeof(*f));
	core_entry__init(&f->ce);
	thread_core_entry__init(&f->th);
	f->ce.pid = 100;
	f->th.tid = 100;
	f->ths[0] = &f->th;
	f->ce.threads = f->ths;
	f->ce.n_threads = 1;
	for (int i = 0; i < 2; i++) {
		posix_timer_entry__init(&f->pt[i]);
		f->pt[i].id = i * 3;
		f->pt[i].clock = CLOCK_MONOTONIC;
		f->pt[i].notify = SIGEV_SIGNAL;
		f->pt[i].signo = SIGALRM;
		f->pts[i] = &f->pt[i];
		itimer_entry__init(&f->it[i]);
		f->it[i].which = (uint32_t)i;
		f->it[i].value_us = 1000;
		f->its[i] = &f->it[i];
	}
	f->ce.posix_timers = f->pts;
	f->ce.n_posix_timers = 2;
	f->ce.itimers = f->its;
	f->ce.n_itimers = 2;
	f->t.vpid = 100;
	f->t.core = &f->ce;
	f->c.tasks = &f->t;
	f->c.nr_tasks = 1;
}

static void test_check(void **state)
{
	struct check_fx f;

	(void)state;
	fx_init(&f);
	assert_int_equal(restore_timers_check(&f.c), 0);
	/* a CPU clock of the task itself (pid 100), and of "self" (pid 0) */
	f.pt[0].clock = -(100 + 1) * 8 + 2; /* (~pid << 3) | CPUCLOCK_SCHED */
	f.pt[1].clock = -6;
	assert_int_equal(restore_timers_check(&f.c), 0);
	/* another process's CPU clock */
	f.pt[0].clock = -(101 + 1) * 8 + 2;
	assert_int_equal(restore_timers_check(&f.c), -ENOTSUP);
	fx_init(&f);
	f.pt[1].clock = 99;
	assert_int_equal(restore_timers_check(&f.c), -ENOTSUP);
	fx_init(&f);
	f.pt[1].id = 0; /* not ascending */
	assert_int_equal(restore_timers_check(&f.c), -EINVAL);
	fx_init(&f);
	f.pt[0].notify = SIGEV_THREAD;
	assert_int_equal(restore_timers_check(&f.c), -ENOTSUP);
	fx_init(&f);
	f.pt[0].notify = SIGEV_SIGNAL | SIGEV_THREAD_ID;
	f.pt[0].has_tid = true;
	f.pt[0].tid = 100;
	assert_int_equal(restore_timers_check(&f.c), 0);
	f.pt[0].tid = 101; /* not a thread of the task */
	assert_int_equal(restore_timers_check(&f.c), -EINVAL);
	fx_init(&f);
	f.pt[0].signo = 0;
	assert_int_equal(restore_timers_check(&f.c), -EINVAL);
	fx_init(&f);
	f.it[1].which = 0; /* repeated */
	assert_int_equal(restore_timers_check(&f.c), -EINVAL);
	fx_init(&f);
	f.it[1].which = 3;
	assert_int_equal(restore_timers_check(&f.c), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_timers), cmocka_unit_test(test_parse_live),
		cmocka_unit_test(test_parse_locks),  cmocka_unit_test(test_ids_in_sequence),
		cmocka_unit_test(test_ids_by_prctl), cmocka_unit_test(test_check),
	};

	log_init(NULL, getenv("TEST_TIMERS_DEBUG") ? LOG_DEBUG : LOG_MSG);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
