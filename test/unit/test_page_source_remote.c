/* test_page_source_remote: what a lazy restore's remote page source (lazy-pages
 * --page-server, lazy-pages/page-source-remote.c) takes from a page server, against the
 * pagemaps of its own directory.
 *
 * In a network namespace of its own (skipped, saying so, without root), a page server (a
 * thread: page_server_run) serves directory A; the source reads directory B, which holds the
 * same dump's images but the pages files:
 * - same: B's pagemap is A's: every page comes (get() of each run, fetch() of the whole file),
 *   equal to what was dumped, zero pages too; the stream brings every chunk (arrived() covers
 *   the file, streaming() ends);
 * - damaged: B's pagemap says what the dump held, A holds other bytes in one chunk (and a
 *   pagemap of its own that matches them, so A's own checks pass): get() of a page in that
 *   chunk fails with -EBADMSG, the pages of other chunks still come;
 * - another dump: B's dump id differs from A's: the source is refused at its hello;
 * - a sink (as a running fault loop gives): A serves from memory (live_read, held until the sink
 *   is set), the stream hands every chunk to the sink, checked, equal to what was dumped; what the
 *   sink placed everywhere is not kept (nothing arrives, a later get() asks the faults
 *   connection for it), what it did not is kept (all of it arrives, get() asks nothing); a
 *   damaged chunk never reaches the sink. */
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "images/pages.h"
#include "inventory.pb-c.h"
#include "lazy-pages/page-server.h"
#include "lazy-pages/page-source.h"
#include "lazy-pages/xfer-conn.h"

#define PG     4096u
#define NPAGES 40 /* 5 chunks */
#define BASE   0x200000ull

struct fx {
	char a[64], b[64];
	struct img_dir *da, *db;
	struct xfer_auth *auth;
	int lsk;
	uint16_t port;
	volatile sig_atomic_t stop;
	pthread_t srv;
	struct page_source *src;
	const uint8_t *live;	   /* A serves these bytes from memory (no pages file) */
	_Atomic bool gate;	   /* ... once this is set */
	bool sink_all, bad_bytes;  /* the sink's answer; it saw bytes other than the dump's */
	uint8_t seen[NPAGES * PG]; /* what the sink got */
	uint64_t seen_bytes;
};

static uint8_t data[NPAGES * PG];

static void fill(void)
{
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + i / PG + 3);
	memset(data + 12 * PG, 0, 2 * PG); /* zero pages travel as a zero_map */
}

/* inventory.img with dump id and pagemap-3.img + pages-3.img of bytes d */
static void write_dump(struct img_dir *dir, uint32_t dump_id, const uint8_t *d)
{
	InventoryEntry inv = INVENTORY_ENTRY__INIT;
	const ProtobufCMessage *msgs[] = { &inv.base };
	struct img_err err = { 0 };
	struct page_writer *w;

	img_dir_set_dump_id(dir, dump_id);
	assert_int_equal(page_writer_open(dir, 3, &w, &err), 0);
	assert_true(page_writer_add(w, BASE, NPAGES, PAGEMAP_FLAGS__PE_PRESENT, d, &err) >= 0);
	assert_int_equal(page_writer_commit(w, &err), 0);
	inv.img_version = IMG_VERSION;
	inv.root_pid = 3;
	inv.page_size = PG;
	inv.kernel_release = "test";
	inv.dump_time_ns = 1;
	inv.has_dump_id = true;
	inv.dump_id = dump_id;
	assert_int_equal(img_write_file(dir, IMG_INVENTORY, 0, msgs, 1, &err), 0);
}

static int live_read(void *arg, enum img_kind kind, uint32_t id, uint64_t off, uint64_t len,
		     void *buf)
{
	struct fx *f = arg;

	(void)kind;
	(void)id;
	for (int i = 0; i < 10000 && !f->gate; i++)
		usleep(1000);
	memcpy(buf, f->live + off, len);
	return 0;
}

static void *serve(void *arg)
{
	struct fx *f = arg;
	struct page_server_opts o = { .stop = &f->stop };

	if (f->live) {
		o.live_read = live_read;
		o.live_arg = f;
	}
	struct ps_stats st = { 0 };

	page_server_run(f->da, f->lsk, f->auth, &o, &st);
	return NULL;
}

