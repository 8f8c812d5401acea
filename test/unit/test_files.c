/* test_files: the file part of dump and restore (dump-files.c, ghost.c,
 * restore-files*.c) against real processes, without the orchestrators.
 *
 * A child holds fds of every supported kind (/dev/null, a regular file with
 * a dup'ed and a separately opened fd, a deleted file and its dup, a
 * directory, /dev/zero) with a known cwd and umask; the dump side must write
 * exactly that into files.img, fdinfo-PID.img, fs-PID.img and ghost-1.img.
 * Children holding what is not supported must be refused with a message
 * naming pid, fd and target. The restore side (files_restore.c) opens the
 * images in this process and installs the fds in a real skeleton (skeleton.h)
 * through rsys; the skeleton's /proc entries must then show the dumped fd
 * table (shared descriptions, offsets, flags, contents of the deleted file),
 * cwd, root and umask. Changed files, damaged ghost images and taken ghost paths are
 * checked too, as are terminals with --shell-job (on a pty).
 * The restore tests need root (ptrace, chroot) and skip otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "criu-lite/dump/dump.h"
#include "criu-lite/kinds/ghost.h"
#include "criu-lite/log.h"
#include "files_fixture.h"
#include "util_fs.h"

unsigned char pattern_byte(size_t i)
{
	return (unsigned char)(i * 7 + 3 + i / 251);
}

char *path_in(const struct fx *f, const char *name)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s", f->dir, name) > 0);
	return p;
}

bool log_has(const struct fx *f, const char *s)
{
	return utest_log_has(f->log, s);
}

void truncate_log(const struct fx *f)
{
	assert_int_equal(truncate(f->log, 0), 0);
}

/* ---- children ------------------------------------------------------------------------ */

static void die(int code)
{
	_exit(code);
}

static void std_null(void)
{
	close(0);
	close(1);
	close(2);
	if (open("/dev/null", O_RDONLY) != 0 || open("/dev/null", O_WRONLY) != 1 ||
	    open("/dev/null", O_WRONLY) != 2)
		die(10);
}

/* The normal child: fds 0-9 as the header says, cwd f->dir, umask 027. */
void child_fds(const struct fx *f)
{
	char *reg = path_in(f, "reg"), *gone = path_in(f, "gone");
	unsigned char *pat = malloc(PATTERN_LEN);
	int fd;

	std_null();
	for (size_t i = 0; i < PATTERN_LEN; i++)
		pat[i] = pattern_byte(i);
	if (open(reg, O_RDWR | O_CLOEXEC) != 3 || lseek(3, 5, SEEK_SET) != 5 || dup(3) != 4 ||
	    open(reg, O_RDONLY) != 5)
		die(11);
	fd = open(gone, O_RDWR | O_CREAT | O_EXCL, 0640);
	if (fd != 6 || write(fd, pat, PATTERN_LEN) != PATTERN_LEN || unlink(gone) ||
	    lseek(fd, GONE_POS, SEEK_SET) != GONE_POS || dup(6) != 7)
		die(12);
	if (open(f->dir, O_RDONLY | O_DIRECTORY) != 8 ||
	    open("/dev/zero", O_RDWR | O_NONBLOCK) != 9)
		die(13);
	if (chdir(f->dir))
		die(14);
	umask(027);
	free(pat);
	free(reg);
	free(gone);
}

