/* inet: loopback AF_INET/AF_INET6 sockets for the zdtm tests of TCP and UDP (see zdtminet.h):
 * names, socket options compared bytewise, TCP connection parameters, and established TCP
 * connections with both ends in the test, whose two streams are checked byte for byte after
 * the checkpoint by a poll loop that runs both ends at once (each may wait for the other to
 * read before it can send). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "zdtmtst.h"
#include "zdtminet.h"

/* s to c before the checkpoint: send() must say EAGAIN before that much */
#define FILL_MAX (4u << 20)
#define CHUNK	 65536u

int test_name_make(struct test_name *n, const char *ip, uint16_t port)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)&n->a;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&n->a;

	memset(n, 0, sizeof(*n));
	if (inet_pton(AF_INET, ip, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		n->len = sizeof(*a4);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		n->len = sizeof(*a6);
		return 0;
	}
	errno = EINVAL;
	return -1;
}

int test_name_get(int fd, bool peer, struct test_name *n)
{
	memset(n, 0, sizeof(*n));
	n->len = sizeof(n->a);
	return peer ? getpeername(fd, (struct sockaddr *)&n->a, &n->len)
		    : getsockname(fd, (struct sockaddr *)&n->a, &n->len);
}

uint16_t test_name_port(const struct test_name *n)
{
	if (n->a.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&n->a)->sin_port);
	if (n->a.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&n->a)->sin6_port);
	return 0;
}

const char *test_name_str(const struct test_name *n, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (n->a.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&n->a)->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, test_name_port(n));
	} else if (n->a.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&n->a)->sin6_addr, ip,
			  sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, test_name_port(n));
	} else {
		snprintf(buf, len, "family %d (length %u)", n->a.ss_family, (unsigned int)n->len);
	}
	return buf;
}

bool test_name_eq(const struct test_name *x, const struct test_name *y)
{
	return x->len == y->len && !memcmp(&x->a, &y->a, x->len);
}

int test_name_same(const char *what, int fd, bool peer, const struct test_name *want)
{
	struct test_name got;
	char g[80], w[80];

	if (test_name_get(fd, peer, &got)) {
		fail_errno("%s: %s (expected %s)", what, peer ? "getpeername" : "getsockname",
			   test_name_str(want, w, sizeof(w)));
		return -1;
	}
	if (!test_name_eq(&got, want)) {
		fail("%s: %s is %s, expected %s as before", what,
		     peer ? "its peer (getpeername)" : "its name (getsockname)",
		     test_name_str(&got, g, sizeof(g)), test_name_str(want, w, sizeof(w)));
		return -1;
	}
	return 0;
}

int test_inet_bound(int type, const char *ip, int v6only, bool nonblock, struct test_name *n)
{
	struct test_name a, got;
	int fd, e;

	if (test_name_make(&a, ip, 0))
		return -1;
	fd = socket(a.a.ss_family, type | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		return -1;
	if ((v6only >= 0 && test_setsockopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, v6only)) ||
	    bind(fd, (struct sockaddr *)&a.a, a.len) || test_name_get(fd, false, &got)) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (n)
		*n = got;
	return fd;
}

int test_sockopt_int(int fd, int level, int opt, int *val)
{
	socklen_t len = sizeof(*val);

	return getsockopt(fd, level, opt, val, &len);
}

int test_setsockopt_int(int fd, int level, int opt, int val)
{
	return setsockopt(fd, level, opt, &val, sizeof(val));
}

int test_sockopts_get(const char *what, int fd, const struct test_sockopt *o, int n,
		      struct test_sockval *vals)
{
	for (int i = 0; i < n; i++) {
		memset(&vals[i], 0, sizeof(vals[i]));
		vals[i].len = TEST_SOCKVAL_MAX;
		if (getsockopt(fd, o[i].level, o[i].opt, vals[i].v, &vals[i].len)) {
			fail_errno("%s: getsockopt(%s)", what, o[i].name);
			return -1;
		}
	}
	return 0;
}

