/* restore-chain: see restore-chain.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_PREFIX "chain: "
#include "criu-lite/kinds/chain.h"
#include "criu-lite/log.h"
#include "criu-lite/restore/restore-chain.h"
#include "criu-lite/restore/restore.h"

#define PG 4096ULL

struct restore_chain {
	struct chain_parent lv[CHAIN_MAX_DEPTH];
	size_t n;
};

/* A task's part: per level, its reader and the ranges pagefill leaves alone there. */
struct restore_chain_task {
	struct page_reader *r[CHAIN_MAX_DEPTH];
	uint64_t (*skip[CHAIN_MAX_DEPTH])[2];
	size_t nr_skip[CHAIN_MAX_DEPTH];
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

int restore_chain_task(struct restore_ctx *c, struct restore_task *t)
{
	struct restore_chain *ch = c->chain;
	struct restore_chain_task *ct;
	struct ranges need = { 0 };
	int ret = 0;

	if (!ch || !page_reader_any(t->pages, 0, UINT64_MAX & ~(PG - 1), PAGEMAP_FLAGS__PE_PARENT))
		return 0;
	ct = calloc(1, sizeof(*ct));
	if (!ct)
		return -ENOMEM;
	t->chain = ct;
	{
		uint64_t all[1][2] = { { 0, UINT64_MAX & ~(PG - 1) } };

		ret = select_runs(&(struct ranges){ all, 1, 1 }, t->pages, PAGEMAP_FLAGS__PE_PARENT,
				  &need);
	}
	for (size_t k = 0; !ret && need.n; k++) {
		struct img_err err = { 0 };
		struct ranges next = { 0 }, skip = { 0 };
		uint64_t missing = 0;

		if (k == ch->n) {
			pr_err(
			    "pagemap-%d.img: pages at %#llx are in a parent image, but the chain "
			    "ends at %s\n",
			    t->vpid, (unsigned long long)need.r[0][0],
			    ch->n ? ch->lv[ch->n - 1].path : c->o->images_dir);
			ret = -EBADMSG;
			break;
		}
		ret = page_reader_open_kind(ch->lv[k].dir, IMG_PAGEMAP, t->vpid, &ct->r[k], &err);
		if (ret) {
			pr_err("parent images %s: %s\n", ch->lv[k].path, err.msg);
			break;
		}
		ct->n = k + 1;
		if ((ret =
			 restore_manifest_pages_of(ch->lv[k].inv, page_reader_pages_name(ct->r[k]),
						   page_reader_crc(ct->r[k]))))
			break;
		ret = covered(&need, ct->r[k], &missing);
		if (!ret)
			ret = select_runs(&need, ct->r[k], PAGEMAP_FLAGS__PE_PARENT, &next);
		if (ret == -ENOENT) {
			pr_err("parent images %s: pagemap-%d.img has no page at %#llx, which the "
			       "images above it leave to it: the chain is broken\n",
			       ch->lv[k].path, t->vpid, (unsigned long long)missing);
			ret = -EBADMSG;
		}
		if (!ret)
			ret = complement(&need, &skip);
		ct->skip[k] = skip.r;
		ct->nr_skip[k] = skip.n;
		free(need.r);
		need = next;
	}
	free(need.r);
	return ret;
}

int restore_chain_fill(struct restore_ctx *c, struct restore_task *t,
		       const struct pagefill_direct *direct)
{
	struct restore_chain_task *ct = t->chain;
	int ret = 0;

	(void)c;
	for (size_t k = 0; ct && k < ct->n && !ret; k++) {
		struct pagefill_direct skip = { (const uint64_t(*)[2])ct->skip[k], ct->nr_skip[k] };

		ret = pagefill(t->pid, ct->r[k], (unsigned int)sysconf(_SC_NPROCESSORS_ONLN),
			       direct, &skip);
	}
	return ret;
}

void restore_chain_task_free(struct restore_task *t)
{
	struct restore_chain_task *ct = t->chain;

	for (size_t k = 0; ct && k < ct->n; k++) {
		page_reader_close(ct->r[k]);
		free(ct->skip[k]);
	}
	free(ct);
	t->chain = NULL;
}

void restore_chain_close(struct restore_ctx *c)
{
	struct restore_chain *ch = c->chain;

	for (size_t k = 0; ch && k < ch->n; k++)
		chain_close(&ch->lv[k]);
	free(ch);
	c->chain = NULL;
}
