/* netopts: see netopts.h. */
#include <errno.h>
#include <stdio.h>

#define LOG_PREFIX ""
#include "criu-lite/log.h"
#include "criu-lite/netopts.h"

int netopts_auth(const struct opts *o, struct xfer_auth **out)
{
	struct img_err err = { 0 };
	int ret;

	if (o->insecure) {
		pr_warn(
		    "--insecure: pages travel unencrypted, and the peer is not authenticated\n");
		return xfer_auth_insecure(out);
	}
	ret = xfer_auth_load(o->auth_key, out, &err);
	if (ret)
		pr_err("%s\n", err.msg);
	return ret;
}

int netopts_pidfile(const char *path, pid_t pid)
{
	FILE *f = fopen(path, "we");

	if (!f || fprintf(f, "%d\n", pid) < 0 || fclose(f)) {
		pr_perror("can't write pidfile %s", path);
		return -errno;
	}
	return 0;
}
