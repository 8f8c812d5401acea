/* test_push_recv: the page server's receiving side of a push (lazy-pages/push-recv.h), fed
 * frames from memory (xfer_msg_fixture.h). The set pushed is a small dump written with the images
 * library in a source directory (a record file, a raw file, a pages file with its pagemap,
 * inventory.img with the manifest).
 * - in_order, out_of_order (pieces backwards, overlapping, one file sent twice over): 0, the
 *   names in order, every file the same as the source's, no temp file, the dump id readable.
 * - refused, each leaving the directory empty (earlier files of the push removed too) and -errno
 *   naming the file or the peer: FILE_DATA past PUSH_MAX_FILE (-EFBIG); a FILE_END with a wrong
 *   crc32c or size (-EBADMSG); a name with '/' ("../x.img": xfer-msg refuses it, nothing
 *   created outside); a name that is not an image file's; a temp name taken by a symlink to a
 *   file outside (O_EXCL | O_NOFOLLOW: -EEXIST, the outside file untouched); the connection
 *   closed mid-file (-EPIPE); the sender's ERROR (-ECONNABORTED, its text); a file sent twice;
 *   data before a file begins (-EPROTO); DONE with a file still open, with inventory.img not
 *   last, with a file the manifest does not list, or with a dump id other than the HELLO's. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "images/pages.h"
#include "inventory.pb-c.h"
#include "lazy-pages/push-recv.h"
#include "pstree.pb-c.h"
#include "util_fs.h"
#include "xfer_msg_fixture.h"

#define DUMP_ID 0x0badcafeu
#define PG	IMG_PAGE_SIZE
#define CLIENT	"page client 198.18.0.1:40000"

struct fx {
	char *src, *dst, *outside;
	struct img_dir *s, *d;
	struct mem *t;
};

/* A small dump in src: pstree.img, pipes-data-1.img, pages-1.img + pagemap-1.img,
 * inventory.img with the manifest. */
static void make_set(struct img_dir *s)
{
	PstreeEntry pe = PSTREE_ENTRY__INIT;
	InventoryEntry inv = INVENTORY_ENTRY__INIT;
	const ProtobufCMessage *m = &pe.base;
	ManifestEntry ents[8], *v[8];
	struct img_err err = { 0 };
	struct page_writer *w;
	struct raw_file rf;
	uint8_t *pages = malloc(300 * PG);
	size_t n;

	assert_non_null(pages);
	img_dir_set_dump_id(s, DUMP_ID);
	pe.pid = 1;
	assert_int_equal(img_write_file(s, IMG_PSTREE, 0, &m, 1, &err), 0);
	assert_int_equal(raw_file_create(s, "pipes-data-1.img", &rf, &err), 0);
	assert_int_equal(write(rf.fd, "pipe data", 9), 9);
	assert_int_equal(raw_file_commit(&rf, &err), 0);
	for (size_t i = 0; i < 300 * PG; i++)
		pages[i] = (uint8_t)(i * 13 + (i >> 12));
	assert_int_equal(page_writer_open(s, 1, &w, &err), 0);
	assert_int_equal(page_writer_add(w, 0x400000, 300, PAGEMAP_FLAGS__PE_PRESENT, pages, &err),
			 0);
	assert_int_equal(page_writer_commit(w, &err), 0);
	n = img_dir_nr_written(s);
	assert_true(n <= 8);
	for (size_t i = 0; i < n; i++) {
		struct img_file_note f = img_dir_written(s, i);

		manifest_entry__init(&ents[i]);
		ents[i].name = (char *)f.name;
		ents[i].size = f.size;
		ents[i].crc32c = f.crc;
		v[i] = &ents[i];
	}
	inv.img_version = IMG_VERSION;
	inv.root_pid = 1;
	inv.page_size = PG;
	inv.has_dump_id = true;
	inv.dump_id = DUMP_ID;
	inv.n_files = n;
	inv.files = v;
	m = &inv.base;
	assert_int_equal(img_write_file(s, IMG_INVENTORY, 0, &m, 1, &err), 0);
	free(pages);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct img_err err = { 0 };

	if (!f || !(f->src = utest_tmpdir_make("push-src")) ||
	    !(f->dst = utest_tmpdir_make("push-dst")) ||
	    !(f->outside = utest_tmpdir_make("push-outside")) ||
	    img_dir_open(f->src, false, &f->s, &err) || img_dir_open(f->dst, false, &f->d, &err))
		return -1;
	make_set(f->s);
	f->t = mem_new();
	free(f->t->buf); /* room for a whole push */
	f->t->cap = 16u << 20;
	f->t->buf = malloc(f->t->cap);
	*state = f;
	return f->t->buf ? 0 : -1;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	img_dir_close(f->s);
	img_dir_close(f->d);
	utest_tmpdir_remove(f->src);
	utest_tmpdir_remove(f->dst);
	utest_tmpdir_remove(f->outside);
	mem_free(f->t);
	free(f);
	return 0;
}

