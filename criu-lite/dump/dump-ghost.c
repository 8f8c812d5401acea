/* dump-ghost: the deleted files of a dump ("ghosts", ghost.h), each saved once per inode into
 * ghost-N.img with the dump's --ghost-limit, however many fds and mappings of the tree reach
 * it; and the fields every files.img record of such a file carries (id, crc, extents). */
#include <stdlib.h>

#define LOG_PREFIX "files: "
#include "criu-lite/dump/dump.h"
#include "criu-lite/kinds/ghost.h"
#include "criu-lite/log.h"

static void free_one(struct dump_ghost *g)
{
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
