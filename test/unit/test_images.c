/* test_images: the record file format of images/ (img.h): kinds, names and
 * crc32c, round trips of every kind with every field set, the writer's rules
 * (temp file, commit, abort), image directories and raw files.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "images/img.h"
#include "images/pages.h"
#include "core.pb-c.h"
#include "files.pb-c.h"
#include "inventory.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "pstree.pb-c.h"
#include "util_fs.h"
#include "util_img.h"

static void roundtrip(struct utest_img_fx *f, enum img_kind kind, long id,
		      const ProtobufCMessage **msgs, unsigned n)
{
	struct img_reader *r;
	struct img_err err = { 0 };
	ProtobufCMessage *m;
	char name[64], path[4200];
	void *buf;
	size_t len;

	utest_write_msgs(f, kind, id, msgs, n);
	img_filename(name, sizeof(name), kind, id);
	snprintf(path, sizeof(path), "%s/%s", f->path, name);
	assert_int_equal(utest_read_file(f->path, name, &buf, &len), 0);

	for (int how = 0; how < 3; how++) {
		int ret = how == 0   ? img_reader_open(f->d, kind, id, &r, &err)
			  : how == 1 ? img_reader_open_path(path, &r, &err)
				     : img_reader_open_buf(name, buf, len, &r, &err);

		assert_int_equal(ret, 0);
		assert_ptr_equal(img_reader_kind(r), img_kind(kind));
		assert_int_equal(img_reader_count(r), n);
		for (unsigned i = 0; i < n; i++) {
			assert_int_equal(img_read(r, &m, &err), 1);
			utest_assert_same_msg(m, msgs[i]);
			protobuf_c_message_free_unpacked(m, NULL);
		}
		assert_int_equal(img_read(r, &m, &err), 0);
		assert_null(m);
		img_reader_close(r);
	}
	free(buf);
}

/* --- kinds, names, crc --- */

static void test_crc32c(void **state)
{
	static const char s[] = "123456789";
	uint32_t c;

	(void)state;
	assert_int_equal(img_crc32c(0, s, 9), 0xE3069283u);
	c = img_crc32c(0, s, 4);
	c = img_crc32c(c, s + 4, 5);
	assert_int_equal(c, 0xE3069283u);
	assert_int_equal(img_crc32c(0, s, 0), 0);
	assert_int_not_equal(img_crc32c(0, "123456788", 9), 0xE3069283u);
}

static void test_kind_table(void **state)
{
	(void)state;
	for (int i = 0; i < IMG_KIND_NR; i++) {
		const struct img_kind_desc *k = img_kind(i);

		assert_non_null(k);
		assert_int_equal(k->kind, i);
		assert_non_null(k->name);
		assert_non_null(k->desc);
		assert_ptr_equal(img_kind_by_magic(k->magic), k);
		assert_int_not_equal(k->magic, IMG_TRAILER_MAGIC);
		for (int j = 0; j < i; j++) {
			/* no single flipped bit turns one kind into another */
			uint32_t x = k->magic ^ img_kind(j)->magic;

			assert_true(__builtin_popcount(x) >= 2);
			assert_string_not_equal(k->name, img_kind(j)->name);
		}
	}
	assert_null(img_kind(IMG_KIND_NR));
	assert_null(img_kind_by_magic(0));
	assert_true(img_kind(IMG_CORE)->per_id);
	assert_false(img_kind(IMG_INVENTORY)->per_id);
	assert_ptr_equal(img_kind(IMG_PAGEMAP)->first_desc, &pagemap_head__descriptor);
	assert_ptr_equal(img_kind(IMG_PAGEMAP)->desc, &pagemap_entry__descriptor);
	assert_ptr_equal(img_kind(IMG_FS)->desc, &fs_entry__descriptor);
}

