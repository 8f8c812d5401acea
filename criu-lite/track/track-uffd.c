/* track-uffd: the userfaultfd write-protect backend of track.h (async mode).
 *
 * The uffd is made in the task (rsys), so it is the task's mm that it tracks; criu-lite takes a
 * copy (pidfd_getfd) for its ioctls, and the task keeps its own at a high fd number, close-on-
 * exec, between rounds (the registrations live as long as some copy does). Recipe and costs:
 * ../shared/kernel-facts.md §3. */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LOG_PREFIX "track: "
#include "criu-lite/dump/pagescan.h"
#include "criu-lite/kcompat.h"
#include "criu-lite/log.h"
#include "criu-lite/proc/proc.h"
#include "criu-lite/rsys.h"
#include "criu-lite/track/track.h"

#define FEATURES    (UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED)
#define NR_REGIONS  512
#define FD_FROM_TOP 64 /* the task's fd goes this far below its RLIMIT_NOFILE */

/* Whether a range registered for async WP keeps its registration and protection when mremap()
 * moves it (in this process, on a throwaway mapping). Our uffd has no EVENT_REMAP (nobody
 * would read the event between rounds): 6.18 then drops the moved range's registration, so it
 * counts as new and is copied whole; a kernel that kept both would make moved pages look
 * unchanged at their new address, where the parent may hold other data. */
bool track_uffd_remap_safe(void)
{
	const size_t len = 2 * 4096;
	char *a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *b = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int u = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK), pm = -1;
	struct uffdio_api api = { .api = UFFD_API, .features = FEATURES };
	struct uffdio_register reg = { .range = { (uintptr_t)a, len },
				       .mode = UFFDIO_REGISTER_MODE_WP };
	struct uffdio_writeprotect wp = { .range = { (uintptr_t)a, len },
					  .mode = UFFDIO_WRITEPROTECT_MODE_WP };
	struct page_region vec[4];
	struct pm_scan_arg s = { .size = sizeof(s),
				 .flags = PM_SCAN_CHECK_WPASYNC,
				 .start = (uintptr_t)b,
				 .end = (uintptr_t)b + len,
				 .vec = (uintptr_t)vec,
				 .vec_len = 4,
				 .category_mask = PAGE_IS_WRITTEN,
				 .return_mask = PAGE_IS_WRITTEN };
	bool safe = false;
	int n;

	if (u < 0 && errno == EPERM) /* vm.unprivileged_userfaultfd=0, no CAP_SYS_PTRACE */
		u = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (a == MAP_FAILED || b == MAP_FAILED || u < 0) {
		pr_warn("can't check what mremap() does to a write-protected range (%s): uffd-wp "
			"tracking is not used\n",
			strerror(errno));
		goto out;
	}
	memset(a, 1, len);
	if (ioctl(u, UFFDIO_API, &api) || ioctl(u, UFFDIO_REGISTER, &reg) ||
	    ioctl(u, UFFDIO_WRITEPROTECT, &wp) ||
	    mremap(a, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, b) != b)
		goto out;
	a = MAP_FAILED; /* moved: b is all there is */
	pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	n = pm < 0 ? -1 : ioctl(pm, PAGEMAP_SCAN, &s);
	/* EPERM: no longer registered (copied whole: safe); else both pages must read written */
	safe = (n < 0 && errno == EPERM) ||
	       (n == 1 && vec[0].start == (uintptr_t)b && vec[0].end == (uintptr_t)b + len);
out:
	if (pm >= 0)
		close(pm);
	if (u >= 0)
		close(u);
	if (a != MAP_FAILED)
		munmap(a, len);
	if (b != MAP_FAILED)
		munmap(b, len);
	return safe;
}

/* Our copy of the task's fd is a userfaultfd with our features. */
static bool is_ours(int fd)
{
	char p[64], link[64], line[128];
	ssize_t n;
	FILE *f;
	bool ok = false;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	n = readlink(p, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = 0;
	if (strcmp(link, "anon_inode:[userfaultfd]"))
		return false;
	snprintf(p, sizeof(p), "/proc/self/fdinfo/%d", fd);
	f = fopen(p, "re");
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long long api, features;

		if (sscanf(line, "API:\t%llx:%llx:", &api, &features) == 2)
			ok = (features & FEATURES) == FEATURES;
	}
	if (f)
		fclose(f);
	return ok;
}

