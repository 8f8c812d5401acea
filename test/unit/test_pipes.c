/* test_pipes: dump-pipes.c and restore-pipes.c on pipes of this process.
 *
 * Dump: the data in flight goes to pipes-data-N.img and stays in the pipe
 * (also when only the write end is open), each pipe is saved once, packet-mode
 * pipes are refused. Restore: entries get their ends with their own flags and
 * descriptions, an end no entry uses is gone after restore_pipes_done(), FIFOs
 * are refilled by path; damaged data, a size the host refuses, entries that
 * disagree, a FIFO path that is no FIFO and a FIFO that already holds data are
 * refused, each with a message naming it.
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
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "criu-lite/dump/dump.h"
#include "criu-lite/log.h"
#include "criu-lite/kinds/pipes.h"
#include "criu-lite/restore/restore.h"
#include "util_fs.h"
#include "util_log.h"

#define LEN	 10000
#define CONSUMED 1000
#define WLEN	 500

struct fx {
	struct utest_logdir ld; /* images, log and FIFOs */
	struct opts o;		/* --external, --inherit-fd */
	unsigned char data[LEN];
};

static int avail(int fd)
{
	int n = -1;

	assert_int_equal(ioctl(fd, FIONREAD, &n), 0);
	return n;
}

static int dump_end(struct fx *f, struct dump_pipes *p, int fd, uint32_t flags, const char *link,
		    struct dump_pipe *out)
{
	struct dump_shared sh = { .o = &f->o, .dir = f->ld.img };
	struct dump_ctx c = { .sh = &sh, .pid = getpid(), .vpid = getpid() };
	char what[32];
	struct stat st;
	struct dump_pipe_fd pf = { what, link, fd, flags, &st };

	snprintf(what, sizeof(what), "fd %d", fd);
	assert_int_equal(fstat(fd, &st), 0);
	return dump_pipe_end(&c, p, &pf, out);
}

/* A files.img entry on pipe p with end flags; fifo_path for a FIFO. */
static FileEntry *entry(uint32_t id, const struct dump_pipe *p, uint32_t flags, char *fifo_path)
{
	FileEntry *fe = calloc(1, sizeof(*fe));
	PipeFileEntry *pe = calloc(1, sizeof(*pe));

	file_entry__init(fe);
	fe->id = id;
	fe->type = FILE_TYPE__FT_PIPE;
	fe->pipe = pe;
	dump_pipe_fill(p, flags, fifo_path, pe);
	return fe;
}

static void entries_free(FileEntry **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i]->pipe);
		free(v[i]);
	}
}

static void ctx_init(struct restore_ctx *c, struct fx *f, FileEntry **files, size_t n)
{
	memset(c, 0, sizeof(*c));
	c->o = &f->o;
	c->dir = f->ld.img;
	c->files = files;
	c->nr_files = n;
}

/* Read fd (nonblocking) until EOF or EAGAIN; returns the byte count, or -errno at once. */
static ssize_t drain(int fd, unsigned char *buf, size_t len, bool *eof)
{
	size_t n = 0;

	*eof = false;
	for (;;) {
		ssize_t r = read(fd, buf + n, len - n);

		if (r < 0)
			return errno == EAGAIN ? (ssize_t)n : -errno;
		if (r == 0) {
			*eof = true;
			return (ssize_t)n;
		}
		n += (size_t)r;
		if (n == len)
			return (ssize_t)n;
	}
}

/* ---- dump --------------------------------------------------------------------------- */

