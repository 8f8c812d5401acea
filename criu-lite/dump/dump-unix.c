/* dump-unix: the unix sockets of the dumped tree, saved once per socket (see sk-unix.h).
 *
 * A socket is described by sock_diag (sockdiag.h) and, for what only the socket
 * itself tells (options, queued data), through a copy of the task's fd taken
 * with pidfd_getfd(): the copy is the same socket, so reading its options and
 * peeking its queue (dump-unix-queue.c) sees the task's own state and changes
 * nothing. Peer relations are inodes; they are checked once the whole tree is
 * saved (dump_unix_resolve()), when every socket of the dump is known. The files
 * in flight in a queue (SCM_RIGHTS) become files of the dump (dump-inflight.c)
 * once the socket itself is in the table, so that one in flight finds it there.
 */
#include <fcntl.h>
#include <limits.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#define LOG_PREFIX "unix: "
#include "criu-lite/dump/dump.h"
#include "criu-lite/log.h"
#include "criu-lite/taskfd.h"
#include "criu-lite/kinds/sk-unix.h"
#include "criu-lite/dump/sockdiag.h"

/* One socket of the dump. */
struct usk {
	uint32_t id;
	struct usk_diag d;
	char what[96]; /* "pid 12 fd 3: socket:[345]", the first fd it was found at */
	UnixSkEntry e;
	UnixSkOpts o;
	uint32_t *msg_lens;
	struct usk_addr *from;	       /* the sender of each queued datagram */
	ProtobufCBinaryData *msg_from; /* e.msg_from: pointing into from */
	struct usk_queue scm;	       /* its fds in flight (scm, n_scm), until they are files */
	UnixSkScm *scm_e;	       /* e.scm: pointing into scm_e */
	UnixSkScm **scm_p;
};

struct dump_unix {
	struct sockdiag *diag;
	struct usk **v;
	size_t n, cap;
};

void unix_data_name(char *buf, size_t len, uint32_t id)
{
	snprintf(buf, len, "unixsk-data-%u.img", id);
}

static const char *type_name(unsigned int type)
{
	switch (type) {
	case SOCK_STREAM:
		return "stream";
	case SOCK_DGRAM:
		return "datagram";
	case SOCK_SEQPACKET:
		return "seqpacket";
	}
	return "unknown-type";
}

/* " bound to /path", " bound to @abstract" (other bytes as \xNN), or "". */
static void name_str(const struct usk_diag *d, char *buf, size_t len)
{
	size_t o;

	if (!d->name_len) {
		buf[0] = '\0';
		return;
	}
	o = (size_t)snprintf(buf, len, " bound to %s", d->name[0] ? "" : "@");
	for (size_t i = d->name[0] ? 0 : 1; i < d->name_len && o + 5 < len; i++) {
		unsigned char ch = (unsigned char)d->name[i];

		if (!d->name[0] && ch == 0)
			o += (size_t)snprintf(buf + o, len - o, "\\0");
		else if (ch >= 0x20 && ch < 0x7f)
			buf[o++] = (char)ch;
		else
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", ch);
	}
	buf[o < len ? o : len - 1] = '\0';
}

static struct usk *find(const struct dump_unix *u, uint32_t ino)
{
	for (size_t i = 0; u && i < u->n; i++)
		if (u->v[i]->d.ino == ino)
			return u->v[i];
	return NULL;
}

static int steal_fd(pid_t pid, const struct dump_unix_fd *f)
{
	int fd = taskfd_copy(pid, f->fd);

	if (fd < 0) {
		errno = -fd;
		pr_perror("%s: can't take a copy of %s (pidfd_open/pidfd_getfd)", f->what, f->link);
	}
	return fd;
}

static int get_opt(int fd, int opt, void *v, socklen_t len, const char *name, const char *what)
{
	if (getsockopt(fd, SOL_SOCKET, opt, v, &len) == 0)
		return 0;
	pr_perror("%s: getsockopt(%s)", what, name);
	return -errno;
}

