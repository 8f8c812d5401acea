/* dump-files-commit: the end of a dump's open files (dump-files.c collects them): files.img
 * written from the list, ids ascending, once every task is saved and every unix socket's peer
 * is known (dump_unix_resolve()); the check that no pipe or locked open file description of
 * the tree is open outside it too (dump-outside.c); the list freed (the dumper's own fds of
 * files in flight closed). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define LOG_PREFIX "files: "
#include "criu-lite/dump/dump-files-int.h"
#include "criu-lite/dump/dump.h"
#include "criu-lite/kinds/anonfd.h"
#include "criu-lite/kinds/sk-netlink.h"
#include "criu-lite/kinds/sk-packet.h"
#include "criu-lite/kinds/sk-unix.h"
#include "criu-lite/log.h"

int dump_files_list(struct dump_ctx *c, struct file_entry_list **out)
{
	if (!c->sh->files) {
		c->sh->files = calloc(1, sizeof(*c->sh->files));
		if (!c->sh->files) {
			pr_err("out of memory for the file list\n");
			return -ENOMEM;
		}
	}
	*out = c->sh->files;
	return 0;
}

int dump_files_write(struct dump_ctx *c, enum img_kind kind, long id,
		     const ProtobufCMessage *const *msgs, size_t n)
{
	struct img_err err = { 0 };
	int ret = img_write_file(c->sh->dir, kind, id, msgs, n, &err);

	if (ret)
		pr_err("%s\n", err.msg);
	return ret;
}

static void fill_entry(const struct file_rec *r, const struct dump_ghosts *ghosts, FileEntry *fe,
		       RegFileEntry *re, PipeFileEntry *pe, NsFileEntry *ne)
{
	file_entry__init(fe);
	reg_file_entry__init(re);
	fe->id = r->id;
	fe->type = r->type;
	fe->fown = r->fown;
	if (r->type == FILE_TYPE__FT_PIPE) {
		fe->pipe = pe;
		dump_pipe_fill(&r->pipe, r->flags, r->path, pe);
		if (r->deleted) { /* a FIFO made again, and removed again, at restore */
			pe->has_fifo_deleted = pe->has_fifo_mode = true;
			pe->has_fifo_uid = pe->has_fifo_gid = pe->has_fifo_ghost_id = true;
			pe->fifo_deleted = true;
			pe->fifo_mode = r->st.st_mode;
			pe->fifo_uid = r->st.st_uid;
			pe->fifo_gid = r->st.st_gid;
			pe->fifo_ghost_id = ghosts->v[r->ghost].id;
		}
		return;
	}
	if (r->type == FILE_TYPE__FT_MEMFD) {
		fe->memfd = r->memfd;
		return;
	}
	if (r->type == FILE_TYPE__FT_PTY) {
		fe->pty = r->pty;
		return;
	}
	if (r->anon) {
		dump_anonfd_fill(r->anon, fe);
		return;
	}
	if (r->type == FILE_TYPE__FT_NSFILE) {
		fe->nsfile = ne;
		ns_file_entry__init(ne);
		ne->flags = r->flags;
		ne->own = (char *)r->ns_own;
		fe->has_netns_id = r->netns_id != 0;
		fe->netns_id = r->netns_id;
		return;
	}
	fe->has_netns_id = r->sk.netns_id != 0;
	fe->netns_id = r->sk.netns_id;
	if (r->sk.isk) {
		fe->inet_sk = r->sk.isk;
		return;
	}
	if (r->sk.nsk || r->sk.psk) {
		fe->netlink_sk = r->sk.nsk;
		fe->packet_sk = r->sk.psk;
		return;
	}
	if (r->sk.usk) {
		fe->unix_sk = r->sk.usk;
		return;
	}
	fe->reg = re;
	re->path = r->path;
	re->flags = r->flags;
	re->pos = r->pos;
	re->mode = r->st.st_mode;
	re->has_dev = re->has_ino = true;
	re->dev = r->st.st_dev;
	re->ino = r->st.st_ino;
	re->has_uid = re->has_gid = true;
	re->uid = r->st.st_uid;
	re->gid = r->st.st_gid;
	if (r->type != FILE_TYPE__FT_REG) {
		re->has_rdev = true;
		re->rdev = r->st.st_rdev;
		re->has_tty_external = r->tty_external;
		re->tty_external = r->tty_external;
		if (r->deleted) /* a device node made again, and removed again, at restore */
			dump_ghost_fill(&ghosts->v[r->ghost], re);
		return;
	}
	re->has_size = re->has_mtime_ns = true;
	re->size = (uint64_t)r->st.st_size;
	re->mtime_ns = (int64_t)r->st.st_mtim.tv_sec * 1000000000LL + r->st.st_mtim.tv_nsec;
	re->has_proc_pid = r->proc_pid > 0;
	re->proc_pid = (uint32_t)r->proc_pid;
	re->has_proc_gone = r->proc_gone;
	re->proc_gone = r->proc_gone;
	if (r->deleted)
		dump_ghost_fill(&ghosts->v[r->ghost], re);
}

