/* dump-fanotify: a fanotify group (anon_inode:[fanotify]) and its marks into a fanotify_entry
 * (anonfd.proto; restore-fanotify.c makes them again; docs/fds.md).
 *
 * Contract: dump_fanotify() reads the group from fdinfo: "fanotify flags:F event-flags:E" (the
 * fanotify_init() arguments) and one line per mark: an inode mark ("fanotify ino:..." with a file
 * handle, whose path is found by opening the handle on a mount of its file system the task sees,
 * as for inotify: anonfd_inode_path()), a mount mark ("fanotify mnt_id:M", its mount point from
 * the task's mountinfo) or a file system mark ("fanotify sdev:D", the mount point of a mount of
 * it), each with its FAN_MARK flags, mask and ignored mask. The task that holds it is the one
 * that adds the marks again at restore (in its mount namespace). Nothing is changed.
 * Refused, naming the fd: events queued for reading (they can't be put back), a group of a
 * permission class (FAN_CLASS_CONTENT, FAN_CLASS_PRE_CONTENT: a pending permission request
 * can't be made again), a mark whose inode or mount can't be found by a path.
 */
#define LOG_PREFIX "anonfd: "

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "criu-lite/dump/dump.h"
#include "criu-lite/kinds/anonfd.h"
#include "criu-lite/log.h"
#include "criu-lite/proc/proc-util.h"

#define KIND_INODE 0
#define KIND_MOUNT 1
#define KIND_FS	   2

static int add_mark(FanotifyEntry *e, uint32_t kind, char *path, uint32_t mflags, uint32_t mask,
		    uint32_t ign)
{
	FanotifyMarkEntry *m = malloc(sizeof(*m)), **v;

	v = m ? realloc(e->marks, (e->n_marks + 1) * sizeof(*v)) : NULL;
	if (!v) {
		free(m);
		free(path);
		pr_err("out of memory\n");
		return -ENOMEM;
	}
	fanotify_mark_entry__init(m);
	m->kind = kind;
	m->path = path;
	m->mflags = mflags;
	m->mask = mask;
	m->ignored_mask = ign;
	e->marks = v;
	v[e->n_marks++] = m;
	return 0;
}

/* "a7207b sdev:fe00000 mflags:40 mask:0 ignored_mask:20 fhandle-bytes:..." */
static int inode_mark(struct dump_ctx *c, const struct dump_anonfd_fd *f, const char *v, size_t k,
		      FanotifyEntry *e)
{
	const char *mf = strstr(v, " mflags:"), *rest = mf ? strchr(mf + 1, ' ') : NULL;
	unsigned int mflags = 0;
	struct anonfd_wd w;
	char *line, *path = NULL;
	int ret;

	if (!rest || sscanf(mf, " mflags:%x", &mflags) != 1 ||
	    asprintf(&line, "%zu ino:%.*s%s", k, (int)(mf - v), v, rest) < 0)
		return -EINVAL;
	ret = anonfd_parse_wd(line, &w);
	free(line);
	if (ret) {
		pr_err("%s: %s: bad fdinfo line 'fanotify ino:%s'\n", f->what, f->link, v);
		return ret;
	}
	ret = anonfd_inode_path(c, f, &w, &path);
	return ret ? ret : add_mark(e, KIND_INODE, path, mflags, w.mask, w.ignored_mask);
}

/* "1a mflags:0 mask:20 ignored_mask:0" (mnt_id) or "fe00000 mflags:..." (sdev) */
static int other_mark(struct dump_ctx *c, const struct dump_anonfd_fd *f, const char *v,
		      uint32_t kind, FanotifyEntry *e)
{
	unsigned int id, mflags, mask, ign;
	char *path;

	if (sscanf(v, "%x mflags:%x mask:%x ignored_mask:%x", &id, &mflags, &mask, &ign) != 4) {
		pr_err("%s: %s: bad fdinfo line for a %s mark '%s'\n", f->what, f->link,
		       kind == KIND_MOUNT ? "mount" : "file system", v);
		return -EINVAL;
	}
	path = kind == KIND_MOUNT ? proc_mount_point(c->pid, (long)id, 0)
				  : proc_mount_point(c->pid, -1, makedev(id >> 20, id & 0xfffff));
	if (!path) {
		pr_err("%s: %s: a %s mark on %s %#x that the task sees no mount of: not "
		       "supported\n",
		       f->what, f->link, kind == KIND_MOUNT ? "mount" : "file system",
		       kind == KIND_MOUNT ? "mount" : "device", id);
		return -ENOTSUP;
	}
	return add_mark(e, kind, path, mflags, mask, ign);
}

int dump_fanotify(struct dump_ctx *c, const struct dump_anonfd_fd *f, FanotifyEntry *e)
{
	const char *g = proc_fdinfo_value(f->fi, "fanotify flags", 0);
	unsigned int flags, ev;
	int ret = 0;

	fanotify_entry__init(e);
	e->flags = f->flags;
	e->owner = (uint32_t)c->vpid;
	if (!g || sscanf(g, "%x event-flags:%x", &flags, &ev) != 2) {
		pr_err("%s: %s: its fdinfo shows no fanotify flags\n", f->what, f->link);
		return -EINVAL;
	}
	if (flags & (FAN_CLASS_CONTENT | FAN_CLASS_PRE_CONTENT)) {
		pr_err("%s: %s is a permission-class fanotify group (flags %#x): not supported\n",
		       f->what, f->link, flags);
		return -ENOTSUP;
	}
	e->init_flags = flags;
	e->event_flags = ev;
	for (size_t k = 0; !ret && k < proc_fdinfo_count(f->fi, "fanotify ino"); k++)
		ret = inode_mark(c, f, proc_fdinfo_value(f->fi, "fanotify ino", k), k, e);
	for (size_t k = 0; !ret && k < proc_fdinfo_count(f->fi, "fanotify mnt_id"); k++)
		ret =
		    other_mark(c, f, proc_fdinfo_value(f->fi, "fanotify mnt_id", k), KIND_MOUNT, e);
	for (size_t k = 0; !ret && k < proc_fdinfo_count(f->fi, "fanotify sdev"); k++)
		ret = other_mark(c, f, proc_fdinfo_value(f->fi, "fanotify sdev", k), KIND_FS, e);
	if (!ret)
		ret = anonfd_no_queued(c->pid, f);
	if (!ret)
		pr_debug("%s: fanotify group, flags %#x, %zu mark(s)\n", f->what, flags,
			 e->n_marks);
	return ret;
}

void dump_fanotify_free(FanotifyEntry *e)
{
	for (size_t i = 0; i < e->n_marks; i++) {
		free(e->marks[i]->path);
		free(e->marks[i]);
	}
	free(e->marks);
	e->marks = NULL;
	e->n_marks = 0;
}
