/* dump-udp-queue: the datagrams queued on a UDP socket, read without taking them, with their
 * senders (sk-inet.h; given again at restore by restore-udp-queue.c). Every UDP socket is
 * walked (an empty queue costs one peek): sock_diag's figure is from before.
 *
 * MSG_PEEK alone always reads the head of the queue; with SO_PEEK_OFF at 0 each peek moves the
 * offset past the datagram it read (MSG_TRUNC: its real length), so peeks walk the queue. The
 * task's own SO_PEEK_OFF is put back. The kernel's peek rule for an empty datagram (one already
 * peeked is skipped by an offset peek) means an empty datagram past the head that the task had
 * peeked itself is not seen (docs/fds.md). */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define LOG_PREFIX "sockets: "
#include "criu-lite/dump/dump-inet.h"
#include "criu-lite/dump/dump.h"
#include "criu-lite/log.h"
#include "images/img.h"

#define MAX_DGRAMS (64u << 10)
#define MAX_BYTES  (64u << 20)
#define DGRAM_MAX  65536

struct walk {
	uint8_t *data;
	size_t len;
	uint32_t *lens;
	uint8_t (*addr)[16];
	uint32_t *port;
	size_t n;
};

static int set_peek(int fd, int off, const char *what)
{
	if (!setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off)))
		return 0;
	pr_perror("%s: SO_PEEK_OFF %d", what, off);
	return -errno;
}

/* Every datagram, peeked one after another into w. */
static int walk(int fd, const struct isk *s, struct walk *w)
{
	uint8_t *buf = malloc(DGRAM_MAX);
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		struct sockaddr_storage ss = { 0 };
		struct iovec iov = { buf, DGRAM_MAX };
		struct msghdr m = {
			.msg_name = &ss, .msg_namelen = sizeof(ss), .msg_iov = &iov, .msg_iovlen = 1
		};
		ssize_t n = recvmsg(fd, &m, MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC);
		void *p;

		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0 || n > DGRAM_MAX) {
			ret = n < 0 ? -errno : -EMSGSIZE;
			pr_perror("%s: peeking at datagram %zu", s->what, w->n);
			break;
		}
		if (w->n == MAX_DGRAMS || w->len + (size_t)n > MAX_BYTES) {
			pr_err("%s: more than %u datagrams or %u MiB queued: not supported\n",
			       s->what, MAX_DGRAMS, MAX_BYTES >> 20);
			ret = -ENOTSUP;
			break;
		}
		ret = -ENOMEM;
		if (!(p = realloc(w->data, w->len + (size_t)n + 1)))
			break;
		w->data = p;
		if (!(p = realloc(w->lens, (w->n + 1) * sizeof(*w->lens))))
			break;
		w->lens = p;
		if (!(p = realloc(w->addr, (w->n + 1) * sizeof(*w->addr))))
			break;
		w->addr = p;
		if (!(p = realloc(w->port, (w->n + 1) * sizeof(*w->port))))
			break;
		w->port = p;
		ret = 0;
		memcpy(w->data + w->len, buf, (size_t)n);
		w->len += (size_t)n;
		w->lens[w->n] = (uint32_t)n;
		memset(w->addr[w->n], 0, 16);
		if (ss.ss_family == AF_INET) {
			memcpy(w->addr[w->n], &((struct sockaddr_in *)&ss)->sin_addr, 4);
			w->port[w->n] = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		} else {
			memcpy(w->addr[w->n], &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
			w->port[w->n] = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		}
		w->n++;
	}
	free(buf);
	return ret;
}

int dump_udp_queue(struct dump_shared *sh, int fd, struct isk *s)
{
	struct walk w = { 0 };
	struct img_err err = { 0 };
	socklen_t l = sizeof(int);
	size_t alen = s->e.family == AF_INET ? 4 : 16;
	char name[64];
	int old = -1, ret;

	if (getsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &old, &l)) {
		pr_perror("%s: SO_PEEK_OFF", s->what);
		return -errno;
	}
	ret = set_peek(fd, 0, s->what);
	if (!ret)
		ret = walk(fd, s, &w);
	if (set_peek(fd, old, s->what) && !ret)
		ret = -EIO;
	if (!ret && w.n && s->e.protocol != IPPROTO_UDP) {
		pr_err(
		    "%s: a UDP-Lite socket with datagrams queued for reading: not supported yet\n",
		    s->what);
		ret = -ENOTSUP;
	}
	if (!ret && !w.n)
		goto out; /* nothing queued */
	s->from = calloc(w.n + 1, sizeof(*s->from));
	s->fromp = calloc(w.n + 1, sizeof(*s->fromp));
	if (!ret && (!s->from || !s->fromp))
		ret = -ENOMEM;
	for (size_t i = 0; !ret && i < w.n; i++) {
		dgram_from__init(&s->from[i]);
		s->from[i].addr = (ProtobufCBinaryData){ alen, w.addr[i] };
		s->from[i].port = w.port[i];
		s->fromp[i] = &s->from[i];
	}
	inet_data_name(name, sizeof(name), s->e.id);
	if (!ret && (ret = raw_file_put(sh->dir, name, w.data, w.len, &err)))
		pr_err("%s: %s\n", s->what, err.msg);
	if (!ret) {
		s->e.has_data_len = s->e.has_data_crc32c = true;
		s->e.data_len = (uint32_t)w.len;
		s->e.data_crc32c = img_crc32c(0, w.data, w.len);
		s->e.n_msg_lens = s->e.n_msg_from = w.n;
		s->e.msg_lens = w.lens;
		s->e.msg_from = s->fromp;
		s->dg_lens = w.lens;
		s->dg_addr = w.addr;
		w.lens = NULL;
		w.addr = NULL;
		pr_info("%s: %zu datagram(s) queued, %zu bytes, saved\n", s->what, w.n, w.len);
	} else if (ret == -ENOMEM) {
		pr_err("%s: out of memory for its queue\n", s->what);
	}
out:
	free(w.data);
	free(w.lens);
	free(w.addr);
	free(w.port);
	return ret;
}
