/* files_restore: the restore half of test_files (see test_files.c): restore_files_prepare()
 * in this process, restore_files() in a real skeleton through rsys, and what must be refused. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "criu-lite/log.h"
#include "criu-lite/restore/restore-files.h"
#include "criu-lite/restore/restore.h"
#include "files_fixture.h"
#include "util_fs.h"

#define XFER_BASE 100

struct rfx {
	struct opts o;
	struct restore_ctx c;
	struct restore_task t;
};

/* ---- restore helpers ----------------------------------------------------------------- */

static void restore_load(struct fx *f, struct rfx *r, bool shell_job)
{
	struct img_err err = { 0 };
	ProtobufCMessage **v;

	memset(r, 0, sizeof(*r));
	r->o.shell_job = shell_job;
	r->c.o = &r->o;
	r->c.dir = f->img;
	r->c.xfer_base = XFER_BASE;
	r->c.nr_files = read_msgs(f, IMG_FILES, 0, &v);
	r->c.files = (FileEntry **)v;
	r->t.pid = f->child;
	r->t.nr_fdinfo = read_msgs(f, IMG_FDINFO, f->child, &v);
	r->t.fdinfo = (FdinfoEntry **)v;
	assert_int_equal(
	    img_read_one(f->img, IMG_FS, f->child, (ProtobufCMessage **)&r->t.fs, &err), 0);
	r->t.cwd_fd = r->t.root_fd = r->t.exe_fd = -1;
}

static void restore_free(struct rfx *r)
{
	free_msgs((ProtobufCMessage **)r->c.files, r->c.nr_files);
	free_msgs((ProtobufCMessage **)r->t.fdinfo, r->t.nr_fdinfo);
	fs_entry__free_unpacked(r->t.fs, NULL);
	free(r->t.fds);
	restore_ghosts_done(&r->c); /* as restore does once the skeletons hold them */
	syscall(SYS_close_range, XFER_BASE, ~0U, 0);
}

static int fds_from(pid_t pid, int from)
{
	char path[64];
	int n = 0;

	for (int fd = from; fd < 1024; fd++) {
		struct stat st;

		snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
		n += stat(path, &st) == 0 || errno != ENOENT;
	}
	return n;
}

static long kcmp_file(pid_t p1, pid_t p2, int fd1, int fd2)
{
	return syscall(SYS_kcmp, p1, p2, KCMP_FILE, fd1, fd2);
}

static void fdinfo_of(pid_t pid, int fd, struct proc_fdinfo *fi)
{
	assert_int_equal(proc_parse_fdinfo(pid, fd, fi), 0);
}

