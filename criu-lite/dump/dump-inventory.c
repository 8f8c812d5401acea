/* dump-inventory: inventory.img, the dump as a whole, written last: the host facts a restore
 * checks (image version, page size, kernel, vDSO layout, xstate), the dump id that every record
 * file's header carries, and the manifest: every other file of the set with its size and the
 * crc32c of its whole contents, as the images library committed it (docs/images.md). Every
 * file of the set is made durable first, all at once (img_dir_sync: the dump commits them
 * without an fsync each), then inventory.img on its own. A set without inventory.img is
 * incomplete: its dump did not finish. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <time.h>

#define LOG_PREFIX "dump: "
#include "criu-lite/dump/dump-track.h"
#include "criu-lite/dump/dump.h"
#include "criu-lite/log.h"
#include "criu-lite/version.h"
#include "inventory.pb-c.h"

uint32_t dump_new_id(void)
{
	uint32_t id = 0;

	while (!id)
		if (getrandom(&id, sizeof(id), 0) != sizeof(id))
			id = (uint32_t)time(NULL) ^ (uint32_t)clock(); /* never in practice */
	return id;
}

/* "vvar:16384,vvar_vclock:8192,vdso:8192": compared verbatim at restore. */
void dump_vdso_layout(const struct kerndat *kd, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = 0;
	for (unsigned i = 0; i < kd->vdso.nr_parts && o < len; i++)
		o += snprintf(buf + o, len - o, "%s%s:%lu", i ? "," : "",
			      kerndat_vdso_kind_name(kd->vdso.part[i].kind), kd->vdso.part[i].size);
}

int dump_inventory(struct dump_shared *sh, pid_t root_vpid, uint32_t dump_id)
{
	InventoryEntry inv = INVENTORY_ENTRY__INIT;
	const ProtobufCMessage *m = &inv.base;
	size_t n = img_dir_nr_written(sh->dir);
	ManifestEntry *ents = calloc(n + 1, sizeof(*ents));
	ManifestEntry **v = calloc(n + 1, sizeof(*v));
	struct img_err err = { 0 };
	struct utsname u;
	struct timespec now;
	char vdso[128];
	int ret;

	if (img_dir_sync(sh->dir, &err)) { /* every file durable before the manifest names it */
		pr_err("%s\n", err.msg);
		free(ents);
		free(v);
		return -err.code;
	}
	if (!ents || !v) {
		free(ents);
		free(v);
		pr_err("out of memory for the manifest of %zu files\n", n);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct img_file_note f = img_dir_written(sh->dir, i);

		manifest_entry__init(&ents[i]);
		ents[i].name = (char *)f.name;
		ents[i].size = f.size;
		ents[i].crc32c = f.crc;
		v[i] = &ents[i];
	}
	uname(&u);
	clock_gettime(CLOCK_REALTIME, &now);
	dump_vdso_layout(&sh->kd, vdso, sizeof(vdso));
	inv.img_version = IMG_VERSION;
	inv.root_pid = (uint32_t)root_vpid;
	inv.page_size = 4096;
	inv.kernel_release = u.release;
	inv.dump_time_ns = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
	inv.has_root_pidns = true;
	inv.root_pidns = sh->root_pidns;
	inv.vdso_layout = vdso;
	inv.has_xcr0 = true;
	inv.xcr0 = sh->kd.xcr0;
	inv.has_xstate_size = true;
	inv.xstate_size = sh->kd.xstate_size;
	inv.tool_version = CRIU_LITE_VERSION;
	inv.has_dump_id = true;
	/* the tasks' pages are not here: their source serves them (dump-lazy.h) */
	inv.has_lazy = inv.lazy = sh->o->lazy_pages;
	inv.dump_id = dump_id;
	dump_track_inventory(sh, &inv);
	inv.n_files = n;
	inv.files = v;
	ret = img_write_file(sh->dir, IMG_INVENTORY, 0, &m, 1, &err);
	if (ret)
		pr_err("%s\n", err.msg);
	free(v);
	free(ents);
	return ret;
}
