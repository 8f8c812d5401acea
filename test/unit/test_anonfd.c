/* test_anonfd: dump-anonfd.c and restore-anonfd.c on files of this process.
 *
 * Parsers: the fdinfo lines of epoll, inotify and timerfd as the kernel prints them, and
 * text it never prints. Dump: eventfd, signalfd, timerfd, epoll and inotify files are
 * described without changing them (an eventfd keeps its counter, an expired timer its
 * expiration); an epoll watch whose fd number was closed is found at the fd that still holds
 * its file, and refused when no fd of the task does; an inotify watch is saved by path, and
 * refused when its file was deleted. Restore: each kind is created as described (counter,
 * semaphore, mask, clock, watches under their own wd numbers with nothing queued), and
 * damaged entries are refused, each with a message naming the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "criu-lite/kinds/anonfd.h"
#include "criu-lite/dump/dump.h"
#include "criu-lite/log.h"
#include "criu-lite/proc/proc.h"
#include "criu-lite/restore/restore.h"
#include "util_fs.h"
#include "util_log.h"

struct fx {
	struct utest_logdir ld; /* images, log, watched files */
};

/* The value of the first "key:" line of our fdinfo for fd. */
static char *fdinfo_value(int fd, const char *key, char *buf, size_t len)
{
	struct proc_fdinfo fi;
	const char *v;

	assert_int_equal(proc_parse_fdinfo(getpid(), fd, &fi), 0);
	v = proc_fdinfo_value(&fi, key, 0);
	snprintf(buf, len, "%s", v ? v : "(none)");
	proc_fdinfo_free(&fi);
	return buf;
}

/* Dump our fd as the kind its link says. */
static int dump_fd(int fd, struct dump_anonfd **a, FileType *type)
{
	struct dump_shared sh = { 0 };
	struct dump_ctx c = { .sh = &sh, .pid = getpid(), .vpid = getpid() };
	char what[32], via[64], link[64];
	struct proc_fdinfo fi;
	ssize_t n;
	int ret;

	snprintf(what, sizeof(what), "fd %d", fd);
	snprintf(via, sizeof(via), "/proc/self/fd/%d", fd);
	n = readlink(via, link, sizeof(link) - 1);
	assert_true(n > 0);
	link[n] = '\0';
	assert_int_equal(proc_parse_fdinfo(getpid(), fd, &fi), 0);
	{
		struct dump_anonfd_fd af = { what, link, fd, fi.flags & ~(uint32_t)O_CLOEXEC, &fi };

		ret = dump_anonfd(&c, &af, type, a);
	}
	proc_fdinfo_free(&fi);
	return ret;
}

/* anonfd_find_deleted: nothing holds a deleted file; or entry 77 holds the inode of *arg */
static bool no_holder(void *arg, uint64_t dev, uint64_t ino, uint32_t *id, const char **path)
{
	(void)arg, (void)dev, (void)ino, (void)id, (void)path;
	return false;
}

static bool holder(void *arg, uint64_t dev, uint64_t ino, uint32_t *id, const char **path)
{
	const struct stat *st = arg;

	if (st->st_dev != dev || st->st_ino != ino)
		return false;
	*id = 77;
	*path = "/the/old/name";
	return true;
}

/* A restore context whose one task (our pid) has fds fds[i] on files ids[i]. */
struct rfx {
	struct restore_ctx c;
	struct restore_task t;
	FdinfoEntry fdi[4], *fdp[4];
	FileEntry *files[2];
};

static void rctx(struct rfx *r, struct fx *f, FileEntry *fe, const int *fds, size_t n)
{
	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < n; i++) {
		fdinfo_entry__init(&r->fdi[i]);
		r->fdi[i].fd = (uint32_t)fds[i];
		r->fdi[i].id = i ? 100 + (uint32_t)i : fe->id;
		r->fdp[i] = &r->fdi[i];
	}
	r->t.vpid = getpid();
	r->t.fdinfo = r->fdp;
	r->t.nr_fdinfo = n;
	r->files[0] = fe;
	r->c.dir = f->ld.img;
	r->c.files = r->files;
	r->c.nr_files = 1;
	r->c.tasks = &r->t;
	r->c.nr_tasks = 1;
	r->c.xfer_base = 1000;
}

