/* restore-unix-queue: the queued data of a restored unix socket, sent to it again
 * (see restore-unix.h).
 *
 * Whatever a socket had to read was sent by the other end of its connection:
 * stream and seqpacket data come again from its peer (or the stand-in of a gone
 * peer), seqpacket message by message. A datagram goes to its socket from the
 * socket of the dump bound to the address it came from, when there is one, so
 * that recvfrom() names the same sender and a reply finds it; otherwise from the
 * other end of a socketpair, or to the socket's name from its peer or a
 * temporary unnamed socket. Every send is nonblocking, with the sender's send
 * buffer raised first (step 7 of restore-unix-build.c sets the dumped size).
 * SO_PASSCRED credentials of queued messages are the restorer's: a message
 * can't carry another process's credentials before that process exists. A
 * message that had files in flight (SCM_RIGHTS) carries them again, the same
 * open file descriptions as the tasks' where they shared them
 * (restore-inflight.c).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_PREFIX "unix: "
#include "criu-lite/log.h"
#include "criu-lite/kinds/sk-unix.h"
#include "criu-lite/restore/restore-unix.h"
#include "criu-lite/restore/restore.h"

/* Where the messages of one socket come from by default. */
struct sender {
	int fd;
	const struct sockaddr_un *to; /* NULL: send() on a connected pair */
	socklen_t tolen;
};

/* Let fd send len more bytes whatever its send buffer was. */
static void raise_sndbuf(int fd, size_t len)
{
	int cur = 0, want = len > INT_MAX / 4 ? INT_MAX / 4 : (int)len * 2 + (1 << 20);
	socklen_t l = sizeof(cur);

	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &cur, &l) == 0 && cur >= want)
		return;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof(want)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want)); /* as far as allowed */
}

/* The fds a message carries in flight (none: n 0). */
struct scm_fds {
	int fd[USK_SCM_MAX];
	size_t n;
};

