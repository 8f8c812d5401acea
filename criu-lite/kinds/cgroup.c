/* cgroup: a cgroup path as a directory of this machine. See cgroup.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "criu-lite/kinds/cgroup.h"

/* Every comma-separated word of want is a word of the comma-separated list have. */
static bool words_in(const char *want, const char *have)
{
	const char *w = want;

	while (*w) {
		size_t n = strcspn(w, ",");
		const char *h = have;
		bool found = false;

		while (*h && !found) {
			size_t m = strcspn(h, ",");

			found = m == n && !strncmp(h, w, n);
			h += m + (h[m] == ',');
		}
		if (!found)
			return false;
		w += n + (w[n] == ',');
	}
	return true;
}

/* path relative to root: "" when equal, NULL when path is not root or below it. */
static const char *below(const char *root, const char *path)
{
	size_t n = strlen(root);

	if (!strcmp(root, "/"))
		return path;
	if (strncmp(root, path, n) || (path[n] && path[n] != '/'))
		return NULL;
	return path + n;
}

int cgroup_dir(const struct cgroup_mount_list *mounts, const char *controllers, const char *path,
	       char *dir, size_t len)
{
	bool v2 = !controllers[0], mounted = false;

	for (size_t i = 0; i < mounts->n; i++) {
		const struct cgroup_mount *m = &mounts->v[i];
		const char *rest;

		if (m->v2 != v2 || (!v2 && !words_in(controllers, m->options)))
			continue;
		mounted = true;
		rest = below(m->root, path);
		if (!rest)
			continue;
		if ((size_t)snprintf(dir, len, "%s%s", m->mountpoint, rest) >= len)
			return -ENAMETOOLONG;
		return 0;
	}
	return mounted ? -EXDEV : -ENOENT;
}

const char *cgroup_hierarchy_name(const char *controllers, char *buf, size_t len)
{
	if (!controllers[0])
		snprintf(buf, len, "cgroup v2");
	else
		snprintf(buf, len, "the cgroup v1 hierarchy %s", controllers);
	return buf;
}