/* ---- parsers -------------------------------------------------------------------------------- */

static void test_parse(void **state)
{
	static const char tinfo[] = "pos:\t0\nflags:\t02004002\nmnt_id:\t17\nino:\t1038\n"
				    "clockid: 1\nticks: 3\nsettime flags: 03\n"
				    "it_value: (9, 999991377)\nit_interval: (1, 500)\n";
	struct anonfd_timer t;
	struct anonfd_tfd w;
	struct anonfd_wd i;
	struct proc_fdinfo fi;
	const char *bad;

	(void)state;
	assert_int_equal(anonfd_type("anon_inode:[eventfd]"), FILE_TYPE__FT_EVENTFD);
	assert_int_equal(anonfd_type("anon_inode:[signalfd]"), FILE_TYPE__FT_SIGNALFD);
	assert_int_equal(anonfd_type("anon_inode:[timerfd]"), FILE_TYPE__FT_TIMERFD);
	assert_int_equal(anonfd_type("anon_inode:[eventpoll]"), FILE_TYPE__FT_EPOLL);
	assert_int_equal(anonfd_type("anon_inode:inotify"), FILE_TYPE__FT_INOTIFY);
	assert_int_equal(anonfd_type("anon_inode:[pidfd]"), FILE_TYPE__FT_PIDFD);
	assert_int_equal(anonfd_type("anon_inode:[io_uring]"), 0);
	assert_int_equal(anonfd_type("/dev/null"), 0);

	assert_int_equal(anonfd_parse_tfd("      12 events: 4000001c data: 1122334455667788  "
					  "pos:0 ino:4345f sdev:f",
					  &w),
			 0);
	assert_int_equal(w.tfd, 12);
	assert_int_equal(w.events, 0x4000001c);
	assert_true(w.data == 0x1122334455667788ULL);
	assert_int_equal(w.ino, 0x4345f);
	assert_int_equal(w.sdev, 0xf);
	assert_int_equal(anonfd_parse_tfd("3 events: 19 data: 7  pos:-1 ino:40e sdev:10", &w), 0);
	assert_int_equal(anonfd_parse_tfd("3 events: 19 data: 7", &w), -EINVAL);
	assert_int_equal(anonfd_parse_tfd("-3 events: 19 data: 7  pos:0 ino:40e sdev:10", &w),
			 -EINVAL);
	assert_int_equal(anonfd_parse_tfd("3 events: 19 data: 7  pos:0 ino:40e sdev:10 x", &w),
			 -EINVAL);

	assert_int_equal(anonfd_parse_wd("2 ino:a723d4 sdev:fe00000 mask:80000002 ignored_mask:0 "
					 "fhandle-bytes:8 fhandle-type:1 f_handle:d423a70068d47f4b",
					 &i),
			 0);
	assert_int_equal(i.wd, 2);
	assert_int_equal(i.ino, 0xa723d4);
	assert_int_equal(i.sdev, 0xfe00000);
	assert_int_equal(i.mask, 0x80000002);
	assert_int_equal(i.handle_bytes, 8);
	assert_int_equal(i.handle_type, 1);
	assert_int_equal(i.handle[0], 0xd4);
	assert_int_equal(i.handle[7], 0x4b);
	assert_int_equal(anonfd_parse_wd("1f ino:1 sdev:2 mask:300 ignored_mask:0", &i), 0);
	assert_int_equal(i.wd, 0x1f); /* wd is hex */
	assert_int_equal(i.handle_bytes, 0);
	/* odd or short handle bytes, a handle larger than MAX_HANDLE_SZ */
	assert_int_equal(anonfd_parse_wd("1 ino:1 sdev:2 mask:3 ignored_mask:0 fhandle-bytes:2 "
					 "fhandle-type:1 f_handle:abc",
					 &i),
			 -EINVAL);
	assert_int_equal(anonfd_parse_wd("1 ino:1 sdev:2 mask:3 ignored_mask:0 fhandle-bytes:81 "
					 "fhandle-type:1 f_handle:00",
					 &i),
			 -EINVAL);
	assert_int_equal(anonfd_parse_wd("1 ino:1 sdev:2", &i), -EINVAL);

	assert_int_equal(proc_parse_fdinfo_buf("t", tinfo, sizeof(tinfo) - 1, &fi), 0);
	assert_int_equal(anonfd_parse_timer(&fi, &t, &bad), 0);
	assert_int_equal(t.clockid, 1);
	assert_int_equal(t.ticks, 3);
	assert_int_equal(t.settime_flags, 3); /* octal "03" */
	assert_true(t.value_ns == 9999991377ULL);
	assert_true(t.interval_ns == 1000000500ULL);
	proc_fdinfo_free(&fi);
	{
		static const char badv[] = "pos:\t0\nflags:\t02\nmnt_id:\t17\nino:\t1038\n"
					   "clockid: 1\nticks: 0\nsettime flags: 00\n"
					   "it_value: (9, 1000000000)\nit_interval: (0, 0)\n";

		assert_int_equal(proc_parse_fdinfo_buf("t", badv, sizeof(badv) - 1, &fi), 0);
		assert_int_equal(anonfd_parse_timer(&fi, &t, &bad), -EINVAL);
		assert_string_equal(bad, "it_value");
		proc_fdinfo_free(&fi);
	}
}

