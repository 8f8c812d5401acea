/* restore: rebuild a task from an image directory.
 *
 * Contract: restore_run() reads and verifies every image before creating
 * anything (a corrupt, truncated or incompatible image is refused with the
 * file named); prepares what the task needs from the restorer's side (files
 * opened as "transfer fds" numbered >= xfer_base, which the skeleton inherits
 * at clone time); creates the skeleton with the dumped pid (skeleton.h),
 * seizes it and rebuilds it through rsys: restore-mm.c (address space,
 * contents, vDSO, mm fields), restore-files.c (fds, cwd, root, umask),
 * restore-core.c (signals, limits, attributes, then registers and xstate as
 * the very last step). If any step fails, every task it created is killed
 * and reaped; images are only ever read.
 * Order inside the skeleton: mm -> files -> core -> final registers. */
#ifndef CRIU_LITE_RESTORE_H
#define CRIU_LITE_RESTORE_H

#include <stdbool.h>
#include <stdint.h>

#include "core.pb-c.h"
#include "files.pb-c.h"
#include "inventory.pb-c.h"
#include "mm.pb-c.h"
#include "pstree.pb-c.h"
#include "shmem.pb-c.h"

#include "criu-lite/cli.h"
#include "criu-lite/kerndat/kerndat.h"
#include "criu-lite/kinds/core.h"
#include "criu-lite/rsys.h"
#include "criu-lite/seize.h"
#include "criu-lite/restore/skeleton.h"
#include "images/img.h"
#include "images/pages.h"

/* A file the restorer opened for a task: the skeleton inherits it as fd
 * xfer_fd; restore-files.c moves it to its final number. */
struct restore_fd {
	int fd;	     /* number in the restored task */
	int xfer_fd; /* number in the restorer and, after clone, in the skeleton */
	bool cloexec;
};

struct restore_task {
	pid_t pid;  /* as the restorer sees it (host pid): for /proc and ptrace; 0 until created */
	pid_t vpid; /* in the tree's own PID namespace, as in the images */
	struct restore_task *parent;
	bool zombie;
	PstreeEntry *pstree; /* points into restore_ctx.pstree */
	CoreEntry *core;
	MmEntry *mm;
	FsEntry *fs;
	FdinfoEntry **fdinfo;
	size_t nr_fdinfo;
	struct page_reader *pages;
	/* transfer fds: fds[] for the task's fd table, map_fds[i] for
	 * mm->vmas[i] when that VMA maps a file (-1 otherwise) */
	struct restore_fd *fds;
	size_t nr_fds;
	int *map_fds;
	int cwd_fd, root_fd; /* transfer fds of the cwd and root directories */
	int exe_fd;	     /* transfer fd of /proc/PID/exe's file, -1 if none */
	struct skel sk;
	struct seized_task st;
	struct rsys rs; /* in the leader; in a live thread once an exited leader exited again */
	bool rs_open;
	pid_t *tids; /* host tid of each core->threads[i] (0: not created yet); restore-core */
	/* per mm->vmas[i]: kept as inherited from the parent (pages shared copy-on-write:
	 * restore-cow.c); NULL when the task shares none */
	bool *cow_keep;
	/* per mm->vmas[i]: registered with userfaultfd, filled by lazy-pages (restore-lazy.c);
	 * NULL without --lazy-pages */
	bool *lazy;
	bool mm_done; /* restore_mm() ran (before the task forked its children) */
	struct restore_chain_task *chain; /* its pages in parent images (restore-chain.h) */
};

struct restore_ctx {
	const struct opts *o;
	struct img_dir *dir;
	struct kerndat kd;
	InventoryEntry *inv;
	PstreeEntry **pstree;
	size_t nr_pstree;
	FileEntry **files; /* files.img, by id through restore_file() */
	size_t nr_files;
	struct restore_task *tasks;
	size_t nr_tasks;
	/* shared memory objects (shmem.img): their verified pages, then the
	 * transfer fd of each object once restore_shmem_prepare() made it */
	ShmemEntry **shmem;
	size_t nr_shmem;
	struct page_reader **shmem_pages;
	int *shmem_fds;
	bool *shmem_lazy; /* filled by lazy-pages (restore_lazy_plan()) */
	int xfer_base;	  /* every transfer fd is >= this, every other restorer fd below */
	struct restore_pipes *pipes;	 /* restore-pipes.c: pipes created so far (pipes.h) */
	struct restore_unix *usk;	 /* restore-unix.c: every unix socket (sk-unix.h) */
	struct restore_inet *isk;	 /* restore-inet.c: every inet socket (sk-inet.h) */
	struct restore_memfds *memfds;	 /* restore-shmem.c: memfd descriptions opened (memfd.h) */
	struct restore_ghosts *ghosts;	 /* deleted files recreated so far (restore-files.h) */
	struct restore_lazy *lazy;	 /* restore-lazy.c: the server and the guardian */
	struct restore_chain *chain;	 /* restore-chain.c: the parent images, or NULL */
	struct restore_veths *veths;	 /* restore-veth.c: veth pairs made (netns.h) */
	struct restore_sknetns *sknetns; /* other namespaces of its sockets (restore-sknetns.h) */
	struct restore_ptys *ptys;	 /* restore-tty.c: the pseudo-terminals made */
	struct restore_inflight *inflight; /* restore-inflight.c: files in flight opened */
	/* the restorer's signal actions when it made the skeletons, which they inherit
	 * (restore_sigactions_inherited(); sa_known false: unknown, every action is set) */
	struct core_ksigaction sa_inherited[CORE_NSIG + 1];
	bool sa_known;
};