/* lo up in a network namespace of our own; false when we may not */
static bool own_netns(void)
{
	struct ifreq ifr = { 0 };
	int s;

	if (unshare(CLONE_NEWNET))
		return false;
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	assert_true(s >= 0);
	assert_int_equal(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	assert_int_equal(ioctl(s, SIOCSIFFLAGS, &ifr), 0);
	close(s);
	return true;
}

/* A holds the dump of bytes da (id ida), B the pagemap of bytes db (id idb); a server on A */
static void start(struct fx *f, const uint8_t *da, uint32_t ida, const uint8_t *db, uint32_t idb)
{
	struct img_err err = { 0 };
	struct remote_opts ro = { .address = "127.0.0.1" };
	char p[96];

	snprintf(f->a, sizeof(f->a), "/tmp/test-psr-a-XXXXXX");
	snprintf(f->b, sizeof(f->b), "/tmp/test-psr-b-XXXXXX");
	assert_non_null(mkdtemp(f->a));
	assert_non_null(mkdtemp(f->b));
	assert_int_equal(img_dir_open(f->a, false, &f->da, &err), 0);
	assert_int_equal(img_dir_open(f->b, false, &f->db, &err), 0);
	write_dump(f->da, ida, da);
	write_dump(f->db, idb, db);
	snprintf(p, sizeof(p), "%s/pages-3.img", f->b); /* B has no pages file */
	assert_int_equal(unlink(p), 0);
	if (f->live) {
		snprintf(p, sizeof(p), "%s/pages-3.img", f->a);
		assert_int_equal(unlink(p), 0);
	}
	assert_int_equal(xfer_auth_insecure(&f->auth), 0);
	f->lsk = xfer_listen("127.0.0.1", 0, &err);
	assert_true(f->lsk >= 0);
	f->port = (uint16_t)xfer_listen_port(f->lsk);
	assert_int_equal(pthread_create(&f->srv, NULL, serve, f), 0);
	ro.port = f->port;
	ro.auth = f->auth;
	f->src = NULL;
	page_source_remote(f->db, &ro, &f->src);
}

static void stop(struct fx *f)
{
	char cmd[160];

	page_source_close(f->src);
	f->stop = 1;
	pthread_join(f->srv, NULL);
	close(f->lsk);
	xfer_auth_free(f->auth);
	img_dir_close(f->da);
	img_dir_close(f->db);
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", f->a, f->b);
	assert_int_equal(system(cmd), 0);
}

static void test_same(void **state)
{
	struct fx f = { 0 };
	uint64_t got = 0, off, len;
	const void *d;
	enum img_kind kind;
	uint32_t id;

	(void)state;
	if (!own_netns())
		skip();
	start(&f, data, 77, data, 77);
	assert_non_null(f.src);
	for (int p = 0; p < NPAGES; p += 3) { /* pages, each a fault's worth, in any order */
		int n = p + 3 <= NPAGES ? 3 : NPAGES - p;

		assert_int_equal(f.src->ops->get(f.src, IMG_PAGEMAP, 3, BASE + p * PG, n, NULL, &d),
				 0);
		assert_memory_equal(d, data + p * PG, n * PG);
	}
	assert_int_equal(f.src->ops->fetch(f.src, IMG_PAGEMAP, 3, 0, sizeof(data), &d), 0);
	assert_memory_equal(d, data, sizeof(data));
	/* the stream, whatever the faults took first: until it says it is done */
	while (f.src->ops->streaming(f.src) || f.src->ops->arrived(f.src, &kind, &id, &off, &len)) {
		if (f.src->ops->arrived(f.src, &kind, &id, &off, &len)) {
			assert_int_equal(kind, IMG_PAGEMAP);
			assert_int_equal(id, 3);
			assert_true(off + len <= sizeof(data));
			got += len;
		}
		usleep(1000);
	}
	assert_true(got <= sizeof(data)); /* what faults took is not brought again */
	stop(&f);
}

static void test_damaged(void **state)
{
	static uint8_t other[sizeof(data)];
	struct fx f = { 0 };
	const void *d;

	(void)state;
	if (!own_netns())
		skip();
	memcpy(other, data, sizeof(data));
	other[2 * 8 * PG + 100] ^= 1; /* chunk 2 (pages 16-23) differs on A */
	start(&f, other, 77, data, 77);
	assert_non_null(f.src);
	assert_int_equal(f.src->ops->get(f.src, IMG_PAGEMAP, 3, BASE + 17 * PG, 1, NULL, &d),
			 -EBADMSG);
	assert_int_equal(f.src->ops->get(f.src, IMG_PAGEMAP, 3, BASE + 30 * PG, 2, NULL, &d), 0);
	assert_memory_equal(d, data + 30 * PG, 2 * PG);
	stop(&f);
}

static void test_other_dump(void **state)
{
	struct fx f = { 0 };

	(void)state;
	if (!own_netns())
		skip();
	start(&f, data, 77, data, 78);
	assert_null(f.src);
	stop(&f);
}

static void sink_deliver(void *arg, enum img_kind kind, uint32_t id, uint64_t off, uint64_t len,
			 const void *d, bool *all, bool *wake)
{
	struct fx *f = arg;

	if (kind != IMG_PAGEMAP || id != 3 || off + len > sizeof(data) ||
	    memcmp(d, f->live + off, len))
		f->bad_bytes = true;
	else
		memcpy(f->seen + off, d, len);
	f->seen_bytes += len;
	*all = f->sink_all;
	*wake = false;
}

/* A live server of bytes live, a source with a sink answering all; the stream run to its end;
 * the bytes that arrived (queued for arrived()) */
static uint64_t stream_to_sink(struct fx *f, const uint8_t *live, bool all)
{
	struct page_sink sink = { .arg = f, .deliver = sink_deliver };
	uint64_t got = 0, off, len;
	enum img_kind kind;
	uint32_t id;

	f->live = live;
	f->sink_all = all;
	start(f, data, 77, data, 77);
	assert_non_null(f->src);
	f->src->ops->serve_lock(f->src, true, false);
	f->src->ops->set_sink(f->src, &sink);
	f->src->ops->serve_lock(f->src, false, false);
	f->gate = true;
	while (f->src->ops->streaming(f->src))
		usleep(1000);
	while (f->src->ops->arrived(f->src, &kind, &id, &off, &len))
		got += len;
	f->src->ops->serve_lock(f->src, true, false);
	f->src->ops->set_sink(f->src, NULL);
	f->src->ops->serve_lock(f->src, false, false);
	assert_false(f->bad_bytes);
	return got;
}

/* all: the sink placed every page: nothing is kept or queued, a get() asks the server again;
 * else all of it is kept and queued, and a fetch() of the whole file asks for nothing */
static void sink_case(bool all)
{
	static struct fx f;
	struct remote_stats st;
	const void *d;

	if (!own_netns())
		skip();
	memset(&f, 0, sizeof(f));
	assert_int_equal(stream_to_sink(&f, data, all), all ? 0 : sizeof(data));
	assert_int_equal(f.seen_bytes, sizeof(data));
	assert_memory_equal(f.seen, data, sizeof(data));
	page_source_remote_stats(f.src, &st);
	assert_int_equal(st.pages_stream, NPAGES);
	assert_int_equal(st.requests, 0);
	if (all)
		assert_int_equal(f.src->ops->get(f.src, IMG_PAGEMAP, 3, BASE + 9 * PG, 2, NULL, &d),
				 0);
	else
		assert_int_equal(f.src->ops->fetch(f.src, IMG_PAGEMAP, 3, 0, sizeof(data), &d), 0);
	assert_memory_equal(d, data + (all ? 9 * PG : 0), all ? 2 * PG : sizeof(data));
	page_source_remote_stats(f.src, &st);
	assert_int_equal(st.requests, all ? 1 : 0); /* not kept: asked for again, checked again */
	stop(&f);
}

static void test_sink_placed(void **state)
{
	(void)state;
	sink_case(true);
}

static void test_sink_kept(void **state)
{
	(void)state;
	sink_case(false);
}

static void test_sink_damaged(void **state)
{
	static uint8_t other[sizeof(data)], zero[8 * PG];
	static struct fx f;
	const void *d;

	(void)state;
	if (!own_netns())
		skip();
	memset(&f, 0, sizeof(f));
	memcpy(other, data, sizeof(data));
	other[2 * 8 * PG + 100] ^= 1; /* chunk 2 (pages 16-23) differs on A */
	stream_to_sink(&f, other, true);
	assert_memory_equal(f.seen + 2 * 8 * PG, zero, sizeof(zero)); /* never handed over */
	assert_true(f.seen_bytes <= 2 * 8 * PG);
	assert_int_equal(f.src->ops->get(f.src, IMG_PAGEMAP, 3, BASE + 17 * PG, 1, NULL, &d),
			 -EBADMSG);
	/* the good chunks of a damaged frame are neither kept nor taken for kept */
	assert_int_equal(f.src->ops->get(f.src, IMG_PAGEMAP, 3, BASE + 3 * PG, 2, NULL, &d), 0);
	assert_memory_equal(d, data + 3 * PG, 2 * PG);
	stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same),	   cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_other_dump), cmocka_unit_test(test_sink_placed),
		cmocka_unit_test(test_sink_kept),  cmocka_unit_test(test_sink_damaged),
	};

	signal(SIGPIPE, SIG_IGN);
	fill();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
