/* pagescan: see pagescan.h. Swapped regions that PAGEMAP_SCAN reports are read again from
 * pagemap (read_entries()): among them may be userfaultfd-wp PTE markers, which hold no data. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LOG_PREFIX "pagescan: "
#include "criu-lite/kcompat.h"
#include "criu-lite/log.h"
#include "criu-lite/dump/pagescan.h"

#define PS_PAGE	      4096ULL
#define PS_NR_REGIONS 4096	  /* ioctl regions per call */
#define PS_NR_ENTRIES (64 * 1024) /* pagemap entries per read: 512 KiB */

/* The pfns pagemap shows for pages 0 and 1 of our own mapping p (root only): 0 where absent. */
static void pfns_of(volatile char *p, uint64_t pfn[2])
{
	uint64_t e[2] = { 0, 0 };
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (pread(fd, e, sizeof(e), (off_t)((uintptr_t)p / PS_PAGE * 8)) != sizeof(e))
			e[0] = e[1] = 0;
		close(fd);
	}
	for (int i = 0; i < 2; i++)
		pfn[i] = (e[i] & PM_PRESENT) ? (e[i] & PM_PFRAME_MASK) : 0;
}

/* Map the zero page at both pages of p with UFFDIO_ZEROPAGE (which maps the zero pfn whatever
 * a read fault does on this kernel). */
static void uffd_zeropage(volatile char *p)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {
		.range = { (uintptr_t)p, 2 * PS_PAGE },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	struct uffdio_zeropage z = { .range = { (uintptr_t)p, 2 * PS_PAGE } };
	int u = (int)syscall(SYS_userfaultfd, O_CLOEXEC);

	if (u < 0)
		return;
	if (!ioctl(u, UFFDIO_API, &api) && !ioctl(u, UFFDIO_REGISTER, &reg))
		ioctl(u, UFFDIO_ZEROPAGE, &z);
	close(u);
}

/* The pfn of the shared zero page, as our own pagemap shows it (root only), or 0 when it
 * can't be told. Two pages of a private anonymous mapping share a pfn only when both map
 * the zero page, so that is the proof: a read fault maps it on most kernels, but some
 * (this machine kind's) give every read fault a page of its own, and a freed page's pfn
 * taken for the zero page would make real data read as zeros. UFFDIO_ZEROPAGE is the
 * second way in. */
static uint64_t find_zero_pfn(void)
{
	volatile char *p =
	    mmap(NULL, 2 * PS_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t pfn[2];

	if (p == MAP_FAILED)
		return 0;
	madvise((void *)p, 2 * PS_PAGE, MADV_NOHUGEPAGE);
	(void)p[0];
	(void)p[PS_PAGE];
	pfns_of(p, pfn);
	if (!pfn[0] || pfn[0] != pfn[1]) {
		madvise((void *)p, 2 * PS_PAGE, MADV_DONTNEED);
		uffd_zeropage(p);
		pfns_of(p, pfn);
	}
	munmap((void *)p, 2 * PS_PAGE);
	return pfn[0] == pfn[1] ? pfn[0] : 0;
}

int pagescan_open(pid_t pid, bool use_ioctl, struct pagescan *ps)
{
	char path[64];

	memset(ps, 0, sizeof(*ps));
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	ps->pagemap_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ps->pagemap_fd < 0) {
		pr_perror("can't open %s", path);
		return -errno;
	}
	ps->use_ioctl = use_ioctl;
	ps->buf_len = use_ioctl ? PS_NR_REGIONS * sizeof(struct page_region)
				: PS_NR_ENTRIES * sizeof(uint64_t);
	ps->buf = malloc(ps->buf_len);
	if (!ps->buf) {
		close(ps->pagemap_fd);
		return -ENOMEM;
	}
	if (!use_ioctl)
		ps->zero_pfn = find_zero_pfn();
	return 0;
}

void pagescan_close(struct pagescan *ps)
{
	if (ps->pagemap_fd > 0)
		close(ps->pagemap_fd);
	free(ps->buf);
	memset(ps, 0, sizeof(*ps));
}

/* Merge adjacent alike runs before handing them out. */
struct emitter {
	struct pagescan_run cur;
	bool have;
	pagescan_cb cb;
	void *arg;
};

static int emit(struct emitter *em, uint64_t start, uint64_t end, bool zero, bool written)
{
	int ret;

	if (em->have && em->cur.end == start && em->cur.zero == zero &&
	    em->cur.written == written) {
		em->cur.end = end;
		return 0;
	}
	if (em->have && (ret = em->cb(em->arg, &em->cur)))
		return ret;
	em->cur = (struct pagescan_run){ start, end, zero, written };
	em->have = true;
	return 0;
}

static int emit_flush(struct emitter *em)
{
	int ret = em->have ? em->cb(em->arg, &em->cur) : 0;

	em->have = false;
	return ret;
}

/* [start, end) through pagemap reads into pm (cap entries). Also the ioctl's swapped regions:
 * PAGE_IS_SWAPPED covers the PTE markers too (a range write-protected by a userfaultfd with
 * WP_UNPOPULATED: dirty tracking), which hold no data; their swap type tells them apart. */
