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
 * can't carry another process's credentials before that process exists.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_PREFIX "unix: "
#include "criu-lite/log.h"
#include "criu-lite/restore/restore-unix.h"

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

/* One send: 0 and *done advanced, or -errno. */
static int send_one(int fd, const char *buf, size_t len, const struct sockaddr_un *to,
		    socklen_t tolen, size_t *done)
{
	ssize_t n;

	do {
		n = sendto(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL, (const struct sockaddr *)to,
			   to ? tolen : 0);
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

/* Message m of s (at offset off), from its named sender if it has one and may send it. */
static int send_msg(struct restore_unix *t, const struct rsk *s, const struct sender *d, size_t m,
		    size_t off, size_t *done)
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
		ret = send_one(x->fd, s->data + off, len, &a, alen, done);
	}
	if (ret == -EPERM)
		ret = send_one(d->fd, s->data + off, len, d->to, d->tolen, done);
	usk_leave_dir(back);
	if (!ret && *done - before != len)
		ret = -EMSGSIZE;
	return ret;
}

static int send_all(struct restore_unix *t, struct rsk *s, const struct sender *d)
{
	const UnixSkEntry *u = s->u;
	size_t done = 0, m = 0;
	int ret = 0;

	raise_sndbuf(d->fd, u->data_len);
	if (u->type == SOCK_STREAM) {
		while (!ret && done < u->data_len)
			ret = send_one(d->fd, s->data + done, u->data_len - done, NULL, 0, &done);
	} else {
		for (; !ret && m < u->n_msg_lens; m++)
			ret = send_msg(t, s, d, m, done, &done);
	}
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
