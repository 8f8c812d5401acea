/* dump-timens: the time namespaces of the tree's tasks (docs/core.md, "Time namespaces").
 *
 * Contract: dump_timens_task() reads, for live task c, the namespace it lives in
 * (/proc/PID/ns/time) and the one its children are created in (ns/time_for_children), by
 * inode; every namespace other than the dumper's gets an id from 1 in the dump's table
 * (c->timens, c->timens_kids; 0: the dumper's). The clock offsets of a task's children's
 * namespace are read from /proc/PID/timens_offsets (the file shows that one). A thread in
 * another namespace than its leader is refused. dump_timens_check(), once every task is seen,
 * refuses what restore could not make again, naming the task: a namespace whose offsets no
 * task shows, a task that is not in the namespace its parent creates children in (it joined
 * one with setns()), and a namespace that more than one task would have to make (restore
 * makes each once: the restorer for the root's, or the one task that creates its children in
 * a namespace other than its own, by unshare(CLONE_NEWTIME), before they exist), and a task
 * that lives in a namespace of its own but creates its children in the dumper's.
 * dump_timens_fill() gives pstree.img's records. Zombies have no namespaces (0).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define LOG_PREFIX "dump: "
#include "criu-lite/dump/dump.h"
#include "criu-lite/log.h"
#include "pstree.pb-c.h"

struct timens_ns {
	ino_t ino;
	bool known; /* offsets read */
	int64_t mono_s, boot_s;
	uint32_t mono_ns, boot_ns;
	pid_t seen; /* a task in it or creating its children in it, for messages */
};

struct dump_timens {
	ino_t self; /* the dumper's */
	bool none;  /* a kernel without time namespaces */
	struct timens_ns *v;
	size_t n;
};

/* The inode of /proc/PID/[task/TID/]ns/NS (tid 0: the process's); -ENOENT: none. */
static int ns_ino(pid_t pid, pid_t tid, const char *ns, ino_t *ino)
{
	char path[96];
	struct stat st;

	if (!pid)
		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns);
	else if (tid)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/ns/%s", pid, tid, ns);
	else
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, ns);
	if (!stat(path, &st)) {
		*ino = st.st_ino;
		return 0;
	}
	if (errno != ENOENT)
		pr_perror("can't stat %s", path);
	return -errno;
}

static int table(struct dump_shared *sh, struct dump_timens **out)
{
	struct dump_timens *t = sh->timens;
	int ret;

	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t) {
			pr_err("out of memory\n");
			return -ENOMEM;
		}
		ret = ns_ino(0, 0, "time", &t->self);
		if (ret && ret != -ENOENT) {
			free(t);
			return ret;
		}
		t->none = ret == -ENOENT;
		sh->timens = t;
	}
	*out = t;
	return 0;
}

/* The id of namespace ino (0: the dumper's), added when new. */
static int id_of(struct dump_timens *t, ino_t ino, pid_t pid, uint32_t *id)
{
	struct timens_ns *v;

	*id = 0;
	if (ino == t->self)
		return 0;
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].ino == ino) {
			*id = (uint32_t)i + 1;
			return 0;
		}
	v = realloc(t->v, (t->n + 1) * sizeof(*v));
	if (!v) {
		pr_err("out of memory\n");
		return -ENOMEM;
	}
	t->v = v;
	v[t->n] = (struct timens_ns){ .ino = ino, .seen = pid };
	*id = (uint32_t)++t->n;
	return 0;
}

/* /proc/PID/timens_offsets: "monotonic S NS\nboottime S NS\n" (older kernels: clock ids 1
 * and 7 instead of the names). */
static int read_offsets(pid_t pid, struct timens_ns *ns)
{
	char path[64], buf[256], name[16];
	int64_t s;
	uint32_t nsec;
	int got = 0, ret, off = 0, used;

	snprintf(path, sizeof(path), "/proc/%d/timens_offsets", pid);
	ret = proc_read_value(path, buf, sizeof(buf));
	if (ret) {
		errno = -ret;
		pr_perror("pid %d: can't read %s", pid, path);
		return ret;
	}
	while (sscanf(buf + off, "%15s %" SCNd64 " %" SCNu32 "%n", name, &s, &nsec, &used) == 3) {
		off += used;
		if (!strcmp(name, "monotonic") || !strcmp(name, "1")) {
			ns->mono_s = s;
			ns->mono_ns = nsec;
			got |= 1;
		} else if (!strcmp(name, "boottime") || !strcmp(name, "7")) {
			ns->boot_s = s;
			ns->boot_ns = nsec;
			got |= 2;
		}
	}
	if (got != 3) {
		pr_err("pid %d: %s does not read as monotonic and boottime offsets: '%s'\n", pid,
		       path, buf);
		return -EINVAL;
	}
	return 0;
}