/* ---- eventfd, signalfd ------------------------------------------------------------------------
 */

static void test_eventfd_signalfd(void **state)
{
	struct fx *f = *state;
	struct dump_anonfd *a;
	FileEntry fe;
	FileType type;
	struct rfx r;
	char buf[64];
	uint64_t v;
	sigset_t m;
	int e = eventfd(0, EFD_SEMAPHORE | EFD_NONBLOCK), s, fd;

	assert_true(e >= 0);
	assert_int_equal(eventfd_write(e, 0x1234567890ULL), 0);
	assert_int_equal(dump_fd(e, &a, &type), 0);
	assert_int_equal(type, FILE_TYPE__FT_EVENTFD);
	file_entry__init(&fe);
	fe.id = 1;
	fe.type = type;
	dump_anonfd_fill(a, &fe);
	assert_non_null(fe.eventfd);
	assert_true(fe.eventfd->counter == 0x1234567890ULL);
	assert_true(fe.eventfd->semaphore);
	assert_true(fe.eventfd->flags & O_NONBLOCK);
	/* the dump took nothing */
	assert_string_equal(fdinfo_value(e, "eventfd-count", buf, sizeof(buf)), "1234567890");
	rctx(&r, f, &fe, NULL, 0);
	fd = restore_anonfd_open(&r.c, &fe);
	assert_true(fd >= 0);
	assert_string_equal(fdinfo_value(fd, "eventfd-count", buf, sizeof(buf)), "1234567890");
	assert_string_equal(fdinfo_value(fd, "eventfd-semaphore", buf, sizeof(buf)), "1");
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(read(fd, &v, 8), 8);
	assert_int_equal(v, 1);
	close(fd);
	/* a counter an eventfd can't hold */
	fe.eventfd->counter = UINT64_MAX;
	assert_int_equal(restore_anonfd_open(&r.c, &fe), -EBADMSG);
	assert_true(
	    utest_log_has(f->ld.log, "eventfd file 1: counter 0xffffffffffffffff is above"));
	dump_anonfd_free(a);
	close(e);

	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);
	sigaddset(&m, SIGRTMIN + 5);
	s = signalfd(-1, &m, 0);
	assert_true(s >= 0);
	assert_int_equal(dump_fd(s, &a, &type), 0);
	assert_int_equal(type, FILE_TYPE__FT_SIGNALFD);
	file_entry__init(&fe);
	fe.id = 2;
	fe.type = type;
	dump_anonfd_fill(a, &fe);
	assert_true(fe.signalfd->sigmask == ((1ULL << (SIGUSR2 - 1)) | (1ULL << (SIGRTMIN + 4))));
	fd = restore_anonfd_open(&r.c, &fe);
	assert_true(fd >= 0);
	assert_string_equal(fdinfo_value(fd, "sigmask", buf, sizeof(buf)),
			    fdinfo_value(s, "sigmask", buf + 32, 32));
	assert_false(fcntl(fd, F_GETFL) & O_NONBLOCK);
	close(fd);
	fe.signalfd = NULL;
	assert_int_equal(restore_anonfd_open(&r.c, &fe), -EBADMSG);
	assert_true(utest_log_has(f->ld.log, "signalfd file 2 has no signalfd record"));
	dump_anonfd_free(a);
	close(s);
}