static void test_dump(void **state)
{
	struct fx *f = *state;
	struct dump_pipes dp = { 0 };
	struct dump_pipe a, b, w;
	unsigned char tmp[LEN];
	int p[2], q[2], rq;
	char proc[64];
	void *img;
	size_t len;

	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	assert_int_equal(write(p[1], f->data, LEN), LEN);
	assert_int_equal(read(p[0], tmp, CONSUMED), CONSUMED);
	assert_int_equal(dump_end(f, &dp, p[0], O_RDONLY | O_NONBLOCK, "pipe:[x]", &a), 0);
	assert_int_equal(a.id, 1);
	assert_false(a.fifo);
	assert_int_equal(a.size, 65536);
	assert_int_equal(a.data_len, LEN - CONSUMED);
	assert_int_equal(avail(p[0]), LEN - CONSUMED); /* not consumed */
	assert_int_equal(utest_read_file(f->ld.dir, "pipes-data-1.img", &img, &len), 0);
	assert_int_equal(len, LEN - CONSUMED);
	assert_memory_equal(img, f->data + CONSUMED, len);
	assert_int_equal(a.data_crc, img_crc32c(0, img, len));
	free(img);

	/* the other end: the same pipe, saved once */
	assert_int_equal(dump_end(f, &dp, p[1], O_WRONLY, "pipe:[x]", &b), 0);
	assert_int_equal(b.id, 1);
	assert_int_equal(dp.n, 1);
	assert_int_equal(utest_dir_entries(f->ld.dir), 2); /* the log and pipes-data-1.img */

	/* only a write end: its data is read through a reopen, and stays */
	assert_int_equal(pipe2(q, O_CLOEXEC), 0);
	assert_int_equal(write(q[1], f->data, WLEN), WLEN);
	assert_int_equal(close(q[0]), 0);
	assert_int_equal(dump_end(f, &dp, q[1], O_WRONLY, "pipe:[y]", &w), 0);
	assert_int_equal(w.id, 2);
	assert_int_equal(w.data_len, WLEN);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", q[1]);
	rq = open(proc, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	assert_true(rq >= 0);
	assert_int_equal(avail(rq), WLEN);
	close(rq);

	/* packet mode is refused, and nothing is written for it */
	assert_int_equal(dump_end(f, &dp, q[1], O_WRONLY | O_DIRECT, "pipe:[z]", &w), -ENOTSUP);
	assert_true(
	    utest_log_has(f->ld.log, "is a packet-mode pipe (O_DIRECT): not supported yet"));
	assert_int_equal(utest_dir_entries(f->ld.dir), 3);

	dump_pipes_free(&dp);
	close(p[0]);
	close(p[1]);
	close(q[1]);
}

/* ---- restore ------------------------------------------------------------------------ */

/* Dump pipe "a" (LEN - CONSUMED bytes in flight) and "w" (WLEN, write end only). */
static void dump_two(struct fx *f, struct dump_pipe *a, struct dump_pipe *w)
{
	struct dump_pipes dp = { 0 };
	unsigned char tmp[CONSUMED];
	int p[2], q[2];

	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	assert_int_equal(fcntl(p[0], F_SETPIPE_SZ, 128 << 10), 128 << 10);
	assert_int_equal(write(p[1], f->data, LEN), LEN);
	assert_int_equal(read(p[0], tmp, CONSUMED), CONSUMED);
	assert_int_equal(dump_end(f, &dp, p[0], O_RDONLY, "pipe:[a]", a), 0);
	assert_int_equal(pipe2(q, O_CLOEXEC), 0);
	assert_int_equal(write(q[1], f->data, WLEN), WLEN);
	assert_int_equal(dump_end(f, &dp, q[1], O_WRONLY, "pipe:[w]", w), 0);
	dump_pipes_free(&dp);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}

static void test_restore(void **state)
{
	struct fx *f = *state;
	struct dump_pipe a, w;
	struct restore_ctx c;
	FileEntry *files[4];
	unsigned char buf[LEN];
	int fd[4], rw;
	char proc[64];
	bool eof;

	dump_two(f, &a, &w);
	files[0] = entry(1, &a, O_RDONLY | O_NONBLOCK, NULL);
	files[1] = entry(2, &a, O_WRONLY, NULL);
	files[2] = entry(3, &a, O_RDONLY, NULL); /* a second description of the read end */
	files[3] = entry(4, &w, O_WRONLY | O_NONBLOCK, NULL);
	ctx_init(&c, f, files, 4);
	for (int i = 0; i < 4; i++) {
		fd[i] = restore_pipe_open(&c, files[i]);
		assert_true(fd[i] >= 0);
		assert_true(fcntl(fd[i], F_GETFD) & FD_CLOEXEC);
	}
	restore_pipes_done(&c);
	assert_null(c.pipes);

	assert_int_equal(fcntl(fd[0], F_GETFL) & (O_ACCMODE | O_NONBLOCK), O_RDONLY | O_NONBLOCK);
	assert_int_equal(fcntl(fd[1], F_GETFL) & (O_ACCMODE | O_NONBLOCK), O_WRONLY);
	assert_int_equal(fcntl(fd[2], F_GETFL) & (O_ACCMODE | O_NONBLOCK), O_RDONLY);
	assert_int_equal(fcntl(fd[3], F_GETFL) & (O_ACCMODE | O_NONBLOCK), O_WRONLY | O_NONBLOCK);
	assert_int_not_equal(syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, fd[0], fd[2]), 0);
	assert_int_equal(fcntl(fd[0], F_GETPIPE_SZ), 128 << 10);
	assert_int_equal(avail(fd[0]), LEN - CONSUMED);

	/* the write end closed: exactly the data, then EOF */
	close(fd[1]);
	assert_int_equal(drain(fd[0], buf, sizeof(buf), &eof), LEN - CONSUMED);
	assert_true(eof);
	assert_memory_equal(buf, f->data + CONSUMED, LEN - CONSUMED);

	/* the pipe with only a write end: no reader is left, the data is in it */
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(write(fd[3], "x", 1), -1);
	assert_int_equal(errno, EPIPE);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd[3]);
	rw = open(proc, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	assert_true(rw >= 0);
	assert_int_equal(drain(rw, buf, sizeof(buf), &eof), WLEN);
	assert_false(eof);
	assert_memory_equal(buf, f->data, WLEN);
	close(rw);
	for (int i = 0; i < 4; i++)
		if (i != 1)
			close(fd[i]);
	entries_free(files, 4);
}

