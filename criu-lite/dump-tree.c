/* dump-tree: pstree.img (the tasks and how they relate) and inventory.img
 * (what the dump as a whole needs from the restoring host). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/utsname.h>
#include <time.h>

#define LOG_PREFIX "dump: "
#include "criu-lite/dump.h"
#include "criu-lite/log.h"
#include "inventory.pb-c.h"
#include "pstree.pb-c.h"

#ifndef CRIU_LITE_VERSION
#define CRIU_LITE_VERSION "0.1"
#endif

static int write_one(struct dump_ctx *c, enum img_kind kind, const ProtobufCMessage *m)
{
	struct img_writer *w;
	struct img_err err = { 0 };
	int ret = img_writer_open(c->dir, kind, 0, &w, &err);

	if (!ret) {
		ret = img_write(w, m, &err);
		if (ret)
			img_writer_abort(w);
		else
			ret = img_writer_commit(w, &err);
	}
	if (ret)
		pr_err("%s\n", err.msg);
	return ret;
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

int dump_tree(struct dump_ctx *c)
{
	PstreeEntry pe = PSTREE_ENTRY__INIT;
	InventoryEntry inv = INVENTORY_ENTRY__INIT;
	uint32_t *tids = calloc(c->st.nr, sizeof(*tids));
	struct utsname u;
	struct timespec now;
	char vdso[128];
	int ret;

	if (!tids)
		return -ENOMEM;
	for (size_t i = 0; i < c->st.nr; i++)
		tids[i] = c->st.thr[i].tid;
	pe.pid = c->pid;
	pe.ppid = 0; /* the root: its parent is not part of the dump */
	pe.pgid = c->stat.pgrp;
	pe.sid = c->stat.session;
	pe.n_threads = c->st.nr;
	pe.threads = tids;
	pe.state = TASK_STATE__TASK_ALIVE;
	ret = write_one(c, IMG_PSTREE, &pe.base);
	free(tids);
	if (ret)
		return ret;

	uname(&u);
	clock_gettime(CLOCK_REALTIME, &now);
	dump_vdso_layout(&c->kd, vdso, sizeof(vdso));
	inv.img_version = IMG_VERSION;
	inv.root_pid = c->pid;
	inv.page_size = 4096;
	inv.kernel_release = u.release;
	inv.dump_time_ns = (uint64_t)now.tv_sec * 1000000000ULL + now.tv_nsec;
	inv.vdso_layout = vdso;
	inv.has_xcr0 = true;
	inv.xcr0 = c->kd.xcr0;
	inv.has_xstate_size = true;
	inv.xstate_size = c->kd.xstate_size;
	inv.tool_version = CRIU_LITE_VERSION;
	return write_one(c, IMG_INVENTORY, &inv.base);
}
