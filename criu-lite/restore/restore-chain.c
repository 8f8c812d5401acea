/* restore-chain: see restore-chain.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_PREFIX "chain: "
#include "criu-lite/kinds/chain.h"
#include "criu-lite/log.h"
#include "criu-lite/restore/restore-chain.h"
#include "criu-lite/restore/restore.h"

#define PG	    4096ULL
#define CHAIN_PIECE (1ULL << 20) /* a shared object's pages read and put at once */

struct restore_chain {
	struct chain_parent lv[CHAIN_MAX_DEPTH];
	size_t n;
	/* each level's shmem.img, read when an object first needs it */
	ShmemEntry **shm[CHAIN_MAX_DEPTH];
	size_t nr_shm[CHAIN_MAX_DEPTH];
	bool shm_read[CHAIN_MAX_DEPTH];
	struct restore_chain_task **obj; /* per object of shmem.img (c->nr_shmem) */
};

/* A task's or a shared memory object's part: per level, its reader and the ranges it gives. */
struct restore_chain_task {
	struct page_reader *r[CHAIN_MAX_DEPTH];
	uint64_t (*need[CHAIN_MAX_DEPTH])[2];
	size_t nr_need[CHAIN_MAX_DEPTH];
	size_t n;
};

struct ranges {
	uint64_t (*r)[2];
	size_t n, cap;
};

