/* restore-unix: the unix sockets of files.img, created all at once on first use
 * (see sk-unix.h, restore-unix.h).
 *
 * The first restore_unix_open() reads every FT_UNIXSK entry, checks it (known
 * type and state, a name that fits, a peer and pending clients that are sockets
 * of the dump, stream peers that name each other, data lengths that add up),
 * reads each socket's data and checks its size and crc32c: all before any
 * socket exists. Then usk_build() creates them. Every entry then gets a dup of
 * its socket; the table keeps its own until restore_unix_done().
 */
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_PREFIX "unix: "
#include "criu-lite/log.h"
#include "criu-lite/restore/rawdata.h"
#include "criu-lite/restore/restore-unix.h"
#include "criu-lite/restore/restore-files.h"
#include "criu-lite/restore/restore.h"
#include "criu-lite/kinds/sk-unix.h"

struct rsk *usk_find(struct restore_unix *t, uint32_t ino)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].u->ino == ino)
			return &t->v[i];
	return NULL;
}

static int bad(const struct rsk *s, const char *why)
{
	pr_err("files.img: file %u, %s: %s\n", s->file_id, s->what, why);
	return -EBADMSG;
}

/* One entry on its own. */
static int check_entry(const struct rsk *s)
{
	const UnixSkEntry *u = s->u;
	uint64_t sum = 0;

	if (u->type != SOCK_STREAM && u->type != SOCK_DGRAM && u->type != SOCK_SEQPACKET)
		return bad(s, "unknown socket type");
	if (u->state != TCP_ESTABLISHED && u->state != TCP_CLOSE && u->state != TCP_LISTEN)
		return bad(s, "unknown socket state");
	if (u->has_name &&
	    (u->name.len < 1 || u->name.len > USK_NAME_MAX ||
	     (u->name.data[0] &&
	      ((u->name.data[0] != '/' && (!u->name_dir || u->name_dir[0] != '/')) ||
	       u->name.len == USK_NAME_MAX || memchr(u->name.data, 0, u->name.len)))))
		return bad(s, "its name is empty, too long, or a relative path without the "
			      "absolute directory it was bound from");
	if (u->state == TCP_LISTEN && (u->type == SOCK_DGRAM || !u->has_name || u->has_peer))
		return bad(s, "a listener must be a named stream or seqpacket socket without peer");
	if (u->has_ext_peer &&
	    (u->has_peer || u->state == TCP_LISTEN || u->ext_peer.len < 1 ||
	     u->ext_peer.len >= USK_NAME_MAX || u->has_data_len ||
	     (u->ext_peer.data[0] &&
	      (u->ext_peer.data[0] != '/' || memchr(u->ext_peer.data, 0, u->ext_peer.len)))))
		return bad(s,
			   "its peer outside the tree has no usable name, or it also has a peer, "
			   "listens or holds data");
	if (u->state != TCP_LISTEN && u->n_pending)
		return bad(s, "pending connections on a socket that is not listening");
	if (u->has_data_len != u->has_data_crc32c || (u->state == TCP_LISTEN && u->has_data_len))
		return bad(s, "bad data length or crc");
	for (size_t i = 0; i < u->n_msg_lens; i++)
		sum += u->msg_lens[i];
	if (u->type == SOCK_STREAM ? u->n_msg_lens != 0 : sum != u->data_len)
		return bad(s, "message lengths do not add up to the data length");
	if (u->n_msg_from && (u->type != SOCK_DGRAM || u->n_msg_from != u->n_msg_lens))
		return bad(s, "senders of messages on a socket that has none, or not one each");
	for (size_t i = 0; i < u->n_msg_from; i++)
		if (u->msg_from[i].len > USK_NAME_MAX)
			return bad(s, "the name of a message's sender is too long");
	for (size_t i = 0; i < u->n_scm; i++)
		if (u->type == SOCK_STREAM || u->scm[i]->msg >= u->n_msg_lens ||
		    (i && u->scm[i]->msg <= u->scm[i - 1]->msg) || !u->scm[i]->n_file_ids ||
		    u->scm[i]->n_file_ids > USK_SCM_MAX)
			return bad(s,
				   "its files in flight are not one list of 1 to 253 for each of "
				   "some of its messages, in order");
	return 0;
}

/* The files in flight in s's queue: files of the dump of the kinds that can be sent (a unix
 * socket in flight holds none of its own). */
static int check_scm_files(struct restore_ctx *c, const struct rsk *s)
{
	for (size_t i = 0; i < s->u->n_scm; i++)
		for (size_t k = 0; k < s->u->scm[i]->n_file_ids; k++) {
			const FileEntry *fe = restore_file(c, s->u->scm[i]->file_ids[k]);

			if (!fe)
				return bad(s, "a file in flight is not in files.img");
			if (fe->type != FILE_TYPE__FT_REG && fe->type != FILE_TYPE__FT_DEV &&
			    fe->type != FILE_TYPE__FT_PIPE && fe->type != FILE_TYPE__FT_MEMFD &&
			    fe->type != FILE_TYPE__FT_UNIXSK)
				return bad(s, "a file in flight is of a kind that is not sent");
			if (fe->type == FILE_TYPE__FT_UNIXSK && fe->unix_sk &&
			    (fe->unix_sk->n_scm || fe->unix_sk->ino == s->u->ino))
				return bad(s,
					   "a unix socket in flight has files in flight itself, or "
					   "is the socket");
		}
	return 0;
}