/* A new uffd in the task, moved high; our copy with the API done. */
static int make(struct track_task *t, struct rsys *rs)
{
	struct uffdio_api api = { .api = UFFD_API, .features = FEATURES };
	struct rlimit rl = { 0 };
	long fd, hi, from = 3;

	fd = rsys_call_quiet(rs, SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK, 0, 0, 0, 0, 0);
	if (fd == -EPERM) /* vm.unprivileged_userfaultfd=0: async WP faults are all the same */
		fd = rsys_call_quiet(rs, SYS_userfaultfd,
				     O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY, 0, 0, 0, 0, 0);
	if (fd < 0) {
		pr_err("pid %d: userfaultfd() in the task: %s\n", t->pid, strerror((int)-fd));
		return (int)fd;
	}
	if (!syscall(SYS_prlimit64, t->pid, RLIMIT_NOFILE, NULL, &rl) && rl.rlim_cur > 3)
		from = rl.rlim_cur > (1u << 20) ? (1 << 20) : (long)rl.rlim_cur;
	from = from > FD_FROM_TOP + 3 ? from - FD_FROM_TOP : 3;
	hi = fd < from ? rsys_call_quiet(rs, SYS_fcntl, fd, F_DUPFD_CLOEXEC, from, 0, 0, 0) : -1;
	if (hi >= 0) {
		rsys1(rs, SYS_close, fd);
		fd = hi;
	}
	t->task_fd = (int)fd;
	t->uffd = rsys_getfd(rs, t->task_fd);
	if (t->uffd < 0)
		return t->uffd;
	if (ioctl(t->uffd, UFFDIO_API, &api)) {
		pr_perror("pid %d: UFFDIO_API (WP_ASYNC|WP_UNPOPULATED) on its userfaultfd",
			  t->pid);
		return -errno;
	}
	pr_debug("pid %d: tracking through a userfaultfd at its fd %d\n", t->pid, t->task_fd);
	return 0;
}

/* VMAs whose private pages a dump copies, and which the kernel lets us register. */
static bool candidate(const struct vma *v)
{
	return !v->shared && !vma_is_vdso_like(v) && (v->flags & VMF_MW) &&
	       !(v->flags & (VMF_PF | VMF_IO | VMF_HT));
}

int track_uffd_arm(struct track_task *t, struct rsys *rs, const struct vma_list *vmas)
{
	int ret;

	if (t->task_fd >= 0) { /* the last round's: still there, still ours? */
		int fd = rsys_getfd(rs, t->task_fd);

		if (fd >= 0 && is_ours(fd)) {
			t->uffd = fd;
		} else {
			if (fd >= 0)
				close(fd);
			pr_info("pid %d: its tracking userfaultfd (fd %d) is gone: every page is "
				"copied this round\n",
				t->pid, t->task_fd);
			t->task_fd = -1;
			t->incremental = false;
		}
	}
	if (t->uffd < 0) {
		t->incremental = false;
		if ((ret = make(t, rs)))
			return ret;
	}
	for (size_t i = 0; i < vmas->n; i++) {
		const struct vma *v = &vmas->v[i];
		struct uffdio_register reg = { .range = { v->start, v->end - v->start },
					       .mode = UFFDIO_REGISTER_MODE_WP };
		bool was = v->flags & VMF_UW;

		if (!candidate(v)) {
			t->vs[i] = TV_SKIP;
			continue;
		}
		if (!ioctl(t->uffd, UFFDIO_REGISTER, &reg)) {
			t->vs[i] = was ? TV_TRACKED : TV_NEW;
			continue;
		}
		t->vs[i] = TV_UNTRACKED;
		if (errno == EBUSY)
			pr_warn(
			    "pid %d: VMA %#llx-%#llx is held by a userfaultfd of the task's own: "
			    "its pages are copied whole every round\n",
			    t->pid, (unsigned long long)v->start, (unsigned long long)v->end);
		else
			pr_info("pid %d: VMA %#llx-%#llx %s can't be write-protected (%s): its "
				"pages are copied whole every round\n",
				t->pid, (unsigned long long)v->start, (unsigned long long)v->end,
				v->name ? v->name : "", strerror(errno));
	}
	return 0;
}

int track_uffd_scan(struct track_task *t, const struct vma_list *vmas, size_t i)
{
	struct page_region vec[NR_REGIONS];
	uint64_t start = vmas->v[i].start, end = vmas->v[i].end;

	while (start < end) {
		struct pm_scan_arg a = {
			.size = sizeof(a),
			.flags = PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC,
			.start = start,
			.end = end,
			.vec = (uintptr_t)vec,
			.vec_len = NR_REGIONS,
			.category_mask = PAGE_IS_WRITTEN,
			.return_mask = PAGE_IS_WRITTEN,
		};
		int n = ioctl(t->pagemap_fd, PAGEMAP_SCAN, &a), ret;
		uint64_t next;

		if (n < 0) {
			pr_perror("pid %d: PAGEMAP_SCAN for written pages of %#llx-%#llx", t->pid,
				  (unsigned long long)start, (unsigned long long)end);
			return -errno;
		}
		for (int k = 0; k < n; k++)
			if ((ret = track_add_run(t, vec[k].start, vec[k].end)))
				return ret;
		next = pagescan_next(start, end, a.walk_end, n, NR_REGIONS, n ? vec[n - 1].end : 0);
		if (next <= start) {
			pr_err("pid %d: PAGEMAP_SCAN made no progress at %#llx\n", t->pid,
			       (unsigned long long)start);
			return -EIO;
		}
		start = next;
	}
	return 0;
}

int track_uffd_disarm(struct track_task *t, struct rsys *rs)
{
	long r;

	if (!rs || t->uffd < 0 || t->task_fd < 0)
		return 0;		      /* a task that is gone: its uffd went with it */
	r = rsys1(rs, SYS_close, t->task_fd); /* with ours (closed by the caller): unregistered */
	t->task_fd = -1;
	return r < 0 ? (int)r : 0;
}
