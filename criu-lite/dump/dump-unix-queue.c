/* dump-unix-queue: the receive queue of a unix socket, read without consuming it
 * (see sk-unix.h).
 *
 * MSG_PEEK alone always starts at the head of the queue; with SO_PEEK_OFF set to
 * 0 the kernel moves the offset forward past every byte peeked, so repeated
 * peeks walk the queue. A stream socket's bytes are taken in large chunks; a
 * datagram or seqpacket socket's one message per call (MSG_TRUNC makes the
 * call tell a message's real length: one that did not fit is peeked again from
 * its start with a larger buffer). The task's own SO_PEEK_OFF is put back.
 *
 * File descriptors in flight show up as an SCM_RIGHTS control message: a peek
 * hands out copies of them as a read would (the same open file descriptions).
 * With take_fds the control buffer has room for the most one message can carry
 * (SCM_MAX_FD) and the copies of a datagram's or seqpacket message's fds are
 * kept with its index. Fds in flight on a stream socket are refused: a read
 * gets them with the first byte of the send that carried them, and where that
 * send starts can't be seen without consuming the queue (a peek joins the
 * bytes of earlier sends to it, and after its buffer is full walks on to the
 * next send with fds, so no peek tells one send's bytes from another's).
 * Without take_fds the buffer holds exactly what the socket's own options ask
 * for (credentials with SO_PASSCRED, a pidfd with SO_PASSPIDFD) and no more,
 * so the kernel installs no in-flight fd here and reports them with
 * MSG_CTRUNC. A pidfd it does install is closed at once.
 *
 * Limits, from the kernel's peek rules: a zero-length datagram is marked peeked
 * when it is peeked, and an offset peek skips a marked one: the head of the
 * queue is peeked without an offset, so it is always seen, but a zero-length
 * message further on that was peeked before (by the task walking its own queue
 * with SO_PEEK_OFF, or by an earlier --leave-running dump) is not seen again;
 * zero-length seqpacket messages after the last byte of a socket shut down for
 * reading can't be told from its end of file and are not saved.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define LOG_PREFIX "unix: "
#include "criu-lite/log.h"
#include "criu-lite/kinds/sk-unix.h"

#define STREAM_CHUNK (1u << 20)	 /* bytes per stream peek */
#define DGRAM_BUF    (64u << 10) /* first buffer for one message */
#define MAX_MSGS     (1u << 20)	 /* more queued messages than this: something is wrong */

/* How one peek is made and what it found besides data. */
struct peek {
	int fd;
	const char *what;
	size_t ctl_len; /* control buffer: 0, or room for credentials, a pidfd, fds */
	bool take;	/* keep the fds in flight (take_fds, never on a stream socket) */
	bool fds;	/* file descriptors in flight (SCM_RIGHTS or a truncated control) */
	bool trunc;	/* a control message did not fit (MSG_CTRUNC) */
	int err;	/* -ENOMEM while keeping fds */
	int *got;	/* take: the fds the last peek gave (ngot), until kept or dropped */
	size_t ngot;
	struct sockaddr_un from; /* the sender of what the last peek read */
	socklen_t fromlen;
};

void usk_queue_free(struct usk_queue *q)
{
	for (size_t i = 0; i < q->n_scm; i++) {
		for (size_t k = 0; k < q->scm[i].n; k++)
			if (q->scm[i].fds[k] >= 0)
				close(q->scm[i].fds[k]);
		free(q->scm[i].fds);
	}
	free(q->scm);
	free(q->data);
	free(q->msg_lens);
	free(q->from);
	memset(q, 0, sizeof(*q));
}

static int get_int(int fd, int opt, int *v, const char *name, const char *what)
{
	socklen_t l = sizeof(*v);

	if (getsockopt(fd, SOL_SOCKET, opt, v, &l) == 0)
		return 0;
	pr_perror("%s: getsockopt(%s)", what, name);
	return -errno;
}

