/* kerndat: runs the probe groups and names their items. See kerndat.h; the
 * probes themselves live in kerndat-{proc,ptrace,mem,uffd,vdso,swap}.c. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define LOG_PREFIX "kerndat: "
#include "criu-lite/kerndat/kerndat-int.h"
#include "criu-lite/log.h"

static const char *const names[KD_NR] = {
	[KD_PTRACE_SEIZE] = "ptrace seize+interrupt",
	[KD_CLONE3_SET_TID] = "clone3 set_tid",
	[KD_PIDFD] = "pidfd_open/pidfd_getfd",
	[KD_PROCESS_VM] = "process_vm_readv/writev",
	[KD_MEMFD] = "memfd_create",
	[KD_UFFD] = "userfaultfd",
	[KD_UFFD_EVENT_FORK] = "uffd EVENT_FORK",
	[KD_UFFD_EVENT_REMAP] = "uffd EVENT_REMAP",
	[KD_UFFD_EVENT_REMOVE] = "uffd EVENT_REMOVE",
	[KD_UFFD_EVENT_UNMAP] = "uffd EVENT_UNMAP",
	[KD_UFFD_MISSING_SHMEM] = "uffd MISSING_SHMEM",
	[KD_UFFD_MINOR_SHMEM] = "uffd MINOR_SHMEM",
	[KD_UFFD_WP_ASYNC] = "uffd WP_ASYNC",
	[KD_UFFD_WP_UNPOPULATED] = "uffd WP_UNPOPULATED",
	[KD_UFFD_EXACT_ADDRESS] = "uffd EXACT_ADDRESS",
	[KD_PAGEMAP_SCAN] = "PAGEMAP_SCAN",
	[KD_SOFT_DIRTY] = "soft-dirty",
	[KD_GUARD_INSTALL] = "MADV_GUARD_INSTALL",
	[KD_GUARD_PAGEMAP] = "guard regions in pagemap",
	[KD_MSEAL] = "mseal",
	[KD_MAP_DROPPABLE] = "MAP_DROPPABLE",
	[KD_SHMEM_PM_SWAP] = "pagemap PM_SWAP for swapped shmem",
	[KD_TIMENS] = "time namespace",
	[KD_ARCH_MAP_VDSO] = "ARCH_MAP_VDSO_64",
	[KD_VDSO_LAYOUT] = "vDSO layout",
	[KD_XSTATE] = "xstate (NT_X86_XSTATE)",
	[KD_SUSPEND_SECCOMP] = "ptrace PTRACE_O_SUSPEND_SECCOMP",
};

static const enum kd_id core_set[] = {
	KD_PTRACE_SEIZE, KD_CLONE3_SET_TID, KD_PIDFD,	      KD_PROCESS_VM,
	KD_MEMFD,	 KD_VDSO_LAYOUT,    KD_ARCH_MAP_VDSO,
};

/* which probe group fills which items, to mark the groups not asked for */
static const struct {
	unsigned int flag;
	enum kd_id first, last;
} groups[] = {
	{ KD_PROBE_PROC, KD_PTRACE_SEIZE, KD_MEMFD },
	{ KD_PROBE_PROC, KD_TIMENS, KD_TIMENS },
	{ KD_PROBE_PROC, KD_XSTATE, KD_SUSPEND_SECCOMP },
	{ KD_PROBE_UFFD, KD_UFFD, KD_UFFD_EXACT_ADDRESS },
	{ KD_PROBE_MEM, KD_PAGEMAP_SCAN, KD_MAP_DROPPABLE },
	{ KD_PROBE_VDSO, KD_ARCH_MAP_VDSO, KD_VDSO_LAYOUT },
};

const char *kerndat_name(enum kd_id id)
{
	return (unsigned int)id < KD_NR ? names[id] : "?";
}

const char *kerndat_vdso_kind_name(enum kd_vdso_kind kind)
{
	switch (kind) {
	case KD_VVAR:
		return "vvar";
	case KD_VVAR_VCLOCK:
		return "vvar_vclock";
	case KD_VDSO:
		return "vdso";
	}
	return "?";
}

bool kerndat_is_core(enum kd_id id)
{
	for (size_t i = 0; i < sizeof(core_set) / sizeof(core_set[0]); i++)
		if (core_set[i] == id)
			return true;
	return false;
}

bool kerndat_core_ok(const struct kerndat *kd)
{
	for (size_t i = 0; i < sizeof(core_set) / sizeof(core_set[0]); i++)
		if (!kd_has(kd, core_set[i]))
			return false;
	return true;
}

void kd_set(struct kerndat *kd, enum kd_id id, enum kd_status st, const char *fmt, ...)
{
	va_list ap;

	kd->item[id].status = st;
	va_start(ap, fmt);
	vsnprintf(kd->item[id].detail, sizeof(kd->item[id].detail), fmt, ap);
	va_end(ap);
	pr_debug("%s: %s%s%s\n", names[id],
		 st == KD_OK	    ? "OK"
		 : st == KD_MISSING ? "missing"
				    : "not probed",
		 kd->item[id].detail[0] ? ": " : "", kd->item[id].detail);
}

void kd_ok(struct kerndat *kd, enum kd_id id)
{
	kd->item[id].status = KD_OK;
	kd->item[id].detail[0] = '\0';
	pr_debug("%s: OK\n", names[id]);
}

const char *kd_errstr(int err, char *buf, size_t len)
{
	const char *name = strerrorname_np(err < 0 ? -err : err);

	if (name)
		return name;
	snprintf(buf, len, "errno %d", err < 0 ? -err : err);
	return buf;
}

int kerndat_probe(struct kerndat *kd, unsigned int flags)
{
	int ret = 0;

	memset(kd, 0, sizeof(*kd));
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
		if (!(flags & groups[g].flag))
			for (int id = groups[g].first; id <= (int)groups[g].last; id++)
				kd_set(kd, id, KD_NOT_PROBED, "not requested");
	if (!(flags & KD_PROBE_SWAP))
		kd_set(kd, KD_SHMEM_PM_SWAP, KD_NOT_PROBED,
		       "probing turns a zram swap on briefly; `check --all` does it");

	if (flags & KD_PROBE_PROC) {
		ret = kd_probe_proc(kd);
		if (!ret)
			ret = kd_probe_ptrace(kd);
	}
	if (!ret && (flags & KD_PROBE_MEM))
		ret = kd_probe_mem(kd);
	if (!ret && (flags & KD_PROBE_MEM))
		ret = kd_probe_vma(kd);
	if (!ret && (flags & KD_PROBE_UFFD))
		ret = kd_probe_uffd(kd);
	if (!ret && (flags & KD_PROBE_VDSO))
		ret = kd_probe_vdso(kd);
	if (!ret && (flags & KD_PROBE_SWAP))
		ret = kd_probe_swap(kd);
	return ret;
}
