/* restore-anonfd: eventfd, signalfd, timerfd, epoll and inotify files (see anonfd.h).
 *
 * Created in the restorer (restore_anonfd_open), before the tasks exist, with everything
 * checked that the images alone can tell. Two things wait for the task (restore_anonfd_task):
 * - a timerfd is armed from the restorer's transfer fd when its owner's fds are installed,
 *   so the time spent restoring memory does not run off a relative timer: a relative timer
 *   gets the time it had left at dump, an absolute one its deadline on its clock; unread
 *   expirations come back with TFD_IOC_SET_TICKS;
 * - an epoll watch's key is (file, fd number), so each is added with epoll_ctl() inside its
 *   owner, through rsys, where the fd numbers are the dumped ones. A watch whose number was
 *   closed or reused has its file dup3()'d to that number for the call (and the number is
 *   put back as it was afterwards).
 * inotify watches get their wd numbers back by allocating and removing throwaway watches on
 * an inode nobody watches until the counter reaches each one (the kernel hands out wds in
 * increasing order); the IN_IGNORED events that leaves behind are read away.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define LOG_PREFIX "anonfd: "
#include "criu-lite/kinds/anonfd.h"
#include "criu-lite/log.h"
#include "criu-lite/restore/restore-files.h"
#include "criu-lite/restore/restore.h"

#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#endif

#define NSEC		 1000000000LL
#define STATUS_KNOWN	 (O_ACCMODE | O_NONBLOCK)
#define INOTIFY_MASK	 (IN_ALL_EVENTS | IN_ONESHOT | IN_EXCL_UNLINK)
#define INOTIFY_SKIP_MAX (1 << 20) /* unused wd numbers recreated below the watches at most */
#define INOTIFY_DRAIN	 1024	   /* throwaway watches between two drains of their events */

bool anonfd_restores(FileType type)
{
	return type == FILE_TYPE__FT_EVENTFD || type == FILE_TYPE__FT_SIGNALFD ||
	       type == FILE_TYPE__FT_TIMERFD || type == FILE_TYPE__FT_EPOLL ||
	       type == FILE_TYPE__FT_INOTIFY || type == FILE_TYPE__FT_FANOTIFY;
}

static int missing(const FileEntry *fe, const char *kind)
{
	pr_err("files.img: %s file %u has no %s record\n", kind, fe->id, kind);
	return -EBADMSG;
}

static void warn_flags(const FileEntry *fe, const char *kind, uint32_t flags)
{
	if (flags & ~(uint32_t)STATUS_KNOWN)
		pr_warn("%s file %u: status flags 0%o are not restored\n", kind, fe->id,
			flags & ~(uint32_t)STATUS_KNOWN);
}

static int created(int fd, const FileEntry *fe, const char *kind)
{
	if (fd < 0) {
		fd = -errno;
		pr_perror("%s file %u: can't create it", kind, fe->id);
	}
	return fd;
}

/* The task that owns entry fe (its vpid is owner and it has an fd on fe), or NULL. */
static struct restore_task *owner_task(struct restore_ctx *c, uint32_t owner, uint32_t id)
{
	for (size_t i = 0; i < c->nr_tasks; i++) {
		struct restore_task *t = &c->tasks[i];

		if ((uint32_t)t->vpid != owner)
			continue;
		for (size_t k = 0; k < t->nr_fdinfo; k++)
			if (t->fdinfo[k]->id == id)
				return t;
	}
	return NULL;
}

/* The file id of fd in t's fd table, 0 if t has no such fd. */
static uint32_t fd_file(const struct restore_task *t, uint32_t fd)
{
	for (size_t k = 0; k < t->nr_fdinfo; k++)
		if (t->fdinfo[k]->fd == fd)
			return t->fdinfo[k]->id;
	return 0;
}

