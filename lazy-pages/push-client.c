/* push-client: see push-client.h.
 *
 * Every send takes the lock and first looks whether the server said something: poll() of the
 * socket without waiting (and what the connection buffered already); the server speaks during a
 * push only to give it up (ERROR), and then reads on until the client closes, so that the
 * client's frames in flight never meet a reset that would drop its words. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "lazy-pages/push-client.h"
#include "lazy-pages/xfer-msg.h"

struct push_client {
	struct xfer_conn *c;
	pthread_mutex_t lock; /* every send and receive, and what follows */
	char who[128];	      /* "page server 198.18.0.2:7000" */
	int failed;	      /* the first failure, kept: -errno */
	struct img_err why;
	bool gave_up; /* the server said ERROR: it discarded what it had */
	uint64_t bytes;
};

/* Keep the first failure (under the lock); ret. */
static int failure(struct push_client *pc, int ret, const struct img_err *err)
{
	if (ret && !pc->failed) {
		pc->failed = ret;
		pc->why = *err;
	}
	return ret;
}

/* The server's frame: an ERROR (it gave the push up), or what was expected (want, 0: none may
 * come): 0, or -errno with err filled. */
static int answer(struct push_client *pc, XferKind want, const char *waiting, struct img_err *err)
{
	struct xfer_frame f;
	int ret = xfer_recv(xfer_conn_read, pc->c, NULL, &f, pc->who, err);

	if (ret == -ENODATA)
		return img_fail(err, EPIPE, "%s closed the connection %s", pc->who, waiting);
	if (ret)
		return ret;
	if (f.msg->kind == XFER_KIND__XFER_ERROR) {
		pc->gave_up = true;
		ret = img_fail(
		    err, f.msg->has_errno_val && f.msg->errno_val > 0 ? f.msg->errno_val : EIO,
		    "%s: %s", pc->who, f.msg->error);
	} else if (!want || f.msg->kind != want) {
		ret = img_fail(err, EPROTO, "%s: unexpected message %d %s", pc->who, f.msg->kind,
			       waiting);
	}
	xfer_frame_free(&f);
	return ret;
}

/* Before a send (under the lock): the failure kept, or what the server said meanwhile. */
static int ready(struct push_client *pc, struct img_err *err)
{
	struct pollfd p = { .fd = xfer_conn_fd(pc->c), .events = POLLIN };

	if (pc->failed) {
		*err = pc->why;
		return pc->failed;
	}
	if (!xfer_conn_pending(pc->c) && poll(&p, 1, 0) <= 0)
		return 0;
	return failure(pc, answer(pc, 0, "during the push", err), err);
}

static int send_locked(struct push_client *pc, const XferMsg *m, const void *payload, size_t len,
		       struct img_err *err)
{
	int ret = ready(pc, err);

	if (!ret)
		ret = failure(pc, xfer_send(xfer_conn_writev, pc->c, m, payload, len, pc->who, err),
			      err);
	return ret;
}

static int send_msg(struct push_client *pc, const XferMsg *m, struct img_err *err)
{
	int ret;

	pthread_mutex_lock(&pc->lock);
	ret = send_locked(pc, m, NULL, 0, err);
	pthread_mutex_unlock(&pc->lock);
	return ret;
}

int push_connect(const char *addr, uint16_t port, const struct xfer_auth *auth, uint32_t dump_id,
		 struct push_client **out, struct img_err *err)
{
	struct push_client *pc = calloc(1, sizeof(*pc));
	XferMsg hello = XFER_MSG__INIT;
	int ret;

	*out = NULL;
	if (!pc)
		return img_fail(err, ENOMEM, "out of memory for a push");
	pthread_mutex_init(&pc->lock, NULL);
	ret = xfer_connect(addr, port, auth, PUSH_CONNECT_MS, &pc->c, err);
	if (ret) {
		push_close(pc);
		return ret;
	}
	snprintf(pc->who, sizeof(pc->who), "page server %s", xfer_conn_peer(pc->c));
	xfer_conn_timeout(pc->c, PUSH_IO_MS);
	hello.kind = XFER_KIND__XFER_HELLO;
	hello.has_version = hello.has_role = hello.has_session = hello.has_dump_id = true;
	hello.version = XFER_VERSION;
	hello.role = XFER_ROLE__XFER_ROLE_PUSH;
	hello.dump_id = dump_id;
	if (getrandom(&hello.session, sizeof(hello.session), 0) != sizeof(hello.session))
		hello.session = (uint64_t)(uintptr_t)pc ^ dump_id;
	ret = xfer_send(xfer_conn_writev, pc->c, &hello, NULL, 0, pc->who, err);
	if (!ret)
		ret = answer(pc, XFER_KIND__XFER_HELLO_OK, "before it answered the hello", err);
	if (ret) {
		push_close(pc);
		return ret;
	}
	*out = pc;
	return 0;
}

