/* attrs: what dump-attrs.c and restore-attrs.c share about a task's scheduling and prctl
 * attributes (core.proto thread_attrs_entry, task_attrs_entry).
 *
 * Contract: the kernel's layouts and numbers, spelled out here because the C library headers of
 * the build host may be older than the kernel (struct sched_attr as sched_getattr fills it in its
 * 56-byte version, prctl options up to 6.18, membarrier commands, ioprio); names for messages.
 * Nothing here has state or side effects.
 */
#ifndef CRIU_LITE_ATTRS_H
#define CRIU_LITE_ATTRS_H

#include <stdint.h>

/* struct sched_attr, SCHED_ATTR_SIZE_VER1 */
struct attrs_sched_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime, sched_deadline, sched_period;
	uint32_t sched_util_min, sched_util_max;
};

#define ATTRS_SCHED_OTHER    0
#define ATTRS_SCHED_FIFO     1
#define ATTRS_SCHED_RR	     2
#define ATTRS_SCHED_BATCH    3
#define ATTRS_SCHED_IDLE     5
#define ATTRS_SCHED_DEADLINE 6
#define ATTRS_SCHED_EXT	     7

#define ATTRS_SCHED_FLAG_RESET_ON_FORK 0x01
#define ATTRS_SCHED_FLAG_RECLAIM       0x02
#define ATTRS_SCHED_FLAG_DL_OVERRUN    0x04
#define ATTRS_SCHED_FLAG_KEEP_POLICY   0x08
#define ATTRS_SCHED_FLAG_KEEP_PARAMS   0x10
#define ATTRS_SCHED_FLAG_UTIL_MIN      0x20
#define ATTRS_SCHED_FLAG_UTIL_MAX      0x40
/* what sched_setattr() takes back as it was read */
#define ATTRS_SCHED_FLAGS_KEPT \
	(ATTRS_SCHED_FLAG_RESET_ON_FORK | ATTRS_SCHED_FLAG_RECLAIM | ATTRS_SCHED_FLAG_DL_OVERRUN)

#define ATTRS_AFFINITY_WORDS 16 /* 1024 CPUs */
#define ATTRS_NODE_WORDS     16 /* 1024 NUMA nodes */
#define ATTRS_NODE_WORDS     16 /* 1024 NUMA nodes */

#define ATTRS_IOPRIO_WHO_PROCESS 1

/* prctl options newer than some C libraries */
#define ATTRS_PR_SET_MDWE	    65
#define ATTRS_PR_GET_MDWE	    66
#define ATTRS_PR_SET_MEMORY_MERGE   67
#define ATTRS_PR_GET_MEMORY_MERGE   68
#define ATTRS_PR_SCHED_CORE	    62
#define ATTRS_PR_SCHED_CORE_GET	    0
#define ATTRS_PR_FUTEX_HASH	    78
#define ATTRS_PR_FUTEX_HASH_SET	    1
#define ATTRS_PR_FUTEX_HASH_GET	    2
#define ATTRS_PR_SPEC_PRCTL	    (1U << 0)
#define ATTRS_PR_SPEC_STATE	    0x1eU /* ENABLE | DISABLE | FORCE_DISABLE | DISABLE_NOEXEC */
#define ATTRS_NR_SPEC		    3	  /* STORE_BYPASS, INDIRECT_BRANCH, L1D_FLUSH */
#define ATTRS_SPEC_UNKNOWN	    0xffffffffU
#define ATTRS_PR_MCE_KILL_DEFAULT   2
#define ATTRS_PTRACE_GET_SUD_CONFIG 0x4211
#define ATTRS_ARCH_GET_CPUID	    0x1011
#define ATTRS_ARCH_SET_CPUID	    0x1012
#define ATTRS_ARCH_GET_UNTAG_MASK   0x4001
#define ATTRS_ARCH_SHSTK_STATUS	    0x5005

/* membarrier(2) commands */
#define ATTRS_MB_QUERY			     0
#define ATTRS_MB_REGISTER_GLOBAL_EXPEDITED   (1 << 2)
#define ATTRS_MB_PRIVATE_EXPEDITED	     (1 << 3)
#define ATTRS_MB_REGISTER_PRIVATE_EXPEDITED  (1 << 4)
#define ATTRS_MB_PRIVATE_EXPEDITED_SYNC_CORE (1 << 5)
#define ATTRS_MB_REGISTER_SYNC_CORE	     (1 << 6)
#define ATTRS_MB_PRIVATE_EXPEDITED_RSEQ	     (1 << 7)
#define ATTRS_MB_REGISTER_RSEQ		     (1 << 8)
#define ATTRS_MB_GET_REGISTRATIONS	     (1 << 9)
#define ATTRS_MB_REGISTER_ALL                                                       \
	(ATTRS_MB_REGISTER_GLOBAL_EXPEDITED | ATTRS_MB_REGISTER_PRIVATE_EXPEDITED | \
	 ATTRS_MB_REGISTER_SYNC_CORE | ATTRS_MB_REGISTER_RSEQ)

/* task flags of /proc/PID/stat that PR_SET_IO_FLUSHER sets */
#define ATTRS_PF_MEMALLOC_NOIO	0x00080000U
#define ATTRS_PF_LOCAL_THROTTLE 0x00100000U

/* "SCHED_FIFO", or "policy 9". */
const char *attrs_policy_name(uint32_t policy, char *buf, unsigned long len);
/* "PRIVATE_EXPEDITED SYNC_CORE", the registrations of a MEMBARRIER_CMD_GET_REGISTRATIONS mask. */
const char *attrs_membarrier_names(uint32_t mask, char *buf, unsigned long len);

#endif