static int check_kind(const struct dump_ctx *c, const struct usk *s, const struct dump_unix_fd *f)
{
	const struct usk_diag *d = &s->d;
	const char *scm = f->fi ? proc_fdinfo_value(f->fi, "scm_fds", 0) : NULL;

	if (d->type != SOCK_STREAM && d->type != SOCK_DGRAM && d->type != SOCK_SEQPACKET) {
		pr_err("%s: unix socket of type %u: not supported\n", s->what, d->type);
		return -ENOTSUP;
	}
	if (d->state != TCP_ESTABLISHED && d->state != TCP_CLOSE && d->state != TCP_LISTEN) {
		pr_err("%s: unix %s socket in state %u: not supported\n", s->what,
		       type_name(d->type), d->state);
		return -ENOTSUP;
	}
	if (scm && strtoul(scm, NULL, 10) > 0 && (d->state == TCP_LISTEN || c->inflight)) {
		pr_err("%s: %s file descriptors are in flight (SCM_RIGHTS) in its receive queue%s: "
		       "not supported\n",
		       s->what, scm,
		       d->state == TCP_LISTEN ? " (pending connections)"
					      : ", and the socket is itself in flight");
		return -ENOTSUP;
	}
	return 0;
}

/* A path name, in a task whose root is "/": absolute, or relative (its socket file must be in
 * the task's cwd, name_dir: the directory it was bound from is not known otherwise); is the
 * socket file still there? */
static int check_path(pid_t pid, struct usk *s)
{
	char path[USK_NAME_MAX + 1], root[PATH_MAX], cwd[PATH_MAX], via[PATH_MAX + 64];
	ssize_t n;
	struct stat st;

	memcpy(path, s->d.name, s->d.name_len);
	path[s->d.name_len] = '\0';
	if (strlen(path) != s->d.name_len) {
		pr_err("%s: bound to a path name with a NUL byte in it: not supported\n", s->what);
		return -ENOTSUP;
	}
	snprintf(via, sizeof(via), "/proc/%d/root", pid);
	n = readlink(via, root, sizeof(root) - 1);
	if (n < 0) {
		pr_perror("%s: can't read %s", s->what, via);
		return -errno;
	}
	root[n] = '\0';
	if (strcmp(root, "/")) {
		pr_err("%s: bound to %s inside the task's root %s: not supported\n", s->what, path,
		       root);
		return -ENOTSUP;
	}
	if (path[0] != '/') {
		snprintf(via, sizeof(via), "/proc/%d/cwd", pid);
		n = readlink(via, cwd, sizeof(cwd) - 1);
		if (n < 0 || cwd[0] != '/') {
			pr_err("%s: bound to the relative path \"%s\", and its task's cwd can't be "
			       "read as a path\n",
			       s->what, path);
			return -ENOTSUP;
		}
		cwd[n] = '\0';
		s->e.name_dir = strdup(cwd);
		if (!s->e.name_dir)
			return -ENOMEM;
		snprintf(via, sizeof(via), "/proc/%d/cwd/%s", pid, path);
	} else {
		snprintf(via, sizeof(via), "/proc/%d/root%s", pid, path);
	}
	if (s->d.has_vfs && stat(via, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    st.st_ino == s->d.vfs_ino && st.st_dev == s->d.vfs_dev) {
		s->e.has_name_present = s->e.has_name_mode = s->e.has_name_uid = true;
		s->e.has_name_gid = true;
		s->e.name_present = true;
		s->e.name_mode = st.st_mode;
		s->e.name_uid = st.st_uid;
		s->e.name_gid = st.st_gid;
	} else if (path[0] != '/') {
		pr_err(
		    "%s: bound to the relative path \"%s\", whose socket file is not in its "
		    "task's cwd %s (bound from elsewhere, or removed: which, nothing tells): not "
		    "supported\n",
		    s->what, path, s->e.name_dir);
		return -ENOTSUP;
	} else {
		s->e.has_name_present = true; /* deleted or replaced: removed again at restore */
		pr_debug("%s: its socket file %s is gone\n", s->what, path);
	}
	return 0;
}

static int save_opts(int fd, struct usk *s)
{
	int sndbuf, rcvbuf, cred, peek;
	struct timeval rt, st;
	int ret;

	if ((ret = get_opt(fd, SO_SNDBUF, &sndbuf, sizeof(sndbuf), "SO_SNDBUF", s->what)) ||
	    (ret = get_opt(fd, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf), "SO_RCVBUF", s->what)) ||
	    (ret = get_opt(fd, SO_PASSCRED, &cred, sizeof(cred), "SO_PASSCRED", s->what)) ||
	    (ret = get_opt(fd, SO_PEEK_OFF, &peek, sizeof(peek), "SO_PEEK_OFF", s->what)) ||
	    (ret = get_opt(fd, SO_RCVTIMEO, &rt, sizeof(rt), "SO_RCVTIMEO", s->what)) ||
	    (ret = get_opt(fd, SO_SNDTIMEO, &st, sizeof(st), "SO_SNDTIMEO", s->what)))
		return ret;
	s->o.has_sndbuf = s->o.has_rcvbuf = s->o.has_passcred = s->o.has_peek_off = true;
	s->o.has_rcvtimeo_us = s->o.has_sndtimeo_us = true;
	s->o.sndbuf = (uint32_t)sndbuf;
	s->o.rcvbuf = (uint32_t)rcvbuf;
	s->o.passcred = cred != 0;
	s->o.peek_off = peek;
	s->o.rcvtimeo_us = (uint64_t)rt.tv_sec * 1000000u + (uint64_t)rt.tv_usec;
	s->o.sndtimeo_us = (uint64_t)st.tv_sec * 1000000u + (uint64_t)st.tv_usec;
	return 0;
}

