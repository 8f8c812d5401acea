/* track: the tracker's life from round to round and its state file (track.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LOG_PREFIX "track: "
#include "criu-lite/kerndat/kerndat.h"
#include "criu-lite/log.h"
#include "criu-lite/proc/proc.h"
#include "criu-lite/track/track.h"

#define PG 4096ULL

const char *track_backend_name(enum track_backend b)
{
	switch (b) {
	case TRACK_SOFT_DIRTY:
		return "soft-dirty";
	case TRACK_UFFD_WP:
		return "uffd-wp";
	default:
		return "none";
	}
}

enum track_backend track_choose(const struct kerndat *kd, const char *forced, const char **why)
{
	static const char *const no_sd = "this kernel keeps no soft-dirty bits "
					 "(CONFIG_MEM_SOFT_DIRTY)";
	static const char *const no_wp = "this kernel lacks userfaultfd WP_ASYNC, WP_UNPOPULATED "
					 "or PAGEMAP_SCAN (6.7+)";
	static const char *const wp_remap = "this kernel keeps a range's userfaultfd write "
					    "protection across mremap(): a moved range would look "
					    "unchanged at its new address";
	bool sd = kd_has(kd, KD_SOFT_DIRTY);
	bool wp = kd_has(kd, KD_UFFD) && kd_has(kd, KD_UFFD_WP_ASYNC) &&
		  kd_has(kd, KD_UFFD_WP_UNPOPULATED) && kd_has(kd, KD_PAGEMAP_SCAN);
	bool want_sd = forced ? !strcmp(forced, "soft-dirty") : sd;

	*why = NULL;
	if (want_sd) { /* soft-dirty first: nothing of ours stays in the task between rounds */
		*why = sd ? NULL : no_sd;
		return sd ? TRACK_SOFT_DIRTY : TRACK_NONE;
	}
	if (!wp) {
		*why = forced ? no_wp
			      : "this kernel has neither soft-dirty bits nor userfaultfd WP_ASYNC "
				"with PAGEMAP_SCAN";
		return TRACK_NONE;
	}
	if (!track_uffd_remap_safe()) { /* checked, not assumed: see there */
		*why = wp_remap;
		return TRACK_NONE;
	}
	return TRACK_UFFD_WP;
}

/* ---- the state file: "BACKEND FD LAST_DUMP_ID\n" ------------------------------------------ */

static void path_of(pid_t pid, uint64_t starttime, char *p, size_t len)
{
	snprintf(p, len, TRACK_DIR "/%d-%" PRIu64, pid, starttime);
}

static void state_path(const struct track_task *t, char *p, size_t len)
{
	path_of(t->pid, t->starttime, p, len);
}

bool track_armed(pid_t pid, uint64_t starttime)
{
	char p[128];

	path_of(pid, starttime, p, sizeof(p));
	return !access(p, F_OK);
}

static int mkdirs(void)
{
	if (mkdir("/run", 0755) && errno != EEXIST) /* a minimal system may not have it */
		goto fail;
	if (mkdir("/run/criu-lite", 0700) && errno != EEXIST)
		goto fail;
	if (mkdir(TRACK_DIR, 0700) && errno != EEXIST)
		goto fail;
	return 0;
fail:
	pr_perror("can't make %s", TRACK_DIR);
	return -errno;
}

static int state_write(const struct track_task *t, uint32_t last)
{
	char p[128], tmp[160];
	FILE *f;
	int ret;

	if ((ret = mkdirs()))
		return ret;
	state_path(t, p, sizeof(p));
	snprintf(tmp, sizeof(tmp), "%s.tmp", p);
	f = fopen(tmp, "we");
	if (!f) {
		pr_perror("can't write %s", tmp);
		return -errno;
	}
	fprintf(f, "%s %d %" PRIu32 "\n", track_backend_name(t->be), t->task_fd, last);
	if (fclose(f) || rename(tmp, p)) {
		pr_perror("can't write %s", p);
		unlink(tmp);
		return -errno;
	}
	return 0;
}

static void state_read(const struct track_task *t, char *be, size_t be_len, int *fd, uint32_t *last)
{
	char p[128], b[32];
	FILE *f;

	*fd = -1;
	*last = 0;
	be[0] = 0;
	state_path(t, p, sizeof(p));
	f = fopen(p, "re");
	if (!f)
		return;
	if (fscanf(f, "%31s %d %" SCNu32, b, fd, last) != 3) {
		*fd = -1;
		*last = 0;
	} else {
		snprintf(be, be_len, "%s", b);
	}
	fclose(f);
}

