/* dump-track: see dump-track.h. */
#include <errno.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LOG_PREFIX "track: "
#include "criu-lite/dump/dump-track.h"
#include "criu-lite/dump/dump-tree.h"
#include "criu-lite/dump/dump.h"
#include "criu-lite/kinds/chain.h"
#include "criu-lite/log.h"
#include "criu-lite/track/track.h"
#include "images/pages.h"
#include "inventory.pb-c.h"

#define PG 4096ULL

struct dump_track_task {
	struct track_task t;
	bool on;
	struct page_reader *parent; /* its pagemap in the parent set (incremental only) */
	bool whole;		    /* the current VMA is copied whole */
	size_t dc;		    /* cursor in t.runs */
};

struct dump_track {
	enum track_backend be;
	bool pre, keep;
	struct chain_parent parent; /* --prev-images-dir */
	struct dump_track_task *tasks;
	size_t n;
	uint64_t pages_parent;
};

static int open_parent(struct dump_shared *sh, struct dump_track *dt, pid_t root_vpid)
{
	/* only its pagemaps are read: a parent pushed to a page server is here as its index */
	int ret = chain_open_parent(sh->o->images_dir, sh->o->prev_images_dir, 0,
				    MANIFEST_PAGES_ELSEWHERE, &dt->parent);

	if (ret)
		return ret;
	if (dt->parent.inv->root_pid != (uint32_t)root_vpid) {
		pr_err("parent images %s are of the tree of pid %u, not of pid %d\n",
		       dt->parent.path, dt->parent.inv->root_pid, root_vpid);
		return -EINVAL;
	}
	return 0;
}

static int open_task(struct dump_shared *sh, struct dump_track *dt, struct dump_ctx *c,
		     struct dump_track_task *k)
{
	uint32_t parent_id = dt->parent.inv ? dt->parent.inv->dump_id : 0;
	struct img_err err = { 0 };
	int ret =
	    track_task_open(&k->t, dt->be, c->pid, c->stat.starttime, &c->rs, &c->vmas, parent_id);

	k->on = true;
	if (ret)
		return ret;
	/* a last round: the data scan's own walk says what was written (dump-track.h) */
	k->t.in_data_scan = dt->be == TRACK_UFFD_WP && !dt->keep;
	for (size_t j = 0; j < c->vmas.n; j++)
		if (track_vma_ours(&k->t, j))
			c->vmas.v[j].flags &= ~VMF_UW;
	if (!k->t.incremental)
		return 0;
	ret = page_reader_open_meta(dt->parent.dir, IMG_PAGEMAP, c->vpid, &k->parent, &err);
	if (ret) {
		pr_err("parent images %s: %s\n", dt->parent.path, err.msg);
		return ret < 0 ? ret : -EIO;
	}
	(void)sh;
	return 0;
}

int dump_track_begin(struct dump_shared *sh, struct dump_tree_list *tl, bool pre_dump)
{
	const struct opts *o = sh->o;
	bool need = pre_dump || o->prev_images_dir || o->track_mem, left = false;
	struct dump_track *dt;
	const char *why;
	int ret = 0;

	track_prune();
	for (size_t i = 0; i < tl->n && !need; i++)
		left |= !tl->t[i].zombie && track_armed(tl->t[i].pid, tl->t[i].stat.starttime);
	if (!need && !left)
		return 0;
	dt = calloc(1, sizeof(*dt));
	if (!dt || !(dt->tasks = calloc(tl->n, sizeof(*dt->tasks)))) {
		free(dt);
		return -ENOMEM;
	}
	sh->track = dt;
	dt->n = tl->n;
	dt->pre = pre_dump;
	dt->keep = pre_dump || o->track_mem;
	dt->be = track_choose(&sh->kd, o->track, &why);
	if (dt->be == TRACK_NONE) {
		pr_err("written pages can't be tracked: %s\n", why);
		return need ? -ENOTSUP : 0;
	}
	pr_info("tracking written pages with %s\n", track_backend_name(dt->be));
	if (o->prev_images_dir && (ret = open_parent(sh, dt, tl->t[0].vpid)))
		return ret;
	for (size_t i = 0; i < tl->n && !ret; i++) {
		struct dump_ctx *c = &tl->t[i];

		c->trk = &dt->tasks[i];
		if (c->zombie || (!need && !track_armed(c->pid, c->stat.starttime)))
			continue;
		ret = open_task(sh, dt, c, c->trk);
	}
	return ret;
}

