/* restore-inflight: the files in flight in unix sockets' receive queues (SCM_RIGHTS), sent again
 * with their messages while the sockets are made (restore-unix-queue.c).
 *
 * Contract: restore_inflight_fd() gives the restorer's fd to send for file id of files.img
 * (borrowed: valid until the unix socket table is done): the transfer fd of a task prepared
 * before, when one has that file (the task and the queue share one open file description again,
 * as they did at dump), the socket table's own socket for a unix socket, or else one opened now
 * with restore_open_entry() and kept, so that a task prepared later gets a dup of it
 * (restore_inflight_take()) instead of a description of its own. restore_inflight_done() closes
 * the kept ones once every task's files are prepared (or the restore failed).
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define LOG_PREFIX "files: "
#include "criu-lite/log.h"
#include "criu-lite/restore/restore-files.h"
#include "criu-lite/restore/restore-unix.h"
#include "criu-lite/restore/restore.h"

struct inflight_file {
	uint32_t id;
	int fd;
};

struct restore_inflight {
	struct inflight_file *v;
	size_t n;
};

static int kept(const struct restore_ctx *c, uint32_t id)
{
	for (size_t i = 0; c->inflight && i < c->inflight->n; i++)
		if (c->inflight->v[i].id == id)
			return c->inflight->v[i].fd;
	return -1;
}

int restore_inflight_fd(struct restore_ctx *c, uint32_t id)
{
	const FileEntry *fe = restore_file(c, id);
	struct inflight_file *v;
	int fd = kept(c, id);

	if (fd >= 0)
		return fd;
	if ((fd = restore_xfer_of(c, NULL, id)) >= 0)
		return fd;
	if (!fe) {
		pr_err("files.img: file %u, in flight, is not in it\n", id);
		return -EBADMSG;
	}
	if (fe->type == FILE_TYPE__FT_UNIXSK) {
		for (size_t i = 0; c->usk && i < c->usk->n; i++)
			if (c->usk->v[i].file_id == id && c->usk->v[i].fd >= 0)
				return c->usk->v[i].fd;
		pr_err("files.img: unix socket file %u, in flight, is not made yet\n", id);
		return -EBADMSG;
	}
	if (!c->inflight && !(c->inflight = calloc(1, sizeof(*c->inflight))))
		goto oom;
	v = realloc(c->inflight->v, (c->inflight->n + 1) * sizeof(*v));
	if (!v)
		goto oom;
	c->inflight->v = v;
	fd = restore_open_entry(c, fe, -1);
	if (fd < 0)
		return fd;
	v[c->inflight->n++] = (struct inflight_file){ id, fd };
	pr_debug("file %u, in flight: opened as fd %d\n", id, fd);
	return fd;
oom:
	pr_err("out of memory for the files in flight\n");
	return -ENOMEM;
}

int restore_inflight_take(struct restore_ctx *c, uint32_t id)
{
	int fd = kept(c, id);

	return fd < 0 ? -ENOENT : restore_dup(fd, "a file in flight");
}

void restore_inflight_done(struct restore_ctx *c)
{
	if (!c->inflight)
		return;
	for (size_t i = 0; i < c->inflight->n; i++)
		close(c->inflight->v[i].fd);
	free(c->inflight->v);
	free(c->inflight);
	c->inflight = NULL;
}
