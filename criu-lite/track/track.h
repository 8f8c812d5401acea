/* track: which private pages of a task were written since the last round of a pre-dump chain
 * (docs/predump.md).
 *
 * Backends (track_choose()): soft-dirty where the kernel keeps it (pagemap bit 55, cleared with
 * clear_refs "4"; read for every VMA when the round opens), else userfaultfd write-protect in async
 * mode: a uffd made in the task through rsys (kept there between rounds, at a high fd number,
 * close-on-exec), every VMA that can hold private pages registered WP with WP_ASYNC|WP_UNPOPULATED,
 * and per VMA per round one PAGEMAP_SCAN (PM_SCAN_WP_MATCHING|PM_SCAN_CHECK_WPASYNC,
 * PAGE_IS_WRITTEN) that returns the written pages and protects them again. Async write faults never
 * block: whatever happens to criu-lite, the task runs on.
 *
 * Contract, per task per round (the task seized, its rsys session open, before its fd table is
 * read):
 * - track_task_open(): reads the task's state file (TRACK_DIR/<pid>-<starttime>: backend, the
 *   uffd's fd number in the task, the dump id of the round that last read its dirty bits). The
 *   round is incremental for this task when that id is parent_id (nonzero) and the tracker is
 *   still there; else every VMA is copied whole this round. Then it arms what is not armed (for
 *   uffd-wp: makes the uffd, registers the VMAs not registered yet) and marks the state "no
 *   round" until track_commit(): a round killed midway makes the next one copy everything.
 *   VMA i of vmas: track_vma_ours() says whether its `uw` flag is our registration (not the
 *   task's: dump-mm leaves it out of the image).
 * - track_vma(): the written runs of VMA i since the parent round (sorted, disjoint, inside the
 *   VMA), re-armed; *whole when the VMA can't be told (new since, not trackable, not
 *   incremental). 0 or -errno (logged).
 * - track_owns_fd(): fd of task pid is t's tracking uffd (kcmp: a child forked
 *   after arming holds a copy), to be left out of its fd table.
 * - track_task_close(keep): keep (pre-dump, dump --track-mem): soft-dirty is cleared now (the
 *   task is still frozen), the uffd stays in the task. !keep: the uffd is closed in every task
 *   that holds it (ranges unregistered, protection gone) and the state removed. Call it before
 *   the rsys session closes.
 * - track_commit(): after the round's images are complete, the state names dump_id.
 * Figures for stats: pages of VMAs copied whole because they could not be told. */
#ifndef CRIU_LITE_TRACK_H
#define CRIU_LITE_TRACK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct kerndat;
struct rsys;
struct vma_list;

#define TRACK_DIR "/run/criu-lite/track"

enum track_backend {
	TRACK_NONE,
	TRACK_SOFT_DIRTY,
	TRACK_UFFD_WP,
};

/* forced: "soft-dirty", "uffd-wp" or NULL/"auto". TRACK_NONE with *why filled when the kernel
 * can't track (or can't with the forced backend). */
enum track_backend track_choose(const struct kerndat *kd, const char *forced, const char **why);
const char *track_backend_name(enum track_backend b);

struct track_range {
	uint64_t start, end;
};

enum track_vma_state {
	TV_SKIP,      /* holds no private pages we track (special, shared) */
	TV_NEW,	      /* registered this round: copied whole */
	TV_TRACKED,   /* ours since an earlier round */
	TV_UNTRACKED, /* can't be tracked (the task's own uffd, a kernel refusal): whole */
};

struct track_task {
	enum track_backend be;
	pid_t pid;
	uint64_t starttime;
	bool incremental; /* the parent round's dirty bits are what we read */
	int uffd;	  /* our copy (uffd-wp), -1 */
	int task_fd;	  /* its number in the task, -1 */
	int pagemap_fd;
	enum track_vma_state *vs; /* per VMA of the list given to open */
	size_t nr_vmas;
	struct track_range *runs; /* the last track_vma()'s */
	size_t nr_runs, cap_runs;
	/* soft-dirty: every VMA's written runs, read when the round opened (before the dump's own
	 * remote mmap()s: one that merges with a VMA makes the kernel mark it all soft-dirty) */
	struct track_range *sd;
	size_t *sd_first, *sd_n;
	uint64_t pages_untracked; /* pages of VMAs copied whole although incremental */
	/* uffd-wp, a last round (nothing is protected again for a next one): track_vma() leaves
	 * the written pages to the caller's data scan (pagescan want_written), one walk not two */
	bool in_data_scan;
};

int track_task_open(struct track_task *t, enum track_backend be, pid_t pid, uint64_t starttime,
		    struct rsys *rs, const struct vma_list *vmas, uint32_t parent_id);
bool track_vma_ours(const struct track_task *t, size_t i);
int track_vma(struct track_task *t, const struct vma_list *vmas, size_t i, bool *whole);
bool track_owns_fd(const struct track_task *t, pid_t pid, int fd);
int track_task_close(struct track_task *t, struct rsys *rs, bool keep);
int track_commit(const struct track_task *t, uint32_t dump_id);
/* An earlier round left a tracker (a state file) in this task. */
bool track_armed(pid_t pid, uint64_t starttime);
/* Remove the state files of tasks that are gone. */
void track_prune(void);

/* track-uffd.c / track-sd.c, for track.c */
int track_uffd_arm(struct track_task *t, struct rsys *rs, const struct vma_list *vmas);
/* mremap() of a tracked range makes it count as new (checked on a throwaway mapping). */
bool track_uffd_remap_safe(void);
int track_uffd_scan(struct track_task *t, const struct vma_list *vmas, size_t i);
int track_uffd_disarm(struct track_task *t, struct rsys *rs);
int track_sd_scan(struct track_task *t, const struct vma_list *vmas, size_t i);
int track_sd_clear(const struct track_task *t);
int track_add_run(struct track_task *t, uint64_t start, uint64_t end);

#endif