static int write_data(struct dump_ctx *c, struct usk *s, const struct usk_queue *q)
{
	struct img_err err = { 0 };
	char name[64];
	int ret;

	unix_data_name(name, sizeof(name), s->id);
	ret = raw_file_put(c->sh->dir, name, q->data, q->len, &err);
	if (ret)
		pr_err("%s: %s\n", s->what, err.msg);
	return ret;
}

/* The receive queue of a socket that is not listening. */
static int save_queue(struct dump_ctx *c, int fd, struct usk *s)
{
	struct usk_queue q;
	int ret;

	if (s->d.state == TCP_LISTEN)
		return 0;
	ret = usk_queue_peek(fd, s->d.type, s->d.shutdown & 1, s->d.rq, !c->inflight, s->what, &q);
	if (ret)
		return ret;
	s->scm.scm = q.scm; /* made files of the dump once s is in the table (scm_files) */
	s->scm.n_scm = q.n_scm;
	q.scm = NULL;
	q.n_scm = 0;
	if (q.len) {
		ret = write_data(c, s, &q);
		s->e.has_data_len = s->e.has_data_crc32c = true;
		s->e.data_len = (uint32_t)q.len;
		s->e.data_crc32c = img_crc32c(0, q.data, q.len);
	}
	if (s->d.type != SOCK_STREAM) {
		s->msg_lens = q.msg_lens;
		s->e.n_msg_lens = q.n_msgs;
		s->e.msg_lens = q.msg_lens;
		q.msg_lens = NULL;
	}
	if (!ret && q.named_from) {
		s->msg_from = calloc(q.n_msgs + 1, sizeof(*s->msg_from));
		if (!s->msg_from) {
			pr_err("%s: out of memory for the senders of %zu messages\n", s->what,
			       q.n_msgs);
			ret = -ENOMEM;
		}
		for (size_t i = 0; !ret && i < q.n_msgs; i++) {
			s->msg_from[i].data = (uint8_t *)q.from[i].name;
			s->msg_from[i].len = q.from[i].len;
		}
		s->from = q.from;
		q.from = NULL;
		s->e.n_msg_from = ret ? 0 : q.n_msgs;
		s->e.msg_from = s->msg_from;
	}
	usk_queue_free(&q);
	return ret;
}

static void fill(struct usk *s, uint32_t flags)
{
	const struct usk_diag *d = &s->d;

	unix_sk_entry__init(&s->e);
	unix_sk_opts__init(&s->o);
	s->e.id = s->id;
	s->e.ino = d->ino;
	s->e.type = d->type;
	s->e.state = d->state;
	s->e.flags = flags;
	s->e.opts = &s->o;
	if (d->name_len) {
		s->e.has_name = true;
		s->e.name.data = (uint8_t *)s->d.name;
		s->e.name.len = d->name_len;
	}
	if (d->has_peer) {
		s->e.has_peer = true;
		s->e.peer = d->peer;
	}
	if (d->shutdown) {
		s->e.has_shutdown = true;
		s->e.shutdown = d->shutdown;
	}
	if (d->state == TCP_LISTEN) {
		s->e.has_backlog = true;
		s->e.backlog = d->wq;
		s->e.n_pending = d->n_icons;
		s->e.pending = d->icons;
	}
}

