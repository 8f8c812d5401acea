/* dump-anonfd: eventfd, signalfd, timerfd, epoll and inotify files of a task, and the dispatch
 * of pidfds to dump-pidfd.c and fanotify groups to dump-fanotify.c (see anonfd.h).
 *
 * Everything comes from /proc/PID/fdinfo/N, except two things: a timerfd is read with
 * timerfd_gettime() on a copy of the fd (pidfd_getfd), which first folds the expirations
 * fdinfo cannot show yet (an expired interval timer is only moved forward by a read or a
 * gettime) into its tick count, exactly as the task's next read() would; and an inotify
 * watch's inode, which fdinfo gives as a file handle, is opened with open_by_handle_at()
 * on a mount of its filesystem (from the task's mountinfo) to learn its path.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define LOG_PREFIX "anonfd: "
#include "criu-lite/kinds/anonfd.h"
#include "criu-lite/dump/dump.h"
#include "criu-lite/log.h"
#include "criu-lite/taskfd.h"

#define NSEC 1000000000ULL

struct dump_anonfd {
	FileType type;
	EventfdEntry ev;
	SignalfdEntry sig;
	TimerfdEntry tfd;
	EpollEntry ep;
	EpollTfdEntry *tfds;
	EpollTfdEntry **tfdp;
	InotifyEntry in;
	InotifyWdEntry *wds;
	InotifyWdEntry **wdp;
	PidfdEntry pfd;
	FanotifyEntry fan;
};

FileType anonfd_type(const char *link)
{
	static const struct {
		const char *link;
		FileType type;
	} kinds[] = {
		{ "anon_inode:[eventfd]", FILE_TYPE__FT_EVENTFD },
		{ "anon_inode:[signalfd]", FILE_TYPE__FT_SIGNALFD },
		{ "anon_inode:[timerfd]", FILE_TYPE__FT_TIMERFD },
		{ "anon_inode:[eventpoll]", FILE_TYPE__FT_EPOLL },
		{ "anon_inode:inotify", FILE_TYPE__FT_INOTIFY },
		{ "anon_inode:[pidfd]", FILE_TYPE__FT_PIDFD },
		{ "anon_inode:[fanotify]", FILE_TYPE__FT_FANOTIFY },
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(link, kinds[i].link) == 0)
			return kinds[i].type;
	return 0;
}

/* ---- fdinfo text --------------------------------------------------------------------------- */

/* Blanks, then an unsigned number of base (no sign); *p moves past it. */
static bool num(const char **p, int base, uint64_t max, uint64_t *v)
{
	const char *s = *p + strspn(*p, " \t");
	unsigned long long x;
	char *end;

	if (!(base == 16 ? isxdigit((unsigned char)*s) : *s >= '0' && *s <= '9'))
		return false;
	errno = 0;
	x = strtoull(s, &end, base);
	if (errno || x > max)
		return false;
	*v = x;
	*p = end;
	return true;
}

/* Blanks, then the literal l. */
static bool lit(const char **p, const char *l)
{
	const char *s = *p + strspn(*p, " \t");
	size_t n = strlen(l);

	if (strncmp(s, l, n))
		return false;
	*p = s + n;
	return true;
}

static bool field(const char **p, const char *key, int base, uint64_t max, uint64_t *v)
{
	return lit(p, key) && num(p, base, max, v);
}

static bool at_end(const char *p)
{
	return p[strspn(p, " \t\n")] == '\0';
}

int anonfd_parse_tfd(const char *value, struct anonfd_tfd *out)
{
	const char *p = value;
	uint64_t tfd, ev, pos, sdev;

	if (!num(&p, 10, INT_MAX, &tfd) || !field(&p, "events:", 16, UINT32_MAX, &ev) ||
	    !field(&p, "data:", 16, UINT64_MAX, &out->data) || !lit(&p, "pos:"))
		return -EINVAL;
	p += *p == '-'; /* the target's f_pos (%lli): not kept */
	if (!num(&p, 10, INT64_MAX, &pos) || !field(&p, "ino:", 16, UINT64_MAX, &out->ino) ||
	    !field(&p, "sdev:", 16, UINT32_MAX, &sdev) || !at_end(p))
		return -EINVAL;
	out->tfd = (int)tfd;
	out->events = (uint32_t)ev;
	out->sdev = (uint32_t)sdev;
	return 0;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : tolower((unsigned char)c) - 'a' + 10;
}