static int set_peek_off(int fd, int off, const char *what)
{
	if (setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off)) == 0)
		return 0;
	pr_perror("%s: setsockopt(SO_PEEK_OFF, %d)", what, off);
	return -errno;
}

/* The fds of the last peek, closed: not kept. */
static void drop_got(struct peek *p)
{
	for (size_t i = 0; i < p->ngot; i++)
		close(p->got[i]);
	free(p->got);
	p->got = NULL;
	p->ngot = 0;
}

/* Note fds in flight: with take, the SCM_RIGHTS ones go to p->got; close the rest. */
static void take_cmsgs(struct peek *p, struct msghdr *mh)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int *fds = (int *)CMSG_DATA(cm);

		if (cm->cmsg_level != SOL_SOCKET ||
		    (cm->cmsg_type != SCM_RIGHTS && cm->cmsg_type != SCM_PIDFD))
			continue;
		if (cm->cmsg_type == SCM_RIGHTS) {
			p->fds = true;
			if (p->take && !p->got && n && (p->got = malloc(n * sizeof(int)))) {
				memcpy(p->got, fds, n * sizeof(int));
				p->ngot = n;
				continue;
			}
			if (p->take && n)
				p->err = -ENOMEM;
		}
		for (size_t i = 0; i < n; i++)
			close(fds[i]);
	}
	if (mh->msg_flags & MSG_CTRUNC)
		p->fds = p->trunc = true;
}

/* Stop walking the queue: fds that are refused, or that could not all be taken. */
static bool stop(const struct peek *p)
{
	return (p->fds && !p->take) || p->trunc || p->err;
}

/* Keep the fds of the last peek as the record of message msg. */
static int keep_got(struct peek *p, struct usk_queue *q, uint32_t msg)
{
	struct usk_scm *v = realloc(q->scm, (q->n_scm + 1) * sizeof(*v));

	if (!v) {
		pr_err("%s: out of memory for its file descriptors in flight\n", p->what);
		drop_got(p);
		return -ENOMEM;
	}
	q->scm = v;
	v[q->n_scm++] = (struct usk_scm){ msg, p->got, p->ngot };
	p->got = NULL;
	p->ngot = 0;
	return 0;
}

/* One MSG_PEEK into buf: bytes (the message's full length with MSG_TRUNC in flags), or
 * -EAGAIN at the end of the queue, or another -errno (logged). */
static ssize_t peek_once(struct peek *p, void *buf, size_t len, int flags)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int)) +
		       CMSG_SPACE(USK_SCM_MAX * sizeof(int))];
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = p->ctl_len ? ctl.b : NULL,
		.msg_controllen = p->ctl_len,
		.msg_name = &p->from,
		.msg_namelen = sizeof(p->from),
	};
	ssize_t n;

	do {
		n = recvmsg(p->fd, &mh, MSG_PEEK | MSG_DONTWAIT | MSG_CMSG_CLOEXEC | flags);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN)
			return -EAGAIN;
		pr_perror("%s: recvmsg(MSG_PEEK) of its queued data", p->what);
		return -errno;
	}
	take_cmsgs(p, &mh);
	p->fromlen = mh.msg_namelen;
	return n;
}

static int grow(struct usk_queue *q, size_t *cap, size_t need, const char *what)
{
	size_t ncap = *cap ? *cap : DGRAM_BUF;
	char *nd;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	nd = realloc(q->data, ncap);
	if (!nd) {
		pr_err("%s: out of memory for %zu bytes of queued data\n", what, ncap);
		return -ENOMEM;
	}
	q->data = nd;
	*cap = ncap;
	return 0;
}

static int peek_stream(struct peek *p, uint32_t inq, struct usk_queue *q)
{
	size_t cap = 0;
	int ret = grow(q, &cap, (size_t)inq + 1, p->what);

	while (!ret && !stop(p)) {
		ssize_t n;

		if (cap - q->len < STREAM_CHUNK / 2 && (ret = grow(q, &cap, cap * 2, p->what)))
			break;
		n = peek_once(p, q->data + q->len, cap - q->len, 0);
		if (n == -EAGAIN || n == 0) /* empty now, or shut down for reading and empty */
			break;
		if (n < 0)
			ret = (int)n;
		else
			q->len += (size_t)n;
	}
	drop_got(p);
	return ret;
}