/* An int as %d, anything else as its bytes in hex (the first 16). */
static const char *val_str(const struct test_sockval *v, char *buf, size_t len)
{
	int i;

	if (v->len == sizeof(int)) {
		memcpy(&i, v->v, sizeof(i));
		snprintf(buf, len, "%d", i);
		return buf;
	}
	snprintf(buf, len, "%u bytes:", (unsigned int)v->len);
	for (socklen_t k = 0; k < v->len && k < 16; k++)
		snprintf(buf + strlen(buf), len - strlen(buf), " %02x", v->v[k]);
	return buf;
}

int test_sockopts_same(const char *what, int fd, const struct test_sockopt *o, int n,
		       const struct test_sockval *vals)
{
	for (int i = 0; i < n; i++) {
		struct test_sockval now = { .len = TEST_SOCKVAL_MAX };
		char g[80], w[80];

		if (getsockopt(fd, o[i].level, o[i].opt, now.v, &now.len)) {
			fail_errno("%s: getsockopt(%s) (was %s)", what, o[i].name,
				   val_str(&vals[i], w, sizeof(w)));
			return -1;
		}
		if (now.len != vals[i].len || memcmp(now.v, vals[i].v, now.len)) {
			fail("%s: %s is %s, expected %s as before", what, o[i].name,
			     val_str(&now, g, sizeof(g)), val_str(&vals[i], w, sizeof(w)));
			return -1;
		}
	}
	return 0;
}

int test_tcp_params_get(int fd, struct test_tcp_params *p)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) ||
	    test_sockopt_int(fd, IPPROTO_TCP, TCP_MAXSEG, &p->mss))
		return -1;
	p->state = ti.tcpi_state;
	p->options = ti.tcpi_options;
	p->snd_wscale = ti.tcpi_snd_wscale;
	p->rcv_wscale = ti.tcpi_rcv_wscale;
	return 0;
}

int test_tcp_params_same(const char *what, int fd, int want_state,
			 const struct test_tcp_params *before)
{
	struct test_tcp_params now;

	if (test_tcp_params_get(fd, &now)) {
		fail_errno("%s: getsockopt(TCP_INFO or TCP_MAXSEG)", what);
		return -1;
	}
	if (now.state != want_state) {
		fail("%s: tcpi_state is %u, expected %d", what, now.state, want_state);
		return -1;
	}
	if (now.options != before->options || now.snd_wscale != before->snd_wscale ||
	    now.rcv_wscale != before->rcv_wscale || now.mss != before->mss) {
		fail("%s: tcpi_options %#x (SACK %#x, TIMESTAMPS %#x, WSCALE %#x), "
		     "tcpi_snd_wscale %u, tcpi_rcv_wscale %u, TCP_MAXSEG %d; expected %#x, %u, %u, "
		     "%d as before",
		     what, now.options, TCPI_OPT_SACK, TCPI_OPT_TIMESTAMPS, TCPI_OPT_WSCALE,
		     now.snd_wscale, now.rcv_wscale, now.mss, before->options, before->snd_wscale,
		     before->rcv_wscale, before->mss);
		return -1;
	}
	return 0;
}

int test_tcp_pair_open(struct test_tcp_pair *p, const char *what, int l, int c, uint64_t seed)
{
	memset(p, 0, sizeof(*p));
	p->what = what;
	p->l = l;
	p->c = c;
	p->s = -1;
	p->seed = seed;
	/* blocking: over loopback the handshake is done when connect() returns; accept() waits
	 * for the final ACK to be taken, as long as that takes */
	if (test_name_get(l, false, &p->ln) || connect(c, (struct sockaddr *)&p->ln.a, p->ln.len))
		return -1;
	p->s = accept4(l, NULL, NULL, SOCK_NONBLOCK);
	if (p->s < 0 || fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK))
		return -1;
	return 0;
}

