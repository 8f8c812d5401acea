/* proc: parsers for /proc/PID/{smaps,stat,status,auxv,fdinfo/N,fd/,task/,task/TID/children} and
 * files of one value (oom_score_adj, loginuid, coredump_filter, autogroup, ...).
 *
 * Contract:
 * - Each parser has two layers. proc_parse_X_buf(name, buf, len, out) is pure: it reads only
 *   buf[0..len) (no NUL terminator needed), fills out completely, or logs one message
 *   "NAME:LINE: what is wrong" and returns -EINVAL for malformed text. proc_parse_X(pid, ...)
 *   reads the whole file into a buffer (on failure: one message naming the file and the errno,
 *   and -errno) and calls the first.
 * - Lists are arrays grown with realloc. Each has a free function that resets it and is safe on
 *   a zeroed or already freed list. On any error, out holds nothing allocated.
 * - Values are what the kernel shows; sizes the file gives in kB are converted to bytes.
 * Facts of this machine (6.18, x86_64) the parsers rely on are noted at each struct.
 */
#ifndef CRIU_LITE_PROC_H
#define CRIU_LITE_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- smaps ------------------------------------------------------------------------------- */

/* VmFlags mnemonics as bits of our own (the kernel's bit numbers depend on arch and config). */
#define VMF_RD (1ULL << 0)  /* readable */
#define VMF_WR (1ULL << 1)  /* writeable */
#define VMF_EX (1ULL << 2)  /* executable */
#define VMF_SH (1ULL << 3)  /* shared (VM_SHARED) */
#define VMF_MR (1ULL << 4)  /* may read */
#define VMF_MW (1ULL << 5)  /* may write */
#define VMF_ME (1ULL << 6)  /* may execute */
#define VMF_MS (1ULL << 7)  /* may share (VM_MAYSHARE: the 's' of the perms column) */
#define VMF_GD (1ULL << 8)  /* grows down (MAP_GROWSDOWN, [stack]) */
#define VMF_PF (1ULL << 9)  /* pure PFN range */
#define VMF_DW (1ULL << 10) /* denied write (kernels < 5.15) */
#define VMF_LO (1ULL << 11) /* locked (mlock, MAP_LOCKED) */
#define VMF_IO (1ULL << 12) /* memory mapped I/O */
#define VMF_SR (1ULL << 13) /* MADV_SEQUENTIAL */
#define VMF_RR (1ULL << 14) /* MADV_RANDOM */
#define VMF_DC (1ULL << 15) /* VM_DONTCOPY: MADV_DONTFORK */
#define VMF_DE (1ULL << 16) /* do not expand on mremap */
#define VMF_AC (1ULL << 17) /* accountable */
#define VMF_NR (1ULL << 18) /* swap space not reserved (MAP_NORESERVE) */
#define VMF_HT (1ULL << 19) /* hugetlb */
#define VMF_SF (1ULL << 20) /* synchronous page faults (MAP_SYNC) */
#define VMF_NL (1ULL << 21) /* non-linear (kernels < 4.0) */
#define VMF_AR (1ULL << 22) /* architecture specific */
#define VMF_WF (1ULL << 23) /* MADV_WIPEONFORK */
#define VMF_DD (1ULL << 24) /* VM_DONTDUMP: MADV_DONTDUMP */
#define VMF_BT (1ULL << 25) /* arm64 BTI */
#define VMF_SD (1ULL << 26) /* soft-dirty (CONFIG_MEM_SOFT_DIRTY: off on this machine) */
#define VMF_MM (1ULL << 27) /* mixed map */
#define VMF_HG (1ULL << 28) /* MADV_HUGEPAGE */
#define VMF_NH (1ULL << 29) /* MADV_NOHUGEPAGE */
#define VMF_MG (1ULL << 30) /* MADV_MERGEABLE (KSM) */
#define VMF_UM (1ULL << 31) /* userfaultfd MISSING registration */
#define VMF_UW (1ULL << 32) /* userfaultfd WP registration */
#define VMF_MT (1ULL << 33) /* arm64 MTE */
#define VMF_UI (1ULL << 34) /* userfaultfd MINOR registration */
#define VMF_SS (1ULL << 35) /* shadow stack */
#define VMF_LF (1ULL << 36) /* lock on fault (mlock2 MLOCK_ONFAULT) */
#define VMF_DP (1ULL << 37) /* droppable */
#define VMF_SL (1ULL << 38) /* sealed (mseal) */
#define VMF_GU (1ULL << 39) /* VM_MAYBE_GUARD: MADV_GUARD_INSTALL was used on it (6.18: sticky) */