int dump_timens_task(struct dump_ctx *c)
{
	struct dump_timens *t;
	ino_t own, kids, a, b;
	int ret = c->zombie ? 0 : table(c->sh, &t);

	if (ret || c->zombie || t->none)
		return ret;
	if ((ret = ns_ino(c->pid, 0, "time", &own)) ||
	    (ret = ns_ino(c->pid, 0, "time_for_children", &kids)))
		return ret;
	for (size_t k = 0; k < c->st.nr; k++) {
		pid_t tid = c->st.thr[k].tid;

		if ((ret = ns_ino(c->pid, tid, "time", &a)) ||
		    (ret = ns_ino(c->pid, tid, "time_for_children", &b))) {
			if (ret != -ENOENT)
				return ret;
			ret = 0; /* a thread that just exited */
			continue;
		}
		if (a != own || b != kids) {
			pr_err(
			    "pid %d: thread %d is in another time namespace than the process, or "
			    "creates its children in another one: not supported\n",
			    c->st.pid, tid);
			return -ENOTSUP;
		}
	}
	if ((ret = id_of(t, own, c->st.pid, &c->timens)) ||
	    (ret = id_of(t, kids, c->st.pid, &c->timens_kids)))
		return ret;
	if (c->timens_kids) {
		struct timens_ns got = { 0 }, *ns = &t->v[c->timens_kids - 1];

		if ((ret = read_offsets(c->pid, &got)))
			return ret;
		if (ns->known && (got.mono_s != ns->mono_s || got.mono_ns != ns->mono_ns ||
				  got.boot_s != ns->boot_s || got.boot_ns != ns->boot_ns)) {
			pr_err("pid %d: its children's time namespace shows other offsets than "
			       "pid %d's\n",
			       c->st.pid, ns->seen);
			return -EIO;
		}
		got.ino = ns->ino;
		got.seen = ns->seen;
		got.known = true;
		*ns = got;
	}
	if (c->timens || c->timens_kids)
		pr_info("pid %d: time namespace %u, its children's %u (0: ours)\n", c->st.pid,
			c->timens, c->timens_kids);
	return 0;
}

/* Who has to make namespace id at restore: the restorer (the root lives in it), or the one
 * task that creates its children in it while living in another; more than one: refused. */
static int makers(const struct dump_ctx *tasks, size_t n, uint32_t id, pid_t *who)
{
	int count = tasks[0].timens == id;

	*who = tasks[0].st.pid;
	for (size_t i = 0; i < n; i++)
		if (!tasks[i].zombie && tasks[i].timens_kids == id && tasks[i].timens != id) {
			if (!count)
				*who = tasks[i].st.pid;
			count++;
		}
	return count;
}

int dump_timens_check(const struct dump_shared *sh, const struct dump_ctx *tasks, size_t n)
{
	const struct dump_timens *t = sh->timens;
	pid_t who;

	for (size_t i = 0; t && i < t->n; i++) {
		if (!t->v[i].known) {
			pr_err(
			    "pid %d lives in a time namespace (ns inode %ju) in which no task of the "
			    "tree creates its children: its clock offsets can't be read\n",
			    t->v[i].seen, (uintmax_t)t->v[i].ino);
			return -ENOTSUP;
		}
		if (makers(tasks, n, (uint32_t)i + 1, &who) != 1) {
			pr_err(
			    "the time namespace (ns inode %ju) of pid %d would have to be made by "
			    "more than one task (or by none) at restore: not supported\n",
			    (uintmax_t)t->v[i].ino, t->v[i].seen);
			return -ENOTSUP;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct dump_ctx *c = &tasks[i];

		if (!c->zombie && c->timens && !c->timens_kids) {
			pr_err(
			    "pid %d lives in a time namespace of its own but creates its children "
			    "in ours: not supported\n",
			    c->st.pid);
			return -ENOTSUP;
		}
		if (c->zombie || !c->parent || c->parent->zombie ||
		    c->timens == c->parent->timens_kids)
			continue;
		pr_err("pid %d is not in the time namespace its parent %d creates children in (it "
		       "joined another one with setns()): not supported\n",
		       c->st.pid, c->parent->st.pid);
		return -ENOTSUP;
	}
	return 0;
}

static void fill_one(const struct dump_timens *t, uint32_t id, TimensEntry *e)
{
	const struct timens_ns *ns = &t->v[id - 1];

	timens_entry__init(e);
	e->id = id;
	e->monotonic_sec = ns->mono_s;
	e->monotonic_nsec = ns->mono_ns;
	e->boottime_sec = ns->boot_s;
	e->boottime_nsec = ns->boot_ns;
}

void dump_timens_fill(const struct dump_shared *sh, const struct dump_ctx *c,
		      struct TimensEntry *own, struct TimensEntry *kids, struct PstreeEntry *pe)
{
	if (c->timens) {
		fill_one(sh->timens, c->timens, own);
		pe->timens = own;
	}
	if (c->timens_kids) {
		fill_one(sh->timens, c->timens_kids, kids);
		pe->timens_children = kids;
	}
}

void dump_timens_free(struct dump_shared *sh)
{
	if (!sh->timens)
		return;
	free(sh->timens->v);
	free(sh->timens);
	sh->timens = NULL;
}
