/* test_img_sink: an image directory elsewhere (images/img.h: img_dir_open_sink()), through a
 * fake sink that writes what it gets into a local directory, as a page server would.
 * - roundtrip: a record file, raw files written through their fd (one with a zero run in the
 *   middle, one that ends in zeros, an empty one) and pages files (one small, one over several
 *   write buffers, with the reserve path and a large write straight from memory) arrive one after
 *   another, in commit order, each begin / data... / end; every end's size and crc32c is what
 *   img_file_crc() says of the file the sink wrote, and the manifest's; the copy reads back
 *   (img_reader_open, page_reader_open); an all-zero piece is not sent, but for the file's last
 *   byte; img_dir_usage() counts what was sent; img_dir_fd() is -1 and the lock fails (-EBADF).
 * - busy: a file committed while a pages file streams is refused (-EBUSY), the stream goes on.
 * - abandoned: a pages writer aborted mid-way makes every later file fail (-ECANCELED, naming
 *   it).
 * - failed_data: the sink's data failing (-EPIPE, with its message) fails the page writer's
 *   commit with that message.
 * - discard: img_dir_remove_written() is the sink's discard. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "images/pages.h"
#include "pstree.pb-c.h"
#include "util_fs.h"

#define PG IMG_PAGE_SIZE

struct fake {
	char *dir;
	struct img_dir *local; /* dir, to check what arrived */
	pthread_mutex_t lock;
	int fd; /* the file begun last, -1: none */
	char name[256];
	char log[8192];	     /* "begin NAME;end NAME;" in order */
	uint64_t zero_bytes; /* bytes of all-zero data pieces handed over */
	uint64_t datas;
	int fail_data; /* > 0: data fails with -fail_data */
	int discards;
	/* what the ends said, checked against the copies */
	struct {
		char name[64];
		uint64_t size;
		uint32_t crc;
	} ends[32];
	int nends;
};

static int f_begin(void *arg, const char *name, struct img_err *err)
{
	struct fake *f = arg;

	if (f->fd >= 0)
		return img_fail(err, EPROTO, "fake: %s begins while %s is open", name, f->name);
	f->fd = openat(img_dir_fd(f->local), name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (f->fd < 0)
		return img_fail(err, errno, "fake: %s: %s", name, strerror(errno));
	snprintf(f->name, sizeof(f->name), "%s", name);
	snprintf(f->log + strlen(f->log), sizeof(f->log) - strlen(f->log), "begin %s;", name);
	return 0;
}

static int f_data(void *arg, uint64_t off, const void *buf, size_t len, struct img_err *err)
{
	struct fake *f = arg;
	const uint8_t *p = buf;
	bool zero = true;
	int ret = 0;

	pthread_mutex_lock(&f->lock);
	for (size_t i = 0; i < len && zero; i++)
		zero = !p[i];
	f->datas++;
	if (zero)
		f->zero_bytes += len;
	if (f->fail_data)
		ret = img_fail(err, f->fail_data, "fake sink: broken at %llu",
			       (unsigned long long)off);
	else if (f->fd < 0)
		ret = img_fail(err, EPROTO, "fake: data with no file open");
	else if (pwrite(f->fd, buf, len, (off_t)off) != (ssize_t)len)
		ret = img_fail(err, EIO, "fake: short write");
	pthread_mutex_unlock(&f->lock);
	return ret;
}

static int f_end(void *arg, const char *name, uint64_t size, uint32_t crc, struct img_err *err)
{
	struct fake *f = arg;

	if (f->fd < 0 || strcmp(name, f->name))
		return img_fail(err, EPROTO, "fake: %s ends, %s is open", name, f->name);
	close(f->fd);
	f->fd = -1;
	snprintf(f->log + strlen(f->log), sizeof(f->log) - strlen(f->log), "end %s;", name);
	assert_true(f->nends < 32);
	snprintf(f->ends[f->nends].name, sizeof(f->ends[0].name), "%s", name);
	f->ends[f->nends].size = size;
	f->ends[f->nends++].crc = crc;
	return 0;
}

static int f_discard(void *arg, struct img_err *err)
{
	(void)err;
	((struct fake *)arg)->discards++;
	return 0;
}

static const struct img_sink_ops fake_ops = { f_begin, f_data, f_end, f_discard };

static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct img_err err = { 0 };

	if (!f || !(f->dir = utest_tmpdir_make("sink")) ||
	    img_dir_open(f->dir, false, &f->local, &err))
		return -1;
	pthread_mutex_init(&f->lock, NULL);
	f->fd = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;

	if (f->fd >= 0)
		close(f->fd);
	img_dir_close(f->local);
	utest_tmpdir_remove(f->dir);
	pthread_mutex_destroy(&f->lock);
	free(f);
	return 0;
}