static int add(struct ranges *x, uint64_t s, uint64_t e)
{
	if (x->n && x->r[x->n - 1][1] == s) {
		x->r[x->n - 1][1] = e;
		return 0;
	}
	if (x->n == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 64;
		uint64_t(*r)[2] = realloc(x->r, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		x->r = r;
		x->cap = cap;
	}
	x->r[x->n][0] = s;
	x->r[x->n][1] = e;
	x->n++;
	return 0;
}

int restore_chain_open(struct restore_ctx *c)
{
	const InventoryEntry *inv = c->inv;
	const char *dir = c->o->images_dir;
	struct restore_chain *ch;
	int ret = 0;

	if (inv->pre_dump) {
		pr_err("%s holds a pre-dump: it has only the tasks' memory. Restore the dump made "
		       "with --prev-images-dir pointing to it\n",
		       dir);
		return -EINVAL;
	}
	if (!inv->parent_dir)
		return 0;
	ch = calloc(1, sizeof(*ch));
	if (!ch)
		return -ENOMEM;
	c->chain = ch;
	while (inv->parent_dir && !ret) {
		struct chain_parent *p = &ch->lv[ch->n];

		if (ch->n == CHAIN_MAX_DEPTH) {
			pr_err("the chain of parent images from %s is longer than %d\n",
			       c->o->images_dir, CHAIN_MAX_DEPTH);
			return -ELOOP;
		}
		ret = chain_open_parent(dir, inv->parent_dir,
					inv->has_parent_dump_id ? inv->parent_dump_id : 1,
					MANIFEST_PAGES_SIZE, p);
		if (ret)
			return ret;
		ch->n++;
		if (p->inv->root_pid != c->inv->root_pid) {
			pr_err("parent images %s are of the tree of pid %u, not of pid %u\n",
			       p->path, p->inv->root_pid, c->inv->root_pid);
			return -EBADMSG;
		}
		pr_info("parent images %s: pre-dump %08x\n", p->path, p->inv->dump_id);
		inv = p->inv;
		dir = p->path;
	}
	return ret;
}

/* need ∩ the runs of r whose flags include flag, into *out (sorted, merged). */
static int select_runs(const struct ranges *need, const struct page_reader *r, uint32_t flag,
		       struct ranges *out)
{
	const struct page_run *run = page_reader_runs(r);
	size_t n = page_reader_nr_runs(r), k = 0;
	int ret;

	for (size_t i = 0; i < need->n; i++) {
		uint64_t a = need->r[i][0], b = need->r[i][1];

		while (k < n && run[k].vaddr + run[k].nr_pages * PG <= a)
			k++;
		for (size_t j = k; j < n && run[j].vaddr < b; j++) {
			uint64_t s = run[j].vaddr > a ? run[j].vaddr : a;
			uint64_t e = run[j].vaddr + run[j].nr_pages * PG;

			if (e > b)
				e = b;
			if ((run[j].flags & flag) && (ret = add(out, s, e)))
				return ret;
		}
	}
	return 0;
}

/* Every page of need lies in a run of r that holds it (present, or in r's own parent); else
 * -ENOENT and the first that does not. */
static int covered(const struct ranges *need, const struct page_reader *r, uint64_t *missing)
{
	const uint32_t held = PAGEMAP_FLAGS__PE_PRESENT | PAGEMAP_FLAGS__PE_PARENT;
	const struct page_run *run = page_reader_runs(r);
	size_t n = page_reader_nr_runs(r), k = 0;

	for (size_t i = 0; i < need->n; i++) {
		uint64_t a = need->r[i][0], b = need->r[i][1];

		while (k < n && run[k].vaddr + run[k].nr_pages * PG <= a)
			k++;
		for (size_t j = k; a < b; j++) {
			if (j == n || run[j].vaddr > a || !(run[j].flags & held)) {
				*missing = a;
				return -ENOENT;
			}
			a = run[j].vaddr + run[j].nr_pages * PG;
		}
	}
	return 0;
}

static int complement(const struct ranges *x, struct ranges *out)
{
	uint64_t at = 0;
	int ret;

	for (size_t i = 0; i < x->n; i++) {
		if (x->r[i][0] > at && (ret = add(out, at, x->r[i][0])))
			return ret;
		at = x->r[i][1];
	}
	return add(out, at, UINT64_MAX & ~(PG - 1));
}

/* A level's reader of what top names (a task's pagemap, or the same object's pagemap-shmem),
 * and the file's name for messages. */
typedef int (*open_level_fn)(struct restore_ctx *c, size_t k, void *arg, struct page_reader **r,
			     char *name, size_t len);

/* The levels that hold what top leaves to the chain, opened into ct: per level, need[k] is
 * what it is to give (it holds it, present or left to its own parent; checked). */
static int resolve(struct restore_ctx *c, const struct page_reader *top, const char *what,
		   open_level_fn open_level, void *arg, struct restore_chain_task *ct)
{
	struct restore_chain *ch = c->chain;
	uint64_t all[1][2] = { { 0, UINT64_MAX & ~(PG - 1) } };
	struct ranges need = { 0 };
	int ret = select_runs(&(struct ranges){ all, 1, 1 }, top, PAGEMAP_FLAGS__PE_PARENT, &need);

	for (size_t k = 0; !ret && need.n; k++) {
		struct ranges next = { 0 };
		uint64_t missing = 0;
		char name[64];

		if (k == ch->n) {
			pr_err(
			    "%s: pages at %#llx are in a parent image, but the chain ends at %s\n",
			    what, (unsigned long long)need.r[0][0],
			    ch->n ? ch->lv[ch->n - 1].path : c->o->images_dir);
			ret = -EBADMSG;
			break;
		}
		ret = open_level(c, k, arg, &ct->r[k], name, sizeof(name));
		if (ret)
			break;
		ct->n = k + 1;
		if ((ret =
			 restore_manifest_pages_of(ch->lv[k].inv, page_reader_pages_name(ct->r[k]),
						   page_reader_crc(ct->r[k]))))
			break;
		ret = covered(&need, ct->r[k], &missing);
		if (!ret)
			ret = select_runs(&need, ct->r[k], PAGEMAP_FLAGS__PE_PARENT, &next);
		if (ret == -ENOENT) {
			pr_err(
			    "parent images %s: %s has no page at %#llx, which the images above it "
			    "leave to it: the chain is broken\n",
			    ch->lv[k].path, name, (unsigned long long)missing);
			ret = -EBADMSG;
		}
		ct->need[k] = need.r;
		ct->nr_need[k] = need.n;
		need = next;
	}
	free(need.r);
	return ret;
}

static int open_task_level(struct restore_ctx *c, size_t k, void *arg, struct page_reader **r,
			   char *name, size_t len)
{
	const struct restore_task *t = arg;
	struct img_err err = { 0 };
	int ret = page_reader_open_kind(c->chain->lv[k].dir, IMG_PAGEMAP, t->vpid, r, &err);

	if (ret)
		pr_err("parent images %s: %s\n", c->chain->lv[k].path, err.msg);
	snprintf(name, len, "pagemap-%d.img", t->vpid);
	return ret;
}

int restore_chain_task(struct restore_ctx *c, struct restore_task *t)
{
	char what[64];

	if (!c->chain ||
	    !page_reader_any(t->pages, 0, UINT64_MAX & ~(PG - 1), PAGEMAP_FLAGS__PE_PARENT))
		return 0;
	t->chain = calloc(1, sizeof(*t->chain));
	if (!t->chain)
		return -ENOMEM;
	snprintf(what, sizeof(what), "pagemap-%d.img", t->vpid);
	return resolve(c, t->pages, what, open_task_level, t, t->chain);
}

int restore_chain_fill(struct restore_ctx *c, struct restore_task *t,
		       const struct pagefill_direct *direct)
{
	struct restore_chain_task *ct = t->chain;
	int ret = 0;

	(void)c;
	for (size_t k = 0; ct && k < ct->n && !ret; k++) {
		struct ranges skip = { 0 };

		ret = complement(&(struct ranges){ ct->need[k], ct->nr_need[k], ct->nr_need[k] },
				 &skip);
		if (!ret)
			ret = pagefill(
			    t->pid, ct->r[k], (unsigned int)sysconf(_SC_NPROCESSORS_ONLN), direct,
			    &(struct pagefill_direct){ (const uint64_t(*)[2])skip.r, skip.n });
		free(skip.r);
	}
	return ret;
}

/* The object of level k that is e (the same device, inode and kind at dump time), or NULL. */
static const ShmemEntry *level_object(struct restore_ctx *c, size_t k, const ShmemEntry *e)
{
	struct restore_chain *ch = c->chain;

	if (!ch->shm_read[k]) {
		ch->shm_read[k] = true;
		if (!faccessat(img_dir_fd(ch->lv[k].dir), "shmem.img", F_OK, 0) &&
		    restore_read_all(ch->lv[k].dir, IMG_SHMEM, 0, (ProtobufCMessage ***)&ch->shm[k],
				     &ch->nr_shm[k], false))
			return NULL;
	}
	for (size_t i = 0; i < ch->nr_shm[k]; i++) {
		const ShmemEntry *x = ch->shm[k][i];

		if (x->kind == e->kind && x->has_dev && x->has_ino && e->has_dev && e->has_ino &&
		    x->dev == e->dev && x->ino == e->ino)
			return x;
	}
	return NULL;
}

static int open_object_level(struct restore_ctx *c, size_t k, void *arg, struct page_reader **r,
			     char *name, size_t len)
{
	const ShmemEntry *e = arg, *x = level_object(c, k, e);
	struct img_err err = { 0 };
	int ret;

	if (!x) {
		pr_err("parent images %s: shared memory object %u (device %#llx, inode %llu) is "
		       "not there, but the images above it leave pages of it to them\n",
		       c->chain->lv[k].path, e->id, (unsigned long long)e->dev,
		       (unsigned long long)e->ino);
		return -EBADMSG;
	}
	snprintf(name, len, "pagemap-shmem-%u.img", x->id);
	/* checked as restore_chain_shmem_fill() reads it (before any task exists) */
	ret = page_reader_open_unchecked(c->chain->lv[k].dir, IMG_SHMEM_PAGEMAP, x->id, r, &err);
	if (ret)
		pr_err("parent images %s: %s\n", c->chain->lv[k].path, err.msg);
	return ret;
}

int restore_chain_shmem(struct restore_ctx *c, size_t i)
{
	struct restore_chain *ch = c->chain;
	const ShmemEntry *e = c->shmem[i];
	char what[64];

	if (!page_reader_any(c->shmem_pages[i], 0, UINT64_MAX & ~(PG - 1),
			     PAGEMAP_FLAGS__PE_PARENT))
		return 0;
	snprintf(what, sizeof(what), "pagemap-shmem-%u.img", e->id);
	if (!ch) {
		pr_err("%s: pages are in a parent image, but inventory.img names none\n", what);
		return -EBADMSG;
	}
	if (!ch->obj && !(ch->obj = calloc(c->nr_shmem + 1, sizeof(*ch->obj))))
		return -ENOMEM;
	if (!(ch->obj[i] = calloc(1, sizeof(*ch->obj[i]))))
		return -ENOMEM;
	return resolve(c, c->shmem_pages[i], what, open_object_level, (void *)e, ch->obj[i]);
}

bool restore_chain_shmem_any(const struct restore_ctx *c, size_t i)
{
	return c->chain && c->chain->obj && c->chain->obj[i];
}

int restore_chain_shmem_fill(struct restore_ctx *c, size_t i, chain_put_fn put, void *arg)
{
	struct restore_chain_task *ct = restore_chain_shmem_any(c, i) ? c->chain->obj[i] : NULL;
	struct page_buf b = { 0 };
	int ret = 0;

	for (size_t k = 0; ct && k < ct->n && !ret; k++) {
		struct ranges take = { 0 };

		ret = select_runs(&(struct ranges){ ct->need[k], ct->nr_need[k], ct->nr_need[k] },
				  ct->r[k], PAGEMAP_FLAGS__PE_PRESENT, &take);
		for (size_t j = 0; j < take.n && !ret; j++) {
			const struct page_run *run = page_reader_find(ct->r[k], take.r[j][0]);
			uint64_t off = run->offset + (take.r[j][0] - run->vaddr);

			for (uint64_t x = 0; x < take.r[j][1] - take.r[j][0] && !ret;
			     x += CHAIN_PIECE) {
				uint64_t n = take.r[j][1] - take.r[j][0] - x;
				struct img_err err = { 0 };
				const void *data;

				n = n < CHAIN_PIECE ? n : CHAIN_PIECE;
				ret = page_reader_read(ct->r[k], off + x, n, &b, &data, &err);
				if (ret)
					pr_err("parent images %s: %s\n", c->chain->lv[k].path,
					       err.msg);
				else
					ret = put(arg, take.r[j][0] + x, data, n);
			}
		}
		free(take.r);
	}
	free(b.buf);
	return ret;
}

static void task_part_free(struct restore_chain_task *ct)
{
	for (size_t k = 0; ct && k < ct->n; k++) {
		page_reader_close(ct->r[k]);
		free(ct->need[k]);
	}
	free(ct);
}

void restore_chain_task_free(struct restore_task *t)
{
	task_part_free(t->chain);
	t->chain = NULL;
}

void restore_chain_close(struct restore_ctx *c)
{
	struct restore_chain *ch = c->chain;

	for (size_t i = 0; ch && ch->obj && i < c->nr_shmem; i++)
		task_part_free(ch->obj[i]);
	for (size_t k = 0; ch && k < ch->n; k++) {
		for (size_t i = 0; i < ch->nr_shm[k]; i++)
			shmem_entry__free_unpacked(ch->shm[k][i], NULL);
		free(ch->shm[k]);
		chain_close(&ch->lv[k]);
	}
	if (ch)
		free(ch->obj);
	free(ch);
	c->chain = NULL;
}
