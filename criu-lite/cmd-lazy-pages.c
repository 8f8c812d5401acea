/* cmd-lazy-pages: `criu-lite lazy-pages -D DIR`: serve the page faults of a tree restored with
 * `restore --lazy-pages` from the same DIR; with --page-server --address A --port P, the pages
 * come from `criu-lite page-server` on another host (DIR then needs no pages files: the restore
 * is told so in LAZY_READY and asks for the pages it fills itself on a channel of its own).
 *
 * It listens on DIR/lazy-pages.sock (removed again once the restore is connected), opens every
 * page image and checks its metadata and chunk checksums against the file's (the data itself is
 * checked chunk by chunk as it is served: images/pagecrc.h), takes one restore (a peer of another
 * uid is refused: SO_PEERCRED), says LAZY_READY, and runs the fault loop
 * (lazy-pages/lazy-serve.h) over the local page images until every page is in; then one
 * summary line (pages by fault, fault-around and prefetch; fault latency p50/p99/max; the time
 * the tasks were blocked on faults; the time until all pages were in) and --stats-file.
 * -d returns once it listens and has its page source (the server goes on in a child; --pidfile
 * names it). Exit 0 when every page went in or its task ended, 1 otherwise (the restore's
 * guardian then kills the tree). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_PREFIX "lazy-pages: "
#include "criu-lite/cli.h"
#include "criu-lite/fault.h"
#include "criu-lite/log.h"
#include "criu-lite/netopts.h"
#include "criu-lite/progress.h"
#include "criu-lite/stats.h"
#include "images/img.h"
#include "lazy-pages/lazy-ctl.h"
#include "lazy-pages/lazy-serve.h"
#include "lazy-pages/page-source.h"
#include "lazy-pages/working-set.h"

/* The restore, from a process of our uid. */
static int accept_restore(int lsk, const char *dir)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	int sk = accept4(lsk, NULL, NULL, SOCK_CLOEXEC);

	if (sk < 0) {
		pr_perror("accept on %s/%s", dir, LAZY_CTL_SOCK);
		return -errno;
	}
	if (getsockopt(sk, SOL_SOCKET, SO_PEERCRED, &cr, &len) || cr.uid != geteuid()) {
		pr_err("refused a connection from pid %d, uid %u: not uid %u\n", cr.pid, cr.uid,
		       geteuid());
		close(sk);
		return -EACCES;
	}
	pr_info("restore pid %d connected\n", cr.pid);
	return sk;
}

static int report(const struct opts *o, struct lazy_stats *st, struct page_source *src)
{
	struct remote_stats rs = { 0 };
	struct stats s = { 0 };
	uint64_t pages = st->pages_fault + st->pages_around + st->pages_prefetch;
	uint64_t shm = st->shm_pages_fault + st->shm_pages_prefetch;
	double p50 = lazy_stats_quantile(st, 0.5), p99 = lazy_stats_quantile(st, 0.99);
	double mx = lazy_stats_quantile(st, 1.0);

	stats_count(&s, "tasks", st->tasks);
	stats_count(&s, "forks", st->forks);
	stats_count(&s, "faults", st->faults);
	stats_count(&s, "zero_faults", st->zero_faults);
	stats_count(&s, "pages_fault", st->pages_fault);
	stats_count(&s, "pages_around", st->pages_around);
	stats_count(&s, "pages_prefetch", st->pages_prefetch);
	stats_count(&s, "events_remove", st->events_remove);
	stats_count(&s, "events_unmap", st->events_unmap);
	stats_count(&s, "events_remap", st->events_remap);
	stats_count(&s, "ws_pages", st->ws_pages);
	stats_count(&s, "shm_objects", st->shm_objects);
	stats_count(&s, "minor_faults", st->minor_faults);
	stats_count(&s, "continues", st->continues);
	stats_count(&s, "shm_pages_fault", st->shm_pages_fault);
	stats_count(&s, "shm_pages_prefetch", st->shm_pages_prefetch);
	stats_secs(&s, "fault_p50_s", p50);
	stats_secs(&s, "fault_p99_s", p99);
	stats_secs(&s, "fault_max_s", mx);
	stats_secs(&s, "blocked_s", st->blocked_s);
	stats_secs(&s, "all_pages_s", st->all_pages_s);
	if (o->page_server) {
		char b[32];

		page_source_remote_stats(src, &rs);
		stats_count(&s, "remote_requests", rs.requests);
		stats_count(&s, "remote_pages_fault", rs.pages_fault);
		stats_count(&s, "remote_pages_stream", rs.pages_stream);
		stats_count(&s, "remote_bytes", rs.bytes);
		stats_secs(&s, "remote_wait_s", rs.wait_s);
		stats_bytes_str(rs.bytes, b, sizeof(b));
		pr_info("from %s:%d: %llu pages asked for in %llu requests (waited %.3f s), %llu "
			"streamed, %s received\n",
			o->address, o->port, (unsigned long long)rs.pages_fault,
			(unsigned long long)rs.requests, rs.wait_s,
			(unsigned long long)rs.pages_stream, b);
	}
	log_summary("lazy-pages: %llu pages in (%llu on %llu faults, %llu around them, %llu "
		    "prefetched; %llu of shared objects, %llu MINOR faults), fault latency p50 "
		    "%.1f us, p99 %.1f us, max %.1f us, tasks blocked %.3f s, all pages in after "
		    "%.3f s\n",
		    (unsigned long long)(pages + shm), (unsigned long long)st->pages_fault,
		    (unsigned long long)st->faults, (unsigned long long)st->pages_around,
		    (unsigned long long)st->pages_prefetch, (unsigned long long)shm,
		    (unsigned long long)st->minor_faults, p50 * 1e6, p99 * 1e6, mx * 1e6,
		    st->blocked_s, st->all_pages_s);
	return o->stats_file ? stats_write(&s, o->stats_file) : 0;
}