static void test_restore_refusals(void **state)
{
	struct fx *f = *state;
	struct dump_pipe a, w, big;
	struct restore_ctx c;
	FileEntry *files[2];
	unsigned char *bad = malloc(LEN);
	long max = pipe_max_size();
	int fd;

	dump_two(f, &a, &w);
	files[0] = entry(1, &a, O_RDONLY, NULL);

	/* damaged data: refused before any pipe exists */
	memcpy(bad, f->data + CONSUMED, LEN - CONSUMED);
	bad[100] ^= 1;
	assert_int_equal(utest_write_file(f->ld.dir, "pipes-data-1.img", bad, LEN - CONSUMED), 0);
	ctx_init(&c, f, files, 1);
	assert_int_equal(restore_pipe_open(&c, files[0]), -EBADMSG);
	assert_null(c.pipes);
	assert_true(utest_log_has(f->ld.log, "pipes-data-1.img: crc32c"));
	assert_true(utest_log_has(f->ld.log, "the image is damaged"));
	assert_int_equal(utest_write_file(f->ld.dir, "pipes-data-1.img", bad, 10), 0);
	assert_int_equal(restore_pipe_open(&c, files[0]), -EBADMSG);
	assert_true(utest_log_has(f->ld.log, "pipes-data-1.img: 10 bytes, files.img says 9000"));

	/* entries on one pipe that disagree (with good data again) */
	assert_int_equal(
	    utest_write_file(f->ld.dir, "pipes-data-1.img", f->data + CONSUMED, LEN - CONSUMED), 0);
	files[1] = entry(2, &w, O_WRONLY, NULL);
	files[1]->pipe->pipe_id = 1;
	ctx_init(&c, f, files, 2);
	assert_int_equal(restore_pipe_open(&c, files[0]), -EBADMSG);
	assert_true(utest_log_has(f->ld.log, "files 1 and 2 are on pipe 1 but disagree"));
	entries_free(files, 2);

	/* a size this host does not allow */
	big = (struct dump_pipe){ .id = 1, .size = (uint32_t)max * 2 };
	files[0] = entry(1, &big, O_RDONLY, NULL);
	ctx_init(&c, f, files, 1);
	fd = restore_pipe_open(&c, files[0]);
	restore_pipes_done(&c);
	if (fd >= 0) {
		close(fd);
		print_message("skipped the size refusal: this process may exceed "
			      "fs.pipe-max-size (CAP_SYS_RESOURCE)\n");
	} else {
		char msg[160];

		assert_int_equal(fd, -EPERM);
		snprintf(msg, sizeof(msg),
			 "can't set its size to %ld bytes as dumped (fs.pipe-max-size is %ld",
			 max * 2, max);
		assert_true(utest_log_has(f->ld.log, msg));
	}
	entries_free(files, 1);
	free(bad);
}

/* --external: nothing of the pipe is saved; restore refuses it without --inherit-fd, and with
 * one hands out that fd's open file description with the entry's status flags. */