/* Relations: peers and pending clients are sockets of the table. */
static int link_entry(struct restore_unix *t, struct rsk *s)
{
	const UnixSkEntry *u = s->u;

	if (u->has_peer && u->peer) {
		s->peer = usk_find(t, u->peer);
		if (!s->peer)
			return bad(s, "its peer is not in the dump");
		if (s->peer->u->type != u->type)
			return bad(s, "its peer is of another type");
		if (u->type != SOCK_DGRAM && !(s->peer->u->has_peer && s->peer->u->peer == u->ino))
			return bad(s, "its peer is not connected to it");
	}
	for (size_t i = 0; i < u->n_pending; i++) {
		struct rsk *cl = u->pending[i] ? usk_find(t, u->pending[i]) : NULL;

		if (!u->pending[i])
			continue;
		if (!cl || cl->listener || cl->u->type != u->type || !cl->u->has_peer ||
		    cl->u->peer)
			return bad(s, "a client of a pending connection is missing, taken twice, "
				      "or connected elsewhere");
		cl->listener = s;
	}
	return 0;
}

/* Read unixsk-data-<id>.img of s into s->data and check it. */
static int load_data(struct restore_ctx *c, struct rsk *s)
{
	char name[64];

	unix_data_name(name, sizeof(name), s->u->id);
	return rawdata_load(c->dir, name, s->what, s->u->data_len, s->u->data_crc32c, &s->data);
}

static int build_table(struct restore_ctx *c, struct restore_unix *t)
{
	int ret = 0;

	t->v = calloc(c->nr_files + 1, sizeof(*t->v));
	if (!t->v) {
		pr_err("out of memory for %zu sockets\n", c->nr_files);
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->nr_files; i++) {
		const FileEntry *fe = c->files[i];
		struct rsk *s = &t->v[t->n];

		if (fe->type != FILE_TYPE__FT_UNIXSK)
			continue;
		if (!fe->unix_sk) {
			pr_err("files.img: unix socket file %u has no socket record\n", fe->id);
			return -EBADMSG;
		}
		*s = (struct rsk){ .u = fe->unix_sk, .file_id = fe->id, .fd = -1, .mate = -1 };
		snprintf(s->what, sizeof(s->what), "unix socket %u (socket:[%u] at dump)", s->u->id,
			 s->u->ino);
		if (usk_find(t, s->u->ino)) {
			pr_err("files.img: file %u: socket:[%u] appears twice\n", fe->id,
			       s->u->ino);
			return -EBADMSG;
		}
		t->n++;
		if ((ret = check_entry(s)) || (ret = check_scm_files(c, s)))
			return ret;
	}
	for (size_t i = 0; !ret && i < t->n; i++)
		ret = link_entry(t, &t->v[i]);
	for (size_t i = 0; !ret && i < t->n; i++)
		if (t->v[i].u->data_len)
			ret = load_data(c, &t->v[i]);
	if (!ret)
		pr_debug("%zu unix socket(s) in files.img, data checked\n", t->n);
	return ret;
}

int restore_unix_open(struct restore_ctx *c, const FileEntry *fe)
{
	struct rsk *s = NULL;
	int ret;

	if (!c->usk) {
		c->usk = calloc(1, sizeof(*c->usk));
		if (!c->usk) {
			pr_err("out of memory for the unix socket table\n");
			return -ENOMEM;
		}
		c->usk->c = c;
		ret = build_table(c, c->usk);
		if (!ret)
			ret = usk_build(c->usk);
		if (ret) {
			restore_unix_done(c);
			return ret;
		}
	}
	for (size_t i = 0; i < c->usk->n && !s; i++)
		if (c->usk->v[i].file_id == fe->id)
			s = &c->usk->v[i];
	if (!s || s->fd < 0) {
		pr_err("files.img: unix socket file %u is not in the socket table\n", fe->id);
		return -EBADMSG;
	}
	return restore_dup(s->fd, s->what);
}

void restore_unix_done(struct restore_ctx *c)
{
	struct restore_unix *t = c->usk;

	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		if (t->v[i].fd >= 0)
			close(t->v[i].fd);
		if (t->v[i].mate >= 0)
			close(t->v[i].mate);
		free(t->v[i].data);
	}
	for (size_t i = 0; i < t->ntl; i++)
		if (t->tl[i].fd >= 0)
			close(t->tl[i].fd);
	free(t->tl);
	free(t->v);
	sockdiag_close(t->diag);
	free(t);
	c->usk = NULL;
}