static void test_filenames(void **state)
{
	static const char *const bad[] = {
		"",
		".img",
		"core.img",
		"core-.img",
		"core-042.img",
		"core--1.img",
		"core-+1.img",
		"core-1x.img",
		"core-1.img.tmp",
		"core-1.im",
		"inventory-1.img",
		"pages-1.img",
		"Core-1.img",
		"core-1.IMG",
		"core-99999999999999999999.img",
		"fs.img",
		"core 1.img",
		"inventory.img.tmp",
		"xinventory.img",
		"core-1-2.img",
	};
	const struct img_kind_desc *k;
	char buf[64];
	long id;

	(void)state;
	for (int i = 0; i < IMG_KIND_NR; i++) {
		img_filename(buf, sizeof(buf), i, 42);
		id = -5;
		k = img_kind_by_filename(buf, &id);
		assert_non_null(k);
		assert_int_equal(k->kind, i);
		assert_int_equal(id, k->per_id ? 42 : -1);
	}
	img_filename(buf, sizeof(buf), IMG_CORE, 42);
	assert_string_equal(buf, "core-42.img");
	img_filename(buf, sizeof(buf), IMG_INVENTORY, 42);
	assert_string_equal(buf, "inventory.img");
	assert_ptr_equal(img_kind_by_filename("fdinfo-0.img", &id), img_kind(IMG_FDINFO));
	assert_int_equal(id, 0);
	assert_ptr_equal(img_kind_by_filename("fs-4194304.img", &id), img_kind(IMG_FS));
	assert_int_equal(id, 4194304);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (img_kind_by_filename(bad[i], &id))
			fail_msg("\"%s\" was accepted as an image name", bad[i]);
	}
}

/* --- round trips of every kind --- */

static void test_rt_inventory(void **state)
{
	struct utest_img_fx *f = *state;
	InventoryEntry e = INVENTORY_ENTRY__INIT;
	ProtobufCMessage *m;
	struct img_err err = { 0 };
	const ProtobufCMessage *msgs[] = { &e.base };

	e.img_version = 1;
	e.root_pid = 4242;
	e.page_size = 4096;
	e.kernel_release = "6.18.44-test";
	e.dump_time_ns = 1763700000123456789ull;
	e.has_root_pidns = true;
	e.root_pidns = true;
	e.vdso_layout = "vvar:16384,vvar_vclock:8192,vdso:8192";
	e.has_xcr0 = true;
	e.xcr0 = 0x602e7;
	e.has_xstate_size = true;
	e.xstate_size = 11008;
	e.tool_version = "criu-lite 0.1";
	e.has_lazy = true;
	e.lazy = true;
	e.parent_dir = "../pre1";
	roundtrip(f, IMG_INVENTORY, 0, msgs, 1);

	assert_int_equal(img_read_one(f->d, IMG_INVENTORY, 0, &m, &err), 0);
	InventoryEntry *got = (InventoryEntry *)m;
	assert_string_equal(got->kernel_release, "6.18.44-test");
	assert_int_equal(got->dump_time_ns, 1763700000123456789ull);
	assert_true(got->has_xcr0 && got->xcr0 == 0x602e7);
	assert_string_equal(got->parent_dir, "../pre1");
	protobuf_c_message_free_unpacked(m, NULL);
}

static void test_rt_pstree(void **state)
{
	struct utest_img_fx *f = *state;
	uint32_t th1[] = { 100, 101, 102 }, th2[] = { 200 };
	PstreeEntry a = PSTREE_ENTRY__INIT, b = PSTREE_ENTRY__INIT;
	const ProtobufCMessage *msgs[] = { &a.base, &b.base };

	a.pid = 100;
	a.ppid = 0;
	a.pgid = 100;
	a.sid = 100;
	a.n_threads = 3;
	a.threads = th1;
	a.state = TASK_STATE__TASK_ALIVE;
	a.has_exit_code = true;
	a.exit_code = -1;
	b.pid = 200;
	b.ppid = 100;
	b.pgid = 100;
	b.sid = 100;
	b.n_threads = 1;
	b.threads = th2;
	b.state = TASK_STATE__TASK_ZOMBIE;
	b.has_exit_code = true;
	b.exit_code = 0x0900;
	roundtrip(f, IMG_PSTREE, 0, msgs, 2);
}