static void send_msg(struct fx *f, XferMsg *m, const void *payload, size_t len)
{
	struct img_err err = { 0 };

	if (xfer_send(mem_writev, f->t, m, payload, len, CLIENT, &err))
		fail_msg("%s", err.msg);
}

static void begin(struct fx *f, const char *name)
{
	XferMsg m = XFER_MSG__INIT;

	m.kind = XFER_KIND__XFER_FILE_BEGIN;
	m.name = (char *)name;
	send_msg(f, &m, NULL, 0);
}

static void data(struct fx *f, uint64_t off, const void *p, size_t len)
{
	XferMsg m = XFER_MSG__INIT;

	m.kind = XFER_KIND__XFER_FILE_DATA;
	m.has_offset = true;
	m.offset = off;
	send_msg(f, &m, p, len);
}

static void end(struct fx *f, uint64_t size, uint32_t crc)
{
	XferMsg m = XFER_MSG__INIT;

	m.kind = XFER_KIND__XFER_FILE_END;
	m.has_size = m.has_crc32c = true;
	m.size = size;
	m.crc32c = crc;
	send_msg(f, &m, NULL, 0);
}

static void kind(struct fx *f, XferKind k, const char *text)
{
	XferMsg m = XFER_MSG__INIT;

	m.kind = k;
	m.error = (char *)text;
	send_msg(f, &m, NULL, 0);
}

/* Source file name in pieces of piece bytes, backwards or not; FILE_END unless open_end. */
static void send_file(struct fx *f, const char *name, size_t piece, bool backwards, bool open_end)
{
	struct img_err err = { 0 };
	uint64_t size;
	uint32_t crc;
	void *buf;
	size_t len;

	assert_int_equal(utest_read_file(f->src, name, &buf, &len), 0);
	assert_int_equal(img_file_crc(f->s, name, &size, &crc, &err), 0);
	begin(f, name);
	for (size_t k = 0; k < len; k += piece) {
		size_t off = backwards ? (len - 1) / piece * piece - k : k;
		size_t n = len - off < piece ? len - off : piece;

		data(f, off, (uint8_t *)buf + off, n);
	}
	if (!open_end)
		end(f, size, crc);
	free(buf);
}

/* Every file of the source set, inventory.img last. */
static void send_set(struct fx *f, size_t piece, bool backwards)
{
	for (size_t i = 0; i < img_dir_nr_written(f->s); i++) {
		const char *name = img_dir_written(f->s, i).name;

		if (strcmp(name, "inventory.img"))
			send_file(f, name, piece, backwards, false);
	}
	send_file(f, "inventory.img", piece, backwards, false);
}

static int receive(struct fx *f, struct push_files *out, struct img_err *err)
{
	return push_receive(mem_read, f->t, CLIENT, f->d, DUMP_ID, payload_buf, out, err);
}