bool dump_track_fd(const struct dump_ctx *c, int fd)
{
	const struct dump_track *dt = c->sh->track;

	if (!dt)
		return false;
	for (size_t i = 0; i < dt->n; i++)
		if (dt->tasks[i].on && track_owns_fd(&dt->tasks[i].t, c->pid, fd))
			return true;
	return false;
}

int dump_track_vma(struct dump_ctx *c, size_t i, bool *scan)
{
	struct dump_track_task *k = c->trk;
	int ret;

	*scan = false;
	if (!k || !k->on)
		return 0;
	k->dc = 0;
	ret = track_vma(&k->t, &c->vmas, i, &k->whole);
	*scan = !ret && k->t.in_data_scan && !k->whole && k->parent;
	return ret;
}

/* The first run of the parent's that ends above addr. */
static size_t first_above(const struct page_run *r, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r[mid].vaddr + r[mid].nr_pages * PG <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* [a, b) was not written since the parent round: in the parent where it holds it. */
static int clean(struct dump_ctx *c, struct dump_track_task *k, uint64_t a, uint64_t b,
		 dump_track_fn fn, void *arg)
{
	const struct page_run *r = page_reader_runs(k->parent);
	size_t n = page_reader_nr_runs(k->parent), i = first_above(r, n, a);
	int ret = 0;

	while (a < b && !ret) {
		uint64_t rs, re, e;
		bool held;

		if (i == n || r[i].vaddr >= b)
			return fn(arg, a, b, false);
		rs = r[i].vaddr;
		re = rs + r[i].nr_pages * PG;
		if (rs > a) {
			if ((ret = fn(arg, a, rs, false)))
				return ret;
			a = rs;
		}
		e = re < b ? re : b;
		held = r[i].flags & (PAGEMAP_FLAGS__PE_PRESENT | PAGEMAP_FLAGS__PE_PARENT);
		if (held)
			c->sh->track->pages_parent += (e - a) / PG;
		ret = fn(arg, a, e, held);
		a = e;
		i++;
	}
	return ret;
}

int dump_track_split(struct dump_ctx *c, uint64_t s, uint64_t e, bool written, dump_track_fn fn,
		     void *arg)
{
	struct dump_track_task *k = c->trk;
	const struct track_range *d;
	size_t n, i;
	int ret;

	if (!k || !k->on || k->whole || !k->parent)
		return fn(arg, s, e, false);
	if (k->t.in_data_scan) /* the data scan's written bit */
		return written ? fn(arg, s, e, false) : clean(c, k, s, e, fn, arg);
	d = k->t.runs;
	n = k->t.nr_runs;
	for (i = k->dc; i < n && d[i].end <= s; i++)
		;
	k->dc = i;
	while (s < e) {
		uint64_t de;

		if (i == n || d[i].start >= e)
			return clean(c, k, s, e, fn, arg);
		if (d[i].start > s) {
			if ((ret = clean(c, k, s, d[i].start, fn, arg)))
				return ret;
			s = d[i].start;
		}
		de = d[i].end < e ? d[i].end : e;
		if ((ret = fn(arg, s, de, false)))
			return ret;
		s = de;
		if (d[i].end <= e)
			i++;
	}
	k->dc = i;
	return 0;
}

/* fd of task c is a copy of one of our uffds (our copy: t->uffd): a task forked after the round
 * that armed it holds one, which would keep its ranges registered after we disarm it. Not a
 * copy: the tracker's own fd, also seen from a task that shares its fd table (CLONE_FILES),
 * which the tracker closes itself. */
static bool is_copy(const struct dump_track *dt, struct dump_tree_list *tl,
		    const struct dump_ctx *c, int fd)
{
	pid_t self = getpid();

	for (size_t i = 0; i < dt->n; i++) {
		const struct track_task *t = &dt->tasks[i].t;

		if (t->uffd < 0 || syscall(SYS_kcmp, self, c->pid, KCMP_FILE, t->uffd, fd))
			continue;
		return !(fd == t->task_fd &&
			 (tl->t[i].pid == c->pid ||
			  syscall(SYS_kcmp, tl->t[i].pid, c->pid, KCMP_FILES, 0, 0) == 0));
	}
	return false;
}

/* Before the trackers are disarmed: every copy of one in the tree's fd tables closed. */
static void close_copies(struct dump_track *dt, struct dump_tree_list *tl)
{
	for (size_t i = 0; i < tl->n; i++) {
		struct dump_ctx *c = &tl->t[i];
		struct proc_fd_list fds = { 0 };

		if (!c->rs_open || proc_list_fds(c->pid, &fds))
			continue;
		for (size_t k = 0; k < fds.n; k++)
			if (!strcmp(fds.v[k].target, "anon_inode:[userfaultfd]") &&
			    is_copy(dt, tl, c, fds.v[k].fd)) {
				pr_info(
				    "pid %d: closing its copy (fd %d) of a tracking userfaultfd "
				    "(forked after a round)\n",
				    c->pid, fds.v[k].fd);
				rsys1(&c->rs, SYS_close, fds.v[k].fd);
			}
		proc_fd_list_free(&fds);
	}
}

int dump_track_end(struct dump_shared *sh, struct dump_tree_list *tl, bool ok)
{
	struct dump_track *dt = sh->track;
	int ret = 0;

	if (dt && !(ok && dt->keep))
		close_copies(dt, tl);

	for (size_t i = 0; dt && i < dt->n; i++) {
		struct dump_track_task *k = &dt->tasks[i];
		bool keep = ok && dt->keep;

		if (!k->on)
			continue;
		k->on = false;
		if (keep && (ret = track_commit(&k->t, sh->dump_id)))
			keep = false;
		/* rsys is dead when the task is: nothing to close in it then */
		if (track_task_close(&k->t, tl->t[i].rs_open ? &tl->t[i].rs : NULL, keep) && ok)
			ret = ret ?: -EIO;
		page_reader_close(k->parent);
		k->parent = NULL;
	}
	return ret;
}

void dump_track_inventory(const struct dump_shared *sh, InventoryEntry *inv)
{
	const struct dump_track *dt = sh->track;

	inv->has_pre_dump = true;
	inv->pre_dump = dt && dt->pre;
	if (!dt || dt->be == TRACK_NONE)
		return;
	inv->track_backend = (char *)track_backend_name(dt->be);
	if (dt->parent.inv) {
		inv->parent_dir = (char *)sh->o->prev_images_dir;
		inv->has_parent_dump_id = true;
		inv->parent_dump_id = dt->parent.inv->dump_id;
	}
}

struct img_dir *dump_track_parent_dir(const struct dump_shared *sh)
{
	return sh->track && sh->track->parent.inv ? sh->track->parent.dir : NULL;
}

bool dump_track_keeps(const struct dump_shared *sh)
{
	return sh->track && sh->track->be != TRACK_NONE && sh->track->keep;
}

uint64_t dump_track_pages_parent(const struct dump_shared *sh)
{
	return sh->track ? sh->track->pages_parent : 0;
}

uint64_t dump_track_pages_untracked(const struct dump_shared *sh)
{
	uint64_t n = 0;

	for (size_t i = 0; sh->track && i < sh->track->n; i++)
		n += sh->track->tasks[i].t.pages_untracked;
	return n;
}

void dump_track_free(struct dump_shared *sh)
{
	struct dump_track *dt = sh->track;

	if (!dt)
		return;
	for (size_t i = 0; i < dt->n; i++)
		page_reader_close(dt->tasks[i].parent);
	chain_close(&dt->parent);
	free(dt->tasks);
	free(dt);
	sh->track = NULL;
}