static void test_rt_core(void **state)
{
	struct utest_img_fx *f = *state;
	UserRegsEntry regs = USER_REGS_ENTRY__INIT;
	SigaltstackEntry sas = SIGALTSTACK_ENTRY__INIT;
	RseqEntry rseq = RSEQ_ENTRY__INIT;
	SiginfoEntry si[3] = { SIGINFO_ENTRY__INIT, SIGINFO_ENTRY__INIT, SIGINFO_ENTRY__INIT };
	SiginfoEntry *tpend[] = { &si[0], &si[1] }, *spend[] = { &si[2] };
	ThreadCoreEntry t[2] = { THREAD_CORE_ENTRY__INIT, THREAD_CORE_ENTRY__INIT };
	ThreadCoreEntry *threads[] = { &t[0], &t[1] };
	SigactionEntry sa = SIGACTION_ENTRY__INIT;
	SigactionEntry *sas_v[] = { &sa };
	RlimitEntry rl[2] = { RLIMIT_ENTRY__INIT, RLIMIT_ENTRY__INIT };
	RlimitEntry *rl_v[] = { &rl[0], &rl[1] };
	uint32_t groups[] = { 0, 4, 27 };
	CoreEntry c = CORE_ENTRY__INIT;
	const ProtobufCMessage *msgs[] = { &c.base };
	uint8_t raw[3][128], xstate[2][3000];
	uint64_t rp[27];
	ProtobufCMessage *m;
	struct img_err err = { 0 };

	/* r15 .. gs: 27 consecutive u64 fields, every one a distinct value */
	_Static_assert(offsetof(UserRegsEntry, gs) - offsetof(UserRegsEntry, r15) == 26 * 8,
		       "user_regs_entry layout");
	for (int i = 0; i < 27; i++)
		rp[i] = 0x1111111111111111ull * (uint64_t)(i % 15 + 1) + (uint64_t)i;
	memcpy((char *)&regs + offsetof(UserRegsEntry, r15), rp, sizeof(rp));
	sas.sp = 0x7ffd0000;
	sas.size = 8192;
	sas.flags = 2;
	rseq.ptr = 0x7f0000001000;
	rseq.len = 32;
	rseq.sig = 0x53053053;
	rseq.flags = 1;
	for (int i = 0; i < 3; i++) {
		memset(raw[i], 0xa0 + i, sizeof(raw[i]));
		si[i].raw.data = raw[i];
		si[i].raw.len = sizeof(raw[i]);
	}
	for (int i = 0; i < 2; i++) {
		for (size_t j = 0; j < sizeof(xstate[i]); j++)
			xstate[i][j] = (uint8_t)(j * 7 + (size_t)i);
		t[i].tid = 300 + (uint32_t)i;
		t[i].regs = &regs;
		t[i].xstate.data = xstate[i];
		t[i].xstate.len = sizeof(xstate[i]);
		t[i].blocked = 0x10000ull << i;
		t[i].sas = &sas;
		t[i].rseq = &rseq;
		t[i].has_robust_list = true;
		t[i].robust_list = 0x7f0000002000;
		t[i].has_robust_list_len = true;
		t[i].robust_list_len = 24;
		t[i].has_clear_child_tid = true;
		t[i].clear_child_tid = 0x7f0000003000;
		t[i].comm = i ? "worker" : "main";
		t[i].n_pending = 2;
		t[i].pending = tpend;
		t[i].has_syscall_nr = true;
		t[i].syscall_nr = i ? -1 : 230;
	}
	sa.signo = 10;
	sa.handler = 0x401000;
	sa.flags = 0x04000000;
	sa.restorer = 0x401100;
	sa.mask = 0x200;
	rl[0].resource = 7;
	rl[0].cur = 1024;
	rl[0].max = 4096;
	rl[1].resource = 3;
	rl[1].cur = 8 << 20;
	rl[1].max = UINT64_MAX;

	c.pid = 300;
	c.comm = "zdtm-test";
	c.personality = 0x0040000;
	c.umask = 022;
	c.dumpable = 1;
	c.n_sigactions = 1;
	c.sigactions = sas_v;
	c.n_rlimits = 2;
	c.rlimits = rl_v;
	c.n_threads = 2;
	c.threads = threads;
	c.n_shared_pending = 1;
	c.shared_pending = spend;
	c.has_uid = c.has_euid = c.has_suid = c.has_fsuid = true;
	c.uid = 1000, c.euid = 1001, c.suid = 1002, c.fsuid = 1003;
	c.has_gid = c.has_egid = c.has_sgid = c.has_fsgid = true;
	c.gid = 2000, c.egid = 2001, c.sgid = 2002, c.fsgid = 2003;
	c.n_groups = 3;
	c.groups = groups;
	c.has_cap_eff = c.has_cap_prm = c.has_cap_inh = c.has_cap_bnd = c.has_cap_amb = true;
	c.cap_eff = 0x1ffffffffffull, c.cap_prm = 0x1fffffffffeull, c.cap_inh = 0x3;
	c.cap_bnd = 0x1ffffffffffull, c.cap_amb = 0x1;
	c.has_no_new_privs = true;
	c.no_new_privs = 1;
	c.has_seccomp_mode = true;
	c.seccomp_mode = 2;
	roundtrip(f, IMG_CORE, 300, msgs, 1);

	assert_int_equal(img_read_one(f->d, IMG_CORE, 300, &m, &err), 0);
	CoreEntry *got = (CoreEntry *)m;
	assert_int_equal(got->n_threads, 2);
	assert_int_equal(got->threads[1]->syscall_nr, -1);
	assert_int_equal(got->threads[0]->regs->gs, rp[26]);
	assert_int_equal(got->threads[1]->xstate.len, 3000);
	assert_memory_equal(got->threads[1]->xstate.data, xstate[1], 3000);
	assert_int_equal(got->rlimits[1]->max, UINT64_MAX);
	assert_string_equal(got->threads[1]->comm, "worker");
	protobuf_c_message_free_unpacked(m, NULL);
}

