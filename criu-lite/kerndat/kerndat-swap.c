/* kerndat-swap: does pagemap report PM_SWAP for swapped-out shmem pages (our
 * kernel patch)? Pushes 16 written memfd pages out with MADV_PAGEOUT and
 * reads their pagemap entries. Needs active swap: when there is none and
 * zram0 is free, it sets up a small zram swap and always tears it down again
 * (swapoff + zram reset), on every path, with termination signals held off
 * meanwhile. A swap someone else turned on is used and left alone. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/swap.h>
#include <unistd.h>

#define LOG_PREFIX "kerndat: "
#include "criu-lite/kcompat.h"
#include "criu-lite/kerndat/kerndat-int.h"
#include "criu-lite/log.h"

#define SWAP_PAGES    16
#define PAGEOUT_TRIES 5
#define ZRAM_DEV      "/dev/zram0"
#define ZRAM_SYS      "/sys/block/zram0"
#define ZRAM_SIZE     (64UL << 20)

struct swap_probe {
	struct kerndat *kd;
	bool zram_on; /* we configured zram0 (needs a reset) */
	bool swap_on; /* we ran swapon (needs swapoff) */
	bool masked;  /* termination signals are blocked; saved is the old mask */
	sigset_t saved;
	char eb[32];
};

static const char *err_name(struct swap_probe *p, int err)
{
	return kd_errstr(err, p->eb, sizeof(p->eb));
}