/* The sender of the message just peeked, as its bound name (a path without the NUL). */
static void take_from(const struct peek *p, struct usk_addr *a)
{
	size_t off = offsetof(struct sockaddr_un, sun_path);
	size_t len = p->fromlen > off ? p->fromlen - off : 0;

	if (len > sizeof(a->name))
		len = sizeof(a->name);
	memcpy(a->name, p->from.sun_path, len);
	if (len && a->name[0])
		len = strnlen(a->name, len);
	a->len = len;
}

static int add_msg(struct peek *p, struct usk_queue *q, size_t *mcap, uint32_t len, bool from)
{
	if (q->n_msgs == *mcap) {
		size_t ncap = *mcap ? *mcap * 2 : 64;
		uint32_t *nl = ncap <= MAX_MSGS ? realloc(q->msg_lens, ncap * sizeof(*nl)) : NULL;
		struct usk_addr *nf = nl && from ? realloc(q->from, ncap * sizeof(*nf)) : NULL;

		if (nl)
			q->msg_lens = nl;
		if (nf)
			q->from = nf;
		if (!nl || (from && !nf)) {
			pr_err("%s: more than %zu queued messages: out of memory or not a sane "
			       "queue\n",
			       p->what, *mcap);
			return -ENOMEM;
		}
		*mcap = ncap;
	}
	if (from) {
		take_from(p, &q->from[q->n_msgs]);
		q->named_from |= q->from[q->n_msgs].len != 0;
	}
	q->msg_lens[q->n_msgs++] = len;
	q->len += len;
	return 0;
}

/* The head message is peeked without an offset (SO_PEEK_OFF -1): that way the kernel
 * gives it even when it is a zero-length one somebody peeked at before, which an offset
 * peek skips. The walk by offset starts after it. */
static int peek_msgs(struct peek *p, bool seqpacket, bool rcv_shut, uint32_t inq,
		     struct usk_queue *q)
{
	size_t cap = 0, mcap = 0, room = DGRAM_BUF;
	int ret = set_peek_off(p->fd, -1, p->what);

	while (!ret && !stop(p)) {
		ssize_t n;

		if ((ret = grow(q, &cap, q->len + room, p->what)))
			break;
		n = peek_once(p, q->data + q->len, room, MSG_TRUNC);
		if (n == -EAGAIN)
			break;
		if (n < 0) {
			ret = (int)n;
		} else if (seqpacket && !n && rcv_shut && q->len == inq) {
			break; /* its end of file */
		} else if ((size_t)n > room) {
			/* it did not fit (an offset moved by room bytes): again from its start */
			room = (size_t)n;
			if (q->n_msgs)
				ret = set_peek_off(p->fd, (int)q->len, p->what);
		} else {
			ret = add_msg(p, q, &mcap, (uint32_t)n, !seqpacket);
			if (!ret && p->got)
				ret = keep_got(p, q, (uint32_t)q->n_msgs - 1);
			if (!ret && q->n_msgs == 1)
				ret = set_peek_off(p->fd, (int)q->len, p->what);
		}
		drop_got(p);
	}
	return ret;
}

/* Credentials and pidfds come only if the socket asks for them: room for exactly those, and
 * for fds in flight when they are taken. */
static int control_room(int fd, const char *what, bool take, size_t *len)
{
	int cred = 0, pidfd = 0;
	socklen_t l = sizeof(pidfd);
	int ret = get_int(fd, SO_PASSCRED, &cred, "SO_PASSCRED", what);

	if (ret)
		return ret;
	if (getsockopt(fd, SOL_SOCKET, SO_PASSPIDFD, &pidfd, &l))
		pidfd = 0; /* a kernel before 6.5 has no SO_PASSPIDFD */
	*len = (cred ? CMSG_SPACE(sizeof(struct ucred)) : 0) +
	       (pidfd ? CMSG_SPACE(sizeof(int)) : 0) +
	       (take ? CMSG_SPACE(USK_SCM_MAX * sizeof(int)) : 0);
	return 0;
}

