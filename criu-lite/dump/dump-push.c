/* dump-push: see dump-push.h. */
#include <errno.h>

#define LOG_PREFIX "dump: "
#include "criu-lite/dump/dump-push.h"
#include "criu-lite/log.h"
#include "criu-lite/netopts.h"
#include "criu-lite/stats.h"
#include "lazy-pages/push-client.h"

int dump_push_open(struct dump_shared *sh)
{
	const struct opts *o = sh->o;
	struct img_err err = { 0 };
	int ret = netopts_auth(o, &sh->auth);

	if (ret)
		return ret;
	ret = push_connect(o->address, (uint16_t)o->port, sh->auth, sh->dump_id, &sh->push, &err);
	if (!ret)
		ret = img_dir_open_sink(push_peer(sh->push), &push_sink_ops, sh->push, &sh->dir,
					&err);
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
	push_close(sh->push);
	sh->push = NULL;
	xfer_auth_free(sh->auth);
	sh->auth = NULL;
}