/* ---- timerfd ----------------------------------------------------------------------------------
 */

static void test_timerfd(void **state)
{
	struct fx *f = *state;
	struct itimerspec its = { { 0, 0 }, { 0, 1000 } }, g;
	struct timespec w = { 0, 5 * 1000 * 1000 };
	struct dump_anonfd *a;
	FileEntry fe;
	FileType type;
	struct rfx r;
	int t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK), fd;
	char buf[64];
	uint64_t v = 0;

	/* expired once, not read: the dump sees the tick and leaves it */
	assert_true(t >= 0);
	assert_int_equal(timerfd_settime(t, 0, &its, NULL), 0);
	nanosleep(&w, NULL);
	assert_int_equal(dump_fd(t, &a, &type), 0);
	assert_int_equal(type, FILE_TYPE__FT_TIMERFD);
	file_entry__init(&fe);
	fe.id = 3;
	fe.type = type;
	dump_anonfd_fill(a, &fe);
	assert_int_equal(fe.timerfd->ticks, 1);
	assert_int_equal(fe.timerfd->value_ns, 0);
	assert_int_equal(fe.timerfd->clockid, CLOCK_MONOTONIC);
	assert_int_equal(fe.timerfd->owner, getpid());
	assert_int_equal(read(t, &v, 8), 8);
	assert_int_equal(v, 1);
	dump_anonfd_free(a);

	/* absolute, armed: its deadline on its clock */
	clock_gettime(CLOCK_MONOTONIC, &its.it_value);
	its.it_value.tv_sec += 100;
	its.it_interval.tv_sec = 2;
	assert_int_equal(timerfd_settime(t, TFD_TIMER_ABSTIME, &its, NULL), 0);
	assert_int_equal(dump_fd(t, &a, &type), 0);
	file_entry__init(&fe);
	fe.id = 3;
	fe.type = type;
	dump_anonfd_fill(a, &fe);
	assert_int_equal(fe.timerfd->settime_flags, TFD_TIMER_ABSTIME);
	assert_true(fe.timerfd->has_deadline_ns);
	assert_true(fe.timerfd->interval_ns == 2000000000ULL);
	assert_int_equal(timerfd_gettime(t, &g), 0);
	assert_true(g.it_value.tv_sec >= 90); /* untouched, still armed */
	v = (uint64_t)its.it_value.tv_sec * 1000000000 + (uint64_t)its.it_value.tv_nsec;
	assert_true(fe.timerfd->deadline_ns >= (int64_t)v - 1000000); /* within 1 ms */
	assert_true(fe.timerfd->deadline_ns <= (int64_t)v + 1000000);

	/* restore creates it on its clock, not armed yet (its owner arms it) */
	rctx(&r, f, &fe, &t, 1);
	fd = restore_anonfd_open(&r.c, &fe);
	assert_true(fd >= 0);
	assert_string_equal(fdinfo_value(fd, "clockid", buf, sizeof(buf)), "1");
	assert_int_equal(timerfd_gettime(fd, &g), 0);
	assert_int_equal(g.it_value.tv_sec + g.it_value.tv_nsec, 0);
	close(fd);
	/* damaged: flags it can't have, an owner that has no fd on it */
	fe.timerfd->settime_flags = 0x10;
	assert_int_equal(restore_anonfd_open(&r.c, &fe), -EBADMSG);
	assert_true(utest_log_has(f->ld.log, "timerfd file 3: bad settime flags 020"));
	fe.timerfd->settime_flags = TFD_TIMER_ABSTIME;
	fe.timerfd->owner = (uint32_t)getpid() + 1;
	assert_int_equal(restore_anonfd_open(&r.c, &fe), -EBADMSG);
	assert_true(utest_log_has(f->ld.log, "timerfd file 3: its owner pid"));
	dump_anonfd_free(a);
	close(t);
}

