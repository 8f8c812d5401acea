/* kerndat-int: what the kerndat-*.c probe files share; not for other modules.
 *
 * Contract:
 * - Each kd_probe_*() fills its own items of struct kerndat and returns 0;
 *   only kd_probe_swap() can fail: -EBUSY when its swap could not be undone.
 * - Probe children (kd_child_*) die with their parent (PR_SET_PDEATHSIG) and
 *   are killed and reaped by kd_child_stop(), which every path must reach;
 *   talking to them never blocks longer than KD_CHILD_TIMEOUT_MS.
 * - Helpers return -errno and do not log (kd_vma_at() excepted: the /proc
 *   parser logs its own failures); the probe that calls them puts the reason
 *   into the item's detail, which is where it is reported, once.
 */
#ifndef CRIU_LITE_KERNDAT_INT_H
#define CRIU_LITE_KERNDAT_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "criu-lite/kerndat/kerndat.h"
#include "criu-lite/proc/proc.h"

#define KD_PAGE_SIZE	    4096UL
#define KD_CHILD_TIMEOUT_MS 5000

/* Set an item's status and detail (printf-style). */
void kd_set(struct kerndat *kd, enum kd_id id, enum kd_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* KD_OK with nothing more to say */
void kd_ok(struct kerndat *kd, enum kd_id id);

/* Short errno text for details: "EPERM" (buf holds "errno N" for unknown ones). */
const char *kd_errstr(int err, char *buf, size_t len);

/* The vDSO block of this process (kerndat-vdso.c): 0, or -errno with why. */
int kd_vdso_here(struct kd_vdso_layout *l, char *why, size_t len);

/* ---- probe children (kerndat-child.c) ---- */
struct kd_child {
	pid_t pid; /* 0: not running */
	int fd;	   /* parent end of a socketpair to the child */
};

/* Runs in the child with its end of the socketpair; its return value becomes
 * the child's exit code (_exit: no atexit handlers, no stdio flush). */
typedef int (*kd_child_fn)(int fd, void *arg);

int kd_child_start(struct kd_child *c, kd_child_fn fn, void *arg);
/* exactly len bytes from the child, or -EPIPE (child gone) / -ETIMEDOUT */
int kd_child_recv(struct kd_child *c, void *buf, size_t len);
int kd_child_send(struct kd_child *c, const void *buf, size_t len);
/* waitpid(__WALL) with a timeout, for ptrace stops: 0, -ETIMEDOUT or -errno */
int kd_child_wait(struct kd_child *c, int *status, int timeout_ms);
/* SIGKILL, reap (also when ptraced), close the socket; safe to call twice */
void kd_child_stop(struct kd_child *c);
/* exact blocking read/write on a socket or pipe (no SIGPIPE): 0 or -errno,
 * -EPIPE on end of file */
int kd_read_full(int fd, void *buf, size_t len);
int kd_write_full(int fd, const void *buf, size_t len);

/* ---- memory, /proc and /sys helpers (kerndat-mem.c) ---- */
/* a file holding one unsigned number, e.g. /proc/sys/kernel/pid_max */
int kd_read_ulong(const char *path, unsigned long *v);
/* smaps of the VMA of pid that contains addr (name set to NULL): 0, -ENOENT,
 * or the parser's -errno (logged by proc_parse_vmas) */
int kd_vma_at(pid_t pid, unsigned long addr, struct vma *out);
/* private anonymous pages, never THP-backed (MAP_FAILED on failure) */
void *kd_map_anon(size_t pages);
/* pagemap entries of nr pages from addr, via an open /proc/self/pagemap fd */
int kd_pagemap_read(int pagemap_fd, unsigned long addr, uint64_t *ents, size_t nr);

/* ---- the probe groups ---- */
int kd_probe_proc(struct kerndat *kd);	 /* kerndat-proc.c */
int kd_probe_ptrace(struct kerndat *kd); /* kerndat-ptrace.c: seize, xstate */
int kd_probe_mem(struct kerndat *kd);	 /* kerndat-mem.c */
int kd_probe_vma(struct kerndat *kd);	 /* kerndat-vma.c: guard regions, mseal, MAP_DROPPABLE */
int kd_probe_uffd(struct kerndat *kd);	 /* kerndat-uffd.c */
int kd_probe_vdso(struct kerndat *kd);	 /* kerndat-vdso.c */
int kd_probe_swap(struct kerndat *kd);	 /* kerndat-swap.c */

#endif
