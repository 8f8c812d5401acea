/* dump-cgroup: the cgroup of each task of the tree in every hierarchy (pstree.img cgroups),
 * a zombie's too (the one it died in).
 *
 * /proc/PID/cgroup is read as criu-lite sees it: paths relative to criu-lite's cgroup namespace
 * root, which is also where the restorer will look for them. A process whose threads are in
 * different cgroups (a threaded cgroup v2 subtree, or per-thread v1 groups) is refused, naming
 * the thread: restore puts the whole process in one cgroup. On a kernel without cgroups
 * (no /proc/self/cgroup) nothing is recorded.
 */
#define LOG_PREFIX "dump-cgroup: "

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "criu-lite/dump/dump.h"
#include "criu-lite/kinds/cgroup.h"
#include "criu-lite/log.h"

static const char *differs(const struct proc_cgroup_list *a, const struct proc_cgroup_list *b)
{
	if (a->n != b->n)
		return "hierarchies";
	for (size_t i = 0; i < a->n; i++) {
		const struct proc_cgroup *o = proc_cgroup_find(b, a->v[i].controllers);

		if (!o || strcmp(o->path, a->v[i].path))
			return a->v[i].controllers;
	}
	return NULL;
}

int dump_cgroups(struct dump_ctx *c)
{
	char hn[96];
	int ret;

	/* A kernel built without cgroups has no /proc/PID/cgroup: every task is in "no cgroup",
	 * which pstree.img says with no cgroup_entry at all. */
	if (access("/proc/self/cgroup", F_OK) && errno == ENOENT)
		return 0;
	ret = proc_parse_cgroup(c->pid, 0, &c->cgroups);
	if (ret)
		return ret;
	for (size_t k = 0; !c->zombie && k < c->st.nr; k++) {
		struct proc_cgroup_list tl = { 0 };
		pid_t tid = c->st.thr[k].tid;
		const char *h;

		ret = proc_parse_cgroup(c->st.pid, tid, &tl);
		if (ret)
			return ret;
		h = differs(&c->cgroups, &tl);
		if (h) {
			pr_err(
			    "pid %d: thread %d is in another cgroup of %s than thread %d: threads "
			    "in different cgroups are not supported\n",
			    c->st.pid, tid, cgroup_hierarchy_name(h, hn, sizeof(hn)), c->pid);
			ret = -ENOTSUP;
		}
		proc_cgroup_list_free(&tl);
		if (ret)
			return ret;
	}
	for (size_t i = 0; i < c->cgroups.n; i++)
		pr_debug("pid %d: %s: %s\n", c->pid,
			 cgroup_hierarchy_name(c->cgroups.v[i].controllers, hn, sizeof(hn)),
			 c->cgroups.v[i].path);
	return 0;
}