static int check_owner(struct restore_ctx *c, const FileEntry *fe, const char *kind, uint32_t owner,
		       struct restore_task **t)
{
	*t = owner_task(c, owner, fe->id);
	if (*t)
		return 0;
	pr_err("files.img: %s file %u: its owner pid %u is no task of the dump with an fd on it\n",
	       kind, fe->id, owner);
	return -EBADMSG;
}

/* ---- eventfd, signalfd --------------------------------------------------------------------- */

static int open_eventfd(const FileEntry *fe)
{
	const EventfdEntry *e = fe->eventfd;
	int fd, flags = EFD_CLOEXEC;

	if (!e)
		return missing(fe, "eventfd");
	if (e->counter == UINT64_MAX) {
		pr_err("files.img: eventfd file %u: counter %#llx is above the largest an eventfd "
		       "holds\n",
		       fe->id, (unsigned long long)e->counter);
		return -EBADMSG;
	}
	warn_flags(fe, "eventfd", e->flags);
	flags |= (e->flags & O_NONBLOCK) ? EFD_NONBLOCK : 0;
	flags |= e->semaphore ? EFD_SEMAPHORE : 0;
	fd = created(eventfd(0, flags), fe, "eventfd");
	/* eventfd() takes an unsigned int: the counter goes in by write(), which never blocks
	 * on a zero counter */
	if (fd >= 0 && e->counter && write(fd, &e->counter, sizeof(e->counter)) != 8) {
		int err = errno;

		pr_perror("eventfd file %u: can't set its counter to %llu", fe->id,
			  (unsigned long long)e->counter);
		close(fd);
		return -err;
	}
	return fd;
}

static int open_signalfd(const FileEntry *fe)
{
	const SignalfdEntry *e = fe->signalfd;
	uint64_t mask;

	if (!e)
		return missing(fe, "signalfd");
	warn_flags(fe, "signalfd", e->flags);
	mask = e->sigmask;
	return created((int)syscall(SYS_signalfd4, -1, &mask, sizeof(mask),
				    SFD_CLOEXEC | ((e->flags & O_NONBLOCK) ? SFD_NONBLOCK : 0)),
		       fe, "signalfd");
}

/* ---- timerfd ------------------------------------------------------------------------------- */

static int open_timerfd(struct restore_ctx *c, const FileEntry *fe)
{
	const TimerfdEntry *e = fe->timerfd;
	struct restore_task *t;
	uint64_t zero = 0;
	int fd, ret;

	if (!e)
		return missing(fe, "timerfd");
	if ((e->settime_flags & ~(uint32_t)(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)) ||
	    e->value_ns > (uint64_t)INT64_MAX || e->interval_ns > (uint64_t)INT64_MAX ||
	    ((e->settime_flags & TFD_TIMER_ABSTIME) && e->value_ns && !e->has_deadline_ns)) {
		pr_err("files.img: timerfd file %u: bad settime flags %#o, times or deadline\n",
		       fe->id, e->settime_flags);
		return -EBADMSG;
	}
	ret = check_owner(c, fe, "timerfd", e->owner, &t);
	if (ret)
		return ret;
	warn_flags(fe, "timerfd", e->flags);
	fd = timerfd_create(e->clockid, TFD_CLOEXEC | ((e->flags & O_NONBLOCK) ? TFD_NONBLOCK : 0));
	if (fd < 0) {
		ret = -errno;
		pr_perror("timerfd file %u: can't create a timerfd on clock %d%s", fe->id,
			  e->clockid, ret == -EPERM ? " (alarm clocks need CAP_WAKE_ALARM)" : "");
		return ret;
	}
	/* unread expirations need TFD_IOC_SET_TICKS, which answers 0 ticks with EINVAL */
	if (e->ticks && !(ioctl(fd, TFD_IOC_SET_TICKS, &zero) < 0 && errno == EINVAL)) {
		pr_err("timerfd file %u: %llu expirations were not read yet, and this kernel can't "
		       "set them (TFD_IOC_SET_TICKS needs CONFIG_CHECKPOINT_RESTORE): %s\n",
		       fe->id, (unsigned long long)e->ticks, strerror(errno));
		close(fd);
		return -ENOTSUP;
	}
	return fd;
}

