/* restore-manifest: an image set is checked as a whole before anything of it is used.
 *
 * Contract: restore_manifest_check() runs right after inventory.img is read. The images of a
 * dump that carries a manifest (inventory_entry.files, written last) must be exactly that set
 * (manifest.h: every problem is logged, naming the file); pages files, which can be large, are
 * summed by the page reader when it checks them against their pagemap, and
 * restore_manifest_pages() compares that sum with the manifest afterwards. From then on every
 * record file's header must carry the dump id (img_dir_expect_dump_id()). A missing, extra,
 * swapped, changed or leftover file is refused by name before anything is created. A dump without a
 * manifest (an older criu-lite) is read as before, with a warning. restore_task_runs_check()
 * refuses a task whose pagemap has pages outside its VMAs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_PREFIX "images: "
#include "criu-lite/log.h"
#include "criu-lite/kinds/manifest.h"
#include "criu-lite/restore/restore-lazy.h"
#include "criu-lite/restore/restore.h"

#define PG 4096ULL

/* Each problem is an error of the restore. */
static void log_problem(void *arg, const char *msg)
{
	(void)arg;
	pr_err("%s\n", msg);
}

int restore_manifest_check(struct restore_ctx *c)
{
	int n;

	if (!c->inv->has_dump_id) {
		pr_warn(
		    "inventory.img has no manifest (a dump by an older criu-lite): its files are "
		    "not checked as a set\n");
		return 0;
	}
	if (c->inv->lazy && !restore_lazy_remote(c)) {
		pr_err("the tasks' pages of this dump are not in %s: its source serves them (dump "
		       "--lazy-pages): restore it with --lazy-pages, from `criu-lite lazy-pages "
		       "--page-server` pointed at that source\n",
		       img_dir_path(c->dir));
		return -ENOENT;
	}
	n = manifest_verify(c->dir, c->inv,
			    restore_lazy_remote(c) ? MANIFEST_PAGES_ELSEWHERE : MANIFEST_PAGES_SIZE,
			    log_problem, NULL);
	if (n < 0)
		return n;
	if (n)
		return -EBADMSG;
	img_dir_expect_dump_id(c->dir, c->inv->dump_id);
	pr_info("manifest: %zu files checked, dump id %08x\n", c->inv->n_files, c->inv->dump_id);
	return 0;
}

static const ManifestEntry *listed(const InventoryEntry *inv, const char *name)
{
	for (size_t i = 0; i < inv->n_files; i++)
		if (!strcmp(inv->files[i]->name, name))
			return inv->files[i];
	return NULL;
}

int restore_manifest_pages(struct restore_ctx *c, const char *name, uint32_t crc)
{
	return restore_manifest_pages_of(c->inv, name, crc);
}

int restore_manifest_pages_of(const InventoryEntry *inv, const char *name, uint32_t crc)
{
	const ManifestEntry *f;

	if (!inv || !inv->has_dump_id)
		return 0;
	f = listed(inv, name);
	if (!f || f->crc32c != crc) {
		pr_err("%s is not the pages file this dump wrote (crc32c %08x, inventory.img says "
		       "%s%08x)\n",
		       name, crc, f ? "" : "nothing of it, ", f ? f->crc32c : 0);
		return -EBADMSG;
	}
	return 0;
}

int restore_task_runs_check(const struct restore_task *t)
{
	const struct page_run *runs = page_reader_runs(t->pages);

	for (size_t i = 0; i < page_reader_nr_runs(t->pages); i++) {
		uint64_t at = runs[i].vaddr, end = at + runs[i].nr_pages * PG;

		while (at < end) {
			size_t k = 0;

			while (k < t->mm->n_vmas &&
			       !(t->mm->vmas[k]->start <= at && at < t->mm->vmas[k]->end))
				k++;
			if (k == t->mm->n_vmas) {
				pr_err("pagemap-%d.img: pages %#llx-%#llx: %#llx lies in no VMA of "
				       "mm-%d.img\n",
				       t->vpid, (unsigned long long)runs[i].vaddr,
				       (unsigned long long)end, (unsigned long long)at, t->vpid);
				return -EBADMSG;
			}
			at = t->mm->vmas[k]->end;
		}
	}
	return 0;
}
