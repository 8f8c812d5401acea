/* kerndat-uffd: userfaultfd and each feature bit criu-lite uses. A bit counts
 * as present only when the kernel offers it, accepts it in UFFDIO_API and,
 * where it can be done without a fault-serving thread, does what lazy restore
 * (shmem MISSING/MINOR) or pre-dump (async write-protect) relies on. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "criu-lite/kcompat.h"
#include "criu-lite/kerndat/kerndat-int.h"

static const struct {
	enum kd_id id;
	uint64_t bit;
} uffd_items[] = {
	{ KD_UFFD_EVENT_FORK, UFFD_FEATURE_EVENT_FORK },
	{ KD_UFFD_EVENT_REMAP, UFFD_FEATURE_EVENT_REMAP },
	{ KD_UFFD_EVENT_REMOVE, UFFD_FEATURE_EVENT_REMOVE },
	{ KD_UFFD_EVENT_UNMAP, UFFD_FEATURE_EVENT_UNMAP },
	{ KD_UFFD_MISSING_SHMEM, UFFD_FEATURE_MISSING_SHMEM },
	{ KD_UFFD_MINOR_SHMEM, UFFD_FEATURE_MINOR_SHMEM },
	{ KD_UFFD_WP_ASYNC, UFFD_FEATURE_WP_ASYNC },
	{ KD_UFFD_WP_UNPOPULATED, UFFD_FEATURE_WP_UNPOPULATED },
	{ KD_UFFD_EXACT_ADDRESS, UFFD_FEATURE_EXACT_ADDRESS },
};

/* what lazy restore asks for on one descriptor */
#define LAZY_FEATURES                                                                       \
	(UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_EVENT_REMAP | UFFD_FEATURE_EVENT_REMOVE |   \
	 UFFD_FEATURE_EVENT_UNMAP | UFFD_FEATURE_MISSING_SHMEM | UFFD_FEATURE_MINOR_SHMEM | \
	 UFFD_FEATURE_EXACT_ADDRESS)
/* what pre-dump's write tracking asks for */
#define WP_FEATURES (UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED)

#define WP_PAGES 4

struct uffd_probe {
	struct kerndat *kd;
	int pm; /* /proc/self/pagemap */
	char eb[32];
};

static const char *err_name(struct uffd_probe *p, int err)
{
	return kd_errstr(err, p->eb, sizeof(p->eb));
}

/* the first way that works: the syscall, /dev/userfaultfd, user-mode-only */
static int uffd_open(struct kerndat *kd)
{
	int fd, dev, err;

	fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0)
		return fd;
	err = errno;
	dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
	if (dev >= 0) {
		fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
		close(dev);
		if (fd >= 0)
			return fd;
	}
	fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (fd >= 0) {
		kd->uffd_user_mode_only = true;
		return fd;
	}
	return -err;
}

/* a fresh descriptor with features enabled: fd, or -errno; *offered (if
 * not NULL) gets every feature the kernel has */
static int uffd_with(struct kerndat *kd, uint64_t features, uint64_t *offered)
{
	struct uffdio_api api = { .api = UFFD_API, .features = features };
	int fd, err;

	fd = uffd_open(kd);
	if (fd < 0)
		return fd;
	if (ioctl(fd, UFFDIO_API, &api)) {
		err = errno;
		close(fd);
		return -err;
	}
	if (offered)
		*offered = api.features;
	return fd;
}

static void set_bits(struct kerndat *kd, uint64_t bits, enum kd_status st, const char *detail)
{
	for (size_t i = 0; i < sizeof(uffd_items) / sizeof(uffd_items[0]); i++)
		if (bits & uffd_items[i].bit)
			kd_set(kd, uffd_items[i].id, st, "%s", detail);
}

static bool page_present(struct uffd_probe *p, unsigned long addr)
{
	uint64_t e;

	return kd_pagemap_read(p->pm, addr, &e, 1) == 0 && (e & PM_PRESENT);
}

#define SHMEM_FEATURES (UFFD_FEATURE_MISSING_SHMEM | UFFD_FEATURE_MINOR_SHMEM)
#define SHMEM_FILL     0x5a /* what page 0 of the probe memfd holds */

