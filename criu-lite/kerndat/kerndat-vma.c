/* kerndat-vma: the VMA attributes dump and restore must see and set again: guard regions
 * (MADV_GUARD_INSTALL, 6.13+; shown in pagemap bit 58 and PAGEMAP_SCAN PAGE_IS_GUARD, 6.15+;
 * VmFlags `gu` on the VMA, 6.18), mseal() (6.10+) and MAP_DROPPABLE (6.11+). Each is tried
 * for real: guard regions on a mapping of our own, mseal and MAP_DROPPABLE in a child (a sealed
 * mapping can never be unmapped again, and every skeleton of a restore inherits our mappings). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "criu-lite/kcompat.h"
#include "criu-lite/kerndat/kerndat-int.h"

/* pages 0..2, the guard on page 1 */
static void probe_guard(struct kerndat *kd)
{
	unsigned long a = (unsigned long)kd_map_anon(3), g;
	struct page_region vec[2];
	struct pm_scan_arg arg;
	struct vma vma;
	uint64_t ent = 0;
	char eb[32];
	int pm, ret;

	if (a == (unsigned long)MAP_FAILED) {
		kd_set(kd, KD_GUARD_INSTALL, KD_NOT_PROBED, "mmap: %s",
		       kd_errstr(errno, eb, sizeof(eb)));
		kd_set(kd, KD_GUARD_PAGEMAP, KD_NOT_PROBED, "mmap failed");
		return;
	}
	g = a + KD_PAGE_SIZE;
	if (madvise((void *)g, KD_PAGE_SIZE, MADV_GUARD_INSTALL)) {
		ret = errno;
		kd_set(kd, KD_GUARD_INSTALL, KD_MISSING, "madvise(MADV_GUARD_INSTALL): %s%s",
		       kd_errstr(ret, eb, sizeof(eb)), ret == EINVAL ? " (kernel < 6.13)" : "");
		kd_set(kd, KD_GUARD_PAGEMAP, KD_NOT_PROBED,
		       "no guard regions on this kernel, so none to see");
		goto out;
	}
	kd->guard_vmflag = !kd_vma_at(getpid(), g, &vma) && (vma.flags & VMF_GU);
	kd_set(kd, KD_GUARD_INSTALL, KD_OK, "%s",
	       kd->guard_vmflag ? "VmFlags shows gu on a VMA with guards"
				: "no VmFlags for it: every VMA is scanned for guards");
	pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pm < 0) {
		kd_set(kd, KD_GUARD_PAGEMAP, KD_NOT_PROBED, "open /proc/self/pagemap: %s",
		       kd_errstr(errno, eb, sizeof(eb)));
		goto out;
	}
	ret = kd_pagemap_read(pm, g, &ent, 1);
	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.start = a;
	arg.end = a + 3 * KD_PAGE_SIZE;
	arg.vec = (uintptr_t)vec;
	arg.vec_len = 2;
	arg.category_mask = PAGE_IS_GUARD;
	arg.return_mask = PAGE_IS_GUARD;
	kd->guard_scan = ioctl(pm, PAGEMAP_SCAN, &arg) == 1 && vec[0].start == g &&
			 vec[0].end == g + KD_PAGE_SIZE;
	close(pm);
	if (ret)
		kd_set(kd, KD_GUARD_PAGEMAP, KD_NOT_PROBED, "read of /proc/self/pagemap: %s",
		       kd_errstr(ret, eb, sizeof(eb)));
	else if (!(ent & PM_GUARD_REGION))
		kd_set(kd, KD_GUARD_PAGEMAP, KD_MISSING,
		       "pagemap entry %#llx of a guard page lacks bit 58 (kernel < 6.15): guards "
		       "can't be found",
		       (unsigned long long)ent);
	else
		kd_set(kd, KD_GUARD_PAGEMAP, KD_OK, "pagemap bit 58%s",
		       kd->guard_scan ? ", PAGEMAP_SCAN PAGE_IS_GUARD" : "");
out:
	munmap((void *)a, 3 * KD_PAGE_SIZE);
}

/* In a child: 0 when the call worked, else its errno. */
static int try_mseal(int fd, void *arg)
{
	void *a = mmap(NULL, KD_PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)fd;
	(void)arg;
	if (a == MAP_FAILED)
		return errno;
	return syscall(SYS_mseal, a, KD_PAGE_SIZE, 0) ? errno : 0;
}

static int try_droppable(int fd, void *arg)
{
	void *a =
	    mmap(NULL, KD_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_DROPPABLE | MAP_ANONYMOUS, -1, 0);

	(void)fd;
	(void)arg;
	return a == MAP_FAILED ? errno : 0;
}

static void probe_in_child(struct kerndat *kd, enum kd_id id, kd_child_fn fn, const char *call,
			   const char *old)
{
	struct kd_child c;
	char eb[32];
	int status, ret = kd_child_start(&c, fn, NULL);

	if (!ret)
		ret = kd_child_wait(&c, &status, KD_CHILD_TIMEOUT_MS);
	kd_child_stop(&c);
	if (ret)
		kd_set(kd, id, KD_NOT_PROBED, "probe child: %s", kd_errstr(ret, eb, sizeof(eb)));
	else if (!WIFEXITED(status))
		kd_set(kd, id, KD_NOT_PROBED, "probe child died (status %#x)", status);
	else if (WEXITSTATUS(status))
		kd_set(kd, id, KD_MISSING, "%s: %s (%s)", call,
		       kd_errstr(WEXITSTATUS(status), eb, sizeof(eb)), old);
	else
		kd_ok(kd, id);
}

int kd_probe_vma(struct kerndat *kd)
{
	probe_guard(kd);
	probe_in_child(kd, KD_MSEAL, try_mseal, "mseal()", "kernel < 6.10");
	probe_in_child(kd, KD_MAP_DROPPABLE, try_droppable, "mmap(MAP_DROPPABLE)", "kernel < 6.11");
	return 0;
}