/* ---- epoll ------------------------------------------------------------------------------------
 */

static void test_epoll(void **state)
{
	struct fx *f = *state;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u64 = 0xabcdef };
	struct dump_anonfd *a;
	FileEntry fe;
	FileType type;
	struct rfx r;
	int ep = epoll_create1(0), e = eventfd(1, 0), moved, fds[3];
	pid_t child;
	char buf[128];

	assert_true(ep >= 0 && e >= 0);
	/* watched through a number that was closed afterwards: found at e */
	moved = dup(e);
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, moved, &ev), 0);
	close(moved);
	assert_int_equal(dump_fd(ep, &a, &type), 0);
	assert_int_equal(type, FILE_TYPE__FT_EPOLL);
	file_entry__init(&fe);
	fe.id = 4;
	fe.type = type;
	dump_anonfd_fill(a, &fe);
	assert_int_equal(fe.epoll->n_tfd, 1);
	assert_int_equal(fe.epoll->tfd[0]->tfd, moved);
	assert_int_equal(fe.epoll->tfd[0]->events, EPOLLIN | EPOLLET | EPOLLERR | EPOLLHUP);
	assert_true(fe.epoll->tfd[0]->data == 0xabcdef);
	assert_true(fe.epoll->tfd[0]->has_via_fd);
	assert_int_equal(fe.epoll->tfd[0]->via_fd, e);

	/* restore checks the owner has the fds the watches need */
	fds[0] = ep;
	fds[1] = e;
	rctx(&r, f, &fe, fds, 2);
	moved = restore_anonfd_open(&r.c, &fe);
	assert_true(moved >= 0);
	assert_string_equal(fdinfo_value(moved, "tfd", buf, sizeof(buf)), "(none)");
	close(moved);
	rctx(&r, f, &fe, fds, 1);
	assert_int_equal(restore_anonfd_open(&r.c, &fe), -EBADMSG);
	assert_true(utest_log_has(f->ld.log, "epoll file 4 watches fd"));
	dump_anonfd_free(a);

	/* the watched file is held only by a child: refused */
	child = fork();
	if (!child) {
		pause();
		_exit(0);
	}
	close(e);
	assert_int_equal(dump_fd(ep, &a, &type), -ENOTSUP);
	assert_null(a);
	assert_true(
	    utest_log_has(f->ld.log, "which is closed or another file now, and no other fd"));
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	close(ep);
}

/* ---- inotify ----------------------------------------------------------------------------------
 */

