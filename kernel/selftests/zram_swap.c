/* zram_swap: a small swap device for a test, on zram (see zram_swap.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/swap.h>
#include <unistd.h>

#include "zram_swap.h"

#define PG	 4096
#define ZRAM_SYS "/sys/block/zram0"
#define ZRAM_DEV "/dev/zram0"

/* active swap areas in /proc/swaps, or -errno */
static int count_swaps(void)
{
	char line[512];
	int n = -1; /* header */
	FILE *f = fopen("/proc/swaps", "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n < 0 ? 0 : n;
}

static int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), err;
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	err = errno;
	close(fd);
	if (n < 0)
		return -err;
	return (size_t)n == strlen(val) ? 0 : -EIO;
}

static int read_ulong(const char *path, unsigned long *v)
{
	char buf[64] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	*v = strtoul(buf, NULL, 0);
	return 0;
}

/* what mkswap writes: version 1, last page, no bad pages, the magic */
static int write_header(const char *dev, unsigned long bytes)
{
	char page[PG];
	uint32_t hdr[3] = { 1, (uint32_t)(bytes / PG - 1), 0 };
	int fd, ret = 0;

	memset(page, 0, sizeof(page));
	memcpy(page + 1024, hdr, sizeof(hdr));
	memcpy(page + PG - 10, "SWAPSPACE2", 10);
	fd = open(dev, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (pwrite(fd, page, PG, 0) != PG || fsync(fd))
		ret = errno ? -errno : -EIO;
	close(fd);
	return ret;
}

static int fail(const char *what, int err)
{
	printf("# zram swap: %s: %s\n", what, strerror(-err));
	return err;
}

int zram_swap_on(struct zram_swap *z, unsigned long bytes)
{
	unsigned long disksize;
	char val[32];
	int n = count_swaps(), ret;

	memset(z, 0, sizeof(*z));
	if (n < 0)
		return fail("reading /proc/swaps", n);
	if (n > 0) {
		z->type = -1; /* someone else's swap: pages may go to any of its devices */
		snprintf(z->dev, sizeof(z->dev), "(already active)");
		return 0;
	}
	if (access(ZRAM_SYS, F_OK)) {
		unsigned long id;

		ret = read_ulong("/sys/class/zram-control/hot_add", &id);
		if (ret)
			return fail("no " ZRAM_SYS " and no zram-control/hot_add", ret);
		if (id != 0)
			return fail("hot_add gave another device than zram0", -ENODEV);
	}
	ret = read_ulong(ZRAM_SYS "/disksize", &disksize);
	if (ret)
		return fail("reading " ZRAM_SYS "/disksize", ret);
	if (disksize)
		return fail(ZRAM_DEV " is already configured", -EBUSY);
	write_str(ZRAM_SYS "/comp_algorithm", "lzo-rle"); /* the default does too */
	snprintf(val, sizeof(val), "%lu", bytes);
	ret = write_str(ZRAM_SYS "/disksize", val);
	if (ret)
		return fail("setting " ZRAM_SYS "/disksize", ret);
	z->ours = true;
	snprintf(z->dev, sizeof(z->dev), "%s", ZRAM_DEV);
	ret = write_header(ZRAM_DEV, bytes);
	if (!ret && swapon(ZRAM_DEV, 0))
		ret = -errno;
	if (ret) {
		fail("mkswap/swapon " ZRAM_DEV, ret);
		write_str(ZRAM_SYS "/reset", "1");
		z->ours = false;
		return ret;
	}
	z->type = 0;
	return 0;
}

int zram_swap_off(struct zram_swap *z)
{
	int ret;

	if (!z->ours)
		return 0;
	if (swapoff(z->dev))
		return fail("swapoff " ZRAM_DEV, -errno);
	ret = write_str(ZRAM_SYS "/reset", "1");
	if (ret)
		return fail("resetting " ZRAM_SYS, ret);
	z->ours = false;
	return 0;
}