static void test_external(void **state)
{
	struct fx *f = *state;
	struct dump_pipes dp = { 0 };
	struct dump_pipe x;
	struct restore_ctx c;
	FileEntry *files[1];
	char key[48], *ext[1] = { key }, buf[8], path[PATH_MAX];
	struct inherit_fd in[2];
	int p[2], q[2], fd;
	struct stat st;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(write(p[1], "abc", 3), 3);
	assert_int_equal(fstat(p[0], &st), 0);
	snprintf(key, sizeof(key), "pipe:[%llu]", (unsigned long long)st.st_ino);
	f->o.external = ext;
	f->o.nr_external = 1;
	assert_int_equal(dump_end(f, &dp, p[0], O_RDONLY, key, &x), 0);
	assert_true(x.external);
	assert_int_equal(x.data_len, 0);
	assert_int_equal(avail(p[0]), 3); /* untouched */
	snprintf(path, sizeof(path), "%s/pipes-data-1.img", f->ld.dir);
	assert_int_equal(access(path, F_OK), -1); /* no data saved */
	files[0] = entry(1, &x, O_RDONLY | O_NONBLOCK, NULL);
	assert_true(files[0]->pipe->has_external && files[0]->pipe->external);
	assert_false(files[0]->pipe->has_data_len);
	dump_pipes_free(&dp);

	/* no --inherit-fd: refused, naming the option */
	ctx_init(&c, f, files, 1);
	assert_int_equal(restore_pipe_open(&c, files[0]), -ENOENT);
	assert_true(
	    utest_log_has(f->ld.log, "was dumped as --external: give what takes its place"));
	/* an --inherit-fd for a pipe the images do not have */
	assert_int_equal(pipe2(q, O_CLOEXEC), 0);
	in[0] = (struct inherit_fd){ q[0], key };
	in[1] = (struct inherit_fd){ q[0], "pipe:[1]" };
	f->o.inherit_fd = in;
	f->o.nr_inherit_fd = 2;
	ctx_init(&c, f, files, 1);
	assert_int_equal(restore_pipe_open(&c, files[0]), -EINVAL);
	assert_true(utest_log_has(f->ld.log, "--inherit-fd fd[") &&
		    utest_log_has(f->ld.log, ":pipe:[1]: the images have no external pipe"));
	/* the right one: the entry gets q's read end, nonblocking as dumped */
	f->o.nr_inherit_fd = 1;
	ctx_init(&c, f, files, 1);
	fd = restore_pipe_open(&c, files[0]);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_int_equal(write(q[1], "xy", 2), 2);
	assert_int_equal(read(fd, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "xy", 2);
	restore_pipes_done(&c);
	close(fd);
	entries_free(files, 1);
	f->o = (struct opts){ 0 };
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}

static void test_fifo(void **state)
{
	struct fx *f = *state;
	struct dump_pipes dp = { 0 };
	struct dump_pipe p;
	struct restore_ctx c;
	FileEntry *files[2];
	unsigned char buf[LEN];
	char path[PATH_MAX], reg[3 * PATH_MAX];
	int h, fd[2];
	bool eof;

	snprintf(path, sizeof(path), "%s/fifo", f->ld.dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	h = open(path, O_RDWR | O_CLOEXEC);
	assert_true(h >= 0);
	assert_int_equal(write(h, f->data, 300), 300);
	assert_int_equal(dump_end(f, &dp, h, O_RDWR, path, &p), 0);
	assert_true(p.fifo);
	assert_int_equal(p.data_len, 300);
	assert_int_equal(avail(h), 300);
	close(h); /* the data is gone with the last opener */
	dump_pipes_free(&dp);

	files[0] = entry(1, &p, O_RDONLY | O_NONBLOCK, path);
	files[1] = entry(2, &p, O_WRONLY, path);
	assert_string_equal(files[0]->pipe->fifo_path, path);
	ctx_init(&c, f, files, 2);
	fd[0] = restore_pipe_open(&c, files[0]);
	fd[1] = restore_pipe_open(&c, files[1]);
	restore_pipes_done(&c);
	assert_true(fd[0] >= 0 && fd[1] >= 0);
	assert_int_equal(fcntl(fd[0], F_GETFL) & (O_ACCMODE | O_NONBLOCK), O_RDONLY | O_NONBLOCK);
	assert_int_equal(fcntl(fd[1], F_GETFL) & (O_ACCMODE | O_NONBLOCK), O_WRONLY);
	assert_int_equal(avail(fd[0]), 300);
	close(fd[1]);
	assert_int_equal(drain(fd[0], buf, sizeof(buf), &eof), 300);
	assert_true(eof); /* no holder of ours is left */
	assert_memory_equal(buf, f->data, 300);

	/* a FIFO that already holds data from someone else */
	h = open(path, O_RDWR | O_CLOEXEC);
	assert_int_equal(write(h, "y", 1), 1);
	ctx_init(&c, f, files, 2);
	assert_int_equal(restore_pipe_open(&c, files[0]), -EBUSY);
	restore_pipes_done(&c);
	assert_true(utest_log_has(f->ld.log, "already holds 1 bytes"));
	close(h);
	close(fd[0]);

	/* the path is no FIFO any more */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(utest_write_file(f->ld.dir, "fifo", "z", 1), 0);
	ctx_init(&c, f, files, 2);
	assert_int_equal(restore_pipe_open(&c, files[0]), -ESTALE);
	restore_pipes_done(&c);
	snprintf(reg, sizeof(reg), "FIFO %s (pipe 1): %s is not a FIFO any more", path, path);
	assert_true(utest_log_has(f->ld.log, reg));
	entries_free(files, 2);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || utest_logdir_open(&f->ld, "pipes"))
		return -1;
	for (size_t i = 0; i < LEN; i++)
		f->data[i] = (unsigned char)(i * 7 + i / 251);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	utest_logdir_close(&f->ld);
	free(f);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dump, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_external, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
