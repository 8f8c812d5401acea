/* prctl00: per-thread prctl state, I/O priorities and NUMA policies survive checkpoint/restore.
 * Each of three threads and a child process sets its own timer slack, TSC policy, machine-check
 * kill policy, I/O priority and NUMA policy (and, where the kernel lets a task choose them, a
 * speculation control and CPUID faulting), and each has a default timer slack that is not the
 * usual 50 us: the slack its creator had when it was cloned, which PR_SET_TIMERSLACK(0) goes back
 * to.
 *
 *   task      slack    default slack   TSC       MCE kill  I/O priority   NUMA        other
 *   main      123456   (the runner's)  enable    early     best-effort 2  preferred 0 no SSB
 *   thread 1  7777     123456          SIGSEGV   late      idle           default     CPUID faults
 *   thread 2  9999     300000          enable    default   best-effort 6  bind 0 (static)
 *   child     4444     123456          enable    early     best-effort 2  interleave 0
 *
 * (SSB speculation and CPUID faulting only where this machine offers them: left out otherwise,
 * with a message.)
 *
 * Every task reads its values back before the dump (the reference) and again after the restore,
 * itself (these are only visible to the thread concerned); the default slack is read by setting
 * the slack to 0 and back. The threads report through the root, the child by its exit status.
 * (Only thread 1 makes rdtsc fault: the vDSO's clock_gettime uses it, the others may need it.)
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define IOPRIO(cls, lvl)    (((cls) << 13) | (lvl))
#define MPOL_PREFERRED	    1
#define MPOL_BIND	    2
#define MPOL_INTERLEAVE	    3
#define MPOL_F_STATIC_NODES (1 << 15)
#define ARCH_GET_CPUID	    0x1011
#define ARCH_SET_CPUID	    0x1012
#define IOPRIO_WHO_PROC	    1
#define NTASKS		    3 /* main and two threads; the child checks itself */

struct vals {
	long slack, dflt, mce, ioprio, ssb, cpuid;
	unsigned long nodes;
	int tsc, mpol;
};

struct task {
	const char *name;
	long slack, mce_set; /* mce_set: PR_MCE_KILL_EARLY/LATE, or -1 for the default */
	int tsc, io_class, io_level;
	int mpol; /* MPOL_* | flags for node 0, -1: none */
	bool ssb, nocpuid;
	pid_t tid;
	struct vals before;
	int go[2];     /* the root asks it to check */
	char why[256]; /* its verdict: "" if all is well */
};

static struct task tasks[NTASKS] = {
	{ .name = "main",
	  .slack = 123456,
	  .mce_set = PR_MCE_KILL_EARLY,
	  .tsc = PR_TSC_ENABLE,
	  .io_class = 2,
	  .io_level = 2,
	  .mpol = MPOL_PREFERRED,
	  .ssb = true },
	{ .name = "thread 1",
	  .slack = 7777,
	  .mce_set = PR_MCE_KILL_LATE,
	  .tsc = PR_TSC_SIGSEGV,
	  .io_class = 3,
	  .mpol = -1,
	  .nocpuid = true },
	{ .name = "thread 2",
	  .slack = 9999,
	  .mce_set = -1,
	  .tsc = PR_TSC_ENABLE,
	  .io_class = 2,
	  .io_level = 6,
	  .mpol = MPOL_BIND | MPOL_F_STATIC_NODES },
};

static int done_pipe[2];

static long default_slack(long now)
{
	long d;

	prctl(PR_SET_TIMERSLACK, 0, 0, 0, 0);
	d = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	prctl(PR_SET_TIMERSLACK, now, 0, 0, 0);
	return d;
}

static void read_vals(struct vals *v)
{
	memset(v, 0, sizeof(*v)); /* compared with memcmp, padding included */
	v->slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	v->dflt = default_slack(v->slack);
	v->tsc = -1;
	prctl(PR_GET_TSC, &v->tsc, 0, 0, 0);
	v->mce = prctl(PR_MCE_KILL_GET, 0, 0, 0, 0);
	v->ioprio = syscall(SYS_ioprio_get, IOPRIO_WHO_PROC, 0);
	v->ssb = prctl(PR_GET_SPECULATION_CTRL, PR_SPEC_STORE_BYPASS, 0, 0, 0);
	v->cpuid = syscall(SYS_arch_prctl, ARCH_GET_CPUID, 0);
	if (syscall(SYS_get_mempolicy, &v->mpol, &v->nodes, 64, 0, 0))
		v->mpol = -1;
}

static void compare(const char *who, const struct vals *a, const struct vals *b, char *why,
		    size_t len)
{
	snprintf(
	    why, len,
	    "%s: slack %ld default %ld TSC %d MCE %ld ioprio %#lx SSB %#lx CPUID %ld NUMA %#x/%#lx; "
	    "before the dump slack %ld default %ld TSC %d MCE %ld ioprio %#lx SSB %#lx CPUID %ld "
	    "NUMA %#x/%#lx",
	    who, b->slack, b->dflt, b->tsc, b->mce, b->ioprio, b->ssb, b->cpuid, b->mpol, b->nodes,
	    a->slack, a->dflt, a->tsc, a->mce, a->ioprio, a->ssb, a->cpuid, a->mpol, a->nodes);
	if (!memcmp(a, b, sizeof(*a)))
		why[0] = 0;
}

