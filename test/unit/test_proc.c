/* test_proc: the /proc parsers (criu-lite/proc.h) on text captured on this machine
 * (proc_fixtures.h), on crafted and malformed text, and live on a child process set up with one
 * mapping and one fd of each kind (proc_live.c). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "criu-lite/log.h"
#include "criu-lite/proc/proc.h"
#include "proc_fixtures.h"
#include "proc_live.h"
#include "util_fs.h"

#define KB 1024ULL

/* The log goes to a file so that tests can check what was reported. */
static char log_path[] = "/tmp/test_proc_log.XXXXXX";

bool log_has(const char *needle)
{
	return utest_log_has(log_path, needle);
}

/* ---- smaps ------------------------------------------------------------------------------- */

#define ANON_RW (VMF_RD | VMF_WR | VMF_MR | VMF_MW | VMF_ME | VMF_AC)

static const struct {
	uint64_t start, end;
	enum vma_kind kind;
	uint64_t flags;
} fx_vmas[] = {
	{ 0x564e5324c000, 0x564e5324d000, VMA_FILE, ANON_RW },
	{ 0x564e7a183000, 0x564e7a1a4000, VMA_HEAP, ANON_RW },
	{ 0x7fb901e4e000, 0x7fb901e50000, VMA_FILE,
	  VMF_RD | VMF_WR | VMF_SH | VMF_MR | VMF_MW | VMF_ME | VMF_MS | VMF_UI },
	{ 0x7fb901e50000, 0x7fb901e52000, VMA_ANON, ANON_RW | VMF_UM | VMF_UW },
	{ 0x7fb901e52000, 0x7fb901e53000, VMA_ANON, ANON_RW | VMF_SL },
	{ 0x7fb901e54000, 0x7fb901e55000, VMA_ANON, ANON_RW | VMF_SR | VMF_MG },
	{ 0x7fb901e58000, 0x7fb901e59000, VMA_ANON, (ANON_RW & ~VMF_AC) | VMF_NR | VMF_WF },
	{ 0x7fb901e59000, 0x7fb901e5a000, VMA_ANON, ANON_RW | VMF_HG },
	{ 0x7fb901e5b000, 0x7fb901e5c000, VMA_ANON, ANON_RW | VMF_DC },
	{ 0x7fb901e5c000, 0x7fb901e5d000, VMA_ANON, ANON_RW | VMF_DD },
	{ 0x7fb901e5d000, 0x7fb901e5e000, VMA_ANON, ANON_RW | VMF_LO },
	{ 0x7fb901f5e000, 0x7fb901f60000, VMA_ANON, ANON_RW | VMF_GD },
	{ 0x7fb901f61000, 0x7fb901f62000, VMA_ANON, VMF_MR | VMF_MW | VMF_ME | VMF_AC },
	{ 0x7fb901f8c000, 0x7fb9020e2000, VMA_FILE, VMF_RD | VMF_EX | VMF_MR | VMF_MW | VMF_ME },
	{ 0x7fb902148000, 0x7fb902149000, VMA_FILE,
	  VMF_RD | VMF_SH | VMF_MR | VMF_MW | VMF_ME | VMF_MS },
	{ 0x7fb902149000, 0x7fb90214b000, VMA_FILE, VMF_RD | VMF_MR | VMF_MW | VMF_ME },
	{ 0x7fb90214b000, 0x7fb90214d000, VMA_FILE,
	  VMF_RD | VMF_WR | VMF_SH | VMF_MR | VMF_MW | VMF_ME | VMF_MS },
	{ 0x7fb902155000, 0x7fb902159000, VMA_VVAR,
	  VMF_RD | VMF_MR | VMF_PF | VMF_IO | VMF_DE | VMF_DD },
	{ 0x7fb902159000, 0x7fb90215b000, VMA_VVAR_VCLOCK,
	  VMF_RD | VMF_MR | VMF_PF | VMF_IO | VMF_DE | VMF_DD },
	{ 0x7fb90215b000, 0x7fb90215d000, VMA_VDSO,
	  VMF_RD | VMF_EX | VMF_MR | VMF_MW | VMF_ME | VMF_DE },
	{ 0x7ffddd262000, 0x7ffddd283000, VMA_STACK, ANON_RW | VMF_GD },
	{ 0xffffffffff600000, 0xffffffffff601000, VMA_VSYSCALL, VMF_EX },
};

