/* cmd-page-server: `criu-lite page-server -D DIR --port P [--address A] --auth-key FILE`: serve
 * the pages of the dump in DIR to lazy restores on other hosts (`criu-lite lazy-pages
 * --page-server` there; lazy-pages/page-server.h).
 *
 * It checks DIR's dump first (its inventory's dump id, and every pagemap with its chunk
 * checksums), listens, and serves until SIGTERM or SIGINT, several restores at once if they
 * come; then one summary line (sessions, pages by fault and by stream, bytes sent, connections
 * refused) and --stats-file. -d returns once it listens (--pidfile names the server). With
 * --insecure (no --auth-key) the pages travel in plaintext to whoever connects: it says so. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define LOG_PREFIX "page-server: "
#include "criu-lite/cli.h"
#include "criu-lite/log.h"
#include "criu-lite/netopts.h"
#include "criu-lite/stats.h"
#include "lazy-pages/page-server.h"

static volatile sig_atomic_t stop_flag;

static void on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int report(const struct opts *o, const struct ps_stats *st, double secs)
{
	struct stats s = { 0 };
	char bytes[32];

	stats_count(&s, "sessions", st->sessions);
	stats_count(&s, "connections", st->connections);
	stats_count(&s, "refused", st->refused);
	stats_count(&s, "pages_fault", st->pages_fault);
	stats_count(&s, "pages_stream", st->pages_stream);
	stats_count(&s, "zero_pages", st->zero_pages);
	stats_count(&s, "bytes_sent", st->bytes_sent);
	stats_secs(&s, "serving_s", secs);
	stats_bytes_str(st->bytes_sent, bytes, sizeof(bytes));
	log_summary("page-server: %llu sessions, %llu pages on faults, %llu streamed (%llu of "
		    "them zero), %s sent, %llu connections refused, in %.3f s\n",
		    (unsigned long long)st->sessions, (unsigned long long)st->pages_fault,
		    (unsigned long long)st->pages_stream, (unsigned long long)st->zero_pages, bytes,
		    (unsigned long long)st->refused, secs);
	return o->stats_file ? stats_write(&s, o->stats_file) : 0;
}

int cmd_page_server(const struct opts *o)
{
	struct sigaction sa = { .sa_handler = on_stop }; /* no SA_RESTART: poll() returns */
	struct page_server_opts po = { .stop = &stop_flag };
	const char *addr = o->address ? o->address : "0.0.0.0";
	struct page_server_dir *pd = NULL;
	struct xfer_auth *auth = NULL;
	struct ps_stats st = { 0 };
	struct img_err err = { 0 };
	struct img_dir *d = NULL;
	double t0 = stats_now();
	int lsk = -1, ret;

	ret = netopts_auth(o, &auth);
	if (ret)
		return 1;
	if (img_dir_open(o->images_dir, false, &d, &err) ||
	    img_dir_lock(d, false, &err) < 0) { /* no dump may write into it meanwhile */
		pr_err("%s\n", err.msg);
		ret = -EINVAL;
		goto out;
	}
	ret = page_server_load(d, &po, &pd);
	if (ret)
		goto out;
	lsk = xfer_listen(addr, (uint16_t)o->port, &err);
	if (lsk < 0) {
		pr_err("%s\n", err.msg);
		ret = lsk;
		goto out;
	}
	pr_info("listening on %s port %d for the pages of %s\n", addr, o->port, o->images_dir);
	if (o->restore_detached) {
		pid_t pid = fork();

		if (pid < 0) {
			pr_perror("fork");
			ret = -errno;
			goto out;
		}
		if (pid > 0)
			_exit(o->pidfile && netopts_pidfile(o->pidfile, pid) ? 1 : 0);
		setsid();
	} else if (o->pidfile && (ret = netopts_pidfile(o->pidfile, getpid()))) {
		goto out;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	ret = page_server_serve(pd, lsk, auth, &po, &st);
	if (!ret)
		ret = report(o, &st, stats_now() - t0);
out:
	if (lsk >= 0)
		close(lsk);
	page_server_dir_free(pd);
	img_dir_close(d);
	xfer_auth_free(auth);
	return ret ? 1 : 0;
}
