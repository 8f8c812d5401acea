/* kinds: the table of image kinds (name, magic, per-id naming, message type)
 * and the mapping between kinds and file names.
 *
 * Each magic is four ASCII letters, read as a little-endian u32 (so a hex
 * dump of the file starts with the letters); every two magics differ in at
 * least two bytes, so no single flipped bit turns one kind into another.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "images/img.h"
#include "images/img-priv.h"
#include "core.pb-c.h"
#include "files.pb-c.h"
#include "inventory.pb-c.h"
#include "mm.pb-c.h"
#include "netns.pb-c.h"
#include "pagemap.pb-c.h"
#include "pstree.pb-c.h"
#include "shmem.pb-c.h"

#define MAGIC4(a, b, c, d) \
	((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

static const struct img_kind_desc kinds[IMG_KIND_NR] = {
	[IMG_INVENTORY] = { IMG_INVENTORY, "inventory", MAGIC4('I', 'N', 'V', 'E'), false,
			    &inventory_entry__descriptor, NULL },
	[IMG_PSTREE] = { IMG_PSTREE, "pstree", MAGIC4('P', 'S', 'T', 'R'), false,
			 &pstree_entry__descriptor, NULL },
	[IMG_CORE] = { IMG_CORE, "core", MAGIC4('C', 'O', 'R', 'E'), true, &core_entry__descriptor,
		       NULL },
	[IMG_MM] = { IMG_MM, "mm", MAGIC4('M', 'M', 'A', 'P'), true, &mm_entry__descriptor, NULL },
	[IMG_PAGEMAP] = { IMG_PAGEMAP, "pagemap", MAGIC4('P', 'G', 'M', 'P'), true,
			  &pagemap_entry__descriptor, &pagemap_head__descriptor },
	[IMG_FILES] = { IMG_FILES, "files", MAGIC4('F', 'I', 'L', 'E'), false,
			&file_entry__descriptor, NULL },
	[IMG_FDINFO] = { IMG_FDINFO, "fdinfo", MAGIC4('F', 'D', 'I', 'N'), true,
			 &fdinfo_entry__descriptor, NULL },
	[IMG_FS] = { IMG_FS, "fs", MAGIC4('F', 'S', 'C', 'W'), true, &fs_entry__descriptor, NULL },
	[IMG_SHMEM] = { IMG_SHMEM, "shmem", MAGIC4('S', 'H', 'M', 'O'), false,
			&shmem_entry__descriptor, NULL },
	[IMG_SHMEM_PAGEMAP] = { IMG_SHMEM_PAGEMAP, "pagemap-shmem", MAGIC4('P', 'G', 'S', 'H'),
				true, &pagemap_entry__descriptor, &pagemap_head__descriptor },
	[IMG_NETNS] = { IMG_NETNS, "netns", MAGIC4('N', 'E', 'T', 'N'), false,
			&netns_entry__descriptor, NULL },
	[IMG_NETNS_REFS] = { IMG_NETNS_REFS, "netns-refs", MAGIC4('N', 'S', 'R', 'F'), false,
			     &netns_ref_entry__descriptor, NULL },
	[IMG_SHMEM_SUMS] = { IMG_SHMEM_SUMS, "shmem-sums", MAGIC4('S', 'H', 'S', 'M'), true,
			     &shmem_sums__descriptor, NULL },
};

const struct img_kind_desc *img_kind(enum img_kind kind)
{
	if ((unsigned)kind >= IMG_KIND_NR)
		return NULL;
	return &kinds[kind];
}

const struct img_kind_desc *img_kind_by_magic(uint32_t magic)
{
	for (unsigned i = 0; i < IMG_KIND_NR; i++)
		if (kinds[i].magic == magic)
			return &kinds[i];
	return NULL;
}

/* Strict decimal: digits only, no sign, no leading zero (except "0"), no overflow. */
static int parse_id(const char *s, size_t len, long *id)
{
	unsigned long v = 0;

	if (len == 0 || (len > 1 && s[0] == '0'))
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		if (v > ((unsigned long)__LONG_MAX__ - (unsigned long)(s[i] - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	*id = (long)v;
	return 0;
}

const struct img_kind_desc *img_kind_by_filename(const char *fname, long *id)
{
	static const char sfx[] = ".img";
	size_t len, slen = sizeof(sfx) - 1;

	if (!fname)
		return NULL;
	len = strlen(fname);
	if (len <= slen || strcmp(fname + len - slen, sfx) != 0)
		return NULL;
	len -= slen; /* the stem: "core-42" or "inventory" */

	for (unsigned i = 0; i < IMG_KIND_NR; i++) {
		const struct img_kind_desc *k = &kinds[i];
		size_t nlen = strlen(k->name);
		long v = -1;

		if (len < nlen || memcmp(fname, k->name, nlen) != 0)
			continue;
		if (!k->per_id) {
			if (len != nlen)
				continue;
		} else {
			if (len < nlen + 2 || fname[nlen] != '-' ||
			    parse_id(fname + nlen + 1, len - nlen - 1, &v) < 0)
				continue;
		}
		if (id)
			*id = v;
		return k;
	}
	return NULL;
}

void img_filename(char *buf, size_t len, enum img_kind kind, long id)
{
	const struct img_kind_desc *k = img_kind(kind);

	if (!len)
		return;
	if (!k)
		snprintf(buf, len, "unknown-kind-%d.img", (int)kind);
	else if (k->per_id)
		snprintf(buf, len, "%s-%ld.img", k->name, id);
	else
		snprintf(buf, len, "%s.img", k->name);
}