/* number of active swap areas, or -errno */
static int active_swaps(void)
{
	char *line = NULL;
	size_t cap = 0;
	int n = -1; /* the header line */
	FILE *f;

	f = fopen("/proc/swaps", "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0)
		n++;
	free(line);
	fclose(f);
	return n < 0 ? 0 : n;
}

static int write_str(const char *path, const char *val)
{
	ssize_t n;
	int fd, err;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	err = errno;
	close(fd);
	if (n < 0)
		return -err;
	return (size_t)n == strlen(val) ? 0 : -EIO;
}

/* what mkswap writes: the v1 header in the first page */
static int write_swap_header(unsigned long size)
{
	char page[KD_PAGE_SIZE];
	uint32_t hdr[3] = { 1, (uint32_t)(size / KD_PAGE_SIZE - 1),
			    0 }; /* version, last_page, nr_badpages */
	int fd, ret = 0;

	ssize_t n;

	memset(page, 0, sizeof(page));
	memcpy(page + 1024, hdr, sizeof(hdr));
	memcpy(page + KD_PAGE_SIZE - 10, "SWAPSPACE2", 10);
	fd = open(ZRAM_DEV, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pwrite(fd, page, sizeof(page), 0);
	if (n < 0 || fsync(fd))
		ret = -errno;
	else if (n != (ssize_t)sizeof(page))
		ret = -EIO;
	close(fd);
	return ret;
}

/* 0, or -EBUSY when the machine is left with our swap or zram set up (logged) */
static int swap_teardown(struct swap_probe *p)
{
	int ret;

	if (p->swap_on) {
		if (swapoff(ZRAM_DEV))
			pr_perror("swapoff %s: swap is still on, turn it off by hand", ZRAM_DEV);
		else
			p->swap_on = false;
	}
	if (p->zram_on && !p->swap_on) {
		ret = write_str(ZRAM_SYS "/reset", "1");
		if (ret)
			pr_err("reset of %s failed: %s; its disksize stays set\n", ZRAM_SYS,
			       strerror(-ret));
		else
			p->zram_on = false;
	}
	if (p->masked)
		sigprocmask(SIG_SETMASK, &p->saved, NULL);
	p->masked = false;
	return p->swap_on || p->zram_on ? -EBUSY : 0;
}

/* turn a zram swap on; "" or why not in why */
static void swap_setup(struct swap_probe *p, char *why, size_t len)
{
	char val[32];
	sigset_t block;
	unsigned long disksize;
	int ret;

	ret = kd_read_ulong(ZRAM_SYS "/disksize", &disksize);
	if (ret) {
		snprintf(why, len, "no active swap and no usable %s (%s)", ZRAM_SYS,
			 err_name(p, ret));
		return;
	}
	if (disksize) {
		snprintf(why, len, "no active swap and %s is in use (disksize %lu)", ZRAM_DEV,
			 disksize);
		return;
	}
	/* from here on a ^C must not leave a swap behind */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGQUIT);
	sigprocmask(SIG_BLOCK, &block, &p->saved);
	p->masked = true;

	write_str(ZRAM_SYS "/comp_algorithm", "lzo-rle"); /* the default is fine too */
	snprintf(val, sizeof(val), "%lu", ZRAM_SIZE);
	ret = write_str(ZRAM_SYS "/disksize", val);
	if (ret) {
		snprintf(why, len, "setting %s/disksize: %s", ZRAM_SYS, err_name(p, ret));
		return;
	}
	p->zram_on = true;
	ret = write_swap_header(ZRAM_SIZE);
	if (ret) {
		snprintf(why, len, "writing a swap header to %s: %s", ZRAM_DEV, err_name(p, ret));
		return;
	}
	if (swapon(ZRAM_DEV, SWAP_FLAG_PREFER | (100 << SWAP_FLAG_PRIO_SHIFT))) {
		snprintf(why, len, "swapon %s: %s", ZRAM_DEV, err_name(p, errno));
		return;
	}
	p->swap_on = true;
	pr_info("zram swap on %s for the PM_SWAP probe\n", ZRAM_DEV);
}

/* pages of the mapping that are out of memory (mincore), after MADV_PAGEOUT */
static int push_out(char *map, unsigned char *vec)
{
	int out = 0;

	for (int t = 0; t < PAGEOUT_TRIES; t++) {
		madvise(map, SWAP_PAGES * KD_PAGE_SIZE, MADV_PAGEOUT);
		if (mincore(map, SWAP_PAGES * KD_PAGE_SIZE, vec))
			return -errno;
		out = 0;
		for (int i = 0; i < SWAP_PAGES; i++)
			out += !(vec[i] & 1);
		if (out == SWAP_PAGES)
			break;
		usleep(20000);
	}
	return out;
}

/* the probe itself, on a memfd; swap is on */
static void measure(struct swap_probe *p)
{
	unsigned char vec[SWAP_PAGES];
	uint64_t ent[SWAP_PAGES];
	struct vma vma = { .swap = 0 };
	char *map = MAP_FAILED;
	int mfd, pm = -1, out, with_swap = 0;
	unsigned long a;

	mfd = memfd_create("criu-lite-kerndat-swap", MFD_CLOEXEC);
	if (mfd < 0 || ftruncate(mfd, SWAP_PAGES * KD_PAGE_SIZE) ||
	    (map = mmap(NULL, SWAP_PAGES * KD_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd,
			0)) == MAP_FAILED) {
		kd_set(p->kd, KD_SHMEM_PM_SWAP, KD_NOT_PROBED, "memfd mapping: %s",
		       err_name(p, errno));
		goto out;
	}
	a = (unsigned long)map;
	for (int i = 0; i < SWAP_PAGES; i++)
		memset(map + i * KD_PAGE_SIZE, 0x40 + i, KD_PAGE_SIZE);
	out = push_out(map, vec);
	kd_vma_at(getpid(), a, &vma);
	pr_debug("pushed %d of %d memfd pages out at 0x%lx, smaps Swap %llu kB\n",
		 out < 0 ? 0 : out, SWAP_PAGES, a, (unsigned long long)vma.swap >> 10);
	if (out <= 0 || vma.swap == 0) {
		kd_set(p->kd, KD_SHMEM_PM_SWAP, KD_NOT_PROBED,
		       "could not push pages out (%d of %d not resident, smaps Swap %llu kB)",
		       out < 0 ? 0 : out, SWAP_PAGES, (unsigned long long)vma.swap >> 10);
		goto out;
	}
	pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pm < 0 || kd_pagemap_read(pm, a, ent, SWAP_PAGES)) {
		kd_set(p->kd, KD_SHMEM_PM_SWAP, KD_NOT_PROBED, "cannot read /proc/self/pagemap");
		goto out;
	}
	for (int i = 0; i < SWAP_PAGES; i++)
		if (!(vec[i] & 1) && (ent[i] & PM_SWAP) &&
		    PM_SWAP_TYPE(ent[i]) != PM_SWAP_TYPE_MARKER)
			with_swap++;
	if (with_swap == out)
		kd_set(p->kd, KD_SHMEM_PM_SWAP, KD_OK,
		       "%d/%d swapped-out memfd pages show PM_SWAP (patched kernel)", with_swap,
		       out);
	else if (with_swap)
		kd_set(p->kd, KD_SHMEM_PM_SWAP, KD_MISSING,
		       "only %d of %d swapped-out memfd pages show PM_SWAP", with_swap, out);
	else if (lseek(mfd, 0, SEEK_DATA) != 0)
		kd_set(p->kd, KD_SHMEM_PM_SWAP, KD_MISSING,
		       "stock kernel; and SEEK_DATA does not see the swapped pages either");
	else
		kd_set(p->kd, KD_SHMEM_PM_SWAP, KD_MISSING,
		       "stock kernel; swapped shmem found through SEEK_DATA instead");
out:
	if (pm >= 0)
		close(pm);
	if (map != MAP_FAILED)
		munmap(map, SWAP_PAGES * KD_PAGE_SIZE);
	if (mfd >= 0)
		close(mfd); /* frees its swap slots before a swapoff */
}

int kd_probe_swap(struct kerndat *kd)
{
	struct swap_probe p = { .kd = kd };
	char why[128] = "";
	int n, ret = 0;

	n = active_swaps();
	if (n < 0) {
		kd_set(kd, KD_SHMEM_PM_SWAP, KD_NOT_PROBED, "cannot read /proc/swaps: %s",
		       err_name(&p, n));
		return 0;
	}
	if (n == 0) {
		swap_setup(&p, why, sizeof(why));
		if (why[0]) {
			kd_set(kd, KD_SHMEM_PM_SWAP, KD_NOT_PROBED, "%s", why);
			goto out;
		}
	}
	measure(&p);
out:
	if (n == 0)
		ret = swap_teardown(&p);
	return ret;
}