/* The files in flight in s's queue as files of the dump (dump-inflight.c), by id in e.scm. */
static int scm_files(struct dump_ctx *c, struct usk *s)
{
	size_t n = s->scm.n_scm;
	int ret = 0;

	if (!n)
		return 0;
	s->scm_e = calloc(n, sizeof(*s->scm_e));
	s->scm_p = calloc(n, sizeof(*s->scm_p));
	if (!s->scm_e || !s->scm_p) {
		pr_err("%s: out of memory for its files in flight\n", s->what);
		return -ENOMEM;
	}
	for (size_t i = 0; !ret && i < n; i++) {
		struct usk_scm *r = &s->scm.scm[i];
		UnixSkScm *e = &s->scm_e[i];
		char what[192];

		unix_sk_scm__init(e);
		s->scm_p[i] = e;
		e->msg = r->msg;
		e->file_ids = calloc(r->n, sizeof(*e->file_ids));
		if (!e->file_ids) {
			pr_err("%s: out of memory for its files in flight\n", s->what);
			return -ENOMEM;
		}
		for (size_t k = 0; !ret && k < r->n; k++) {
			snprintf(what, sizeof(what), "%s: fd %zu of queued message %u", s->what,
				 k + 1, r->msg + 1);
			ret = dump_file_inflight(c, r->fds[k], s->d.ino, what, &e->file_ids[k]);
			r->fds[k] = -1; /* consumed */
			e->n_file_ids = k + 1;
		}
	}
	if (!ret) {
		s->e.scm = s->scm_p;
		s->e.n_scm = n;
		pr_info("%s: %zu message(s) with files in flight\n", s->what, n);
	}
	return ret;
}

static void usk_free(struct usk *s)
{
	if (!s)
		return;
	for (size_t i = 0; s->scm_e && i < s->scm.n_scm; i++)
		free(s->scm_e[i].file_ids);
	usk_queue_free(&s->scm); /* closes what was not consumed */
	free(s->scm_e);
	free(s->scm_p);
	usk_diag_free(&s->d);
	free(s->e.name_dir);
	free(s->e.ext_peer.data);
	free(s->msg_lens);
	free(s->from);
	free(s->msg_from);
	free(s);
}

/* Everything about one new socket, with fd a copy of the task's. */
static int save(struct dump_ctx *c, struct dump_unix *u, const struct dump_unix_fd *f, int fd,
		struct usk *s)
{
	uint32_t ino = (uint32_t)f->st->st_ino;
	char nm[USK_NAME_MAX * 4 + 16], peer[64] = "none";
	int ret = sockdiag_unix_get(u->diag, ino, &s->d);

	if (ret == -ENOENT)
		pr_err("%s: %s is a unix socket that sock_diag does not know (in another "
		       "network namespace?): not supported\n",
		       f->what, f->link);
	if (ret)
		return ret;
	fill(s, f->flags);
	if ((ret = check_kind(c, s, f)))
		return ret;
	if (s->d.name_len && s->d.name[0] && (ret = check_path(c->pid, s)))
		return ret;
	if ((ret = save_opts(fd, s)) || (ret = save_queue(c, fd, s)))
		return ret;
	name_str(&s->d, nm, sizeof(nm));
	if (s->d.has_peer)
		snprintf(peer, sizeof(peer), "socket:[%u]%s", s->d.peer,
			 s->d.peer ? "" : " (gone, or not accepted yet)");
	pr_info("%s: unix %s socket %u, state %u%s, peer %s, %u bytes queued in %zu messages\n",
		s->what, type_name(s->d.type), s->id, s->d.state, nm, peer, s->e.data_len,
		s->e.n_msg_lens);
	return 0;
}

int dump_unix_sk(struct dump_ctx *c, struct dump_unix **up, const struct dump_unix_fd *f,
		 uint32_t *id)
{
	struct dump_unix *u = *up;
	struct usk *s;
	int fd, ret;

	if ((s = find(u, (uint32_t)f->st->st_ino))) {
		*id = s->id;
		return 0;
	}
	if (!u) {
		u = calloc(1, sizeof(*u));
		if (!u) {
			pr_err("out of memory\n");
			return -ENOMEM;
		}
		if ((ret = sockdiag_open(&u->diag))) {
			free(u);
			return ret;
		}
		*up = u;
	}
	if (u->n == u->cap) {
		size_t ncap = u->cap ? u->cap * 2 : 16;
		struct usk **nv = realloc(u->v, ncap * sizeof(*nv));

		if (!nv) {
			pr_err("out of memory for %zu sockets\n", ncap);
			return -ENOMEM;
		}
		u->v = nv;
		u->cap = ncap;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		pr_err("out of memory\n");
		return -ENOMEM;
	}
	s->id = (uint32_t)u->n + 1;
	snprintf(s->what, sizeof(s->what), "%s: %s", f->what, f->link);
	fd = steal_fd(c->pid, f);
	ret = fd < 0 ? fd : save(c, u, f, fd, s);
	if (fd >= 0)
		close(fd);
	if (ret) {
		usk_free(s);
		return ret;
	}
	u->v[u->n++] = s;
	*id = s->id;
	return scm_files(c, s); /* s is in the table: a socket in flight finds it there */
}