int restore_run(const struct opts *o);

/* restore-late.c (see there): the entries made from inside their task once the tree exists
 * (pidfds, fds on a task's own namespaces), checked while the transfer fds are prepared, and
 * fd i of task t installed when its table is filled. */
bool restore_late(const FileEntry *fe);
int restore_late_check(struct restore_ctx *c, const FileEntry *fe);
int restore_late_install(struct restore_ctx *c, struct restore_task *t, size_t i);
/* Whether fe, an fd of t, waits until t's threads exist (a PIDFD_THREAD pidfd of one of them):
 * restore_files() leaves those fds out, and restore_late_threads() installs them once the
 * threads are made (restore-core.c). */
/* restore-helper.c (see there): a short-lived process in the tree's PID namespace. */
pid_t restore_helper_start(const struct restore_ctx *c, int32_t st, pid_t want, int w[2]);
pid_t restore_helper_vpid(pid_t pid);
/* restore-procpid.c: a file under /proc/PID of a task of the tree or of a process that was gone
 * at dump (reg_file_entry proc_pid), opened in t: its fd number there, or -errno. */
long restore_procpid_make(struct restore_ctx *c, struct restore_task *t, const FileEntry *fe);
/* path opened in t (its root, cwd and mounts) with flags and O_CLOEXEC: the fd number there, or
 * -errno (logged with what). */
long restore_late_open(struct restore_task *t, const char *path, int flags, const char *what);
bool restore_late_after_threads(const struct restore_task *t, const FileEntry *fe);
int restore_late_threads(struct restore_ctx *c, struct restore_task *t);
/* Where open file description id (fd i of t's image) is already installed: the fd number in t
 * (an earlier fd: *task t) or in a task restored before it that has a table of its own; -1 if
 * nowhere. */
int restore_fd_holder(struct restore_ctx *c, struct restore_task *t, size_t i, uint32_t id,
		      struct restore_task **task);

/* restore-fown.c (see there): an entry's owner record checked while the fds are prepared; the
 * owners and I/O signals set in task t once its credentials are restored. */
int restore_fown_check(struct restore_ctx *c, const FileEntry *fe);
int restore_fown(struct restore_ctx *c, struct restore_task *t);

/* restore-tty.c (see there): an FT_PTY entry's fd, while the transfer fds are prepared; the
 * ptys finished once every task's are (controlling terminals' slaves opened, locks); a
 * session leader's controlling terminal, right after its setsid(); the foreground groups and
 * a check of every task's terminal, once the process groups exist. */
int restore_pty_open(struct restore_ctx *c, const FileEntry *fe);
int restore_ptys_prepare(struct restore_ctx *c);
int restore_pty_ctty(struct restore_ctx *c, struct restore_task *t);

/* restore-timens.c (see there): the tree's time namespaces. restore_timens_root() checks the
 * records and, before the root is cloned, makes the root's; restore_timens_back(saved) after;
 * restore_timens_kids() makes the one t creates its children in, before they are cloned;
 * restore_timens_verify() once the tree exists. 0 or -errno, logged. */
int restore_timens_root(struct restore_ctx *c, int *saved);
int restore_timens_back(int saved);
int restore_timens_kids(struct restore_ctx *c, struct restore_task *t);
int restore_timens_verify(struct restore_ctx *c);
int restore_pty_fg(struct restore_ctx *c);
void restore_ptys_free(struct restore_ctx *c);

/* Every record of an image file into *out (*n of them; free each, then the array). optional:
 * -ENOENT, not logged, when there is no such file. 0 or -errno (logged). */
int restore_read_all(struct img_dir *d, enum img_kind kind, long id, ProtobufCMessage ***out,
		     size_t *n, bool optional);

/* restore-inflight.c (see there): the files in flight in unix sockets' queues (SCM_RIGHTS).
 * restore_inflight_fd(): the restorer's fd to send for file id (borrowed), or -errno (logged);
 * restore_inflight_take(): a new O_CLOEXEC dup of one it opened, for a task prepared after,
 * or -ENOENT; restore_inflight_done(): closes what it opened. */
int restore_inflight_fd(struct restore_ctx *c, uint32_t id);
int restore_inflight_take(struct restore_ctx *c, uint32_t id);
void restore_inflight_done(struct restore_ctx *c);
/* The transfer fd a task prepared before t (NULL: any task prepared so far) got for file id,
 * or -1 (restore-files.c). */
int restore_xfer_of(const struct restore_ctx *c, const struct restore_task *t, uint32_t id);