/* MINOR: UFFDIO_CONTINUE maps a page that is in the page cache; MISSING:
 * UFFDIO_COPY fills a hole of the shmem object. No access can fault here:
 * the mapping is touched only where pagemap shows a page. */
static void shmem_ops(struct uffd_probe *p, int uffd, uint64_t feats, char *map, int mfd)
{
	char src[KD_PAGE_SIZE], got[KD_PAGE_SIZE];
	struct uffdio_register reg = { 0 };
	unsigned long a = (unsigned long)map;

	memset(src, SHMEM_FILL, sizeof(src));
	reg.range.start = a;
	reg.range.len = 2 * KD_PAGE_SIZE;
	if (feats & UFFD_FEATURE_MISSING_SHMEM)
		reg.mode |= UFFDIO_REGISTER_MODE_MISSING;
	if (feats & UFFD_FEATURE_MINOR_SHMEM)
		reg.mode |= UFFDIO_REGISTER_MODE_MINOR;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		char why[96];

		snprintf(why, sizeof(why), "UFFDIO_REGISTER(memfd mapping, mode 0x%llx): %s",
			 (unsigned long long)reg.mode, err_name(p, errno));
		set_bits(p->kd, feats, KD_MISSING, why);
		return;
	}
	if (feats & UFFD_FEATURE_MINOR_SHMEM) {
		struct uffdio_continue cont = { .range = { .start = a, .len = KD_PAGE_SIZE } };

		if (ioctl(uffd, UFFDIO_CONTINUE, &cont))
			kd_set(p->kd, KD_UFFD_MINOR_SHMEM, KD_MISSING,
			       "UFFDIO_CONTINUE at 0x%lx: %s", a, err_name(p, errno));
		else if (!page_present(p, a) || memcmp(map, src, KD_PAGE_SIZE))
			kd_set(p->kd, KD_UFFD_MINOR_SHMEM, KD_MISSING,
			       "UFFDIO_CONTINUE at 0x%lx did not map the page-cache page", a);
		else
			kd_set(p->kd, KD_UFFD_MINOR_SHMEM, KD_OK,
			       "UFFDIO_CONTINUE mapped a page-cache page");
	}
	if (feats & UFFD_FEATURE_MISSING_SHMEM) {
		struct uffdio_copy copy = { .dst = a + KD_PAGE_SIZE,
					    .src = (uintptr_t)src,
					    .len = KD_PAGE_SIZE };

		src[0] = 0x33;
		if (ioctl(uffd, UFFDIO_COPY, &copy) || copy.copy != (int64_t)KD_PAGE_SIZE)
			kd_set(p->kd, KD_UFFD_MISSING_SHMEM, KD_MISSING, "UFFDIO_COPY to 0x%lx: %s",
			       a + KD_PAGE_SIZE, err_name(p, errno));
		else if (pread(mfd, got, KD_PAGE_SIZE, KD_PAGE_SIZE) != (ssize_t)KD_PAGE_SIZE ||
			 memcmp(got, src, KD_PAGE_SIZE))
			kd_set(p->kd, KD_UFFD_MISSING_SHMEM, KD_MISSING,
			       "UFFDIO_COPY to 0x%lx did not fill the memfd", a + KD_PAGE_SIZE);
		else
			kd_set(p->kd, KD_UFFD_MISSING_SHMEM, KD_OK,
			       "UFFDIO_COPY filled a hole of a memfd");
	}
}

/* lazy restore's descriptor: all its features at once, shmem ones exercised.
 * The uffd is closed before the munmap: with EVENT_UNMAP enabled, munmap of a
 * registered range waits until someone reads the event. */
