/* restore-mm: rebuild a task's address space inside its skeleton.
 *
 * prepare (restorer side): open every mapped file once for all tasks, check it
 * is the file that was dumped (size and mtime), and hand it to the skeletons
 * as a transfer fd; a shared memory object's VMAs take the object's one
 * transfer fd (restore-shmem.c), so tasks that shared a file or an object
 * share it again. restore_mm (through rsys): unmap everything but the
 * trampoline (and the VMAs that keep pages shared with the parent: restore-cow.c), set the
 * mm-wide switches that new VMAs inherit
 * (restore-mmattr.c), create each VMA at its address (writable while
 * filling, unless it was never writable: restore-vma.c), copy the pages with
 * process_vm_writev straight from the mapped pages image (with --lazy-pages: all but the
 * lazy VMAs' pages, which are then registered with userfaultfd: restore-lazy.c), set each VMA's
 * attributes and final protection (restore-vma.c), map the vDSO at its dumped
 * address and set the mm fields, auxv and exe file with one PR_SET_MM_MAP.
 * restore_mm_late (once the task's children exist, which inherit what the parent's memory is
 * when they are forked): seal the sealed VMAs, set the mm-wide switches that a child would
 * inherit and could not undo (MDWE) or must not (mlockall), and check the VmFlags of every
 * VMA against the image. */
#include <fcntl.h>
#include <linux/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define LOG_PREFIX "mm: "
#include "criu-lite/kcompat.h"
#include "criu-lite/kinds/vmflags.h"
#include "criu-lite/log.h"
#include "criu-lite/restore/pagefill.h"
#include "criu-lite/restore/restore-chain.h"
#include "criu-lite/restore/restore-files.h"
#include "criu-lite/restore/restore-lazy.h"
#include "criu-lite/restore/restore.h"

#define PG	     4096ULL
#define TASK_SIZE_47 0x7ffffffff000ULL

static bool is_kernel_vma(const VmaEntry *v)
{
	return v->kind == VMA_KIND__VMA_VDSO || v->kind == VMA_KIND__VMA_VVAR ||
	       v->kind == VMA_KIND__VMA_VVAR_VCLOCK || v->kind == VMA_KIND__VMA_VSYSCALL;
}

/* A mapped file, opened as it was dumped (a deleted one is rebuilt from its
 * ghost image), then checked for its mtime too: a mapping sees the contents. */
static int open_mapped(struct restore_ctx *c, uint32_t id, int *fdp)
{
	const FileEntry *f = restore_file(c, id);
	struct stat st;
	int fd;

	if (!f || f->type != FILE_TYPE__FT_REG || !f->reg) {
		pr_err("files.img: no regular file with id %u (needed by a mapping)\n", id);
		return -EBADMSG;
	}
	fd = restore_open_file(c, id);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st)) {
		pr_perror("can't stat mapped file %s", f->reg->path);
		close(fd);
		return -errno;
	}
	if (f->reg->has_mtime_ns && !f->reg->deleted &&
	    (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec != f->reg->mtime_ns) {
		pr_err("mapped file %s was modified since the dump (mtime differs)\n",
		       f->reg->path);
		close(fd);
		return -ESTALE;
	}
	*fdp = restore_xfer_fd(c, fd);
	return *fdp < 0 ? *fdp : 0;
}

/* The transfer fd already opened for file id by a mapping of this or an earlier
 * task, -1 if none. Every skeleton inherits every transfer fd, so tasks that
 * mapped one file share one open file again: for a deleted file (a /dev/shm
 * file unlinked after mmap, shared across fork) that is one recreated file,
 * not a copy per task. */
static int mapped_fd(const struct restore_ctx *c, uint32_t id)
{
	for (size_t k = 0; k < c->nr_tasks; k++) {
		const struct restore_task *o = &c->tasks[k];

		for (size_t i = 0; o->mm && o->map_fds && i < o->mm->n_vmas; i++)
			if (o->mm->vmas[i]->has_file_id && o->mm->vmas[i]->file_id == id &&
			    o->map_fds[i] >= 0)
				return o->map_fds[i];
	}
	return -1;
}

