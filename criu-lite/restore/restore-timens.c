/* restore-timens: the time namespaces of the tree (pstree.img timens, timens_children; written
 * by dump-timens.c; docs/core.md, "Time namespaces").
 *
 * Contract: restore_timens_root() runs before the root's skeleton is cloned. It checks every
 * record first (one id, one set of offsets; each task in the namespace its parent creates
 * children in; each namespace made once: by the restorer for the root's, else by the one task
 * that creates its children in a namespace other than its own) and refuses bad images before
 * anything exists. When the root lived in a namespace of its own, the restorer makes it
 * (unshare(CLONE_NEWTIME), then the dumped offsets into /proc/self/timens_offsets, which the
 * kernel takes only before the first task enters it), so that the root is cloned into it;
 * restore_timens_back() then returns the restorer to its own namespace (setns()).
 * restore_timens_kids() runs in task t before its children are cloned: when t created its
 * children in a namespace other than its own, t makes it (a remote unshare()) and its offsets
 * are written through /proc/PID/timens_offsets. restore_timens_verify(), once the tree exists,
 * checks that tasks of one dumped namespace share one, and the others are the restorer's.
 * Offsets are kept as dumped: the clocks in the namespace are the host's plus the same offsets,
 * as a task outside any time namespace reads the host's clocks.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LOG_PREFIX "tree: "
#include "criu-lite/log.h"
#include "criu-lite/restore/restore.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static uint32_t own_id(const struct restore_task *t)
{
	return t->pstree->timens ? t->pstree->timens->id : 0;
}

static uint32_t kids_id(const struct restore_task *t)
{
	return t->pstree->timens_children ? t->pstree->timens_children->id : 0;
}

static bool same_offsets(const TimensEntry *a, const TimensEntry *b)
{
	return a->monotonic_sec == b->monotonic_sec && a->monotonic_nsec == b->monotonic_nsec &&
	       a->boottime_sec == b->boottime_sec && a->boottime_nsec == b->boottime_nsec;
}

static int bad(const struct restore_task *t, const char *why)
{
	pr_err("pstree.img: pid %d: its time namespaces: %s\n", t->vpid, why);
	return -EBADMSG;
}

/* The first record of namespace id (its offsets), or NULL. */
static const TimensEntry *record_of(const struct restore_ctx *c, uint32_t id)
{
	for (size_t i = 0; id && i < c->nr_tasks; i++) {
		const PstreeEntry *pe = c->tasks[i].pstree;

		if (pe->timens && pe->timens->id == id)
			return pe->timens;
		if (pe->timens_children && pe->timens_children->id == id)
			return pe->timens_children;
	}
	return NULL;
}

static int check_records(const struct restore_ctx *c)
{
	for (size_t i = 0; i < c->nr_tasks; i++) {
		const struct restore_task *t = &c->tasks[i];
		const TimensEntry *e[2] = { t->pstree->timens, t->pstree->timens_children };
		size_t makers = 0;

		for (int k = 0; k < 2; k++)
			if (e[k] && (!e[k]->id || e[k]->monotonic_nsec >= 1000000000u ||
				     e[k]->boottime_nsec >= 1000000000u ||
				     !same_offsets(e[k], record_of(c, e[k]->id))))
				return bad(t, "a bad id or offsets, or offsets that differ from "
					      "another task's in the same namespace");
		if (t->zombie)
			continue;
		if (own_id(t) && !kids_id(t))
			return bad(t, "it lives in a namespace of its own but creates its children "
				      "in the restorer's");
		if (t->parent && !t->parent->zombie && own_id(t) != kids_id(t->parent))
			return bad(t, "it is not in the namespace its parent creates children in");
		/* who makes the namespace t's children are created in */
		if (!kids_id(t) || kids_id(t) == own_id(t))
			continue;
		makers += own_id(&c->tasks[0]) == kids_id(t);
		for (size_t k = 0; k < c->nr_tasks; k++)
			makers += !c->tasks[k].zombie && kids_id(&c->tasks[k]) == kids_id(t) &&
				  own_id(&c->tasks[k]) != kids_id(t);
		if (makers != 1)
			return bad(t, "its children's namespace would be made more than once");
	}
	return 0;
}