/* Wait until fd has one of events (or an error, or a hang-up): poll without a timeout. */
static int wait_for(int fd, short events)
{
	struct pollfd pf = { .fd = fd, .events = events };

	while (poll(&pf, 1, -1) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

int test_tcp_pair_fill(struct test_tcp_pair *p, size_t c_to_s)
{
	unsigned char *buf = malloc(c_to_s > FILL_MAX ? c_to_s : FILL_MAX);
	int inq = 0, outq = 0, nsd = 0, ret = -1;
	ssize_t n;

	if (!buf) {
		fail_errno("%s: malloc", p->what);
		return -1;
	}
	test_fill_pattern(buf, c_to_s, p->seed);
	n = send(p->c, buf, c_to_s, MSG_NOSIGNAL);
	if (n != (ssize_t)c_to_s) {
		fail_errno("%s: setup: the client sent %zd of %zu bytes", p->what, n, c_to_s);
		goto out;
	}
	p->c_to_s = c_to_s;
	/* all of it in s's receive queue: poll says POLLIN only once SO_RCVLOWAT bytes are */
	if (test_setsockopt_int(p->s, SOL_SOCKET, SO_RCVLOWAT, (int)c_to_s) ||
	    wait_for(p->s, POLLIN) || test_setsockopt_int(p->s, SOL_SOCKET, SO_RCVLOWAT, 1) ||
	    ioctl(p->s, SIOCINQ, &inq) || inq != (int)c_to_s) {
		fail_errno("%s: setup: the server end holds %d of the %zu bytes sent to it",
			   p->what, inq, c_to_s);
		goto out;
	}
	test_fill_pattern(buf, FILL_MAX, p->seed + 1);
	while (p->s_to_c < FILL_MAX) {
		n = send(p->s, buf + p->s_to_c,
			 FILL_MAX - p->s_to_c < CHUNK ? FILL_MAX - p->s_to_c : CHUNK, MSG_NOSIGNAL);
		if (n < 0)
			break;
		p->s_to_c += (size_t)n;
	}
	if (n >= 0 || errno != EAGAIN) {
		fail_errno("%s: setup: the server end sent %zu bytes without EAGAIN", p->what,
			   p->s_to_c);
		goto out;
	}
	/* the client's receive queue holds some of it (the window it gave), s the rest */
	if (wait_for(p->c, POLLIN) || ioctl(p->c, SIOCINQ, &inq) || ioctl(p->s, SIOCOUTQ, &outq) ||
	    ioctl(p->s, SIOCOUTQNSD, &nsd) || inq <= 0 || outq <= 0) {
		fail_errno("%s: setup: after %zu bytes to the client, %d sit in its receive queue "
			   "and %d in the server end's send queue; expected some in both",
			   p->what, p->s_to_c, inq, outq);
		goto out;
	}
	test_msg("%s: %zu bytes in the server end's receive queue; of %zu sent to the client, "
		 "%d in its receive queue, %d in the server end's send queue (%d not sent)",
		 p->what, p->c_to_s, p->s_to_c, inq, outq, nsd);
	if (test_name_get(p->c, false, &p->cn) || test_name_get(p->s, false, &p->sn) ||
	    test_tcp_params_get(p->c, &p->cp) || test_tcp_params_get(p->s, &p->sp)) {
		fail_errno("%s: setup: the names or TCP_INFO of the ends", p->what);
		goto out;
	}
	ret = 0;
out:
	free(buf);
	return ret;
}

/* One direction of a pair after the checkpoint. */
struct flow {
	const char *dir; /* "client to server" */
	int from, to;
	size_t pre, total; /* sent before the checkpoint; before and after */
	size_t sent, got;  /* of the stream: sent (from pre on), received */
	unsigned char *want;
	bool shut, eof;
};

static int flow_send(const struct test_tcp_pair *p, struct flow *f)
{
	ssize_t n = send(f->from, f->want + f->sent, f->total - f->sent, MSG_NOSIGNAL);

	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n < 0) {
		fail_errno("%s: %s: send at byte %zu of the stream, after the checkpoint", p->what,
			   f->dir, f->sent);
		return -1;
	}
	f->sent += (size_t)n;
	if (f->sent == f->total) {
		if (shutdown(f->from, SHUT_WR)) {
			fail_errno("%s: %s: shutdown(SHUT_WR)", p->what, f->dir);
			return -1;
		}
		f->shut = true;
	}
	return 0;
}

static int flow_recv(const struct test_tcp_pair *p, struct flow *f)
{
	unsigned char buf[CHUNK];
	ssize_t n = recv(f->to, buf, sizeof(buf), 0);

	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n < 0) {
		fail_errno("%s: %s: recv after %zu of the %zu bytes (%zu sent before the "
			   "checkpoint)",
			   p->what, f->dir, f->got, f->total, f->pre);
		return -1;
	}
	if (n == 0) {
		if (f->got != f->total) {
			fail("%s: %s: EOF after %zu bytes, expected %zu (%zu sent before the "
			     "checkpoint, %zu after): bytes lost",
			     p->what, f->dir, f->got, f->total, f->pre, f->total - f->pre);
			return -1;
		}
		f->eof = true;
		return 0;
	}
	if (f->got + (size_t)n > f->total) {
		fail("%s: %s: %zu bytes arrived, more than the %zu sent (%zu before the "
		     "checkpoint): bytes repeated",
		     p->what, f->dir, f->got + (size_t)n, f->total, f->pre);
		return -1;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] != f->want[f->got + (size_t)i]) {
			fail("%s: %s: byte %zu of the stream is %#x, expected %#x (%zu bytes were "
			     "sent before the checkpoint): bytes lost, repeated or out of order",
			     p->what, f->dir, f->got + (size_t)i, buf[i],
			     f->want[f->got + (size_t)i], f->pre);
			return -1;
		}
	}
	f->got += (size_t)n;
	return 0;
}

