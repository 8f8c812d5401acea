/* restore-sknetns: the network namespaces of netns-refs.img (netns.proto; dump-sknetns.h says
 * what they are), in which the tree's sockets are made again and which its nsfs fds name.
 *
 * Contract: restore_sknetns_read() runs before restore_netns() (netns.h) makes or joins the
 * tree's namespace: it reads and checks netns-refs.img (ids 1..n, a copy's namespace as
 * restore_netns_check_copy() wants it, NETNS_REF_OUTSIDE only in a dump of a tree with a
 * namespace of its own) and every file entry's netns_id against it (a unix socket has none),
 * and keeps an fd of the restorer's namespace (the NETNS_REF_OUTSIDE one). Nothing is made.
 * restore_sknetns_make() runs right after restore_netns(): an fd of the tree's namespace (the
 * one the restorer is in now), then each copy made (unshare, rebuilt from its entry) and kept
 * by an fd, the restorer back in the tree's. restore_sknetns_enter() puts the restorer in the
 * namespace of a file entry (none for id 0) and restore_sknetns_leave() back in the tree's:
 * a socket made between them is that namespace's, and so are the names its restore looks up.
 * restore_sknetns_nsfile() opens an FT_NSFILE entry: a new open file of its namespace.
 * restore_sknetns_free() closes the fds (a copy no task holds then goes). 0 or -errno,
 * logged once; a malformed image is -EBADMSG. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define LOG_PREFIX "netns: "
#include "criu-lite/kinds/netns.h"
#include "criu-lite/log.h"
#include "criu-lite/restore/restore-sknetns.h"
#include "criu-lite/restore/restore.h"
#include "netns.pb-c.h"

struct restore_sknetns {
	NetnsRefEntry **refs;
	size_t n;
	int *fds; /* of refs[i], by index (id - 1) */
	int home; /* the restorer's own namespace, as it started */
	int tree; /* the tree's */
};

static int bad(const char *why, uint32_t id)
{
	pr_err("netns-refs.img: %s (id %u)\n", why, id);
	return -EBADMSG;
}

static int check_refs(const struct restore_ctx *c, const struct restore_sknetns *t, bool tree_own)
{
	for (size_t i = 0; i < t->n; i++) {
		const NetnsRefEntry *r = t->refs[i];

		if (r->id != i + 1)
			return bad("ids not 1, 2, ... in order", r->id);
		if (r->kind == NETNS_REF_KIND__NETNS_REF_OUTSIDE && (r->ns || !tree_own))
			return bad("the outside namespace of a tree that has none of its own",
				   r->id);
		if (r->kind == NETNS_REF_KIND__NETNS_REF_COPY &&
		    (!r->ns || restore_netns_check_copy(r->ns)))
			return bad("a namespace to make without a valid entry", r->id);
	}
	for (size_t i = 0; i < c->nr_files; i++) {
		const FileEntry *fe = c->files[i];
		uint32_t id = fe->has_netns_id ? fe->netns_id : 0;

		if (id > t->n || (id && fe->type == FILE_TYPE__FT_UNIXSK) ||
		    (id && fe->inet_sk && fe->inet_sk->tcp && !c->o->tcp_close) ||
		    (fe->type == FILE_TYPE__FT_NSFILE) != !!fe->nsfile) {
			pr_err("files.img: file %u names network namespace %u of %zu\n", fe->id, id,
			       t->n);
			return -EBADMSG;
		}
	}
	return 0;
}

static int open_ns(const char *path, int *fd)
{
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd >= 0)
		return 0;
	pr_perror("%s", path);
	return -errno;
}

int restore_sknetns_read(struct restore_ctx *c)
{
	struct restore_sknetns *t = calloc(1, sizeof(*t));
	struct img_err err = { 0 };
	ProtobufCMessage *probe = NULL;
	bool tree_own;
	int ret;

	if (!t) {
		pr_err("out of memory\n");
		return -ENOMEM;
	}
	c->sknetns = t;
	t->home = t->tree = -1;
	ret = restore_read_all(c->dir, IMG_NETNS_REFS, 0, (ProtobufCMessage ***)&t->refs, &t->n,
			       true);
	if (ret == -ENOENT)
		ret = 0;
	if (ret)
		return ret;
	/* the tree had a namespace of its own: netns.img (or the caller gives one to join) */
	tree_own = t->n && (c->o->join_ns_net || !img_read_one(c->dir, IMG_NETNS, 0, &probe, &err));
	if (probe)
		protobuf_c_message_free_unpacked(probe, NULL);
	ret = check_refs(c, t, tree_own);
	if (!ret && t->n && !(t->fds = malloc(t->n * sizeof(*t->fds))))
		ret = -ENOMEM;
	for (size_t i = 0; t->fds && i < t->n; i++)
		t->fds[i] = -1;
	if (!ret && t->n)
		ret = open_ns("/proc/thread-self/ns/net", &t->home);
	return ret;
}