int restore_mm_prepare(struct restore_ctx *c, struct restore_task *t)
{
	MmEntry *mm = t->mm;
	int ret = restore_cow_check(c, t);

	if (ret)
		return ret;
	t->map_fds = malloc(mm->n_vmas * sizeof(int) + 1);
	if (!t->map_fds)
		return -ENOMEM;
	for (size_t i = 0; i < mm->n_vmas; i++)
		t->map_fds[i] = -1;
	for (size_t i = 0; i < mm->n_vmas && !ret; i++) {
		const VmaEntry *v = mm->vmas[i];

		if (v->has_shmem_id) {
			t->map_fds[i] = restore_shmem_fd(c, v->shmem_id);
			ret = t->map_fds[i] < 0 ? t->map_fds[i] : 0;
			continue;
		}
		if (!v->has_file_id)
			continue;
		/* one transfer fd per file, for all tasks */
		t->map_fds[i] = mapped_fd(c, v->file_id);
		if (t->map_fds[i] < 0)
			ret = open_mapped(c, v->file_id, &t->map_fds[i]);
	}
	if (!ret && mm->has_exe_file_id) {
		int fd = restore_open_file(c, mm->exe_file_id);

		if (fd < 0)
			return fd;
		t->exe_fd = restore_xfer_fd(c, fd);
		if (t->exe_fd < 0)
			return t->exe_fd;
	}
	return ret;
}

static int unmap_all(struct restore_task *t)
{
	long r1 = rsys_call(&t->rs, SYS_munmap, 0, t->sk.tramp, 0, 0, 0, 0);
	uint64_t after = t->sk.tramp + SKEL_TRAMP_SIZE;
	long r2 = rsys_call(&t->rs, SYS_munmap, after, TASK_SIZE_47 - after, 0, 0, 0, 0);

	return r1 ? (int)r1 : (int)r2;
}

static int map_vma(struct restore_task *t, size_t i, uint64_t vmf)
{
	const VmaEntry *v = t->mm->vmas[i];
	int prot = v->prot, fd = -1;
	long flags =
	    (v->flags & (MAP_SHARED | MAP_PRIVATE | MAP_DROPPABLE | MAP_ANONYMOUS | MAP_GROWSDOWN |
			 MAP_NORESERVE | MAP_HUGETLB | ((long)MAP_HUGE_MASK << MAP_HUGE_SHIFT))) |
	    MAP_FIXED;
	long addr;

	if (v->flags & MAP_SYNC) /* DAX only; the kernel checks it under MAP_SHARED_VALIDATE */
		flags = (flags & ~MAP_SHARED) | MAP_SHARED_VALIDATE | MAP_SYNC;
	if (v->has_file_id || v->has_shmem_id) {
		fd = t->map_fds[i];
		if (fd < 0) {
			pr_err("pid %d: no file for VMA %#llx\n", t->pid,
			       (unsigned long long)v->start);
			return -EBADF;
		}
	}
	/* private memory is filled from the images: writable until then, unless it never was */
	if (!(v->flags & MAP_SHARED) && !restore_vma_direct(v, vmf))
		prot |= PROT_READ | PROT_WRITE;
	addr = rsys_call(&t->rs, SYS_mmap, v->start, v->end - v->start, prot, flags, fd,
			 fd >= 0 ? v->pgoff : 0);
	if (addr < 0)
		return (int)addr;
	if ((uint64_t)addr != v->start) {
		pr_err("pid %d: VMA %#llx mapped at %#lx\n", t->pid, (unsigned long long)v->start,
		       addr);
		return -EFAULT;
	}
	return 0;
}

/* The vDSO block goes back where it was: ARCH_MAP_VDSO_64 at the address of
 * its first part (the layout itself was checked against this kernel). */
