/* test_ps_serve: the page server in its seccomp sandbox (lazy-pages/page-server.h,
 * ps-sandbox.h), in a child of the test's own network namespace (root; lo up), its clients in
 * another child.
 * - serve_tls, serve_insecure: an image directory of 40 pages (some zero) served by
 *   page_server_serve() in a sandboxed child to page_source_remote(): every page by fault and
 *   the whole file come back right; a client with another key is refused (TLS); the server
 *   SIGSTOPped and SIGCONTinued (its polls restart), 12 connections held open at once, a second
 *   session; SIGTERM stops it, exit 0, and its figures add up.
 * - push: the same server started on an empty directory (its sandbox with the calls of a
 *   receiving server): a push with another key is refused; a push cut in the middle of a pages
 *   file leaves no file behind; a push of the images (lazy-pages/push-client.h, the sink of the
 *   images library) is taken, the directory then holds the dump, and a restore's session is
 *   served from it; a second push is refused (EEXIST), the first dump stays; SIGTERM, exit 0,
 *   its figures (1 push, 1 failed, 1 session). */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sched.h>
#include <unistd.h>

#include <cmocka.h>

#include "criu-lite/log.h"
#include "images/pages.h"
#include "inventory.pb-c.h"
#include "lazy-pages/page-server.h"
#include "lazy-pages/page-source.h"
#include "lazy-pages/ps-sandbox.h"
#include "lazy-pages/push-client.h"
#include "lazy-pages/xfer-conn.h"
#include "util_fs.h"
#include "util_log.h"

#define SKIPPED	 77
#define NPAGES	 40
#define NTHREADS 12
#define PG	 IMG_PAGE_SIZE
#define DUMP_ID	 0x5eedc0deu

static struct utest_logdir ld;

static int setup(void **state)
{
	(void)state;
	return utest_logdir_open(&ld, "ps-serve") ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	utest_logdir_close(&ld);
	return 0;
}

static void expect_exit(int status, int code, const char *what)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == code)
		return;
	if (WIFSIGNALED(status))
		fail_msg("%s: killed by signal %d (%s), expected exit %d", what, WTERMSIG(status),
			 strsignal(WTERMSIG(status)), code);
	fail_msg("%s: exit %d, expected %d", what, WEXITSTATUS(status), code);
}

/* in the network child: a failed check ends it with exit 1 after saying what and the log */
#define CHECK(c)                                                                        \
	do {                                                                            \
		if (!(c)) {                                                             \
			fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #c); \
			dump_log();                                                     \
			_exit(1);                                                       \
		}                                                                       \
	} while (0)

static pid_t srv_pid; /* the network child's server */

/* what the log says, and how the server ended if it did (a SIGSYS: the sandbox killed it) */
static void dump_log(void)
{
	struct img_err err = { 0 };
	int status;
	void *b;
	size_t n;

	if (!utest_read_file(ld.dir, "test.log", &b, &n)) {
		fprintf(stderr, "---- test.log ----\n%.*s---- end ----\n", (int)n, (char *)b);
		free(b);
	}
	if (srv_pid > 0 && waitpid(srv_pid, &status, WNOHANG) == srv_pid)
		fprintf(stderr, "the server ended: %s (status 0x%x)\n",
			ps_sandbox_status(srv_pid, status, &err) < 0 ? err.msg : "exit", status);
}

static volatile sig_atomic_t stop;
static const struct page_server_opts srv_opts = { .stop = &stop };

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static uint8_t *pages_data(void)
{
	uint8_t *data = malloc(NPAGES * PG);

	CHECK(data);
	for (size_t i = 0; i < NPAGES * PG; i++)
		data[i] = (uint8_t)(i * 13 + i / PG + 1);
	memset(data + 5 * PG, 0, 3 * PG); /* zero pages: sent as a zero_map */
	return data;
}

/* pagemap-3.img + pages-3.img (NPAGES pages in two runs), then inventory.img with dump_id and
 * the manifest; into d, a directory or a sink */