static struct timespec ns_ts(int64_t ns)
{
	struct timespec ts = { 0, 0 };

	if (ns > 0) {
		ts.tv_sec = ns / NSEC;
		ts.tv_nsec = ns % NSEC;
	}
	return ts;
}

/* Arm the timer of fe through the restorer's transfer fd xfd. */
static int arm_timer(const FileEntry *fe, int xfd)
{
	const TimerfdEntry *e = fe->timerfd;
	struct itimerspec its = { .it_interval = ns_ts((int64_t)e->interval_ns) };
	uint64_t ticks = e->ticks;

	if (e->value_ns && (e->settime_flags & TFD_TIMER_ABSTIME)) {
		its.it_value = ns_ts(e->deadline_ns);
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1; /* a deadline at or before the clock's zero */
	} else if (e->value_ns) {
		its.it_value = ns_ts((int64_t)e->value_ns);
	}
	/* settime even when not armed: it keeps the interval and the settime flags */
	if (timerfd_settime(xfd, (int)e->settime_flags, &its, NULL)) {
		int err = errno;

		pr_perror("timerfd file %u: can't arm it (flags %#o, %lld.%09ld s, interval "
			  "%lld.%09ld s)",
			  fe->id, e->settime_flags, (long long)its.it_value.tv_sec,
			  its.it_value.tv_nsec, (long long)its.it_interval.tv_sec,
			  its.it_interval.tv_nsec);
		return -err;
	}
	if (ticks && ioctl(xfd, TFD_IOC_SET_TICKS, &ticks)) {
		int err = errno;

		pr_perror("timerfd file %u: can't set its %llu unread expirations", fe->id,
			  (unsigned long long)ticks);
		return -err;
	}
	pr_debug("timerfd file %u: armed, %llu ns left, interval %llu ns, %llu ticks\n", fe->id,
		 (unsigned long long)e->value_ns, (unsigned long long)e->interval_ns,
		 (unsigned long long)ticks);
	return 0;
}

/* ---- epoll --------------------------------------------------------------------------------- */

static int open_epoll(struct restore_ctx *c, const FileEntry *fe)
{
	const EpollEntry *e = fe->epoll;
	struct restore_task *t;
	int fd, ret;

	if (!e)
		return missing(fe, "epoll");
	ret = check_owner(c, fe, "epoll", e->owner, &t);
	for (size_t i = 0; !ret && i < e->n_tfd; i++) {
		const EpollTfdEntry *w = e->tfd[i];
		uint32_t at = fd_file(t, w->tfd);

		if (w->tfd >= (uint32_t)c->xfer_base) {
			pr_err("epoll file %u watches fd %u, a number at or above the restore's "
			       "transfer fds (from %d): not supported\n",
			       fe->id, w->tfd, c->xfer_base);
			ret = -ENOTSUP;
		} else if (w->has_via_fd ? (w->via_fd == w->tfd || !fd_file(t, w->via_fd)) : !at) {
			pr_err("files.img: epoll file %u watches fd %u%s, which pid %u has no fd "
			       "for\n",
			       fe->id, w->tfd, w->has_via_fd ? " through another fd" : "",
			       e->owner);
			ret = -EBADMSG;
		} else if (!w->has_via_fd && at == fe->id) {
			pr_err("files.img: epoll file %u watches itself (fd %u)\n", fe->id, w->tfd);
			ret = -EBADMSG;
		}
	}
	if (ret)
		return ret;
	warn_flags(fe, "epoll", e->flags);
	fd = created(epoll_create1(EPOLL_CLOEXEC), fe, "epoll");
	if (fd >= 0 && (e->flags & O_NONBLOCK) && fcntl(fd, F_SETFL, O_NONBLOCK)) {
		ret = -errno;
		pr_perror("epoll file %u: can't make it O_NONBLOCK", fe->id);
		close(fd);
		return ret;
	}
	return fd;
}