static void probe_lazy(struct uffd_probe *p, uint64_t feats)
{
	char *map = MAP_FAILED, why[96], fill[KD_PAGE_SIZE];
	int mfd, uffd;

	memset(fill, SHMEM_FILL, sizeof(fill));
	mfd = memfd_create("criu-lite-kerndat-uffd", MFD_CLOEXEC);
	if (mfd < 0 || ftruncate(mfd, 2 * KD_PAGE_SIZE) ||
	    pwrite(mfd, fill, KD_PAGE_SIZE, 0) != (ssize_t)KD_PAGE_SIZE ||
	    (map = mmap(NULL, 2 * KD_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0)) ==
		MAP_FAILED) {
		set_bits(p->kd, feats, KD_NOT_PROBED, "could not set up a memfd mapping");
		goto out;
	}
	uffd = uffd_with(p->kd, feats, NULL);
	if (uffd < 0) {
		snprintf(why, sizeof(why), "UFFDIO_API(0x%llx): %s", (unsigned long long)feats,
			 err_name(p, uffd));
		set_bits(p->kd, feats, KD_MISSING, why);
		goto out;
	}
	set_bits(p->kd, feats & ~SHMEM_FEATURES, KD_OK, "accepted by UFFDIO_API");
	if (feats & SHMEM_FEATURES)
		shmem_ops(p, uffd, feats & SHMEM_FEATURES, map, mfd);
	close(uffd);
out:
	if (map != MAP_FAILED)
		munmap(map, 2 * KD_PAGE_SIZE);
	if (mfd >= 0)
		close(mfd);
}

/* pre-dump's recipe: PAGEMAP_SCAN with WP_MATCHING|CHECK_WPASYNC must return
 * exactly the written pages 1 and 3. 0 when it did; -ENOTTY without
 * PAGEMAP_SCAN; else -EINVAL and why says why */
static int wp_scan(struct uffd_probe *p, unsigned long a, char *why, size_t len)
{
	struct page_region vec[WP_PAGES];
	struct pm_scan_arg arg = {
		.size = sizeof(arg),
		.flags = PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC,
		.start = a,
		.end = a + WP_PAGES * KD_PAGE_SIZE,
		.vec = (uintptr_t)vec,
		.vec_len = WP_PAGES,
		.category_mask = PAGE_IS_WRITTEN,
		.return_mask = PAGE_IS_WRITTEN,
	};
	long n = ioctl(p->pm, PAGEMAP_SCAN, &arg);

	if (n < 0 && errno == ENOTTY)
		return -ENOTTY;
	if (n < 0) {
		snprintf(why, len, "PAGEMAP_SCAN(WP_MATCHING|CHECK_WPASYNC): %s",
			 err_name(p, errno));
		return -EINVAL;
	}
	if (n != 2 || vec[0].start != a + KD_PAGE_SIZE || vec[0].end != a + 2 * KD_PAGE_SIZE ||
	    vec[1].start != a + 3 * KD_PAGE_SIZE || vec[1].end != a + 4 * KD_PAGE_SIZE) {
		snprintf(why, len,
			 "PAGEMAP_SCAN returned %ld regions where pages 1 and 3 were written", n);
		return -EINVAL;
	}
	return 0;
}