/* A listener of the dump with a connection from client ino waiting in its backlog. */
static struct usk *pending_in(const struct dump_unix *u, uint32_t ino)
{
	for (size_t i = 0; i < u->n; i++)
		for (size_t k = 0; k < u->v[i]->d.n_icons; k++)
			if (u->v[i]->d.icons[k] == ino)
				return u->v[i];
	return NULL;
}

/* sockdiag walk: the listener outside the dump whose backlog holds client want. */
struct outside_listener {
	uint32_t want;
	struct usk_diag l;
};

static int find_listener(const struct usk_diag *l, void *arg)
{
	struct outside_listener *o = arg;

	for (size_t k = 0; k < l->n_icons; k++)
		if (l->icons[k] == o->want) {
			o->l = *l;
			o->l.icons = NULL;
			o->l.n_icons = 0;
			return 1;
		}
	return 0;
}

/* A peer inode that is no socket of the dump: refused, unless the socket is --external
 * unix:[INO] and the outside peer has a name to connect to again (then kept as ext_peer). */
static int outside_peer(struct dump_unix *u, struct usk *s, const struct opts *o)
{
	struct usk_diag p;
	char nm[USK_NAME_MAX * 4 + 16] = "", key[48];
	int ret = sockdiag_unix_get(u->diag, s->d.peer, &p);

	if (ret && ret != -ENOENT)
		return ret;
	if (!ret)
		name_str(&p, nm, sizeof(nm));
	snprintf(key, sizeof(key), "unix:[%u]", s->d.ino);
	if (!ret && cli_external(o, key) && p.name_len) {
		s->e.ext_peer.data = malloc(p.name_len);
		if (!s->e.ext_peer.data) {
			usk_diag_free(&p);
			return -ENOMEM;
		}
		memcpy(s->e.ext_peer.data, p.name, p.name_len);
		s->e.ext_peer.len = p.name_len;
		s->e.has_ext_peer = true;
		s->e.has_peer = false; /* no peer of the dump: restore connects to the name */
		pr_info("%s: connected to socket:[%u]%s outside the tree: --external, restore "
			"connects to that name again\n",
			s->what, s->d.peer, nm);
		usk_diag_free(&p);
		return 0;
	}
	if (cli_external(o, key))
		pr_err("%s: --external %s: its peer socket:[%u] outside the tree %s: it can't be "
		       "connected to again\n",
		       s->what, key, s->d.peer, ret ? "closed while the dump ran" : "has no name");
	else
		pr_err("%s: connected to socket:[%u]%s, which is outside the dumped tree: not "
		       "supported (--external %s connects it to that name again at restore)\n",
		       s->what, s->d.peer, ret ? " (closed while the dump ran)" : nm, key);
	usk_diag_free(&p);
	return -ENOTSUP;
}

/* Peer 0 of a stream or seqpacket socket: the peer is gone (closed), or it is the
 * listener's end of a connection not accepted yet: refused unless that listener is ours. */
static int check_unaccepted(struct dump_unix *u, const struct usk *s)
{
	struct outside_listener o = { .want = s->d.ino };
	char nm[USK_NAME_MAX * 4 + 16];
	int ret;

	if (pending_in(u, s->d.ino))
		return 0;
	ret = sockdiag_unix_walk(u->diag, 1u << TCP_LISTEN, find_listener, &o);
	if (ret < 0)
		return ret;
	if (ret > 0) {
		name_str(&o.l, nm, sizeof(nm));
		pr_err("%s: its connection to the listening socket:[%u]%s, which is outside the "
		       "dumped tree, is not accepted yet: not supported\n",
		       s->what, o.l.ino, nm);
		return -ENOTSUP;
	}
	pr_debug("%s: its peer is gone\n", s->what);
	return 0;
}

