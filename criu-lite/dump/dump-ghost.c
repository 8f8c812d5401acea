/* dump-ghost: the deleted files of a dump ("ghosts", ghost.h), each saved once per inode into
 * ghost-N.img with the dump's --ghost-limit, however many fds and mappings of the tree reach
 * it; and the fields every files.img record of such a file carries (id, crc, extents). A
 * regular file still linked by another name is not saved: its file handle, its device and the
 * mount point it is on (in the task's mountinfo) are kept, and restore opens the same inode
 * again. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_PREFIX "files: "
#include "criu-lite/dump/dump.h"
#include "criu-lite/kinds/ghost.h"
#include "criu-lite/log.h"
#include "criu-lite/proc/proc.h"

static void free_one(struct dump_ghost *g)
{
	free(g->h.mnt);
	for (size_t i = 0; i < g->n_ext; i++)
		free(g->ext[i]);
	free(g->ext);
}

/* The extents in files.img's form. */
static int to_proto(const struct ghost_extents *e, struct dump_ghost *g)
{
	g->ext = calloc(e->n + 1, sizeof(*g->ext));
	if (!g->ext)
		return -ENOMEM;
	for (g->n_ext = 0; g->n_ext < e->n; g->n_ext++) {
		FileExtent *x = malloc(sizeof(*x));

		if (!x)
			return -ENOMEM;
		file_extent__init(x);
		x->offset = e->v[g->n_ext].off;
		x->len = e->v[g->n_ext].len;
		g->ext[g->n_ext] = x;
	}
	return 0;
}

/* A regular file deleted while open that another name still links: its file handle. */
static int get_handle(pid_t pid, const char *what, const char *via, const char *path,
		      const struct stat *st, struct ghost_handle *h)
{
	struct {
		struct file_handle fh;
		unsigned char b[sizeof(h->bytes)];
	} u = { .fh.handle_bytes = sizeof(h->bytes) };
	int mnt = -1;

	if (name_to_handle_at(AT_FDCWD, via, &u.fh, &mnt, AT_SYMLINK_FOLLOW)) {
		pr_perror("%s: %s was unlinked but has %lu other link(s), and its file handle "
			  "(name_to_handle_at) can't be had: not supported",
			  what, path, (unsigned long)st->st_nlink);
		return -ENOTSUP;
	}
	h->mnt = proc_mount_point(pid, mnt, 0);
	if (!h->mnt) {
		pr_err(
		    "%s: %s was unlinked but has %lu other link(s), and its mount (id %d) is not "
		    "in the task's mountinfo: not supported\n",
		    what, path, (unsigned long)st->st_nlink, mnt);
		return -ENOTSUP;
	}
	h->dev = (uint64_t)st->st_dev;
	h->type = u.fh.handle_type;
	h->len = u.fh.handle_bytes;
	memcpy(h->bytes, u.fh.f_handle, h->len);
	h->ino = (uint64_t)st->st_ino;
	pr_info("%s: %s was unlinked but another name links it: kept by its file handle on %s\n",
		what, path, h->mnt);
	return 0;
}

int dump_ghost_get(struct dump_ctx *c, struct dump_ghosts *g, const char *what, const char *via,
		   const char *path, const struct stat *st, size_t *idx)
{
	struct dump_ghost ng = { .dev = st->st_dev, .ino = st->st_ino };
	struct ghost_extents e;
	int ret;

	for (size_t i = 0; i < g->n; i++)
		if (g->v[i].dev == st->st_dev && g->v[i].ino == st->st_ino) {
			*idx = i;
			return 0;
		}
	if (g->n == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 8;
		struct dump_ghost *v = realloc(g->v, cap * sizeof(*v));

		if (!v) {
			pr_err("out of memory for %zu deleted files\n", cap);
			return -ENOMEM;
		}
		g->v = v;
		g->cap = cap;
	}
	ng.id = c->sh->next_ghost_id;
	if (S_ISREG(st->st_mode) && st->st_nlink) { /* linked elsewhere: the same inode, later */
		ret = get_handle(c->pid, what, via, path, st, &ng.h);
		if (ret) {
			free_one(&ng);
			return ret;
		}
		ng.linked = true;
		c->sh->next_ghost_id++;
		*idx = g->n;
		g->v[g->n++] = ng;
		return 0;
	}
	if (!S_ISREG(st->st_mode)) { /* a directory (empty), FIFO (its data: the pipe's) or
				      * device node: nothing to save */
		c->sh->next_ghost_id++;
		*idx = g->n;
		g->v[g->n++] = ng;
		return 0;
	}
	ret = ghost_save(c->sh->dir, ng.id, what, via, path, (uint64_t)st->st_size,
			 c->sh->o->ghost_limit, &e, &ng.crc);
	if (ret)
		return ret;
	ret = to_proto(&e, &ng);
	ghost_extents_free(&e);
	if (ret) {
		pr_err("out of memory for the extents of deleted file %s\n", path);
		free_one(&ng);
		return ret;
	}
	c->sh->next_ghost_id++;
	*idx = g->n;
	g->v[g->n++] = ng;
	return 0;
}

void dump_ghost_fill(const struct dump_ghost *g, RegFileEntry *re)
{
	if (g->linked) {
		re->has_deleted = re->has_ghost_id = re->has_fhandle = re->has_fhandle_type = true;
		re->deleted = true;
		re->ghost_id = g->id;
		re->fhandle.data = (uint8_t *)g->h.bytes;
		re->fhandle.len = g->h.len;
		re->fhandle_type = g->h.type;
		re->fhandle_mnt = g->h.mnt;
		re->has_fhandle_dev = true;
		re->fhandle_dev = g->h.dev;
		return;
	}
	re->has_deleted = re->has_ghost_id = re->has_ghost_crc32c = re->has_ghost_sparse = true;
	re->deleted = true;
	re->ghost_id = g->id;
	re->ghost_crc32c = g->crc;
	re->ghost_sparse = true;
	re->n_ghost_extents = g->n_ext;
	re->ghost_extents = g->ext;
}

void dump_ghosts_free(struct dump_ghosts *g)
{
	for (size_t i = 0; i < g->n; i++)
		free_one(&g->v[i]);
	free(g->v);
	g->v = NULL;
	g->n = g->cap = 0;
}