/* The offsets of e into /proc/PID/timens_offsets (pid 0: ours), before anyone enters. */
static int write_offsets(pid_t pid, const TimensEntry *e)
{
	char path[64], buf[128];
	int fd, len, ret = 0;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/timens_offsets", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/timens_offsets");
	len = snprintf(buf, sizeof(buf), "monotonic %" PRId64 " %u\nboottime %" PRId64 " %u\n",
		       e->monotonic_sec, e->monotonic_nsec, e->boottime_sec, e->boottime_nsec);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, buf, (size_t)len) != len) {
		ret = -errno;
		pr_perror("time namespace %u: can't set its offsets (monotonic %" PRId64
			  ".%09u s, boottime %" PRId64 ".%09u s) through %s",
			  e->id, e->monotonic_sec, e->monotonic_nsec, e->boottime_sec,
			  e->boottime_nsec, path);
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

int restore_timens_root(struct restore_ctx *c, int *saved)
{
	const TimensEntry *e = c->tasks[0].pstree->timens;
	int ret = check_records(c);

	*saved = -1;
	if (ret || !e)
		return ret;
	*saved = open("/proc/self/ns/time", O_RDONLY | O_CLOEXEC);
	if (*saved < 0) {
		ret = -errno;
		pr_perror("the root lived in a time namespace of its own, and /proc/self/ns/time "
			  "can't be opened (a kernel without time namespaces?)");
		return ret;
	}
	if (unshare(CLONE_NEWTIME)) {
		ret = -errno;
		pr_perror("the root lived in a time namespace of its own: unshare(CLONE_NEWTIME)");
		return ret;
	}
	return write_offsets(0, e);
}

int restore_timens_back(int saved)
{
	int ret = 0;

	if (saved < 0)
		return 0;
	if (setns(saved, CLONE_NEWTIME)) {
		ret = -errno;
		pr_perror("can't go back to our own time namespace");
	}
	close(saved);
	return ret;
}

int restore_timens_kids(struct restore_ctx *c, struct restore_task *t)
{
	long r;

	(void)c;
	if (t->zombie || !kids_id(t) || kids_id(t) == own_id(t))
		return 0;
	r = rsys_call(&t->rs, SYS_unshare, CLONE_NEWTIME, 0, 0, 0, 0, 0);
	if (r < 0) {
		pr_err("pid %d: remote unshare(CLONE_NEWTIME) failed: %s\n", t->vpid,
		       strerror((int)-r));
		return (int)r;
	}
	pr_info("pid %d: its children's time namespace %u made\n", t->vpid, kids_id(t));
	return write_offsets(t->pid, t->pstree->timens_children);
}

static int ino_of(pid_t pid, const char *ns, ino_t *ino)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, ns);
	if (stat(path, &st)) {
		pr_perror("can't stat %s", path);
		return -errno;
	}
	*ino = st.st_ino;
	return 0;
}

int restore_timens_verify(struct restore_ctx *c)
{
	struct stat self;
	bool any = false;

	for (size_t i = 0; i < c->nr_tasks; i++)
		any |= own_id(&c->tasks[i]) || kids_id(&c->tasks[i]);
	if (!any)
		return 0;
	if (stat("/proc/self/ns/time", &self)) {
		pr_perror("can't stat /proc/self/ns/time");
		return -errno;
	}
	for (size_t i = 0; i < c->nr_tasks; i++) {
		const struct restore_task *a = &c->tasks[i];
		ino_t ia, ka;
		int ret;

		if (a->zombie)
			continue;
		if ((ret = ino_of(a->pid, "time", &ia)) ||
		    (ret = ino_of(a->pid, "time_for_children", &ka)))
			return ret;
		if ((ia == self.st_ino) != !own_id(a) || (ka == self.st_ino) != !kids_id(a)) {
			pr_err("pid %d: its time namespaces are not the ones it was dumped in\n",
			       a->vpid);
			return -EIO;
		}
		for (size_t k = 0; k < i; k++) {
			const struct restore_task *b = &c->tasks[k];
			ino_t ib;

			if (b->zombie || !own_id(a) || (ret = ino_of(b->pid, "time", &ib)))
				continue;
			if ((ia == ib) != (own_id(a) == own_id(b))) {
				pr_err(
				    "pid %d and pid %d: their time namespaces are not as dumped\n",
				    a->vpid, b->vpid);
				return -EIO;
			}
		}
	}
	return 0;
}