static void test_smaps_fixture(void **state)
{
	struct vma_list l;
	const struct vma *v;

	(void)state;
	assert_int_equal(proc_parse_smaps_buf("fx", fx_smaps, strlen(fx_smaps), &l), 0);
	assert_int_equal(l.n, sizeof(fx_vmas) / sizeof(fx_vmas[0]));
	for (size_t i = 0; i < l.n; i++) {
		v = &l.v[i];
		assert_int_equal(v->start, fx_vmas[i].start);
		assert_int_equal(v->end, fx_vmas[i].end);
		assert_int_equal(v->size, v->end - v->start);
		assert_int_equal(v->kind, fx_vmas[i].kind);
		assert_int_equal(v->flags, fx_vmas[i].flags);
		assert_string_equal(v->flags_unknown, "");
		assert_int_equal(v->kernel_page_size, 4 * KB);
		assert_int_equal(v->mmu_page_size, 4 * KB);
		assert_int_equal(v->swap, 0);
		assert_int_equal(v->pkey, -1);
		assert_int_equal(v->prot & PROT_READ, !!(v->flags & VMF_RD) * PROT_READ);
		assert_int_equal(v->prot & PROT_WRITE, !!(v->flags & VMF_WR) * PROT_WRITE);
		assert_int_equal(v->prot & PROT_EXEC, !!(v->flags & VMF_EX) * PROT_EXEC);
		assert_int_equal(v->shared, !!(v->flags & VMF_MS));
		assert_int_equal(v->name == NULL, v->kind == VMA_ANON);
		assert_int_equal(vma_is_vdso_like(v), v->kind == VMA_VVAR || v->kind == VMA_VDSO ||
							  v->kind == VMA_VVAR_VCLOCK ||
							  v->kind == VMA_VSYSCALL);
	}

	/* the executable's data: every column and size */
	v = &l.v[0];
	assert_int_equal(v->prot, PROT_READ | PROT_WRITE);
	assert_int_equal(v->pgoff, 0x3000);
	assert_int_equal(major(v->dev), 0xfe);
	assert_int_equal(minor(v->dev), 0);
	assert_int_equal(v->inode, 10953128);
	assert_string_equal(v->name, "/tmp/pcap/cap");
	assert_false(v->deleted);
	assert_int_equal(v->rss, 4 * KB);
	assert_int_equal(v->pss, 4 * KB);
	assert_int_equal(v->pss_dirty, 4 * KB);
	assert_int_equal(v->private_dirty, 4 * KB);
	assert_int_equal(v->referenced, 4 * KB);
	assert_int_equal(v->anonymous, 4 * KB);
	assert_int_equal(v->thp_eligible, 0);
	assert_false(vma_is_anon_private(v));

	v = &l.v[1]; /* [heap] */
	assert_string_equal(v->name, "[heap]");
	assert_int_equal(v->rss, 8 * KB);
	assert_int_equal(v->anonymous, 8 * KB);
	assert_true(vma_is_anon_private(v));

	v = &l.v[2]; /* MAP_SHARED|MAP_ANONYMOUS */
	assert_string_equal(v->name, "/dev/zero (deleted)");
	assert_true(v->deleted);
	assert_int_equal(vma_name_len(v), strlen("/dev/zero"));
	assert_int_equal(v->dev, makedev(0, 1));
	assert_int_equal(v->inode, 1028);
	assert_true(vma_is_anon_shared(v));
	assert_false(vma_is_anon_private(v));
	assert_false(vma_is_memfd(v));

	v = &l.v[3];
	assert_true(vma_is_anon_private(v));
	assert_int_equal(vma_name_len(v), 0);
	assert_int_equal(v->inode, 0);

	v = &l.v[10]; /* MAP_LOCKED, touched */
	assert_int_equal(v->rss, 4 * KB);
	assert_int_equal(v->locked, 4 * KB);
	assert_int_equal(v->private_dirty, 4 * KB);

	v = &l.v[12]; /* the PROT_NONE page */
	assert_int_equal(v->prot, 0);
	assert_true(vma_is_anon_private(v));

	v = &l.v[13]; /* libc text */
	assert_int_equal(v->prot, PROT_READ | PROT_EXEC);
	assert_int_equal(v->pgoff, 0x26000);
	assert_int_equal(v->inode, 332835);
	assert_int_equal(v->rss, 1040 * KB);
	assert_int_equal(v->pss, 151 * KB);
	assert_int_equal(v->shared_clean, 1040 * KB);
	assert_int_equal(v->referenced, 1040 * KB);
	assert_int_equal(v->anonymous, 0);

	v = &l.v[14]; /* a deleted file mapped MAP_SHARED, PROT_READ */
	assert_string_equal(v->name, "/tmp/pcap/gone (deleted)");
	assert_true(v->deleted);
	assert_true(v->shared);
	assert_int_equal(vma_name_len(v), strlen("/tmp/pcap/gone"));
	assert_false(vma_is_anon_shared(v));

	v = &l.v[15]; /* text alone cannot tell a live "x (deleted)" from a deleted "x" */
	assert_string_equal(v->name, "/tmp/pcap/x (deleted)");
	assert_true(v->deleted);
	assert_int_equal(v->pgoff, 0x1000);

	v = &l.v[16];
	assert_string_equal(v->name, "/memfd:my mem (deleted)");
	assert_true(vma_is_memfd(v));
	assert_false(vma_is_anon_shared(v));
	assert_int_equal(v->inode, 1026);
	assert_int_equal(v->rss, 4 * KB);
	assert_int_equal(v->private_dirty, 4 * KB);

	assert_string_equal(l.v[17].name, "[vvar]");
	assert_string_equal(l.v[18].name, "[vvar_vclock]");
	assert_string_equal(l.v[19].name, "[vdso]");
	assert_int_equal(l.v[19].rss, 4 * KB);
	assert_true(vma_is_anon_private(&l.v[20]));
	assert_int_equal(l.v[20].rss, 24 * KB);
	assert_int_equal(l.v[21].prot, PROT_EXEC);
	vma_list_free(&l);
	assert_null(l.v);
	assert_int_equal(l.n, 0);
	vma_list_free(&l); /* twice is fine */
}

/* Kinds this kernel cannot show (CONFIG_ANON_VMA_NAME is off), a swap figure (no swap is on),
 * pkeys, flags of other kernels, and a field we do not know. Built from real blocks. */
