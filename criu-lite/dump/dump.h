/* dump: checkpoint a task into an image directory.
 *
 * Contract: cmd_dump() freezes the whole tree top-down (a task is seized
 * before its children are listed, so nothing escapes by forking), runs every
 * dump step in order for every task, each step a named fault-injection site
 * (fault.h), writes the images and then kills the tree (or resumes it with
 * --leave-running). cmd_pre_dump() does the same for the tasks' private pages
 * only and always resumes the tree, with dirty tracking armed (dump-track.h). If any step fails,
 * every task is resumed exactly as it was (registers, mask, scratch memory put back, not traced)
 * and every image file this dump created is removed. Zombies are recorded, not seized. Steps (one
 * file each): dump-core.c (registers, xstate, signals, task attributes), dump-mm.c (VMAs, mm
 * fields, pages), dump-files.c (fds, open files, deleted files, cwd/root), dump-tree.c (pstree,
 * inventory). With
 * --page-server the images go to a page server instead (dump-push.h). */
#ifndef CRIU_LITE_DUMP_H
#define CRIU_LITE_DUMP_H

#include <stdint.h>
#include <sys/stat.h>

#include "criu-lite/cli.h"
#include "criu-lite/kerndat/kerndat.h"
#include "criu-lite/proc/proc.h"
#include "criu-lite/rsys.h"
#include "criu-lite/seize.h"
#include "images/img.h"
#include "images/pages.h"
#include "core.pb-c.h"
#include "files.pb-c.h"

struct file_entry_list; /* dump-files.c: files.img records collected so far */
struct push_client;	/* lazy-pages/push-client.h */
struct xfer_auth;	/* lazy-pages/xfer-conn.h */
struct shmem_list;	/* dump-shmem.c: shared memory objects dumped so far */

/* What every task of the dump shares: images, kernel facts, objects that
 * several tasks may hold (open files, pipes, shared memory), statistics. */
/* Where a dump's time goes (dump.c: the summary line names the longest, -v logs them all,
 * --stats-file has each as phase_<name>_s). */
enum dump_phase {
	DUMP_PH_START,	 /* the image directory, the kernel's features */
	DUMP_PH_FREEZE,	 /* seizing the tree */
	DUMP_PH_PROC,	 /* /proc, ids, rsys sessions, trackers, stops */
	DUMP_PH_CORE,	 /* registers, signals, credentials, ... (dump_core) */
	DUMP_PH_FILES,	 /* the fds (dump_files) */
	DUMP_PH_MEMORY,	 /* the memory (dump_mm) */
	DUMP_PH_COMMIT,	 /* files.img, pstree.img, shared memory, durability, the manifest */
	DUMP_PH_RELEASE, /* killing or releasing the tree */
	DUMP_PH_N
};

struct dump_shared {
	const struct opts *o;
	struct img_dir *dir;
	struct kerndat kd;
	/* files.img: one record per open file description of the whole tree
	 * (ids from 1); dump-mm.c adds mapped files through dump_file_add_path(). */
	struct file_entry_list *files;
	uint32_t next_file_id;
	uint32_t next_ghost_id;
	struct shmem_list *shmem;
	struct shmem_parent_list
	    *shmem_parent;	      /* the parent set's shmem.img (dump-shmem-chain.h) */
	struct dump_inet *inet;	      /* inet sockets, and the connections held (sk-inet.h) */
	struct netns_dump *netns;     /* the tree's own network namespace (netns.h), or NULL */
	struct dump_sknetns *sknetns; /* other namespaces of its sockets (dump-sknetns.h) */
	uint32_t next_shmem_id;
	struct page_bufs *bufs; /* page writers' buffers, kept from task to task */
	/* --page-server: where dir sends its files (dump-push.h), and the key */
	struct push_client *push;
	struct push_tee *tee; /* and a local index of what it sends (-D), or NULL */
	struct xfer_auth *auth;
	bool root_pidns; /* the root is the init of its own PID namespace */
	/* the index in NSpid & co. of the level whose ids the images keep (dump_tree_ids) */
	unsigned int ns_level;
	/* stats for the log and benchmarks */
	uint64_t pages_dumped, pages_zero;
	uint64_t shmem_pages; /* of shared memory objects (dump-shmem.c), copied */
	uint64_t shmem_pages_parent,
	    shmem_pages_whole; /* left in the chain; copied, no parent copy */
	uint64_t pages_cow;    /* shared with the parent task: inherited at restore (dump-cow.c) */
	uint32_t dump_id;      /* in every record file's header and in inventory.img */
	/* --lazy-pages: what went to the destination, and how long it took */
	uint64_t lazy_sent, lazy_pages;
	double lazy_s;
	struct dump_track *track; /* dirty tracking and the pre-dump chain (dump-track.h) */
	struct dump_snap
	    *snap; /* --snapshot: the memory copied while the tree runs (dump-snap.h) */
	struct dump_ptys *ptys;	    /* the pty masters the tree holds (dump-tty.c) */
	struct dump_timens *timens; /* the tree's time namespaces (dump-timens.c) */
	double phase_s[DUMP_PH_N];  /* seconds spent in each phase */
	/* every task of the dump, once the tree is frozen (for the fds that name a task) */
	struct dump_ctx *tasks;
	size_t nr_tasks;
};

