/* gen_corpus: writes one small valid image of every record kind into a
 * directory, as seeds for fuzz_records (test/fuzz/corpus/). Run once by hand:
 *
 *   make build/plain/libimages.a
 *   cc -std=gnu11 -D_GNU_SOURCE -I. -Ibuild/proto -o /tmp/gen_corpus \
 *      test/fuzz/gen_corpus.c build/plain/libimages.a -lprotobuf-c -lisal
 *   /tmp/gen_corpus test/fuzz/corpus
 */
#include <stdio.h>
#include <string.h>

#include "images/img.h"
#include "core.pb-c.h"
#include "files.pb-c.h"
#include "inventory.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "pstree.pb-c.h"

static int put(struct img_dir *d, enum img_kind kind, long id, const ProtobufCMessage **msgs,
	       unsigned n)
{
	struct img_writer *w;
	struct img_err err = { 0 };

	if (img_writer_open(d, kind, id, &w, &err) < 0)
		goto fail;
	for (unsigned i = 0; i < n; i++) {
		if (img_write(w, msgs[i], &err) < 0) {
			img_writer_abort(w);
			goto fail;
		}
	}
	if (img_writer_commit(w, &err) == 0)
		return 0;
fail:
	fprintf(stderr, "gen_corpus: %s\n", err.msg);
	return -1;
}

int main(int argc, char **argv)
{
	InventoryEntry inv = INVENTORY_ENTRY__INIT;
	PstreeEntry ps[2] = { PSTREE_ENTRY__INIT, PSTREE_ENTRY__INIT };
	uint32_t tids[] = { 10, 11 };
	UserRegsEntry regs = USER_REGS_ENTRY__INIT;
	ThreadCoreEntry th = THREAD_CORE_ENTRY__INIT, *thv[] = { &th };
	SiginfoEntry si = SIGINFO_ENTRY__INIT, *siv[] = { &si };
	RlimitEntry rl = RLIMIT_ENTRY__INIT, *rlv[] = { &rl };
	CoreEntry core = CORE_ENTRY__INIT;
	uint8_t xs[64], raw[128];
	VmaEntry vma = VMA_ENTRY__INIT, *vmav[] = { &vma };
	uint64_t auxv[] = { 6, 4096, 0, 0 };
	MmEntry mm = MM_ENTRY__INIT;
	PagemapHead ph = PAGEMAP_HEAD__INIT;
	PagemapEntry pe[2] = { PAGEMAP_ENTRY__INIT, PAGEMAP_ENTRY__INIT };
	RegFileEntry reg = REG_FILE_ENTRY__INIT;
	FileEntry fe = FILE_ENTRY__INIT;
	FdinfoEntry fd = FDINFO_ENTRY__INIT;
	FsEntry fs = FS_ENTRY__INIT;
	struct img_dir *d;
	struct img_err err = { 0 };
	int ret = 0;

	if (argc != 2 || img_dir_open(argv[1], true, &d, &err) < 0) {
		fprintf(stderr, "usage: gen_corpus DIR (%s)\n", err.msg);
		return 1;
	}
	inv.img_version = 1;
	inv.root_pid = 10;
	inv.page_size = 4096;
	inv.kernel_release = "6.18";
	inv.has_lazy = inv.lazy = 1;
	ret |= put(d, IMG_INVENTORY, 0, (const ProtobufCMessage *[]){ &inv.base }, 1);

	ps[0].pid = 10;
	ps[0].n_threads = 2;
	ps[0].threads = tids;
	ps[1].pid = 12;
	ps[1].ppid = 10;
	ps[1].state = TASK_STATE__TASK_ZOMBIE;
	ps[1].has_exit_code = 1;
	ret |= put(d, IMG_PSTREE, 0, (const ProtobufCMessage *[]){ &ps[0].base, &ps[1].base }, 2);

	memset(xs, 0x11, sizeof(xs));
	memset(raw, 0x22, sizeof(raw));
	si.raw.data = raw;
	si.raw.len = sizeof(raw);
	regs.ip = 0x401000;
	th.tid = 10;
	th.regs = &regs;
	th.xstate.data = xs;
	th.xstate.len = sizeof(xs);
	th.comm = "t";
	th.n_pending = 1;
	th.pending = siv;
	rl.resource = 7;
	rl.cur = rl.max = 1024;
	core.pid = 10;
	core.comm = "seed";
	core.n_threads = 1;
	core.threads = thv;
	core.n_rlimits = 1;
	core.rlimits = rlv;
	core.has_uid = 1;
	ret |= put(d, IMG_CORE, 10, (const ProtobufCMessage *[]){ &core.base }, 1);

	vma.start = 0x400000;
	vma.end = 0x401000;
	vma.prot = 5;
	vma.flags = 2;
	vma.vmflags = "rd ex";
	mm.n_vmas = 1;
	mm.vmas = vmav;
	mm.n_auxv = 4;
	mm.auxv = auxv;
	ret |= put(d, IMG_MM, 10, (const ProtobufCMessage *[]){ &mm.base }, 1);

	ph.pages_id = 10;
	ph.pages_size = 4096;
	pe[0].vaddr = 0x400000;
	pe[0].nr_pages = 1;
	pe[0].flags = PAGEMAP_FLAGS__PE_PRESENT;
	pe[0].has_offset = 1;
	pe[1].vaddr = 0x401000;
	pe[1].nr_pages = 3;
	pe[1].flags = PAGEMAP_FLAGS__PE_ZERO;
	ret |= put(d, IMG_PAGEMAP, 10,
		   (const ProtobufCMessage *[]){ &ph.base, &pe[0].base, &pe[1].base }, 3);

	reg.path = "/etc/hostname";
	reg.has_size = 1;
	reg.size = 9;
	fe.id = 1;
	fe.reg = &reg;
	ret |= put(d, IMG_FILES, 0, (const ProtobufCMessage *[]){ &fe.base }, 1);

	fd.fd = 3;
	fd.id = 1;
	ret |= put(d, IMG_FDINFO, 10, (const ProtobufCMessage *[]){ &fd.base }, 1);

	fs.cwd = "/";
	fs.root = "/";
	fs.umask = 022;
	ret |= put(d, IMG_FS, 10, (const ProtobufCMessage *[]){ &fs.base }, 1);

	img_dir_close(d);
	return ret ? 1 : 0;
}