static int map_vdso(struct restore_task *t)
{
	uint64_t base = 0;
	long r;

	for (size_t i = 0; i < t->mm->n_vmas; i++) {
		const VmaEntry *v = t->mm->vmas[i];

		if (v->kind == VMA_KIND__VMA_VVAR || v->kind == VMA_KIND__VMA_VVAR_VCLOCK ||
		    v->kind == VMA_KIND__VMA_VDSO) {
			base = v->start;
			break;
		}
	}
	if (!base)
		return 0; /* the task had no vDSO */
	r = rsys_call(&t->rs, SYS_arch_prctl, ARCH_MAP_VDSO_64, base, 0, 0, 0, 0);
	return r < 0 ? (int)r : 0;
}

static int set_mm_fields(struct restore_task *t)
{
	const MmEntry *mm = t->mm;
	struct prctl_mm_map map = {
		.start_code = mm->start_code,
		.end_code = mm->end_code,
		.start_data = mm->start_data,
		.end_data = mm->end_data,
		.start_brk = mm->start_brk,
		.brk = mm->brk,
		.start_stack = mm->start_stack,
		.arg_start = mm->arg_start,
		.arg_end = mm->arg_end,
		.env_start = mm->env_start,
		.env_end = mm->env_end,
		.auxv_size = mm->n_auxv * sizeof(uint64_t),
		.exe_fd = (uint32_t)t->exe_fd,
	};
	const struct restore_task *p = t->parent;

	/* A task forked after its parent's restore has the parent's exe file already: setting
	 * the same one again fails (EBUSY: the old file is still mapped), so keep it. */
	if (p && p->mm_done && p->mm && p->mm->has_exe_file_id && mm->has_exe_file_id &&
	    p->mm->exe_file_id == mm->exe_file_id)
		map.exe_fd = (uint32_t)-1;
	uint64_t auxv_at = t->sk.scratch, map_at = t->sk.scratch + 2048;
	long r;

	if (map.auxv_size > 2048) {
		pr_err("pid %d: auxv of %u bytes does not fit the scratch page\n", t->pid,
		       map.auxv_size);
		return -E2BIG;
	}
	map.auxv = (__u64 *)(uintptr_t)auxv_at;
	if ((r = rsys_write(&t->rs, auxv_at, mm->auxv, map.auxv_size)) ||
	    (r = rsys_write(&t->rs, map_at, &map, sizeof(map))))
		return (int)r;
	r = rsys_call(&t->rs, SYS_prctl, PR_SET_MM, PR_SET_MM_MAP, map_at, sizeof(map), 0, 0);
	return (int)r;
}

/* VMA i is kept as the parent's, inherited (restore-cow.c). */
static bool kept(const struct restore_task *t, size_t i)
{
	return t->cow_keep && t->cow_keep[i];
}

/* The VMAs mapped without write permission (restore_vma_direct), whose pages pagefill writes
 * through /proc/PID/mem. */
static uint64_t (*direct_ranges(const struct restore_task *t, const uint64_t *vmf, size_t *n))[2]
{
	uint64_t(*r)[2] = malloc((t->mm->n_vmas + 1) * sizeof(*r));

	*n = 0;
	for (size_t i = 0; r && i < t->mm->n_vmas; i++) {
		const VmaEntry *v = t->mm->vmas[i];

		if (!is_kernel_vma(v) && restore_vma_direct(v, vmf[i])) {
			r[*n][0] = v->start;
			r[(*n)++][1] = v->end;
		}
	}
	return r;
}

