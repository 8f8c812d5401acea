/* skeleton: see skeleton.h. */
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOG_PREFIX "skeleton: "
#include "criu-lite/log.h"
#include "criu-lite/rsys.h"
#include "criu-lite/proc/proc.h"
#include "criu-lite/restore/skeleton.h"

#define TASK_SIZE_47 0x7ffffffff000ULL
#define LOW_LIMIT    0x10000ULL /* stay above mmap_min_addr */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int skel_find_hole(const uint64_t *ranges, size_t nr, size_t len, uint64_t *addr)
{
	uint64_t *r = malloc(nr * 2 * sizeof(*r) + 1);
	uint64_t cand = 0x100000000ULL; /* prefer above 4 GiB, away from brk */
	int ret = -ENOSPC;

	if (!r)
		return -ENOMEM;
	memcpy(r, ranges, nr * 2 * sizeof(*r));
	qsort(r, nr, 2 * sizeof(*r), cmp_u64);
	for (int pass = 0; pass < 2 && ret; pass++) {
		for (size_t i = 0; i <= nr; i++) {
			uint64_t lim = i < nr ? r[2 * i] : TASK_SIZE_47;

			if (lim > cand && lim - cand >= len) {
				*addr = cand;
				ret = 0;
				break;
			}
			if (i < nr && r[2 * i + 1] > cand)
				cand = r[2 * i + 1];
		}
		cand = LOW_LIMIT;
	}
	free(r);
	if (ret)
		pr_err("no free hole of %zu bytes for the restore trampoline\n", len);
	return ret;
}

/*  0: syscall                          (rsys runs every call here)
 *  2: prctl(PR_SET_PDEATHSIG, SIGKILL)
 * 19: if (getppid() != *(int *)(scratch + SKEL_PARENT_SLOT)) goto 43
 * 34: pause(); goto 34
 * 43: exit(124)
 * A task or thread that rsys creates with clone3 starts right after the syscall at 0: it asks
 * to die with its parent (a skeleton the restorer holds with PTRACE_O_EXITKILL, or the restorer
 * itself), makes sure that parent was still there when it asked, and waits in pause() with
 * every signal blocked until it is seized in turn. So a restorer that dies between a clone3 and
 * the seize of the new task leaves no orphan behind. */
static const unsigned char tramp_code[] = {
	0x0f, 0x05,			    /* syscall */
	0xb8, 0x9d, 0x00, 0x00, 0x00,	    /* mov $157 (prctl), %eax */
	0xbf, 0x01, 0x00, 0x00, 0x00,	    /* mov $1 (PR_SET_PDEATHSIG), %edi */
	0xbe, 0x09, 0x00, 0x00, 0x00,	    /* mov $9 (SIGKILL), %esi */
	0x0f, 0x05,			    /* syscall */
	0xb8, 0x6e, 0x00, 0x00, 0x00,	    /* mov $110 (getppid), %eax */
	0x0f, 0x05,			    /* syscall */
	0x3b, 0x05, 0xd8, 0x1f, 0x00, 0x00, /* cmp SKEL_PARENT_SLOT+4096-32(%rip), %eax */
	0x75, 0x09,			    /* jne 43 */
	0xb8, 0x22, 0x00, 0x00, 0x00,	    /* 34: mov $34 (pause), %eax */
	0x0f, 0x05,			    /* syscall */
	0xeb, 0xf7,			    /* jmp 34 */
	0xb8, 0x3c, 0x00, 0x00, 0x00,	    /* 43: mov $60 (exit), %eax */
	0xbf, 0x7c, 0x00, 0x00, 0x00,	    /* mov $124, %edi */
	0x0f, 0x05,			    /* syscall */
};

_Static_assert(SKEL_PARENT_SLOT + 4096 - 32 == 0x1fd8, "the cmp at 26 reads the parent slot");

int skel_expect_parent(struct rsys *rs, const struct skel *sk, pid_t ppid)
{
	int32_t v = (int32_t)ppid;

	return rsys_write(rs, sk->scratch + SKEL_PARENT_SLOT, &v, sizeof(v));
}

static __attribute__((noreturn)) void skel_child(uint64_t hole, int ready_fd, pid_t parent)
{
	char *p = mmap((void *)hole, SKEL_TRAMP_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	char c = 'R';

	if (p != (void *)hole)
		_exit(120);
	memcpy(p, tramp_code, sizeof(tramp_code));
	if (mprotect(p, 4096, PROT_READ | PROT_EXEC))
		_exit(121);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(122);
	if (write(ready_fd, &c, 1) != 1)
		_exit(123);
	for (;;)
		pause();
}

int skel_create(const pid_t *set_tid, size_t nr_tids, uint64_t flags, uint64_t hole,
		struct skel *sk)
{
	struct clone_args args;
	pid_t parent = getpid();
	int p[2], status;
	char c;
	long pid;

	if (pipe2(p, O_CLOEXEC)) {
		pr_perror("pipe");
		return -errno;
	}
	memset(&args, 0, sizeof(args));
	args.flags = flags;
	args.exit_signal = SIGCHLD;
	args.set_tid = (uint64_t)(uintptr_t)set_tid;
	args.set_tid_size = nr_tids;
	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid == 0) {
		close(p[0]);
		skel_child(hole, p[1], flags & CLONE_NEWPID ? 0 : parent);
	}
	close(p[1]);
	if (pid < 0) {
		int e = errno;

		if (e == EEXIST) {
			char who[160];

			proc_pid_holder(set_tid[0], who, sizeof(who));
			pr_err("can't create pid %d: %s\n", set_tid[0], who);
		} else {
			pr_perror("clone3 with pid %d", set_tid[0]);
		}
		close(p[0]);
		return -e;
	}
	if (read(p[0], &c, 1) != 1) {
		close(p[0]);
		waitpid(pid, &status, 0);
		pr_err("task %ld died while setting up (status 0x%x)\n", pid, status);
		return -ECHILD;
	}
	close(p[0]);
	sk->pid = (pid_t)pid;
	sk->tramp = hole;
	sk->scratch = hole + 4096;
	sk->scratch_len = 4096;
	return 0;
}