#define CRAFT_SIZES(sz, swap)                \
	"Size:                  " sz " kB\n" \
	"KernelPageSize:        4 kB\n"      \
	"MMUPageSize:           4 kB\n"      \
	"Rss:                   4 kB\n"      \
	"Anonymous:             4 kB\n"      \
	"NewField:             12 kB\n"      \
	"Swap:                  " swap " kB\n"

/* clang-format off */
static const char craft_smaps[] =
	"7fb901e50000-7fb901e52000 rw-p 00000000 00:00 0                          [anon:my buf]\n"
	CRAFT_SIZES("8", "4")
	"ProtectionKey:         3\n"
	"VmFlags: rd wr mr mw me zz ac q1 sd \n"
	"7fb901e52000-7fb901e53000 rw-s 00000000 00:01 7                          [anon_shmem:shm]\n"
	CRAFT_SIZES("4", "0")
	"VmFlags: rd wr sh mr mw me ms \n"
	"7fb901e53000-7fb901e55000 rw-s 00000000 00:01 0                          /SYSV0000abcd (deleted)\n"
	CRAFT_SIZES("8", "0")
	"VmFlags: rd wr sh mr mw me ms \n"
	"7fb901e55000-7fb901e56000 rw-p 00000000 00:00 0                          [stack:123]\n"
	CRAFT_SIZES("4", "0")
	"VmFlags: \n"
	"7fb901e56000-7fb901e57000 r--p 00000000 08:11 99                         /a b/[c] d\n"
	CRAFT_SIZES("4", "0")
	"VmFlags: rd mr mw me \n";
/* clang-format on */

static void test_smaps_crafted(void **state)
{
	struct vma_list l;
	const char *an;
	size_t len;

	(void)state;
	assert_int_equal(proc_parse_smaps_buf("craft", craft_smaps, strlen(craft_smaps), &l), 0);
	assert_int_equal(l.n, 5);
	assert_int_equal(l.v[0].kind, VMA_ANON_NAMED);
	an = vma_anon_name(&l.v[0], &len);
	assert_non_null(an);
	assert_int_equal(len, 6);
	assert_memory_equal(an, "my buf", 6);
	assert_true(vma_is_anon_private(&l.v[0]));
	assert_int_equal(l.v[0].swap, 4 * KB);
	assert_int_equal(l.v[0].pkey, 3);
	assert_int_equal(l.v[0].flags, ANON_RW | VMF_SD);
	assert_string_equal(l.v[0].flags_unknown, "zz q1");
	assert_int_equal(l.v[1].kind, VMA_ANON_SHMEM_NAMED);
	an = vma_anon_name(&l.v[1], &len);
	assert_int_equal(len, 3);
	assert_memory_equal(an, "shm", 3);
	assert_true(vma_is_anon_shared(&l.v[1]));
	assert_true(vma_is_sysv_shm(&l.v[2]));
	assert_false(vma_is_sysv_shm(&l.v[1]));
	assert_null(vma_anon_name(&l.v[2], &len));
	assert_int_equal(l.v[3].kind, VMA_SPECIAL_OTHER);
	assert_int_equal(l.v[3].flags, 0);
	assert_int_equal(l.v[4].kind, VMA_FILE);
	assert_string_equal(l.v[4].name, "/a b/[c] d");
	assert_int_equal(l.v[4].dev, makedev(8, 0x11));
	vma_list_free(&l);

	/* no VMA at all (a kernel thread or a zombie) */
	assert_int_equal(proc_parse_smaps_buf("empty", "", 0, &l), 0);
	assert_int_equal(l.n, 0);
}

#define HDR  "7fb901e50000-7fb901e52000 rw-p 00000000 00:00 0 \n"
#define BODY "Size: 8 kB\nRss: 0 kB\nAnonymous: 0 kB\nSwap: 0 kB\nVmFlags: rd \n"

static const struct bad_text {
	const char *name, *text, *where;
} bad_smaps[] = {
	{ "s1", "7fb901e50000-7fb901e52000 rwzp 00000000 00:00 0 \n" BODY, "s1:1: bad perm" },
	{ "s2", "7fb901e52000-7fb901e50000 rw-p 00000000 00:00 0 \n" BODY, "s2:1: empty or inv" },
	{ "s3", HDR "Size: 8 kB\nRss: 0 kB\nAnonymous: 0 kB\nSwap: 0 kB\n",
	  "s3:1: VMA 7fb901e50000-7fb901e52000 has no VmFlags" },
	{ "s4", HDR "Size: 4 kB\nRss: 0 kB\nAnonymous: 0 kB\nSwap: 0 kB\nVmFlags: rd \n",
	  "s4:1: VMA" },
	{ "s5", HDR "Size: 8 kB\nRss: 0 kB\nAnonymous: 0 kB\nSwap: 0 kB\nVmFlags: rdx \n",
	  "s5:6: bad VmFlags" },
	{ "s6", "Rss: 0 kB\n" HDR BODY, "s6:1: attribute line before" },
	{ "s7", HDR BODY "7fb901e53000-7fb901e54000 rw-p 00000000 00:00 0 ", "s7:7: no newline" },
	{ "s8", HDR "Size: 8 kB\nRss: 0\0 kB\n", "s8:3: NUL byte" },
	{ "s9", HDR BODY HDR BODY, "s9:7: VMA 7fb901e50000-7fb901e52000 overlaps" },
	{ "s10", HDR "Rss: 0 kB\n" BODY, "s10:4: Rss given twice" },
	{ "s11", HDR "Size: 8 MB\n", "s11:2: bad value of Size" },
	{ "s12", HDR "garbage here\n", "s12:2: neither a VMA header" },
	{ "s13", "7fb901e50000-7fb901e52000 rw-p 00000000 1000:00 0 \n" BODY, "s13:1: bad device" },
	{ "s14", "7fb901e50000-7fb901e52000 rw-p 00000000 00:00 0   [heap\n" BODY,
	  "s14:1: special name" },
	{ "s15", HDR "Size: 99999999999999999999 kB\n", "s15:2: bad value of Size" },
	{ "s16", "7fb901e50000-7fb901e52000 rw-p 00000000 00:00 0\n" BODY, "s16:1: bad inode" },
	{ "s17", "7fb901e50000-7fb901e52000 rw-p 0000000g 00:00 0 \n" BODY, "s17:1: bad offset" },
	{ "s18", "1ffffffffffffffff-2 rw-p 00000000 00:00 0 \n" BODY, "s18:1: bad address" },
};

