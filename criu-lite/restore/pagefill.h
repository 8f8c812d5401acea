/* pagefill: copy the present pages of a page image into a task.
 *
 * Contract: pagefill() writes every PE_PRESENT run of pr into the task's
 * memory at its address with process_vm_writev, straight from the image's
 * read-only mapping, in batches of at most PAGEFILL_CHUNK bytes and IOV_MAX
 * runs, spread over up to `threads` threads: on a host where fresh pages are
 * costly to fault in, two writers fill memory about twice as fast as one.
 * The target VMAs must exist and be writable, except inside the ranges of
 * direct (sorted, disjoint; NULL for none): pages there are written through
 * /proc/PID/mem, which reaches read-only and PROT_NONE private VMAs (restore
 * maps a private VMA that was never writable as it is, so the kernel does not
 * account it as writable memory: VmFlags `ac`). Returns 0 or -errno (logged,
 * naming the pid and the address of the failed batch). Pages inside the ranges of skip
 * (sorted, disjoint; NULL for none) are left alone: a lazy restore's pages, which the
 * lazy-pages server copies in. Every byte it copies is checked first (page_reader_verify(): a
 * no-op for a reader opened checked; a lazy restore's reader is not), before any is written. */
#ifndef CRIU_LITE_PAGEFILL_H
#define CRIU_LITE_PAGEFILL_H

#include <sys/types.h>

#include "images/pages.h"

#define PAGEFILL_CHUNK (16ULL << 20)

struct pagefill_direct {
	const uint64_t (*range)[2]; /* [start, end) */
	size_t n;
};

int pagefill(pid_t pid, struct page_reader *pr, unsigned int threads,
	     const struct pagefill_direct *direct, const struct pagefill_direct *skip);

#endif