static void test_rt_mm(void **state)
{
	struct utest_img_fx *f = *state;
	uint64_t auxv[] = { 33, 0x7ffff7fc1000, 16, 0xbfebfbff, 6, 4096, 0, 0 };
	VmaEntry v[2] = { VMA_ENTRY__INIT, VMA_ENTRY__INIT };
	VmaEntry *vv[] = { &v[0], &v[1] };
	PageRange g[2] = { PAGE_RANGE__INIT, PAGE_RANGE__INIT };
	PageRange *gv[] = { &g[0], &g[1] };
	MmEntry mm = MM_ENTRY__INIT;
	const ProtobufCMessage *msgs[] = { &mm.base };

	for (int i = 0; i < 2; i++) {
		v[i].start = 0x400000ull + 0x10000ull * (uint64_t)i;
		v[i].end = v[i].start + 0x8000;
		v[i].pgoff = 0x2000ull * (uint64_t)i;
		v[i].prot = 5 - (uint32_t)i * 2;
		v[i].flags = 0x2 | (uint32_t)i;
		v[i].kind = i ? VMA_KIND__VMA_SHM_FILE_SHARED : VMA_KIND__VMA_FILE_PRIVATE;
		v[i].has_file_id = true;
		v[i].file_id = 7 + (uint32_t)i;
		v[i].has_shmem_id = true;
		v[i].shmem_id = 90 + (uint32_t)i;
		v[i].vmflags = "rd ex mr mw me dw sd";
		v[i].has_madv = true;
		v[i].madv = 1ull << 14;
		v[i].has_locked = true;
		v[i].locked = i;
		g[i].start = v[i].start + 0x1000 * (uint64_t)(i + 1);
		g[i].end = g[i].start + 0x1000;
	}
	v[1].vmflags = "rd wr sh mr mw me ms gu lo lf sl";
	v[1].n_guards = 2;
	v[1].guards = gv;
	mm.start_code = 0x400000;
	mm.end_code = 0x401000;
	mm.start_data = 0x402000;
	mm.end_data = 0x403000;
	mm.start_brk = 0x404000;
	mm.brk = 0x425000;
	mm.start_stack = 0x7ffd1000;
	mm.arg_start = 0x7ffd2000;
	mm.arg_end = 0x7ffd2100;
	mm.env_start = 0x7ffd2100;
	mm.env_end = 0x7ffd2f00;
	mm.n_auxv = 8;
	mm.auxv = auxv;
	mm.has_exe_file_id = true;
	mm.exe_file_id = 3;
	mm.n_vmas = 2;
	mm.vmas = vv;
	mm.has_thp_disabled = true;
	mm.thp_disabled = 3;
	mm.has_merge_any = mm.has_mlock_future = mm.has_mdwe = mm.has_coredump_filter = true;
	mm.merge_any = true;
	mm.mlock_future = 6;
	mm.mdwe = 1;
	mm.coredump_filter = 0x33;
	roundtrip(f, IMG_MM, 7, msgs, 1);
}