static void test_smaps_malformed(void **state)
{
	struct vma_list l;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_smaps) / sizeof(bad_smaps[0]); i++) {
		const struct bad_text *b = &bad_smaps[i];
		/* the exact length: s8 holds a NUL byte */
		size_t len = strlen(b->text);

		if (strcmp(b->name, "s8") == 0)
			len += strlen(b->text + len + 1) + 1;
		l.n = 99;
		assert_int_equal(proc_parse_smaps_buf(b->name, b->text, len, &l), -EINVAL);
		assert_null(l.v);
		assert_int_equal(l.n, 0);
		if (!log_has(b->where))
			fail_msg("%s: the log lacks \"%s\"", b->name, b->where);
	}
}

/* ---- stat -------------------------------------------------------------------------------- */

/* fields 4-28, then 29-52 */
#define STAT_HEAD  "1 (x) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0 1 0 0 0"
#define STAT_TAIL0 " 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0"
#define STAT_TAIL  STAT_TAIL0 "\n"

static void test_stat_fixture(void **state)
{
	struct proc_stat s;

	(void)state;
	assert_int_equal(proc_parse_stat_buf("fx", fx_stat, strlen(fx_stat), &s), 0);
	assert_int_equal(s.pid, 8955);
	assert_string_equal(s.comm, "a)b c\n\\d\te");
	assert_int_equal(s.state, 'R');
	assert_int_equal(s.ppid, 8953);
	assert_int_equal(s.pgrp, 8953);
	assert_int_equal(s.session, 4049);
	assert_int_equal(s.tty_nr, 0);
	assert_int_equal(s.tpgid, -1);
	assert_int_equal(s.flags, 4194304);
	assert_int_equal(s.minflt, 104);
	assert_int_equal(s.cminflt + s.majflt + s.cmajflt + s.utime + s.stime, 0);
	assert_int_equal(s.cutime, 0);
	assert_int_equal(s.priority, 20);
	assert_int_equal(s.nice, 0);
	assert_int_equal(s.num_threads, 1);
	assert_int_equal(s.starttime, 42784);
	assert_int_equal(s.vsize, 2560000);
	assert_int_equal(s.rss, 311);
	assert_int_equal(s.rsslim, UINT64_MAX);
	assert_int_equal(s.start_code, 93967314665472ULL);
	assert_int_equal(s.end_code, 93967314666469ULL);
	assert_int_equal(s.start_stack, 140733655442160ULL);
	assert_int_equal(s.kstkesp + s.kstkeip + s.wchan, 0);
	assert_int_equal(s.signal | s.blocked | s.sigignore | s.sigcatch, 0);
	assert_int_equal(s.exit_signal, 17);
	assert_int_equal(s.processor, 0);
	assert_int_equal(s.rt_priority + s.policy, 0);
	assert_int_equal(s.start_data, 93967314677200ULL);
	assert_int_equal(s.end_data, 93967314677872ULL);
	assert_int_equal(s.start_brk, 93967756656640ULL);
	assert_int_equal(s.arg_start, 140733655448222ULL);
	assert_int_equal(s.arg_end, 140733655448229ULL);
	assert_int_equal(s.env_start, 140733655448229ULL);
	assert_int_equal(s.env_end, 140733655449585ULL);
	assert_int_equal(s.exit_code, 0);

	assert_int_equal(proc_parse_stat_buf("fxz", fx_zombie_stat, strlen(fx_zombie_stat), &s), 0);
	assert_string_equal(s.comm, "python3");
	assert_int_equal(s.state, 'Z');
	assert_int_equal(s.flags, 4227148);
	assert_int_equal(s.vsize, 0);
	assert_int_equal(s.start_code, 0);
	assert_int_equal(s.sigignore, 16781312);
	assert_int_equal(s.sigcatch, 2);
	assert_int_equal(s.processor, 1);
	assert_int_equal(s.exit_code, 768);

	/* a field of a future kernel is accepted */
	static const char more[] = STAT_HEAD STAT_TAIL0 " -7\n";
	assert_int_equal(proc_parse_stat_buf("more", more, strlen(more), &s), 0);
	assert_int_equal(s.exit_signal, 17);
	assert_int_equal(s.exit_code, 0);
}