static int apply(const struct task *t)
{
	if (prctl(PR_SET_TIMERSLACK, t->slack, 0, 0, 0) || prctl(PR_SET_TSC, t->tsc, 0, 0, 0))
		return -1;
	if (t->mce_set < 0 ? prctl(PR_MCE_KILL, PR_MCE_KILL_CLEAR, 0, 0, 0)
			   : prctl(PR_MCE_KILL, PR_MCE_KILL_SET, t->mce_set, 0, 0))
		return -1;
	if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROC, 0, IOPRIO(t->io_class, t->io_level)))
		return -1;
	if (t->mpol >= 0) {
		unsigned long node0 = 1;

		if (syscall(SYS_set_mempolicy, t->mpol, &node0, 64) && errno != ENOSYS)
			return -1;
	}
	if (t->nocpuid && syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0) && errno != ENODEV)
		return -1;
	if (t->ssb &&
	    (prctl(PR_GET_SPECULATION_CTRL, PR_SPEC_STORE_BYPASS, 0, 0, 0) & PR_SPEC_PRCTL))
		return prctl(PR_SET_SPECULATION_CTRL, PR_SPEC_STORE_BYPASS, PR_SPEC_DISABLE, 0, 0);
	return 0;
}

static void *thread_main(void *arg)
{
	struct task *t = arg;
	struct vals now;
	char c;

	t->tid = (pid_t)syscall(SYS_gettid);
	if (apply(t))
		snprintf(t->why, sizeof(t->why), "setup: %s: %s", t->name, strerror(errno));
	read_vals(&t->before);
	if (write(done_pipe[1], "r", 1) != 1)
		return NULL;
	while (read(t->go[0], &c, 1) != 1)
		;
	read_vals(&now);
	compare(t->name, &t->before, &now, t->why, sizeof(t->why));
	if (write(done_pipe[1], "d", 1) != 1)
		return NULL;
	for (;;)
		pause();
	return NULL;
}

/* The child (forked while the main thread's slack is 123456): the main thread's settings, its
 * own slack; exits 0 after SIGTERM if all is still as before the dump, else 1 with a message. */
static void child_main(int ready)
{
	struct task ct = { .name = "child",
			   .slack = 4444,
			   .mce_set = PR_MCE_KILL_EARLY,
			   .tsc = PR_TSC_ENABLE,
			   .io_class = 2,
			   .io_level = 2,
			   .mpol = MPOL_INTERLEAVE };
	struct vals before, now;
	char why[256];

	if (apply(&ct))
		_exit(2);
	read_vals(&before);
	if (write(ready, "r", 1) != 1)
		_exit(2);
	test_waitsig();
	read_vals(&now);
	compare("child", &before, &now, why, sizeof(why));
	if (why[0]) {
		fail("%s", why);
		_exit(1);
	}
	_exit(0);
}

static int wait_done(void)
{
	char c;

	while (read(done_pipe[0], &c, 1) != 1)
		if (errno != EINTR)
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	pthread_t th;
	pid_t child;
	int status, cp[2];
	char c;

	if (test_init(argc, argv))
		return 1;
	if (pipe(done_pipe) || pipe(cp)) {
		fail_errno("setup: pipe");
		return 1;
	}
	/* thread 1 and the child are born while the main thread's slack is 123456, thread 2
	 * while it is 300000 */
	if (prctl(PR_SET_TIMERSLACK, 123456, 0, 0, 0)) {
		fail_errno("setup: PR_SET_TIMERSLACK");
		return 1;
	}
	for (int i = 1; i < NTASKS; i++) {
		if (i == 2)
			prctl(PR_SET_TIMERSLACK, 300000, 0, 0, 0);
		if (pipe(tasks[i].go) || pthread_create(&th, NULL, thread_main, &tasks[i]) ||
		    wait_done()) {
			fail("setup: %s did not start", tasks[i].name);
			return 1;
		}
		if (tasks[i].why[0]) {
			fail("%s", tasks[i].why);
			return 1;
		}
	}
	prctl(PR_SET_TIMERSLACK, 123456, 0, 0, 0);
	child = fork();
	if (child == 0) {
		close(cp[0]);
		child_main(cp[1]);
	}
	close(cp[1]);
	if (child < 0 || read(cp[0], &c, 1) != 1) {
		fail("setup: the child did not start");
		return 1;
	}
	if (apply(&tasks[0])) {
		fail_errno("setup: main");
		return 1;
	}
	read_vals(&tasks[0].before);
	if (tasks[1].before.cpuid != 0)
		test_msg("CPUID faulting is not available here: left out\n");
	if (!(tasks[0].before.ssb & PR_SPEC_PRCTL))
		test_msg("speculative store bypass is not under prctl control here (%#lx): left "
			 "as it is\n",
			 tasks[0].before.ssb);
	if (test_daemon())
		return 1;
	test_waitsig();

	for (int i = 1; i < NTASKS; i++) {
		if (write(tasks[i].go[1], "g", 1) != 1 || wait_done()) {
			fail("%s did not check", tasks[i].name);
			continue;
		}
		if (tasks[i].why[0])
			fail("%s", tasks[i].why);
	}
	{
		struct vals now;

		read_vals(&now);
		compare("main", &tasks[0].before, &now, tasks[0].why, sizeof(tasks[0].why));
		if (tasks[0].why[0])
			fail("%s", tasks[0].why);
	}
	kill(child, SIGTERM);
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("the child ended with status %#x (its own FAIL line says why)", status);
	pass();
	return 0;
}