int anonfd_parse_wd(const char *value, struct anonfd_wd *out)
{
	const char *p = value;
	uint64_t wd, sdev, mask, ign, bytes, type;

	memset(out, 0, sizeof(*out));
	if (!num(&p, 16, INT_MAX, &wd) || !field(&p, "ino:", 16, UINT64_MAX, &out->ino) ||
	    !field(&p, "sdev:", 16, UINT32_MAX, &sdev) ||
	    !field(&p, "mask:", 16, UINT32_MAX, &mask) ||
	    !field(&p, "ignored_mask:", 16, UINT32_MAX, &ign))
		return -EINVAL;
	out->wd = (int)wd;
	out->sdev = (uint32_t)sdev;
	out->mask = (uint32_t)mask;
	out->ignored_mask = (uint32_t)ign;
	if (at_end(p))
		return 0; /* the kernel could not encode a handle */
	if (!field(&p, "fhandle-bytes:", 16, ANONFD_HANDLE_MAX, &bytes) || !bytes ||
	    !field(&p, "fhandle-type:", 16, INT_MAX, &type) || !lit(&p, "f_handle:"))
		return -EINVAL;
	for (uint64_t i = 0; i < bytes; i++, p += 2) {
		if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]))
			return -EINVAL;
		out->handle[i] = (unsigned char)(hexval(p[0]) << 4 | hexval(p[1]));
	}
	if (!at_end(p))
		return -EINVAL;
	out->handle_bytes = (uint32_t)bytes;
	out->handle_type = (int)type;
	return 0;
}

/* "(SEC, NSEC)" in nanoseconds. */
static bool timespec_ns(const char *s, uint64_t *ns)
{
	uint64_t sec, nsec;

	if (!s || !lit(&s, "(") || !num(&s, 10, INT64_MAX / NSEC - 1, &sec) || !lit(&s, ",") ||
	    !num(&s, 10, NSEC - 1, &nsec) || !lit(&s, ")") || !at_end(s))
		return false;
	*ns = sec * NSEC + nsec;
	return true;
}

static bool value_num(const struct proc_fdinfo *fi, const char *key, int base, uint64_t max,
		      uint64_t *v)
{
	const char *s = proc_fdinfo_value(fi, key, 0);

	return s && num(&s, base, max, v) && at_end(s);
}

int anonfd_parse_timer(const struct proc_fdinfo *fi, struct anonfd_timer *out, const char **bad)
{
	uint64_t clk, fl;

	*bad = "clockid";
	if (!value_num(fi, "clockid", 10, INT_MAX, &clk))
		return -EINVAL;
	*bad = "ticks";
	if (!value_num(fi, "ticks", 10, UINT64_MAX, &out->ticks))
		return -EINVAL;
	*bad = "settime flags";
	if (!value_num(fi, "settime flags", 8, UINT32_MAX, &fl))
		return -EINVAL;
	*bad = "it_value";
	if (!timespec_ns(proc_fdinfo_value(fi, "it_value", 0), &out->value_ns))
		return -EINVAL;
	*bad = "it_interval";
	if (!timespec_ns(proc_fdinfo_value(fi, "it_interval", 0), &out->interval_ns))
		return -EINVAL;
	*bad = NULL;
	out->clockid = (int)clk;
	out->settime_flags = (uint32_t)fl;
	return 0;
}

/* ---- helpers ------------------------------------------------------------------------------- */

static int bad_fdinfo(const struct dump_anonfd_fd *f, const char *line)
{
	pr_err("%s: %s: no readable '%s' line in its fdinfo\n", f->what, f->link, line);
	return -EINVAL;
}

/* A copy of the task's fd in ours (O_CLOEXEC), or -errno. */
static int steal_fd(pid_t pid, const struct dump_anonfd_fd *f)
{
	int fd = taskfd_copy(pid, f->fd);

	if (fd < 0) {
		errno = -fd;
		pr_perror("%s: can't take a copy of %s (pidfd_open/pidfd_getfd)", f->what, f->link);
	}
	return fd;
}

/* ---- eventfd, signalfd --------------------------------------------------------------------- */

