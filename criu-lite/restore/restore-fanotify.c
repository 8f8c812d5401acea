/* restore-fanotify: a fanotify group and its marks (fanotify_entry, anonfd.proto;
 * dump-fanotify.c).
 *
 * Contract: restore_fanotify_open() checks the entry and makes the group in the restorer
 * (fanotify_init() with the dumped flags and event flags, O_NONBLOCK as the file had it), before
 * any task exists. restore_fanotify_marks() adds its marks again from inside the task that owned
 * it at dump (rsys), once its fds are installed: path lookups and mount marks are then the
 * task's own mount namespace's, as they were. Each mark is added with its mask (and
 * FAN_MARK_EVICTABLE when it had it), its ignored mask in a second call (with
 * FAN_MARK_IGNORED_SURV_MODIFY when it had it). 0 or -errno (logged).
 */
#define LOG_PREFIX "anonfd: "

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/syscall.h>

#include "criu-lite/kinds/anonfd.h"
#include "criu-lite/log.h"
#include "criu-lite/restore/restore.h"

#ifndef FAN_MARK_EVICTABLE
#define FAN_MARK_EVICTABLE 0x00000200
#endif

static const unsigned int kind_flag[] = { 0, FAN_MARK_MOUNT, FAN_MARK_FILESYSTEM };

int restore_fanotify_open(struct restore_ctx *c, const FileEntry *fe)
{
	const FanotifyEntry *e = fe->fanotify;
	unsigned int fl;
	int fd;

	(void)c;
	if (!e) {
		pr_err("files.img: fanotify file %u has no fanotify record\n", fe->id);
		return -EBADMSG;
	}
	for (size_t i = 0; i < e->n_marks; i++)
		if (e->marks[i]->kind > 2 || !e->marks[i]->path || e->marks[i]->path[0] != '/' ||
		    strlen(e->marks[i]->path) >= 4000) {
			pr_err("files.img: fanotify file %u: mark %zu is damaged\n", fe->id, i);
			return -EBADMSG;
		}
	fl = (e->init_flags & ~(unsigned int)(FAN_CLOEXEC | FAN_NONBLOCK)) | FAN_CLOEXEC |
	     ((e->flags & O_NONBLOCK) ? FAN_NONBLOCK : 0);
	fd = fanotify_init(fl, e->event_flags);
	if (fd < 0) {
		fd = -errno;
		pr_perror("fanotify file %u: fanotify_init(%#x, %#x) failed", fe->id, fl,
			  e->event_flags);
	}
	return fd;
}

static int mark(struct restore_task *t, const FileEntry *fe, int fd, const FanotifyMarkEntry *m,
		unsigned int flags, uint64_t mask)
{
	char what[96];
	long r;
	int ret = rsys_write(&t->rs, t->sk.scratch, m->path, strlen(m->path) + 1);

	if (ret)
		return ret;
	snprintf(what, sizeof(what), "fanotify file %u: a mark on %s (flags %#x, mask %#llx)",
		 fe->id, m->path, flags, (unsigned long long)mask);
	r = rsys_call_quiet(&t->rs, SYS_fanotify_mark, fd, (long)flags, (long)mask, AT_FDCWD,
			    (long)t->sk.scratch, 0);
	if (r < 0) {
		pr_err("pid %d: %s: remote fanotify_mark failed: %s (errno %ld)\n", t->vpid, what,
		       strerror((int)-r), -r);
		return (int)r;
	}
	return 0;
}

int restore_fanotify_marks(struct restore_task *t, const FileEntry *fe, int fd)
{
	const FanotifyEntry *e = fe->fanotify;
	int ret = 0;

	for (size_t i = 0; !ret && i < e->n_marks; i++) {
		const FanotifyMarkEntry *m = e->marks[i];
		unsigned int k = FAN_MARK_ADD | kind_flag[m->kind];

		if (m->mask)
			ret = mark(t, fe, fd, m, k | (m->mflags & FAN_MARK_EVICTABLE), m->mask);
		if (!ret && m->ignored_mask)
			ret = mark(t, fe, fd, m,
				   k | FAN_MARK_IGNORED_MASK |
				       (m->mflags & FAN_MARK_IGNORED_SURV_MODIFY),
				   m->ignored_mask);
	}
	if (!ret)
		pr_debug("pid %d: fanotify file %u: %zu mark(s) added\n", t->vpid, fe->id,
			 e->n_marks);
	return ret;
}
