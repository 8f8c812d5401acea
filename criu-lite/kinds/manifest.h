/* manifest: an image directory against the manifest of its inventory.img (what restore refuses
 * and what `show` reports; docs/images.md).
 *
 * Contract: manifest_verify() reports through problem() every image file of d (*.img,
 * *.img.tmp) that inv does not list, and every listed file that is missing or whose size or
 * crc32c of its whole contents differs, one message each naming the file; it returns how many
 * there were, or -errno when d can't be read. Pages files are summed with MANIFEST_PAGES_SUM;
 * with _SIZE only their sizes are compared (restore leaves them to the page reader, which sums
 * them anyway: restore-manifest.c); with _ELSEWHERE they are not looked for (a lazy restore
 * whose pages come from a page server, checked chunk by chunk as they come). */
#ifndef CRIU_LITE_MANIFEST_H
#define CRIU_LITE_MANIFEST_H

#include <stdbool.h>

#include "images/img.h"
#include "inventory.pb-c.h"

enum manifest_pages {
	MANIFEST_PAGES_SUM,
	MANIFEST_PAGES_SIZE,
	MANIFEST_PAGES_ELSEWHERE,
};

int manifest_verify(struct img_dir *d, const InventoryEntry *inv, enum manifest_pages pages,
		    void (*problem)(void *arg, const char *msg), void *arg);

#endif