/* Both streams to their ends: fd i of pf is end i (c, s), flow i goes from end i. */
static int pump(const struct test_tcp_pair *p, struct flow *f)
{
	int fds[2] = { p->c, p->s };

	while (!f[0].eof || !f[1].eof) {
		struct pollfd pf[2];

		for (int i = 0; i < 2; i++) {
			pf[i].fd = fds[i];
			pf[i].events =
			    (short)((f[i].shut ? 0 : POLLOUT) | (f[!i].eof ? 0 : POLLIN));
			pf[i].revents = 0;
			if (!pf[i].events)
				pf[i].fd = -1;
		}
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			fail_errno("%s: poll", p->what);
			return -1;
		}
		for (int i = 0; i < 2; i++) {
			short bad = POLLERR | POLLHUP | POLLNVAL;

			if ((pf[i].events & POLLOUT) && (pf[i].revents & (POLLOUT | bad)) &&
			    flow_send(p, &f[i]))
				return -1;
			if ((pf[i].events & POLLIN) && (pf[i].revents & (POLLIN | bad)) &&
			    flow_recv(p, &f[!i]))
				return -1;
		}
	}
	return 0;
}

static int check_end(const char *what, const char *end, int fd, const struct test_name *name,
		     const struct test_name *peer, const struct test_tcp_params *params)
{
	char w[64];
	int err = -1;

	snprintf(w, sizeof(w), "%s: %s", what, end);
	if (test_name_same(w, fd, false, name) || test_name_same(w, fd, true, peer))
		return -1;
	if (test_sockopt_int(fd, SOL_SOCKET, SO_ERROR, &err) || err) {
		fail("%s: SO_ERROR is %d (%s), expected 0", w, err, err > 0 ? strerror(err) : "?");
		return -1;
	}
	return test_tcp_params_same(w, fd, TCP_ESTABLISHED, params);
}

int test_tcp_pair_check(struct test_tcp_pair *p, size_t post)
{
	struct flow f[2] = {
		{ .dir = "client to server",
		  .from = p->c,
		  .to = p->s,
		  .pre = p->c_to_s,
		  .total = p->c_to_s + post },
		{ .dir = "server to client",
		  .from = p->s,
		  .to = p->c,
		  .pre = p->s_to_c,
		  .total = p->s_to_c + post },
	};
	char w[64];
	int acc = 0, ret = -1;

	snprintf(w, sizeof(w), "%s: listener", p->what);
	if (test_name_same(w, p->l, false, &p->ln))
		return -1;
	if (test_sockopt_int(p->l, SOL_SOCKET, SO_ACCEPTCONN, &acc) || !acc) {
		fail_errno("%s: SO_ACCEPTCONN is %d, expected 1", w, acc);
		return -1;
	}
	if (check_end(p->what, "client end", p->c, &p->cn, &p->sn, &p->cp) ||
	    check_end(p->what, "server end", p->s, &p->sn, &p->cn, &p->sp))
		return -1;
	for (int i = 0; i < 2; i++) {
		f[i].sent = f[i].pre;
		f[i].want = malloc(f[i].total);
		if (!f[i].want) {
			fail_errno("%s: malloc", p->what);
			goto out;
		}
		test_fill_pattern(f[i].want, f[i].total, p->seed + (uint64_t)i);
	}
	ret = pump(p, f);
out:
	free(f[0].want);
	free(f[1].want);
	return ret;
}

