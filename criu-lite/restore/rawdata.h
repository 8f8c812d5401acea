/* rawdata: a raw data image that a files.img record points at (pipes-data-<id>.img,
 * unixsk-data-<id>.img), read back whole at restore.
 *
 * Contract: rawdata_load() reads the image name of d, which files.img says holds exactly len
 * bytes with crc32c crc, into a new malloc'd buffer of len + 1 bytes, and hands it back only
 * when the size and the crc both match (else -EBADMSG, "the image is damaged"). It logs its
 * own errors once, naming the image and the errno; what names the owner in them ("pipe 3").
 */
#ifndef CRIU_LITE_RAWDATA_H
#define CRIU_LITE_RAWDATA_H

#include <stdint.h>

#include "images/img.h"

/* 0 with *out set (free() it), or -errno with *out untouched. */
int rawdata_load(struct img_dir *d, const char *name, const char *what, uint32_t len, uint32_t crc,
		 char **out);

#endif