static void write_images(struct img_dir *d, const uint8_t *data, uint32_t dump_id)
{
	InventoryEntry inv = INVENTORY_ENTRY__INIT;
	const ProtobufCMessage *msgs[] = { &inv.base };
	ManifestEntry ents[2], *v[2];
	struct img_err err = { 0 };
	struct page_writer *w;

	img_dir_set_dump_id(d, dump_id);
	CHECK(!page_writer_open(d, 3, &w, &err));
	CHECK(page_writer_add(w, 0x100000, 10, PAGEMAP_FLAGS__PE_PRESENT, data, &err) >= 0);
	CHECK(page_writer_add(w, 0x400000, NPAGES - 10, PAGEMAP_FLAGS__PE_PRESENT, data + 10 * PG,
			      &err) >= 0);
	CHECK(!page_writer_commit(w, &err));
	CHECK(img_dir_nr_written(d) == 2);
	for (size_t i = 0; i < 2; i++) {
		struct img_file_note f = img_dir_written(d, i);

		manifest_entry__init(&ents[i]);
		ents[i].name = (char *)f.name;
		ents[i].size = f.size;
		ents[i].crc32c = f.crc;
		v[i] = &ents[i];
	}
	inv.n_files = 2;
	inv.files = v;
	inv.img_version = IMG_VERSION;
	inv.root_pid = 3;
	inv.page_size = PG;
	inv.kernel_release = "test";
	inv.dump_time_ns = 1;
	inv.has_dump_id = true;
	inv.dump_id = dump_id;
	CHECK(!img_write_file(d, IMG_INVENTORY, 0, msgs, 1, &err));
}