/* Room for every mnemonic a 64-bit vm_flags can show ("xx " each): unknown ones never overflow. */
#define VMA_FLAGS_UNKNOWN_MAX (64 * 3)

enum vma_kind {
	VMA_ANON,	      /* no name: anonymous memory */
	VMA_FILE,	      /* a file path (or a pseudo path like "anon_inode:[perf_event]") */
	VMA_HEAP,	      /* [heap]: any VMA overlapping start_brk..brk (see below) */
	VMA_STACK,	      /* [stack] */
	VMA_VDSO,	      /* [vdso] */
	VMA_VVAR,	      /* [vvar] */
	VMA_VVAR_VCLOCK,      /* [vvar_vclock] (6.x: between [vvar] and [vdso]) */
	VMA_VSYSCALL,	      /* [vsyscall] */
	VMA_UPROBES,	      /* [uprobes] */
	VMA_ANON_NAMED,	      /* [anon:NAME] (CONFIG_ANON_VMA_NAME; off on this machine) */
	VMA_ANON_SHMEM_NAMED, /* [anon_shmem:NAME] (same) */
	VMA_SPECIAL_OTHER,    /* any other "[...]" name, kept raw */
};

/*
 * One VMA. On this machine, MAP_SHARED|MAP_ANONYMOUS shows as "/dev/zero (deleted)" (dev 00:01),
 * a memfd as "/memfd:NAME (deleted)", SysV shm as "/SYSV%08x (deleted)" (inode = shmid), and a
 * MAP_PRIVATE mapping of /dev/zero as plain "/dev/zero" (devtmpfs dev:ino; anonymous memory).
 * 6.18 shows [heap] on every VMA overlapping start_brk..brk: there is none while brk was never
 * moved, and two when a forked child grew brk (the new VMA does not merge with the inherited one,
 * whose anon_vma chain is not singular).
 */
struct vma {
	uint64_t start, end; /* [start, end) */
	uint64_t pgoff;	     /* file offset in BYTES (the maps column is vm_pgoff << PAGE_SHIFT) */
	dev_t dev;	     /* makedev(major, minor) of the maps column */
	uint64_t inode;
	int prot;    /* PROT_READ | PROT_WRITE | PROT_EXEC */
	bool shared; /* 's' in the perms column (VM_MAYSHARE), else 'p' */
	enum vma_kind kind;
	char *name; /* raw name as shown (a '\n' in a path shows as "\012"); NULL if none */
	/* name ends with " (deleted)". proc_parse_vmas() clears it again when the name, suffix and
	 * all, is a live file of this dev:ino in the task's root (a file called "x (deleted)"). */
	bool deleted;
	uint64_t flags;				   /* VMF_* */
	char flags_unknown[VMA_FLAGS_UNKNOWN_MAX]; /* unknown mnemonics, space separated, or "" */
	/* smaps sizes in bytes */
	uint64_t size, kernel_page_size, mmu_page_size;
	uint64_t rss, pss, pss_dirty, shared_clean, shared_dirty, private_clean, private_dirty;
	uint64_t referenced, anonymous, ksm, lazyfree, anon_huge, shmem_pmd, file_pmd;
	uint64_t shared_hugetlb, private_hugetlb, swap, swap_pss, locked;
	int thp_eligible; /* THPeligible: 0/1 */
	int pkey;	  /* ProtectionKey, -1 when the line is absent (no pkeys: this machine) */
};

struct vma_list {
	struct vma *v;
	size_t n, cap;
};

void vma_list_free(struct vma_list *l);
/* Parse smaps text. Requires, per VMA: a valid header line, Size (== end - start), Rss, Swap,
 * Anonymous and VmFlags; VMAs must be ascending and disjoint. */
int proc_parse_smaps_buf(const char *name, const char *buf, size_t len, struct vma_list *out);
/* /proc/PID/smaps; also resolves each deleted flag as described at struct vma. */
int proc_parse_vmas(pid_t pid, struct vma_list *out);
/* The VMF_* flags of the VMA holding addr, reading smaps only up to it: 0, -ENOENT when no VMA
 * holds it, -EINVAL on an unreadable VmFlags line, another -errno. */