static int check_peer(struct dump_unix *u, struct usk *s, const struct opts *o)
{
	const struct usk *p;

	if (!s->d.has_peer)
		return 0;
	if (!s->d.peer)
		return s->d.type == SOCK_DGRAM ? 0 : check_unaccepted(u, s);
	p = find(u, s->d.peer);
	if (!p)
		return outside_peer(u, s, o);
	if (s->d.type != SOCK_DGRAM && (!p->d.has_peer || p->d.peer != s->d.ino)) {
		pr_err("%s: its peer %s is connected elsewhere (socket:[%u])\n", s->what, p->what,
		       p->d.peer);
		return -EIO;
	}
	if (s->d.type == SOCK_DGRAM && p != s && !(p->d.has_peer && p->d.peer == s->d.ino) &&
	    !p->d.name_len) {
		pr_err("%s: connected to the unnamed %s, which is not connected back: not "
		       "supported\n",
		       s->what, p->what);
		return -ENOTSUP;
	}
	return 0;
}

/* A listener's pending connections: clients of the dump that sent nothing yet, or gone. */
static int check_pending(const struct dump_unix *u, const struct usk *s)
{
	for (size_t k = 0; k < s->d.n_icons; k++) {
		const struct usk *cl = s->d.icons[k] ? find(u, s->d.icons[k]) : NULL;

		if (!s->d.icons[k])
			continue;
		if (!cl) {
			pr_err(
			    "%s: the client socket:[%u] of a connection waiting in its backlog is "
			    "outside the dumped tree: not supported\n",
			    s->what, s->d.icons[k]);
			return -ENOTSUP;
		}
		if (cl->d.wq) {
			pr_err(
			    "%s: %s sent data into its connection to this listener, which is not "
			    "accepted yet (%u bytes in use): not supported\n",
			    s->what, cl->what, cl->d.wq);
			return -ENOTSUP;
		}
	}
	return 0;
}

/* Queued data must have a sender at restore: the peer (or a stand-in for a gone one), or
 * for a named datagram socket anyone. */
static int check_sender(const struct dump_unix *u, const struct usk *s)
{
	const struct usk *p = s->d.has_peer && s->d.peer ? find(u, s->d.peer) : NULL;
	bool back = p && p->d.has_peer && p->d.peer == s->d.ino;

	if (!s->e.data_len && !s->e.n_msg_lens)
		return 0;
	if (s->e.has_ext_peer) {
		pr_err("%s: %u bytes are queued, from its peer outside the tree, which can't send "
		       "them again: not supported\n",
		       s->what, s->e.data_len);
		return -ENOTSUP;
	}
	if ((s->d.has_peer && !s->d.peer) || back || (s->d.type == SOCK_DGRAM && s->d.name_len))
		return 0;
	pr_err("%s: %u bytes are queued but no peer is connected to it to send them again: not "
	       "supported\n",
	       s->what, s->e.data_len);
	return -ENOTSUP;
}

/* Every --external unix:[INO] must name a socket of the tree connected outside it. */
static int check_keys(const struct dump_unix *u, const struct opts *o)
{
	for (int k = 0; k < o->nr_external; k++) {
		unsigned int ino = 0;
		bool used = false;

		if (sscanf(o->external[k], "unix:[%u]", &ino) != 1)
			continue;
		for (size_t i = 0; u && i < u->n && !used; i++)
			used = u->v[i]->d.ino == ino && u->v[i]->e.has_ext_peer;
		if (!used) {
			pr_err(
			    "--external %s: no unix socket of the dumped tree with that inode is "
			    "connected to one outside it\n",
			    o->external[k]);
			return -EINVAL;
		}
	}
	return 0;
}

int dump_unix_resolve(struct dump_unix *u, const struct opts *o)
{
	int ret = 0;

	for (size_t i = 0; u && !ret && i < u->n; i++) {
		struct usk *s = u->v[i];

		ret = check_peer(u, s, o);
		if (!ret)
			ret = check_pending(u, s);
		if (!ret)
			ret = check_sender(u, s);
	}
	return ret ? ret : check_keys(u, o);
}

UnixSkEntry *dump_unix_entry(struct dump_unix *u, uint32_t id)
{
	return u && id >= 1 && id <= u->n ? &u->v[id - 1]->e : NULL;
}

void dump_unix_free(struct dump_unix **up)
{
	struct dump_unix *u = *up;

	if (!u)
		return;
	for (size_t i = 0; i < u->n; i++)
		usk_free(u->v[i]);
	free(u->v);
	sockdiag_close(u->diag);
	free(u);
	*up = NULL;
}