/* One unsupported thing on fd 3 (or in cwd), chosen by f->variant. */
static void child_refused(const struct fx *f)
{
	static const char pad[4096];
	char *big = path_in(f, "big"), *sub = path_in(f, "sub");
	int p[2], fd;

	std_null();
	switch (f->variant) {
	case 0: /* the write end of a packet-mode pipe (the read end does not show O_DIRECT) */
		if (pipe2(p, O_DIRECT) || p[0] != 3 || dup2(p[1], 3) != 3)
			die(20);
		break;
	case 1: /* a pidfd of a process outside the dumped tree (dump-pidfd.c) */
		if (syscall(SYS_pidfd_open, 1, 0) != 3)
			die(21);
		break;
	case 2: /* a hugetlb memfd (other memfds are supported: dump-shmem.c) */
		if (memfd_create("mf", MFD_HUGETLB) != 3)
			die(22);
		break;
	case 3: /* a pty without --shell-job */
		fd = posix_openpt(O_RDWR | O_NOCTTY);
		if (fd != 3 || grantpt(fd) || unlockpt(fd) ||
		    open(ptsname(fd), O_RDWR | O_NOCTTY) != 4)
			die(23);
		close(3);
		if (dup(4) != 3)
			die(23);
		close(4);
		break;
	case 4: /* a deleted file with more data than --ghost-limit (4096 here); its holes don't
		 * count, however long it is */
		fd = open(big, O_RDWR | O_CREAT | O_EXCL, 0600);
		if (fd != 3 || ftruncate(fd, 1 << 30) || pwrite(fd, pad, 4096, 0) != 4096 ||
		    pwrite(fd, pad, 1, 1 << 29) != 1 || unlink(big))
			die(24);
		break;
	case 5: /* a deleted root (a deleted cwd is supported: a ghost directory) */
		fd = open(f->dir, O_RDONLY | O_DIRECTORY);
		if (fd < 0 || mkdir(sub, 0700) || chdir(sub) || chroot(".") ||
		    unlinkat(fd, "sub", AT_REMOVEDIR) || close(fd))
			die(25);
		break;
	case 6: /* a pipe in O_ASYNC mode whose owner is outside the tree (leases are
		 * supported) */
		if (pipe(p) || p[0] != 3 || fcntl(3, F_SETOWN, 1) || fcntl(3, F_SETFL, O_ASYNC))
			die(26);
		break;
	case 7: /* a symlink opened O_PATH|O_NOFOLLOW, then unlinked (deleted FIFOs are
		 * supported) */
		if (symlink("target", big) || open(big, O_PATH | O_NOFOLLOW) != 3 || unlink(big))
			die(27);
		break;
	}
	free(big);
	free(sub);
}

/* The test's pty slave on fds 0-2 (one description); the test holds the master, whose
 * closing would remove the slave's /dev/pts node. */
static void child_pty(const struct fx *f)
{
	int s = open(f->pts, O_RDWR | O_NOCTTY);

	if (s < 0 || dup2(s, 0) != 0 || dup2(s, 1) != 1 || dup2(s, 2) != 2 || close(s))
		die(30);
}

/* Mappings: reg private read-only, and "mgone" shared writable, then deleted. */
static void child_maps(const struct fx *f)
{
	char *reg = path_in(f, "reg"), *mg = path_in(f, "mgone");
	int fd;
	char *p;

	std_null();
	fd = open(reg, O_RDONLY);
	if (fd < 0 || mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED)
		die(40);
	close(fd);
	fd = open(mg, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || ftruncate(fd, 8192))
		die(41);
	p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die(42);
	memcpy(p + 4096, "mapped", 6);
	close(fd);
	unlink(mg);
}

/* Fork a child that runs fn, closes every other fd, reports ready and pauses. */
void spawn(struct fx *f, child_fn fn)
{
	int p[2];
	char c = 0;

	assert_int_equal(pipe(p), 0);
	f->child = fork();
	assert_true(f->child >= 0);
	if (f->child == 0) {
		if (dup2(p[1], READY_FD) != READY_FD)
			die(2);
		syscall(SYS_close_range, 3, READY_FD - 1, 0);
		syscall(SYS_close_range, READY_FD + 1, ~0U, 0);
		fn(f);
		if (write(READY_FD, "R", 1) != 1)
			die(3);
		close(READY_FD);
		for (;;)
			pause();
	}
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(c, 'R');
	assert_int_equal(read(p[0], &c, 1), 0); /* READY_FD closed: the fd table is final */
	close(p[0]);
}

void kill_child(struct fx *f)
{
	if (f->child > 0) {
		kill(f->child, SIGKILL);
		waitpid(f->child, NULL, 0);
	}
	f->child = 0;
}

/* ---- dump helpers -------------------------------------------------------------------- */

void dump_init(struct fx *f)
{
	f->dc.sh = &f->sh;
	dump_files_free(&f->dc);
	dump_ptys_free(f->sh.ptys); /* the pass over the tree's pty masters */
	f->sh.ptys = NULL;
	vma_list_free(&f->dc.vmas);
	proc_status_free(&f->dc.status);
	memset(&f->dc, 0, sizeof(f->dc));
	memset(&f->sh, 0, sizeof(f->sh));
	f->dc.sh = &f->sh;
	f->sh.o = &f->o;
	f->sh.dir = f->img;
	f->dc.pid = f->dc.vpid = f->child;
	f->dc.st.pid = f->child; /* not seized: no threads */
	f->sh.tasks = &f->dc;	 /* the tree, for the fds that name a task */
	f->sh.nr_tasks = 1;
	f->sh.next_file_id = f->sh.next_ghost_id = 1;
	assert_int_equal(proc_parse_status(f->child, &f->dc.status), 0);
	assert_int_equal(proc_parse_vmas(f->child, &f->dc.vmas), 0);
}

