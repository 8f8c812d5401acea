/* thread_leader_exit00: a process whose main thread (the thread-group
 * leader) has exited with pthread_exit() while its other threads run
 * survives checkpoint/restore: the leader is still a zombie thread
 * (/proc/self/task/PID shows State Z), the process keeps its pid, the other
 * threads their TIDs and their state: a thread spinning on a counter (it
 * must still advance), a thread waiting in FUTEX_WAIT (woken after SIGTERM,
 * it must see the value stored), and the controlling thread, which does
 * what a test's main thread does (test_daemon(), test_waitsig(), checks,
 * verdict, exit). /proc/self/task must list exactly those four. No wait has a
 * limit of its own (a loaded machine may not run a thread for a long while):
 * a thread that never gets ready, or a spinner that never moves again after
 * the restore, is caught by the runner's time limit. */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

#define FUTEX_VAL 0x1eade7

struct state {
	pid_t pid; /* the process (and its exited leader) */
	volatile pid_t spin_tid, wait_tid;
	volatile uint64_t counter; /* the spinning thread's */
	volatile int stop;
	volatile uint32_t futex_word;
	char spin_why[256], wait_why[256];
	pthread_t spin, wait;
};

static struct state st;

static void *spin_main(void *arg)
{
	(void)arg;
	st.spin_tid = gettid();
	while (!st.stop)
		st.counter++;
	if (gettid() != st.spin_tid)
		snprintf(st.spin_why, sizeof(st.spin_why), "gettid() is %d, was %d", gettid(),
			 st.spin_tid);
	return NULL;
}

static void *wait_main(void *arg)
{
	(void)arg;
	st.wait_tid = gettid();
	while (st.futex_word != FUTEX_VAL) {
		long r = syscall(SYS_futex, &st.futex_word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);

		if (r && errno != EAGAIN && errno != EINTR) {
			snprintf(st.wait_why, sizeof(st.wait_why), "futex(FUTEX_WAIT): %s",
				 strerror(errno));
			return NULL;
		}
	}
	if (gettid() != st.wait_tid)
		snprintf(st.wait_why, sizeof(st.wait_why), "gettid() is %d, was %d", gettid(),
			 st.wait_tid);
	return NULL;
}

/* The leader's State in /proc/self/task/PID/stat; '?' if unreadable. */
static char leader_state(void)
{
	struct test_stat s = { .state = '?' };
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", st.pid);
	if (test_read_stat(path, &s))
		return '?';
	return s.state;
}

/* Setup: the leader is a zombie, the spinner spins, the waiter waits. */
static int wait_ready(void)
{
	char dir[64];

	while (leader_state() != 'Z' || !st.counter || !st.wait_tid)
		usleep(1000);
	snprintf(dir, sizeof(dir), "/proc/self/task/%d", st.wait_tid);
	if (test_wait_syscall(dir, SYS_futex, -1)) {
		fail_errno("setup: the waiting thread (tid %d) is not in futex()", st.wait_tid);
		return -1;
	}
	return 0;
}

static int check(pid_t ctl)
{
	uint64_t c1;
	char ls = leader_state();

	if (getpid() != st.pid || gettid() != ctl) {
		fail("controlling thread: getpid() %d, gettid() %d; expected %d, %d", getpid(),
		     gettid(), st.pid, ctl);
		return -1;
	}
	if (ls != 'Z') {
		fail("the exited leader (tid %d) shows State %c, expected Z", st.pid, ls);
		return -1;
	}
	if (test_threads_are((pid_t[]){ st.pid, ctl, st.spin_tid, st.wait_tid }, 4))
		return -1; /* the exited leader is still listed */
	c1 = st.counter;
	while (st.counter == c1)
		usleep(10000); /* a busy machine may not run the spinner for a long while */
	return 0;
}

static void *ctl_main(void *arg)
{
	pid_t ctl = gettid();
	int ret;

	(void)arg;
	if (wait_ready() || test_daemon())
		exit(1);
	test_waitsig();
	ret = check(ctl);
	st.futex_word = FUTEX_VAL;
	syscall(SYS_futex, &st.futex_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	st.stop = 1;
	pthread_join(st.spin, NULL);
	pthread_join(st.wait, NULL);
	if (st.spin_why[0])
		fail("spinning thread: %s", st.spin_why);
	if (st.wait_why[0])
		fail("waiting thread: %s", st.wait_why);
	if (ret || st.spin_why[0] || st.wait_why[0])
		exit(1);
	pass();
	exit(0);
}

int main(int argc, char **argv)
{
	pthread_t ctl;

	if (test_init(argc, argv))
		return 1;
	st.pid = getpid();
	errno = pthread_create(&st.spin, NULL, spin_main, NULL);
	if (!errno)
		errno = pthread_create(&st.wait, NULL, wait_main, NULL);
	if (!errno)
		errno = pthread_create(&ctl, NULL, ctl_main, NULL);
	if (errno) {
		fail_errno("setup: pthread_create");
		return 1;
	}
	pthread_exit(NULL); /* the leader goes; the process lives on in ctl_main() */
}