static int op_begin(void *arg, const char *name, struct img_err *err)
{
	XferMsg m = XFER_MSG__INIT;

	m.kind = XFER_KIND__XFER_FILE_BEGIN;
	m.name = (char *)name;
	return send_msg(arg, &m, err);
}

static int op_data(void *arg, uint64_t off, const void *buf, size_t len, struct img_err *err)
{
	struct push_client *pc = arg;
	const uint8_t *p = buf;
	int ret = 0;

	pthread_mutex_lock(&pc->lock);
	while (!ret && len) {
		XferMsg m = XFER_MSG__INIT;
		size_t n = len < XFER_MAX_PAYLOAD ? len : XFER_MAX_PAYLOAD;

		m.kind = XFER_KIND__XFER_FILE_DATA;
		m.has_offset = true;
		m.offset = off;
		ret = send_locked(pc, &m, p, n, err);
		if (!ret)
			pc->bytes += n;
		p += n;
		off += n;
		len -= n;
	}
	pthread_mutex_unlock(&pc->lock);
	return ret;
}

static int op_end(void *arg, const char *name, uint64_t size, uint32_t crc, struct img_err *err)
{
	XferMsg m = XFER_MSG__INIT;

	(void)name;
	m.kind = XFER_KIND__XFER_FILE_END;
	m.has_size = m.has_crc32c = true;
	m.size = size;
	m.crc32c = crc;
	return send_msg(arg, &m, err);
}

static int op_discard(void *arg, struct img_err *err)
{
	return push_abort(arg, "the dump failed", err);
}

const struct img_sink_ops push_sink_ops = { op_begin, op_data, op_end, op_discard };

int push_finish(struct push_client *pc, struct img_err *err)
{
	XferMsg m = XFER_MSG__INIT;
	int ret;

	m.kind = XFER_KIND__XFER_DONE;
	pthread_mutex_lock(&pc->lock);
	ret = send_locked(pc, &m, NULL, 0, err);
	if (!ret) {
		xfer_conn_timeout(pc->c, PUSH_DONE_MS);
		ret = failure(
		    pc,
		    answer(pc, XFER_KIND__XFER_DONE, "before it said every file was in place", err),
		    err);
		xfer_conn_timeout(pc->c, PUSH_IO_MS);
	}
	pthread_mutex_unlock(&pc->lock);
	return ret;
}

int push_abort(struct push_client *pc, const char *why, struct img_err *err)
{
	XferMsg m = XFER_MSG__INIT;
	struct img_err e = { 0 };
	int ret = 0;

	pthread_mutex_lock(&pc->lock);
	if (pc->gave_up) /* it discarded them before it said so */
		goto out;
	if (pc->failed) {
		ret = img_fail(err, -pc->failed,
			       "%s can't be told to discard what it got (%s); it does when it sees "
			       "the connection go",
			       pc->who, pc->why.msg);
		goto out;
	}
	m.kind = XFER_KIND__XFER_ERROR;
	m.error = (char *)why;
	m.has_errno_val = true;
	m.errno_val = ECANCELED;
	ret = xfer_send(xfer_conn_writev, pc->c, &m, NULL, 0, pc->who, &e);
	if (!ret) { /* it closes once the files are gone */
		xfer_conn_timeout(pc->c, PUSH_ABORT_MS);
		ret = answer(pc, 0, "", &e);
		ret = ret == -EPIPE || pc->gave_up ? 0 : ret;
	}
	if (ret)
		img_fail(err, -ret,
			 "%s did not say it discarded what it got (%s); it does when it sees the "
			 "connection go",
			 pc->who, e.msg);
	failure(pc, -ECANCELED, &e);
out:
	pthread_mutex_unlock(&pc->lock);
	return ret;
}

uint64_t push_bytes(const struct push_client *pc)
{
	return pc->bytes;
}

const char *push_peer(const struct push_client *pc)
{
	return pc->who;
}

void push_close(struct push_client *pc)
{
	if (!pc)
		return;
	xfer_conn_close(pc->c);
	pthread_mutex_destroy(&pc->lock);
	free(pc);
}