/* A copy of ref r: a new namespace, rebuilt, kept by an fd; the restorer back in the tree's. */
static int make_copy(struct restore_sknetns *t, const NetnsRefEntry *r, int *fd)
{
	int ret = 0;

	if (unshare(CLONE_NEWNET)) {
		pr_perror("a new network namespace for net:[%llu] (unshare)",
			  (unsigned long long)r->ino);
		return -errno;
	}
	ret = restore_netns_rebuild_copy(r->ns) ?: open_ns("/proc/thread-self/ns/net", fd);
	if (setns(t->tree, CLONE_NEWNET)) {
		pr_perror("back to the tree's network namespace");
		ret = ret ?: -errno;
	}
	if (!ret)
		pr_info("net:[%llu] of the dump made again (%zu addresses, %zu routes)\n",
			(unsigned long long)r->ino, r->ns->n_addrs, r->ns->n_routes);
	return ret;
}

int restore_sknetns_make(struct restore_ctx *c)
{
	struct restore_sknetns *t = c->sknetns;
	int ret;

	if (!t || !t->n)
		return 0;
	ret = open_ns("/proc/thread-self/ns/net", &t->tree);
	for (size_t i = 0; !ret && i < t->n; i++) {
		if (t->refs[i]->kind == NETNS_REF_KIND__NETNS_REF_OUTSIDE)
			t->fds[i] = dup(t->home);
		else
			ret = make_copy(t, t->refs[i], &t->fds[i]);
		if (!ret && t->fds[i] < 0) {
			ret = -errno;
			pr_perror("an fd of the restorer's network namespace");
		}
	}
	return ret;
}

int restore_sknetns_enter(struct restore_ctx *c, const FileEntry *fe, bool *entered)
{
	struct restore_sknetns *t = c->sknetns;
	uint32_t id = fe->has_netns_id ? fe->netns_id : 0;

	*entered = false;
	if (!id)
		return 0;
	if (!t || id > t->n || t->fds[id - 1] < 0) { /* checked before: never */
		pr_err("file %u: network namespace %u not made\n", fe->id, id);
		return -EINVAL;
	}
	if (setns(t->fds[id - 1], CLONE_NEWNET)) {
		pr_perror("file %u: entering network namespace %u (net:[%llu] at dump)", fe->id, id,
			  (unsigned long long)t->refs[id - 1]->ino);
		return -errno;
	}
	*entered = true;
	return 0;
}

int restore_sknetns_leave(struct restore_ctx *c, bool entered)
{
	if (!entered || !setns(c->sknetns->tree, CLONE_NEWNET))
		return 0;
	pr_perror("back to the tree's network namespace");
	return -errno;
}

int restore_sknetns_nsfile(struct restore_ctx *c, const FileEntry *fe)
{
	const struct restore_sknetns *t = c->sknetns;
	uint32_t id = fe->has_netns_id ? fe->netns_id : 0;
	int nsfd = id ? t->fds[id - 1] : -1, fd;
	char p[64];

	if (id)
		snprintf(p, sizeof(p), "/proc/self/fd/%d", nsfd);
	else
		snprintf(p, sizeof(p), "/proc/thread-self/ns/net");
	/* a new open file of the namespace (not a dup: the task's may have its own flags) */
	fd = open(p, (int)(fe->nsfile->flags & ~(uint32_t)(O_CREAT | O_TRUNC)) | O_CLOEXEC);
	if (fd < 0) {
		fd = -errno;
		pr_perror("file %u: an fd of network namespace %u (%s)", fe->id, id, p);
	}
	return fd;
}

void restore_sknetns_free(struct restore_ctx *c)
{
	struct restore_sknetns *t = c->sknetns;

	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		if (t->fds && t->fds[i] >= 0)
			close(t->fds[i]);
		netns_ref_entry__free_unpacked(t->refs[i], NULL);
	}
	free(t->refs);
	free(t->fds);
	if (t->home >= 0)
		close(t->home);
	if (t->tree >= 0)
		close(t->tree);
	free(t);
	c->sknetns = NULL;
}
