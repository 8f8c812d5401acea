/* chain: see chain.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_PREFIX "chain: "
#include "criu-lite/kinds/chain.h"
#include "criu-lite/kinds/manifest.h"
#include "criu-lite/log.h"

static void problem(void *arg, const char *msg)
{
	pr_err("parent images %s: %s\n", (const char *)arg, msg);
}

int chain_open_parent(const char *child_dir, const char *parent_dir, uint32_t expect_id,
		      enum manifest_pages pages, struct chain_parent *out)
{
	struct img_err err = { 0 };
	int ret;

	memset(out, 0, sizeof(*out));
	if (parent_dir[0] == '/')
		out->path = strdup(parent_dir);
	else if (asprintf(&out->path, "%s/%s", child_dir, parent_dir) < 0)
		out->path = NULL;
	if (!out->path)
		return -ENOMEM;
	if ((ret = img_dir_open(out->path, false, &out->dir, &err)) ||
	    (ret =
		 img_read_one(out->dir, IMG_INVENTORY, 0, (ProtobufCMessage **)&out->inv, &err))) {
		pr_err("parent images %s: %s\n", out->path, err.msg);
		chain_close(out);
		return ret < 0 ? ret : -EIO;
	}
	if (!out->inv->pre_dump || !out->inv->has_dump_id) {
		pr_err("parent images %s are %s, not a pre-dump: a chain is made of pre-dumps\n",
		       out->path, out->inv->has_dump_id ? "a full dump" : "an older dump");
		chain_close(out);
		return -EINVAL;
	}
	if (expect_id && out->inv->dump_id != expect_id) {
		pr_err("parent images %s are dump %08x, not %08x, the one these images were made "
		       "against: the chain is broken (the pre-dump there was redone?)\n",
		       out->path, out->inv->dump_id, expect_id);
		chain_close(out);
		return -EBADMSG;
	}
	ret = manifest_verify(out->dir, out->inv, pages, problem, out->path);
	if (ret) {
		chain_close(out);
		return ret < 0 ? ret : -EBADMSG;
	}
	img_dir_expect_dump_id(out->dir, out->inv->dump_id);
	return 0;
}

void chain_close(struct chain_parent *p)
{
	if (p->inv)
		protobuf_c_message_free_unpacked(&p->inv->base, NULL);
	img_dir_close(p->dir);
	free(p->path);
	memset(p, 0, sizeof(*p));
}
