/* dump-locks: the file locks shown in a task's fdinfo, onto files.img entries (see locks.h). */
#define LOG_PREFIX "locks: "

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "criu-lite/dump/dump.h"
#include "criu-lite/kinds/locks.h"
#include "criu-lite/log.h"
#include "criu-lite/proc/proc-locks.h"

static int grow(void *arr, size_t *cap, size_t need, size_t elem)
{
	void **p = arr;
	size_t ncap = *cap ? *cap * 2 : 4;
	void *nv;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	nv = realloc(*p, ncap * elem);
	if (!nv) {
		pr_err("out of memory for %zu lock records\n", ncap);
		return -ENOMEM;
	}
	*p = nv;
	*cap = ncap;
	return 0;
}

static struct dump_lock_group *group_of(struct dump_locks *l, uint32_t file_id)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->g[i].file_id == file_id)
			return &l->g[i];
	if (grow(&l->g, &l->cap, l->n + 1, sizeof(*l->g)))
		return NULL;
	memset(&l->g[l->n], 0, sizeof(l->g[l->n]));
	l->g[l->n].file_id = file_id;
	return &l->g[l->n++];
}

static bool same_lock(const FileLockEntry *a, const FileLockEntry *b)
{
	return a->kind == b->kind && a->write == b->write && a->start == b->start &&
	       a->len == b->len && a->owner == b->owner;
}

/* Record e (copied) on file_id unless it is there already. */
static int add_lock(struct dump_locks *l, uint32_t file_id, const FileLockEntry *e)
{
	struct dump_lock_group *g = group_of(l, file_id);
	FileLockEntry *n;

	if (!g)
		return -ENOMEM;
	for (size_t i = 0; i < g->n; i++)
		if (same_lock(g->v[i], e))
			return 0;
	if (grow(&g->v, &g->cap, g->n + 1, sizeof(*g->v)))
		return -ENOMEM;
	n = malloc(sizeof(*n));
	if (!n) {
		pr_err("out of memory for a lock record\n");
		return -ENOMEM;
	}
	*n = *e;
	g->v[g->n++] = n;
	return 0;
}

/* One parsed line into a record; refuses what can't be taken back. */
static int to_entry(const struct dump_ctx *c, const char *what, const char *link,
		    const struct proc_lock *pl, FileLockEntry *e)
{
	file_lock_entry__init(e);
	switch (pl->kind) {
	case PROC_LOCK_FLOCK:
		e->kind = FILE_LOCK_KIND__LOCK_FLOCK;
		break;
	case PROC_LOCK_POSIX:
		if (pl->pid != c->pid) {
			pr_err("%s: %s: a POSIX lock of pid %d shows on this fd: fd tables shared "
			       "between processes are not supported\n",
			       what, link, pl->pid);
			return -ENOTSUP;
		}
		e->kind = FILE_LOCK_KIND__LOCK_POSIX;
		e->has_owner = true;
		e->owner = (uint32_t)c->vpid;
		break;
	case PROC_LOCK_OFD:
		e->kind = FILE_LOCK_KIND__LOCK_OFD;
		break;
	case PROC_LOCK_LEASE:
		if (pl->lease_breaking) {
			pr_err("%s: %s holds a lease that is being broken: not supported (a lease "
			       "can only be taken back whole)\n",
			       what, link);
			return -ENOTSUP;
		}
		e->kind = FILE_LOCK_KIND__LOCK_LEASE;
		e->write = pl->write;
		return 0;
	default:
		pr_err("%s: %s holds a %s lock: not supported\n", what, link, pl->kind_name);
		return -ENOTSUP;
	}
	e->write = pl->write;
	if (pl->kind != PROC_LOCK_FLOCK) {
		e->has_start = e->has_len = true;
		e->start = pl->start;
		e->len = pl->end == UINT64_MAX ? 0 : pl->end - pl->start + 1;
	}
	return 0;
}

const char *dump_locks_description_kind(const struct dump_locks *l, uint32_t file_id)
{
	for (size_t i = 0; i < l->n; i++) {
		if (l->g[i].file_id != file_id)
			continue;
		for (size_t k = 0; k < l->g[i].n; k++) {
			if (l->g[i].v[k]->kind == FILE_LOCK_KIND__LOCK_FLOCK)
				return "flock";
			if (l->g[i].v[k]->kind == FILE_LOCK_KIND__LOCK_OFD)
				return "OFD";
			if (l->g[i].v[k]->kind == FILE_LOCK_KIND__LOCK_LEASE)
				return "lease";
		}
	}
	return NULL;
}

int dump_locks_fd(struct dump_ctx *c, struct dump_locks *l, uint32_t file_id, const char *what,
		  const char *link, const struct proc_fdinfo *fi)
{
	size_t n = proc_fdinfo_count(fi, "lock");
	char name[96];

	snprintf(name, sizeof(name), "%s (/proc/%d/fdinfo)", what, c->pid);
	for (size_t i = 0; i < n; i++) {
		struct proc_lock pl;
		FileLockEntry e;
		int ret = proc_parse_lock_line(name, proc_fdinfo_value(fi, "lock", i), &pl);

		if (!ret)
			ret = to_entry(c, what, link, &pl, &e);
		if (!ret)
			ret = add_lock(l, file_id, &e);
		if (ret)
			return ret;
		if (e.kind == FILE_LOCK_KIND__LOCK_FLOCK)
			pr_info("%s: %s: flock %s lock (file %u)\n", what, link,
				e.write ? "write" : "read", file_id);
		else
			pr_info("%s: %s: %s %s lock on bytes %" PRIu64 "+%" PRIu64 "%s (file %u)\n",
				what, link, lock_kind_word(e.kind), e.write ? "write" : "read",
				e.start, e.len, e.len ? "" : " (to EOF)", file_id);
	}
	return 0;
}

void dump_locks_fill(const struct dump_locks *l, FileEntry *fe)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->g[i].file_id == fe->id) {
			fe->locks = l->g[i].v;
			fe->n_locks = l->g[i].n;
			return;
		}
}

void dump_locks_free(struct dump_locks *l)
{
	for (size_t i = 0; i < l->n; i++) {
		for (size_t k = 0; k < l->g[i].n; k++)
			free(l->g[i].v[k]);
		free(l->g[i].v);
	}
	free(l->g);
	memset(l, 0, sizeof(*l));
}
