/* xfer_fixture: see xfer_fixture.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "xfer_fixture.h"

char xfx_dir[64];

double xfx_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double xfx_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void xfx_key_file(const char *name, char *path, size_t len, size_t bytes, uint8_t fill, mode_t mode)
{
	uint8_t *b = malloc(bytes ? bytes : 1);
	int fd;

	assert_non_null(b);
	for (size_t i = 0; i < bytes; i++)
		b[i] = (uint8_t)(fill + i * 7);
	snprintf(path, len, "%s/%s", xfx_dir, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b, bytes), (ssize_t)bytes);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	free(b);
}

struct xfer_auth *xfx_key(uint8_t fill)
{
	struct img_err err = { 0 };
	struct xfer_auth *a;
	char path[128], name[32];

	snprintf(name, sizeof(name), "key-%u", fill);
	xfx_key_file(name, path, sizeof(path), 64, fill, 0600);
	assert_int_equal(xfer_auth_load(path, &a, &err), 0);
	assert_false(xfer_auth_is_insecure(a));
	return a;
}

struct xfer_auth *xfx_insecure(void)
{
	struct xfer_auth *a;

	assert_int_equal(xfer_auth_insecure(&a), 0);
	assert_true(xfer_auth_is_insecure(a));
	return a;
}

static void *srv_main(void *arg)
{
	struct srv *s = arg;
	struct pollfd p = { .fd = s->lsk, .events = POLLIN };
	struct img_err err = { 0 };
	struct xfer_conn *c;
	double t0;

	if (poll(&p, 1, 10000) != 1) {
		s->ret = -ETIMEDOUT;
		snprintf(s->msg, sizeof(s->msg), "no client came");
		return NULL;
	}
	t0 = xfx_now();
	s->ret = xfer_accept(s->lsk, s->a, s->hs_timeout, &c, &err);
	s->accept_secs = xfx_now() - t0;
	if (s->ret) {
		snprintf(s->msg, sizeof(s->msg), "%s", err.msg);
		return NULL;
	}
	if (s->act) {
		s->act_ret = s->act(s, c);
		if (s->act_ret)
			snprintf(s->msg, sizeof(s->msg), "%s", xfer_conn_error(c));
	}
	xfer_conn_close(c);
	return NULL;
}

void srv_start(struct srv *s, const char *addr, const struct xfer_auth *a,
	       int (*act)(struct srv *, struct xfer_conn *))
{
	struct img_err err = { 0 };
	int port;

	memset(s, 0, sizeof(*s));
	s->lsk = xfer_listen(addr, 0, &err);
	assert_true(s->lsk >= 0);
	port = xfer_listen_port(s->lsk);
	assert_true(port > 0);
	s->port = (uint16_t)port;
	s->a = a;
	s->act = act;
	s->hs_timeout = HS_TIMEOUT;
	assert_int_equal(pipe2(s->stop, O_CLOEXEC), 0);
}

void srv_run(struct srv *s)
{
	assert_int_equal(pthread_create(&s->th, NULL, srv_main, s), 0);
}

void srv_join(struct srv *s)
{
	close(s->stop[1]);
	assert_int_equal(pthread_join(s->th, NULL), 0);
	close(s->stop[0]);
	close(s->lsk);
}

/* echo: u32 length + bytes, back the same way, until the client closes */
int act_echo(struct srv *s, struct xfer_conn *c)
{
	uint8_t *buf = malloc(BIG);
	uint32_t len;
	int ret;

	(void)s;
	if (!buf)
		return -ENOMEM;
	for (;;) {
		struct iovec iov[2] = { { &len, 4 }, { buf, 0 } };

		ret = xfer_conn_read(c, &len, 4);
		if (ret == -ENODATA) {
			ret = 0;
			break;
		}
		if (!ret && len > BIG)
			ret = -EMSGSIZE;
		if (!ret)
			ret = xfer_conn_read(c, buf, len);
		iov[1].iov_len = len;
		if (!ret)
			ret = xfer_conn_writev(c, iov, 2);
		if (ret)
			break;
	}
	free(buf);
	return ret;
}

int act_read4(struct srv *s, struct xfer_conn *c)
{
	uint8_t b[4];

	(void)s;
	return xfer_conn_read(c, b, 4);
}

int act_close(struct srv *s, struct xfer_conn *c)
{
	(void)s;
	(void)c;
	return 0;
}

int act_peer(struct srv *s, struct xfer_conn *c)
{
	snprintf(s->msg, sizeof(s->msg), "%s", xfer_conn_peer(c));
	return 0;
}

/* s->n bytes, then close */
int act_send(struct srv *s, struct xfer_conn *c)
{
	uint8_t b[64];
	struct iovec iov = { b, s->n };

	memset(b, 'x', sizeof(b));
	return xfer_conn_writev(c, &iov, 1);
}

/* nothing, until the test says so */
int act_idle(struct srv *s, struct xfer_conn *c)
{
	char x;

	(void)c;
	while (read(s->stop[0], &x, 1) < 0 && errno == EINTR)
		;
	return 0;
}

/* bench frames: a 32-byte header then BIG bytes, until the client closes */
int act_sink(struct srv *s, struct xfer_conn *c)
{
	uint8_t *buf = malloc(BIG), hdr[32];
	int ret;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ret = xfer_conn_read(c, hdr, sizeof(hdr));
		if (ret == -ENODATA) {
			ret = 0;
			break;
		}
		if (!ret)
			ret = xfer_conn_read(c, buf, BIG);
		if (ret)
			break;
		s->n += sizeof(hdr) + BIG;
	}
	free(buf);
	return ret;
}

struct xfer_conn *xfx_client(const char *addr, struct srv *s, const struct xfer_auth *a)
{
	struct img_err err = { 0 };
	struct xfer_conn *c = NULL;
	int ret = xfer_connect(addr, s->port, a, HS_TIMEOUT, &c, &err);

	if (ret)
		print_error("connect: %d %s\n", ret, err.msg);
	assert_int_equal(ret, 0);
	return c;
}

int xfx_setup(void **state)
{
	(void)state;
	snprintf(xfx_dir, sizeof(xfx_dir), "/tmp/test_xfer.XXXXXX");
	return mkdtemp(xfx_dir) ? 0 : -1;
}

int xfx_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", xfx_dir);
	return system(cmd) == 0 ? 0 : -1;
}
