/* chain: the parent image sets of a pre-dump chain (docs/predump.md), at dump and at restore.
 *
 * Contract: chain_open_parent() opens the image set a dump's parent_dir names (relative to the
 * child's directory, or absolute) and checks that it is one a chain may use: a complete set
 * (inventory.img read, its manifest verified: every file there, sizes equal; pages files are
 * summed by whoever reads them; with pages MANIFEST_PAGES_ELSEWHERE they are not looked for: a
 * dump reads only the parent's pagemaps, and a parent that was sent to a page server is here
 * only as its local index), a pre-dump, and, when expect_id is nonzero, the very set the
 * child was made against (its dump id). Every problem is logged naming the directory;
 * -errno (-EBADMSG for a set that is not the expected one). Close with chain_close(). */
#ifndef CRIU_LITE_CHAIN_H
#define CRIU_LITE_CHAIN_H

#include <stdint.h>

#include "criu-lite/kinds/manifest.h"
#include "images/img.h"
#include "inventory.pb-c.h"

/* Longer chains are refused (a loop of parent links ends there too). */
#define CHAIN_MAX_DEPTH 64

struct chain_parent {
	struct img_dir *dir;
	InventoryEntry *inv;
	char *path; /* as opened */
};

int chain_open_parent(const char *child_dir, const char *parent_dir, uint32_t expect_id,
		      enum manifest_pages pages, struct chain_parent *out);
void chain_close(struct chain_parent *p);

#endif