/* Exactly len bytes from fd into buf, waiting for them: 0, or -1 with errno (EPIPE: EOF). */
static int recv_exact(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = recv(fd, (char *)buf + got, len - got, MSG_DONTWAIT);

		if (n == 0) {
			errno = EPIPE;
			return -1;
		}
		if (n < 0 && errno != EAGAIN)
			return -1;
		if (n < 0 && wait_for(fd, POLLIN))
			return -1;
		if (n > 0)
			got += (size_t)n;
	}
	return 0;
}

int test_tcp_new_client(const char *what, int l, const struct test_name *to)
{
	struct test_name cn, peer;
	int c = socket(to->a.ss_family, SOCK_STREAM, 0), a = -1, ret = -1;
	char buf[4], w[80];

	if (c < 0 || connect(c, (const struct sockaddr *)&to->a, to->len) ||
	    test_name_get(c, false, &cn)) {
		fail_errno("%s: a new client can't connect to %s", what,
			   test_name_str(to, w, sizeof(w)));
		goto out;
	}
	if (wait_for(l, POLLIN) || (a = accept4(l, NULL, NULL, SOCK_NONBLOCK)) < 0 ||
	    test_name_get(a, true, &peer)) {
		fail_errno("%s: the new client of %s is not accepted", what,
			   test_name_str(to, w, sizeof(w)));
		goto out;
	}
	if (test_name_port(&peer) != test_name_port(&cn)) {
		fail("%s: accepted a connection from port %u, not the new client's %u", what,
		     test_name_port(&peer), test_name_port(&cn));
		goto out;
	}
	if (send(c, "cli", 3, MSG_NOSIGNAL) != 3 || recv_exact(a, buf, 3) ||
	    memcmp(buf, "cli", 3) || send(a, "srv", 3, MSG_NOSIGNAL) != 3 ||
	    recv_exact(c, buf, 3) || memcmp(buf, "srv", 3)) {
		fail_errno("%s: the new connection to %s does not carry data both ways", what,
			   test_name_str(to, w, sizeof(w)));
		goto out;
	}
	ret = 0;
out:
	if (c >= 0)
		close(c);
	if (a >= 0)
		close(a);
	return ret;
}

int test_tcp_state(int fd)
{
	struct tcp_info ti = { 0 };
	socklen_t l = sizeof(ti);

	return getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) ? -1 : ti.tcpi_state;
}

int test_tcp_wait_state(const char *what, int fd, int want)
{
	while (test_tcp_state(fd) != want) {
		if (test_tcp_state(fd) < 0) {
			fail_errno("%s: TCP_INFO", what);
			return -1;
		}
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	return 0;
}

int test_read_exact(const char *what, int fd, size_t len, uint64_t seed, bool eof)
{
	static unsigned char buf[1 << 20];
	size_t got = 0;

	while (got < len || eof) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, -1) != 1)
			continue;
		n = recv(fd, buf + got, got < len ? len - got : 1, MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n < 0) {
			fail_errno("%s: recv after %zu bytes", what, got);
			return -1;
		}
		if (n == 0) {
			if (got == len)
				return 0;
			fail("%s: EOF after %zu bytes, expected %zu", what, got, len);
			return -1;
		}
		got += (size_t)n;
		if (got > len) {
			fail("%s: more than the %zu bytes sent", what, len);
			return -1;
		}
	}
	if (test_check_pattern(buf, len, seed) != -1) {
		fail("%s: the bytes are not those sent", what);
		return -1;
	}
	return 0;
}