static void test_rt_pagemap(void **state)
{
	struct utest_img_fx *f = *state;
	PagemapHead h = PAGEMAP_HEAD__INIT;
	PagemapEntry e[3] = { PAGEMAP_ENTRY__INIT, PAGEMAP_ENTRY__INIT, PAGEMAP_ENTRY__INIT };
	const ProtobufCMessage *msgs[] = { &h.base, &e[0].base, &e[1].base, &e[2].base };

	h.pages_id = 9;
	h.pages_size = 3 * 4096;
	h.pages_crc32c = 0xdeadbeef;
	for (int i = 0; i < 3; i++) {
		e[i].vaddr = 0x10000ull * (uint64_t)(i + 1);
		e[i].nr_pages = (uint64_t)i + 1;
		e[i].flags = i == 1 ? PAGEMAP_FLAGS__PE_ZERO : PAGEMAP_FLAGS__PE_PRESENT;
		e[i].has_offset = true;
		e[i].offset = i ? 4096 : 0;
	}
	roundtrip(f, IMG_PAGEMAP, 9, msgs, 4);
}

static void test_rt_files(void **state)
{
	struct utest_img_fx *f = *state;
	RegFileEntry reg = REG_FILE_ENTRY__INIT;
	FileEntry a = FILE_ENTRY__INIT, b = FILE_ENTRY__INIT;
	const ProtobufCMessage *msgs[] = { &a.base, &b.base };

	reg.path = "/tmp/some dir/file\twith odd chars";
	reg.flags = 02 | 02000;
	reg.pos = 123456789;
	reg.mode = 0100644;
	reg.has_size = true;
	reg.size = 1 << 20;
	reg.has_dev = true;
	reg.dev = 0xfd01;
	reg.has_ino = true;
	reg.ino = 131077;
	reg.has_mtime_ns = true;
	reg.mtime_ns = -5; /* before the epoch */
	reg.has_deleted = true;
	reg.deleted = true;
	reg.has_ghost_id = true;
	reg.ghost_id = 4;
	reg.has_ghost_crc32c = true;
	reg.ghost_crc32c = 0xE3069283u;
	a.id = 1;
	a.type = FILE_TYPE__FT_REG;
	a.reg = &reg;
	b.id = 2;
	b.type = FILE_TYPE__FT_INOTIFY;
	roundtrip(f, IMG_FILES, 0, msgs, 2);
}

static void test_rt_fdinfo_fs(void **state)
{
	struct utest_img_fx *f = *state;
	FdinfoEntry fd[3] = { FDINFO_ENTRY__INIT, FDINFO_ENTRY__INIT, FDINFO_ENTRY__INIT };
	const ProtobufCMessage *fmsgs[] = { &fd[0].base, &fd[1].base, &fd[2].base };
	FsEntry fs = FS_ENTRY__INIT;
	const ProtobufCMessage *smsgs[] = { &fs.base };

	for (int i = 0; i < 3; i++) {
		fd[i].fd = (uint32_t)i * 100;
		fd[i].id = (uint32_t)i + 1;
		fd[i].fd_flags = (uint32_t)i & 1;
	}
	roundtrip(f, IMG_FDINFO, 12, fmsgs, 3);
	fs.cwd = "/home/user/work";
	fs.root = "/";
	fs.umask = 077;
	roundtrip(f, IMG_FS, 12, smsgs, 1);
}

static void test_rt_empty_and_big(void **state)
{
	struct utest_img_fx *f = *state;
	struct img_reader *r;
	struct img_err err = { 0 };
	ThreadCoreEntry t = THREAD_CORE_ENTRY__INIT;
	UserRegsEntry regs = USER_REGS_ENTRY__INIT;
	CoreEntry c = CORE_ENTRY__INIT;
	ThreadCoreEntry *tv[] = { &t };
	const ProtobufCMessage *msgs[] = { &c.base };
	size_t big = 300 << 10; /* larger than the writer's buffer */
	uint8_t *xs = malloc(big);
	ProtobufCMessage *m;

	assert_non_null(xs);
	/* a file with no records is valid */
	utest_write_msgs(f, IMG_FILES, 0, NULL, 0);
	assert_int_equal(img_reader_open(f->d, IMG_FILES, 0, &r, &err), 0);
	assert_int_equal(img_reader_count(r), 0);
	assert_int_equal(img_read(r, &m, &err), 0);
	img_reader_close(r);
	/* ... but not for img_read_one */
	assert_true(img_read_one(f->d, IMG_FILES, 0, &m, &err) < 0);
	assert_non_null(strstr(err.msg, "files.img: expected exactly 1 record, found 0"));

	for (size_t i = 0; i < big; i++)
		xs[i] = (uint8_t)(i * 2654435761u >> 13);
	t.tid = 1;
	t.regs = &regs;
	t.xstate.data = xs;
	t.xstate.len = big;
	c.pid = 1;
	c.comm = "big";
	c.n_threads = 1;
	c.threads = tv;
	roundtrip(f, IMG_CORE, 1, msgs, 1);
	free(xs);
}

