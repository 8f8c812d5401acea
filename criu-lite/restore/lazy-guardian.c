/* lazy-guardian: see lazy-guardian.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LOG_PREFIX "lazy-guardian: "
#include "criu-lite/log.h"
#include "criu-lite/restore/lazy-guardian.h"
#include "criu-lite/stats.h"
#include "lazy-pages/lazy-ctl.h"

struct guard {
	int *fds; /* uffds and pidfds, closed at exit */
	size_t nfds;
	pid_t *tree; /* the restored tasks (after LAZY_END; before it, those with lazy memory) */
	size_t ntree;
	bool restored;
	uint64_t left;
};

static void keep(struct guard *g, int fd)
{
	int *v = realloc(g->fds, (g->nfds + 1) * sizeof(*v));

	if (!v) {
		close(fd); /* a guardian short of memory can't guard: the caller sees ENOMEM */
		return;
	}
	g->fds = v;
	g->fds[g->nfds++] = fd;
}

static void remember(struct guard *g, pid_t pid)
{
	pid_t *v = realloc(g->tree, (g->ntree + 1) * sizeof(*v));

	if (v) { /* short of memory: the restorer's children are still found below it */
		g->tree = v;
		g->tree[g->ntree++] = pid;
	}
}

/* SIGKILL pid and, first, everything below it (children of each of its threads), but for the
 * guardian itself (a child of the restorer). */
static void kill_below(pid_t pid, int depth)
{
	char path[64];
	DIR *d;
	struct dirent *de;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	kill(pid, SIGSTOP); /* no new children meanwhile */
	d = depth < 64 ? opendir(path) : NULL;
	while (d && (de = readdir(d))) {
		char cpath[384];
		FILE *f;
		int c;

		if (de->d_name[0] == '.')
			continue;
		snprintf(cpath, sizeof(cpath), "/proc/%d/task/%s/children", pid, de->d_name);
		f = fopen(cpath, "re");
		while (f && fscanf(f, "%d", &c) == 1)
			if (c != getpid())
				kill_below(c, depth + 1);
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	kill(pid, SIGKILL);
}

static __attribute__((noreturn)) void fail(struct guard *g, pid_t restorer, const char *why)
{
	/* said first: whoever sees the tree die finds why in the log */
	if (!g->restored) {
		/* the tasks may already run (resumed, not yet handed over): they die too, the
		 * restorer's children and those the guardian knows, wherever they are now */
		if (restorer > 0)
			pr_err("%s, %llu pages not in: killed the restore (pid %d) and the tasks "
			       "it made\n",
			       why, (unsigned long long)g->left, restorer);
		else
			pr_err("%s: killed the tasks it made\n", why);
		if (restorer > 0)
			kill_below(restorer, 0);
		for (size_t i = 0; i < g->ntree; i++)
			kill_below(g->tree[i], 0);
	} else {
		pr_err("%s, %llu pages not in: killed the restored tree (pid %d and below)\n", why,
		       (unsigned long long)g->left, g->ntree ? g->tree[0] : 0);
		for (size_t i = 0; i < g->ntree; i++)
			kill_below(g->tree[i], 0);
	}
	_exit(1);
}

/* A message from the server; exits on DONE or failure. */
static void from_server(struct guard *g, int srv, pid_t server, pid_t restorer, double *last)
{
	char why[512];
	LazyMsg *m;
	int fd, ret = lazy_ctl_recv(srv, &m, &fd);

	if (ret) {
		snprintf(why, sizeof(why), "the lazy-pages server (pid %d) is gone (%s)", server,
			 ret == -ENODATA ? "its connection closed" : strerror(-ret));
		fail(g, restorer, why);
	}
	*last = stats_now();
	switch (m->kind) {
	case LAZY_KIND__LAZY_STATUS:
		g->left = m->pages_left;
		break;
	case LAZY_KIND__LAZY_FORKED:
		if (fd >= 0)
			keep(g, fd);
		fd = -1;
		break;
	case LAZY_KIND__LAZY_DONE:
		pr_info("every page is in: the uffds are let go\n");
		_exit(0);
	case LAZY_KIND__LAZY_ERROR:
		snprintf(why, sizeof(why), "the lazy-pages server (pid %d) gave up: %s", server,
			 m->error ? m->error : "no reason given");
		fail(g, restorer, why);
	default:
		snprintf(why, sizeof(why), "the lazy-pages server (pid %d) sent message %d", server,
			 m->kind);
		fail(g, restorer, why);
	}
	if (fd >= 0)
		close(fd);
	lazy_msg__free_unpacked(m, NULL);
}

/* A message from the restorer; false once it is done talking. */
static bool from_restorer(struct guard *g, int rp)
{
	LazyMsg *m;
	int fd, ret = lazy_ctl_recv(rp, &m, &fd);

	if (ret) {
		/* a restore that fails says so (LAZY_ERROR) and kills its tasks itself; one that
		 * dies without a word may leave tasks that already run on lazy memory */
		if (!g->restored)
			fail(g, 0, "the restore died before it handed the tree over");
		return false;
	}
	if (m->kind == LAZY_KIND__LAZY_TASK && fd >= 0) {
		keep(g, fd);
		fd = -1;
		if (m->has_pid)
			remember(g, (pid_t)m->pid);
	} else if (m->kind == LAZY_KIND__LAZY_END) {
		g->restored = true;
		g->ntree = 0;
		for (size_t i = 0; i < m->n_pids; i++)
			remember(g, (pid_t)m->pids[i]);
	} else if (m->kind == LAZY_KIND__LAZY_ERROR) {
		_exit(0);
	}
	if (fd >= 0)
		close(fd);
	lazy_msg__free_unpacked(m, NULL);
	return true;
}

void lazy_guardian(int srv, int rp, pid_t restorer, int timeout_s)
{
	struct guard g = { .left = 0 };
	struct ucred cr = { 0 };
	socklen_t len = sizeof(cr);
	double last = stats_now();
	bool rp_open = true;

	getsockopt(srv, SOL_SOCKET, SO_PEERCRED, &cr, &len);
	prctl(PR_SET_NAME, "lazy-guardian");
	/* a ^C or a hang-up meant for the restore must not take the guardian with it: the tree
	 * would run on with nobody holding its uffds but the server */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig == SIGINT || sig == SIGQUIT || sig == SIGHUP || sig == SIGPIPE ||
		    sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
			signal(sig, SIG_IGN);
	/* whoever reads the restore's output must not wait for the guardian to end: it keeps
	 * only stderr (and the log), for what it has to say */
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		close(null);
	}
	for (;;) {
		struct pollfd p[2] = { { .fd = srv, .events = POLLIN },
				       { .fd = rp_open ? rp : -1, .events = POLLIN } };
		int n = poll(p, 2, 250);

		if (n < 0 && errno != EINTR) {
			pr_perror("poll");
			fail(&g, restorer, "the guardian can't wait for the server");
		}
		if (n > 0 && p[1].revents && !from_restorer(&g, rp)) {
			close(rp);
			rp_open = false;
		}
		if (n > 0 && p[0].revents)
			from_server(&g, srv, cr.pid, restorer, &last);
		if (stats_now() - last > timeout_s) {
			char why[160];

			snprintf(why, sizeof(why),
				 "the lazy-pages server (pid %d) said nothing for %d s", cr.pid,
				 timeout_s);
			fail(&g, restorer, why);
		}
	}
}