/* One task of the tree. Image files are named by vpid. */
struct dump_ctx {
	struct dump_shared *sh;
	/* As criu-lite sees it (host pid): for /proc and ptrace. When the leader thread has
	 * exited while other threads run (st.leader_exited), the tid of a live thread: the
	 * zombie leader's /proc/PID/{maps,fd,mem,...} are empty, its thread's are not;
	 * st.pid keeps the thread-group id. */
	pid_t pid;
	pid_t vpid; /* in the dumped tree's own PID namespace (== pid without one) */
	pid_t vppid, vpgid, vsid;
	struct dump_ctx *parent; /* in the dump (NULL for the root) */
	bool files_shared;	 /* its fd table is its parent's (CLONE_FILES) */
	bool zombie;
	int exit_code;	 /* wait status of a zombie */
	int exit_signal; /* what its death sends its parent (clone's exit_signal) */
	/* dump-stop.c: the signal of the group stop the task is in (0: running), and whether its
	 * parent had collected the stop report: 1 yes, 0 no, -1 unknown (the root) */
	int stop_sig;
	int stop_reported;
	/* dump-tty.c: 1 + the index of the tree's pty that is its controlling terminal (0: none
	 * of the tree's), and a session leader's foreground group on it (tree namespace) */
	uint32_t ctty, fg_pgrp;
	struct seized_task st;
	pid_t *vtid;	/* of each st.thr[k], in the tree's PID namespace (dump_tree_ids) */
	struct rsys rs; /* on the thread pid names, open while dumping */
	bool rs_open;
	struct proc_stat stat;
	struct proc_status status;
	struct vma_list vmas;
	struct proc_cgroup_list cgroups; /* dump-cgroup.c */
	struct dump_track_task *trk;	 /* its tracker (dump-track.h), or NULL */
	struct snap_task *snap;		 /* --snapshot: its part (dump-snap.h), or NULL */
	bool inflight; /* the dumper itself, holding files in flight (dump-inflight.c) */
	uint32_t timens, timens_kids; /* dump-timens.c: its time namespaces (0: the dumper's) */
};

/* dump-inventory.c: "vvar:16384,vvar_vclock:8192,vdso:8192" (inventory.vdso_layout); a new
 * random nonzero dump id; inventory.img with the manifest of every file written so far
 * (written last). */
void dump_vdso_layout(const struct kerndat *kd, char *buf, size_t len);
uint32_t dump_new_id(void);
int dump_inventory(struct dump_shared *sh, pid_t root_vpid, uint32_t dump_id);

/* dump-timens.c (see there): the time namespaces of the tree. dump_timens_task(): task c's
 * (c->timens, c->timens_kids); dump_timens_check(): once every task is seen, refuses what
 * restore could not make again; dump_timens_fill(): a task's records of them (own and kids
 * are filled and pointed to by pe). 0 or -errno, logged. */
struct TimensEntry;
struct PstreeEntry;
int dump_timens_task(struct dump_ctx *c);
int dump_timens_check(const struct dump_shared *sh, const struct dump_ctx *tasks, size_t n);
void dump_timens_fill(const struct dump_shared *sh, const struct dump_ctx *c,
		      struct TimensEntry *own, struct TimensEntry *kids, struct PstreeEntry *pe);
void dump_timens_free(struct dump_shared *sh);
int dump_core(struct dump_ctx *c);
/* c->cgroups: the task's cgroup in every hierarchy (a zombie's too); refuses a process whose
 * threads are in different cgroups. */
int dump_cgroups(struct dump_ctx *c);
/* dump-attrs.c, for dump-core.c: refusals before the first remote call; the process-wide
 * attributes (ce->attrs, through the leader's session rs and its scratch page); one thread's
 * (te->attrs, through that thread's session), after the process's. */
int dump_attrs_check(const struct dump_ctx *c);
int dump_task_attrs_proc(const struct dump_ctx *c, struct rsys *rs, uint64_t scratch,
			 CoreEntry *ce);
