/* vfork00: a tree with a task waiting in vfork() for a child that has not
 * exec'd yet. The root forks P; P makes C with CLONE_VM | CLONE_VFORK (what
 * vfork() does), giving C a stack of its own so that nothing it does
 * touches P's frames: the legal form of "a vfork child that blocks before
 * exec" (posix_spawn does the same). C waits in FUTEX_WAIT on a word of a
 * MAP_SHARED page the root can reach; P sits in the kernel until C execs.
 * The checkpoint must refuse this tree clearly and leave it running
 * (tests.desc: expect=dumpfail dumpmsg=vfork), or restore it as it was.
 * After SIGTERM the root checks the state is unchanged (P in its vfork wait,
 * State D; C in futex(), its parent P), then wakes C, which execs this
 * program with --vfork-child: that exits VFORK_EXIT, P returns from clone(),
 * reaps C and exits 0 if C's pid and status are right; the root reaps P.
 * Setup waits, without a limit of its own, until C exists, P is in its vfork
 * wait and C in futex(): a loaded machine may take long to run them there
 * (the runner's time limit catches a task that never gets there). After
 * SIGTERM P must be in State D at once (nothing but C's exec or a fatal
 * signal ends that wait), and C back in futex() as soon as it runs again (a
 * failed dump interrupts and restarts its wait). */
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define VFORK_EXIT 42
#define STACK_SIZE (64 * 1024)
#define GO	   0x60

struct shared {
	uint32_t go; /* C waits until it is GO */
	int32_t c_pid, c_status;
};

static struct shared *sh; /* MAP_SHARED: root, P and C */
static char *exec_argv[] = { "/proc/self/exe", "--vfork-child", NULL };

/* C: on its own stack, in P's address space. Only syscalls, then exec. */
static int child_main(void *arg)
{
	(void)arg;
	while (__atomic_load_n(&sh->go, __ATOMIC_ACQUIRE) != GO)
		syscall(SYS_futex, &sh->go, FUTEX_WAIT, 0, NULL, NULL, 0);
	execv(exec_argv[0], exec_argv);
	_exit(127);
}

/* P: vfork C and report how it went through its exit status. */
static void parent_main(void)
{
	char *stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	int status;
	pid_t c;

	if (stack == MAP_FAILED)
		_exit(10);
	c = clone(child_main, stack + STACK_SIZE, CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
	if (c < 0)
		_exit(11);
	/* here only once C has exec'd */
	if (waitpid(c, &status, 0) != c)
		_exit(12);
	sh->c_pid = c;
	sh->c_status = status;
	_exit(0);
}

/* The vfork child's pid, from P's children file; 0 if not there yet. */
static pid_t find_child(pid_t p)
{
	char path[64], *buf;
	size_t len;
	pid_t c = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", p, p);
	buf = test_read_file(path, &len);
	if (buf)
		c = atoi(buf);
	free(buf);
	return c;
}

/* P waits in vfork (State D), C in futex() with parent P. 0 or -1 after fail(). With
 * wait_d, wait until P shows State D (it gets into that wait after clone() made C). */
static int check_state(const char *when, pid_t p, pid_t c, bool wait_d)
{
	const struct timespec nap = { 0, 1000 * 1000 };
	struct test_stat ps, cs;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/stat", p);
	for (;;) {
		if (test_read_stat(path, &ps)) {
			fail_errno("%s: vfork parent %d: can't read %s", when, p, path);
			return -1;
		}
		if (!wait_d || ps.state == 'D' || ps.state == 'Z')
			break; /* a zombie P fails below */
		nanosleep(&nap, NULL);
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", c);
	if (test_read_stat(path, &cs)) {
		fail_errno("%s: vfork child %d: can't read %s", when, c, path);
		return -1;
	}
	if (ps.state != 'D' || cs.ppid != p || ps.ppid != getpid()) {
		fail("%s: vfork parent %d State %c (parent %d), child %d parent %d; expected D "
		     "(%d), %d",
		     when, p, ps.state, ps.ppid, c, cs.ppid, getpid(), p);
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%d", c);
	if (test_wait_syscall(path, SYS_futex, -1)) {
		fail_errno("%s: vfork child %d is not in futex()", when, c);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int status;
	pid_t p, c;

	if (argc == 2 && !strcmp(argv[1], "--vfork-child"))
		return VFORK_EXIT;
	if (test_init(argc, argv))
		return 1;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		fail_errno("setup: mmap");
		return 1;
	}
	p = fork();
	if (p < 0) {
		fail_errno("setup: fork");
		return 1;
	}
	if (p == 0)
		parent_main();
	while (!(c = find_child(p))) {
		if (waitpid(p, &status, WNOHANG) == p) {
			fail("setup: vfork parent %d ended (wait status %#x, 10-12: mmap, clone, "
			     "waitpid failed) before its child appeared",
			     p, status);
			return 1;
		}
		usleep(1000);
	}
	if (check_state("setup", p, c, true) || test_daemon())
		return 1;
	test_waitsig();

	if (check_state("after SIGTERM", p, c, false))
		return 1;
	__atomic_store_n(&sh->go, GO, __ATOMIC_RELEASE);
	syscall(SYS_futex, &sh->go, FUTEX_WAKE, 1, NULL, NULL, 0);
	if (waitpid(p, &status, 0) != p) {
		fail_errno("waitpid of the vfork parent %d", p);
		return 1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("vfork parent %d ended with wait status %#x, expected exit 0 (10-12: mmap, "
		     "clone, waitpid failed)",
		     p, status);
		return 1;
	}
	if (sh->c_pid != c || !WIFEXITED(sh->c_status) || WEXITSTATUS(sh->c_status) != VFORK_EXIT) {
		fail("vfork child: pid %d, wait status %#x; expected %d, exit %d (its exec)",
		     sh->c_pid, sh->c_status, c, VFORK_EXIT);
		return 1;
	}
	pass();
	return 0;
}