/* the sandboxed server: serves until SIGTERM (dirfd: it may receive a dump there) */
static _Noreturn void server(const struct page_server_dir *pd, int l, int dirfd,
			     const struct xfer_auth *a, struct ps_stats *st)
{
	struct sigaction sa = { .sa_handler = on_term };
	struct img_err err = { 0 };

	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (ps_sandbox_enter(l, dirfd, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		_exit(100);
	}
	_exit(page_server_serve(pd, l, a, &srv_opts, st) ? 1 : 0);
}

/* one restore's session: every page by fault, then the whole pages file */
static void session(uint16_t port, const struct xfer_auth *a, const uint8_t *data)
{
	struct remote_opts ro = { .address = "127.0.0.1", .port = port, .auth = a };
	const struct page_run *runs;
	struct page_source *src;
	const void *p;
	size_t n;

	CHECK(!page_source_remote(ld.img, &ro, &src));
	CHECK(!src->ops->runs(src, IMG_PAGEMAP, 3, &runs, &n) && n == 2);
	for (size_t i = 0; i < n; i++)
		for (uint64_t k = 0; k < runs[i].nr_pages; k++) {
			uint64_t off = runs[i].offset + k * PG;

			CHECK(!src->ops->get(src, IMG_PAGEMAP, 3, runs[i].vaddr + k * PG, 1, NULL,
					     &p));
			CHECK(!memcmp(p, data + off, PG));
		}
	CHECK(!src->ops->fetch(src, IMG_PAGEMAP, 3, 0, NPAGES * PG, &p));
	CHECK(!memcmp(p, data, NPAGES * PG));
	CHECK(!page_source_remote_done(src));
	page_source_close(src);
}

static void lo_up(void)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	CHECK(s >= 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	CHECK(!ioctl(s, SIOCGIFFLAGS, &ifr));
	ifr.ifr_flags |= IFF_UP;
	CHECK(!ioctl(s, SIOCSIFFLAGS, &ifr));
	close(s);
}

static struct xfer_auth *key(const char *name, uint8_t fill)
{
	struct xfer_auth *a;
	struct img_err err = { 0 };
	uint8_t b[64];
	char path[4096];

	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(fill + i * 7);
	CHECK(!utest_write_file(ld.dir, name, b, sizeof(b)));
	snprintf(path, sizeof(path), "%s/%s", ld.dir, name);
	CHECK(!chmod(path, 0600));
	CHECK(!xfer_auth_load(path, &a, &err));
	return a;
}

/* the network child: in a namespace of its own, the server in a sandboxed child of its own */
static _Noreturn void serve_main(bool tls)
{
	struct xfer_auth *a, *other = NULL;
	struct xfer_conn *held[NTHREADS];
	struct page_server_dir *pd;
	struct img_err err = { 0 };
	struct ps_stats *st;
	uint8_t *data;
	uint16_t port;
	int l, status;
	pid_t srv;

	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "unshare(CLONE_NEWNET): %s\n", strerror(errno));
		_exit(SKIPPED);
	}
	lo_up();
	data = pages_data();
	write_images(ld.img, data, DUMP_ID);
	if (tls) {
		a = key("key-a", 1);
		other = key("key-b", 2);
	} else {
		CHECK(!xfer_auth_insecure(&a));
	}
	CHECK(!page_server_load(ld.img, &srv_opts, &pd));
	st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(st != MAP_FAILED);
	l = xfer_listen("127.0.0.1", 0, &err);
	CHECK(l >= 0);
	port = (uint16_t)xfer_listen_port(l);
	srv = fork();
	CHECK(srv >= 0);
	if (!srv)
		server(pd, l, -1, a, st);
	srv_pid = srv;
	close(l);

	session(port, a, data);
	if (tls) { /* another key: refused by the handshake */
		struct xfer_conn *c;

		memset(&err, 0, sizeof(err));
		CHECK(xfer_connect("127.0.0.1", port, other, 5000, &c, &err) == -EACCES);
	}
	/* stopped and continued, its waits restart (restart_syscall) */
	CHECK(!kill(srv, SIGSTOP));
	usleep(300000);
	CHECK(!kill(srv, SIGCONT));
	usleep(100000);
	/* NTHREADS connection threads at once, each with its allocations */
	for (int i = 0; i < NTHREADS; i++)
		CHECK(!xfer_connect("127.0.0.1", port, a, 5000, &held[i], &err));
	usleep(300000);
	for (int i = 0; i < NTHREADS; i++)
		xfer_conn_close(held[i]);
	session(port, a, data);

	CHECK(!kill(srv, SIGTERM));
	CHECK(waitpid(srv, &status, 0) == srv);
	srv_pid = 0;
	memset(&err, 0, sizeof(err));
	if (ps_sandbox_status(srv, status, &err)) {
		fprintf(stderr, "the server: %s (status 0x%x)\n", err.msg, status);
		dump_log();
		_exit(1);
	}
	CHECK(st->sessions == 2);
	CHECK(st->connections == 4 + NTHREADS + (tls ? 1 : 0));
	CHECK(st->refused == (tls ? 1u : 0u));
	CHECK(st->pages_fault + st->pages_stream >= 2 * NPAGES);
	CHECK(st->zero_pages >= 2 * 3);
	CHECK(utest_log_has(ld.log, "session"));
	page_server_dir_free(pd);
	xfer_auth_free(a);
	xfer_auth_free(other);
	free(data);
	_exit(0);
}

/* The image files of ld.img (not the keys or the log). */
static unsigned int image_files(void)
{
	struct img_dir_usage u;
	struct img_err err = { 0 };

	CHECK(!img_dir_usage(ld.img, &u, &err));
	return u.files;
}

/* A push of the images of write_images() through the sink of the images library. */
static int push(uint16_t port, const struct xfer_auth *a, uint32_t dump_id, const uint8_t *data,
		struct img_err *err)
{
	struct push_client *pc;
	struct img_dir *d;
	int ret = push_connect("127.0.0.1", port, a, dump_id, &pc, err);

	if (ret)
		return ret;
	CHECK(!img_dir_open_sink("the test's push", &push_sink_ops, pc, &d, err));
	write_images(d, data, dump_id);
	ret = push_finish(pc, err);
	img_dir_close(d);
	push_close(pc);
	return ret;
}

