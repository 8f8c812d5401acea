/* test_shmem: memfds held as fds, through dump-shmem.c and restore-shmem.c,
 * on memfds of this process.
 *
 * Dump: the memfd becomes one shmem.img object (name, size not page aligned,
 * seals, mode, owner, exactly its data pages: holes stay holes, the tail past
 * the size is zero), a second fd on it reuses the object, the fd's flags and
 * offset go to its memfd_file_entry and the task's offset does not move; a
 * hugetlb memfd is refused. Restore: the object comes back with its name,
 * size, contents, holes, mode and seals; an entry gets its own description
 * with its access mode and offset, every open of one entry the same
 * description; entries without a memfd_file_entry, or naming a missing or an
 * anonymous object, are refused with a message naming them. */
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
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "criu-lite/dump/dump.h"
#include "criu-lite/log.h"
#include "criu-lite/kinds/memfd.h"
#include "criu-lite/restore/restore.h"
#include "util_fs.h"
#include "util_log.h"

#define PG	 4096l
#define NAME	 "unit-memfd"
#define HEAD	 (2 * PG + 100) /* data at [0, HEAD) */
#define TAIL_OFF (6 * PG)	/* and at [TAIL_OFF, SIZE) */
#define SIZE	 (6 * PG + 50)
#define POS	 777
#define XFER	 700

struct fx {
	struct utest_logdir ld;
	unsigned char ref[SIZE]; /* the memfd's contents, zero in the hole */
	int memfd;		 /* O_RDWR at POS */
};

static int kcmp_file(int a, int b)
{
	return (int)syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, a, b);
}

static int dump_fd(struct dump_ctx *c, int fd, uint32_t flags, MemfdFileEntry *out)
{
	char what[32], link[128], proc[64];
	struct dump_memfd_fd mf = { .what = what, .link = link, .fd = fd, .flags = flags };
	struct stat st;
	ssize_t n;

	snprintf(what, sizeof(what), "fd %d", fd);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, link, sizeof(link) - 1);
	assert_true(n > 0);
	link[n] = '\0';
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(memfd_link(link, &st));
	mf.pos = (uint64_t)lseek(fd, 0, SEEK_CUR);
	mf.st = &st;
	return dump_memfd_fd(c, &mf, out);
}

/* Dump f->memfd as two fds (the second O_RDONLY at 5) and write shmem.img. */
static void dump_it(struct fx *f, MemfdFileEntry *a, MemfdFileEntry *b)
{
	struct dump_shared sh = { .dir = f->ld.img, .next_shmem_id = 1 };
	struct dump_ctx c = { .sh = &sh, .pid = getpid(), .vpid = getpid() };
	char proc[64];
	int ro;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", f->memfd);
	ro = open(proc, O_RDONLY | O_CLOEXEC);
	assert_true(ro >= 0);
	assert_int_equal(lseek(ro, 5, SEEK_SET), 5);
	assert_int_equal(dump_fd(&c, f->memfd, O_RDWR, a), 0);
	assert_int_equal(dump_fd(&c, ro, O_RDONLY, b), 0);
	assert_int_equal(sh.next_shmem_id, 2); /* one object */
	assert_int_equal(dump_shmem_commit(&c), 0);
	dump_shmem_free(&c);
	close(ro);
}

static FileEntry *entry(uint32_t id, MemfdFileEntry *m)
{
	FileEntry *fe = calloc(1, sizeof(*fe));

	file_entry__init(fe);
	fe->id = id;
	fe->type = FILE_TYPE__FT_MEMFD;
	fe->memfd = m;
	return fe;
}

/* ---- dump --------------------------------------------------------------------------- */