static void expect_set(struct fx *f, struct push_files *out)
{
	struct img_err err = { 0 };
	uint32_t id;
	size_t n = img_dir_nr_written(f->s);

	assert_int_equal((int)out->n, (int)n);
	for (size_t i = 0; i < n; i++) {
		const char *name = img_dir_written(f->s, i).name;
		void *a, *b;
		size_t la, lb;

		assert_string_equal(out->names[i], name);
		assert_int_equal(utest_read_file(f->src, name, &a, &la), 0);
		assert_int_equal(utest_read_file(f->dst, name, &b, &lb), 0);
		assert_int_equal(la, lb);
		assert_memory_equal(a, b, la);
		free(a);
		free(b);
	}
	assert_int_equal(utest_dir_entries(f->dst), (int)n); /* no temp file */
	assert_int_equal(img_dir_dump_id(f->d, &id, &err), 0);
	assert_int_equal(id, DUMP_ID);
}

static void test_in_order(void **state)
{
	struct fx *f = *state;
	struct push_files out;
	struct img_err err = { 0 };

	send_set(f, 100000, false);
	kind(f, XFER_KIND__XFER_DONE, NULL);
	if (receive(f, &out, &err))
		fail_msg("%s", err.msg);
	expect_set(f, &out);
	push_files_free(&out);
}

static void test_out_of_order(void **state)
{
	struct fx *f = *state;
	struct push_files out;
	struct img_err err = { 0 };
	void *buf;
	size_t len;

	for (size_t i = 0; i < img_dir_nr_written(f->s); i++) {
		const char *name = img_dir_written(f->s, i).name;

		if (!strcmp(name, "inventory.img"))
			continue;
		/* backwards in pieces of 3 bytes (a 12-byte trailer split), then whole again */
		send_file(f, name, 3, true, true);
		assert_int_equal(utest_read_file(f->src, name, &buf, &len), 0);
		data(f, 0, buf, len);
		free(buf);
		{
			uint64_t size;
			uint32_t crc;

			assert_int_equal(img_file_crc(f->s, name, &size, &crc, &err), 0);
			end(f, size, crc);
		}
	}
	send_file(f, "inventory.img", 5, true, false);
	kind(f, XFER_KIND__XFER_DONE, NULL);
	if (receive(f, &out, &err))
		fail_msg("%s", err.msg);
	expect_set(f, &out);
	push_files_free(&out);
}

/* What was fed is refused with code, err naming want, and the directory left empty. */
static void refused(struct fx *f, int code, const char *want)
{
	struct push_files out;
	struct img_err err = { 0 };
	int ret = receive(f, &out, &err);

	if (ret != -code || !strstr(err.msg, want))
		fail_msg("push: %d \"%s\", expected %d naming \"%s\"", ret, err.msg, -code, want);
	assert_int_equal(utest_dir_entries(f->dst), 0);
	assert_null(out.names);
}

