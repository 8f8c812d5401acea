/* dump-sknetns: see dump-sknetns.h. */
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <linux/sockios.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_PREFIX "netns: "
#include "criu-lite/dump/dump-sknetns.h"
#include "criu-lite/dump/dump.h"
#include "criu-lite/dump/sk-common.h"
#include "criu-lite/kinds/netns.h"
#include "criu-lite/log.h"
#include "criu-lite/taskfd.h"

struct ref {
	NetnsRefEntry e;
	struct netns_dump *copy; /* NETNS_REF_COPY: what e.ns points into */
};

struct dump_sknetns {
	struct ref *v;
	size_t n;
};

static int ino_of(int fd, const char *path, uint64_t *ino)
{
	struct stat st;

	if (fd >= 0 ? fstat(fd, &st) : stat(path, &st)) {
		pr_perror("stat of %s", path);
		return -errno;
	}
	*ino = st.st_ino;
	return 0;
}

static int cur_ino(uint64_t *ino)
{
	return ino_of(-1, "/proc/thread-self/ns/net", ino);
}

static int enter(int nsfd, uint64_t ino, int *back)
{
	*back = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*back >= 0 && !setns(nsfd, CLONE_NEWNET))
		return 0;
	pr_perror("entering network namespace net:[%llu]", (unsigned long long)ino);
	if (*back >= 0)
		close(*back);
	*back = -1;
	return -errno;
}

int dump_sknetns_leave(int back, const char *what)
{
	int ret = 0;

	if (back < 0)
		return 0;
	if (setns(back, CLONE_NEWNET)) {
		ret = -errno;
		pr_perror("%s: going back to the tree's network namespace", what);
	}
	close(back);
	return ret;
}

/* The id of namespace ino (nsfd: an fd on it), given and classified the first time. */
static int ref_id(struct dump_shared *sh, int nsfd, uint64_t ino, const char *what, uint32_t *id)
{
	struct dump_sknetns *t = sh->sknetns;
	struct ref *r, *nv;
	int back, ret;

	if (!t && !(t = sh->sknetns = calloc(1, sizeof(*t))))
		goto oom;
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].e.ino == ino) {
			*id = t->v[i].e.id;
			return 0;
		}
	nv = realloc(t->v, (t->n + 1) * sizeof(*nv));
	if (!nv)
		goto oom;
	t->v = nv;
	r = &t->v[t->n];
	*r = (struct ref){ 0 };
	netns_ref_entry__init(&r->e);
	r->e.id = (uint32_t)t->n + 1;
	r->e.ino = ino;
	if (ino == dump_netns_outside(sh)) {
		r->e.kind = NETNS_REF_KIND__NETNS_REF_OUTSIDE;
		pr_info("%s: in net:[%llu], the namespace the tree's own was made from\n", what,
			(unsigned long long)ino);
	} else {
		r->e.kind = NETNS_REF_KIND__NETNS_REF_COPY;
		if ((ret = enter(nsfd, ino, &back)))
			return ret;
		ret = dump_netns_read_copy(ino, &r->copy, &r->e.ns);
		ret = dump_sknetns_leave(back, what) ?: ret;
		if (ret) {
			dump_netns_copy_free(r->copy);
			return ret;
		}
		pr_info("%s: in net:[%llu], a namespace of no task of the tree: saved, %zu "
			"addresses, %zu routes\n",
			what, (unsigned long long)ino, r->e.ns->n_addrs, r->e.ns->n_routes);
	}
	t->n++;
	*id = r->e.id;
	return 0;
oom:
	pr_err("out of memory\n");
	return -ENOMEM;
}

int dump_sknetns_enter(struct dump_shared *sh, int fd, const char *what, uint32_t *id, int *back)
{
	uint64_t ino = 0, cur = 0;
	int nsfd, ret;

	*id = 0;
	*back = -1;
	if (sk_netns_ours(fd) == 1) /* by cookie: no privilege, no fd (SIOCGSKNS if unsure) */
		return 0;
	nsfd = ioctl(fd, SIOCGSKNS);
	if (nsfd < 0) {
		pr_perror("%s: its network namespace (SIOCGSKNS)", what);
		return -errno;
	}
	ret = ino_of(nsfd, what, &ino) ?: cur_ino(&cur);
	if (!ret && ino != cur)
		ret = ref_id(sh, nsfd, ino, what, id) ?: enter(nsfd, ino, back);
	close(nsfd);
	return ret;
}

/* The kind of the holder's own namespace that ino is (type: NS_GET_NSTYPE), or NULL. */
static const char *own_kind(pid_t pid, int type, uint64_t ino)
{
	static const struct {
		int type;
		const char *name;
	} k[] = {
		{ CLONE_NEWNS, "mnt" },
		{ CLONE_NEWUTS, "uts" },
		{ CLONE_NEWIPC, "ipc" },
		{ CLONE_NEWPID, "pid" },
		{ CLONE_NEWPID, "pid_for_children" },
		{ CLONE_NEWUSER, "user" },
		{ CLONE_NEWCGROUP, "cgroup" },
		{ CLONE_NEWTIME, "time" },
		{ CLONE_NEWTIME, "time_for_children" },
	};
	char path[64];
	uint64_t v;

	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		if (k[i].type != type)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, k[i].name);
		if (!ino_of(-1, path, &v) && v == ino)
			return k[i].name;
	}
	return NULL;
}

int dump_sknetns_nsfile(struct dump_shared *sh, pid_t pid, int tfd, const char *what,
			const char *link, uint32_t *id, const char **own)
{
	uint64_t ino = 0, cur = 0;
	int fd = taskfd_copy(pid, tfd), type, ret;

	*id = 0;
	*own = NULL;
	if (fd < 0) {
		errno = -fd;
		pr_perror("%s: can't take a copy of %s (pidfd_getfd)", what, link);
		return fd;
	}
	type = ioctl(fd, NS_GET_NSTYPE);
	if (type < 0) {
		ret = -errno;
		pr_perror("%s: %s: NS_GET_NSTYPE", what, link);
	} else if (type != CLONE_NEWNET) {
		ret = ino_of(fd, what, &ino);
		*own = ret ? NULL : own_kind(pid, type, ino);
		if (!ret && !*own) {
			pr_err(
			    "%s: %s is a namespace file of another kind than a network namespace, "
			    "and not its task's own: not supported yet\n",
			    what, link);
			ret = -ENOTSUP;
		}
	} else {
		ret = ino_of(fd, what, &ino) ?: cur_ino(&cur);
		if (!ret && ino != cur)
			ret = ref_id(sh, fd, ino, what, id);
	}
	close(fd);
	return ret;
}

int dump_sknetns_commit(struct dump_shared *sh)
{
	struct dump_sknetns *t = sh->sknetns;
	const ProtobufCMessage **m;
	struct img_err err = { 0 };
	int ret;

	if (!t || !t->n)
		return 0;
	m = calloc(t->n, sizeof(*m));
	if (!m) {
		pr_err("out of memory\n");
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->n; i++)
		m[i] = &t->v[i].e.base;
	ret = img_write_file(sh->dir, IMG_NETNS_REFS, 0, m, t->n, &err);
	if (ret)
		pr_err("%s\n", err.msg);
	free(m);
	return ret;
}

void dump_sknetns_free(struct dump_shared *sh)
{
	struct dump_sknetns *t = sh->sknetns;

	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		dump_netns_copy_free(t->v[i].copy);
	free(t->v);
	free(t);
	sh->sknetns = NULL;
}