/* --- writer rules --- */

static void test_writer_rules(void **state)
{
	struct utest_img_fx *f = *state;
	struct img_writer *w;
	struct img_err err = { 0 };
	PagemapEntry e = PAGEMAP_ENTRY__INIT;
	PagemapHead h = PAGEMAP_HEAD__INIT;
	FsEntry fs = FS_ENTRY__INIT;

	/* abort leaves nothing, not even the temp file */
	assert_int_equal(img_writer_open(f->d, IMG_FS, 5, &w, &err), 0);
	assert_true(utest_file_exists(f->path, "fs-5.img.tmp"));
	fs.cwd = "/";
	fs.root = "/";
	assert_int_equal(img_write(w, &fs.base, &err), 0);
	img_writer_abort(w);
	assert_int_equal(utest_dir_entries(f->path), 0);
	img_writer_abort(NULL);

	/* the pagemap file must start with its head; other kinds take one type */
	e.nr_pages = 1;
	e.flags = 1;
	assert_int_equal(img_writer_open(f->d, IMG_PAGEMAP, 5, &w, &err), 0);
	assert_int_equal(img_write(w, &e.base, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "pagemap-5.img: record 0"));
	assert_int_equal(img_write(w, &h.base, &err), 0);
	assert_int_equal(img_write(w, &h.base, &err), -EINVAL);
	assert_int_equal(img_write(w, &e.base, &err), 0);
	assert_int_equal(img_write(w, &fs.base, &err), -EINVAL);
	assert_int_equal(img_writer_commit(w, &err), 0);
	assert_int_equal(utest_dir_entries(f->path), 1);
	assert_true(utest_file_exists(f->path, "pagemap-5.img"));

	/* bad ids and kinds are refused before anything is created */
	assert_int_equal(img_writer_open(f->d, IMG_CORE, -1, &w, &err), -EINVAL);
	assert_int_equal(img_writer_open(f->d, IMG_KIND_NR, 1, &w, &err), -EINVAL);
	assert_int_equal(utest_dir_entries(f->path), 1);

	/* img_write_file: all records or no file at all */
	{
		const ProtobufCMessage *two[] = { &fs.base, &fs.base },
				       *bad[] = { &fs.base, &e.base };
		ProtobufCMessage *m;
		struct img_reader *r;

		assert_int_equal(img_write_file(f->d, IMG_FS, 6, two, 2, &err), 0);
		assert_int_equal(img_reader_open(f->d, IMG_FS, 6, &r, &err), 0);
		assert_int_equal(img_reader_count(r), 2);
		assert_int_equal(img_read(r, &m, &err), 1);
		assert_string_equal(((FsEntry *)m)->cwd, "/");
		protobuf_c_message_free_unpacked(m, NULL);
		img_reader_close(r);
		assert_int_equal(img_write_file(f->d, IMG_FS, 7, bad, 2, &err), -EINVAL);
		assert_non_null(strstr(err.msg, "fs-7.img: record 1"));
		assert_false(utest_file_exists(f->path, "fs-7.img"));
		assert_false(utest_file_exists(f->path, "fs-7.img.tmp"));
		assert_int_equal(utest_dir_entries(f->path), 2);
	}
}