static int dump_eventfd(const struct dump_anonfd_fd *f, struct dump_anonfd *a)
{
	uint64_t count, sem;

	if (!value_num(f->fi, "eventfd-count", 16, UINT64_MAX, &count))
		return bad_fdinfo(f, "eventfd-count");
	if (!proc_fdinfo_value(f->fi, "eventfd-semaphore", 0)) {
		pr_err("%s: %s: this kernel does not show eventfd-semaphore in fdinfo: can't tell "
		       "whether it is EFD_SEMAPHORE\n",
		       f->what, f->link);
		return -ENOTSUP;
	}
	if (!value_num(f->fi, "eventfd-semaphore", 10, 1, &sem))
		return bad_fdinfo(f, "eventfd-semaphore");
	eventfd_entry__init(&a->ev);
	a->ev.flags = f->flags;
	a->ev.counter = count;
	a->ev.semaphore = sem;
	pr_debug("%s: eventfd, count %llu%s\n", f->what, (unsigned long long)count,
		 sem ? ", semaphore" : "");
	return 0;
}

static int dump_signalfd(const struct dump_anonfd_fd *f, struct dump_anonfd *a)
{
	uint64_t mask;

	if (!value_num(f->fi, "sigmask", 16, UINT64_MAX, &mask))
		return bad_fdinfo(f, "sigmask");
	signalfd_entry__init(&a->sig);
	a->sig.flags = f->flags;
	a->sig.sigmask = mask;
	pr_debug("%s: signalfd, mask %016llx\n", f->what, (unsigned long long)mask);
	return 0;
}

/* ---- timerfd ------------------------------------------------------------------------------- */

#define TIMER_TRIES 20
/* An absolute timer's deadline is not readable: it is the time left plus the clock at the read,
 * which lies between the clock just before and just after timerfd_gettime(). The read is done
 * again until those two are no further apart than this, and the deadline placed from the later
 * one: late by at most this much, never early (docs/fds.md). */
#define TIMER_WINDOW_NS 100000

static uint64_t its_ns(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * NSEC + (uint64_t)t->tv_nsec;
}

/* One consistent reading: timerfd_gettime() (which folds expirations into ticks) with the
 * clock just before and just after it (read again until they are TIMER_WINDOW_NS apart at
 * most), then fdinfo for the ticks. Expiring between the two shows in fdinfo as no time
 * left: then it is read again. A timer showing no time left and no ticks is either not
 * armed or about to fire: it is looked at again 1 ms later before it counts as not armed. */
static int read_timer(struct dump_ctx *c, const struct dump_anonfd_fd *f, int copy,
		      struct anonfd_timer *t, int64_t *now_ns)
{
	for (int i = 0;; i++) {
		struct proc_fdinfo fi;
		struct itimerspec g;
		struct timespec before, now;
		const char *bad;
		uint64_t gv;
		bool settled;
		int ret;

		do {
			if (clock_gettime(t->clockid, &before) || timerfd_gettime(copy, &g) ||
			    clock_gettime(t->clockid, &now)) {
				ret = -errno;
				pr_perror("%s: %s: can't read the timer (clock %d)", f->what,
					  f->link, t->clockid);
				return ret;
			}
		} while (its_ns(&now) - its_ns(&before) > TIMER_WINDOW_NS);
		ret = proc_parse_fdinfo(c->pid, f->fd, &fi);
		if (ret)
			return ret;
		ret = anonfd_parse_timer(&fi, t, &bad);
		proc_fdinfo_free(&fi);
		if (ret)
			return bad_fdinfo(f, bad);
		gv = its_ns(&g.it_value);
		if (gv)
			settled = t->value_ns != 0;
		else if (t->ticks)
			settled = !g.it_interval.tv_sec && !g.it_interval.tv_nsec;
		else
			settled = i >= 2;
		if (settled || i == TIMER_TRIES) {
			t->value_ns = gv;
			t->interval_ns = its_ns(&g.it_interval);
			*now_ns = (int64_t)now.tv_sec * (int64_t)NSEC + now.tv_nsec;
			return 0;
		}
		usleep(1000);
	}
}

