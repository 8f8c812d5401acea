/* dump-mmattr: the switches of a task's address space that belong to no VMA, into mm_entry:
 * PR_SET_THP_DISABLE (and its PR_THP_DISABLE_EXCEPT_ADVISED mode), PR_SET_MEMORY_MERGE,
 * PR_SET_MDWE, what mlockall(MCL_FUTURE[|MCL_ONFAULT]) left for new mappings, and
 * /proc/PID/coredump_filter. restore-mmattr.c sets them again.
 *
 * The getters run in the stopped task through rsys. mlockall leaves no getter: a probe mapping
 * made in the task (rsys mmap, PROT_NONE) shows in smaps whether new mappings come locked
 * (lo) and on fault only (lf); it is unmapped again on every path. A getter the kernel does
 * not have (EINVAL) means the switch can't be on. Values we don't know refuse the dump. */
#include <fcntl.h>
#include <linux/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LOG_PREFIX "mm: "
#include "criu-lite/dump/dump.h"
#include "criu-lite/kcompat.h"
#include "criu-lite/kinds/core.h"
#include "criu-lite/log.h"
#include "mm.pb-c.h"

#define PG 4096

/* A prctl getter's value; 0 where the kernel lacks it (EINVAL); -errno (logged) else. */
static long get(struct dump_ctx *c, const char *what, int op)
{
	long r = rsys_call_quiet(&c->rs, SYS_prctl, op, 0, 0, 0, 0, 0);

	if (r == -EINVAL)
		return 0;
	if (r < 0)
		return core_rcall(&c->rs, what, SYS_prctl, op, 0, 0, 0);
	return r;
}

/* The lo/lf VmFlags a new mapping of the task gets. */
static int mlock_future(struct dump_ctx *c, uint32_t *out)
{
	long a = core_rcall(&c->rs, "map a probe page", SYS_mmap, 0, PG, PROT_NONE,
			    MAP_PRIVATE | MAP_ANONYMOUS);
	struct vma_list l;
	int ret, found = 0;

	if (a < 0)
		return (int)a;
	ret = proc_parse_vmas(c->pid, &l);
	for (size_t i = 0; !ret && i < l.n; i++) {
		if ((uint64_t)a < l.v[i].start || (uint64_t)a >= l.v[i].end)
			continue;
		found = 1;
		*out = (l.v[i].flags & VMF_LO) ? MCL_FUTURE : 0;
		if (l.v[i].flags & VMF_LF)
			*out |= MCL_ONFAULT;
	}
	if (!ret)
		vma_list_free(&l);
	if (!ret && !found) {
		pr_err("pid %d: the probe page mapped at %#lx is not in its smaps\n", c->pid, a);
		ret = -ENOENT;
	}
	long r = core_rcall(&c->rs, "unmap the probe page", SYS_munmap, a, PG, 0, 0);

	return ret ? ret : (int)r;
}

static int coredump_filter(pid_t pid, uint32_t *out)
{
	char path[64], buf[32], *end;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/coredump_filter", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("can't open %s", path);
		return -errno;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		pr_perror("can't read %s", path);
	close(fd);
	if (n < 0)
		return -EIO;
	buf[n] = '\0';
	*out = (uint32_t)strtoul(buf, &end, 16);
	if (end == buf || (*end && *end != '\n')) {
		pr_err("%s: '%s' is not a hex number\n", path, buf);
		return -EINVAL;
	}
	return 0;
}

int dump_mm_attrs(struct dump_ctx *c, MmEntry *mm)
{
	long thp = get(c, "read PR_GET_THP_DISABLE", PR_GET_THP_DISABLE);
	long merge = get(c, "read PR_GET_MEMORY_MERGE", PR_GET_MEMORY_MERGE);
	long mdwe = get(c, "read PR_GET_MDWE", PR_GET_MDWE);
	int ret;

	if (thp < 0 || merge < 0 || mdwe < 0)
		return (int)(thp < 0 ? thp : merge < 0 ? merge : mdwe);
	if (thp & ~(1L | PR_THP_DISABLE_EXCEPT_ADVISED)) {
		pr_err(
		    "pid %d: PR_GET_THP_DISABLE says %#lx: a mode this criu-lite does not know\n",
		    c->pid, thp);
		return -ENOTSUP;
	}
	if (mdwe & ~(long)(PR_MDWE_REFUSE_EXEC_GAIN | PR_MDWE_NO_INHERIT)) {
		pr_err("pid %d: PR_GET_MDWE says %#lx: flags this criu-lite does not know\n",
		       c->pid, mdwe);
		return -ENOTSUP;
	}
	mm->has_thp_disabled = mm->has_merge_any = mm->has_mdwe = true;
	mm->thp_disabled = (uint32_t)thp;
	mm->merge_any = merge != 0;
	mm->mdwe = (uint32_t)mdwe;
	mm->has_mlock_future = mm->has_coredump_filter = true;
	if ((ret = mlock_future(c, &mm->mlock_future)) ||
	    (ret = coredump_filter(c->pid, &mm->coredump_filter)))
		return ret;
	pr_debug("pid %d: THP disable %u, merge any %d, MDWE %#x, mlockall future %#x, coredump "
		 "filter %#x\n",
		 c->pid, mm->thp_disabled, mm->merge_any, mm->mdwe, mm->mlock_future,
		 mm->coredump_filter);
	return 0;
}