static int read_entries(struct pagescan *ps, uint64_t *pm, size_t cap, uint64_t start, uint64_t end,
			bool guards, struct emitter *em)
{
	while (start < end) {
		uint64_t nr = (end - start) / PS_PAGE;
		ssize_t n;

		if (nr > cap)
			nr = cap;
		n = pread(ps->pagemap_fd, pm, nr * 8, start / PS_PAGE * 8);
		if (n < 0) {
			pr_perror("read of pagemap at %#llx", (unsigned long long)start);
			return -errno;
		}
		if (n == 0 || n % 8) {
			pr_err("short read of pagemap at %#llx\n", (unsigned long long)start);
			return -EIO;
		}
		nr = (uint64_t)n / 8;
		for (uint64_t i = 0; i < nr; i++) {
			uint64_t e = pm[i], a = start + i * PS_PAGE;
			bool data, zero = false;
			int r;

			if (guards) {
				data = e & PM_GUARD_REGION;
			} else if (e & PM_PRESENT) {
				data = !(e & PM_FILE);
				zero = ps->zero_pfn && (e & PM_PFRAME_MASK) == ps->zero_pfn;
			} else if (e & PM_SWAP) {
				data = PM_SWAP_TYPE(e) != PM_SWAP_TYPE_MARKER && !(e & PM_FILE);
			} else {
				data = false;
			}
			if (data && (r = emit(em, a, a + PS_PAGE, zero,
					      ps->want_written && !guards && !(e & PM_UFFD_WP))))
				return r;
		}
		start += nr * PS_PAGE;
	}
	return 0;
}

/* the buffer is the ioctl's when guards are read here on a kernel whose PAGEMAP_SCAN can't
 * report them */
static int scan_read(struct pagescan *ps, uint64_t start, uint64_t end, bool guards,
		     struct emitter *em)
{
	return read_entries(ps, ps->buf, ps->buf_len / sizeof(uint64_t), start, end, guards, em);
}

/* guards: the guard regions instead of the data pages. */
static int scan_ioctl(struct pagescan *ps, uint64_t start, uint64_t end, bool guards,
		      struct emitter *em)
{
	struct page_region *vec = ps->buf;
	uint64_t pm[512]; /* its swapped regions, read again (read_entries()) */
	struct pm_scan_arg a;
	uint64_t next;
	int ret;

	while (start < end) {
		memset(&a, 0, sizeof(a));
		a.size = sizeof(a);
		a.start = start;
		a.end = end;
		a.vec = (uintptr_t)vec;
		a.vec_len = PS_NR_REGIONS;
		if (guards) {
			a.category_mask = PAGE_IS_GUARD;
			a.return_mask = PAGE_IS_GUARD;
		} else {
			/* not a file page, not a guard region; present or swapped */
			a.category_inverted = PAGE_IS_FILE | PAGE_IS_GUARD;
			a.category_mask = PAGE_IS_FILE | PAGE_IS_GUARD;
			a.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED;
			a.return_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED | PAGE_IS_PFNZERO |
					(ps->want_written ? PAGE_IS_WRITTEN : 0);
		}
		ret = ioctl(ps->pagemap_fd, PAGEMAP_SCAN, &a);
		if (ret < 0) {
			pr_perror("PAGEMAP_SCAN%s of %#llx-%#llx",
				  guards ? " for guard regions" : "", (unsigned long long)start,
				  (unsigned long long)end);
			return -errno;
		}
		for (int i = 0; i < ret; i++) {
			int r = !guards && !(vec[i].categories & PAGE_IS_PRESENT)
				    ? read_entries(ps, pm, sizeof(pm) / sizeof(pm[0]), vec[i].start,
						   vec[i].end, false, em)
				    : emit(em, vec[i].start, vec[i].end,
					   !guards && (vec[i].categories & PAGE_IS_PFNZERO),
					   !guards && (vec[i].categories & PAGE_IS_WRITTEN));

			if (r)
				return r;
		}
		next = pagescan_next(start, end, a.walk_end, ret, PS_NR_REGIONS,
				     ret ? vec[ret - 1].end : 0);
		if (next <= start) {
			pr_err("PAGEMAP_SCAN made no progress at %#llx\n",
			       (unsigned long long)start);
			return -EIO;
		}
		start = next;
	}
	return 0;
}

int pagescan_range(struct pagescan *ps, uint64_t start, uint64_t end, pagescan_cb cb, void *arg)
{
	struct emitter em = { .cb = cb, .arg = arg };
	int ret = ps->use_ioctl ? scan_ioctl(ps, start, end, false, &em)
				: scan_read(ps, start, end, false, &em);

	if (!ret)
		ret = emit_flush(&em);
	return ret;
}

int pagescan_guards(struct pagescan *ps, bool use_ioctl, uint64_t start, uint64_t end,
		    pagescan_cb cb, void *arg)
{
	struct emitter em = { .cb = cb, .arg = arg };
	int ret = use_ioctl && ps->use_ioctl ? scan_ioctl(ps, start, end, true, &em)
					     : scan_read(ps, start, end, true, &em);

	if (!ret)
		ret = emit_flush(&em);
	return ret;
}