static int build_vmas(struct restore_ctx *c, struct restore_task *t, const uint64_t *vmf)
{
	bool merge_any = t->mm->has_merge_any && t->mm->merge_any;
	struct pagefill_direct d = { 0 }, skip = { 0 };
	uint64_t(*direct)[2];
	size_t n = t->mm->n_vmas;
	int ret = 0;

	for (size_t i = 0; i < n && !ret; i++)
		if (!is_kernel_vma(t->mm->vmas[i]) && !kept(t, i))
			ret = map_vma(t, i, vmf[i]);
	for (size_t i = 0; i < n && !ret; i++)
		if (!is_kernel_vma(t->mm->vmas[i]) && !kept(t, i))
			ret = restore_vma_before_fill(t, t->mm->vmas[i], vmf[i]);
	if (!ret && t->cow_keep)
		ret = restore_cow_fill_prep(t, vmf);
	if (ret)
		return ret;
	direct = direct_ranges(t, vmf, &d.n);
	if (!direct)
		return -ENOMEM;
	d.range = (const uint64_t(*)[2])direct;
	ret = restore_lazy_skip(t, &skip);
	if (!ret)
		ret = pagefill(t->pid, t->pages, (unsigned int)sysconf(_SC_NPROCESSORS_ONLN), &d,
			       &skip);
	if (!ret) /* pages the dump left in its parent images */
		ret = restore_chain_fill(c, t, &d);
	free(direct);
	free((void *)skip.range);
	/* from here on a lazy page the restore or the kernel touches is served by lazy-pages */
	if (!ret)
		ret = restore_lazy_register(c, t);
	for (size_t i = 0; i < n && !ret; i++)
		if (!is_kernel_vma(t->mm->vmas[i]))
			ret = restore_vma_finish(t, t->mm->vmas[i], vmf[i], merge_any);
	return ret;
}

int restore_mm(struct restore_ctx *c, struct restore_task *t)
{
	uint64_t *vmf = calloc(t->mm->n_vmas + 1, sizeof(*vmf));
	int ret = vmf ? 0 : -ENOMEM;

	for (size_t i = 0; !ret && i < t->mm->n_vmas; i++)
		ret = restore_vma_flags(t->mm->vmas[i], &vmf[i]);
	if (!ret)
		ret = t->cow_keep ? restore_cow_unmap(t) : unmap_all(t);
	if (!ret)
		ret = restore_mm_attrs_early(t);
	if (!ret)
		ret = build_vmas(c, t, vmf);
	free(vmf);
	if (!ret)
		ret = map_vdso(t);
	if (!ret)
		ret = set_mm_fields(t);
	return ret;
}

int restore_mm_late(struct restore_ctx *c, struct restore_task *t)
{
	int ret = 0;

	(void)c;
	for (size_t i = 0; i < t->mm->n_vmas && !ret; i++)
		ret = restore_vma_seal(t, t->mm->vmas[i]);
	if (!ret)
		ret = restore_mm_attrs_late(t);
	if (!ret)
		ret = restore_vma_check(t);
	return ret;
}

/* Before anything is created: can this host set every attribute the VMAs had? */
int restore_mm_check(struct restore_ctx *c, struct restore_task *t)
{
	static const struct {
		enum kd_id id;
		const char *what;
	} need[] = {
		{ KD_GUARD_INSTALL, "guard regions (MADV_GUARD_INSTALL)" },
		{ KD_MSEAL, "sealed mappings (mseal)" },
		{ KD_MAP_DROPPABLE, "MAP_DROPPABLE mappings" },
	};
	bool used[3] = { false, false, false };
	int ret = 0;

	for (size_t i = 0; i < t->mm->n_vmas && !ret; i++) {
		const VmaEntry *v = t->mm->vmas[i];
		uint64_t f;

		ret = restore_vma_flags(v, &f);
		used[0] |= v->n_guards || (f & VMF_GU);
		used[1] |= !!(f & VMF_SL);
		used[2] |= !!(v->flags & MAP_DROPPABLE);
	}
	for (size_t k = 0; k < 3 && !ret; k++)
		if (used[k] && !kd_has(&c->kd, need[k].id)) {
			pr_err("pid %d has %s, which this kernel can't make: %s\n", t->vpid,
			       need[k].what, c->kd.item[need[k].id].detail);
			ret = -ENOTSUP;
		}
	return ret;
}