static void test_dump(void **state)
{
	struct fx *f = *state;
	MemfdFileEntry a, b;
	struct opts o = { 0 };
	struct restore_ctx c = { .o = &o, .dir = f->ld.img };
	const ShmemEntry *e;
	struct stat st;
	void *pages;
	size_t len;

	dump_it(f, &a, &b);
	assert_int_equal(a.shmem_id, 1);
	assert_int_equal(b.shmem_id, 1);
	assert_int_equal(a.flags, O_RDWR);
	assert_int_equal(a.pos, POS);
	assert_int_equal(b.flags, O_RDONLY);
	assert_int_equal(b.pos, 5);
	assert_int_equal(lseek(f->memfd, 0, SEEK_CUR), POS); /* the task's offset stays */
	assert_true(utest_log_has(f->ld.log,
				  "shared memory object 1 (memfd \"" NAME "\", 24626 bytes, 4 data "
				  "pages)"));

	assert_int_equal(restore_shmem_read(&c), 0);
	assert_int_equal(c.nr_shmem, 1);
	e = c.shmem[0];
	assert_int_equal(fstat(f->memfd, &st), 0);
	assert_int_equal(e->kind, SHMEM_KIND__SHMEM_MEMFD);
	assert_string_equal(e->name, NAME);
	assert_int_equal(e->size, SIZE);
	assert_true(e->has_seals);
	assert_int_equal(e->seals, F_SEAL_GROW);
	assert_int_equal(e->mode, st.st_mode & 07777);
	assert_int_equal(e->uid, st.st_uid);
	assert_int_equal(e->data_pages, 4); /* pages 0-2 and 6 */
	assert_int_equal(e->dev, st.st_dev);
	assert_int_equal(e->ino, st.st_ino);
	/* the last page's tail past the size is saved as zeroes */
	assert_int_equal(utest_read_file(f->ld.dir, "pages-shmem-1.img", &pages, &len), 0);
	assert_int_equal(len, 4 * PG);
	assert_memory_equal(pages, f->ref, HEAD);
	assert_memory_equal((char *)pages + 3 * PG, f->ref + TAIL_OFF, SIZE - TAIL_OFF);
	for (size_t i = SIZE - TAIL_OFF; i < (size_t)PG; i++)
		assert_int_equal(((unsigned char *)pages)[3 * PG + i], 0);
	free(pages);
	restore_shmem_free(&c);
}

static void test_dump_hugetlb(void **state)
{
	struct fx *f = *state;
	struct dump_shared sh = { .dir = f->ld.img, .next_shmem_id = 1 };
	struct dump_ctx c = { .sh = &sh, .pid = getpid(), .vpid = getpid() };
	MemfdFileEntry m;
	int fd = memfd_create("unit-huge", MFD_HUGETLB | MFD_CLOEXEC);

	if (fd < 0) {
		print_message("skipped: no hugetlb memfd here (%s)\n", strerror(errno));
		skip();
	}
	assert_int_equal(dump_fd(&c, fd, O_RDWR, &m), -ENOTSUP);
	assert_true(utest_log_has(
	    f->ld.log, "memfd \"unit-huge\" is hugetlb memory (MFD_HUGETLB): not supported"));
	assert_int_equal(sh.next_shmem_id, 1);
	assert_false(utest_file_exists(f->ld.dir, "pages-shmem-1.img"));
	dump_shmem_free(&c);
	close(fd);
}

/* ---- restore ------------------------------------------------------------------------ */