int proc_vma_flags_at(pid_t pid, uint64_t addr, uint64_t *flags);

/* VmFlags text [p, e) (two-letter mnemonics separated by spaces) -> VMF_* bits; mnemonics we
 * do not know go to unknown (VMA_FLAGS_UNKNOWN_MAX bytes), space separated. -EINVAL with *why
 * pointing at a token that is not a mnemonic, -E2BIG (why NULL) for more than 64 tokens. */
int vma_flags_from_text(const char *p, const char *e, uint64_t *flags, char *unknown,
			const char **why);
/* VMF_* bits -> VmFlags text, in the order smaps shows them (NUL-terminated, cut to len). */
void vma_flags_to_text(uint64_t flags, char *buf, size_t len);
/* Length of the name without the " (deleted)" suffix (0 when there is no name). */
size_t vma_name_len(const struct vma *v);
/* NAME of [anon:NAME] / [anon_shmem:NAME] and its length; NULL for other kinds. */
const char *vma_anon_name(const struct vma *v, size_t *len);
/* Private anonymous memory: no name, [heap], [stack] or [anon:NAME], mapped 'p'. */
bool vma_is_anon_private(const struct vma *v);
/* MAP_SHARED|MAP_ANONYMOUS (or a shared mapping of /dev/zero): "/dev/zero (deleted)" mapped
 * 's', or [anon_shmem:NAME]. */
bool vma_is_anon_shared(const struct vma *v);
/* "/memfd:NAME (deleted)", shared or private. */
bool vma_is_memfd(const struct vma *v);
/* "/SYSV%08x (deleted)": a SysV shm segment (key in the name, shmid in inode). */
bool vma_is_sysv_shm(const struct vma *v);
/* [vdso], [vvar], [vvar_vclock] or [vsyscall]: set up by the kernel, never dumped as memory. */
bool vma_is_vdso_like(const struct vma *v);

/* ---- stat -------------------------------------------------------------------------------- */

/* /proc/PID/stat: all 52 fields of 6.18 (numbers as in proc(5)). Fields the kernel hides from a
 * caller without ptrace access read 0. */
struct proc_stat {
	pid_t pid;					     /* 1 */
	char comm[64];					     /* 2: raw, may hold ')' ' ' '\n' */
	char state;					     /* 3 */
	pid_t ppid, pgrp, session;			     /* 4-6 */
	int tty_nr;					     /* 7 */
	pid_t tpgid;					     /* 8 */
	unsigned int flags;				     /* 9: PF_* */
	uint64_t minflt, cminflt, majflt, cmajflt;	     /* 10-13 */
	uint64_t utime, stime;				     /* 14-15 */
	int64_t cutime, cstime, priority, nice, num_threads; /* 16-20 */
	int64_t itrealvalue;				     /* 21 */
	uint64_t starttime, vsize;			     /* 22-23 */
	int64_t rss;					     /* 24: pages */
	uint64_t rsslim;				     /* 25 */
	uint64_t start_code, end_code, start_stack;	     /* 26-28 */
	uint64_t kstkesp, kstkeip;			     /* 29-30 */
	uint64_t signal, blocked, sigignore, sigcatch;	     /* 31-34 (obsolete; see status) */
	uint64_t wchan, nswap, cnswap;			     /* 35-37 */
	int exit_signal, processor;			     /* 38-39 */
	unsigned int rt_priority, policy;		     /* 40-41 */
	uint64_t delayacct_blkio_ticks, guest_time;	     /* 42-43 */
	int64_t cguest_time;				     /* 44 */
	uint64_t start_data, end_data, start_brk;	     /* 45-47 */
	uint64_t arg_start, arg_end, env_start, env_end;     /* 48-51 */
	int exit_code;					     /* 52: wait status */
};

int proc_parse_stat_buf(const char *name, const char *buf, size_t len, struct proc_stat *out);
int proc_parse_stat(pid_t pid, struct proc_stat *out);
/* The same of a stat file at path (another /proc's, "/proc/PID/root/proc/N/stat"). */
int proc_parse_stat_at(const char *path, struct proc_stat *out);
/* /proc/PID/task/TID/stat (the thread's own state) */
int proc_parse_task_stat(pid_t pid, pid_t tid, struct proc_stat *out);
/* Only the state letter of /proc/PID/stat (tid 0) or /proc/PID/task/TID/stat, and quietly (a
 * task that is gone is an answer, not an error): 0, -ENOENT when gone, -EINVAL when unparsable,
 * another -errno when unreadable. */