/* 4 pages, 0 and 1 populated; write-protect all, then write 1 and 3 */
static void wp_ops(struct uffd_probe *p, int uffd, uint64_t feats, unsigned long a)
{
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_WP };
	struct uffdio_writeprotect wp = { .mode = UFFDIO_WRITEPROTECT_MODE_WP };
	uint64_t before[WP_PAGES], after[WP_PAGES];
	char why[128];

	*(volatile char *)a = 1;
	*(volatile char *)(a + KD_PAGE_SIZE) = 1;
	reg.range.start = wp.range.start = a;
	reg.range.len = wp.range.len = WP_PAGES * KD_PAGE_SIZE;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg) || ioctl(uffd, UFFDIO_WRITEPROTECT, &wp)) {
		snprintf(why, sizeof(why), "UFFDIO_REGISTER/WRITEPROTECT(0x%lx, WP): %s", a,
			 err_name(p, errno));
		set_bits(p->kd, feats, KD_MISSING, why);
		return;
	}
	if (kd_pagemap_read(p->pm, a, before, WP_PAGES)) {
		set_bits(p->kd, feats, KD_NOT_PROBED, "cannot read /proc/self/pagemap");
		return;
	}
	if (feats & UFFD_FEATURE_WP_UNPOPULATED) {
		if (before[2] & PM_UFFD_WP)
			kd_set(p->kd, KD_UFFD_WP_UNPOPULATED, KD_OK,
			       "a never-touched page got a uffd-wp marker");
		else
			kd_set(p->kd, KD_UFFD_WP_UNPOPULATED, KD_MISSING,
			       "never-touched page at 0x%lx has no uffd-wp bit (0x%llx)",
			       a + 2 * KD_PAGE_SIZE, (unsigned long long)before[2]);
	}
	if (!(feats & UFFD_FEATURE_WP_ASYNC))
		return;
	/* async: these writes resolve in the kernel, nobody has to serve them */
	*(volatile char *)(a + KD_PAGE_SIZE) = 2;
	*(volatile char *)(a + 3 * KD_PAGE_SIZE) = 2;
	if (kd_pagemap_read(p->pm, a, after, WP_PAGES)) {
		kd_set(p->kd, KD_UFFD_WP_ASYNC, KD_NOT_PROBED, "cannot read /proc/self/pagemap");
		return;
	}
	if (!(after[0] & PM_UFFD_WP) || (after[1] & PM_UFFD_WP) || !(after[1] & PM_PRESENT)) {
		kd_set(p->kd, KD_UFFD_WP_ASYNC, KD_MISSING,
		       "uffd-wp bits after an async write: page 0 %s, written page 1 %s",
		       after[0] & PM_UFFD_WP ? "set" : "clear",
		       after[1] & PM_UFFD_WP ? "set" : "clear");
		return;
	}
	if (!(feats & UFFD_FEATURE_WP_UNPOPULATED)) {
		kd_set(
		    p->kd, KD_UFFD_WP_ASYNC, KD_OK,
		    "a write to a write-protected page went through and cleared its uffd-wp bit");
		return;
	}
	switch (wp_scan(p, a, why, sizeof(why))) {
	case 0:
		kd_set(p->kd, KD_UFFD_WP_ASYNC, KD_OK,
		       "writes went through; PAGEMAP_SCAN found exactly the written pages");
		break;
	case -ENOTTY:
		kd_set(p->kd, KD_UFFD_WP_ASYNC, KD_OK,
		       "writes went through; not cross-checked without PAGEMAP_SCAN");
		break;
	default:
		kd_set(p->kd, KD_UFFD_WP_ASYNC, KD_MISSING, "%s", why);
	}
}

/* pre-dump's descriptor: WP_ASYNC and WP_UNPOPULATED on an anonymous range */
static void probe_wp(struct uffd_probe *p, uint64_t feats)
{
	char why[96];
	void *map;
	int uffd;

	map = kd_map_anon(WP_PAGES);
	if (map == MAP_FAILED) {
		set_bits(p->kd, feats, KD_NOT_PROBED, "mmap failed");
		return;
	}
	uffd = uffd_with(p->kd, feats, NULL);
	if (uffd < 0) {
		snprintf(why, sizeof(why), "UFFDIO_API(0x%llx): %s", (unsigned long long)feats,
			 err_name(p, uffd));
		set_bits(p->kd, feats, KD_MISSING, why);
	} else {
		wp_ops(p, uffd, feats, (unsigned long)map);
		close(uffd);
	}
	munmap(map, WP_PAGES * KD_PAGE_SIZE);
}

int kd_probe_uffd(struct kerndat *kd)
{
	struct uffd_probe p = { .kd = kd, .pm = -1 };
	uint64_t want;
	int fd;

	fd = uffd_with(kd, 0, &kd->uffd_features);
	if (fd < 0) {
		kd_set(kd, KD_UFFD, KD_MISSING, "userfaultfd + UFFDIO_API: %s", err_name(&p, fd));
		set_bits(kd, ~0ULL, KD_MISSING, "no userfaultfd");
		return 0;
	}
	close(fd);
	kd_set(kd, KD_UFFD, KD_OK, "features 0x%llx%s", (unsigned long long)kd->uffd_features,
	       kd->uffd_user_mode_only ? ", user-mode faults only" : "");
	for (size_t i = 0; i < sizeof(uffd_items) / sizeof(uffd_items[0]); i++)
		if (!(kd->uffd_features & uffd_items[i].bit))
			kd_set(kd, uffd_items[i].id, KD_MISSING, "not offered by UFFDIO_API");

	p.pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (p.pm < 0) {
		set_bits(kd, kd->uffd_features, KD_NOT_PROBED, "cannot open /proc/self/pagemap");
		return 0;
	}

	want = LAZY_FEATURES & kd->uffd_features;
	if (want)
		probe_lazy(&p, want);
	want = WP_FEATURES & kd->uffd_features;
	if (want)
		probe_wp(&p, want);
	close(p.pm);
	return 0;
}
