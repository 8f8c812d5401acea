/* dump-lazy: see dump-lazy.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_PREFIX "lazy-migration: "
#include "criu-lite/dump/dump-lazy.h"
#include "criu-lite/fault.h"
#include "criu-lite/log.h"
#include "criu-lite/netopts.h"
#include "criu-lite/progress.h"
#include "criu-lite/stats.h"
#include "images/pages.h"
#include "lazy-pages/page-server.h"
#include "lazy-pages/xfer-msg.h"

/* what live_read() reads from: each task's runs, from the pagemap the dump wrote */
struct live_task {
	pid_t vpid, pid;
	int mem; /* /proc/PID/mem */
	struct page_reader *meta;
};

struct live {
	struct live_task *t;
	size_t n;
};

static volatile sig_atomic_t stop_flag;

static void on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* page_server_opts.live_read: bytes [off, off + len) of task id's would-be pages file, from
 * its memory (the present runs that hold them, back to back), through /proc/PID/mem as the dump
 * reads what process_vm_readv can't: VMAs without PROT_READ, and pages shared copy-on-write
 * with another task, which a pinning read would unshare (dump-cow.c) — the tree may resume. */
static int live_read(void *arg, enum img_kind kind, uint32_t id, uint64_t off, uint64_t len,
		     void *buf)
{
	struct live *l = arg;
	struct live_task *t = NULL;
	const struct page_run *runs;
	uint8_t *to = buf;
	size_t nr;

	for (size_t i = 0; kind == IMG_PAGEMAP && i < l->n; i++)
		if ((uint32_t)l->t[i].vpid == id)
			t = &l->t[i];
	if (!t || len > XFER_MAX_PAYLOAD) {
		pr_err("pages of %s %u: not a task of this dump\n",
		       kind == IMG_PAGEMAP ? "task" : "shared object", id);
		return -ENOENT;
	}
	runs = page_reader_runs(t->meta);
	nr = page_reader_nr_runs(t->meta);
	for (size_t i = 0; i < nr; i++) {
		uint64_t a = runs[i].offset, e = a + runs[i].nr_pages * IMG_PAGE_SIZE, x, y;
		ssize_t got;

		if (!(runs[i].flags & PAGEMAP_FLAGS__PE_PRESENT) || e <= off || a >= off + len)
			continue;
		x = off > a ? off : a;
		y = off + len < e ? off + len : e;
		got = pread(t->mem, to + (x - off), y - x, (off_t)(runs[i].vaddr + (x - a)));
		if (got != (ssize_t)(y - x)) {
			if (got < 0)
				pr_perror("pid %d: can't read its memory at %#llx (+%llu)", t->pid,
					  (unsigned long long)(runs[i].vaddr + (x - a)),
					  (unsigned long long)(y - x));
			else
				pr_err("pid %d: read %zd of %llu bytes of its memory at %#llx\n",
				       t->pid, got, (unsigned long long)(y - x),
				       (unsigned long long)(runs[i].vaddr + (x - a)));
			return got < 0 ? -errno : -EIO;
		}
	}
	return 0;
}

static int live_open(struct dump_shared *sh, struct dump_tree_list *tl, struct live *l)
{
	l->t = calloc(tl->n ? tl->n : 1, sizeof(*l->t));
	if (!l->t)
		return -ENOMEM;
	for (size_t i = 0; i < tl->n; i++) {
		struct img_err err = { 0 };
		char path[64];
		int ret;

		if (tl->t[i].zombie)
			continue;
		ret = page_reader_open_meta(sh->dir, IMG_PAGEMAP, tl->t[i].vpid, &l->t[l->n].meta,
					    &err);
		if (ret) {
			pr_err("%s\n", err.msg);
			return ret;
		}
		l->t[l->n].vpid = tl->t[i].vpid;
		l->t[l->n].pid = tl->t[i].pid;
		snprintf(path, sizeof(path), "/proc/%d/mem", tl->t[i].pid);
		l->t[l->n].mem = open(path, O_RDONLY | O_CLOEXEC);
		if (l->t[l->n++].mem < 0) {
			pr_perror("can't open %s", path);
			return -errno;
		}
	}
	return 0;
}

static void show(void *arg, const struct ps_stats *st)
{
	uint64_t done = (st->pages_fault + st->pages_stream) * IMG_PAGE_SIZE;
	uint64_t total = st->pages_total * IMG_PAGE_SIZE;
	char extra[96];

	snprintf(extra, sizeof(extra), "%llu pages on faults%s",
		 (unsigned long long)st->pages_fault,
		 st->sessions ? "" : ", waiting for the destination");
	progress_show(arg, done < total ? done : total, total, extra);
}

static void live_close(struct live *l)
{
	for (size_t i = 0; i < l->n; i++) {
		page_reader_close(l->t[i].meta);
		if (l->t[i].mem >= 0)
			close(l->t[i].mem);
	}
	free(l->t);
}

int dump_lazy_serve(struct dump_shared *sh, struct dump_tree_list *tl)
{
	const struct opts *o = sh->o;
	const char *addr = o->address ? o->address : "0.0.0.0";
	struct sigaction sa = { .sa_handler = on_stop }, old_int, old_term;
	struct page_server_opts po = { .stop = &stop_flag,
				       .single = true,
				       .live_read = live_read,
				       .reconnect_s = cli_reconnect_s(o) };
	struct xfer_auth *auth = NULL;
	struct img_err err = { 0 };
	struct ps_stats st = { 0 };
	struct live l = { 0 };
	struct progress pg;
	double t0 = stats_now();
	int lsk = -1, ret;
	char sent[32];

	ret = netopts_auth(o, &auth);
	if (!ret)
		ret = live_open(sh, tl, &l);
	if (!ret && (lsk = xfer_listen(addr, (uint16_t)o->port, &err)) < 0) {
		pr_err("%s\n", err.msg);
		ret = lsk;
	}
	if (ret)
		goto out;
	po.live_arg = &l;
	po.stall_stream_after = fault_inject(o, "lazy-stream-stall") ? 8 : 0;
	progress_init(&pg, o, "lazy-migration: sent");
	po.progress = show;
	po.progress_arg = &pg;
	stop_flag = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	log_summary("lazy-migration: the tree of pid %d is frozen and its images are in %s; its "
		    "memory is served on %s port %d until a destination has all of it\n",
		    o->tree, o->images_dir, addr, o->port);
	ret = page_server_run(sh->dir, lsk, auth, &po, &st);
	progress_end(&pg);
	sh->lazy_sent = st.bytes_sent;
	sh->lazy_pages = st.pages_fault + st.pages_stream;
	sh->lazy_s = stats_now() - t0;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	stats_bytes_str(st.bytes_sent, sent, sizeof(sent));
	if (!ret)
		pr_info("the destination has every page: %llu on faults, %llu streamed, %s sent in "
			"%.3f s\n",
			(unsigned long long)st.pages_fault, (unsigned long long)st.pages_stream,
			sent, stats_now() - t0);
	else if (ret == -ECONNABORTED)
		pr_err("the destination went away before it had every page (%llu sent): the tree "
		       "resumes here\n",
		       (unsigned long long)(st.pages_fault + st.pages_stream));
	else if (ret == -EINTR)
		pr_err("stopped (SIGINT or SIGTERM) before a destination had every page: the tree "
		       "resumes here\n");
out:
	if (lsk >= 0)
		close(lsk);
	live_close(&l);
	xfer_auth_free(auth);
	return ret;
}