static void test_dir_and_raw(void **state)
{
	struct utest_img_fx *f = *state;
	struct img_dir *d;
	struct raw_file rf;
	struct img_err err = { 0 };
	char sub[4200];
	void *buf;
	size_t len;

	snprintf(sub, sizeof(sub), "%s/sub", f->path);
	assert_int_equal(img_dir_open(sub, false, &d, &err), -ENOENT);
	assert_non_null(strstr(err.msg, sub));
	assert_int_equal(img_dir_open(sub, true, &d, &err), 0);
	assert_string_equal(img_dir_path(d), sub);
	assert_true(img_dir_fd(d) >= 0);
	img_dir_close(d);
	assert_int_equal(img_dir_open(sub, true, &d, &err), 0); /* exists already: fine */
	img_dir_close(d);

	assert_int_equal(raw_file_create(f->d, "ghost-3.img", &rf, &err), 0);
	assert_int_equal(write(rf.fd, "hello", 5), 5);
	assert_true(utest_file_exists(f->path, "ghost-3.img.tmp"));
	assert_false(utest_file_exists(f->path, "ghost-3.img"));
	assert_int_equal(raw_file_commit(&rf, &err), 0);
	assert_false(utest_file_exists(f->path, "ghost-3.img.tmp"));
	assert_int_equal(utest_read_file(f->path, "ghost-3.img", &buf, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(buf, "hello", 5);
	free(buf);

	assert_int_equal(raw_file_create(f->d, "ghost-4.img", &rf, &err), 0);
	raw_file_abort(&rf);
	assert_false(utest_file_exists(f->path, "ghost-4.img.tmp"));
	assert_false(utest_file_exists(f->path, "ghost-4.img"));
	assert_int_equal(raw_file_create(f->d, "a/b", &rf, &err), -EINVAL);
}

/* img_dir_sync_later(): files are renamed into place without an fsync each, img_dir_sync()
 * makes every one durable (and takes no file the manifest lists but that is written elsewhere:
 * a lazy migration's pages file), then commits sync again. */
static void test_sync_later(void **state)
{
	struct utest_img_fx *f = *state;
	struct page_writer *w;
	struct raw_file rf;
	struct img_err err = { 0 };
	static char page[4096];

	img_dir_sync_later(f->d);
	assert_int_equal(raw_file_create(f->d, "ghost-5.img", &rf, &err), 0);
	assert_int_equal(write(rf.fd, "data", 4), 4);
	assert_int_equal(raw_file_commit(&rf, &err), 0);
	assert_true(utest_file_exists(f->path, "ghost-5.img")); /* renamed into place already */
	assert_int_equal(page_writer_open_elsewhere(f->d, IMG_PAGEMAP, 7, &w, &err), 0);
	assert_int_equal(page_writer_add(w, 0x10000, 1, PAGEMAP_FLAGS__PE_PRESENT, page, &err), 0);
	assert_int_equal(page_writer_commit(w, &err), 0);
	assert_int_equal(img_dir_nr_written(f->d), 3); /* ghost, pages (elsewhere), pagemap */
	assert_int_equal(img_dir_sync(f->d, &err), 0);
	assert_int_equal(img_dir_sync(f->d, &err), 0); /* nothing deferred any more */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c),
		cmocka_unit_test(test_kind_table),
		cmocka_unit_test(test_filenames),
		cmocka_unit_test_setup_teardown(test_rt_inventory, utest_img_setup,
						utest_img_teardown),
		cmocka_unit_test_setup_teardown(test_rt_pstree, utest_img_setup,
						utest_img_teardown),
		cmocka_unit_test_setup_teardown(test_rt_core, utest_img_setup, utest_img_teardown),
		cmocka_unit_test_setup_teardown(test_rt_mm, utest_img_setup, utest_img_teardown),
		cmocka_unit_test_setup_teardown(test_rt_pagemap, utest_img_setup,
						utest_img_teardown),
		cmocka_unit_test_setup_teardown(test_rt_files, utest_img_setup, utest_img_teardown),
		cmocka_unit_test_setup_teardown(test_rt_fdinfo_fs, utest_img_setup,
						utest_img_teardown),
		cmocka_unit_test_setup_teardown(test_rt_empty_and_big, utest_img_setup,
						utest_img_teardown),
		cmocka_unit_test_setup_teardown(test_writer_rules, utest_img_setup,
						utest_img_teardown),
		cmocka_unit_test_setup_teardown(test_sync_later, utest_img_setup,
						utest_img_teardown),
		cmocka_unit_test_setup_teardown(test_dir_and_raw, utest_img_setup,
						utest_img_teardown),
	};

	return cmocka_run_group_tests_name("images", tests, NULL, NULL);
}
