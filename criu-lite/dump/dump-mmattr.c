/* dump-mmattr: the switches of a task's address space that belong to no VMA, into mm_entry:
 * PR_SET_THP_DISABLE (and its PR_THP_DISABLE_EXCEPT_ADVISED mode), PR_SET_MEMORY_MERGE,
 * PR_SET_MDWE, what mlockall(MCL_FUTURE[|MCL_ONFAULT]) left for new mappings, and
 * /proc/PID/coredump_filter. restore-mmattr.c sets them again.
 *
 * The getters run in the stopped task through rsys. mlockall leaves no getter: a probe mapping
 * made in the task (rsys mmap, PROT_NONE) shows in smaps whether new mappings come locked
 * (lo) and on fault only (lf); it is unmapped again on every path, a dead criu-lite's included
 * (rsys_call_undo). A getter the kernel does
 * not have (EINVAL) means the switch can't be on. Values we don't know refuse the dump. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/prctl.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LOG_PREFIX "mm: "
#include "criu-lite/dump/dump.h"
#include "criu-lite/fault.h"
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

/* A free page for the probe, away from where the kernel places mappings (top down, under
 * mmap_base): the page under the lowest mapping, or the first gap above 1 MiB. */
static int probe_address(const struct vma_list *l, uint64_t *at)
{
	const uint64_t low = 1 << 20;

	for (size_t i = 0; i < l->n; i++) {
		uint64_t below = i ? l->v[i - 1].end : 0;

		if (l->v[i].start >= low + PG && l->v[i].start - PG >= below) {
			*at = l->v[i].start - PG;
			return 0;
		}
	}
	return -ENOSPC;
}

/* The lo/lf VmFlags a new mapping of the task gets. The probe is mapped at a page picked while
 * every thread is stopped (MAP_FIXED_NOREPLACE) with its munmap armed as the call's undo: a
 * criu-lite that dies while the probe exists leaves a thread that unmaps it by itself. */
/* The probe mapped at a free page of l: its address, or -errno. */
static long map_probe(struct dump_ctx *c, const struct vma_list *l, uint64_t *at)
{
	int ret = probe_address(l, at);

	if (ret) {
		pr_err("pid %d: no free page for the mlockall probe\n", c->pid);
		return ret;
	}
	const long map[6] = { (long)*at, PG,
			      PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			      -1,	 0 };
	const long unmap[6] = { (long)*at, PG };

	return rsys_call_undo(&c->rs, SYS_mmap, map, SYS_munmap, unmap);
}

static int mlock_future(struct dump_ctx *c, uint32_t *out)
{
	uint64_t at = 0, fl = 0;
	long a = map_probe(c, &c->vmas, &at); /* the frozen tree's VMAs, as collected */
	int ret;

	if (a == -EEXIST) { /* a mapping of ours since (rsys scratch without a stack frame) */
		struct vma_list l;

		if ((ret = proc_parse_vmas(c->pid, &l)))
			return ret;
		a = map_probe(c, &l, &at);
		vma_list_free(&l);
	}
	if (a < 0)
		return (int)a;
	ret = fault_inject(c->sh->o, "mm-probe");
	if (!ret && (uint64_t)a != at) { /* a kernel without MAP_FIXED_NOREPLACE (< 4.17) */
		pr_err("pid %d: the probe page went to %#lx, not %#" PRIx64 "\n", c->pid, a, at);
		rsys_undo_cancel(&c->rs);
		ret = -EEXIST;
	}
	if (!ret && (ret = proc_vma_flags_at(c->pid, (uint64_t)a, &fl)))
		pr_err("pid %d: the probe page mapped at %#lx: its VmFlags in smaps: %s\n", c->pid,
		       a, strerror(-ret));
	if (!ret) {
		*out = (fl & VMF_LO) ? MCL_FUTURE : 0;
		if (fl & VMF_LF)
			*out |= MCL_ONFAULT;
	}
	long r = (uint64_t)a == at
		     ? rsys_undo(&c->rs)
		     : core_rcall(&c->rs, "unmap the probe page", SYS_munmap, a, PG, 0, 0);

	return ret ? ret : (int)r;
}

/* 0, 1 when the kernel has no core dumps (no coredump_filter: nothing to keep), or -errno. */
static int coredump_filter(pid_t pid, uint32_t *out)
{
	char path[64], buf[32], *end;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/coredump_filter", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && access("/proc/self/coredump_filter", F_OK))
		return 1;
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
	mm->has_mlock_future = true;
	if ((ret = mlock_future(c, &mm->mlock_future)) ||
	    (ret = coredump_filter(c->pid, &mm->coredump_filter)) < 0)
		return ret;
	mm->has_coredump_filter = ret == 0;
	pr_debug("pid %d: THP disable %u, merge any %d, MDWE %#x, mlockall future %#x, coredump "
		 "filter %#x\n",
		 c->pid, mm->thp_disabled, mm->merge_any, mm->mdwe, mm->mlock_future,
		 mm->coredump_filter);
	return 0;
}
