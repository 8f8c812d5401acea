/* manifest: an image directory against the manifest of its inventory.img (what restore refuses
 * and what `show` reports; docs/images.md).
 *
 * Contract: manifest_verify() reports through problem() every image file of d (*.img,
 * *.img.tmp) that inv does not list, and every listed file that is missing or whose size or
 * crc32c of its whole contents differs, one message each naming the file; it returns how many
 * there were, or -errno when d can't be read. Pages files are summed only when sum_pages
 * (restore leaves them to the page reader, which sums them anyway: restore-manifest.c). */
#ifndef CRIU_LITE_MANIFEST_H
#define CRIU_LITE_MANIFEST_H

#include <stdbool.h>

#include "images/img.h"
#include "inventory.pb-c.h"

int manifest_verify(struct img_dir *d, const InventoryEntry *inv, bool sum_pages,
		    void (*problem)(void *arg, const char *msg), void *arg);

#endif