int proc_task_state(pid_t pid, pid_t tid, char *state);
/* The same, quietly, for a process: its state letter, parent and name (comm, cut to len). */
int proc_task_brief(pid_t pid, char *state, pid_t *ppid, char *comm, size_t len);
/* Who holds pid, for a message: "a zombie holds it (sleep), not reaped by its parent 12
 * (bash)" or "a live task holds it (...)". */
void proc_pid_holder(pid_t pid, char *buf, size_t len);

/* ---- status ------------------------------------------------------------------------------ */

#define PROC_NS_LEVELS 32 /* MAX_PID_NS_LEVEL */

struct proc_status {
	char name[64]; /* Name, unescaped (the kernel escapes '\n' and '\\') */
	char state;    /* first letter of State */
	pid_t tgid, pid, ppid, tracer_pid;
	uint32_t uid[4], gid[4]; /* real, effective, saved, filesystem */
	uint32_t *groups;	 /* supplementary groups, in kernel order */
	size_t n_groups;
	/* NStgid, NSpid, NSpgid, NSsid: ns_levels values each, outermost visible level first */
	unsigned int ns_levels;
	pid_t ns_tgid[PROC_NS_LEVELS], ns_pid[PROC_NS_LEVELS];
	pid_t ns_pgid[PROC_NS_LEVELS], ns_sid[PROC_NS_LEVELS];
	int threads;
	uint64_t sigq_cur, sigq_max;
	uint64_t sig_pnd, shd_pnd, sig_blk, sig_ign, sig_cgt; /* bit N-1 = signal N */
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	int no_new_privs, seccomp, seccomp_filters;
	int umask; /* -1 when absent (a zombie has no fs_struct) */
};

void proc_status_free(struct proc_status *st);
/* Every field above is required except Umask; unknown lines are ignored. */
int proc_parse_status_buf(const char *name, const char *buf, size_t len, struct proc_status *out);
int proc_parse_status(pid_t pid, struct proc_status *out);
int proc_parse_task_status(pid_t pid, pid_t tid, struct proc_status *out);

/* ---- auxv -------------------------------------------------------------------------------- */

/* pairs receives the (type, value) words of the saved auxv, AT_NULL pair included; max and *n
 * count uint64_t words (*n is even). -E2BIG when more than max words. */
int proc_parse_auxv_buf(const char *name, const void *buf, size_t len, uint64_t *pairs, size_t max,
			size_t *n);
int proc_read_auxv(pid_t pid, uint64_t *pairs, size_t max, size_t *n);

/* ---- fdinfo and fd ----------------------------------------------------------------------- */

/* A kind-specific line "KEY:<spaces/tabs>VALUE" (e.g. "eventfd-count:   5", "tfd: 7 events: 19
 * ...", "inotify wd:1 ino:..."): key is the text before the first ':'. */
struct fdinfo_line {
	const char *key;   /* NUL-terminated, inside proc_fdinfo.text */
	const char *value; /* NUL-terminated, leading blanks skipped */
};

struct proc_fdinfo {
	int64_t pos;
	uint32_t flags; /* f_flags, O_CLOEXEC added by the kernel when close-on-exec */
	int mnt_id;
	uint64_t ino;
	struct fdinfo_line *lines; /* lines after the common four, in order */
	size_t n_lines;
	char *text; /* storage of the lines */
};

void proc_fdinfo_free(struct proc_fdinfo *fi);
/* The first four lines must be pos, flags, mnt_id and ino, as the kernel prints them. */
int proc_parse_fdinfo_buf(const char *name, const char *buf, size_t len, struct proc_fdinfo *out);
int proc_parse_fdinfo(pid_t pid, int fd, struct proc_fdinfo *out);
/* VALUE of the nth (from 0) line whose key is key, or NULL. */
const char *proc_fdinfo_value(const struct proc_fdinfo *fi, const char *key, size_t nth);
size_t proc_fdinfo_count(const struct proc_fdinfo *fi, const char *key);

struct proc_fd {
	int fd;
	char *target; /* readlink of /proc/PID/fd/N: a path, "pipe:[INO]", "anon_inode:[eventfd]" */
};

