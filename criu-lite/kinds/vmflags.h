/* vmflags: what criu-lite does with each VmFlags bit of a VMA (proc.h VMF_*): the one place
 * where dump (refuse or record) and restore (set again, then check) agree on them.
 *
 * Contract: every mnemonic smaps can show is in exactly one class.
 * - mapped: follows from how restore maps the VMA: rd wr ex sh mr mw me ms (protection,
 *   MAP_SHARED, the file and how it is opened), gd nr dp sf (MAP_GROWSDOWN, MAP_NORESERVE,
 *   MAP_DROPPABLE, MAP_SYNC; dp brings wf dd nr with it).
 * - advice: one madvise() sets it (vmf_advice[]): dc dd wf hg nh mg sr rr. Their opposites
 *   (DOFORK, DODUMP, KEEPONFORK, NORMAL, UNMERGEABLE) leave no trace, so nothing is needed for
 *   them, except MADV_UNMERGEABLE in an mm where PR_SET_MEMORY_MERGE marks new VMAs mergeable.
 * - set by restore-vma.c in its own way: lo lf (mlock, mlock2 MLOCK_ONFAULT), ac (VM_ACCOUNT:
 *   a private VMA is mapped writable, or not, and filled accordingly), gu (MADV_GUARD_INSTALL),
 *   sl (mseal, last).
 * - ignored, not compared: sd (soft-dirty: the kernel sets it on every new VMA where it is
 *   built in), dw and nl (kernels before 5.15 and 4.0 only; mapping the file sets them).
 * - refused at dump: the rest (vmf_refusal() says why), and any mnemonic we do not know.
 * The kernel's own mappings (vDSO, vvar, vsyscall) are not subject to vmf_refusal(): the
 * kernel maps them again as they were. */
#ifndef CRIU_LITE_KINDS_VMFLAGS_H
#define CRIU_LITE_KINDS_VMFLAGS_H

#include <stddef.h>
#include <stdint.h>

#include "criu-lite/proc/proc.h"

/* Room for the text of every known mnemonic. */
#define VMF_TEXT_MAX 160

struct vmf_advice {
	uint64_t bit;
	int advice; /* MADV_* that sets it */
};

extern const struct vmf_advice vmf_advice[];
extern const size_t vmf_nr_advice;

/* Bits compared between the image and the rebuilt VMA. */
#define VMF_COMPARED (~(VMF_SD | VMF_DW | VMF_NL))
/* Bits a MAP_DROPPABLE mapping has from birth (and whose advice it refuses). */
#define VMF_DROPPABLE_IMPLIED (VMF_WF | VMF_DD | VMF_NR)

/* Why a VMA with these flags (and unknown mnemonics, "" when none) can't be dumped; NULL when
 * it can. */
const char *vmf_refusal(uint64_t flags, const char *unknown, char *buf, size_t len);
/* The madvise advice bitmask (bit MADV_x) of flags, as images keep it in vma_entry.madv. */
uint64_t vmf_madv_bits(uint64_t flags);

#endif