int dump_thread_attrs(const struct dump_ctx *c, const CoreEntry *ce, pid_t tid, struct rsys *rs,
		      uint64_t scratch, ThreadCoreEntry *te);
/* dump-creds.c: the task's credentials (ce, from the status of the thread c->pid names:
 * uids, gids, groups, capabilities, no_new_privs; securebits are the caller's); a thread's
 * own (te->creds, through a session rs in it) where any of them differs from the task's. */
int dump_task_creds(const struct proc_status *st, CoreEntry *ce);
int dump_thread_creds(const struct dump_ctx *c, const CoreEntry *ce, pid_t tid, struct rsys *rs,
		      ThreadCoreEntry *te);
/* dump-tree.c: the id, in the tree's PID namespace, of the thread (F_OWNER_TID), process
 * (F_OWNER_PID; a zombie too) or process group (F_OWNER_PGRP) of the tree that criu-lite sees as
 * host; 0 when it is none of the tree's. *task (unless NULL) gets the task it belongs to. */
pid_t dump_tree_vid(const struct dump_shared *sh, int kind, pid_t host,
		    const struct dump_ctx **task);
/* dump-fown.c: fd's owner and I/O signal (O_ASYNC with flags, or a socket), *out NULL when
 * there is none to keep; an owner outside the tree is refused. */
int dump_fown(struct dump_ctx *c, int fd, uint32_t flags, bool sock, const char *what,
	      FownEntry **out);
/* dump-tree.c: the id, in the tree's PID namespace, of the thread (F_OWNER_TID), process
 * (F_OWNER_PID; a zombie too) or process group (F_OWNER_PGRP) of the tree that criu-lite sees as
 * host; 0 when it is none of the tree's. *task (unless NULL) gets the task it belongs to. */
pid_t dump_tree_vid(const struct dump_shared *sh, int kind, pid_t host,
		    const struct dump_ctx **task);
/* dump-fown.c: fd's owner and I/O signal (O_ASYNC with flags, or a socket), *out NULL when
 * there is none to keep; an owner outside the tree is refused. */
int dump_fown(struct dump_ctx *c, int fd, uint32_t flags, bool sock, const char *what,
	      FownEntry **out);
/* dump-tty.c: an fd on an end of a pty whose master the tree holds (*outside: a slave of a
 * pty it doesn't, the inherited terminal); the controlling terminals (c->ctty, c->fg_pgrp);
 * the pass's list of masters. */
struct dump_pty_fd {
	const char *what; /* "pid 12 fd 3", for messages */
	int fd;
	uint32_t flags; /* status flags */
	const struct stat *st;
};
struct dump_ptys;
bool dump_pty_master_dev(dev_t rdev);
bool dump_pty_slave_dev(dev_t rdev);
int dump_pty(struct dump_ctx *c, const struct dump_pty_fd *f, PtyFileEntry **out, bool *outside);
int dump_tty_ctty(struct dump_shared *sh, struct dump_ctx *tasks, size_t nr);
void dump_ptys_free(struct dump_ptys *p);
/* dump-seccomp.c: refusal before the first remote call (a task under seccomp on a kernel that
 * can't suspend it for a tracer); every thread's seccomp mode and filters into ce (after the
 * threads are in ce->threads). */
int dump_seccomp_check(const struct dump_ctx *c);
int dump_seccomp(struct dump_ctx *c, CoreEntry *ce);
int dump_mm(struct dump_ctx *c);
/* A pre-dump's: the task's private pages only (pagemap-PID.img, pages-*.img). */
int dump_mm_predump(struct dump_ctx *c);
/* dump-mmattr.c: the mm-wide switches (THP disable, KSM merge-any, MDWE, mlockall for new
 * mappings, coredump_filter) into mm. */
struct MmEntry;
int dump_mm_attrs(struct dump_ctx *c, struct MmEntry *mm);
int dump_files(struct dump_ctx *c);
/* Which tasks are stopped and what their parents know of it (dump-stop.c); after dump_core()
 * of every task, whose rsys sessions it uses. */
struct dump_tree_list;
int dump_stops(struct dump_tree_list *tl);
/* pstree.img (every task, parents first). */
int dump_tree(struct dump_shared *sh, struct dump_ctx *tasks, size_t nr);
/* Writes files.img from c->sh->files (after every task); frees the list. */
int dump_files_commit(struct dump_ctx *c);
/* After every task: no pipe of the tree may be open outside it too, unless --external, nor an
 * open file description that holds a lock of the tree. */
int dump_files_outside(struct dump_ctx *tasks, size_t n);