/* One remote syscall whose failure is logged here, with what it was for. */
static long call(struct restore_task *t, const char *what, uint32_t id, long nr, long a1, long a2,
		 long a3, long a4)
{
	long r = rsys_call_quiet(&t->rs, nr, a1, a2, a3, a4, 0, 0);

	if (r < 0)
		pr_err("pid %d: epoll file %u: %s: remote %s failed: %s (errno %ld)\n", t->pid, id,
		       what, rsys_name(nr) ? rsys_name(nr) : "syscall", strerror((int)-r), -r);
	return r;
}

static bool fd_cloexec(const struct restore_task *t, int fd)
{
	for (size_t i = 0; i < t->nr_fds; i++)
		if (t->fds[i].fd == fd)
			return t->fds[i].cloexec;
	return false;
}

/* A watch whose number tfd is closed or another file in t: its file (at via_fd) goes to
 * tfd for the epoll_ctl(), then tfd is put back as it was. */
static int add_via(struct restore_ctx *c, struct restore_task *t, uint32_t id, int epfd,
		   const EpollTfdEntry *w)
{
	int tfd = (int)w->tfd, ep = epfd;
	bool taken = fd_file(t, w->tfd) != 0;
	long saved = -1, r = 0;

	if (ep == tfd)
		ep = (int)(r = call(t, "moving the epoll fd aside", id, SYS_fcntl, epfd,
				    F_DUPFD_CLOEXEC, c->xfer_base, 0));
	if (r >= 0 && taken)
		saved = r = call(t, "moving the fd in the way aside", id, SYS_fcntl, tfd,
				 F_DUPFD_CLOEXEC, c->xfer_base, 0);
	if (r >= 0)
		r = call(t, "lending the watched file its old fd number", id, SYS_dup3,
			 (long)w->via_fd, tfd, 0, 0);
	if (r >= 0)
		r = call(t, "adding the watch", id, SYS_epoll_ctl, ep, EPOLL_CTL_ADD, tfd,
			 (long)t->sk.scratch);
	if (r >= 0 && taken)
		r = call(t, "putting the fd back", id, SYS_dup3, saved, tfd,
			 fd_cloexec(t, tfd) ? O_CLOEXEC : 0, 0);
	if (r >= 0)
		r = call(t, "closing the lent fd", id, SYS_close, taken ? saved : tfd, 0, 0, 0);
	if (r >= 0 && ep != epfd)
		r = call(t, "closing the epoll fd's copy", id, SYS_close, ep, 0, 0, 0);
	return r < 0 ? (int)r : 0;
}

/* The kernel keeps these bits of a one-shot watch once it reported it (and forces
 * EPOLLERR | EPOLLHUP into every watch it adds): such a "disabled" watch is recreated by
 * adding it with what its file is ready for now and collecting that event. */
#define EP_PRIVATE (EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE)
#define EP_POLL_ALL                                                                              \
	(EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLRDNORM | EPOLLRDBAND | EPOLLWRNORM | EPOLLWRBAND | \
	 EPOLLMSG | EPOLLRDHUP)
#define EP_WAIT_MAX 16

static bool disabled(const EpollTfdEntry *w)
{
	return (w->events & EPOLLONESHOT) && !(w->events & ~(uint32_t)EP_PRIVATE);
}

/* What the watched file of w is ready for now, polled through its transfer fd. */
static uint32_t ready_now(const struct restore_task *t, const EpollTfdEntry *w)
{
	uint32_t fd = w->has_via_fd ? w->via_fd : w->tfd;
	struct pollfd p = { .fd = -1, .events = EP_POLL_ALL };

	for (size_t i = 0; i < t->nr_fds; i++)
		if (t->fds[i].fd == (int)fd)
			p.fd = t->fds[i].xfer_fd;
	if (poll(&p, 1, 0) != 1)
		return 0;
	return (uint32_t)p.revents & EP_POLL_ALL;
}