static const struct bad_text bad_stat[] = {
	{ "t1", "1 (x S 0\n", "t1:1: no ')'" },
	{ "t2",
	  "1 (0123456789012345678901234567890123456789012345678901234567890123456789) S" STAT_TAIL,
	  "t2:1: command name of 70 bytes" },
	{ "t3", "1 (x) 5 0 1 1 0 -1" STAT_TAIL, "t3:1: bad state" },
	{ "t4", STAT_HEAD "\n", "t4:1: bad field 29" },
	{ "t5", STAT_HEAD " x" STAT_TAIL, "t5:1: bad field 29" },
	{ "t6", STAT_HEAD STAT_TAIL0 " junk\n", "t6:1: bad field 53" },
	{ "t7", "-1 (x) S" STAT_TAIL, "t7:1: bad pid" },
	{ "t8", STAT_HEAD STAT_TAIL0, "t8:1: junk or no newline" },
	{ "t11", STAT_HEAD STAT_TAIL "x", "t11:1: junk or no newline" },
	{ "t9", "1 (x) S 0 1 1 0 -1 99999999999" STAT_TAIL, "t9:1: bad field 9" },
};

static void test_stat_malformed(void **state)
{
	struct proc_stat s;
	char nul[] = "1 (x\0) S 0\n";

	(void)state;
	for (size_t i = 0; i < sizeof(bad_stat) / sizeof(bad_stat[0]); i++) {
		const struct bad_text *b = &bad_stat[i];

		assert_int_equal(proc_parse_stat_buf(b->name, b->text, strlen(b->text), &s),
				 -EINVAL);
		if (!log_has(b->where))
			fail_msg("%s: the log lacks \"%s\"", b->name, b->where);
	}
	assert_int_equal(proc_parse_stat_buf("t10", nul, sizeof(nul) - 1, &s), -EINVAL);
	assert_true(log_has("t10:1: NUL byte"));
}

/* ---- status ------------------------------------------------------------------------------ */

static void test_status_fixture(void **state)
{
	struct proc_status s;

	(void)state;
	assert_int_equal(proc_parse_status_buf("fx", fx_status, strlen(fx_status), &s), 0);
	assert_string_equal(s.name, "a)b c\n\\d\te");
	assert_int_equal(s.umask, 022);
	assert_int_equal(s.state, 'R');
	assert_int_equal(s.tgid, 8955);
	assert_int_equal(s.pid, 8955);
	assert_int_equal(s.ppid, 8953);
	assert_int_equal(s.tracer_pid, 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(s.uid[i], 0);
		assert_int_equal(s.gid[i], 0);
	}
	assert_int_equal(s.n_groups, 0);
	assert_null(s.groups);
	assert_int_equal(s.ns_levels, 1);
	assert_int_equal(s.ns_tgid[0], 8955);
	assert_int_equal(s.ns_pid[0], 8955);
	assert_int_equal(s.ns_pgid[0], 8953);
	assert_int_equal(s.ns_sid[0], 4049);
	assert_int_equal(s.threads, 1);
	assert_int_equal(s.sigq_cur, 1);
	assert_int_equal(s.sigq_max, 96365);
	assert_int_equal(s.sig_pnd | s.shd_pnd | s.sig_blk | s.sig_ign | s.sig_cgt, 0);
	assert_int_equal(s.cap_inh, 0);
	assert_int_equal(s.cap_prm, 0x1fffeffffffULL);
	assert_int_equal(s.cap_eff, 0x1fffeffffffULL);
	assert_int_equal(s.cap_bnd, 0x1fffeffffffULL);
	assert_int_equal(s.cap_amb, 0);
	assert_int_equal(s.no_new_privs, 0);
	assert_int_equal(s.seccomp, 0);
	assert_int_equal(s.seccomp_filters, 0);
	proc_status_free(&s);

	assert_int_equal(
	    proc_parse_status_buf("fxz", fx_zombie_status, strlen(fx_zombie_status), &s), 0);
	assert_int_equal(s.umask, -1);
	assert_int_equal(s.state, 'Z');
	assert_int_equal(s.sig_ign, 0x1001000);
	assert_int_equal(s.sig_cgt, 2);
	proc_status_free(&s);
}

#define ST_IDS                                                                                 \
	"State:\tS (sleeping)\nTgid:\t7\nPid:\t8\nPPid:\t1\nTracerPid:\t3\nUid:\t1\t2\t3\t4\n" \
	"Gid:\t5\t6\t7\t4294967295\n"
#define ST_NS  "NStgid:\t70\t7\nNSpid:\t80\t8\nNSpgid:\t60\t0\nNSsid:\t50\t1\n"
#define ST_SIG "Threads:\t2\nSigQ:\t3/100\nSigPnd:\t1\nShdPnd:\t2\nSigBlk:\t200\nSigIgn:\t1000\n"
#define ST_CAP                                                                                    \
	"SigCgt:\tffffffffffffffff\nCapInh:\t1\nCapPrm:\t2\nCapEff:\t3\nCapBnd:\t4\nCapAmb:\t5\n" \
	"NoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t3\nUmask:\t0777\n"

static const char craft_status[] =
    "Name:\t x\\\\\n" ST_IDS "Groups:\t5 100 65534 \n" ST_NS ST_SIG ST_CAP;