static void test_refused(void **state)
{
	struct fx *f = *state;
	uint8_t b[16] = { 1 };
	void *buf;
	size_t len;

	/* past PUSH_MAX_FILE, after a whole file */
	send_file(f, "pstree.img", 1000, false, false);
	begin(f, "pages-1.img");
	data(f, PUSH_MAX_FILE - 8, b, 16);
	refused(f, EFBIG, "pages-1.img: data at 1099511627768..1099511627784, past");

	f->t->len = f->t->pos = 0; /* a wrong crc32c */
	send_file(f, "pstree.img", 1000, false, false);
	assert_int_equal(utest_read_file(f->src, "pipes-data-1.img", &buf, &len), 0);
	begin(f, "pipes-data-1.img");
	data(f, 0, buf, len);
	end(f, len, 0x12345678);
	refused(f, EBADMSG, "pipes-data-1.img: the bytes that came sum to crc32c");

	f->t->len = f->t->pos = 0; /* a wrong size */
	begin(f, "pipes-data-1.img");
	data(f, 0, buf, len);
	end(f, len + 1, 0);
	refused(f, EBADMSG, "pipes-data-1.img: 9 bytes came, its end says 10");

	f->t->len = f->t->pos = 0; /* a name outside the directory */
	begin(f, "../outside.img");
	refused(f, EBADMSG, "a file name that holds '/'");
	assert_false(utest_file_exists(f->dst, "../outside.img"));

	f->t->len = f->t->pos = 0; /* not an image file's name */
	begin(f, "lazy-pages.sock");
	refused(f, EBADMSG, "\"lazy-pages.sock\" is not the name of an image file");

	f->t->len = f->t->pos = 0; /* a temp name that is a symlink to a file outside */
	{
		char *target;

		assert_int_equal(utest_write_file(f->outside, "victim", "keep", 4), 0);
		assert_true(asprintf(&target, "%s/victim", f->outside) > 0);
		assert_int_equal(symlinkat(target, img_dir_fd(f->d), "core-1.img.tmp"), 0);
		free(target);
		begin(f, "core-1.img");
		data(f, 0, b, 16);
		{
			struct push_files out;
			struct img_err err = { 0 };

			assert_int_equal(receive(f, &out, &err), -EEXIST);
			assert_non_null(strstr(err.msg, "core-1.img.tmp: cannot create"));
		}
		assert_int_equal(unlinkat(img_dir_fd(f->d), "core-1.img.tmp", 0), 0);
		free(buf);
		assert_int_equal(utest_read_file(f->outside, "victim", &buf, &len), 0);
		assert_int_equal(len, 4);
		assert_memory_equal(buf, "keep", 4);
	}

	f->t->len = f->t->pos = 0; /* closed mid-file */
	send_file(f, "pstree.img", 1000, false, false);
	begin(f, "pages-1.img");
	data(f, 0, b, 16);
	f->t->len -= 5; /* and mid-frame */
	refused(f, EPIPE, CLIENT " closed the connection in the middle of a push (1 file(s) in)");

	f->t->len = f->t->pos = 0; /* the sender gives up */
	send_file(f, "pstree.img", 1000, false, false);
	kind(f, XFER_KIND__XFER_ERROR, "the dump failed");
	refused(f, ECONNABORTED, CLIENT " gave the push up: the dump failed");

	f->t->len = f->t->pos = 0; /* a file twice */
	send_file(f, "pstree.img", 1000, false, false);
	send_file(f, "pstree.img", 1000, false, false);
	refused(f, EEXIST, "pstree.img.tmp: rename to pstree.img: it is there already");

	f->t->len = f->t->pos = 0; /* data before a file begins */
	data(f, 0, b, 16);
	refused(f, EPROTO, "file data with no file begun");
	free(buf);
}

static void test_done_refused(void **state)
{
	struct fx *f = *state;

	send_file(f, "pstree.img", 1000, false, true); /* still open */
	kind(f, XFER_KIND__XFER_DONE, NULL);
	refused(f, EPROTO, "done while pstree.img is open");

	f->t->len = f->t->pos = 0; /* inventory.img not last */
	send_file(f, "inventory.img", 1000, false, false);
	send_file(f, "pstree.img", 1000, false, false);
	kind(f, XFER_KIND__XFER_DONE, NULL);
	refused(f, EBADMSG, "the last file was pstree.img, not inventory.img");

	f->t->len = f->t->pos = 0; /* a file the manifest does not list (one it lists missing) */
	send_file(f, "pstree.img", 1000, false, false);
	send_file(f, "pipes-data-1.img", 1000, false, false);
	send_file(f, "pagemap-1.img", 1000, false, false);
	send_file(f, "inventory.img", 1000, false, false);
	kind(f, XFER_KIND__XFER_DONE, NULL);
	refused(f, EBADMSG, "the manifest lists 4 files, 3 came");

	f->t->len = f->t->pos = 0; /* another dump id than the HELLO's */
	send_set(f, 1 << 20, false);
	kind(f, XFER_KIND__XFER_DONE, NULL);
	{
		struct push_files out;
		struct img_err err = { 0 };

		assert_int_equal(push_receive(mem_read, f->t, CLIENT, f->d, DUMP_ID + 1,
					      payload_buf, &out, &err),
				 -EBADMSG);
		assert_non_null(strstr(err.msg, "inventory.img is of dump 0badcafe, the push said "
						"0badcaff"));
		assert_int_equal(utest_dir_entries(f->dst), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_done_refused, setup, teardown),
	};

	xfer_fx_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
