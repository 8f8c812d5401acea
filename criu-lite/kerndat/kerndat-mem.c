/* kerndat-mem: page discovery features (PAGEMAP_SCAN, soft-dirty) probed on
 * our own fresh mappings, and the small /proc readers the probes share. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "criu-lite/kcompat.h"
#include "criu-lite/kerndat/kerndat-int.h"

/* ---- readers ---- */

int kd_read_ulong(const char *path, unsigned long *v)
{
	char buf[64], *end;
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	err = errno;
	close(fd);
	if (n < 0)
		return -err;
	buf[n] = '\0';
	errno = 0;
	*v = strtoul(buf, &end, 10);
	if (errno || end == buf || (*end && !isspace((unsigned char)*end)))
		return -EINVAL;
	return 0;
}

int kd_vma_at(pid_t pid, unsigned long addr, struct vma *out)
{
	struct vma_list l;
	int ret;

	ret = proc_parse_vmas(pid, &l);
	if (ret)
		return ret;
	ret = -ENOENT;
	for (size_t i = 0; i < l.n; i++)
		if (addr >= l.v[i].start && addr < l.v[i].end) {
			*out = l.v[i];
			out->name = NULL;
			ret = 0;
			break;
		}
	vma_list_free(&l);
	return ret;
}

int kd_pagemap_read(int pagemap_fd, unsigned long addr, uint64_t *ents, size_t nr)
{
	size_t want = nr * sizeof(*ents);
	ssize_t n;

	n = pread(pagemap_fd, ents, want, (off_t)(addr / KD_PAGE_SIZE * sizeof(*ents)));
	if (n < 0)
		return -errno;
	return (size_t)n == want ? 0 : -EIO;
}

/* ---- probes ---- */

#define SCAN_PAGES 4

void *kd_map_anon(size_t pages)
{
	void *a = mmap(NULL, pages * KD_PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	/* one THP would make the untouched pages present too */
	if (a != MAP_FAILED)
		madvise(a, pages * KD_PAGE_SIZE, MADV_NOHUGEPAGE);
	return a;
}

/* PRESENT regions of a 4-page mapping whose pages 0 and 2 were written */
static void probe_pagemap_scan(struct kerndat *kd, int pm)
{
	struct page_region vec[SCAN_PAGES];
	struct pm_scan_arg arg;
	unsigned long a;
	char eb[32];
	long n;
	int err;

	a = (unsigned long)kd_map_anon(SCAN_PAGES);
	if (a == (unsigned long)MAP_FAILED) {
		kd_set(kd, KD_PAGEMAP_SCAN, KD_NOT_PROBED, "mmap: %s",
		       kd_errstr(errno, eb, sizeof(eb)));
		return;
	}
	*(volatile char *)a = 1;
	*(volatile char *)(a + 2 * KD_PAGE_SIZE) = 1;
	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.start = a;
	arg.end = a + SCAN_PAGES * KD_PAGE_SIZE;
	arg.vec = (uintptr_t)vec;
	arg.vec_len = SCAN_PAGES;
	arg.category_mask = PAGE_IS_PRESENT;
	arg.return_mask = PAGE_IS_PRESENT;
	n = ioctl(pm, PAGEMAP_SCAN, &arg);
	err = errno;
	if (n < 0)
		kd_set(kd, KD_PAGEMAP_SCAN, KD_MISSING,
		       "ioctl(/proc/self/pagemap, PAGEMAP_SCAN): %s%s",
		       kd_errstr(err, eb, sizeof(eb)), err == ENOTTY ? " (kernel < 6.7)" : "");
	else if (n != 2 || vec[0].start != a || vec[0].end != a + KD_PAGE_SIZE ||
		 vec[1].start != a + 2 * KD_PAGE_SIZE || vec[1].end != a + 3 * KD_PAGE_SIZE ||
		 vec[0].categories != PAGE_IS_PRESENT || vec[1].categories != PAGE_IS_PRESENT)
		kd_set(kd, KD_PAGEMAP_SCAN, KD_MISSING,
		       "at 0x%lx: %ld regions returned where pages 0 and 2 of 4 are present", a, n);
	else
		kd_ok(kd, KD_PAGEMAP_SCAN);
	munmap((void *)a, SCAN_PAGES * KD_PAGE_SIZE);
}

/* VmFlags `sd` of a fresh mapping; clear_refs' return code says nothing */
static void probe_soft_dirty(struct kerndat *kd, int pm)
{
	const char *bit;
	struct vma vma;
	unsigned long a;
	uint64_t ent;
	char eb[32];
	int ret;

	a = (unsigned long)kd_map_anon(1);
	if (a == (unsigned long)MAP_FAILED) {
		kd_set(kd, KD_SOFT_DIRTY, KD_NOT_PROBED, "mmap: %s",
		       kd_errstr(errno, eb, sizeof(eb)));
		return;
	}
	*(volatile char *)a = 1;
	ret = kd_vma_at(getpid(), a, &vma);
	if (ret) {
		kd_set(kd, KD_SOFT_DIRTY, KD_NOT_PROBED, "VmFlags of 0x%lx in /proc/self/smaps: %s",
		       a, kd_errstr(ret, eb, sizeof(eb)));
		goto out;
	}
	ret = kd_pagemap_read(pm, a, &ent, 1);
	bit = ret ? "unreadable" : (ent & PM_SOFT_DIRTY) ? "set" : "clear";
	if (vma.flags & VMF_SD)
		kd_set(kd, KD_SOFT_DIRTY, KD_OK, "VmFlags has sd, pagemap bit 55 %s after a write",
		       bit);
	else
		kd_set(kd, KD_SOFT_DIRTY, KD_MISSING,
		       "no sd in VmFlags of a fresh mapping, pagemap bit 55 %s after a write "
		       "- CONFIG_MEM_SOFT_DIRTY is not set",
		       bit);
out:
	munmap((void *)a, KD_PAGE_SIZE);
}

int kd_probe_mem(struct kerndat *kd)
{
	char eb[32];
	int pm, err;

	pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pm < 0) {
		err = errno;
		kd_set(kd, KD_PAGEMAP_SCAN, KD_NOT_PROBED, "open /proc/self/pagemap: %s",
		       kd_errstr(err, eb, sizeof(eb)));
		kd_set(kd, KD_SOFT_DIRTY, KD_NOT_PROBED, "open /proc/self/pagemap: %s",
		       kd_errstr(err, eb, sizeof(eb)));
		return 0;
	}
	probe_pagemap_scan(kd, pm);
	probe_soft_dirty(kd, pm);
	close(pm);
	return 0;
}