static int dump_timerfd(struct dump_ctx *c, const struct dump_anonfd_fd *f, struct dump_anonfd *a)
{
	struct anonfd_timer t;
	const char *bad;
	int64_t now = 0;
	int copy, ret = anonfd_parse_timer(f->fi, &t, &bad);

	if (ret)
		return bad_fdinfo(f, bad);
	copy = steal_fd(c->pid, f);
	if (copy < 0)
		return copy;
	ret = read_timer(c, f, copy, &t, &now);
	close(copy);
	if (ret)
		return ret;
	timerfd_entry__init(&a->tfd);
	a->tfd.flags = f->flags;
	a->tfd.clockid = t.clockid;
	a->tfd.settime_flags = t.settime_flags;
	a->tfd.ticks = t.ticks;
	a->tfd.value_ns = t.value_ns;
	a->tfd.interval_ns = t.interval_ns;
	a->tfd.owner = (uint32_t)c->vpid;
	if ((t.settime_flags & TFD_TIMER_ABSTIME) && t.value_ns) {
		a->tfd.has_deadline_ns = true;
		a->tfd.deadline_ns = now + (int64_t)t.value_ns;
	}
	pr_debug("%s: timerfd on clock %d, flags %o: %llu ns left, interval %llu ns, %llu "
		 "ticks\n",
		 f->what, t.clockid, t.settime_flags, (unsigned long long)t.value_ns,
		 (unsigned long long)t.interval_ns, (unsigned long long)t.ticks);
	return 0;
}

/* ---- epoll --------------------------------------------------------------------------------- */

/* 0: fd of the task is the file of watch (tfd, toff) of epoll efd; 1: it is not; -errno. */
static int is_target(pid_t pid, int efd, int tfd, int toff, int fd)
{
	struct kcmp_epoll_slot slot = { (uint32_t)efd, (uint32_t)tfd, (uint32_t)toff };
	long r = syscall(SYS_kcmp, pid, pid, KCMP_EPOLL_TFD, fd, &slot);

	if (r < 0 && errno == EBADF)
		return 1; /* fd is not open */
	if (r < 0)
		return -errno;
	return r != 0;
}

/* The fd of the task on the file of a watch whose own number tfd is closed or reused. */
static int find_target(struct dump_ctx *c, const struct dump_anonfd_fd *f,
		       const struct anonfd_tfd *w, int toff, uint32_t *via)
{
	struct proc_fd_list fds = { 0 };
	int ret = proc_list_fds(c->pid, &fds);

	if (ret)
		return ret;
	ret = -ENOTSUP;
	for (size_t i = 0; i < fds.n; i++) {
		int fd = fds.v[i].fd, r;

		if (fd == w->tfd || fd == f->fd)
			continue;
		r = is_target(c->pid, f->fd, w->tfd, toff, fd);
		if (r < 0) {
			pr_err("%s: %s: kcmp(KCMP_EPOLL_TFD) of the watch on fd %d with fd %d: %s "
			       "(errno %d)\n",
			       f->what, f->link, w->tfd, fd, strerror(-r), -r);
			ret = r;
			break;
		}
		if (r == 0) {
			*via = (uint32_t)fd;
			pr_debug("%s: the watch on fd %d: that fd is closed or reused, its file is "
				 "at fd %d\n",
				 f->what, w->tfd, fd);
			ret = 0;
			break;
		}
	}
	if (ret == -ENOTSUP)
		pr_err("%s: %s watches fd %d (inode %llu of device %u:%u), which is closed or "
		       "another file now, and no other fd of pid %d holds the watched file: not "
		       "supported\n",
		       f->what, f->link, w->tfd, (unsigned long long)w->ino, w->sdev >> 20,
		       w->sdev & 0xfffff, c->pid);
	proc_fd_list_free(&fds);
	return ret;
}

