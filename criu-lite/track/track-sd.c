/* track-sd: the soft-dirty backend of track.h: pagemap bit 55 read per page, cleared for the
 * whole task with clear_refs "4" once the round has read them (the task still frozen). New VMAs
 * are born soft-dirty (VM_SOFTDIRTY), so they count as written without more ado. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#define LOG_PREFIX "track: "
#include "criu-lite/log.h"
#include "criu-lite/proc/proc.h"
#include "criu-lite/track/track.h"

#define PG	   4096ULL
#define PM_SD	   (1ULL << 55)
#define NR_ENTRIES 4096

int track_sd_scan(struct track_task *t, const struct vma_list *vmas, size_t i)
{
	uint64_t pm[NR_ENTRIES];
	uint64_t addr = vmas->v[i].start, end = vmas->v[i].end;

	while (addr < end) {
		size_t want = (end - addr) / PG;
		ssize_t n;

		if (want > NR_ENTRIES)
			want = NR_ENTRIES;
		n = pread(t->pagemap_fd, pm, want * sizeof(*pm), (off_t)(addr / PG * sizeof(*pm)));
		if (n <= 0 || n % sizeof(*pm)) {
			pr_perror("pid %d: pagemap read at %#llx", t->pid,
				  (unsigned long long)addr);
			return n < 0 ? -errno : -EIO;
		}
		for (size_t k = 0; k < (size_t)n / sizeof(*pm); k++, addr += PG) {
			int ret;

			if ((pm[k] & PM_SD) && (ret = track_add_run(t, addr, addr + PG)))
				return ret;
		}
	}
	return 0;
}

int track_sd_clear(const struct track_task *t)
{
	char p[64];
	int fd, ret = 0;

	snprintf(p, sizeof(p), "/proc/%d/clear_refs", t->pid);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "4", 1) != 1) {
		pr_perror("pid %d: clearing its soft-dirty bits (%s)", t->pid, p);
		ret = -errno;
	}
	if (fd >= 0)
		close(fd);
	return ret;
}
