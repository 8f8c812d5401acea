/* cmd-page-server: `criu-lite page-server -D DIR --port P [--address A] --auth-key FILE`: serve
 * the pages of the dump in DIR to lazy restores on other hosts (`criu-lite lazy-pages
 * --page-server` there; lazy-pages/page-server.h), or, when DIR holds no dump, receive one
 * (`criu-lite dump --page-server`) and serve it from then on.
 *
 * It checks DIR's dump first (its inventory's dump id, and every pagemap with its chunk
 * checksums), listens, and serves until SIGTERM or SIGINT, several restores at once if they
 * come; then one summary line (sessions, pages by fault and by stream, bytes sent, dumps
 * received, connections refused) and --stats-file. DIR is locked shared while a dump there is
 * served (restores may read it, no dump may write into it); a DIR without inventory.img is
 * locked exclusive (it may receive a dump: nothing else may use it meanwhile; shared once a
 * dump is in), the temp files a cut push left are removed, and it must then hold no image file
 * at all. -d returns once it listens (--pidfile names the process to send
 * SIGTERM to: the parent below). With --insecure (no --auth-key) the pages travel in plaintext
 * to whoever connects: it says so.
 *
 * It serves in a seccomp sandbox (lazy-pages/ps-sandbox.h), and refuses to start on a kernel
 * that can't give it one. The serving is done by a child: once the key, the directory, the log
 * and the listening socket are open, it forks, and the child enters the sandbox and serves,
 * counting in memory shared with the parent; the parent stays outside, passes SIGTERM and SIGINT
 * on to the child, waits for it, and then writes the summary and --stats-file (which the
 * sandbox would not allow: a file created, then renamed), or says how the child died (killed by
 * the sandbox: a system call off its list). The child dies with its parent (PR_SET_PDEATHSIG). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOG_PREFIX "page-server: "
#include "criu-lite/cli.h"
#include "criu-lite/log.h"
#include "criu-lite/netopts.h"
#include "criu-lite/stats.h"
#include "lazy-pages/page-server.h"
#include "lazy-pages/ps-landlock.h"
#include "lazy-pages/ps-sandbox.h"

static volatile sig_atomic_t stop_flag;
static volatile sig_atomic_t server_pid; /* the serving child, in the parent: signals go on */

static void on_stop(int sig)
{
	int e = errno;

	stop_flag = 1;
	if (server_pid > 0)
		kill(server_pid, sig);
	errno = e;
}

static int report(const struct opts *o, const struct ps_stats *st, double secs)
{
	struct stats s = { 0 };
	char bytes[32], got[32];

	stats_count(&s, "sessions", st->sessions);
	stats_count(&s, "connections", st->connections);
	stats_count(&s, "refused", st->refused);
	stats_count(&s, "pages_fault", st->pages_fault);
	stats_count(&s, "pages_stream", st->pages_stream);
	stats_count(&s, "zero_pages", st->zero_pages);
	stats_count(&s, "bytes_sent", st->bytes_sent);
	stats_count(&s, "pushes", st->pushes);
	stats_count(&s, "pushes_failed", st->pushes_failed);
	stats_count(&s, "bytes_received", st->bytes_received);
	stats_secs(&s, "serving_s", secs);
	stats_bytes_str(st->bytes_sent, bytes, sizeof(bytes));
	stats_bytes_str(st->bytes_received, got, sizeof(got));
	log_summary("page-server: %llu sessions, %llu pages on faults, %llu streamed (%llu of "
		    "them zero), %s sent, %llu dump%s received (%s, %llu failed), %llu connections "
		    "refused, in %.3f s\n",
		    (unsigned long long)st->sessions, (unsigned long long)st->pages_fault,
		    (unsigned long long)st->pages_stream, (unsigned long long)st->zero_pages, bytes,
		    (unsigned long long)st->pushes, st->pushes == 1 ? "" : "s", got,
		    (unsigned long long)st->pushes_failed, (unsigned long long)st->refused, secs);
	return o->stats_file ? stats_write(&s, o->stats_file) : 0;
}

/* DIR's lock: shared while a dump there is served (no dump may write into it meanwhile),
 * exclusive when there is none (it may receive one; the temp files a cut push left go). */
static int lock_dir(struct img_dir *d, struct img_err *err)
{
	int ret;

	if (!faccessat(img_dir_fd(d), "inventory.img", F_OK, 0) || errno != ENOENT)
		return img_dir_lock(d, false, err);
	ret = img_dir_lock(d, true, err);
	if (ret >= 0 && (ret = img_dir_remove_tmp(d, err)) > 0)
		pr_info("removed %d temporary file(s) a cut push left in %s\n", ret,
			img_dir_path(d));
	return ret;
}