static char *link_of(pid_t pid, const char *name)
{
	char path[64], buf[4096];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	n = readlink(path, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	return strdup(buf);
}

/* Make a skeleton, run restore_files in it, leave it seized in r->t.st. */
static void run_in_skeleton(struct rfx *r)
{
	struct vma_list vl;
	uint64_t *ranges, hole;

	assert_int_equal(proc_parse_vmas(getpid(), &vl), 0);
	ranges = calloc(vl.n * 2 + 1, sizeof(*ranges));
	for (size_t i = 0; i < vl.n; i++) {
		ranges[2 * i] = vl.v[i].start;
		ranges[2 * i + 1] = vl.v[i].end;
	}
	assert_int_equal(skel_find_hole(ranges, vl.n, SKEL_TRAMP_SIZE, &hole), 0);
	free(ranges);
	vma_list_free(&vl);
	assert_int_equal(skel_create(NULL, 0, 0, hole, &r->t.sk), 0);
	assert_int_equal(seize_task(r->t.sk.pid, SEIZE_EXITKILL, &r->t.st), 0);
	assert_int_equal(rsys_open_at(r->t.sk.pid, r->t.sk.tramp, &r->t.rs), 0);
	assert_int_equal(restore_files(&r->c, &r->t), 0);
	assert_int_equal(rsys_close(&r->t.rs), 0);
}

static void check_contents(pid_t pid, int fd)
{
	char path[64];
	unsigned char *buf = malloc(PATTERN_LEN + 1);
	int rfd;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	rfd = open(path, O_RDONLY);
	assert_true(rfd >= 0);
	assert_int_equal(pread(rfd, buf, PATTERN_LEN + 1, 0), PATTERN_LEN);
	for (size_t i = 0; i < PATTERN_LEN; i++)
		if (buf[i] != pattern_byte(i))
			fail_msg("byte %zu of fd %d of pid %d: %#x, want %#x", i, fd, pid, buf[i],
				 pattern_byte(i));
	close(rfd);
	free(buf);
}

/* ---- restore tests ------------------------------------------------------------------- */

void test_restore_fds(void **state)
{
	struct fx *f = *state;
	char *gone = path_in(f, "gone"), *want, *got;
	struct proc_status st;
	struct proc_fdinfo fi;
	struct rfx r;
	pid_t sk;

	NEED_ROOT();
	spawn(f, child_fds);
	dump_all(f);
	restore_load(f, &r, false);
	assert_int_equal(restore_files_prepare(&r.c, &r.t), 0);
	assert_int_equal(r.t.nr_fds, 10);
	assert_int_equal(access(gone, F_OK), -1); /* the recreated ghost is unlinked again */
	for (size_t i = 0; i < r.t.nr_fds; i++) {
		assert_int_equal(r.t.fds[i].fd, i);
		assert_true(r.t.fds[i].xfer_fd >= XFER_BASE);
	}
	assert_int_equal(r.t.fds[3].xfer_fd, r.t.fds[4].xfer_fd);
	assert_int_equal(r.t.fds[6].xfer_fd, r.t.fds[7].xfer_fd);
	assert_true(r.t.fds[3].cloexec && !r.t.fds[4].cloexec);
	assert_true(r.t.cwd_fd >= XFER_BASE && r.t.root_fd >= XFER_BASE);
	assert_false(log_has(f, "Warn:")); /* every dumped flag was taken back */

	run_in_skeleton(&r);
	sk = r.t.sk.pid;
	assert_int_equal(fds_from(sk, 0), 10);
	assert_int_equal(kcmp_file(sk, sk, 3, 4), 0);
	assert_int_not_equal(kcmp_file(sk, sk, 3, 5), 0);
	assert_int_equal(kcmp_file(sk, sk, 6, 7), 0);
	assert_int_equal(kcmp_file(sk, getpid(), 6, r.t.fds[6].xfer_fd), 0);
	fdinfo_of(sk, 3, &fi);
	assert_int_equal(fi.pos, 5);
	assert_int_equal(fi.flags & (O_ACCMODE | O_CLOEXEC), O_RDWR | O_CLOEXEC);
	proc_fdinfo_free(&fi);
	fdinfo_of(sk, 4, &fi);
	assert_int_equal(fi.flags & O_CLOEXEC, 0);
	proc_fdinfo_free(&fi);
	fdinfo_of(sk, 6, &fi);
	assert_int_equal(fi.pos, GONE_POS);
	proc_fdinfo_free(&fi);
	fdinfo_of(sk, 9, &fi);
	assert_true(fi.flags & O_NONBLOCK);
	proc_fdinfo_free(&fi);
	check_contents(sk, 6);
	assert_true(asprintf(&want, "%s (deleted)", gone) > 0);
	got = link_of(sk, "fd/6");
	assert_string_equal(got, want);
	free(got);
	free(want);
	got = link_of(sk, "fd/0");
	assert_string_equal(got, "/dev/null");
	free(got);
	got = link_of(sk, "cwd");
	assert_string_equal(got, f->dir);
	free(got);
	assert_int_equal(proc_parse_status(sk, &st), 0);
	assert_int_equal(st.umask, 027);
	proc_status_free(&st);
	assert_int_equal(seize_release(&r.t.st, RELEASE_KILL), 0);
	restore_free(&r);
	free(gone);
}

void test_restore_chroot(void **state)
{
	struct fx *f = *state;
	char *sub = path_in(f, "sub"), *got;
	struct rfx r;

	NEED_ROOT();
	assert_int_equal(mkdir(sub, 0755), 0);
	spawn(f, child_fds);
	dump_all(f);
	restore_load(f, &r, false);
	free(r.t.fs->root);
	free(r.t.fs->cwd);
	r.t.fs->root = strdup(f->dir);
	r.t.fs->cwd = strdup(sub);
	assert_int_equal(restore_files_prepare(&r.c, &r.t), 0);
	run_in_skeleton(&r);
	got = link_of(r.t.sk.pid, "root");
	assert_string_equal(got, f->dir);
	free(got);
	got = link_of(r.t.sk.pid, "cwd");
	assert_string_equal(got, sub);
	free(got);
	assert_int_equal(seize_release(&r.t.st, RELEASE_KILL), 0);
	restore_free(&r);
	free(sub);
}

void test_restore_changed(void **state)
{
	struct fx *f = *state;
	char *reg = path_in(f, "reg"), *gone = path_in(f, "gone"), *want, *got, name[32];
	struct stat st, mine;
	struct rfx r;
	void *buf;
	size_t len;

	NEED_ROOT();
	spawn(f, child_fds);
	dump_all(f);

	/* a regular file that grew */
	assert_int_equal(utest_write_file(f->dir, "reg", REG_TEXT "!", strlen(REG_TEXT) + 1), 0);
	restore_load(f, &r, false);
	assert_int_equal(restore_files_prepare(&r.c, &r.t), -ESTALE);
	assert_true(asprintf(&want, "file %s changed since the dump: size 11 -> 12", reg) > 0);
	assert_true(log_has(f, want));
	free(want);
	assert_int_equal(fds_from(getpid(), XFER_BASE), 0);
	assert_null(r.t.fds);
	assert_int_equal(access(gone, F_OK), -1);
	restore_free(&r);
	assert_int_equal(utest_write_file(f->dir, "reg", REG_TEXT, strlen(REG_TEXT)), 0);

	/* a damaged ghost image: refused before the file is created */
	assert_int_equal(utest_write_file(f->imgpath, "ghost-1.img", "x", 1), 0);
	restore_load(f, &r, false);
	assert_int_equal(restore_files_prepare(&r.c, &r.t), -EBADMSG);
	assert_true(
	    log_has(f, "ghost-1.img: 1 bytes, files.img says 100000: the image is damaged"));
	assert_int_equal(access(gone, F_OK), -1);
	restore_free(&r);

	/* the original path is taken: the recreated file still gets its name, the other file
	 * keeps it and its inode, and no sibling is left behind */
	dump_all(f);
	assert_int_equal(utest_write_file(f->dir, "gone", "mine", 4), 0);
	assert_int_equal(stat(gone, &mine), 0);
	restore_load(f, &r, false);
	assert_int_equal(restore_files_prepare(&r.c, &r.t), 0);
	snprintf(name, sizeof(name), "fd/%d", r.t.fds[6].xfer_fd);
	got = link_of(getpid(), name);
	assert_true(asprintf(&want, "%s (deleted)", gone) > 0);
	assert_string_equal(got, want);
	free(got);
	free(want);
	assert_int_equal(fstat(r.t.fds[6].xfer_fd, &st), 0);
	assert_int_equal(st.st_nlink, 0);
	assert_int_equal(st.st_size, PATTERN_LEN);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(stat(gone, &st), 0);
	assert_int_equal(st.st_ino, mine.st_ino);
	assert_int_equal(utest_read_file(f->dir, "gone", &buf, &len), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(buf, "mine", 4);
	free(buf);
	assert_int_equal(utest_dir_entries(f->dir), 2); /* reg and gone */
	restore_free(&r);
	free(reg);
	free(gone);
}

void test_restore_tty(void **state)
{
	struct fx *f = *state;
	int m, s, saved[3], fd1, fd_no, fd_nottty;
	FileEntry fe = FILE_ENTRY__INIT;
	RegFileEntry re = REG_FILE_ENTRY__INIT;
	struct rfx r;
	long same;

	memset(&r, 0, sizeof(r));
	r.c.o = &r.o;
	fe.id = 1;
	fe.type = FILE_TYPE__FT_TTY;
	fe.reg = &re;
	re.path = "/dev/pts/0";
	re.flags = O_RDWR;
	m = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0);
	s = open(ptsname(m), O_RDWR | O_NOCTTY);
	assert_true(s >= 0);
	for (int i = 0; i < 3; i++)
		saved[i] = dup(i);
	/* stdio is the pty only between these lines: nothing may assert here */
	dup2(s, 1);
	fd_no = restore_open_entry(&r.c, &fe, 1);
	r.o.shell_job = true;
	fd1 = restore_open_entry(&r.c, &fe, 1);
	same = fd1 >= 0 ? kcmp_file(getpid(), getpid(), fd1, s) : -1;
	dup2(saved[1], 1);
	for (int i = 0; i < 3; i++)
		close(saved[i]);
	fd_nottty = restore_open_entry(&r.c, &fe, 1); /* fd 1 is the test's own stdout */

	assert_int_equal(fd_no, -ENOTSUP);
	assert_true(log_has(f, "the dump holds the terminal /dev/pts/0: restore with --shell-job"));
	assert_true(fd1 >= 0);
	assert_int_equal(same, 0);
	if (!isatty(1)) {
		assert_int_equal(fd_nottty, -ENOTTY);
		assert_true(log_has(f, "which is not a terminal"));
	} else if (fd_nottty >= 0) {
		close(fd_nottty);
	}
	close(fd1);
	close(s);
	close(m);
}
