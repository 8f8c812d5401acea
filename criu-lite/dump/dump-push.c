/* dump-push: see dump-push.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_PREFIX "dump: "
#include "criu-lite/dump/dump-push.h"
#include "criu-lite/log.h"
#include "criu-lite/netopts.h"
#include "criu-lite/stats.h"
#include "lazy-pages/push-client.h"

/* The local index (-D): every file but the pages files, as it goes to the server. */
struct push_tee {
	struct push_client *pc;
	struct img_dir *index;
	int fd; /* the file begun last, when it is kept here; else -1 */
	char tmp[96], name[80];
	char (*kept)[80]; /* what is in the index, for a discard */
	size_t n;
};

static int tee_fail(struct push_tee *t, struct img_err *err, const char *what)
{
	return img_fail(err, errno, "%s/%s: %s: %s", img_dir_path(t->index), t->name, what,
			strerror(errno));
}

static int tee_begin(void *arg, const char *name, struct img_err *err)
{
	struct push_tee *t = arg;
	int ret = push_sink_ops.begin(t->pc, name, err);

	t->fd = -1;
	if (ret || !strncmp(name, "pages-", 6) || strlen(name) >= sizeof(t->name))
		return ret;
	snprintf(t->name, sizeof(t->name), "%s", name);
	snprintf(t->tmp, sizeof(t->tmp), "%s.tmp", name);
	t->fd =
	    openat(img_dir_fd(t->index), t->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	return t->fd < 0 ? tee_fail(t, err, "can't create it") : 0;
}

static int tee_data(void *arg, uint64_t off, const void *buf, size_t len, struct img_err *err)
{
	struct push_tee *t = arg;
	int ret = push_sink_ops.data(t->pc, off, buf, len, err);

	if (!ret && t->fd >= 0 && pwrite(t->fd, buf, len, (off_t)off) != (ssize_t)len)
		ret = tee_fail(t, err, "write");
	return ret;
}

static int tee_end(void *arg, const char *name, uint64_t size, uint32_t crc, struct img_err *err)
{
	struct push_tee *t = arg;
	int ret = push_sink_ops.end(t->pc, name, size, crc, err), fd = t->fd;
	void *nv;

	t->fd = -1;
	if (fd < 0)
		return ret;
	if (!ret && (ftruncate(fd, (off_t)size) ||
		     renameat(img_dir_fd(t->index), t->tmp, img_dir_fd(t->index), t->name)))
		ret = tee_fail(t, err, "can't put it in place");
	close(fd);
	if (!ret && !(nv = realloc(t->kept, (t->n + 1) * sizeof(*t->kept))))
		ret = img_fail(err, ENOMEM, "out of memory");
	if (!ret) {
		t->kept = nv;
		memcpy(t->kept[t->n++], t->name, sizeof(t->name));
	}
	return ret;
}

static int tee_discard(void *arg, struct img_err *err)
{
	struct push_tee *t = arg;

	for (size_t i = 0; i < t->n; i++)
		unlinkat(img_dir_fd(t->index), t->kept[i], 0);
	t->n = 0;
	return push_sink_ops.discard(t->pc, err);
}

static const struct img_sink_ops tee_ops = { tee_begin, tee_data, tee_end, tee_discard };

int dump_push_open(struct dump_shared *sh, struct img_dir *index)
{
	const struct opts *o = sh->o;
	struct img_err err = { 0 };
	int ret = netopts_auth(o, &sh->auth);

	if (ret)
		return ret;
	ret = push_connect(o->address, (uint16_t)o->port, sh->auth, sh->dump_id, &sh->push, &err);
	if (!ret && index) {
		sh->tee = calloc(1, sizeof(*sh->tee));
		if (!sh->tee)
			ret = img_fail(&err, ENOMEM, "out of memory");
		else
			*sh->tee = (struct push_tee){ .pc = sh->push, .index = index, .fd = -1 };
	}
	if (!ret)
		ret = img_dir_open_sink(push_peer(sh->push), index ? &tee_ops : &push_sink_ops,
					index ? (void *)sh->tee : (void *)sh->push, &sh->dir, &err);
	if (ret) {
		pr_err("%s\n", err.msg);
		return ret;
	}
	pr_info("the images go to %s, dump %08x\n", push_peer(sh->push), sh->dump_id);
	return 0;
}

int dump_push_finish(struct dump_shared *sh)
{
	struct img_err err = { 0 };
	double t0 = stats_now();
	int ret = push_finish(sh->push, &err);

	if (ret) {
		pr_err("%s\n", err.msg);
		return ret;
	}
	pr_info("%s has every file in place (%zu files, %llu bytes sent; %.3f s for the last "
		"fsyncs)\n",
		push_peer(sh->push), img_dir_nr_written(sh->dir),
		(unsigned long long)push_bytes(sh->push), stats_now() - t0);
	return 0;
}

void dump_push_close(struct dump_shared *sh)
{
	if (sh->tee) {
		if (sh->tee->fd >= 0)
			close(sh->tee->fd);
		img_dir_close(sh->tee->index);
		free(sh->tee->kept);
		free(sh->tee);
		sh->tee = NULL;
	}
	push_close(sh->push);
	sh->push = NULL;
	xfer_auth_free(sh->auth);
	sh->auth = NULL;
}