/* A pending out-of-band byte (MSG_OOB) of a stream socket can't be put back. */
static int check_oob(int fd, const char *what)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_OOB | MSG_PEEK | MSG_DONTWAIT);

	if (n == 1) {
		pr_err("%s: an out-of-band byte (MSG_OOB) is pending: not supported\n", what);
		return -ENOTSUP;
	}
	return 0; /* EINVAL: none (or SO_OOBINLINE: it is in the data) */
}

/* What was read must be what the kernel says is queued. */
static int check_len(int type, uint32_t inq, const struct usk_queue *q, const char *what)
{
	if (type != SOCK_DGRAM && q->len != inq) {
		pr_err("%s: read %zu queued bytes, the kernel says %u are queued (another process "
		       "reads or writes it?)\n",
		       what, q->len, inq);
		return -EAGAIN;
	}
	if (type == SOCK_DGRAM && (q->n_msgs ? q->msg_lens[0] != inq : inq != 0)) {
		pr_err("%s: the first queued datagram is %u bytes long, the first one read %zd "
		       "(another process reads it?)\n",
		       what, inq, q->n_msgs ? (ssize_t)q->msg_lens[0] : (ssize_t)-1);
		return -EAGAIN;
	}
	return 0;
}

int usk_queue_peek(int fd, int type, bool rcv_shut, uint32_t inq, bool take_fds, const char *what,
		   struct usk_queue *q)
{
	struct peek p = { .fd = fd, .what = what, .take = take_fds && type != SOCK_STREAM };
	int orig, ret, ret2;

	memset(q, 0, sizeof(*q));
	if ((ret = get_int(fd, SO_PEEK_OFF, &orig, "SO_PEEK_OFF", what)) ||
	    (ret = control_room(fd, what, p.take, &p.ctl_len)) ||
	    (type == SOCK_STREAM && (ret = check_oob(fd, what))) ||
	    (type == SOCK_STREAM && (ret = set_peek_off(fd, 0, what))))
		return ret;
	if (type == SOCK_STREAM)
		ret = peek_stream(&p, inq, q);
	else
		ret = peek_msgs(&p, type == SOCK_SEQPACKET, rcv_shut, inq, q);
	drop_got(&p);
	ret2 = set_peek_off(fd, orig, what);
	if (!ret && p.err) {
		pr_err("%s: out of memory for its file descriptors in flight\n", what);
		ret = p.err;
	}
	if (!ret && p.trunc && p.take) {
		pr_err("%s: a message in its receive queue carries more file descriptors in flight "
		       "than the dumper could take (MSG_CTRUNC: its RLIMIT_NOFILE?)\n",
		       what);
		ret = -EMFILE;
	}
	if (!ret && p.fds && type == SOCK_STREAM) {
		pr_err(
		    "%s: file descriptors are in flight in the receive queue of this stream "
		    "socket (SCM_RIGHTS): not supported (a read gets them with the first byte of "
		    "the send that carried them, and where that send starts can't be read without "
		    "consuming the queue; datagram and seqpacket sockets keep them by message)\n",
		    what);
		ret = -ENOTSUP;
	} else if (!ret && p.fds && !take_fds) {
		pr_err("%s: file descriptors are in flight in its receive queue (SCM_RIGHTS), and "
		       "the socket is itself in flight: not supported\n",
		       what);
		ret = -ENOTSUP;
	}
	if (!ret)
		ret = ret2;
	if (!ret)
		ret = check_len(type, inq, q, what);
	if (ret)
		usk_queue_free(q);
	else
		pr_debug("%s: %zu bytes queued in %zu messages%s, %zu with fds in flight\n", what,
			 q->len, q->n_msgs, q->named_from ? ", some from named senders" : "",
			 q->n_scm);
	return ret;
}