/* The records of l reached through an fd whose description holds a flock or OFD lock. */
static int locked_descriptions(const struct file_entry_list *l, struct outside_lock **out,
			       size_t *n)
{
	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct file_rec *r = &l->v[i];
		const char *kind = dump_locks_description_kind(&l->locks, r->id);
		struct outside_lock *nv;

		if (!kind || r->fd < 0)
			continue;
		nv = realloc(*out, (*n + 1) * sizeof(**out));
		if (!nv) {
			pr_err("out of memory\n");
			return -ENOMEM;
		}
		*out = nv;
		nv[*n] = (struct outside_lock){ .pid = r->pid,
						.fd = r->fd,
						.dev = r->st.st_dev,
						.ino = r->st.st_ino,
						.kind = kind };
		snprintf(nv[*n].what, sizeof(nv[*n].what), "pid %d fd %d", r->pid, r->fd);
		(*n)++;
	}
	return 0;
}

int dump_files_outside(struct dump_ctx *tasks, size_t n)
{
	struct outside_lock *locks = NULL;
	struct file_entry_list *l;
	size_t nl = 0;
	pid_t *pids;
	int ret = dump_files_list(&tasks[0], &l);

	if (ret)
		return ret;
	pids = calloc(n, sizeof(*pids));
	if (!pids) {
		pr_err("out of memory\n");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		pids[i] = tasks[i].st.pid ? tasks[i].st.pid : tasks[i].pid;
	ret = locked_descriptions(l, &locks, &nl);
	if (!ret)
		ret = dump_outside(tasks[0].sh->o, &l->pipes, locks, nl, pids, n);
	free(locks);
	free(pids);
	return ret;
}

/* A deleted file of the list on inode ino of device dev (anonfd_find_deleted). */
static bool find_deleted(void *arg, uint64_t dev, uint64_t ino, uint32_t *id, const char **path)
{
	const struct file_entry_list *l = arg;

	for (size_t i = 0; i < l->n; i++) {
		const struct file_rec *r = &l->v[i];

		if (r->deleted && r->type == FILE_TYPE__FT_REG && r->st.st_dev == dev &&
		    r->st.st_ino == ino) {
			*id = r->id;
			*path = r->path;
			return true;
		}
	}
	return false;
}

/* Every --external tty[MAJ:MIN] must name a terminal an fd of the tree is on. */
static int check_external_ttys(const struct opts *o, const struct file_entry_list *l)
{
	for (int k = 0; k < o->nr_external; k++) {
		unsigned int ma, mi;
		bool used = false;

		if (sscanf(o->external[k], "tty[%u:%u]", &ma, &mi) != 2)
			continue;
		for (size_t i = 0; i < l->n && !used; i++)
			used = l->v[i].tty_external && l->v[i].st.st_rdev == makedev(ma, mi);
		if (!used) {
			pr_err("--external %s: no fd of the dumped tree is on that terminal\n",
			       o->external[k]);
			return -EINVAL;
		}
	}
	return 0;
}

int dump_files_commit(struct dump_ctx *c)
{
	struct file_entry_list *l;
	const ProtobufCMessage **m;
	FileEntry *fe;
	RegFileEntry *re;
	PipeFileEntry *pe;
	NsFileEntry *ne;
	int ret = dump_files_list(c, &l);

	if (ret)
		return ret;
	fe = calloc(l->n + 1, sizeof(*fe));
	re = calloc(l->n + 1, sizeof(*re));
	pe = calloc(l->n + 1, sizeof(*pe));
	ne = calloc(l->n + 1, sizeof(*ne));
	m = calloc(l->n + 1, sizeof(*m));
	if (!fe || !re || !pe || !ne || !m) {
		pr_err("out of memory for %zu file records\n", l->n);
		ret = -ENOMEM;
	}
	if (!ret) /* every peer of a unix socket must be in the dump */
		ret = dump_unix_resolve(l->usk, c->sh->o);
	if (!ret)
		ret = check_external_ttys(c->sh->o, l);
	for (size_t i = 0; !ret && i < l->n; i++) {
		char what[48];

		snprintf(what, sizeof(what), "pid %d fd %d", l->v[i].pid, l->v[i].fd);
		if (l->v[i].anon)
			ret = dump_anonfd_resolve(l->v[i].anon, what, find_deleted, l);
	}
	for (size_t i = 0; !ret && i < l->n; i++) {
		fill_entry(&l->v[i], &l->ghosts, &fe[i], &re[i], &pe[i], &ne[i]);
		dump_locks_fill(&l->locks, &fe[i]);
		m[i] = &fe[i].base;
	}
	if (!ret)
		ret = dump_files_write(c, IMG_FILES, 0, m, l->n);
	free(m);
	free(ne);
	free(pe);
	free(re);
	free(fe);
	if (!ret)
		dump_files_free(c);
	return ret;
}

void dump_files_free(struct dump_ctx *c)
{
	struct file_entry_list *l = c->sh->files;

	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].own_fd && l->v[i].fd >= 0)
			close(l->v[i].fd);
		free(l->v[i].path);
		free(l->v[i].memfd);
		free(l->v[i].fown);
		if (l->v[i].pty)
			pty_file_entry__free_unpacked(l->v[i].pty, NULL);
		dump_anonfd_free(l->v[i].anon);
		dump_netlink_free(l->v[i].sk.nsk);
		dump_packet_free(l->v[i].sk.psk);
	}
	free(l->v);
	dump_ghosts_free(&l->ghosts);
	dump_pipes_free(&l->pipes);
	dump_locks_free(&l->locks);
	dump_unix_free(&l->usk);
	free(l);
	c->sh->files = NULL;
}