static int dump_epoll(struct dump_ctx *c, const struct dump_anonfd_fd *f, struct dump_anonfd *a)
{
	size_t n = proc_fdinfo_count(f->fi, "tfd");

	epoll_entry__init(&a->ep);
	a->ep.flags = f->flags;
	a->ep.owner = (uint32_t)c->vpid;
	a->tfds = calloc(n + 1, sizeof(*a->tfds));
	a->tfdp = calloc(n + 1, sizeof(*a->tfdp));
	if (!a->tfds || !a->tfdp) {
		pr_err("%s: out of memory for %zu epoll watches\n", f->what, n);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const char *v = proc_fdinfo_value(f->fi, "tfd", i);
		EpollTfdEntry *e = &a->tfds[i];
		struct anonfd_tfd w;
		int toff = 0, ret;

		if (anonfd_parse_tfd(v, &w)) {
			pr_err("%s: %s: bad fdinfo line 'tfd: %s'\n", f->what, f->link, v);
			return -EINVAL;
		}
		/* watches with one tfd are told apart by their rank among them (toff) */
		for (size_t k = 0; k < i; k++)
			toff += (int)a->tfds[k].tfd == w.tfd;
		epoll_tfd_entry__init(e);
		e->tfd = (uint32_t)w.tfd;
		e->events = w.events;
		e->data = w.data;
		a->tfdp[i] = e;
		a->ep.n_tfd = i + 1;
		ret = is_target(c->pid, f->fd, w.tfd, toff, w.tfd);
		if (ret < 0) {
			pr_err("%s: %s: kcmp(KCMP_EPOLL_TFD) of the watch on fd %d: %s (errno "
			       "%d)\n",
			       f->what, f->link, w.tfd, strerror(-ret), -ret);
			return ret;
		}
		if (ret) {
			ret = find_target(c, f, &w, toff, &e->via_fd);
			if (ret)
				return ret;
			e->has_via_fd = true;
		}
		pr_debug("%s: epoll watch on fd %d: events %#x data %#llx\n", f->what, w.tfd,
			 w.events, (unsigned long long)w.data);
	}
	a->ep.tfd = a->tfdp;
	return 0;
}

/* ---- inotify ------------------------------------------------------------------------------- */

/* The path of the watched inode, opened by its handle on the mount mp (a path through
 * /proc/PID/root): 0 with *path set, 1 if it can't be found there, -errno. */
static int path_on_mount(const char *mp, const struct anonfd_wd *w, dev_t dev, char **path,
			 int *err)
{
	struct {
		struct file_handle fh;
		unsigned char b[ANONFD_HANDLE_MAX];
	} h;
	char proc[64], buf[PATH_MAX];
	struct stat st;
	ssize_t n;
	int mfd, fd;

	mfd = open(mp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mfd < 0) {
		*err = errno;
		return 1;
	}
	h.fh.handle_bytes = w->handle_bytes;
	h.fh.handle_type = w->handle_type;
	memcpy(h.fh.f_handle, w->handle, w->handle_bytes);
	fd = open_by_handle_at(mfd, &h.fh, O_PATH | O_CLOEXEC);
	*err = errno;
	close(mfd);
	if (fd < 0)
		return *err == EPERM ? -EPERM : 1;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, buf, sizeof(buf) - 1);
	*err = errno;
	close(fd);
	if (n <= 0)
		return 1;
	buf[n] = '\0';
	if (buf[0] != '/' || stat(buf, &st) || st.st_ino != w->ino || st.st_dev != dev) {
		*err = ESTALE;
		return 1;
	}
	*path = strdup(buf);
	if (!*path) {
		pr_err("out of memory\n");
		return -ENOMEM;
	}
	return 0;
}

int anonfd_inode_path(struct dump_ctx *c, const struct dump_anonfd_fd *f, const struct anonfd_wd *w,
		      char **path)
{
	return anonfd_inode_find(c, f, w, path, false);
}