void dump_all(struct fx *f)
{
	dump_init(f);
	assert_int_equal(dump_files(&f->dc), 0);
	assert_int_equal(dump_files_commit(&f->dc), 0);
	assert_null(f->sh.files);
}

size_t read_msgs(struct fx *f, enum img_kind kind, long id, ProtobufCMessage ***out)
{
	struct img_err err = { 0 };
	struct img_reader *r;
	ProtobufCMessage *m, **v = NULL;
	size_t n = 0;
	int ret;

	assert_int_equal(img_reader_open(f->img, kind, id, &r, &err), 0);
	while ((ret = img_read(r, &m, &err)) > 0) {
		v = realloc(v, (n + 1) * sizeof(*v));
		v[n++] = m;
	}
	assert_int_equal(ret, 0);
	img_reader_close(r);
	*out = v;
	return n;
}

void free_msgs(ProtobufCMessage **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		protobuf_c_message_free_unpacked(v[i], NULL);
	free(v);
}

static const FileEntry *file_by_id(FileEntry **files, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (files[i]->id == id)
			return files[i];
	fail_msg("file id %u is not in files.img", id);
	return NULL;
}

static uint32_t pattern_crc(void)
{
	unsigned char *pat = malloc(PATTERN_LEN);
	uint32_t crc;

	for (size_t i = 0; i < PATTERN_LEN; i++)
		pat[i] = pattern_byte(i);
	crc = img_crc32c(0, pat, PATTERN_LEN);
	free(pat);
	return crc;
}

/* ---- dump tests ---------------------------------------------------------------------- */

static void test_dump_fds(void **state)
{
	struct fx *f = *state;
	ProtobufCMessage **fm, **dm;
	FileEntry **files;
	FdinfoEntry **fdi;
	FsEntry *fs;
	struct img_err err = { 0 };
	char *reg = path_in(f, "reg"), *gone = path_in(f, "gone");
	size_t nf, nd;
	void *ghost;
	size_t glen;

	spawn(f, child_fds);
	dump_all(f);
	nd = read_msgs(f, IMG_FDINFO, f->child, &dm);
	nf = read_msgs(f, IMG_FILES, 0, &fm);
	fdi = (FdinfoEntry **)dm;
	files = (FileEntry **)fm;
	assert_int_equal(nd, 10);
	/* 0,1,2 null; 3=4 reg; 5 reg; 6=7 gone; 8 dir; 9 zero: 8 descriptions */
	assert_int_equal(nf, 8);
	for (size_t i = 0; i < nd; i++)
		assert_int_equal(fdi[i]->fd, i);
	for (size_t i = 1; i < nf; i++)
		assert_true(files[i]->id > files[i - 1]->id);
	assert_int_equal(fdi[3]->id, fdi[4]->id);
	assert_int_not_equal(fdi[3]->id, fdi[5]->id);
	assert_int_equal(fdi[6]->id, fdi[7]->id);
	assert_int_equal(fdi[3]->fd_flags, FD_CLOEXEC);
	assert_int_equal(fdi[4]->fd_flags, 0);

	for (int fd = 0; fd <= 2; fd++) {
		const FileEntry *e = file_by_id(files, nf, fdi[fd]->id);

		assert_int_equal(e->type, FILE_TYPE__FT_DEV);
		assert_string_equal(e->reg->path, "/dev/null");
		assert_int_equal(e->reg->rdev, makedev(1, 3));
		assert_int_equal(e->reg->flags & O_ACCMODE, fd ? O_WRONLY : O_RDONLY);
	}
	const FileEntry *r3 = file_by_id(files, nf, fdi[3]->id);
	assert_int_equal(r3->type, FILE_TYPE__FT_REG);
	assert_string_equal(r3->reg->path, reg);
	assert_int_equal(r3->reg->flags & (O_ACCMODE | O_CLOEXEC), O_RDWR);
	assert_int_equal(r3->reg->pos, 5);
	assert_int_equal(r3->reg->size, strlen(REG_TEXT));
	assert_true(S_ISREG(r3->reg->mode));
	assert_false(r3->reg->has_deleted && r3->reg->deleted);
	assert_int_equal(file_by_id(files, nf, fdi[5]->id)->reg->flags & O_ACCMODE, O_RDONLY);

	const FileEntry *g = file_by_id(files, nf, fdi[6]->id);
	assert_int_equal(g->type, FILE_TYPE__FT_REG);
	assert_string_equal(g->reg->path, gone);
	assert_true(g->reg->deleted);
	assert_int_equal(g->reg->ghost_id, 1);
	assert_int_equal(g->reg->size, PATTERN_LEN);
	assert_int_equal(g->reg->pos, GONE_POS);
	assert_int_equal(g->reg->mode & 07777, 0640);
	assert_int_equal(g->reg->ghost_crc32c, pattern_crc());
	assert_int_equal(utest_read_file(f->imgpath, "ghost-1.img", &ghost, &glen), 0);
	assert_int_equal(glen, PATTERN_LEN);
	assert_int_equal(img_crc32c(0, ghost, glen), pattern_crc());
	free(ghost);

	const FileEntry *d = file_by_id(files, nf, fdi[8]->id);
	assert_true(S_ISDIR(d->reg->mode));
	assert_string_equal(d->reg->path, f->dir);
	const FileEntry *z = file_by_id(files, nf, fdi[9]->id);
	assert_int_equal(z->type, FILE_TYPE__FT_DEV);
	assert_int_equal(z->reg->rdev, makedev(1, 5));
	assert_true(z->reg->flags & O_NONBLOCK);

	assert_int_equal(img_read_one(f->img, IMG_FS, f->child, (ProtobufCMessage **)&fs, &err), 0);
	assert_string_equal(fs->cwd, f->dir);
	assert_string_equal(fs->root, "/");
	assert_int_equal(fs->umask, 027);
	fs_entry__free_unpacked(fs, NULL);
	free_msgs(dm, nd);
	free_msgs(fm, nf);
	free(reg);
	free(gone);
}