/* One send, with the fds of f attached (NULL: none): 0 and *done advanced, or -errno. */
static int send_one(int fd, const char *buf, size_t len, const struct sockaddr_un *to,
		    socklen_t tolen, const struct scm_fds *f, size_t *done)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(USK_SCM_MAX * sizeof(int))];
	} ctl;
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_name = (void *)to,
			     .msg_namelen = to ? tolen : 0,
			     .msg_iov = &iov,
			     .msg_iovlen = 1 };
	ssize_t n;

	if (f && f->n) {
		struct cmsghdr *cm;

		mh.msg_control = ctl.b;
		mh.msg_controllen = CMSG_SPACE(f->n * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(f->n * sizeof(int));
		memcpy(CMSG_DATA(cm), f->fd, f->n * sizeof(int));
	}
	do {
		n = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	*done += (size_t)n;
	return 0;
}

/* The datagram socket of the table bound to the address of message m's sender. */
static const struct rsk *named_sender(struct restore_unix *t, const struct rsk *s, size_t m)
{
	const ProtobufCBinaryData *f;

	if (s->u->n_msg_from != s->u->n_msg_lens || !s->u->msg_from[m].len)
		return NULL;
	f = &s->u->msg_from[m];
	for (size_t i = 0; i < t->n; i++) {
		const UnixSkEntry *x = t->v[i].u;

		if (x->type == SOCK_DGRAM && x->has_name && x->name.len == f->len &&
		    !memcmp(x->name.data, f->data, f->len) && t->v[i].fd >= 0)
			return &t->v[i];
	}
	return NULL;
}

/* The files in flight of message m of s, if it had some (*next: its next record). */
static int msg_fds(struct restore_unix *t, const struct rsk *s, size_t m, size_t *next,
		   struct scm_fds *f)
{
	const UnixSkScm *r = *next < s->u->n_scm ? s->u->scm[*next] : NULL;

	f->n = 0;
	if (!r || r->msg != m)
		return 0;
	(*next)++;
	for (size_t k = 0; k < r->n_file_ids && k < USK_SCM_MAX; k++) {
		int fd = restore_inflight_fd(t->c, r->file_ids[k]);

		if (fd < 0)
			return fd;
		f->fd[f->n++] = fd;
	}
	return 0;
}

/* Message m of s (at offset off) with its files in flight f, from its named sender if it has
 * one and may send it. */
static int send_msg(struct restore_unix *t, const struct rsk *s, const struct sender *d, size_t m,
		    size_t off, const struct scm_fds *f, size_t *done)
{
	const struct rsk *x = s->u->type == SOCK_DGRAM ? named_sender(t, s, m) : NULL;
	size_t len = s->u->msg_lens[m], before = *done;
	struct sockaddr_un a;
	socklen_t alen;
	int ret = -EPERM;

	int back;

	if (usk_enter_dir(s->u, &back, s->what))
		return -ENOENT;
	if (x && x->fd != d->fd && s->u->has_name) {
		usk_addr(s->u, &a, &alen);
		raise_sndbuf(x->fd, len);
		/* EPERM: s is connected to another socket, the only one it takes messages from */
		ret = send_one(x->fd, s->data + off, len, &a, alen, f, done);
	}
	if (ret == -EPERM)
		ret = send_one(d->fd, s->data + off, len, d->to, d->tolen, f, done);
	usk_leave_dir(back);
	if (!ret && *done - before != len)
		ret = -EMSGSIZE;
	return ret;
}

static int send_all(struct restore_unix *t, struct rsk *s, const struct sender *d)
{
	const UnixSkEntry *u = s->u;
	size_t done = 0, m = 0, next = 0;
	struct scm_fds *f = calloc(1, sizeof(*f));
	int ret = f ? 0 : -ENOMEM;

	raise_sndbuf(d->fd, u->data_len);
	if (!ret && u->type == SOCK_STREAM) {
		while (!ret && done < u->data_len)
			ret = send_one(d->fd, s->data + done, u->data_len - done, NULL, 0, NULL,
				       &done);
	} else {
		for (; !ret && m < u->n_msg_lens; m++) {
			ret = msg_fds(t, s, m, &next, f);
			if (!ret)
				ret = send_msg(t, s, d, m, done, f, &done);
		}
	}
	free(f);
	if (ret) {
		pr_err("%s: can't queue its data again: %s (errno %d) after %zu of %u bytes, %zu "
		       "of %zu messages (net.core.wmem_max or net.unix.max_dgram_qlen lower than "
		       "at dump?)\n",
		       s->what, strerror(-ret), -ret, done, u->data_len, m, u->n_msg_lens);
		return ret;
	}
	free(s->data);
	s->data = NULL;
	return 0;
}

int usk_queue_data(struct restore_unix *t, struct rsk *s)
{
	struct sockaddr_un a;
	struct sender d = { .fd = -1 };
	int ret;

	if (!s->u->data_len && !s->u->n_msg_lens)
		return 0;
	if (s->mate >= 0)
		d.fd = s->mate;
	else if (s->peer && (s->u->type != SOCK_DGRAM || s->paired))
		d.fd = s->peer->fd;
	if (d.fd >= 0)
		return send_all(t, s, &d);
	if (s->u->type != SOCK_DGRAM || !s->u->has_name) {
		pr_err("%s: %u bytes are queued but there is no peer to send them from\n", s->what,
		       s->u->data_len);
		return -EBADMSG;
	}
	/* a named datagram socket: from its peer (which alone may send once it is connected) */
	usk_addr(s->u, &a, &d.tolen);
	d.to = &a;
	if (s->peer) {
		d.fd = s->peer->fd;
		return send_all(t, s, &d);
	}
	d.fd = usk_new_sock(SOCK_DGRAM, s->what);
	if (d.fd < 0)
		return d.fd;
	ret = send_all(t, s, &d);
	close(d.fd);
	return ret;
}
