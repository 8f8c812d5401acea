/* kerndat: what the running kernel offers criu-lite ("kernel data").
 *
 * Contract:
 * - kerndat_probe() fills a struct kerndat by exercising each feature for
 *   real (forked children, its own mappings, a memfd), never from version
 *   numbers. Every child it forks is killed and reaped before it returns.
 * - Each item ends KD_OK, KD_MISSING or KD_NOT_PROBED (its group was not asked
 *   for, or the probe could not run); the detail string says what was seen.
 * - A missing feature is a result, not an error: kerndat_probe() returns 0.
 *   It fails (-EBUSY, logged) only when it could not put the machine back
 *   (a swap it turned on is still on); the items are filled even then.
 * - KD_PROBE_SWAP may turn on a zram swap for about a second when no swap is
 *   active, and always turns it off and resets zram again, on every path.
 *   Without that flag swap is never touched.
 * - Dump and restore probe the cheap groups they need and read kd_has() and
 *   the value fields; printing belongs to the caller (cmd-check.c).
 */
#ifndef CRIU_LITE_KERNDAT_H
#define CRIU_LITE_KERNDAT_H

#include <stdbool.h>
#include <stdint.h>

/* kerndat_probe() flags: groups of probes */
enum {
	KD_PROBE_PROC =
	    1 << 0, /* ptrace, xstate, clone3 set_tid, pidfd, process_vm, memfd, time ns */
	KD_PROBE_MEM = 1 << 1,	/* PAGEMAP_SCAN, soft-dirty, guard regions, mseal, MAP_DROPPABLE */
	KD_PROBE_UFFD = 1 << 2, /* userfaultfd and the feature bits criu-lite uses */
	KD_PROBE_VDSO = 1 << 3, /* vDSO layout, ARCH_MAP_VDSO_64 */
	KD_PROBE_SWAP = 1 << 4, /* PM_SWAP for swapped shmem: may turn zram swap on briefly */
	KD_PROBE_DEFAULT = KD_PROBE_PROC | KD_PROBE_MEM | KD_PROBE_UFFD | KD_PROBE_VDSO,
};

enum kd_status {
	KD_NOT_PROBED = 0,
	KD_OK,
	KD_MISSING,
};

/* One id per probed item, in the order `criu-lite check` prints them. */
enum kd_id {
	KD_PTRACE_SEIZE,
	KD_CLONE3_SET_TID,
	KD_PIDFD,
	KD_PROCESS_VM,
	KD_MEMFD,
	KD_UFFD,
	KD_UFFD_EVENT_FORK,
	KD_UFFD_EVENT_REMAP,
	KD_UFFD_EVENT_REMOVE,
	KD_UFFD_EVENT_UNMAP,
	KD_UFFD_MISSING_SHMEM,
	KD_UFFD_MINOR_SHMEM,
	KD_UFFD_WP_ASYNC,
	KD_UFFD_WP_UNPOPULATED,
	KD_UFFD_EXACT_ADDRESS,
	KD_PAGEMAP_SCAN,
	KD_SOFT_DIRTY,
	KD_GUARD_INSTALL, /* MADV_GUARD_INSTALL (6.13+) */
	KD_GUARD_PAGEMAP, /* guard regions shown in pagemap (6.15+) */
	KD_MSEAL,
	KD_MAP_DROPPABLE,
	KD_SHMEM_PM_SWAP, /* our kernel patch: PM_SWAP on swapped-out shmem pages */
	KD_TIMENS,
	KD_ARCH_MAP_VDSO,
	KD_VDSO_LAYOUT,
	KD_XSTATE,
	KD_SUSPEND_SECCOMP, /* PTRACE_O_SUSPEND_SECCOMP: remote calls in a task under seccomp */
	KD_NR,
};

struct kd_item {
	enum kd_status status;
	char detail[192]; /* what was seen: the value when OK, the reason otherwise */
};

enum kd_vdso_kind {
	KD_VVAR,
	KD_VVAR_VCLOCK,
	KD_VDSO,
};

#define KD_VDSO_MAX_PARTS 4

/* The vDSO block: [vvar], [vvar_vclock] (6.15+), [vdso], contiguous. */
struct kd_vdso_layout {
	unsigned int nr_parts; /* 0: unknown */
	struct {
		enum kd_vdso_kind kind;
		unsigned long size;
	} part[KD_VDSO_MAX_PARTS]; /* in address order */
	unsigned long base;	   /* start of the block in this process */
	unsigned long vsyscall;	   /* start of [vsyscall], 0 when absent */
	unsigned long vsyscall_size;
};

struct kerndat {
	struct kd_item item[KD_NR];
	uint64_t uffd_features;	  /* as UFFDIO_API reported them; 0 without userfaultfd */
	bool uffd_user_mode_only; /* only UFFD_USER_MODE_ONLY descriptors could be made */
	struct kd_vdso_layout vdso;
	bool guard_vmflag;    /* VmFlags shows gu on a VMA that has guard regions (6.18) */
	bool guard_scan;      /* PAGEMAP_SCAN reports guard regions (PAGE_IS_GUARD) */
	uint32_t xstate_size; /* NT_X86_XSTATE regset size in bytes; 0 when unknown */
	uint64_t xcr0;	      /* XSAVE feature mask the kernel exposes to ptrace */
};

/* Fill *kd (zeroed first) with the groups in flags: 0, or -EBUSY (above). */
int kerndat_probe(struct kerndat *kd, unsigned int flags);
/* kerndat_probe() for dump and restore, without its dozen probe children each run (~20 ms):
 * the results of every group but KD_PROBE_SWAP are kept in /run/criu-lite/kerndat (0600, in a
 * 0700 directory, written by rename), and read back when that file was written in this boot
 * (boot_id), for this kernel (uname release and version), by this binary (its inode, size and
 * mtime) and euid, with a good crc32c, and the vDSO block here has the cached layout (its address
 * is this process's own, read again). Otherwise, or with fresh (`criu-lite check`), every cached
 * group is probed and the file written anew; more groups than asked may come back filled. Flags
 * with KD_PROBE_SWAP, or CRIU_LITE_KERNDAT_CACHE=0 in the environment: kerndat_probe() itself. A
 * kernel setting that changes what a probe sees within one boot (a sysctl) is seen after
 * `criu-lite check`. */
int kerndat_get(struct kerndat *kd, unsigned int flags, bool fresh);

/* The set without which criu-lite cannot dump or restore at all: ptrace
 * seize+interrupt, clone3 set_tid, pidfd, process_vm, memfd_create, vDSO
 * layout and ARCH_MAP_VDSO_64. */
bool kerndat_core_ok(const struct kerndat *kd);
bool kerndat_is_core(enum kd_id id);

/* Stable user-facing name of an item ("ptrace seize+interrupt"). */
const char *kerndat_name(enum kd_id id);
const char *kerndat_vdso_kind_name(enum kd_vdso_kind kind);

static inline bool kd_has(const struct kerndat *kd, enum kd_id id)
{
	return kd->item[id].status == KD_OK;
}

#endif