void track_prune(void)
{
	DIR *d = opendir(TRACK_DIR);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		struct proc_stat st;
		uint64_t start;
		char p[32];
		int pid;

		if (sscanf(e->d_name, "%d-%" SCNu64, &pid, &start) != 2)
			continue;
		snprintf(p, sizeof(p), "/proc/%d", pid);
		/* a task that is gone is no error: its state just goes */
		if (pid > 0 && !access(p, F_OK) && !proc_parse_stat(pid, &st) &&
		    st.starttime == start)
			continue;
		unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

/* ---- a round ---------------------------------------------------------------------------- */

int track_add_run(struct track_task *t, uint64_t start, uint64_t end)
{
	if (t->nr_runs && t->runs[t->nr_runs - 1].end == start) {
		t->runs[t->nr_runs - 1].end = end;
		return 0;
	}
	if (t->nr_runs == t->cap_runs) {
		size_t cap = t->cap_runs ? 2 * t->cap_runs : 256;
		struct track_range *r = realloc(t->runs, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		t->runs = r;
		t->cap_runs = cap;
	}
	t->runs[t->nr_runs++] = (struct track_range){ start, end };
	return 0;
}

/* Soft-dirty: every VMA's written runs now, kept for track_vma(). */
static int sd_read_all(struct track_task *t, const struct vma_list *vmas)
{
	size_t total = 0;
	int ret = 0;

	t->sd_first = calloc(vmas->n + 1, sizeof(*t->sd_first));
	t->sd_n = calloc(vmas->n + 1, sizeof(*t->sd_n));
	if (!t->sd_first || !t->sd_n)
		return -ENOMEM;
	for (size_t i = 0; i < vmas->n && !ret; i++) {
		struct track_range *keep;

		t->vs[i] = TV_TRACKED;
		t->nr_runs = 0;
		if (!t->incremental || vmas->v[i].shared || vma_is_vdso_like(&vmas->v[i]))
			continue;
		if ((ret = track_sd_scan(t, vmas, i)) || !t->nr_runs)
			continue;
		keep = realloc(t->sd, (total + t->nr_runs) * sizeof(*keep));
		if (!keep)
			return -ENOMEM;
		t->sd = keep;
		memcpy(t->sd + total, t->runs, t->nr_runs * sizeof(*keep));
		t->sd_first[i] = total;
		t->sd_n[i] = t->nr_runs;
		total += t->nr_runs;
	}
	t->nr_runs = 0;
	return ret;
}

int track_task_open(struct track_task *t, enum track_backend be, pid_t pid, uint64_t starttime,
		    struct rsys *rs, const struct vma_list *vmas, uint32_t parent_id)
{
	char name[32], p[64];
	uint32_t last;
	bool known;
	int ret;

	memset(t, 0, sizeof(*t));
	t->be = be;
	t->pid = pid;
	t->starttime = starttime;
	t->uffd = t->task_fd = -1;
	t->nr_vmas = vmas->n;
	t->vs = calloc(vmas->n + 1, sizeof(*t->vs));
	snprintf(p, sizeof(p), "/proc/%d/pagemap", pid);
	t->pagemap_fd = open(p, O_RDONLY | O_CLOEXEC);
	if (!t->vs || t->pagemap_fd < 0) {
		ret = t->vs ? -errno : -ENOMEM;
		pr_perror("pid %d: can't set up dirty tracking (%s)", pid, p);
		return ret;
	}
	state_read(t, name, sizeof(name), &t->task_fd, &last);
	known = !strcmp(name, track_backend_name(be)); /* else none yet, or another backend's */
	if (!known)
		t->task_fd = -1, last = 0;
	t->incremental = parent_id && last == parent_id;
	if (be == TRACK_UFFD_WP && (ret = track_uffd_arm(t, rs, vmas)))
		return ret;
	if (be == TRACK_SOFT_DIRTY && (ret = sd_read_all(t, vmas)))
		return ret;
	if (parent_id && !t->incremental)
		pr_info("pid %d: its written pages since the parent round can't be told (%s): "
			"every page is copied this round\n",
			pid,
			!known ? "it was not tracked"
			: last ? "another round read them since"
			       : "the last round did not finish: killed?");
	/* until this round's images are complete, the next round can't rely on it */
	return state_write(t, 0);
}

bool track_vma_ours(const struct track_task *t, size_t i)
{
	return t->be == TRACK_UFFD_WP && i < t->nr_vmas &&
	       (t->vs[i] == TV_NEW || t->vs[i] == TV_TRACKED);
}

int track_vma(struct track_task *t, const struct vma_list *vmas, size_t i, bool *whole)
{
	int ret = 0;

	t->nr_runs = 0;
	*whole = !t->incremental || t->vs[i] != TV_TRACKED;
	if (t->vs[i] == TV_SKIP)
		return 0;
	if (t->be == TRACK_UFFD_WP && t->vs[i] != TV_UNTRACKED && !t->in_data_scan)
		ret = track_uffd_scan(t, vmas, i); /* protects it again even when whole */
	else if (t->be == TRACK_SOFT_DIRTY && !*whole)
		for (size_t k = 0; k < t->sd_n[i] && !ret; k++)
			ret = track_add_run(t, t->sd[t->sd_first[i] + k].start,
					    t->sd[t->sd_first[i] + k].end);
	if (t->incremental && t->vs[i] != TV_TRACKED)
		t->pages_untracked += (vmas->v[i].end - vmas->v[i].start) / PG;
	return ret;
}

bool track_owns_fd(const struct track_task *t, pid_t pid, int fd)
{
	if (t->be != TRACK_UFFD_WP || t->task_fd < 0)
		return false;
	return (t->pid == pid && t->task_fd == fd) ||
	       syscall(SYS_kcmp, t->pid, pid, KCMP_FILE, t->task_fd, fd) == 0;
}

int track_task_close(struct track_task *t, struct rsys *rs, bool keep)
{
	char p[128];
	int ret = 0;

	if (t->be == TRACK_SOFT_DIRTY && keep)
		ret = track_sd_clear(t);
	if (t->be == TRACK_UFFD_WP && !keep)
		ret = track_uffd_disarm(t, rs);
	if (t->uffd >= 0)
		close(t->uffd);
	t->uffd = -1;
	if (t->pagemap_fd >= 0)
		close(t->pagemap_fd);
	t->pagemap_fd = -1;
	if (!keep) {
		state_path(t, p, sizeof(p));
		unlink(p);
	}
	free(t->vs);
	free(t->runs);
	free(t->sd);
	free(t->sd_first);
	free(t->sd_n);
	t->vs = NULL;
	t->runs = NULL;
	t->sd = NULL;
	t->sd_first = t->sd_n = NULL;
	t->nr_vmas = t->nr_runs = t->cap_runs = 0;
	return ret;
}

int track_commit(const struct track_task *t, uint32_t dump_id)
{
	return state_write(t, dump_id);
}