int anonfd_inode_find(struct dump_ctx *c, const struct dump_anonfd_fd *f, const struct anonfd_wd *w,
		      char **path, bool none_ok)
{
	unsigned int ma = w->sdev >> 20, mi = w->sdev & 0xfffff;
	char mi_path[64], *line = NULL;
	size_t cap = 0;
	int ret = 1, err = ENOENT;
	FILE *mf;

	if (!w->handle_bytes) {
		pr_err("%s: %s: watch %d (inode %llu of device %u:%u): the kernel shows no file "
		       "handle for it: can't find its path\n",
		       f->what, f->link, w->wd, (unsigned long long)w->ino, ma, mi);
		return -ENOTSUP;
	}
	snprintf(mi_path, sizeof(mi_path), "/proc/%d/mountinfo", c->pid);
	mf = fopen(mi_path, "re");
	if (!mf) {
		ret = -errno;
		pr_perror("%s: can't open %s", f->what, mi_path);
		return ret;
	}
	while (ret == 1 && getline(&line, &cap, mf) > 0) {
		unsigned int lma, lmi;
		char mp[PATH_MAX], *full;
		int pos = 0;

		if (sscanf(line, "%*d %*d %u:%u %*s %n", &lma, &lmi, &pos) != 2 || !pos ||
		    lma != ma || lmi != mi)
			continue;
		if (sscanf(line + pos, "%4095s", mp) != 1)
			continue;
		proc_unescape(mp);
		if (asprintf(&full, "/proc/%d/root%s", c->pid, mp) < 0) {
			ret = -ENOMEM;
			break;
		}
		ret = path_on_mount(full, w, makedev(ma, mi), path, &err);
		free(full);
	}
	free(line);
	fclose(mf);
	if (ret == -EPERM)
		pr_err("%s: %s: watch %d: open_by_handle_at() needs CAP_DAC_READ_SEARCH\n", f->what,
		       f->link, w->wd);
	else if (ret == -ENOMEM)
		pr_err("out of memory\n");
	else if (ret == 1 && none_ok)
		return 1;
	else if (ret == 1)
		pr_err("%s: %s: watch %d on inode %llu of device %u:%u: can't find a path to it "
		       "(deleted, or on no mount the task sees; last error: %s)\n",
		       f->what, f->link, w->wd, (unsigned long long)w->ino, ma, mi, strerror(err));
	return ret == 1 ? -ENOTSUP : ret;
}

static int cmp_wd(const void *a, const void *b)
{
	const InotifyWdEntry *x = *(InotifyWdEntry *const *)a, *y = *(InotifyWdEntry *const *)b;

	return (x->wd > y->wd) - (x->wd < y->wd);
}

int anonfd_no_queued(pid_t pid, const struct dump_anonfd_fd *f)
{
	int cp = taskfd_copy(pid, f->fd), n = 0, ret = 0;

	if (cp < 0 || ioctl(cp, FIONREAD, &n)) {
		ret = cp < 0 ? cp : -errno;
		pr_err("%s: %s: can't read how many bytes of events are queued\n", f->what,
		       f->link);
	} else if (n) {
		pr_err("%s: %s holds %d bytes of queued events: not supported (they can't be put "
		       "back)\n",
		       f->what, f->link, n);
		ret = -ENOTSUP;
	}
	if (cp >= 0)
		close(cp);
	return ret;
}

static int dump_inotify(struct dump_ctx *c, const struct dump_anonfd_fd *f, struct dump_anonfd *a)
{
	size_t n = proc_fdinfo_count(f->fi, "inotify wd");

	inotify_entry__init(&a->in);
	a->in.flags = f->flags;
	a->wds = calloc(n + 1, sizeof(*a->wds));
	a->wdp = calloc(n + 1, sizeof(*a->wdp));
	if (!a->wds || !a->wdp) {
		pr_err("%s: out of memory for %zu inotify watches\n", f->what, n);
		return -ENOMEM;
	}
	a->in.wd = a->wdp;
	for (size_t i = 0; i < n; i++) {
		const char *v = proc_fdinfo_value(f->fi, "inotify wd", i);
		InotifyWdEntry *e = &a->wds[i];
		struct anonfd_wd w;
		int ret;

		if (anonfd_parse_wd(v, &w)) {
			pr_err("%s: %s: bad fdinfo line 'inotify wd:%s'\n", f->what, f->link, v);
			return -EINVAL;
		}
		inotify_wd_entry__init(e);
		a->wdp[i] = e;
		a->in.n_wd = i + 1;
		ret = anonfd_inode_find(c, f, &w, &e->path, true);
		if (ret == 1) { /* deleted: an fd or mapping of the tree must hold it (commit) */
			e->has_file_id = true;
			e->path = strdup("");
			ret = e->path ? 0 : -ENOMEM;
		}
		if (ret)
			return ret;
		e->wd = (uint32_t)w.wd;
		e->mask = w.mask;
		e->ino = w.ino;
		e->dev = makedev(w.sdev >> 20, w.sdev & 0xfffff);
		pr_debug("%s: inotify watch %d on %s, mask %#x\n", f->what, w.wd, e->path, w.mask);
	}
	qsort(a->wdp, n, sizeof(*a->wdp), cmp_wd);
	return anonfd_no_queued(c->pid, f);
}