/* the network child: a sandboxed server on an empty directory receives a dump, then serves it */
static _Noreturn void push_main(bool tls)
{
	struct xfer_auth *a = key("key-a", 1), *other = key("key-b", 2);
	struct page_server_dir *pd;
	struct img_err err = { 0 };
	struct push_client *pc;
	struct page_writer *w;
	struct ps_stats *st;
	struct img_dir *d;
	uint8_t *data;
	uint16_t port;
	int l, status;
	uint32_t id;
	pid_t srv;

	(void)tls;
	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "unshare(CLONE_NEWNET): %s\n", strerror(errno));
		_exit(SKIPPED);
	}
	lo_up();
	data = pages_data();
	CHECK(!page_server_load(ld.img, &srv_opts, &pd) && page_server_dir_empty(pd));
	st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(st != MAP_FAILED);
	l = xfer_listen("127.0.0.1", 0, &err);
	CHECK(l >= 0);
	port = (uint16_t)xfer_listen_port(l);
	srv = fork();
	CHECK(srv >= 0);
	if (!srv)
		server(pd, l, img_dir_fd(ld.img), a, st);
	srv_pid = srv;
	close(l);

	/* another key: refused by the handshake */
	CHECK(push_connect("127.0.0.1", port, other, DUMP_ID, &pc, &err) == -EACCES);
	/* a push cut in the middle of a pages file: what came goes */
	CHECK(!push_connect("127.0.0.1", port, a, DUMP_ID, &pc, &err));
	CHECK(!img_dir_open_sink("the test's push", &push_sink_ops, pc, &d, &err));
	CHECK(!page_writer_open(d, 3, &w, &err));
	CHECK(!page_writer_add(w, 0x100000, NPAGES, PAGEMAP_FLAGS__PE_PRESENT, data, &err));
	page_writer_abort(w);
	img_dir_close(d);
	push_close(pc); /* no abort: the connection just goes */
	for (int i = 0; i < 500 && !st->pushes_failed; i++)
		usleep(10000);
	CHECK(st->pushes_failed == 1 && image_files() == 0);
	/* the push, then a restore's session served from what came */
	memset(&err, 0, sizeof(err));
	if (push(port, a, DUMP_ID, data, &err)) {
		fprintf(stderr, "push: %s\n", err.msg);
		CHECK(0);
	}
	CHECK(!img_dir_dump_id(ld.img, &id, &err) && id == DUMP_ID && image_files() == 3);
	session(port, a, data);
	/* a second dump: refused, the first stays */
	CHECK(push(port, a, DUMP_ID + 1, data, &err) == -EEXIST);
	CHECK(strstr(err.msg, "holds dump 5eedc0de: a page server takes a dump only into a "
			      "directory that holds none"));

	CHECK(!kill(srv, SIGTERM));
	CHECK(waitpid(srv, &status, 0) == srv);
	srv_pid = 0;
	memset(&err, 0, sizeof(err));
	if (ps_sandbox_status(srv, status, &err)) {
		fprintf(stderr, "the server: %s (status 0x%x)\n", err.msg, status);
		dump_log();
		_exit(1);
	}
	CHECK(st->pushes == 1 && st->pushes_failed == 1 && st->sessions == 1);
	CHECK(st->bytes_received > NPAGES * PG && st->refused == 1);
	CHECK(image_files() == 3 && utest_log_has(ld.log, "received dump 5eedc0de"));
	page_server_dir_free(pd);
	xfer_auth_free(a);
	xfer_auth_free(other);
	free(data);
	_exit(0);
}

static void in_netns(void (*fn)(bool), bool tls, const char *what)
{
	int status;
	pid_t pid;

	if (geteuid() != 0) {
		print_message("skipped: a network namespace of its own needs root\n");
		skip();
	}
	pid = fork();
	assert_true(pid >= 0);
	if (!pid)
		fn(tls);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == SKIPPED) {
		print_message("skipped: no network namespace of its own (see above)\n");
		skip();
	}
	expect_exit(status, 0, what);
}

static void test_serve_tls(void **state)
{
	(void)state;
	in_netns(serve_main, true, "serving with TLS");
}

static void test_serve_insecure(void **state)
{
	(void)state;
	in_netns(serve_main, false, "serving with --insecure");
}

static void test_push(void **state)
{
	(void)state;
	in_netns(push_main, true, "receiving a push, then serving it");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_serve_tls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serve_insecure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_push, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