static void test_dump_refusals(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *msg;
		int ret;
	} want[] = {
		{ "is a packet-mode pipe (O_DIRECT): not supported yet", -ENOTSUP },
		{ "fd 3: a pidfd of pid 1 (", -ENOTSUP },
		{ "fd 3: memfd \"mf\" is hugetlb memory (MFD_HUGETLB): not supported", -ENOTSUP },
		{ "fd 3: /dev/pts/", -ENOTSUP },
		{ "holds 8192 bytes of data (1024.0 MiB long): more than --ghost-limit (4096 bytes); "
		  "dump with a larger --ghost-limit",
		  -EFBIG },
		{ "was deleted: not supported", -ENOTSUP },
		{ "fd 3: its owner (F_SETOWN: process 1) is outside the dumped tree", -ENOTSUP },
		{ "is a deleted symbolic link: not supported", -ENOTSUP },
	};
	char msg[128], *big = path_in(f, "big");

	for (int v = 0; v < (int)(sizeof(want) / sizeof(want[0])); v++) {
		f->variant = v;
		f->o.ghost_limit = v == 4 ? 4096 : CLI_GHOST_LIMIT_DEFAULT;
		truncate_log(f);
		spawn(f, child_refused);
		dump_init(f);
		assert_int_equal(dump_files(&f->dc), want[v].ret);
		snprintf(msg, sizeof(msg), "pid %d", f->child);
		if (!log_has(f, want[v].msg) || !log_has(f, msg))
			fail_msg("variant %d: the log lacks \"%s\" for pid %d", v, want[v].msg,
				 f->child);
		if (v == 3)
			assert_true(log_has(f, "is a terminal: dump with --shell-job"));
		kill_child(f);
		assert_int_equal(utest_dir_entries(f->imgpath), 0); /* nothing written */
		unlink(big);
	}
	free(big);
}

static void test_dump_shell_job(void **state)
{
	struct fx *f = *state;
	ProtobufCMessage **fm, **dm;
	FdinfoEntry **fdi;
	const FileEntry *t;
	size_t nf, nd;

	f->ptm = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(f->ptm >= 0 && grantpt(f->ptm) == 0 && unlockpt(f->ptm) == 0);
	snprintf(f->pts, sizeof(f->pts), "%s", ptsname(f->ptm));
	spawn(f, child_pty);
	f->o.shell_job = true;
	dump_all(f);
	nd = read_msgs(f, IMG_FDINFO, f->child, &dm);
	nf = read_msgs(f, IMG_FILES, 0, &fm);
	fdi = (FdinfoEntry **)dm;
	assert_int_equal(nd, 3);
	assert_int_equal(nf, 1);
	assert_true(fdi[0]->id == fdi[1]->id && fdi[1]->id == fdi[2]->id);
	t = ((FileEntry **)fm)[0];
	assert_int_equal(t->type, FILE_TYPE__FT_TTY);
	assert_true(major(t->reg->rdev) >= 136 && major(t->reg->rdev) <= 143);
	assert_string_equal(t->reg->path, f->pts);
	free_msgs(dm, nd);
	free_msgs(fm, nf);
}

