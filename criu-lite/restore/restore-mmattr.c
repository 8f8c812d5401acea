/* restore-mmattr: the mm-wide switches dump-mmattr.c recorded, set again in the skeleton
 * through rsys. restore_mm_attrs_early() runs before any VMA is mapped: PR_SET_THP_DISABLE
 * and PR_SET_MEMORY_MERGE (under which every new VMA is born mergeable, as the dumped ones
 * were). restore_mm_attrs_late() runs once every VMA is in place: mlockall(MCL_FUTURE
 * [|MCL_ONFAULT]) would have locked them, PR_SET_MDWE would have refused the mprotect()s that
 * made them; and /proc/PID/coredump_filter. Each switch is set to its dumped value, off
 * included (a skeleton starts with the restorer's). MDWE can't be switched off again: a
 * skeleton that has it when the image does not is refused. Images without a field (older
 * criu-lite) leave that switch alone. Errors are logged here, naming the pid and the switch. */
#include <fcntl.h>
#include <linux/prctl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LOG_PREFIX "mm: "
#include "criu-lite/kcompat.h"
#include "criu-lite/kinds/core.h"
#include "criu-lite/log.h"
#include "criu-lite/restore/restore.h"

static int prctl_set(struct restore_task *t, const char *what, long op, long a2, long a3)
{
	long r = core_rcall(&t->rs, what, SYS_prctl, op, a2, a3, 0);

	return r < 0 ? (int)r : 0;
}

int restore_mm_attrs_early(struct restore_task *t)
{
	const MmEntry *mm = t->mm;
	int ret;

	if (mm->has_thp_disabled &&
	    (ret = prctl_set(t, "set PR_SET_THP_DISABLE", PR_SET_THP_DISABLE, mm->thp_disabled & 1,
			     mm->thp_disabled & PR_THP_DISABLE_EXCEPT_ADVISED)))
		return ret;
	if (mm->has_merge_any) {
		long r = rsys_call_quiet(&t->rs, SYS_prctl, PR_SET_MEMORY_MERGE, mm->merge_any, 0,
					 0, 0, 0);

		/* a kernel without KSM has no such switch: nothing to turn off */
		if (r && !(r == -EINVAL && !mm->merge_any))
			return prctl_set(t, "set PR_SET_MEMORY_MERGE (KSM on every VMA)",
					 PR_SET_MEMORY_MERGE, mm->merge_any, 0);
	}
	return 0;
}

static int write_coredump_filter(pid_t pid, uint32_t v)
{
	char path[64], buf[16];
	int fd, n, ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/coredump_filter", pid);
	n = snprintf(buf, sizeof(buf), "%#x", v);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && access("/proc/self/coredump_filter", F_OK)) {
		pr_warn("pid %d: coredump_filter %#x not set: this kernel writes no core dumps\n",
			pid, v);
		return 0;
	}
	if (fd < 0 || write(fd, buf, (size_t)n) != n) {
		pr_perror("can't write %s to %s", buf, path);
		ret = -errno;
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

int restore_mm_attrs_late(struct restore_task *t)
{
	const MmEntry *mm = t->mm;
	int ret;

	if (mm->has_mlock_future && mm->mlock_future) {
		long r = core_rcall(&t->rs, "mlockall() for new mappings", SYS_mlockall,
				    mm->mlock_future, 0, 0, 0);

		if (r)
			return (int)r;
	}
	if (mm->has_mdwe && mm->mdwe &&
	    (ret = prctl_set(t, "set PR_SET_MDWE", PR_SET_MDWE, mm->mdwe, 0)))
		return ret;
	if (mm->has_mdwe && !mm->mdwe) {
		long r = rsys_call_quiet(&t->rs, SYS_prctl, PR_GET_MDWE, 0, 0, 0, 0, 0);

		if (r > 0) {
			pr_err(
			    "pid %d: the skeleton inherited memory-deny-write-execute (PR_GET_MDWE "
			    "%#lx) from the restorer, which the dumped task did not have and "
			    "which can't be turned off: restore from a process without it\n",
			    t->pid, r);
			return -EPERM;
		}
	}
	if (mm->has_coredump_filter && (ret = write_coredump_filter(t->pid, mm->coredump_filter)))
		return ret;
	return 0;
}