/* The child: enters the sandbox and serves until told to stop; its figures go into st, which
 * its parent shares. */
static _Noreturn void serve_child(pid_t parent, const struct page_server_dir *pd, int lsk,
				  int imgfd, int dirfd, const struct xfer_auth *auth,
				  const struct page_server_opts *po, struct ps_stats *st)
{
	struct img_err err = { 0 };
	int ll;

	/* its parent killed, it stops (a parent gone before this line: it goes at once) */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) || getppid() != parent)
		_exit(1);
	/* its files confined to the image directory (ps-landlock.h), then its calls (ps-sandbox.h)
	 */
	ll = ps_landlock_enter(imgfd, dirfd >= 0, &err);
	if (ll < 0) {
		pr_err("%s\n", err.msg);
		_exit(1);
	}
	if (ll > 0)
		pr_warn("%s: the server's file accesses are not confined to its image directory\n",
			err.msg);
	if (ps_sandbox_enter(lsk, dirfd, &err)) {
		pr_err("%s\n", err.msg);
		_exit(1);
	}
	pr_info("serving in a seccomp sandbox%s (pid %d)\n", ll ? "" : " under Landlock",
		(int)getpid());
	/* _exit: no atexit handler or library destructor runs in the sandbox */
	_exit(page_server_serve(pd, lsk, auth, po, st) ? 1 : 0);
}

/* Serve in a sandboxed child and wait for it: 0 once it served and stopped, or -errno after
 * one message. lsk is the child's: it is closed here. dirfd: the directory it may receive a
 * dump into (-1: none). */
static int serve(const struct page_server_dir *pd, int lsk, int imgfd, int dirfd,
		 const struct xfer_auth *auth, const struct page_server_opts *po,
		 struct ps_stats *st)
{
	struct img_err err = { 0 };
	pid_t parent = getpid(), pid;
	int status, ret;

	pid = fork();
	if (pid < 0) {
		ret = -errno;
		pr_perror("fork for the page server");
		close(lsk);
		return ret;
	}
	if (!pid)
		serve_child(parent, pd, lsk, imgfd, dirfd, auth, po, st);
	close(lsk); /* a connection that comes once the child is gone is refused at once */
	server_pid = pid;
	if (stop_flag) /* a signal came before server_pid was set */
		kill(pid, SIGTERM);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			ret = -errno;
			pr_perror("waitpid %d", (int)pid);
			return ret;
		}
	}
	server_pid = 0;
	ret = ps_sandbox_status(pid, status, &err);
	if (ret < 0)
		pr_err("%s\n", err.msg);
	return ret > 0 ? -EIO : ret; /* > 0: its exit status; it said why */
}

int cmd_page_server(const struct opts *o)
{
	struct sigaction sa = { .sa_handler = on_stop }; /* no SA_RESTART: poll() returns */
	struct page_server_opts po = { .stop = &stop_flag, .reconnect_s = cli_reconnect_s(o) };
	const char *addr = o->address ? o->address : "0.0.0.0";
	struct page_server_dir *pd = NULL;
	struct xfer_auth *auth = NULL;
	struct ps_stats *st = MAP_FAILED;
	struct img_err err = { 0 };
	struct img_dir *d = NULL;
	double t0 = stats_now();
	int lsk = -1, ret;

	if (ps_sandbox_check(&err)) {
		pr_err("%s\n", err.msg);
		return 1;
	}
	ret = netopts_auth(o, &auth);
	if (ret)
		return 1;
	if (img_dir_open(o->images_dir, false, &d, &err) || lock_dir(d, &err) < 0) {
		pr_err("%s\n", err.msg);
		ret = -EINVAL;
		goto out;
	}
	ret = page_server_load(d, &po, &pd);
	if (ret)
		goto out;
	/* the child's figures, for the parent to report */
	st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (st == MAP_FAILED) {
		ret = -errno;
		pr_perror("mmap for the page server's figures");
		goto out;
	}
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
	ret = serve(pd, lsk, img_dir_fd(d), page_server_dir_empty(pd) ? img_dir_fd(d) : -1, auth,
		    &po, st);
	lsk = -1;
	if (!ret)
		ret = report(o, st, stats_now() - t0);
out:
	if (lsk >= 0)
		close(lsk);
	if (st != MAP_FAILED)
		munmap(st, sizeof(*st));
	page_server_dir_free(pd);
	img_dir_close(d);
	xfer_auth_free(auth);
	return ret ? 1 : 0;
}