/* Collect the events of the one-shot watches added so far (nothing else is in the epoll
 * yet), which disables each. */
static int collect_oneshots(struct restore_task *t, uint32_t id, int epfd, size_t added)
{
	uint64_t buf = t->sk.scratch + 256;

	for (size_t round = 0; round <= added; round++) {
		long r = call(t, "collecting one-shot events", id, SYS_epoll_wait, epfd, (long)buf,
			      EP_WAIT_MAX, 0);

		if (r <= 0)
			return (int)r;
	}
	return 0;
}

static int add_one(struct restore_ctx *c, struct restore_task *t, const FileEntry *fe, int epfd,
		   const EpollTfdEntry *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u64 = w->data };
	char what[64];
	int ret = rsys_write(&t->rs, t->sk.scratch, &ev, sizeof(ev));
	long r;

	if (ret) {
		pr_err("pid %d: can't write to its scratch page at %#llx\n", t->pid,
		       (unsigned long long)t->sk.scratch);
		return ret;
	}
	if (w->has_via_fd)
		return add_via(c, t, fe->id, epfd, w);
	snprintf(what, sizeof(what), "adding the watch on fd %u", w->tfd);
	r = call(t, what, fe->id, SYS_epoll_ctl, epfd, EPOLL_CTL_ADD, w->tfd, (long)t->sk.scratch);
	return r < 0 ? (int)r : 0;
}

/* Every watch of epoll fe, whose fd in t is epfd: the disabled one-shot ones first. */
static int add_watches(struct restore_ctx *c, struct restore_task *t, const FileEntry *fe, int epfd)
{
	const EpollEntry *e = fe->epoll;
	size_t fired = 0;
	int ret = 0;

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; !ret && i < e->n_tfd; i++) {
			const EpollTfdEntry *w = e->tfd[i];
			uint32_t now = 0;

			if (disabled(w) != (pass == 0))
				continue;
			if (pass == 0)
				now = ready_now(t, w);
			if (pass == 0 && !now)
				pr_warn(
				    "pid %d: epoll file %u: the disabled one-shot watch on fd %u "
				    "is armed for EPOLLERR and EPOLLHUP again (its file is ready "
				    "for nothing now)\n",
				    t->pid, fe->id, w->tfd);
			ret = add_one(c, t, fe, epfd, w, w->events | now);
			fired += now != 0;
		}
		if (!ret && pass == 0 && fired)
			ret = collect_oneshots(t, fe->id, epfd, fired);
		if (ret)
			return ret;
	}
	pr_debug("pid %d: epoll file %u (fd %d): %zu watches added\n", t->pid, fe->id, epfd,
		 e->n_tfd);
	return 0;
}

/* ---- inotify ------------------------------------------------------------------------------- */

/* A path whose inode no watch of e is on, for the throwaway watches. */
static int pick_spare(struct restore_ctx *c, const FileEntry *fe, const char **spare)
{
	const char *cand[] = { img_dir_path(c->dir), "/", "/proc" };
	const InotifyEntry *e = fe->inotify;

	for (size_t k = 0; k < sizeof(cand) / sizeof(cand[0]); k++) {
		struct stat st;
		bool used = false;

		if (lstat(cand[k], &st))
			continue;
		for (size_t i = 0; i < e->n_wd && !used; i++)
			used = e->wd[i]->ino == st.st_ino && e->wd[i]->dev == st.st_dev;
		if (!used) {
			*spare = cand[k];
			return 0;
		}
	}
	pr_err("inotify file %u: no inode left to make throwaway watches on\n", fe->id);
	return -ENOENT;
}