/* An open file description of the tree that holds a flock or OFD lock (for dump_outside). */
struct outside_lock {
	pid_t pid; /* a task of the tree with it at fd */
	int fd;
	dev_t dev;
	ino_t ino;
	char what[48];	  /* "pid 12 fd 3" */
	const char *kind; /* "flock", "OFD" */
};
struct dump_pipes;
/* Refuse a pipe or FIFO of p that a process outside the tree (whose process ids are
 * tree[0..n)) has open too, naming both ends, unless it is --external; an --external key that
 * names no pipe of p; and one of locks[0..nl) that an outsider has too (dump-outside.c). */
int dump_outside(const struct opts *o, const struct dump_pipes *p, const struct outside_lock *locks,
		 size_t nl, const pid_t *tree, size_t n);
void dump_files_free(struct dump_ctx *c);

/* The shared memory object behind VMA v (shared anon or memfd): dumped once,
 * with every page found through SEEK_DATA on the object itself (so pages
 * swapped out are never missed); its id in *id. */
int dump_shmem_vma(struct dump_ctx *c, const struct vma *v, uint32_t *id);
/* shmem.img from c->shmem; frees the list. */
int dump_shmem_commit(struct dump_ctx *c);
/* len bytes of a shared memory object at off, through our fd; past its size: zeroes. 0 or -errno
 * (-EIO when it shrank under us). Not logged. */
int dump_shmem_read(int fd, void *buf, size_t len, off_t off, uint64_t size);
void dump_shmem_free(struct dump_ctx *c);

/* cwd, root and umask of c (dump-fs.c): checked before the fds, written after them. */
int dump_fs_collect(struct dump_ctx *c, FsEntry *fs);

/* A socket fd of the task (dump-socket.c): by family (AF_UNIX, AF_INET, AF_INET6, AF_NETLINK,
 * AF_PACKET; the others refused, naming the family), read in its own network namespace
 * (dump-sknetns.h). What files.img keeps of it, into *out; 0 or -errno (logged). */
struct dump_unix;
struct proc_fdinfo;
struct dump_sk_rec {
	FileType type;
	UnixSkEntry *usk;    /* FT_UNIXSK (sk-unix.h), owned by the dump's unix table */
	InetSkEntry *isk;    /* FT_INETSK (sk-inet.h), owned by the dump's inet table */
	NetlinkSkEntry *nsk; /* FT_NETLINKSK (sk-netlink.h), malloc'd */
	PacketSkEntry *psk;  /* FT_PACKETSK (sk-packet.h), malloc'd */
	uint32_t netns_id;   /* netns-refs.img, 0: the tree's namespace */
};
int dump_socket(struct dump_ctx *c, struct dump_unix **usk, const struct proc_fd *f,
		const struct proc_fdinfo *fi, uint32_t flags, const struct stat *st,
		struct dump_sk_rec *out);

/* A regular file by path (a mapped file of the task, opened read-only for a
 * mapping): returns its file id in *id, reusing an entry with the same
 * dev/ino and flags. deleted: the path was unlinked (contents are saved). */
int dump_file_add_path(struct dump_ctx *c, const char *path, int open_flags, uint32_t *id);
/* A deleted cwd (link: what /proc/PID/cwd reads) as an entry of its own: a directory opened
 * O_RDONLY, recreated as a ghost at restore. */
int dump_file_add_cwd(struct dump_ctx *c, const char *link, uint32_t *id);
/* dump-procpid.c: whether the file via reaches (link: its path as the task sees it) is under
 * /proc/PID of a task of the tree or of a process that is gone: 1 with *pid and *gone, 0, or
 * -errno. */
int dump_proc_pid(struct dump_ctx *c, const char *what, const char *via, const char *link,
		  pid_t *pid, bool *gone);
/* One fd f of c as a file of the dump (dump-files.c), its id in *id; what names it in
 * messages (NULL: "pid P fd N"). *kept: a new entry that keeps f->fd (closed with the list). */
int dump_file_fd(struct dump_ctx *c, const struct proc_fd *f, const char *what, uint32_t *id,
		 bool *kept);

/* Files in flight (dump-inflight.c). dump_file_inflight(): fd, a copy of a file in flight in
 * the receive queue of unix socket sock_ino (the dumper's own fd, always consumed), as a file
 * of the dump; its id in *id. The checks dump_fd() makes for such an fd: of its kind before
 * it is read (dump_inflight_check_fd), of what it turned out to be (dump_inflight_check_rec). */
int dump_file_inflight(struct dump_ctx *c, int fd, uint32_t sock_ino, const char *what,
		       uint32_t *id);
int dump_inflight_check_fd(const char *what, const struct proc_fd *f, const struct proc_fdinfo *fi);
int dump_inflight_check_rec(const char *what, const struct proc_fd *f, FileType type,
			    bool has_owner);

#endif