static struct img_dir *open_sink(struct fake *f)
{
	struct img_err err = { 0 };
	struct img_dir *d;

	assert_int_equal(img_dir_open_sink("fake sink", &fake_ops, f, &d, &err), 0);
	assert_true(img_dir_is_sink(d));
	assert_int_equal(img_dir_fd(d), -1);
	assert_string_equal(img_dir_path(d), "fake sink");
	return d;
}

static void write_pstree(struct img_dir *d, int pid)
{
	PstreeEntry e = PSTREE_ENTRY__INIT;
	const ProtobufCMessage *m = &e.base;
	struct img_err err = { 0 };

	e.pid = (uint32_t)pid;
	e.ppid = 0;
	if (img_write_file(d, IMG_PSTREE, 0, &m, 1, &err))
		fail_msg("%s", err.msg);
}

/* A raw file of len bytes: a pattern, but zero in [z0, z1). */
static void write_raw(struct img_dir *d, const char *name, size_t len, size_t z0, size_t z1)
{
	struct img_err err = { 0 };
	struct raw_file rf;
	uint8_t *buf = malloc(len + 1);

	assert_non_null(buf);
	for (size_t i = 0; i < len; i++)
		buf[i] = i >= z0 && i < z1 ? 0 : (uint8_t)(i * 7 + 1);
	if (raw_file_create(d, name, &rf, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(write(rf.fd, buf, len), (ssize_t)len);
	if (raw_file_commit(&rf, &err))
		fail_msg("%s", err.msg);
	free(buf);
}

/* A pages file of nr pages (every fourth all zero): through the reserve path in batches of
 * 64 pages, and one large run straight from memory. */
static void write_pages(struct img_dir *d, long id, uint64_t nr, bool direct)
{
	struct img_err err = { 0 };
	struct page_writer *w;
	uint64_t va = 0x10000000;

	if (page_writer_open(d, id, &w, &err))
		fail_msg("%s", err.msg);
	for (uint64_t done = 0; done < nr;) {
		uint64_t n = nr - done < 64 ? nr - done : 64;
		uint8_t *p = page_writer_reserve(w, n, &err);

		assert_non_null(p);
		for (uint64_t i = 0; i < n; i++)
			memset(p + i * PG, (done + i) % 4 ? (int)((done + i) & 0xff) | 1 : 0, PG);
		if (page_writer_add(w, va, n, PAGEMAP_FLAGS__PE_PRESENT, p, &err))
			fail_msg("%s", err.msg);
		va += n * PG;
		done += n;
	}
	if (direct) { /* more than a write buffer at once: written from here */
		size_t len = 12u << 20;
		uint8_t *big = malloc(len);

		assert_non_null(big);
		for (size_t i = 0; i < len; i++)
			big[i] = (uint8_t)(i >> 12);
		if (page_writer_add(w, va, len / PG, PAGEMAP_FLAGS__PE_PRESENT, big, &err))
			fail_msg("%s", err.msg);
		free(big);
	}
	if (page_writer_commit(w, &err))
		fail_msg("%s", err.msg);
}

static void test_roundtrip(void **state)
{
	struct fake *f = *state;
	struct img_dir *d = open_sink(f);
	struct img_err err = { 0 };
	struct img_dir_usage u;
	struct page_reader *pr;
	struct img_reader *r;
	uint64_t bytes = 0;

	write_pstree(d, 42);
	write_raw(d, "pipe-data-1.img", 300000, 70000, 250000);
	write_raw(d, "pipe-data-2.img", 3u << 20, 1u << 20, 3u << 20); /* ends in zeros */
	write_raw(d, "pipe-data-3.img", 0, 0, 0);
	write_pages(d, 42, 8, false);
	write_pages(d, 43, 3000, true); /* 11.7 MiB + 12 MiB: several buffers */
	assert_string_equal(f->log,
			    "begin pstree.img;end pstree.img;begin pipe-data-1.img;end "
			    "pipe-data-1.img;begin pipe-data-2.img;end pipe-data-2.img;begin "
			    "pipe-data-3.img;end pipe-data-3.img;begin pages-42.img;end "
			    "pages-42.img;begin pagemap-42.img;end pagemap-42.img;begin "
			    "pages-43.img;end pages-43.img;begin pagemap-43.img;end "
			    "pagemap-43.img;");
	/* every end said what the copy holds, and so does the manifest */
	assert_int_equal((int)img_dir_nr_written(d), f->nends);
	for (int i = 0; i < f->nends; i++) {
		struct img_file_note n = img_dir_written(d, (size_t)i);
		uint64_t size;
		uint32_t crc;

		if (img_file_crc(f->local, f->ends[i].name, &size, &crc, &err))
			fail_msg("%s", err.msg);
		assert_string_equal(n.name, f->ends[i].name);
		if (size != f->ends[i].size || crc != f->ends[i].crc || n.size != size ||
		    n.crc != crc)
			fail_msg("%s: the copy has %llu bytes, crc %08x; end said %llu, %08x; the "
				 "manifest %llu, %08x",
				 n.name, (unsigned long long)size, crc,
				 (unsigned long long)f->ends[i].size, f->ends[i].crc,
				 (unsigned long long)n.size, n.crc);
		bytes += size;
	}
	/* a raw file's zero pieces stay behind (1 MiB pieces: 1 and 2 of pipe-data-2), but the
	 * last byte that gives the copy its size; a pages file streams whole */
	assert_int_equal(f->zero_bytes, 1);
	/* the copy reads back */
	if (img_reader_open(f->local, IMG_PSTREE, 0, &r, &err))
		fail_msg("%s", err.msg);
	img_reader_close(r);
	if (page_reader_open(f->local, 43, &pr, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(page_reader_size(pr), 3000 * PG + (12u << 20));
	page_reader_close(pr);
	assert_int_equal(img_dir_usage(d, &u, &err), 0);
	assert_int_equal(u.files, f->nends);
	assert_int_equal(u.bytes, bytes);
	assert_string_equal(u.first, "pstree.img");
	assert_int_equal(img_dir_lock(d, true, &err), -EBADF);
	assert_int_equal(f->discards, 0);
	img_dir_close(d);
}

static void test_busy(void **state)
{
	struct fake *f = *state;
	struct img_dir *d = open_sink(f);
	struct img_err err = { 0 };
	struct page_writer *w;
	uint8_t page[PG];

	memset(page, 0x11, sizeof(page));
	assert_int_equal(page_writer_open(d, 7, &w, &err), 0);
	assert_int_equal(page_writer_add(w, 0x1000, 1, PAGEMAP_FLAGS__PE_PRESENT, page, &err), 0);
	{
		PstreeEntry e = PSTREE_ENTRY__INIT;
		const ProtobufCMessage *m = &e.base;

		assert_int_equal(img_write_file(d, IMG_PSTREE, 0, &m, 1, &err), -EBUSY);
		assert_non_null(strstr(err.msg, "pstree.img: not sent to fake sink while a pages "
						"file streams there"));
	}
	if (page_writer_commit(w, &err))
		fail_msg("%s", err.msg);
	write_pstree(d, 7); /* and once it is over, files go again */
	assert_string_equal(f->log, "begin pages-7.img;end pages-7.img;begin pagemap-7.img;end "
				    "pagemap-7.img;begin pstree.img;end pstree.img;");
	img_dir_close(d);
}

static void test_abandoned(void **state)
{
	struct fake *f = *state;
	struct img_dir *d = open_sink(f);
	struct img_err err = { 0 };
	struct page_writer *w;
	PstreeEntry e = PSTREE_ENTRY__INIT;
	const ProtobufCMessage *m = &e.base;

	assert_int_equal(page_writer_open(d, 9, &w, &err), 0);
	page_writer_abort(w);
	assert_int_equal(img_write_file(d, IMG_PSTREE, 0, &m, 1, &err), -ECANCELED);
	assert_non_null(strstr(err.msg, "pages-9.img was given up half sent"));
	assert_int_equal(page_writer_open(d, 10, &w, &err), -ECANCELED);
	assert_int_equal(img_dir_remove_written(d, &err), 0);
	assert_int_equal(f->discards, 1);
	img_dir_close(d);
}

static void test_failed_data(void **state)
{
	struct fake *f = *state;
	struct img_dir *d = open_sink(f);
	struct img_err err = { 0 };
	struct page_writer *w;
	uint8_t *p;

	f->fail_data = EPIPE;
	assert_int_equal(page_writer_open(d, 5, &w, &err), 0);
	p = page_writer_reserve(w, 16, &err);
	assert_non_null(p);
	memset(p, 0x5a, 16 * PG);
	assert_int_equal(page_writer_add(w, 0x4000, 16, PAGEMAP_FLAGS__PE_PRESENT, p, &err), 0);
	assert_int_equal(page_writer_commit(w, &err), -EPIPE);
	assert_non_null(strstr(err.msg, "fake sink: broken at 0"));
	img_dir_close(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abandoned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_data, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