static bool real_wd(const InotifyEntry *e, int wd)
{
	for (size_t i = 0; i < e->n_wd; i++)
		if ((int)e->wd[i]->wd == wd)
			return true;
	return false;
}

/* Read away the IN_IGNORED events of removed throwaway watches (fd is nonblocking). */
static void drain(int fd, const FileEntry *fe)
{
	char buf[65536] __attribute__((aligned(8)));
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off + (ssize_t)sizeof(struct inotify_event) <= n;) {
			const struct inotify_event *ev = (const void *)(buf + off);

			if (real_wd(fe->inotify, ev->wd) || !(ev->mask & IN_IGNORED))
				pr_warn("inotify file %u: event %#x of watch %d came during the "
					"restore and is dropped\n",
					fe->id, ev->mask, ev->wd);
			off += (ssize_t)sizeof(*ev) + ev->len;
		}
	}
}

static int check_watches(const FileEntry *fe)
{
	const InotifyEntry *e = fe->inotify;

	for (size_t i = 0; i < e->n_wd; i++) {
		const InotifyWdEntry *w = e->wd[i];

		if (w->wd < 1 || w->wd > INT32_MAX || (i && w->wd <= e->wd[i - 1]->wd) ||
		    (w->mask & ~(uint32_t)INOTIFY_MASK) || (w->path[0] != '/' && !w->has_file_id)) {
			pr_err("files.img: inotify file %u: watch %u (mask %#x, path %s) is out "
			       "of order or malformed\n",
			       fe->id, w->wd, w->mask, w->path);
			return -EBADMSG;
		}
		if (w->wd - (uint32_t)i > INOTIFY_SKIP_MAX) {
			pr_err("inotify file %u: watch %u: recreating wd numbers that high (more "
			       "than %d unused ones below) is not supported\n",
			       fe->id, w->wd, INOTIFY_SKIP_MAX);
			return -ENOTSUP;
		}
	}
	return 0;
}

/* Add watch w as wd number w->wd; *next is the wd the kernel hands out next. */
static int add_wd(struct restore_ctx *c, int fd, const FileEntry *fe, const InotifyWdEntry *w,
		  const char *spare, uint32_t *next)
{
	const char *path = w->path;
	char proc[32];
	struct stat st;
	int r, follow = IN_DONT_FOLLOW;

	for (; *next < w->wd; (*next)++) {
		r = inotify_add_watch(fd, spare, IN_ATTRIB | IN_DONT_FOLLOW | IN_MASK_CREATE);
		if (r < 0 || (uint32_t)r != *next || inotify_rm_watch(fd, r)) {
			r = r < 0 ? -errno : -EIO;
			pr_err(
			    "inotify file %u: a throwaway watch on %s to skip wd %u failed: %s\n",
			    fe->id, spare, *next, strerror(-r));
			return r;
		}
		if ((*next) % INOTIFY_DRAIN == 0)
			drain(fd, fe);
	}
	if (w->has_file_id) { /* a deleted file: its recreated inode, no name of it */
		r = restore_ghost_of(c, w->file_id);
		if (r < 0)
			return r;
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", r);
		path = proc;
		follow = 0;
	} else if (lstat(w->path, &st)) {
		r = -errno;
		pr_perror("inotify file %u: watch %u: can't find %s", fe->id, w->wd, w->path);
		return r;
	} else if (st.st_ino != w->ino || st.st_dev != w->dev)
		pr_warn("inotify file %u: watch %u: %s is another file than at dump (inode %llu, "
			"then %llu): watching it by its path\n",
			fe->id, w->wd, w->path, (unsigned long long)st.st_ino,
			(unsigned long long)w->ino);
	r = inotify_add_watch(fd, path, w->mask | follow | IN_MASK_CREATE);
	if (r < 0) {
		r = -errno;
		pr_perror("inotify file %u: can't watch %s (wd %u, mask %#x)%s", fe->id, w->path,
			  w->wd, w->mask,
			  r == -EEXIST ? ": another watch of it is on the same file now" : "");
		return r;
	}
	if ((uint32_t)r != w->wd) {
		pr_err("inotify file %u: watching %s gave wd %d, expected %u\n", fe->id, w->path, r,
		       w->wd);
		return -EIO;
	}
	(*next)++;
	return 0;
}