/* Move fd to the lowest free number >= c->xfer_base (closing fd); returns it or -errno. */
int restore_xfer_fd(struct restore_ctx *c, int fd);
/* One remote syscall in t (restore-files.c), its failure logged with what it was for: its
 * result, or -errno. */
long restore_files_call(struct restore_task *t, const char *what, long nr, long a1, long a2,
			long a3);
const FileEntry *restore_file(const struct restore_ctx *c, uint32_t id);

/* Read shmem.img (if the dump has one) and verify every object's pages. */
int restore_shmem_read(struct restore_ctx *c);
/* Create every object in the restorer, empty, as a transfer fd. */
int restore_shmem_prepare(struct restore_ctx *c);
/* Their contents (or, for the lazy ones, placeholders: restore-shmem.c), mode, owner, seals. */
int restore_shmem_fill(struct restore_ctx *c);
/* The transfer fd of object id, or -EBADMSG (logged) if there is none. */
int restore_shmem_fd(const struct restore_ctx *c, uint32_t id);
void restore_shmem_free(struct restore_ctx *c);

/* restore-manifest.c: the image set as a whole (see there). */
int restore_manifest_check(struct restore_ctx *c);
int restore_manifest_pages(struct restore_ctx *c, const char *name, uint32_t crc);
/* The same against another set's inventory (a parent of the chain: restore-chain.c). */
int restore_manifest_pages_of(const InventoryEntry *inv, const char *name, uint32_t crc);
int restore_task_runs_check(const struct restore_task *t);

/* Steps of restore_run() for one task: the address space (before the task forks its children,
 * restore-tree.c, so they inherit what they shared with it). */
int restore_task_mm(struct restore_ctx *c, struct restore_task *t);

/* Pages shared copy-on-write with the parent (restore-cow.c): checked before anything
 * exists; in the task, unmap all but the kept VMAs, then ready those for pagefill. */
int restore_cow_check(struct restore_ctx *c, struct restore_task *t);
int restore_cow_unmap(struct restore_task *t);
int restore_cow_fill_prep(struct restore_task *t, const uint64_t *vmf);

/* Before the skeleton exists (in the restorer): open what will be inherited. */
int restore_mm_prepare(struct restore_ctx *c, struct restore_task *t);
int restore_files_prepare(struct restore_ctx *c, struct restore_task *t);
/* Inside the seized skeleton, through t->rs. restore_core_prepare() comes first: it drops
 * the rseq registration the skeleton inherited from the restorer (its area is in memory that
 * restore_mm() unmaps; the kernel would SIGSEGV the skeleton on its next return to user mode). */
int restore_core_prepare(struct restore_ctx *c, struct restore_task *t);
int restore_mm(struct restore_ctx *c, struct restore_task *t);
/* Once the task's children exist: what they must not inherit (mseal, MDWE, mlockall) and the
 * check of every VMA's flags. */
int restore_mm_late(struct restore_ctx *c, struct restore_task *t);
int restore_files(struct restore_ctx *c, struct restore_task *t);
int restore_core(struct restore_ctx *c, struct restore_task *t);
/* Note the restorer's signal actions, right before the skeletons are made (restore-core.c). */
void restore_sigactions_inherited(struct restore_ctx *c);
/* After rsys is closed: registers, xstate and signal mask of every thread. */
int restore_core_regs(struct restore_ctx *c, struct restore_task *t);
/* Right after the images are read: can this host run the dumped task (xstate)? */
int restore_core_check(struct restore_ctx *c, struct restore_task *t);
/* The same for its address space: guard regions, sealed and droppable mappings. */
int restore_mm_check(struct restore_ctx *c, struct restore_task *t);

/* restore-vma.c: each VMA's attributes (see there). */
/* The VMF_* bits of a VMA's vmflags (0 when the image has none); -EBADMSG (logged) when they
 * can't be parsed or name a flag no dump records. */
int restore_vma_flags(const VmaEntry *v, uint64_t *flags);
/* A private VMA that was never writable: mapped as it is, its pages written through
 * /proc/PID/mem (mapped writable, the kernel would account it: VmFlags ac). */
bool restore_vma_direct(const VmaEntry *v, uint64_t flags);
/* Private anonymous memory: an anonymous mapping, the heap or a stack, not MAP_SHARED
 * (restore-cow.c; what copy-on-write sharing and lazy restore apply to). */
bool restore_vma_private_anon(const VmaEntry *v);
int restore_vma_before_fill(struct restore_task *t, const VmaEntry *v, uint64_t flags);
int restore_vma_finish(struct restore_task *t, const VmaEntry *v, uint64_t flags, bool merge_any);
/* mseal() of a VMA that was sealed (after the task's children were forked: a child inherits
 * the seal, and its own restore must unmap what it inherited). */
int restore_vma_seal(struct restore_task *t, const VmaEntry *v);
/* Every VMA of the rebuilt task against its dumped VmFlags: -EIO (logged) on a difference. */
int restore_vma_check(struct restore_task *t);
/* restore-mmattr.c: the mm-wide switches, before the VMAs and after them. */
int restore_mm_attrs_early(struct restore_task *t);
int restore_mm_attrs_late(struct restore_task *t);

#endif