struct proc_fd_list {
	struct proc_fd *v;
	size_t n, cap;
};

void proc_fd_list_free(struct proc_fd_list *l);
/* Open fds of /proc/PID/fd, ascending. An fd closed while listing is left out. */
int proc_list_fds(pid_t pid, struct proc_fd_list *out);

/* ---- files of one value ------------------------------------------------------------------ */

/* The content of a small file (one value) into buf, trailing newlines cut; quietly: 0 or -errno
 * (a file the kernel lacks, or refuses to show, is an answer for the caller to judge). */
int proc_read_value(const char *path, char *buf, size_t len);
/* A number in base 10 (signed) or 16 (unsigned, no "0x") within [lo, hi], the whole text. */
int proc_parse_int_buf(const char *name, const char *buf, size_t len, int base, int64_t lo,
		       int64_t hi, int64_t *v);
/* proc_read_value() + proc_parse_int_buf(), logging a failure with the path. */
int proc_read_int(const char *path, int base, int64_t lo, int64_t hi, int64_t *v);
/* /proc/PID/autogroup: "/autogroup-ID nice N" (CONFIG_SCHED_AUTOGROUP), or nothing at all for a
 * task in the root task group's default autogroup (neither it nor an ancestor called setsid()
 * since boot): *root is set then, and *nice is 0, the weight that group has. */
int proc_parse_autogroup_buf(const char *name, const char *buf, size_t len, int *nice, bool *root);

/* ---- cgroups ----------------------------------------------------------------------------- */

/* One line of /proc/PID/cgroup: "ID:CONTROLLERS:PATH". The v2 hierarchy is "0::/PATH"; a named
 * v1 hierarchy shows "name=NAME" as its controllers. The path is relative to the cgroup
 * namespace root of the reader. */
struct proc_cgroup {
	unsigned int id;
	char *controllers;
	char *path;
};

struct proc_cgroup_list {
	struct proc_cgroup *v;
	size_t n, cap;
};

void proc_cgroup_list_free(struct proc_cgroup_list *l);
int proc_parse_cgroup_buf(const char *name, const char *buf, size_t len,
			  struct proc_cgroup_list *out);
/* /proc/PID/cgroup (tid 0) or /proc/PID/task/TID/cgroup. */
int proc_parse_cgroup(pid_t pid, pid_t tid, struct proc_cgroup_list *out);
/* The line of a hierarchy by its controllers ("" for v2), or NULL. */
const struct proc_cgroup *proc_cgroup_find(const struct proc_cgroup_list *l,
					   const char *controllers);

/* A cgroup or cgroup2 mount of /proc/self/mountinfo (fields unescaped). */
struct cgroup_mount {
	bool v2;
	char *root; /* the cgroup the mount shows at its top, as a path of the hierarchy */
	char *mountpoint;
	char *options; /* the super options ("rw,memory", "rw,name=systemd", "rw") */
};

struct cgroup_mount_list {
	struct cgroup_mount *v;
	size_t n, cap;
};

void cgroup_mount_list_free(struct cgroup_mount_list *l);
/* proc-mount.c: the mount point (unescaped, malloc'd) in pid's mountinfo (pid 0: ours) of
 * mount id mnt, or with mnt -1 of the first mount of device dev; NULL when there is none. */
char *proc_mount_point(pid_t pid, long mnt, dev_t dev);
/* Undo the octal escapes (\040 ...) the kernel puts in a mountinfo field, in place. */
void proc_unescape(char *s);
int proc_parse_cgroup_mounts_buf(const char *name, const char *buf, size_t len,
				 struct cgroup_mount_list *out);
int proc_cgroup_mounts(struct cgroup_mount_list *out);

/* ---- threads and children ---------------------------------------------------------------- */

struct pid_list {
	pid_t *v;
	size_t n, cap;
};

void pid_list_free(struct pid_list *l);
/* /proc/PID/task, ascending. */
int proc_list_threads(pid_t pid, struct pid_list *out);
/* "PID PID ... " (each followed by one space; empty when none), kernel order. */
int proc_parse_children_buf(const char *name, const char *buf, size_t len, struct pid_list *out);
/* /proc/PID/task/TID/children: the children this thread forked (CONFIG_PROC_CHILDREN). */
int proc_list_children(pid_t pid, pid_t tid, struct pid_list *out);

#endif