static int open_inotify(struct restore_ctx *c, const FileEntry *fe)
{
	const InotifyEntry *e = fe->inotify;
	const char *spare = NULL;
	uint32_t next = 1;
	int fd, ret;

	if (!e)
		return missing(fe, "inotify");
	ret = check_watches(fe);
	if (!ret)
		ret = pick_spare(c, fe, &spare);
	if (ret)
		return ret;
	warn_flags(fe, "inotify", e->flags);
	/* nonblocking while its throwaway events are read away */
	fd = created(inotify_init1(IN_CLOEXEC | IN_NONBLOCK), fe, "inotify");
	for (size_t i = 0; fd >= 0 && !ret && i < e->n_wd; i++)
		ret = add_wd(c, fd, fe, e->wd[i], spare, &next);
	if (fd >= 0 && !ret) {
		drain(fd, fe);
		if (!(e->flags & O_NONBLOCK) && fcntl(fd, F_SETFL, 0)) {
			ret = -errno;
			pr_perror("inotify file %u: can't clear O_NONBLOCK", fe->id);
		}
	}
	if (ret && fd >= 0) {
		close(fd);
		fd = ret;
	}
	if (fd >= 0)
		pr_debug("inotify file %u: %zu watches\n", fe->id, e->n_wd);
	return fd;
}

/* ---- entry points -------------------------------------------------------------------------- */

int restore_anonfd_open(struct restore_ctx *c, const FileEntry *fe)
{
	switch (fe->type) {
	case FILE_TYPE__FT_EVENTFD:
		return open_eventfd(fe);
	case FILE_TYPE__FT_SIGNALFD:
		return open_signalfd(fe);
	case FILE_TYPE__FT_TIMERFD:
		return open_timerfd(c, fe);
	case FILE_TYPE__FT_EPOLL:
		return open_epoll(c, fe);
	case FILE_TYPE__FT_INOTIFY:
		return open_inotify(c, fe);
	case FILE_TYPE__FT_FANOTIFY:
		return restore_fanotify_open(c, fe); /* restore-fanotify.c */
	default:
		pr_err("files.img: file %u of type %d is no anonymous-inode file\n", fe->id,
		       fe->type);
		return -EINVAL;
	}
}

int restore_anonfd_task(struct restore_ctx *c, struct restore_task *t)
{
	for (size_t i = 0; i < t->nr_fds && i < t->nr_fdinfo; i++) {
		const FileEntry *fe = restore_file(c, t->fdinfo[i]->id);
		bool first = true;
		int ret = 0;

		for (size_t k = 0; k < i && first; k++)
			first = t->fdinfo[k]->id != t->fdinfo[i]->id;
		if (!first || !fe)
			continue;
		if (fe->type == FILE_TYPE__FT_TIMERFD && fe->timerfd &&
		    fe->timerfd->owner == (uint32_t)t->vpid)
			ret = arm_timer(fe, t->fds[i].xfer_fd);
		else if (fe->type == FILE_TYPE__FT_EPOLL && fe->epoll &&
			 fe->epoll->owner == (uint32_t)t->vpid)
			ret = add_watches(c, t, fe, t->fds[i].fd);
		else if (fe->type == FILE_TYPE__FT_FANOTIFY && fe->fanotify &&
			 fe->fanotify->owner == (uint32_t)t->vpid)
			ret = restore_fanotify_marks(t, fe, t->fds[i].fd);
		if (ret)
			return ret;
	}
	return 0;
}