static void test_status_crafted(void **state)
{
	struct proc_status s;

	(void)state;
	assert_int_equal(proc_parse_status_buf("craft", craft_status, strlen(craft_status), &s), 0);
	assert_string_equal(s.name, " x\\");
	assert_int_equal(s.state, 'S');
	assert_int_equal(s.tracer_pid, 3);
	assert_int_equal(s.uid[3], 4);
	assert_int_equal(s.gid[3], UINT32_MAX);
	assert_int_equal(s.n_groups, 3);
	assert_int_equal(s.groups[0], 5);
	assert_int_equal(s.groups[1], 100);
	assert_int_equal(s.groups[2], 65534);
	assert_int_equal(s.ns_levels, 2);
	assert_int_equal(s.ns_tgid[1], 7);
	assert_int_equal(s.ns_pid[0], 80);
	assert_int_equal(s.ns_pgid[1], 0);
	assert_int_equal(s.ns_sid[1], 1);
	assert_int_equal(s.sig_blk, 0x200);
	assert_int_equal(s.sig_cgt, UINT64_MAX);
	assert_int_equal(s.cap_amb, 5);
	assert_int_equal(s.seccomp, 2);
	assert_int_equal(s.seccomp_filters, 3);
	assert_int_equal(s.umask, 0777);
	proc_status_free(&s);
	assert_null(s.groups);
}

#define ST_REST "Groups:\t \n" ST_NS ST_SIG ST_CAP

static const struct bad_text bad_status[] = {
	{ "u1",
	  "Name:\tx\n"
	  "State:\tS (sleeping)\nTgid:\t7\n",
	  "u1:3: no Pid line" },
	{ "u2", "Name:\tx\\t\n" ST_IDS ST_REST, "u2:1: bad escape" },
	{ "u3", "Name:\tx\nUid:\t1\t2\t3\n", "u3:2: bad Uid" },
	{ "u4", "Name:\tx\nNStgid:\t1\t2\nNSpid:\t1\n", "u4:3: NSpid has 1 levels, not 2" },
	{ "u5", "Name:\tx\nSigQ:\t3\n", "u5:2: bad SigQ" },
	{ "u6", "Name:\tx\nPid:\t1\nPid:\t1\n", "u6:3: Pid given twice" },
	{ "u7", "Name:\tx\nUmask:\t0999\n", "u7:2: junk after the value of Umask" },
	{ "u8", "Name:\t0123456789012345678901234567890123456789012345678901234567890123456789\n",
	  "u8:1: Name is too long" },
	{ "u9", "Name:\tx\nSigBlk:\t00g0\n", "u9:2: junk after the value of SigBlk" },
	{ "u10", "Name:\tx\nno colon here\n", "u10:2: not a 'Key: value'" },
	{ "u11", "Name:\tx\nGroups:\t1 -2 \n", "u11:2: bad Groups" },
	{ "u12", "Name:\tx\nState:\t(sleeping)\n", "u12:2: bad State" },
	{ "u13", "Name:\tx\nThreads:\t-1\n", "u13:2: bad Threads" },
	{ "u14",
	  "Name:\tx\nNSpid:\t1\t2\t3\t4\t5\t6\t7\t8\t9\t10\t11\t12\t13\t14\t15\t16\t17\t18\t19"
	  "\t20\t21\t22\t23\t24\t25\t26\t27\t28\t29\t30\t31\t32\t33\n",
	  "u14:2: bad NSpid" },
};

static void test_status_malformed(void **state)
{
	struct proc_status s;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_status) / sizeof(bad_status[0]); i++) {
		const struct bad_text *b = &bad_status[i];

		assert_int_equal(proc_parse_status_buf(b->name, b->text, strlen(b->text), &s),
				 -EINVAL);
		assert_null(s.groups);
		if (!log_has(b->where))
			fail_msg("%s: the log lacks \"%s\"", b->name, b->where);
	}
}

/* ---- fdinfo ------------------------------------------------------------------------------ */

