/* membarrier00: membarrier registrations (per address space) survive checkpoint/restore: a
 * restored task that had registered for MEMBARRIER_CMD_PRIVATE_EXPEDITED (and the SYNC_CORE and
 * RSEQ variants, and GLOBAL_EXPEDITED) may still issue those commands. The root registers for
 * all four (RSEQ only where the kernel has it), a child for PRIVATE_EXPEDITED only, another child
 * for none. After the restore each asks MEMBARRIER_CMD_GET_REGISTRATIONS and issues the private
 * commands: each must succeed where registered and fail with EPERM where not. */
#include <errno.h>
#include <linux/membarrier.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define GET_REGISTRATIONS (1 << 9)
#define REG_RSEQ	  (1 << 8)
#define CMD_RSEQ	  (1 << 7)

static long mb(int cmd)
{
	return syscall(SYS_membarrier, cmd, 0, 0);
}

static const struct {
	int cmd, reg;
	const char *name;
} priv[] = {
	{ MEMBARRIER_CMD_PRIVATE_EXPEDITED, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
	  "PRIVATE_EXPEDITED" },
	{ MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE,
	  MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, "PRIVATE_EXPEDITED_SYNC_CORE" },
	{ CMD_RSEQ, REG_RSEQ, "PRIVATE_EXPEDITED_RSEQ" },
};

static int registered;

static int register_all(int mask)
{
	for (size_t i = 0; i < sizeof(priv) / sizeof(priv[0]); i++)
		if ((mask & priv[i].reg) && mb(priv[i].reg))
			return -1;
	if ((mask & MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) &&
	    mb(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED))
		return -1;
	registered = mask;
	return 0;
}

/* "" when every registration is as it was, else why not. */
static void check(const char *who, char *why, size_t len)
{
	long regs = mb(GET_REGISTRATIONS);

	why[0] = 0;
	if (regs >= 0 && regs != registered) {
		snprintf(why, len, "%s: registrations %#lx, expected %#x", who, regs, registered);
		return;
	}
	for (size_t i = 0; i < sizeof(priv) / sizeof(priv[0]); i++) {
		long r = mb(priv[i].cmd);
		bool want = registered & priv[i].reg;

		if (want && r) {
			snprintf(why, len, "%s: MEMBARRIER_CMD_%s: %s, but it was registered", who,
				 priv[i].name, strerror(errno));
			return;
		}
		if (!want && !(r < 0 && errno == EPERM) &&
		    !(r < 0 && errno == EINVAL && priv[i].cmd == CMD_RSEQ)) {
			snprintf(why, len,
				 "%s: MEMBARRIER_CMD_%s returned %ld (%s), expected EPERM", who,
				 priv[i].name, r, r ? strerror(errno) : "success");
			return;
		}
	}
}

static pid_t child(int mask, int ready)
{
	pid_t pid = fork();
	char why[256];

	if (pid)
		return pid;
	if (register_all(mask) || write(ready, "r", 1) != 1)
		_exit(2);
	test_waitsig();
	check("child", why, sizeof(why));
	if (why[0]) {
		fail("%s", why);
		_exit(1);
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	int all, p[2], status;
	pid_t kids[2];
	long q;
	char c, why[256];

	if (test_init(argc, argv))
		return 1;
	q = mb(MEMBARRIER_CMD_QUERY);
	if (q < 0 || !(q & MEMBARRIER_CMD_PRIVATE_EXPEDITED)) {
		skip("membarrier PRIVATE_EXPEDITED is not available (query %ld)", q);
		return 0;
	}
	all = MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED | MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED;
	if (q & MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE)
		all |= MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE;
	if (q & CMD_RSEQ)
		all |= REG_RSEQ;
	if (pipe(p)) {
		fail_errno("setup: pipe");
		return 1;
	}
	kids[0] = child(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, p[1]);
	kids[1] = child(0, p[1]);
	if (kids[0] < 0 || kids[1] < 0 || read(p[0], &c, 1) != 1 || read(p[0], &c, 1) != 1) {
		fail("setup: children");
		return 1;
	}
	if (register_all(all)) {
		fail_errno("setup: register %#x", all);
		return 1;
	}
	if (test_daemon())
		return 1;
	test_waitsig();

	check("root", why, sizeof(why));
	if (why[0])
		fail("%s", why);
	for (int i = 0; i < 2; i++) {
		kill(kids[i], SIGTERM);
		if (waitpid(kids[i], &status, 0) != kids[i] || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			fail("child %d ended with status %#x (its own FAIL line says why)", i,
			     status);
	}
	pass();
	return 0;
}