static void test_dump_mapped(void **state)
{
	struct fx *f = *state;
	char *reg = path_in(f, "reg"), *mg = path_in(f, "mgone");
	uint32_t a, b, c, d;
	ProtobufCMessage **fm;
	FileEntry **files;
	void *ghost;
	size_t nf, glen;

	spawn(f, child_maps);
	dump_init(f);
	assert_int_equal(dump_file_add_path(&f->dc, reg, O_RDONLY, &a), 0);
	assert_int_equal(dump_file_add_path(&f->dc, reg, O_RDONLY, &b), 0);
	assert_int_equal(a, b);
	assert_int_equal(dump_file_add_path(&f->dc, reg, O_RDWR, &c), 0);
	assert_int_not_equal(a, c);
	assert_int_equal(dump_file_add_path(&f->dc, mg, O_RDWR, &d), 0);
	assert_int_equal(dump_files_commit(&f->dc), 0);
	nf = read_msgs(f, IMG_FILES, 0, &fm);
	files = (FileEntry **)fm;
	assert_int_equal(nf, 3);
	assert_string_equal(file_by_id(files, nf, a)->reg->path, reg);
	assert_false(file_by_id(files, nf, a)->reg->deleted);
	const RegFileEntry *g = file_by_id(files, nf, d)->reg;
	assert_string_equal(g->path, mg);
	assert_true(g->deleted);
	assert_int_equal(g->flags, O_RDWR);
	assert_int_equal(g->size, 8192);
	/* only page 1 holds data (written through the mapping); page 0 is a hole */
	assert_true(g->ghost_sparse);
	assert_int_equal(g->n_ghost_extents, 1);
	assert_int_equal(g->ghost_extents[0]->offset, 4096);
	assert_int_equal(g->ghost_extents[0]->len, 4096);
	assert_int_equal(utest_read_file(f->imgpath, "ghost-1.img", &ghost, &glen), 0);
	assert_int_equal(glen, 4096);
	assert_memory_equal(ghost, "mapped", 6);
	assert_int_equal(img_crc32c(0, ghost, glen), g->ghost_crc32c);
	free(ghost);
	free_msgs(fm, nf);
	free(reg);
	free(mg);
}

/* ---- fixture ------------------------------------------------------------------------- */

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct img_err err;

	if (!f)
		return -1;
	f->ptm = -1;
	f->o.ghost_limit = CLI_GHOST_LIMIT_DEFAULT;
	f->dir = utest_tmpdir_make("files");
	f->imgpath = utest_tmpdir_make("files-img");
	if (!f->dir || !f->imgpath || img_dir_open(f->imgpath, false, &f->img, &err))
		return -1;
	if (utest_write_file(f->dir, "reg", REG_TEXT, strlen(REG_TEXT)))
		return -1;
	snprintf(f->log, sizeof(f->log), "/tmp/test_files.%d.log", getpid());
	if (!getenv("TEST_FILES_KEEP_LOG"))
		unlink(f->log); /* else one log of every test */
	if (log_init(f->log, LOG_DEBUG))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	kill_child(f);
	if (f->ptm >= 0)
		close(f->ptm);
	f->dc.sh = &f->sh;
	dump_files_free(&f->dc);
	dump_ptys_free(f->sh.ptys); /* the pass over the tree's pty masters */
	f->sh.ptys = NULL;
	vma_list_free(&f->dc.vmas);
	proc_status_free(&f->dc.status);
	img_dir_close(f->img);
	utest_tmpdir_remove(f->dir);
	utest_tmpdir_remove(f->imgpath);
	log_fini();
	if (getenv("TEST_FILES_KEEP_LOG"))
		fprintf(stderr, "log: %s\n", f->log);
	else
		unlink(f->log);
	free(f);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dump_fds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump_shell_job, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump_mapped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_fds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_chroot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_changed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_tty, setup, teardown),
	};

	alarm(120); /* a hung ptrace wait must not hang the suite */
	return cmocka_run_group_tests_name("files", tests, NULL, NULL);
}