static void test_restore(void **state)
{
	struct fx *f = *state;
	MemfdFileEntry a, b;
	struct opts o = { 0 };
	struct restore_ctx c = { .o = &o, .dir = f->ld.img, .xfer_base = XFER };
	FileEntry *fa, *fb;
	unsigned char got[SIZE + 1];
	char proc[64], link[128];
	struct stat st, orig;
	int fd[3];
	ssize_t n;

	dump_it(f, &a, &b);
	assert_int_equal(fstat(f->memfd, &orig), 0);
	close(f->memfd); /* the original is gone, as at a restore */
	f->memfd = -1;
	fa = entry(3, &a);
	fb = entry(4, &b);
	assert_int_equal(restore_shmem_read(&c), 0);
	assert_int_equal(restore_shmem_prepare(&c), 0);
	assert_int_equal(restore_shmem_fill(&c), 0);
	assert_true(c.shmem_fds[0] >= XFER);
	fd[0] = restore_memfd_open(&c, fa);
	fd[1] = restore_memfd_open(&c, fa);
	fd[2] = restore_memfd_open(&c, fb);
	for (int i = 0; i < 3; i++) {
		assert_true(fd[i] >= 0 && fd[i] < XFER);
		assert_true(fcntl(fd[i], F_GETFD) & FD_CLOEXEC);
	}
	/* one description per entry */
	assert_int_equal(kcmp_file(fd[0], fd[1]), 0);
	assert_int_not_equal(kcmp_file(fd[0], fd[2]), 0);
	assert_int_equal(fcntl(fd[0], F_GETFL) & O_ACCMODE, O_RDWR);
	assert_int_equal(fcntl(fd[2], F_GETFL) & O_ACCMODE, O_RDONLY);
	assert_int_equal(lseek(fd[1], 0, SEEK_CUR), POS);
	assert_int_equal(lseek(fd[2], 0, SEEK_CUR), 5);

	/* the memfd itself */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd[0]);
	n = readlink(proc, link, sizeof(link) - 1);
	assert_true(n > 0);
	link[n] = '\0';
	assert_string_equal(link, "/memfd:" NAME " (deleted)");
	assert_int_equal(fstat(fd[0], &st), 0);
	assert_int_equal(st.st_size, SIZE);
	assert_int_equal(st.st_mode, orig.st_mode);
	assert_int_equal(pread(fd[2], got, sizeof(got), 0), SIZE);
	assert_memory_equal(got, f->ref, SIZE);
	assert_int_equal(lseek(fd[2], 0, SEEK_HOLE), 3 * PG);
	assert_int_equal(lseek(fd[2], 3 * PG, SEEK_DATA), TAIL_OFF);
	assert_int_equal(fcntl(fd[0], F_GET_SEALS), F_SEAL_GROW);
	assert_int_equal(pwrite(fd[0], "x", 1, SIZE), -1);
	assert_int_equal(errno, EPERM);
	assert_true(utest_log_has(f->ld.log,
				  "memfd \"" NAME "\" (object 1): file 3, flags 02, offset 777"));

	for (int i = 0; i < 3; i++)
		close(fd[i]);
	restore_shmem_free(&c);
	assert_null(c.memfds);
	free(fa);
	free(fb);
}

static void test_restore_refusals(void **state)
{
	struct fx *f = *state;
	MemfdFileEntry a, b, bad = MEMFD_FILE_ENTRY__INIT;
	struct opts o = { 0 };
	struct restore_ctx c = { .o = &o, .dir = f->ld.img, .xfer_base = XFER };
	FileEntry *none = entry(5, NULL), *missing = entry(6, &bad), *anon = entry(7, &bad);

	dump_it(f, &a, &b);
	assert_int_equal(restore_shmem_read(&c), 0);
	assert_int_equal(restore_shmem_prepare(&c), 0);
	assert_int_equal(restore_shmem_fill(&c), 0);
	assert_int_equal(restore_memfd_open(&c, none), -EBADMSG);
	assert_true(utest_log_has(f->ld.log, "files.img: memfd file 5 has no memfd_file_entry"));
	bad.shmem_id = 9;
	assert_int_equal(restore_memfd_open(&c, missing), -EBADMSG);
	assert_true(utest_log_has(f->ld.log,
				  "memfd file 6 refers to shared memory object 9, which is not in "
				  "shmem.img"));
	c.shmem[0]->kind = SHMEM_KIND__SHMEM_ANON;
	bad.shmem_id = 1;
	assert_int_equal(restore_memfd_open(&c, anon), -EBADMSG);
	assert_true(utest_log_has(f->ld.log,
				  "memfd file 7 refers to shared memory object 1, which is not a "
				  "memfd in shmem.img"));
	assert_null(c.memfds);
	restore_shmem_free(&c);
	free(none);
	free(missing);
	free(anon);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || utest_logdir_open(&f->ld, "shmem"))
		return -1;
	for (size_t i = 0; i < HEAD; i++)
		f->ref[i] = (unsigned char)(i * 13 + i / 4093 + 1);
	for (size_t i = TAIL_OFF; i < SIZE; i++)
		f->ref[i] = (unsigned char)(i * 7 + 3);
	f->memfd = memfd_create(NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (f->memfd < 0 || pwrite(f->memfd, f->ref, HEAD, 0) != HEAD ||
	    pwrite(f->memfd, f->ref + TAIL_OFF, SIZE - TAIL_OFF, TAIL_OFF) != SIZE - TAIL_OFF ||
	    fcntl(f->memfd, F_ADD_SEALS, F_SEAL_GROW) || lseek(f->memfd, POS, SEEK_SET) != POS)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	utest_logdir_close(&f->ld);
	if (f->memfd >= 0)
		close(f->memfd);
	free(f);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dump, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump_hugetlb, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_refusals, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
