/* kcompat: kernel uapi definitions newer than the installed linux-libc-dev
 * 6.1 headers (the running kernel is 6.18), plus the pagemap entry bits that
 * no uapi header exports.
 *
 * Contract: every definition is guarded with #ifndef, so newer headers win;
 * values are the kernel's uapi ABI (Documentation/admin-guide/mm/pagemap.rst,
 * include/uapi/linux/{fs,userfaultfd}.h). Include it after the system headers
 * that may already define these names. */
#ifndef CRIU_LITE_KCOMPAT_H
#define CRIU_LITE_KCOMPAT_H

#include <linux/types.h>
#include <linux/fs.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>

/* ---- /proc/PID/pagemap entry bits (one u64 per page) ---- */
#ifndef PM_PFRAME_MASK
#define PM_PFRAME_MASK ((1ULL << 55) - 1) /* PFN, or swap type (bits 0-4) + offset */
#endif
#ifndef PM_SOFT_DIRTY
#define PM_SOFT_DIRTY (1ULL << 55)
#endif
#ifndef PM_MMAP_EXCLUSIVE
#define PM_MMAP_EXCLUSIVE (1ULL << 56)
#endif
#ifndef PM_UFFD_WP
#define PM_UFFD_WP (1ULL << 57)
#endif
#ifndef PM_GUARD_REGION
#define PM_GUARD_REGION (1ULL << 58)
#endif
#ifndef PM_FILE
#define PM_FILE (1ULL << 61) /* file page or shared anon */
#endif
#ifndef PM_SWAP
#define PM_SWAP (1ULL << 62)
#endif
#ifndef PM_PRESENT
#define PM_PRESENT (1ULL << 63)
#endif
#ifndef PM_SWAP_TYPE_BITS
#define PM_SWAP_TYPE_BITS 5
#endif
/* swap type 31 is not a swap device: uffd-wp and guard PTE markers use it */
#ifndef PM_SWAP_TYPE_MARKER
#define PM_SWAP_TYPE_MARKER 31
#endif
#define PM_SWAP_TYPE(e) ((unsigned)((e) & ((1ULL << PM_SWAP_TYPE_BITS) - 1)))

/* ---- PAGEMAP_SCAN ioctl on /proc/PID/pagemap (6.7+) ---- */
#ifndef PAGEMAP_SCAN
#define PAGE_IS_WPALLOWED  (1 << 0)
#define PAGE_IS_WRITTEN	   (1 << 1)
#define PAGE_IS_FILE	   (1 << 2)
#define PAGE_IS_PRESENT	   (1 << 3)
#define PAGE_IS_SWAPPED	   (1 << 4)
#define PAGE_IS_PFNZERO	   (1 << 5)
#define PAGE_IS_HUGE	   (1 << 6)
#define PAGE_IS_SOFT_DIRTY (1 << 7)

struct page_region {
	__u64 start;
	__u64 end;
	__u64 categories;
};

#define PM_SCAN_WP_MATCHING   (1 << 0)
#define PM_SCAN_CHECK_WPASYNC (1 << 1)

struct pm_scan_arg {
	__u64 size;
	__u64 flags;
	__u64 start;
	__u64 end;
	__u64 walk_end;
	__u64 vec;
	__u64 vec_len;
	__u64 max_pages;
	__u64 category_inverted;
	__u64 category_mask;
	__u64 category_anyof_mask;
	__u64 return_mask;
};

#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#endif
#ifndef PAGE_IS_GUARD
#define PAGE_IS_GUARD (1 << 8) /* 6.15+ */
#endif

/* ---- userfaultfd ---- */
#ifndef UFFD_FEATURE_EXACT_ADDRESS
#define UFFD_FEATURE_EXACT_ADDRESS (1 << 11)
#endif
#ifndef UFFD_FEATURE_WP_HUGETLBFS_SHMEM
#define UFFD_FEATURE_WP_HUGETLBFS_SHMEM (1 << 12)
#endif
#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#endif
#ifndef UFFD_FEATURE_POISON
#define UFFD_FEATURE_POISON (1 << 14)
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif
#ifndef UFFD_FEATURE_MOVE
#define UFFD_FEATURE_MOVE (1 << 16)
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef _UFFDIO_MOVE
#define _UFFDIO_MOVE (0x05)
#endif
#ifndef _UFFDIO_POISON
#define _UFFDIO_POISON (0x08)
#endif
#ifndef USERFAULTFD_IOC
#define USERFAULTFD_IOC 0xAA
#endif
#ifndef USERFAULTFD_IOC_NEW
#define USERFAULTFD_IOC_NEW _IO(USERFAULTFD_IOC, 0x00)
#endif

/* ---- ptrace ---- */
#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif
#ifndef PTRACE_GET_RSEQ_CONFIGURATION
#define PTRACE_GET_RSEQ_CONFIGURATION 0x420f
#endif
#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif
/* the ptrace xstate regset keeps XCR0 in the first u64 of the FXSAVE
 * sw_reserved bytes (USER_XSTATE_XCR0_WORD) */
#define XSTATE_XCR0_OFFSET 464

/* ---- arch_prctl, namespaces, madvise ---- */
#ifndef ARCH_MAP_VDSO_64
#define ARCH_MAP_VDSO_64 0x2003
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102 /* 6.13+ */
#define MADV_GUARD_REMOVE  103
#endif

/* ---- mmap, mseal ---- */
#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08 /* a mapping type, like MAP_PRIVATE (6.11+) */
#endif
#ifndef SYS_mseal
#define SYS_mseal 462 /* 6.10+ */
#endif

/* ---- prctl: the mm-wide switches ---- */
#ifndef PR_THP_DISABLE_EXCEPT_ADVISED
#define PR_THP_DISABLE_EXCEPT_ADVISED (1 << 1) /* PR_SET_THP_DISABLE arg3 (6.18) */
#endif
#ifndef PR_SET_MDWE
#define PR_SET_MDWE		 65 /* 6.3+ */
#define PR_GET_MDWE		 66
#define PR_MDWE_REFUSE_EXEC_GAIN (1UL << 0)
#define PR_MDWE_NO_INHERIT	 (1UL << 1)
#endif
#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67 /* 6.4+ */
#define PR_GET_MEMORY_MERGE 68
#endif

/* ---- pidfd information (include/uapi/linux/pidfd.h, 6.13+; the exit status 6.15+) ---- */
struct kc_pidfd_info {
	__u64 mask;
	__u64 cgroupid;
	__u32 pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
	__s32 exit_code;
};
#define KC_PIDFD_INFO_EXIT (1ULL << 3)
#define KC_PIDFD_GET_INFO  _IOWR(0xFF, 11, struct kc_pidfd_info)

#endif