static void show(void *arg, uint64_t done, uint64_t left, const struct lazy_stats *st)
{
	char extra[64];

	snprintf(extra, sizeof(extra), "%llu faults", (unsigned long long)st->faults);
	progress_show(arg, done * 4096, (done + left) * 4096, extra);
}

/* The pages' source: the page server, or the local images (read while the restore checks them
 * too: ready at its first fault). */
static int open_source(const struct opts *o, struct img_dir *d, struct xfer_auth **auth,
		       struct page_source **src)
{
	struct remote_opts ro = { .address = o->address,
				  .port = (uint16_t)o->port,
				  .reconnect_s = cli_reconnect_s(o) };
	int ret;

	if (!o->page_server)
		return page_source_local(d, true, src);
	ret = netopts_auth(o, auth);
	if (ret)
		return ret;
	ro.auth = *auth;
	return page_source_remote(d, &ro, src);
}

/* -d: the parent waits until the child listens and has its source (a byte on a pipe). */
static int daemonize(const struct opts *o, int *ready)
{
	int p[2];
	pid_t pid;
	char c = 1;

	*ready = -1;
	if (!o->restore_detached)
		return o->pidfile ? netopts_pidfile(o->pidfile, getpid()) : 0;
	if (pipe2(p, O_CLOEXEC)) {
		pr_perror("pipe");
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		pr_perror("fork");
		return -errno;
	}
	if (pid > 0) {
		close(p[1]);
		if (read(p[0], &c, 1) != 1 || c) /* it failed, and said why */
			_exit(1);
		_exit(o->pidfile && netopts_pidfile(o->pidfile, pid) ? 1 : 0);
	}
	close(p[0]);
	setsid();
	*ready = p[1];
	return 0;
}

static void say_ready(int *ready, bool ok)
{
	char c = ok ? 0 : 1;

	if (*ready < 0)
		return;
	if (write(*ready, &c, 1) != 1)
		pr_perror("can't tell the parent");
	close(*ready);
	*ready = -1;
}

int cmd_lazy_pages(const struct opts *o)
{
	struct img_err err = { 0 };
	struct lazy_stats st = { 0 };
	struct page_source *src = NULL;
	struct xfer_auth *auth = NULL;
	struct progress pg = { 0 };
	struct img_dir *d;
	int lsk, sk = -1, ret, ready;

	if (img_dir_open(o->images_dir, false, &d, &err)) {
		pr_err("%s\n", err.msg);
		return 1;
	}
	lsk = lazy_ctl_listen(img_dir_fd(d));
	if (lsk < 0) {
		errno = -lsk;
		pr_perror("can't listen on %s/%s", o->images_dir, LAZY_CTL_SOCK);
		img_dir_close(d);
		return 1;
	}
	ret = daemonize(o, &ready);
	if (!ret)
		ret = open_source(o, d, &auth, &src);
	say_ready(&ready, !ret);
	if (!ret)
		sk = accept_restore(lsk, o->images_dir);
	unlinkat(img_dir_fd(d), LAZY_CTL_SOCK, 0);
	close(lsk);
	if (sk < 0) {
		page_source_close(src);
		xfer_auth_free(auth);
		img_dir_close(d);
		return 1;
	}
	if (!ret) {
		LazyMsg ready_msg = LAZY_MSG__INIT;

		ready_msg.kind = LAZY_KIND__LAZY_READY;
		ready_msg.has_remote_pages = o->page_server;
		ready_msg.remote_pages = o->page_server;
		ret = lazy_ctl_send(sk, &ready_msg, -1);
		if (ret)
			pr_err("the restore went away before it was told we are ready: %s\n",
			       strerror(-ret));
	}
	if (!ret) {
		struct lazy_ws ws;
		struct lazy_serve_opts so = { .hold_prefetch =
						  fault_inject(o, "lazy-prefetch") != 0,
					      .ws = &ws,
					      .progress = show,
					      .progress_arg = &pg };
		int r = lazy_ws_load(img_dir_fd(d), &ws);

		if (r)
			pr_warn("%s/%s: %s: not used\n", o->images_dir, LAZY_WS_FILE, strerror(-r));
		else if (ws.n)
			pr_info("an earlier working set of %zu pages is prefetched first\n", ws.n);
		/* not with -d: a daemon's lines would land in its caller's terminal later */
		progress_init(&pg, o, "lazy-pages: in");
		pg.on &= !o->restore_detached;
		ret = lazy_serve(src, sk, &so, &st);
		progress_end(&pg);
		/* a new one, when this restore saw faults */
		if (!ret && st.pages_fault && (r = lazy_ws_save(img_dir_fd(d), &ws)))
			pr_warn("can't write %s/%s: %s\n", o->images_dir, LAZY_WS_FILE,
				strerror(-r));
		lazy_ws_free(&ws);
	}
	if (!ret && o->page_server)
		ret = page_source_remote_done(src);
	if (!ret)
		ret = report(o, &st, src);
	lazy_stats_free(&st);
	page_source_close(src);
	xfer_auth_free(auth);
	close(sk);
	img_dir_close(d);
	return ret ? 1 : 0;
}