static void test_inotify(void **state)
{
	struct fx *f = *state;
	char a[PATH_MAX], b[PATH_MAX], buf[256];
	struct dump_anonfd *d;
	FileEntry fe;
	FileType type;
	struct rfx r;
	int in = inotify_init1(IN_NONBLOCK), fd, w1, w2, w3;

	snprintf(a, sizeof(a), "%s/a", f->ld.dir);
	snprintf(b, sizeof(b), "%s/b", f->ld.dir);
	assert_int_equal(utest_write_file(f->ld.dir, "a", "x", 1), 0);
	assert_int_equal(utest_write_file(f->ld.dir, "b", "y", 1), 0);
	w1 = inotify_add_watch(in, f->ld.dir, IN_CREATE);
	w2 = inotify_add_watch(in, b, IN_ATTRIB);
	assert_int_equal(inotify_rm_watch(in, w2), 0);
	w3 = inotify_add_watch(in, a, IN_MODIFY | IN_ONESHOT);
	assert_int_equal(w1, 1);
	assert_int_equal(w3, 3);
	while (read(in, buf, sizeof(buf)) > 0)
		;
	assert_int_equal(dump_fd(in, &d, &type), 0);
	assert_int_equal(type, FILE_TYPE__FT_INOTIFY);
	file_entry__init(&fe);
	fe.id = 5;
	fe.type = type;
	dump_anonfd_fill(d, &fe);
	assert_int_equal(fe.inotify->n_wd, 2);
	assert_int_equal(fe.inotify->wd[0]->wd, 1);
	assert_string_equal(fe.inotify->wd[0]->path, f->ld.dir);
	assert_int_equal(fe.inotify->wd[0]->mask, IN_CREATE);
	assert_int_equal(fe.inotify->wd[1]->wd, 3);
	assert_string_equal(fe.inotify->wd[1]->path, a);
	assert_int_equal(fe.inotify->wd[1]->mask, IN_MODIFY | IN_ONESHOT);

	/* recreated under the same wds, nonblocking as dumped, nothing queued */
	rctx(&r, f, &fe, NULL, 0);
	fd = restore_anonfd_open(&r.c, &fe);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_int_equal(read(fd, buf, sizeof(buf)), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(utest_write_file(f->ld.dir, "a", "zz", 2), 0);
	assert_true(read(fd, buf, sizeof(buf)) > 0);
	assert_int_equal(((struct inotify_event *)buf)->wd, 3);
	close(fd);

	/* damaged: wds out of order */
	fe.inotify->wd[1]->wd = 1;
	assert_int_equal(restore_anonfd_open(&r.c, &fe), -EBADMSG);
	assert_true(utest_log_has(f->ld.log, "inotify file 5: watch 1"));
	dump_anonfd_free(d);

	/* a watched file that was deleted (kept open, so its watch stays) has no path: the watch
	 * waits for the files.img entry of an fd on it (dump_anonfd_resolve()), refused without */
	w2 = inotify_add_watch(in, b, IN_ATTRIB);
	fd = open(b, O_RDONLY);
	assert_true(w2 > 0 && fd >= 0);
	assert_int_equal(unlink(b), 0);
	{ /* the unlink's IN_ATTRIB: read, a dump refuses queued events */
		int q = 0;

		assert_int_equal(ioctl(in, FIONREAD, &q), 0);
		assert_true(q > 0 && q <= (int)sizeof(buf) && read(in, buf, sizeof(buf)) == q);
	}
	assert_int_equal(dump_fd(in, &d, &type), 0);
	assert_int_equal(dump_anonfd_resolve(d, "fd 9", no_holder, NULL), -ENOTSUP);
	assert_true(utest_log_has(f->ld.log, "fd 9: inotify watch"));
	assert_true(utest_log_has(f->ld.log, "no path reaches it (deleted), and no fd or mapping"));
	{
		struct stat st;

		assert_int_equal(fstat(fd, &st), 0);
		assert_int_equal(dump_anonfd_resolve(d, "fd 9", holder, &st), 0);
		memset(&fe, 0, sizeof(fe));
		dump_anonfd_fill(d, &fe);
		for (size_t i = 0; i < fe.inotify->n_wd; i++)
			if (fe.inotify->wd[i]->wd == (uint32_t)w2) {
				assert_true(fe.inotify->wd[i]->has_file_id);
				assert_int_equal(fe.inotify->wd[i]->file_id, 77);
				assert_string_equal(fe.inotify->wd[i]->path, "/the/old/name");
			} else {
				assert_false(fe.inotify->wd[i]->has_file_id);
			}
	}
	dump_anonfd_free(d);
	close(fd);
	close(in);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || utest_logdir_open(&f->ld, "anonfd"))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	utest_logdir_close(&f->ld);
	free(f);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test_setup_teardown(test_eventfd_signalfd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timerfd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_epoll, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inotify, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