static void test_fdinfo_fixture(void **state)
{
	struct proc_fdinfo fi;
	const char *v;

	(void)state;
	assert_int_equal(proc_parse_fdinfo_buf("f", fx_fdinfo_file, strlen(fx_fdinfo_file), &fi),
			 0);
	assert_int_equal(fi.pos, 0);
	assert_int_equal(fi.flags, 0100002); /* O_LARGEFILE (0 in userspace here) | O_RDWR */
	assert_int_equal(fi.mnt_id, 27);
	assert_int_equal(fi.ino, 10953124);
	assert_int_equal(fi.n_lines, 0);
	assert_null(proc_fdinfo_value(&fi, "pos", 0));
	proc_fdinfo_free(&fi);

	assert_int_equal(
	    proc_parse_fdinfo_buf("e", fx_fdinfo_eventfd, strlen(fx_fdinfo_eventfd), &fi), 0);
	assert_int_equal(fi.flags, O_NONBLOCK | O_RDWR);
	assert_int_equal(fi.ino, 1038);
	assert_int_equal(fi.n_lines, 3);
	assert_string_equal(proc_fdinfo_value(&fi, "eventfd-count", 0), "5");
	assert_string_equal(proc_fdinfo_value(&fi, "eventfd-id", 0), "1");
	assert_string_equal(proc_fdinfo_value(&fi, "eventfd-semaphore", 0), "0");
	assert_null(proc_fdinfo_value(&fi, "eventfd-count", 1));
	assert_null(proc_fdinfo_value(&fi, "eventfd", 0));
	proc_fdinfo_free(&fi);

	assert_int_equal(proc_parse_fdinfo_buf("p", fx_fdinfo_epoll, strlen(fx_fdinfo_epoll), &fi),
			 0);
	assert_int_equal(proc_fdinfo_count(&fi, "tfd"), 1);
	v = proc_fdinfo_value(&fi, "tfd", 0);
	assert_string_equal(v, "7 events:       19 data:             1234  pos:0 ino:40e sdev:10");
	proc_fdinfo_free(&fi);

	assert_int_equal(
	    proc_parse_fdinfo_buf("t", fx_fdinfo_timerfd, strlen(fx_fdinfo_timerfd), &fi), 0);
	assert_int_equal(fi.n_lines, 5);
	assert_string_equal(proc_fdinfo_value(&fi, "clockid", 0), "1");
	assert_string_equal(proc_fdinfo_value(&fi, "settime flags", 0), "00");
	assert_string_equal(proc_fdinfo_value(&fi, "it_value", 0), "(99, 999449515)");
	assert_string_equal(proc_fdinfo_value(&fi, "it_interval", 0), "(1, 0)");
	proc_fdinfo_free(&fi);

	assert_int_equal(
	    proc_parse_fdinfo_buf("i", fx_fdinfo_inotify, strlen(fx_fdinfo_inotify), &fi), 0);
	assert_int_equal(fi.flags, 0);
	v = proc_fdinfo_value(&fi, "inotify wd", 0);
	assert_non_null(v);
	assert_int_equal(strncmp(v, "1 ino:3c51a sdev:fe00000 mask:300", 33), 0);
	proc_fdinfo_free(&fi);

	assert_int_equal(proc_parse_fdinfo_buf("u", fx_fdinfo_uffd, strlen(fx_fdinfo_uffd), &fi),
			 0);
	assert_int_equal(fi.flags, O_CLOEXEC | O_NONBLOCK);
	assert_string_equal(proc_fdinfo_value(&fi, "API", 0), "aa:80000000:80000000000001ff");
	assert_string_equal(proc_fdinfo_value(&fi, "pending", 0), "0");
	proc_fdinfo_free(&fi);

	assert_int_equal(proc_parse_fdinfo_buf("d", fx_fdinfo_pidfd, strlen(fx_fdinfo_pidfd), &fi),
			 0);
	assert_int_equal(fi.mnt_id, 4);
	assert_string_equal(proc_fdinfo_value(&fi, "Pid", 0), "5497");
	assert_string_equal(proc_fdinfo_value(&fi, "NSpid", 0), "5497");
	proc_fdinfo_free(&fi);
	assert_null(fi.text);
}

#define FD_HEAD "pos:\t-5\nflags:\t02\nmnt_id:\t1\nino:\t2\n"

static const struct bad_text bad_fdinfo[] = {
	{ "d1", "flags:\t02\npos:\t0\n", "d1:1: expected the pos line" },
	{ "d2", "pos:\t0\nflags:\t0100009\nmnt_id:\t1\nino:\t2\n", "d2:2: junk after flags" },
	{ "d3", "pos:\t0\nflags:\t02\n", "d3:2: no mnt_id line" },
	{ "d4", FD_HEAD "no colon\n", "d4:5: not a 'key: value'" },
	{ "d5", FD_HEAD ": empty key\n", "d5:5: not a 'key: value'" },
	{ "d6", FD_HEAD "tfd: 1", "d6:5: no newline" },
	{ "d7", "pos:\t99999999999999999999\n", "d7:1: bad pos" },
	{ "d8", "pos: 0\n", "d8:1: expected the pos line" },
	{ "d9", "pos:\t0\nflags:\t02\nmnt_id:\t1\nino:\t-2\n", "d9:4: bad ino" },
};

static void test_fdinfo_malformed(void **state)
{
	struct proc_fdinfo fi;

	(void)state;
	assert_int_equal(proc_parse_fdinfo_buf("ok", FD_HEAD, strlen(FD_HEAD), &fi), 0);
	assert_int_equal(fi.pos, -5);
	proc_fdinfo_free(&fi);
	for (size_t i = 0; i < sizeof(bad_fdinfo) / sizeof(bad_fdinfo[0]); i++) {
		const struct bad_text *b = &bad_fdinfo[i];

		assert_int_equal(proc_parse_fdinfo_buf(b->name, b->text, strlen(b->text), &fi),
				 -EINVAL);
		assert_null(fi.lines);
		assert_null(fi.text);
		if (!log_has(b->where))
			fail_msg("%s: the log lacks \"%s\"", b->name, b->where);
	}
}

/* ---- auxv and children ------------------------------------------------------------------- */