/* ---- the entry ----------------------------------------------------------------------------- */

int dump_anonfd(struct dump_ctx *c, const struct dump_anonfd_fd *f, FileType *type,
		struct dump_anonfd **out)
{
	struct dump_anonfd *a = calloc(1, sizeof(*a));
	int ret;

	*out = NULL;
	if (!a) {
		pr_err("out of memory\n");
		return -ENOMEM;
	}
	a->type = anonfd_type(f->link);
	switch (a->type) {
	case FILE_TYPE__FT_EVENTFD:
		ret = dump_eventfd(f, a);
		break;
	case FILE_TYPE__FT_SIGNALFD:
		ret = dump_signalfd(f, a);
		break;
	case FILE_TYPE__FT_TIMERFD:
		ret = dump_timerfd(c, f, a);
		break;
	case FILE_TYPE__FT_EPOLL:
		ret = dump_epoll(c, f, a);
		break;
	case FILE_TYPE__FT_INOTIFY:
		ret = dump_inotify(c, f, a);
		break;
	case FILE_TYPE__FT_PIDFD:
		ret = dump_pidfd(c, f, &a->pfd); /* dump-pidfd.c */
		break;
	case FILE_TYPE__FT_FANOTIFY:
		ret = dump_fanotify(c, f, &a->fan); /* dump-fanotify.c */
		break;
	default:
		pr_err("%s: %s is not supported yet\n", f->what, f->link);
		ret = -ENOTSUP;
	}
	if (ret) {
		dump_anonfd_free(a);
		return ret;
	}
	*type = a->type;
	*out = a;
	return 0;
}

void dump_anonfd_fill(struct dump_anonfd *a, FileEntry *fe)
{
	switch (a->type) {
	case FILE_TYPE__FT_EVENTFD:
		fe->eventfd = &a->ev;
		break;
	case FILE_TYPE__FT_SIGNALFD:
		fe->signalfd = &a->sig;
		break;
	case FILE_TYPE__FT_TIMERFD:
		fe->timerfd = &a->tfd;
		break;
	case FILE_TYPE__FT_EPOLL:
		fe->epoll = &a->ep;
		break;
	case FILE_TYPE__FT_INOTIFY:
		fe->inotify = &a->in;
		break;
	case FILE_TYPE__FT_PIDFD:
		fe->pidfd = &a->pfd;
		break;
	case FILE_TYPE__FT_FANOTIFY:
		fe->fanotify = &a->fan;
		break;
	default:
		break;
	}
}

int dump_anonfd_resolve(struct dump_anonfd *a, const char *what, anonfd_find_deleted *find,
			void *arg)
{
	for (size_t i = 0; a->type == FILE_TYPE__FT_INOTIFY && i < a->in.n_wd; i++) {
		InotifyWdEntry *e = a->in.wd[i];
		const char *path;
		char *p;

		if (!e->has_file_id || e->file_id)
			continue;
		if (!find(arg, e->dev, e->ino, &e->file_id, &path)) {
			pr_err(
			    "%s: inotify watch %u on inode %llu of device %u:%u: no path reaches "
			    "it (deleted), and no fd or mapping of the tree holds it\n",
			    what, e->wd, (unsigned long long)e->ino, major((dev_t)e->dev),
			    minor((dev_t)e->dev));
			return -ENOTSUP;
		}
		p = strdup(path);
		if (!p)
			return -ENOMEM;
		free(e->path);
		e->path = p;
		pr_debug("%s: inotify watch %u on the deleted %s (file %u)\n", what, e->wd, p,
			 e->file_id);
	}
	return 0;
}

void dump_anonfd_free(struct dump_anonfd *a)
{
	if (!a)
		return;
	if (a->type == FILE_TYPE__FT_FANOTIFY)
		dump_fanotify_free(&a->fan);
	for (size_t i = 0; a->wds && i < a->in.n_wd; i++)
		free(a->wds[i].path);
	free(a->wds);
	free(a->wdp);
	free(a->tfds);
	free(a->tfdp);
	free(a);
}