static void test_auxv_buf(void **state)
{
	uint64_t w[64], bad[6] = { 6, 4096, 0, 0, 3, 1 };
	size_t n;

	(void)state;
	assert_int_equal(proc_parse_auxv_buf("a", fx_auxv, sizeof(fx_auxv), w, 64, &n), 0);
	assert_int_equal(n, 46);
	assert_memory_equal(w, fx_auxv, sizeof(fx_auxv));
	assert_int_equal(w[n - 2], 0);
	assert_int_equal(proc_parse_auxv_buf("a1", fx_auxv, sizeof(fx_auxv), w, 44, &n), -E2BIG);
	assert_int_equal(n, 0);
	assert_true(log_has("a1: 46 words do not fit in 44"));
	assert_int_equal(proc_parse_auxv_buf("a2", fx_auxv, 8, w, 64, &n), -EINVAL);
	assert_int_equal(proc_parse_auxv_buf("a3", fx_auxv, 0, w, 64, &n), -EINVAL);
	assert_int_equal(proc_parse_auxv_buf("a4", fx_auxv, sizeof(fx_auxv) - 16, w, 64, &n),
			 -EINVAL);
	assert_true(log_has("a4: does not end with AT_NULL"));
	assert_int_equal(proc_parse_auxv_buf("a5", bad, sizeof(bad), w, 64, &n), -EINVAL);
	assert_true(log_has("a5: AT_NULL at pair 1 of 3"));
}

static void test_children_buf(void **state)
{
	static const char *const bad[] = { "6333 6335", "12 x ", "0 ", "-5 ", " 12 ", "1  2 " };
	struct pid_list l;

	(void)state;
	assert_int_equal(proc_parse_children_buf("c", fx_children, strlen(fx_children), &l), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.v[0], 6333);
	assert_int_equal(l.v[1], 6335);
	pid_list_free(&l);
	assert_int_equal(proc_parse_children_buf("c", "", 0, &l), 0);
	assert_int_equal(l.n, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(proc_parse_children_buf("cb", bad[i], strlen(bad[i]), &l),
				 -EINVAL);
		assert_null(l.v);
	}
	assert_true(log_has("cb:1: bad pid at offset 9"));
	assert_true(log_has("cb:1: bad pid at offset 3"));
}

/* /proc/PID/autogroup: an autogroup's nice; nothing at all for the root autogroup (a task with
 * no setsid() in its ancestry since boot, as under a CI runner that never made a session). */
static void test_autogroup_buf(void **state)
{
	static const char *const bad[] = { "/autogroup-1 nice 20\n", "/autogroup- nice 0",
					   "/autogroup-7 nice 3 ", "autogroup-7 nice 3", "\n\n x" };
	bool root;
	int nice;

	(void)state;
	assert_int_equal(
	    proc_parse_autogroup_buf("a", "/autogroup-11228 nice -5\n", 25, &nice, &root), 0);
	assert_int_equal(nice, -5);
	assert_false(root);
	assert_int_equal(proc_parse_autogroup_buf("a", "", 0, &nice, &root), 0);
	assert_int_equal(nice, 0);
	assert_true(root);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(
		    proc_parse_autogroup_buf("ab", bad[i], strlen(bad[i]), &nice, &root), -EINVAL);
	assert_true(log_has("ab: unexpected content"));
}

/* VmFlags text <-> bits: the kernel's order, unknown mnemonics kept aside, bad tokens refused;
 * and text smaps printed comes back letter for letter. */
static void test_vmflags_text(void **state)
{
	/* as smaps printed them on 6.18 */
	static const char *const live[] = { "rd wr mr mw me dc ac", "rd wr mr mw me gu lo lf ac sl",
					    "rd wr mr mw me nr wf dd dp" };
	char unknown[VMA_FLAGS_UNKNOWN_MAX], buf[256];
	const char *why = NULL, *s = " rd wr gu lo lf ac zz sl ";
	uint64_t f;

	(void)state;
	assert_int_equal(vma_flags_from_text(s, s + strlen(s), &f, unknown, &why), 0);
	assert_int_equal(f, VMF_RD | VMF_WR | VMF_GU | VMF_LO | VMF_LF | VMF_AC | VMF_SL);
	assert_string_equal(unknown, "zz");
	vma_flags_to_text(f, buf, sizeof(buf));
	assert_string_equal(buf, "rd wr gu lo lf ac sl");
	vma_flags_to_text(f, buf, 9);
	assert_string_equal(buf, "rd wr gu");
	s = "rd wrx";
	assert_int_equal(vma_flags_from_text(s, s + strlen(s), &f, unknown, &why), -EINVAL);
	assert_ptr_equal(why, s + 3);
	for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++) {
		assert_int_equal(
		    vma_flags_from_text(live[i], live[i] + strlen(live[i]), &f, unknown, &why), 0);
		vma_flags_to_text(f, buf, sizeof(buf));
		assert_string_equal(buf, live[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smaps_fixture),
		cmocka_unit_test(test_smaps_crafted),
		cmocka_unit_test(test_smaps_malformed),
		cmocka_unit_test(test_vmflags_text),
		cmocka_unit_test(test_stat_fixture),
		cmocka_unit_test(test_stat_malformed),
		cmocka_unit_test(test_status_fixture),
		cmocka_unit_test(test_status_crafted),
		cmocka_unit_test(test_status_malformed),
		cmocka_unit_test(test_fdinfo_fixture),
		cmocka_unit_test(test_fdinfo_malformed),
		cmocka_unit_test(test_auxv_buf),
		cmocka_unit_test(test_children_buf),
		cmocka_unit_test(test_autogroup_buf),
		cmocka_unit_test_setup_teardown(test_proc_live, live_setup, live_teardown),
		cmocka_unit_test(test_proc_gone),
	};
	int fd = mkstemp(log_path), ret;

	if (fd < 0 || log_init(log_path, LOG_ERROR)) {
		perror("test_proc: log file");
		return 1;
	}
	close(fd);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	log_fini();
	unlink(log_path);
	return ret;
}
